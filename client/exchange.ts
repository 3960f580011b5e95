// One logical request from options to resolved response map, across retries and
// redirects: its prepared request, the response as it is assembled, and its outcome.
import { Readable, type Duplex } from 'node:stream';
import type { ResponseHead } from '../parser/types.ts';
import {
  ClientError, toClientError,
  ERR_ABORTED, ERR_BODY_TOO_LARGE, ERR_CALLBACK, ERR_DECOMPRESS, ERR_INVALID_BODY, ERR_INVALID_HEADER, ERR_INVALID_OPTION,
  ERR_PROTOCOL, ERR_TOO_MANY_REDIRECTS, ERR_UNSUPPORTED_PROTOCOL,
} from './errors.ts';
import { checkMethod, dropHeaders, encodeForm, findHeader, headerList, parseUrl, withoutCredentials } from './request.ts';
import { ACCEPT_ENCODING, CODING_NONE, codingOf, createDecoder } from './decode.ts';
import { buildMultipart } from './multipart.ts';
import { becomesGet, BODY_HEADERS, CREDENTIAL_HEADERS, isRedirect, nextUrl, sameOrigin } from './redirect.ts';
import { convertBody, headersFrom } from './response.ts';
import type { Client } from './client.ts';
import type { Connection } from './connection.ts';
import type { Pool } from './pool.ts';
import type { RedirectHop, RequestOptions, Response, ResponseAs, ResponseHeaders, TlsOptions } from './types.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** A declared Content-Length up to this is allocated at once; larger bodies are collected as they arrive. */
const PREALLOCATE_MAX = 1024 * 1024;
/** Most bytes of a redirect's body read (and dropped) before the redirect is followed without it. */
const REDIRECT_DRAIN_MAX = 64 * 1024;
const EMPTY_HEADERS: ResponseHeaders = Object.freeze({}) as ResponseHeaders;

export const DEFAULT_USER_AGENT = 'httpkit';
export const DEFAULT_CONNECT_TIMEOUT = 60_000;
export const DEFAULT_IDLE_TIMEOUT = 60_000;
export const DEFAULT_KEEPALIVE = 120_000;
export const DEFAULT_MAX_BODY = 256 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 10;

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array | string> {
  return v !== null && typeof v === 'object' && typeof (v as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}

function numberOption(name: string, v: unknown, dflt: number, allowMinusOne = false): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || (v < 0 && !(allowMinusOne && v === -1))) {
    throw new ClientError(ERR_INVALID_OPTION, `${name} must be a non-negative number${allowMinusOne ? ' or -1' : ''}`);
  }
  return v;
}

/** The body of an `as: 'stream'` response: reading pulls bytes from the socket. */
export class ResponseBodyStream extends Readable {
  exchange: Exchange | null;
  constructor(exchange: Exchange) {
    super();
    this.exchange = exchange;
  }
  override _read(): void {
    this.exchange?.resumeBody();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const ex = this.exchange;
    this.exchange = null;
    if (ex !== null) ex.bodyDestroyed();
    cb(err);
  }
}

export class Exchange {
  readonly client: Client;
  readonly opts: RequestOptions;
  resolve: (r: Response) => void;

  // The request, as sent on the current hop.
  method: string;
  url: URL;
  headers: string[];
  /** Client-chosen header lines added after the caller's (User-Agent, Accept-Encoding, Connection). */
  defaults: string;
  body: Buffer | null;
  bodyStream: AsyncIterable<Uint8Array | string> | null;
  /** The caller framed a streamed body with their own Content-Length. */
  userLength: number;
  /** The caller set a Host header (sent instead of the URL's host). */
  callerHost: boolean;

  // Settings, resolved once by prepare().
  as: ResponseAs;
  decompress: boolean;
  maxBody: number;
  connectTimeout: number;
  idleTimeout: number;
  keepalive: number;
  deadline: number;
  followRedirects: boolean;
  maxRedirects: number;
  insecure: boolean;
  tls: TlsOptions | null;
  proxy: URL | null;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;

  // Progress.
  pool: Pool | null;
  conn: Connection | null;
  retried: boolean;
  /** Set by the connection once any byte of the response has arrived. */
  responseStarted: boolean;
  /** The request body has been completely written. */
  requestSent: boolean;
  trace: RedirectHop[];
  settled: boolean;

  // The response being assembled.
  status: number;
  respHeaders: ResponseHeaders;
  trailers: Record<string, string> | null;
  redirectTo: URL | null;
  coding: number;
  decoder: Duplex | null;
  stream: ResponseBodyStream | null;
  single: Buffer | null;
  chunks: Buffer[] | null;
  received: number;

  constructor(client: Client, opts: RequestOptions, resolve: (r: Response) => void) {
    this.client = client;
    this.opts = opts;
    this.resolve = resolve;
    this.method = 'GET';
    this.url = null as unknown as URL;
    this.headers = [];
    this.defaults = '';
    this.body = null;
    this.bodyStream = null;
    this.userLength = -1;
    this.callerHost = false;
    this.as = 'auto';
    this.decompress = true;
    this.maxBody = DEFAULT_MAX_BODY;
    this.connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    this.idleTimeout = DEFAULT_IDLE_TIMEOUT;
    this.keepalive = DEFAULT_KEEPALIVE;
    this.deadline = Infinity;
    this.followRedirects = true;
    this.maxRedirects = DEFAULT_MAX_REDIRECTS;
    this.insecure = false;
    this.tls = null;
    this.proxy = null;
    this.signal = null;
    this.onAbort = null;
    this.pool = null;
    this.conn = null;
    this.retried = false;
    this.responseStarted = false;
    this.requestSent = false;
    this.trace = [];
    this.settled = false;
    this.status = 0;
    this.respHeaders = EMPTY_HEADERS;
    this.trailers = null;
    this.redirectTo = null;
    this.coding = CODING_NONE;
    this.decoder = null;
    this.stream = null;
    this.single = null;
    this.chunks = null;
    this.received = 0;
  }

  /** Validates and prepares everything; throws a ClientError before any byte is sent. */
  prepare(): void {
    const o = this.opts;
    if (o === null || typeof o !== 'object') throw new ClientError(ERR_INVALID_OPTION, 'options must be an object');
    const d = this.client.defaults;
    this.method = checkMethod(o.method ?? 'GET');
    this.url = parseUrl(o.url, o.queryParams ?? undefined);
    const as = o.as ?? d.as ?? 'auto';
    if (as !== 'auto' && as !== 'text' && as !== 'buffer' && as !== 'stream' && as !== 'json') {
      throw new ClientError(ERR_INVALID_OPTION, `as must be auto, text, buffer, stream or json`);
    }
    this.as = as;
    this.decompress = (o.decompress ?? d.decompress ?? true) !== false;
    this.maxBody = numberOption('maxBody', o.maxBody ?? d.maxBody, DEFAULT_MAX_BODY);
    this.connectTimeout = numberOption('connectTimeout', o.connectTimeout ?? d.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
    this.idleTimeout = numberOption('idleTimeout', o.idleTimeout ?? d.idleTimeout, DEFAULT_IDLE_TIMEOUT);
    this.keepalive = numberOption('keepalive', o.keepalive ?? d.keepalive ?? this.client.keepalive, DEFAULT_KEEPALIVE, true);
    const timeout = numberOption('timeout', o.timeout ?? d.timeout, 0);
    this.deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    this.followRedirects = (o.followRedirects ?? d.followRedirects ?? true) !== false;
    this.maxRedirects = numberOption('maxRedirects', o.maxRedirects ?? d.maxRedirects, DEFAULT_MAX_REDIRECTS);
    this.insecure = (o.insecure ?? d.insecure ?? false) === true;
    const tls = o.tls ?? d.tls;
    this.tls = tls != null ? tls : null;
    const proxyUrl = o.proxyUrl ?? d.proxyUrl;
    if (proxyUrl != null) {
      const p = parseUrl(proxyUrl, undefined);
      if (p.protocol !== 'http:') throw new ClientError(ERR_UNSUPPORTED_PROTOCOL, 'proxyUrl must be an http: URL');
      this.proxy = p;
    }
    if (o.signal != null) {
      if (typeof o.signal !== 'object' || typeof o.signal.addEventListener !== 'function') {
        throw new ClientError(ERR_INVALID_OPTION, 'signal must be an AbortSignal');
      }
      this.signal = o.signal;
    }

    let headers = headerList(o.headers ?? undefined);
    if (d.headers != null) {
      const extra = headerList(d.headers);
      for (let i = 0; i < extra.length; i += 2) if (findHeader(headers, extra[i]!.toLowerCase()) === -1) headers.push(extra[i]!, extra[i + 1]!);
    }

    // Body: exactly one of body, formParams, multipart.
    let contentType: string | null = null;
    const given = (o.body != null ? 1 : 0) + (o.formParams != null ? 1 : 0) + (o.multipart != null ? 1 : 0);
    if (given > 1) throw new ClientError(ERR_INVALID_BODY, 'give only one of body, formParams and multipart');
    if (o.formParams != null) {
      this.body = Buffer.from(encodeForm(o.formParams), 'latin1');
      contentType = 'application/x-www-form-urlencoded';
    } else if (o.multipart != null) {
      const m = buildMultipart(o.multipart);
      this.body = m.buffer;
      this.bodyStream = m.stream;
      contentType = m.contentType;
    } else if (o.body != null) {
      const b = o.body;
      if (typeof b === 'string') this.body = Buffer.from(b, 'utf8');
      else if (Buffer.isBuffer(b)) this.body = b;
      else if (b instanceof Uint8Array) this.body = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      else if (isAsyncIterable(b)) this.bodyStream = b;
      else throw new ClientError(ERR_INVALID_BODY, 'body must be a string, Buffer, Uint8Array, Readable or async iterable');
    }
    if (contentType !== null && findHeader(headers, 'content-type') === -1) headers.push('Content-Type', contentType);

    // Framing is the client's: a caller's Transfer-Encoding is dropped; a caller's
    // Content-Length is kept only to frame a streamed body.
    const cl = findHeader(headers, 'content-length');
    if (this.bodyStream !== null && cl !== -1) {
      const n = Number(headers[cl + 1]);
      if (!/^\d+$/.test(headers[cl + 1]!.trim()) || !Number.isSafeInteger(n)) {
        throw new ClientError(ERR_INVALID_BODY, 'invalid Content-Length header');
      }
      this.userLength = n;
      headers = dropHeaders(headers, ['transfer-encoding', 'content-length']);
      headers.push('Content-Length', String(n));
    } else if (cl !== -1 || findHeader(headers, 'transfer-encoding') !== -1) {
      headers = dropHeaders(headers, ['transfer-encoding', 'content-length']);
    }

    // Credentials: basicAuth, then URL userinfo, then oauthToken (a caller's Authorization wins).
    if (findHeader(headers, 'authorization') === -1) {
      const auth = o.basicAuth ?? null;
      if (auth !== null) {
        let pair: string;
        if (typeof auth === 'string') pair = auth;
        else if (Array.isArray(auth) && auth.length === 2) pair = String(auth[0]) + ':' + String(auth[1]);
        else throw new ClientError(ERR_INVALID_OPTION, "basicAuth must be [user, pass] or 'user:pass'");
        headers.push('Authorization', 'Basic ' + Buffer.from(pair, 'utf8').toString('base64'));
      } else if (this.url.username !== '' || this.url.password !== '') {
        const pair = decodeURIComponent(this.url.username) + ':' + decodeURIComponent(this.url.password);
        headers.push('Authorization', 'Basic ' + Buffer.from(pair, 'utf8').toString('base64'));
      } else if (o.oauthToken != null) {
        const t = String(o.oauthToken);
        if (/[\0\r\n]/.test(t)) throw new ClientError(ERR_INVALID_HEADER, 'oauthToken contains CR, LF or NUL');
        headers.push('Authorization', 'Bearer ' + t);
      }
    }
    this.url = withoutCredentials(this.url);
    this.headers = headers;
    this.callerHost = findHeader(headers, 'host') !== -1;

    // A caller's `Connection: close` means what keepalive -1 means.
    const conn = findHeader(headers, 'connection');
    if (conn !== -1 && /(?:^|,)\s*close\s*(?:,|$)/i.test(headers[conn + 1]!)) this.keepalive = -1;

    let defaults = '';
    if (findHeader(headers, 'user-agent') === -1) {
      const ua = o.userAgent ?? d.userAgent ?? DEFAULT_USER_AGENT;
      if (/[^\t\x20-\x7e\x80-\xff]/.test(ua)) throw new ClientError(ERR_INVALID_HEADER, 'userAgent contains CR, LF or NUL');
      defaults += 'User-Agent: ' + ua + '\r\n';
    }
    if (this.decompress && findHeader(headers, 'accept-encoding') === -1) defaults += 'Accept-Encoding: ' + ACCEPT_ENCODING + '\r\n';
    if (this.keepalive === -1 && findHeader(headers, 'connection') === -1) defaults += 'Connection: close\r\n';
    this.defaults = defaults;
  }

  /** The framing header for the current body. */
  framing(): string {
    if (this.body !== null) return 'Content-Length: ' + this.body.length + '\r\n';
    if (this.bodyStream !== null) return this.userLength >= 0 ? '' : 'Transfer-Encoding: chunked\r\n';
    return METHODS_WITH_BODY.has(this.method) ? 'Content-Length: 0\r\n' : '';
  }

  /** May this request be sent again after a failure before any response byte? */
  retryable(): boolean {
    return !this.retried && this.bodyStream === null && IDEMPOTENT.has(this.method);
  }

  /** Resets the per-attempt response state before (re)sending. */
  beginAttempt(): void {
    this.responseStarted = false;
    this.requestSent = false;
    this.status = 0;
    this.respHeaders = EMPTY_HEADERS;
    this.trailers = null;
    this.redirectTo = null;
    this.coding = CODING_NONE;
    this.decoder = null;
    this.single = null;
    this.chunks = null;
    this.received = 0;
  }

  // ---- response events, called by the connection ----

  /** A final (non-1xx) response head. Returns false if the exchange failed (the connection must close). */
  onHead(head: ResponseHead): boolean {
    const status = head.statusCode;
    this.status = status;
    const headers = headersFrom(head.rawHeaders);
    this.respHeaders = headers;
    const noBody = this.method === 'HEAD' || status === 204 || status === 304;
    const te = headers['transfer-encoding'];
    if (te !== undefined && !noBody) {
      const problem = transferCodingProblem(te, head.versionMinor);
      if (problem !== null) {
        this.fail(new ClientError(ERR_PROTOCOL, `invalid response: ${problem}`));
        return false;
      }
    }

    if (this.followRedirects && isRedirect(status) && headers.location !== undefined) {
      const keepsBody = !becomesGet(status, this.method);
      // A streamed body cannot be replayed: such a 307/308 is returned as it is.
      if (!(keepsBody && this.bodyStream !== null)) {
        if (this.trace.length >= this.maxRedirects) {
          this.fail(new ClientError(ERR_TOO_MANY_REDIRECTS, `more than ${this.maxRedirects} redirects (next: ${headers.location})`));
          return false;
        }
        try {
          this.redirectTo = nextUrl(headers.location, this.url);
        } catch (err) {
          this.fail(toClientError(err, ERR_INVALID_OPTION));
          return false;
        }
        return true; // the body is read and dropped
      }
    }

    if (!noBody && this.decompress) this.coding = codingOf(headers['content-encoding']);
    if (this.coding === CODING_NONE && !noBody && head.contentLength > this.maxBody) {
      this.fail(new ClientError(ERR_BODY_TOO_LARGE, `response body of ${head.contentLength} bytes exceeds maxBody (${this.maxBody})`));
      return false;
    }
    if (this.as === 'stream') {
      this.stream = new ResponseBodyStream(this);
      this.settle(this.stream, undefined);
    } else if (this.coding === CODING_NONE && head.contentLength > 0 && head.contentLength <= PREALLOCATE_MAX && !noBody) {
      this.single = Buffer.allocUnsafe(head.contentLength);
    }
    return true;
  }

  /** Body bytes (a view valid only during the call). Returns false to pause the socket. */
  onBody(chunk: Buffer): boolean {
    if (this.redirectTo !== null) {
      // A redirect's body is dropped. A short one is read to the end so the connection
      // can be reused; a long (or endless) one is not waited for.
      this.received += chunk.length;
      if (this.received <= REDIRECT_DRAIN_MAX) return true;
      this.detachAndClose();
      this.followRedirect();
      return false;
    }
    if (this.coding !== CODING_NONE) {
      if (this.decoder === null) this.attachDecoder(chunk);
      return this.decoder!.write(Buffer.from(chunk));
    }
    return this.deliver(chunk, true);
  }

  /** The response message ended on the wire; the connection is already back in the pool or closed. */
  onComplete(trailers: string[] | null): void {
    if (trailers !== null && trailers.length > 0) this.trailers = headersFrom(trailers) as Record<string, string>;
    if (this.decoder !== null) {
      this.decoder.end();
      return;
    }
    if (this.coding !== CODING_NONE) {
      // An encoded but empty body.
      this.coding = CODING_NONE;
    }
    this.bodyEnd();
  }

  /** Decoded (or plain) body bytes. */
  deliver(chunk: Buffer, isView: boolean): boolean {
    const total = this.received + chunk.length;
    if (total > this.maxBody) {
      this.abort(new ClientError(ERR_BODY_TOO_LARGE, `response body exceeds maxBody (${this.maxBody})`));
      return false;
    }
    if (this.stream !== null) {
      this.received = total;
      return this.stream.push(isView ? Buffer.from(chunk) : chunk);
    }
    if (this.single !== null) {
      chunk.copy(this.single, this.received);
    } else {
      if (this.chunks === null) this.chunks = [];
      this.chunks.push(isView ? Buffer.from(chunk) : chunk);
    }
    this.received = total;
    return true;
  }

  private attachDecoder(first: Buffer): void {
    const decoder = createDecoder(this.coding, first);
    this.decoder = decoder;
    decoder.on('data', (c: Buffer) => {
      if (this.decoder !== decoder) return;
      if (!this.deliver(c, false) && this.stream !== null) decoder.pause();
    });
    decoder.on('drain', () => {
      if (this.decoder === decoder) this.conn?.resumeReading();
    });
    decoder.on('end', () => {
      if (this.decoder === decoder) this.bodyEnd();
    });
    decoder.on('error', (err: Error) => {
      if (this.decoder !== decoder) return;
      this.abort(new ClientError(ERR_DECOMPRESS, `cannot decode ${this.respHeaders['content-encoding']} body: ${err.message}`, err));
    });
  }

  /** The whole body has been received (and decoded). */
  private bodyEnd(): void {
    if (this.redirectTo !== null) {
      this.followRedirect();
      return;
    }
    if (this.stream !== null) {
      const s = this.stream;
      this.stream = null;
      this.decoder = null;
      s.exchange = null;
      s.push(null);
      this.done();
      return;
    }
    let body: Buffer;
    if (this.single !== null) body = this.single;
    else if (this.chunks === null) body = Buffer.alloc(0);
    else body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
    this.single = null;
    this.chunks = null;
    this.decoder = null;
    let value: unknown;
    try {
      value = convertBody(body, this.as, this.respHeaders['content-type']);
    } catch (err) {
      this.fail(toClientError(err, ERR_INVALID_BODY));
      return;
    }
    this.settle(value, undefined);
    this.done();
  }

  private followRedirect(): void {
    const to = this.redirectTo!;
    this.trace.push({ method: this.method, url: this.url.href, status: this.status });
    if (becomesGet(this.status, this.method)) {
      this.method = 'GET';
      this.body = null;
      this.bodyStream = null;
      this.headers = dropHeaders(this.headers, BODY_HEADERS);
    }
    if (!sameOrigin(this.url, to)) {
      this.headers = dropHeaders(this.headers, CREDENTIAL_HEADERS);
      if (this.callerHost) {
        this.headers = dropHeaders(this.headers, ['host']);
        this.callerHost = false;
      }
    }
    this.url = to;
    this.retried = false; // each hop may be retried once
    this.client.dispatch(this);
  }

  // ---- stream body flow control ----

  resumeBody(): void {
    if (this.decoder !== null) this.decoder.resume();
    else this.conn?.resumeReading();
  }

  /** The consumer destroyed the body stream: stop reading; an unfinished response closes its connection. */
  bodyDestroyed(): void {
    this.stream = null;
    if (!this.settled) return;
    const decoder = this.decoder;
    this.decoder = null;
    decoder?.destroy();
    this.detachAndClose();
    this.done();
  }

  // ---- outcome ----

  /** Resolves the promise once (a stream body resolves at the head and continues). */
  settle(body: unknown, error: (Error & { code: string }) | undefined): void {
    if (this.settled) return;
    this.settled = true;
    const r: Response = {
      opts: this.opts,
      url: this.url === null ? String(this.opts?.url ?? '') : this.url.href,
      status: error === undefined ? this.status : undefined,
      headers: error === undefined ? this.respHeaders : ({} as ResponseHeaders),
      body: error === undefined ? body : undefined,
      trailers: error === undefined ? this.trailers : null,
      trace: this.trace,
      error,
    };
    this.resolve(r);
  }

  /** Frees the exchange's hooks once nothing more will happen. */
  done(): void {
    if (this.onAbort !== null && this.signal !== null) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.onAbort = null;
    }
  }

  /** The request failed (already detached from any connection). */
  fail(err: Error & { code: string }): void {
    const decoder = this.decoder;
    this.decoder = null;
    this.redirectTo = null;
    decoder?.destroy();
    if (this.stream !== null) {
      const s = this.stream;
      this.stream = null;
      s.exchange = null;
      s.destroy(err);
    }
    this.settle(undefined, err);
    this.done();
  }

  /** Fails the request from outside the connection's own events (timeouts, abort, limits). */
  abort(err: Error & { code: string }): void {
    this.detachAndClose();
    this.fail(err);
  }

  private detachAndClose(): void {
    const conn = this.conn;
    if (conn !== null) {
      this.conn = null;
      conn.drop(this);
    } else if (this.pool !== null) {
      this.pool.unqueue(this);
    }
  }

  /** Wires the AbortSignal, once per request. */
  watchSignal(): boolean {
    const signal = this.signal;
    if (signal === null) return true;
    if (signal.aborted) {
      this.fail(new ClientError(ERR_ABORTED, 'request aborted', signal.reason));
      return false;
    }
    this.onAbort = () => this.abort(new ClientError(ERR_ABORTED, 'request aborted', signal.reason));
    signal.addEventListener('abort', this.onAbort, { once: true });
    return true;
  }
}

/**
 * Why a response body's Transfer-Encoding cannot be read, or null. Only chunked is
 * undone (and none other is asked for): a body still under another transfer coding
 * would be handed over as if it were the content. In HTTP/1.0 the field means the
 * framing is faulty (RFC 9112 6.1).
 */
function transferCodingProblem(te: string, versionMinor: number): string | null {
  if (versionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 response (RFC 9112 6.1: the framing is faulty)';
  for (const coding of te.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== 'chunked') return `transfer coding ${JSON.stringify(name)} is not supported (only chunked)`;
  }
  return null;
}

/** Runs a callback on the response map; a throw or rejection resolves with `error`. */
export async function runCallback<T>(response: Response, cb: (r: Response) => T | Promise<T>): Promise<T | Response> {
  try {
    return await cb(response);
  } catch (err) {
    return { ...response, error: toClientError(err, ERR_CALLBACK) };
  }
}
