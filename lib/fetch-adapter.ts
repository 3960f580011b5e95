// Serves a handler written against the WHATWG Fetch API (`(request) => Response`,
// as Hono, itty-router and other frameworks export) on the Ring-style server.
import type { Handler, Request, Response, ResponseHeaders } from './types.ts';

/** A Fetch-API handler, e.g. a Hono app's `app.fetch`. */
export type FetchHandler = (request: globalThis.Request, ...rest: unknown[]) => globalThis.Response | Promise<globalThis.Response>;

/** Options of `fetchHandler`. */
export interface FetchHandlerOptions {
  /** Extra arguments passed after the Request (e.g. Hono's `env` and execution context). Default none. */
  args?: unknown[];
}

// Hop-by-hop fields belong to one connection; the server frames the body itself.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** The absolute URL of a Ring request, from its scheme, Host header and target. */
export function requestUrl(req: Request): string {
  const host = req.headers.host || (req.serverPort ? `${req.serverName}:${req.serverPort}` : req.serverName);
  const target = req.uri === '*' ? '/' : req.uri;
  return `${req.scheme}://${host}${target}${req.queryString !== null ? '?' + req.queryString : ''}`;
}

/** Converts a Ring request map into a WHATWG Request. */
export function toFetchRequest(req: Request): globalThis.Request {
  const method = req.requestMethod.toUpperCase();
  const headers = new Headers();
  for (const name of Object.keys(req.headers)) {
    if (HOP_BY_HOP.has(name)) continue;
    headers.append(name, req.headers[name]!);
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && req.body !== null;
  return new Request(requestUrl(req), { method, headers, body: hasBody ? req.body : null });
}

/** Converts a WHATWG Response into a response map; the body streams as an async iterable. */
export function fromFetchResponse(res: globalThis.Response): Response {
  const headers: ResponseHeaders = {};
  res.headers.forEach((value, name) => {
    if (name === 'set-cookie' || HOP_BY_HOP.has(name)) return;
    headers[name] = value;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return { status: res.status, headers, body: res.body === null ? null : streamBody(res.body) };
}

/** Yields the chunks of a ReadableStream, cancelling it if the consumer stops early. */
async function* streamBody(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      if (value !== undefined && value.byteLength > 0) yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** A handler that runs `fn` with a WHATWG Request and sends its WHATWG Response. */
export function fetchHandler(fn: FetchHandler, options: FetchHandlerOptions = {}): Handler {
  const args = options.args ?? [];
  return async function fetchAdapter(req: Request): Promise<Response> {
    let request: globalThis.Request;
    try {
      request = toFetchRequest(req);
    } catch {
      // e.g. a Host header that does not make a valid URL
      return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad Request: cannot build a URL from this request\n' };
    }
    const res = await fn(request, ...args);
    if (!(res instanceof globalThis.Response)) throw new TypeError('fetch handler did not return a Response');
    return fromFetchResponse(res);
  };
}
