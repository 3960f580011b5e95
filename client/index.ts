// The httpkit client: request(opts) and one helper per method, each resolving to a
// response map { opts, status, headers, body, error } and never rejecting.
import { Client, createClient } from './client.ts';
import type { Callback, RequestOptions, Response } from './types.ts';

export { Client, createClient };
export { ClientError, errorCodes } from './errors.ts';
export type {
  Callback, ClientOptions, FileContent, HeaderValue, MultipartPart, Params, RedirectHop, RequestBody,
  RequestHeaders, RequestOptions, Response, ResponseAs, ResponseHeaders, TlsOptions,
} from './types.ts';

/** The client used when a request names none. */
export const defaultClient = new Client();

function clientOf(opts: RequestOptions | null | undefined): Client {
  const c = opts != null && typeof opts === 'object' ? opts.client : undefined;
  return c instanceof Client ? c : defaultClient;
}

export function request(opts: RequestOptions): Promise<Response>;
export function request<T>(opts: RequestOptions, callback: Callback<T>): Promise<T | Response>;
export function request<T>(opts: RequestOptions, callback?: Callback<T>): Promise<T | Response> {
  return clientOf(opts).request(opts, callback as Callback<T>);
}

type MethodFn = {
  (url: string | URL, opts?: RequestOptions): Promise<Response>;
  <T>(url: string | URL, callback: Callback<T>): Promise<T | Response>;
  <T>(url: string | URL, opts: RequestOptions | undefined, callback: Callback<T>): Promise<T | Response>;
};

function method(name: string): MethodFn {
  return (<T>(url: string | URL, opts?: RequestOptions | Callback<T>, callback?: Callback<T>) => {
    if (typeof opts === 'function') {
      callback = opts;
      opts = undefined;
    }
    const o: RequestOptions = opts != null && typeof opts === 'object' ? { ...opts, url, method: name } : { url, method: name };
    return clientOf(o).request(o, callback as Callback<T>);
  }) as MethodFn;
}

export const get = method('GET');
export const post = method('POST');
export const put = method('PUT');
export const head = method('HEAD');
export const options = method('OPTIONS');
export const patch = method('PATCH');
const del = method('DELETE');
export { del as delete, del };

/** Closes the default client's connections (it stays usable). */
export function close(): void {
  defaultClient.close();
}
