// Puts one response on a connection's wire: the head and a fixed body join the
// connection's write batch; files and streams are pumped with backpressure.
import { fsPromises, util } from './builtins.ts';
import type { Response, FileBody } from './types.ts';
import type { Connection } from './connection.ts';
import { errorResponse, READY, WRITING, type Exchange } from './exchange.ts';
import { httpDate } from './date.ts';
import { isBodyless, statusLine } from './status.ts';
import { userHeaderLines, isFileBody, isIterableBody, pumpBody, PUMP_OK, PUMP_GONE } from './response-writer.ts';

const debug = util.debuglog('httpkit');
const NO_CHUNKS: readonly Buffer[] = Object.freeze([]);

/** Release a body that will not be written: destroy a stream, finish an iterator. */
export function destroyBody(body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  if (typeof (body as { destroy?: unknown }).destroy === 'function') (body as { destroy(): void }).destroy();
  else if (typeof (body as { return?: unknown }).return === 'function') {
    try {
      const r = (body as { return(): unknown }).return();
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      /* an iterator that cannot be closed: nothing more to do */
    }
  }
}

/** Serialise one response. True when it is completely written (or queued to write). */
export function writeResponse(conn: Connection, ex: Exchange): boolean {
  const res = ex.response!;
  ex.response = null;
  if (ex.silent) return true;
  try {
    return writeResponseMap(conn, ex, res);
  } catch (err) {
    // Reading the map threw (a getter, a Proxy as headers): a 500, as for a handler
    // that throws. Nothing was written yet: every read of the map comes first.
    conn.ctx.errorLogger(err, ex.req);
    return writeResponseReplaced(conn, ex, errorResponse(500), undefined);
  }
}

function writeResponseMap(conn: Connection, ex: Exchange, res: Response): boolean {
  let status = res.status === undefined ? 200 : res.status;
  // A 1xx other than 101 cannot be a final answer (RFC 9110 15.2), and 101 answers only
  // a request that asked to switch protocols (RFC 9110 15.2.2); CONNECT succeeds with a
  // 2xx, not a 101 (RFC 9110 9.3.6).
  if (!Number.isInteger(status) || status > 999 || (status < 200 && (status !== 101 || !ex.upgrade || ex.connect))) {
    conn.ctx.errorLogger(new RangeError('invalid status ' + String(status)), ex.req);
    return writeResponseReplaced(conn, ex, errorResponse(500), res.body);
  }
  const body = res.body;
  const scan = conn.ctx.scan;
  const lines = userHeaderLines(res.headers, scan);
  if (scan.error !== null) {
    conn.ctx.errorLogger(new TypeError(scan.error), ex.req);
    return writeResponseReplaced(conn, ex, errorResponse(500), body);
  }
  let length: number;
  let bodyStr: string | null = null;
  let bodyBuf: Uint8Array | null = null;
  let stream: object | null = null;
  // No body: length 0, except that a HEAD answer may state the length a GET would have.
  if (body === null || body === undefined) length = ex.isHead && scan.length >= 0 ? scan.length : 0;
  else if (typeof body === 'string') {
    bodyStr = body;
    length = utf8Length(body);
  } else if (body instanceof Uint8Array) {
    bodyBuf = body;
    length = body.byteLength;
  } else if (typeof body === 'object' && isFileBody(body)) {
    sendFile(conn, ex, status, res, body);
    return false;
  } else if (typeof body === 'object' && isIterableBody(body)) {
    stream = body;
    length = scan.length;
  } else {
    conn.ctx.errorLogger(new TypeError('unsupported response body type'), ex.req);
    return writeResponseReplaced(conn, ex, errorResponse(500), body);
  }
  // A 2xx to CONNECT makes the connection a tunnel (RFC 9110 9.3.6): no Content-Length or
  // Transfer-Encoding, no Connection; a body goes out as raw tunnel bytes, then the
  // connection closes (CONNECT is never keep-alive).
  const tunnel = ex.connect && status >= 200 && status < 300;
  if (tunnel) length = -1;
  const noBody = isBodyless(status);
  // 205 Reset Content: never any content (RFC 9110 15.3.6), framed as Content-Length: 0.
  if (status === 205) length = 0;
  if (noBody || ex.isHead || status === 205) {
    if (stream !== null) destroyBody(stream);
    stream = null;
    bodyStr = null;
    bodyBuf = null;
  }
  const chunked = stream !== null && length < 0 && !ex.http10 && !tunnel;
  if (stream !== null && length < 0 && ex.http10) ex.keepAlive = false; // close-delimited
  if (scan.close || status === 101) ex.keepAlive = false;
  // Closing after this response: asked for, or the last one owed on a closing connection.
  if ((conn.closing || conn.ctx.stopping) && ex.next === null) ex.keepAlive = false;
  const framing = noBody ? '\r\n' : length >= 0 ? lengthLines(length) : chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : '\r\n';
  const head = statusLine(status) + lines + commonLines(conn, scan.hasDate, scan.hasServer, !ex.keepAlive && !tunnel, ex.http10 && !tunnel) + framing;
  if (stream !== null) {
    conn.out += head;
    conn.flush();
    ex.state = WRITING;
    streamBody(conn, ex, stream as AsyncIterable<unknown>, chunked, length);
    return false;
  }
  if (bodyStr !== null) {
    if (length === bodyStr.length) conn.out += head + bodyStr; // ASCII: latin1 is the same bytes
    else {
      conn.out += head;
      writeBuffer(conn, Buffer.from(bodyStr, 'utf8'));
    }
  } else if (bodyBuf !== null) {
    conn.out += head;
    writeBuffer(conn, bodyBuf);
  } else conn.out += head;
  return true;
}

/** UTF-8 byte length; short ASCII strings (most small bodies) without a call into C++. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 127) return Buffer.byteLength(s, 'utf8');
  return n;
}

export function writeResponseReplaced(conn: Connection, ex: Exchange, res: Response, oldBody: unknown): boolean {
  destroyBody(oldBody);
  ex.response = res;
  conn.closing = true;
  return writeResponse(conn, ex);
}

export function commonLines(conn: Connection, hasDate: boolean, hasServer: boolean, close: boolean, http10: boolean): string {
  let s: string;
  // Inside a read the wheel's clock was just set: no second Date.now() per response.
  const now = conn.inRead ? conn.ctx.wheel.wallClock() : Date.now();
  if (!hasDate && !hasServer) s = dateServerLines(conn.ctx.serverLine, now);
  else {
    s = hasDate ? '' : 'Date: ' + httpDate(now) + '\r\n';
    if (!hasServer) s += conn.ctx.serverLine;
  }
  if (close) s += 'Connection: close\r\n';
  else if (http10) s += 'Connection: keep-alive\r\n';
  return s;
}

// `Content-Length: N\r\n\r\n` for the small lengths most responses have, built once each.
// Kept in blocks of 64 made on first use: a 4096-slot array made at import would be
// 32 KB of start-up allocation for the few lengths a server sends.
const LENGTH_CACHE = 4096;
const lengthBlocks: ((string | undefined)[] | undefined)[] = new Array<undefined>(LENGTH_CACHE >> 6).fill(undefined);

function lengthLines(n: number): string {
  if (n >= LENGTH_CACHE) return 'Content-Length: ' + n + '\r\n\r\n';
  const block = (lengthBlocks[n >> 6] ??= new Array<undefined>(64).fill(undefined));
  let s = block[n & 63];
  if (s === undefined) s = block[n & 63] = 'Content-Length: ' + n + '\r\n\r\n';
  return s;
}

// `Date: ...\r\nServer: ...\r\n`, rebuilt when the second (or the server line) changes.
let cachedDate = '';
let cachedServerLine = '';
let cachedLines = '';

function dateServerLines(serverLine: string, now: number): string {
  const date = httpDate(now);
  if (date !== cachedDate || serverLine !== cachedServerLine) {
    cachedDate = date;
    cachedServerLine = serverLine;
    cachedLines = 'Date: ' + date + '\r\n' + serverLine;
  }
  return cachedLines;
}

export function writeBuffer(conn: Connection, buf: Uint8Array): void {
  if (buf.byteLength > 2048) {
    // Big bodies go out as they are; a small one joins the batch.
    if (!conn.corked) {
      conn.socket.cork();
      conn.corked = true;
    }
    if (conn.out.length > 0) {
      conn.socket.write(conn.out, 'latin1');
      conn.out = '';
    }
    conn.socket.write(buf);
    if (!conn.inRead) conn.scheduleFlush();
  } else conn.out += Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
}

export async function sendFile(conn: Connection, ex: Exchange, status: number, res: Response, file: FileBody): Promise<void> {
  ex.state = WRITING;
  let fh;
  try {
    fh = await fsPromises().open(file.path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
    const start = file.start ?? 0;
    const end = Math.min(file.end ?? st.size - 1, st.size - 1);
    const length = Math.max(0, end - start + 1);
    if (conn.closed) {
      await fh.close();
      return conn.finishExchange(ex, false);
    }
    const headers = { ...res.headers, 'content-length': length };
    const stream = isBodyless(status) || ex.isHead || length === 0 ? null : fh.createReadStream({ start, end, highWaterMark: 65536 });
    if (stream === null) await fh.close();
    ex.state = READY;
    // No stream (HEAD, empty file): an empty iterable keeps the Content-Length.
    ex.response = { status, headers, body: stream ?? NO_CHUNKS };
    if (!writeResponse(conn, ex)) return;
    conn.finishExchange(ex, true);
  } catch (err) {
    if (fh !== undefined) await fh.close().catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') conn.ctx.errorLogger(err, ex.req);
    ex.state = READY;
    ex.response = code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? errorResponse(404) : errorResponse(500);
    if (conn.closed) return conn.finishExchange(ex, false);
    writeResponse(conn, ex);
    conn.finishExchange(ex, true);
  }
}

export async function streamBody(conn: Connection, ex: Exchange, source: AsyncIterable<unknown>, chunked: boolean, length: number): Promise<void> {
  const ctx = conn.ctx;
  const r = await pumpBody(conn.socket, source, chunked, length, (err) => ctx.errorLogger(err, ex.req), ctx.sendLimit, conn);
  if (r !== PUMP_OK) {
    if (r === PUMP_GONE) debug('client went away during a streamed body');
    destroyBody(source);
    conn.closing = true;
    if (!conn.closed) conn.socket.destroy();
    conn.finishExchange(ex, false);
    return;
  }
  conn.finishExchange(ex, true);
}
