// Response map -> bytes: the head (status line, headers, framing) and the body pump
// for streamed bodies. Fixed bodies are written by the connection, batched.
import type { Socket } from 'node:net';
import type { Chunk, FileBody, ResponseHeaders } from './types.ts';
import { NO_LIST, TimerItem, type TimerWheel } from './timers.ts';

const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** `name` equals the lower-case `lower` ignoring ASCII case; lengths already match. No allocation. */
function sameName(name: string, lower: string): boolean {
  if (name === lower) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** field-value (RFC 9110 5.5): visible ASCII, SP, HTAB and obs-text; never CR, LF or NUL. */
function isFieldValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 ? c !== 9 : c === 127 || c > 255) return false;
  }
  return true;
}
/** Header names already checked (an application uses few): a Set lookup instead of a regex. */
const validNames = new Set<string>();

/**
 * Scratch result of `userHeaderLines`: what the handler's headers said about framing
 * and connection. One per server, reused for every response (single-threaded).
 */
export class HeadScan {
  /** The handler asked for `Connection: close`. */
  close = false;
  /** Content-Length the handler set (used for streamed bodies), or -1. */
  length = -1;
  hasDate = false;
  hasServer = false;
  hasContentType = false;
  /** Why the headers cannot be sent, or null. */
  error: string | null = null;
}

/**
 * The handler's header lines, validated, minus the framing fields the server owns
 * (Content-Length, Transfer-Encoding, Connection); those are noted in `scan`.
 */
export function userHeaderLines(headers: ResponseHeaders | undefined | null, scan: HeadScan): string {
  scan.close = false;
  scan.length = -1;
  scan.hasDate = false;
  scan.hasServer = false;
  scan.hasContentType = false;
  scan.error = null;
  if (headers === undefined || headers === null) return '';
  let s = '';
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || v === null) continue;
    if (!validNames.has(name)) {
      if (!tokenRe.test(name)) {
        scan.error = 'invalid header name ' + JSON.stringify(name);
        return '';
      }
      if (validNames.size < 512) validNames.add(name);
    }
    switch (name.length) {
      case 4:
        if (sameName(name, 'date')) scan.hasDate = true;
        break;
      case 6:
        if (sameName(name, 'server')) scan.hasServer = true;
        break;
      case 10:
        if (sameName(name, 'connection')) {
          const t = String(v).toLowerCase();
          if (t.includes('close')) scan.close = true;
          if (!t.includes('upgrade')) continue;
        }
        break;
      case 12:
        if (sameName(name, 'content-type')) scan.hasContentType = true;
        break;
      case 14:
        if (sameName(name, 'content-length')) {
          const n = Number(Array.isArray(v) ? v[0] : v);
          if (Number.isSafeInteger(n) && n >= 0) scan.length = n;
          continue;
        }
        break;
      case 17:
        if (sameName(name, 'transfer-encoding')) continue;
        break;
    }
    if (typeof v === 'object') {
      for (let i = 0; i < (v as readonly unknown[]).length; i++) {
        const item = String((v as readonly unknown[])[i]);
        if (!isFieldValue(item)) {
          scan.error = 'invalid value for header ' + name;
          return '';
        }
        s += name + ': ' + item + '\r\n';
      }
    } else {
      const item = typeof v === 'string' ? v : String(v);
      if (!isFieldValue(item)) {
        scan.error = 'invalid value for header ' + name;
        return '';
      }
      s += name + ': ' + item + '\r\n';
    }
  }
  return s;
}

export function isFileBody(body: object): body is FileBody {
  return (body as FileBody).kind === 'file' && typeof (body as FileBody).path === 'string';
}

export function isIterableBody(body: object): body is AsyncIterable<Chunk> | Iterable<Chunk> {
  return Symbol.asyncIterator in body || Symbol.iterator in body;
}

function toBuffer(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('body chunks must be strings, Buffers or Uint8Arrays');
}

/** Where a body pump waits for 'drain': the server's timer wheel and how long it may wait. */
export interface SendLimit {
  wheel: TimerWheel;
  timeout: number;
}

/**
 * Cuts off a connection whose client took nothing for the send timeout (the server's
 * connection: it closes the socket and tells its channels 'timeout', not 'client-close').
 */
export interface SendTimeoutTarget {
  cutOffForSendTimeout(): void;
}

/** A wait for 'drain' on the timer wheel: a client that reads nothing for the timeout is cut off. */
export class DrainWait extends TimerItem {
  readonly socket: Socket;
  readonly target: SendTimeoutTarget | null;

  constructor(socket: Socket, target: SendTimeoutTarget | null) {
    super();
    this.socket = socket;
    this.target = target;
  }

  onTimeout(): void {
    // 'close' ends the wait.
    if (this.target !== null) this.target.cutOffForSendTimeout();
    else this.socket.destroy();
  }
}

/**
 * Resolves when the socket can take more, or is gone (destroyed after `limit.timeout`
 * without a drain: by `target` when given).
 */
export function writable(socket: Socket, limit: SendLimit | null = null, target: SendTimeoutTarget | null = null): Promise<void> {
  return new Promise((resolve) => {
    const wait = limit === null ? null : new DrainWait(socket, target);
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      if (wait !== null && wait.timerList !== NO_LIST) limit!.wheel.remove(wait);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
    if (wait !== null) limit!.wheel.addActive(wait, limit!.wheel.now + limit!.timeout);
  });
}

/** Outcome of a body pump. */
export const PUMP_OK = 0;
/** The socket went away mid-body (a debug event, not an error). */
export const PUMP_GONE = 1;
/** The body source failed or broke its declared length: the connection must close. */
export const PUMP_BROKEN = 2;

/**
 * Write a streamed body with backpressure: never more than the socket's high-water
 * mark is buffered; a slow reader slows the producer. `length` >= 0 means
 * Content-Length framing (bytes beyond it are a broken body), else chunked when
 * `chunked`, else close-delimited.
 */
export async function pumpBody(
  socket: Socket,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  chunked: boolean,
  length: number,
  onError: (err: unknown) => void,
  limit: SendLimit | null = null,
  target: SendTimeoutTarget | null = null,
): Promise<number> {
  let sent = 0;
  try {
    if (Symbol.asyncIterator in source) {
      for await (const chunk of source as AsyncIterable<unknown>) {
        const r = await writeChunk(socket, chunk, chunked, length, sent, limit, target);
        if (r < 0) return r === -1 ? PUMP_GONE : PUMP_BROKEN;
        sent += r;
      }
    } else {
      for (const chunk of source as Iterable<unknown>) {
        const r = await writeChunk(socket, chunk, chunked, length, sent, limit, target);
        if (r < 0) return r === -1 ? PUMP_GONE : PUMP_BROKEN;
        sent += r;
      }
    }
  } catch (err) {
    if (socket.destroyed) return PUMP_GONE;
    onError(err);
    return PUMP_BROKEN;
  }
  if (socket.destroyed) return PUMP_GONE;
  if (chunked) socket.write('0\r\n\r\n', 'latin1');
  else if (length >= 0 && sent !== length) {
    onError(new Error(`body ended after ${sent} of ${length} bytes (Content-Length)`));
    return PUMP_BROKEN;
  }
  return PUMP_OK;
}

/** Bytes written, -1 when the socket is gone, -2 when the body broke its length. */
async function writeChunk(
  socket: Socket, chunk: unknown, chunked: boolean, length: number, sent: number, limit: SendLimit | null, target: SendTimeoutTarget | null,
): Promise<number> {
  if (socket.destroyed) return -1;
  const buf = toBuffer(chunk);
  if (buf.length === 0) return 0;
  if (length >= 0 && sent + buf.length > length) return -2;
  if (chunked) {
    socket.cork();
    socket.write(buf.length.toString(16) + '\r\n', 'latin1');
    socket.write(buf);
    socket.write('\r\n', 'latin1');
    socket.uncork();
  } else socket.write(buf);
  if (socket.writableNeedDrain) await writable(socket, limit, target);
  if (socket.destroyed) return -1;
  return buf.length;
}
