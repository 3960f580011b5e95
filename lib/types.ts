// The Ring-style contract between the server and handlers. Router, middleware and
// the server are all written against these types.
import type { Readable } from 'node:stream';

/** Header map of a request: lower-cased names; repeated headers joined with ", " (cookie with "; "). */
export type RequestHeaders = Record<string, string>;

/** The request map a handler receives (Ring keys in camelCase). */
export interface Request {
  serverPort: number;
  serverName: string;
  remoteAddr: string;
  /** Path part of the request target, percent-encoding preserved. `*` for `OPTIONS *`. */
  uri: string;
  /** Query string without the `?`, or null when the target had none. */
  queryString: string | null;
  scheme: 'http' | 'https';
  /** Lower-case method, as Ring: `get`, `post`, ... */
  requestMethod: string;
  /** e.g. `HTTP/1.1` */
  protocol: string;
  headers: RequestHeaders;
  /** Whole body, read before the handler runs; null when there is none. */
  body: Buffer | null;
  contentType: string | null;
  contentLength: number | null;
  characterEncoding: string | null;
  /** When the request head was parsed: monotonic ms since the process started, on `process.uptime()`'s clock (`process.uptime() * 1000 - req.startTime` is the time since). */
  startTime: number;
  /** The head asks for `Upgrade: websocket` with `Connection: upgrade`, in HTTP/1.1 (an HTTP/1.0 request's Upgrade is ignored, RFC 9110 7.8). */
  isWebSocket: boolean;
  /** Added by the router (path params) and by the params middleware (merged query/form params). */
  params?: Record<string, string | string[]>;
  /** Anything middleware adds (queryParams, formParams, json, cookies, multipartParams, ...). */
  [key: string]: unknown;
}

/** A header value in a response map; an array gives repeated header lines. */
export type ResponseHeaderValue = string | number | readonly (string | number)[];
export type ResponseHeaders = Record<string, ResponseHeaderValue | undefined>;

/** A file streamed from disk with Content-Length (see `file(path)` in lib/). */
export interface FileBody {
  readonly kind: 'file';
  readonly path: string;
  /** Optional byte range [start, end] inclusive, used by the static middleware for Range requests. */
  readonly start?: number;
  readonly end?: number;
}

export type Chunk = string | Buffer | Uint8Array;

export type ResponseBody =
  | string
  | Buffer
  | Uint8Array
  | Readable
  | AsyncIterable<Chunk>
  | Iterable<Chunk>
  | FileBody
  | null
  | undefined;

/** The response map a handler returns. */
export interface Response {
  /** Default 200. */
  status?: number;
  headers?: ResponseHeaders;
  body?: ResponseBody;
}

/**
 * What a handler may return: a response map, a plain string (200 text/html), or a
 * Promise of either. The channel API returns a special value from `asChannel`.
 */
export type HandlerResult = Response | string | Promise<Response | string | unknown> | unknown;
export type Handler = (req: Request) => HandlerResult;

/** `errorLogger` option: handler errors and other failures (`req` when one is known). */
export type ErrorLogger = (err: unknown, req?: unknown) => void;
/** `warnLogger` option: what the server noticed and handled (a failed TLS handshake, ...). */
export type WarnLogger = (message: string, detail?: unknown) => void;
