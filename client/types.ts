// Public option and response types of the client. Each option is documented here, once.
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { Client } from './client.ts';

export type HeaderValue = string | number | readonly (string | number)[];
export type RequestHeaders = Record<string, HeaderValue | undefined | null>;
export type ParamValue = string | number | boolean | readonly (string | number | boolean)[];
export type Params = Record<string, ParamValue | undefined | null>;

/** A request body: sent with Content-Length when its size is known, chunked otherwise. */
export type RequestBody =
  | string
  | Buffer
  | Uint8Array
  | Readable
  | AsyncIterable<Uint8Array | string>
  | null
  | undefined;

/** A file sent as a multipart part's content, streamed from disk. */
export interface FileContent {
  path: string;
}

export interface MultipartPart {
  /** The form field name. */
  name: string;
  /** The part's bytes: text, bytes, a stream, or `{ path }` for a file streamed from disk. */
  content: string | Buffer | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | FileContent;
  /** The filename in Content-Disposition. Default: the file's base name for `{ path }`, none otherwise. */
  filename?: string;
  /** The part's Content-Type. Default: none for text, `application/octet-stream` for bytes, streams and files. */
  contentType?: string;
}

export type ResponseAs = 'auto' | 'text' | 'buffer' | 'stream' | 'json';

/** TLS settings passed to `tls.connect` (ca, cert, key, servername, ciphers, ...). */
export type TlsOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

export interface RequestOptions {
  /** Absolute `http:` or `https:` URL. Required. A fragment is never sent. */
  url?: string | URL;
  /** Request method, any token; upper-cased when given in lower case. Default `GET`. */
  method?: string;
  /** Request headers; an array value sends repeated header lines. Names and values are validated (no CR, LF, NUL). */
  headers?: RequestHeaders;
  /** Request body. Default: none. */
  body?: RequestBody;
  /** Appended to the URL's query string; an array value repeats the key. */
  queryParams?: Params;
  /** Sent as an `application/x-www-form-urlencoded` body; an array value repeats the key. */
  formParams?: Params;
  /** Sent as a streamed `multipart/form-data` body. */
  multipart?: readonly MultipartPart[];
  /** HTTP Basic credentials: `[user, pass]` or `'user:pass'`. Default: from the URL's userinfo, if any. */
  basicAuth?: readonly [string, string] | string;
  /** Sent as `Authorization: Bearer <token>`. */
  oauthToken?: string;
  /** The User-Agent header. Default `httpkit`. */
  userAgent?: string;
  /** Deadline in ms for the whole request: connect, redirects, headers and body. Default 0 (none). */
  timeout?: number;
  /** Deadline in ms to establish a connection (TCP, TLS and proxy tunnel). Default 60000. */
  connectTimeout?: number;
  /** Longest silence in ms between received bytes while a response is awaited or read. Default 60000. */
  idleTimeout?: number;
  /** Limit in bytes on the (decoded) response body; beyond it the request resolves with ERR_BODY_TOO_LARGE. Default 268435456 (256 MiB). */
  maxBody?: number;
  /** ms an idle pooled connection is kept after this request; -1 sends `Connection: close` and never pools. Default 120000. */
  keepalive?: number;
  /** Follow 301, 302, 303, 307 and 308 responses that carry a Location. Default true. */
  followRedirects?: boolean;
  /** Most redirects followed; one more resolves with ERR_TOO_MANY_REDIRECTS. Default 10. */
  maxRedirects?: number;
  /** Body type: `auto` gives text for textual content types (charset from Content-Type) and a Buffer otherwise. Default `auto`. */
  as?: ResponseAs;
  /** Send `Accept-Encoding: gzip, deflate, br` (unless set) and decode gzip, deflate and br bodies. Default true. */
  decompress?: boolean;
  /** Skip TLS certificate verification. Default false. */
  insecure?: boolean;
  /** Extra TLS options for `https:` (ca, cert, key, servername, ...). */
  tls?: TlsOptions;
  /** Aborts the request; resolves with ERR_ABORTED (a stream body is destroyed with it). */
  signal?: AbortSignal;
  /** An `http:` proxy URL (userinfo becomes Proxy-Authorization); `https:` targets go through a CONNECT tunnel. Default: none. */
  proxyUrl?: string;
  /** The client (pools) to use. Default: the module's default client. */
  client?: Client;
}

export interface ClientOptions {
  /** Most open connections over all origins. Default 1024. */
  maxConnections?: number;
  /** Most open connections to one origin; further requests wait in a queue. Default 64. */
  maxConnectionsPerHost?: number;
  /** Default `keepalive` of requests made with this client (ms; -1 disables pooling). Default 120000. */
  keepalive?: number;
  /** Defaults for the requests made with this client; per-request options win. */
  defaults?: Omit<RequestOptions, 'url' | 'client' | 'body' | 'signal' | 'multipart' | 'formParams' | 'queryParams'>;
}

/** Response header map: lower-case names, repeated headers joined with ", ", `set-cookie` always an array. */
export type ResponseHeaders = Record<string, string> & { 'set-cookie'?: string[] };

export interface RedirectHop {
  method: string;
  url: string;
  status: number;
}

/** What a request resolves to. On failure `error` is set and `status` is undefined. */
export interface Response {
  /** The options the request was made with. */
  opts: RequestOptions;
  /** The final URL (after redirects), without fragment. */
  url: string;
  status: number | undefined;
  headers: ResponseHeaders;
  /** string, Buffer, Readable, parsed JSON, or undefined on failure. */
  body: unknown;
  /** Trailer fields of a chunked response (lower-case names), or null. */
  trailers: Record<string, string> | null;
  /** Redirects followed, in order: the request and the 3xx status that redirected it. */
  trace: RedirectHop[];
  error: (Error & { code: string }) | undefined;
}

export type Callback<T> = (response: Response) => T | Promise<T>;
