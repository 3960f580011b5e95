// The channel API: a handler returns `asChannel(req, {...})` and answers later, from
// anywhere, once (long-polling) or as a stream of chunks. A waiting channel costs one
// small object; the connection keeps reading and answering in order meanwhile.
import type { Request, Response, Chunk } from './types.ts';
import { NO_LIST, type Timed } from './timers.ts';
import { kRespond, type Exchange } from './connection.ts';
import type { Abortable, CloseStatus } from './close-status.ts';

export type { CloseStatus } from './close-status.ts';

/** What `send` accepts: a response map (first send), or a body chunk. */
export type ChannelData = Response | string | Buffer | Uint8Array;

export interface ChannelOptions {
  /** Called once the handler returned the channel and it can send. May be async: a throw or a rejection closes the channel (HTTP: 500 or a broken-off stream; WebSocket: 1011) and goes to errorLogger. */
  onOpen?: (ch: Channel) => void;
  /**
   * Called exactly once when the channel closes, with the reason: 'client-close' when
   * the client left, 'timeout' for the channel's `timeout` and when the server cut the
   * connection off for one of its own (a stream whose client took nothing for
   * `sendTimeout`). WebSocket channels also pass the close code and reason. A throw or a
   * rejection goes to errorLogger.
   */
  onClose?: (ch: Channel, status: CloseStatus, code?: number, reason?: string) => void;
  /** WebSocket channels: a message arrived (text as string, binary as Buffer). */
  onReceive?: (ch: Channel, data: string | Buffer) => void;
  /** WebSocket channels: a ping arrived. */
  onPing?: (ch: Channel, data: Buffer) => void;
  /**
   * Ms without any `send` after which the channel gives up: an unanswered request gets
   * `timeoutResponse`; a started stream is ended. onClose gets 'timeout'. 0 = none. Default: none.
   */
  timeout?: number;
  /** Response sent when `timeout` passes before the first send. Default 504 Gateway Timeout. */
  timeoutResponse?: Response;
}

/** The channel interface shared by HTTP channels and WebSocket channels. */
export interface Channel {
  readonly request: Request;
  readonly remoteAddr: string;
  readonly isWebSocket: boolean;
  readonly isOpen: boolean;
  /**
   * Send data. HTTP: the first send answers the request (a response map, or a
   * string/Buffer as a 200 body); with `close = false` the answer is a chunked stream
   * and later sends are chunks. Returns false when the channel is closed (nothing is
   * sent) or when the socket's buffer is over its high-water mark (the data is queued;
   * wait with `drained()` before sending more).
   */
  send(data: ChannelData, close?: boolean): boolean;
  /** Close the channel (ends a stream; an unanswered request closes its connection; a WebSocket closes with `code`, default 1000). False if already closed. */
  close(code?: number, reason?: string): boolean;
  /** True while more than the socket's high-water mark is waiting to be written. */
  readonly needsDrain: boolean;
  /** Resolves once the buffered data is written (or the channel closed). */
  drained(): Promise<void>;
}

/** Builds WebSocket channels; set by the WebSocket integration. */
export type WebSocketChannelFactory = (req: Request, options: ChannelOptions) => Channel;
let webSocketFactory: WebSocketChannelFactory | null = null;

/** Register how `asChannel` makes a channel for a WebSocket upgrade request. */
export function setWebSocketChannelFactory(factory: WebSocketChannelFactory | null): void {
  webSocketFactory = factory;
}

/**
 * Turn a request into a channel; return the channel from the handler. WebSocket
 * requests (`req.isWebSocket`) get a WebSocket channel once that integration is loaded.
 */
export function asChannel(req: Request, options: ChannelOptions = {}): Channel {
  if (req.isWebSocket) {
    if (webSocketFactory === null) throw new Error('asChannel: WebSocket channels need the WebSocket integration (setWebSocketChannelFactory)');
    return webSocketFactory(req, options);
  }
  return new HttpChannel(req, options);
}

const GATEWAY_TIMEOUT: Response = Object.freeze({
  status: 504,
  headers: Object.freeze({ 'content-type': 'text/plain; charset=utf-8' }),
  body: 'Gateway Timeout\n',
});

const FRESH = 0; // nothing sent yet
const STREAMING = 1; // chunked answer under way
const CLOSED = 2;

/** A plain HTTP channel: long-poll (one send) or stream (send with close = false). */
export class HttpChannel implements Channel, Abortable, Timed {
  readonly request: Request;
  readonly remoteAddr: string;
  readonly isWebSocket = false;
  private readonly options: ChannelOptions;
  private ex: Exchange | null = null;
  private state = FRESH;
  private stream: ChunkQueue | null = null;
  // The `timeout` option runs on the server's shared timer wheel: no timer per channel.
  timerPrev: Timed | null = null;
  timerNext: Timed | null = null;
  timerList = NO_LIST;
  deadline = 0;
  /** A send before the handler returned the channel, applied when it is attached. */
  private early: { data: ChannelData; close: boolean } | null = null;
  private earlyClose = false;
  /** Callers of drained() waiting, and the one check that wakes them (both null when none wait). */
  private drainWaiters: Array<() => void> | null = null;
  private drainCheck: (() => void) | null = null;

  constructor(req: Request, options: ChannelOptions) {
    this.request = req;
    this.remoteAddr = req.remoteAddr;
    this.options = options;
  }

  get isOpen(): boolean {
    return this.state !== CLOSED;
  }

  /** @internal called by the server when the handler returned this channel. */
  [kRespond](ex: Exchange): void {
    if (this.ex !== null) throw new Error('a channel can answer only one request');
    this.ex = ex;
    ex.abortee = this;
    const early = this.early;
    const earlyClose = this.earlyClose;
    this.early = null;
    this.earlyClose = false;
    this.state = FRESH;
    if (early !== null) {
      try {
        this.send(early.data, early.close);
      } catch (err) {
        // Data the handler sent before returning the channel, refused only now.
        this.fail(err);
        return;
      }
    }
    if (earlyClose) this.close();
    if (this.state === CLOSED) return;
    const timeout = this.options.timeout;
    if (timeout !== undefined && timeout > 0) {
      const wheel = ex.conn.ctx.wheel;
      wheel.fitTimeout(timeout);
      wheel.addActive(this, wheel.touch() + timeout);
    }
    const onOpen = this.options.onOpen;
    if (onOpen === undefined) return;
    try {
      const r = onOpen(this) as unknown;
      if (r instanceof Promise) r.catch((err: unknown) => this.fail(err));
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * onOpen threw (or rejected): the application never took the channel, so nothing will
   * answer it. Unanswered: 500. A stream under way breaks off (no last chunk, the
   * connection closes) so the client does not take a cut stream for a whole one. Closed
   * already (answered, or the client left): only reported.
   */
  private fail(err: unknown): void {
    const ex = this.ex!;
    if (this.state === FRESH) {
      ex.conn.fail(ex, err);
    } else if (this.state === STREAMING) {
      // The body pump reports the error when it reaches it, in the response's turn.
      this.stream!.fail(err);
    } else {
      ex.conn.ctx.errorLogger(err, this.request);
      return;
    }
    this.finish('error');
  }

  send(data: ChannelData, close = true): boolean {
    if (this.state === CLOSED) return false;
    const ex = this.ex;
    if (ex === null) {
      // Not attached yet: the handler has not returned the channel.
      if (this.early !== null) return false;
      this.early = { data, close };
      if (close) this.state = CLOSED;
      return true;
    }
    if (this.timerList !== NO_LIST) {
      const wheel = ex.conn.ctx.wheel;
      wheel.addActive(this, wheel.touch() + this.options.timeout!);
    }
    if (this.state === FRESH) {
      const res = toResponse(data);
      if (close) {
        ex.conn.settle(ex, res);
        this.finish('server-close');
        return !this.needsDrain;
      }
      // Checked before the state changes: a bad body throws with the channel still fresh.
      const first = res.body !== null && res.body !== undefined ? toChunk(res.body) : null;
      this.state = STREAMING;
      const stream = new ChunkQueue(this);
      this.stream = stream;
      if (first !== null) stream.push(first);
      ex.conn.settle(ex, { status: res.status, headers: res.headers, body: stream });
      return this.state !== CLOSED && !this.needsDrain;
    }
    // Streaming.
    const stream = this.stream!;
    const chunk = isResponseMap(data) ? data.body : data;
    if (chunk !== null && chunk !== undefined) stream.push(toChunk(chunk));
    if (close) {
      stream.end();
      this.finish('server-close');
    }
    return !this.needsDrain;
  }

  close(): boolean {
    if (this.state === CLOSED) return false;
    const ex = this.ex;
    if (ex === null) {
      this.earlyClose = true;
      this.state = CLOSED;
      return true;
    }
    if (this.state === STREAMING) this.stream!.end();
    else ex.conn.abandon(ex);
    this.finish('server-close');
    return true;
  }

  get needsDrain(): boolean {
    const ex = this.ex;
    if (ex === null || ex.conn.closed) return false;
    const socket = ex.conn.socket;
    const queued = this.stream === null ? 0 : this.stream.bytes;
    return queued + socket.writableLength > socket.writableHighWaterMark;
  }

  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    // Every caller waits on one pair of socket listeners and one queue hook.
    const p = new Promise<void>((resolve) => (this.drainWaiters ??= []).push(resolve));
    if (this.drainCheck === null) {
      const socket = this.ex!.conn.socket;
      const check = (): void => {
        if (this.needsDrain && !socket.destroyed) return;
        socket.off('drain', check);
        socket.off('close', check);
        if (this.stream !== null) this.stream.onDrain = null;
        this.drainCheck = null;
        const waiters = this.drainWaiters!;
        this.drainWaiters = null;
        for (const w of waiters) w();
      };
      this.drainCheck = check;
      socket.on('drain', check);
      socket.on('close', check);
      if (this.stream !== null) this.stream.onDrain = check;
    }
    return p;
  }

  /** @internal the server dropped the stream unwritten: a HEAD request or a status without content (the answer is given), or the connection is gone (the client left, or a timeout cut it off). */
  bodyDropped(): void {
    if (this.state === CLOSED) return;
    const conn = this.ex!.conn;
    this.finish(conn.closed || conn.socket.destroyed ? conn.closeStatus() : 'server-close');
  }

  /** From the connection: the client left or the server is stopping. */
  abort(status: CloseStatus): void {
    if (this.state === CLOSED) return;
    const ex = this.ex!;
    if (status === 'going-away') {
      // Answer so the client can retry elsewhere; end a stream cleanly.
      if (this.state === STREAMING) this.stream!.end();
      else ex.conn.settle(ex, { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }, body: 'Service Unavailable\n' });
    } else {
      if (this.state === STREAMING) this.stream!.end();
      else ex.conn.abandon(ex);
    }
    this.finish(status);
  }

  /** From the timer wheel: nothing was sent for `timeout` ms. */
  onTimeout(_now: number): void {
    if (this.state === CLOSED) return;
    const ex = this.ex!;
    if (this.state === STREAMING) this.stream!.end();
    else ex.conn.settle(ex, this.options.timeoutResponse ?? GATEWAY_TIMEOUT);
    this.finish('timeout');
  }

  private finish(status: CloseStatus): void {
    this.state = CLOSED;
    const ex = this.ex;
    if (ex !== null && this.timerList !== NO_LIST) ex.conn.ctx.wheel.remove(this);
    if (ex !== null && ex.abortee === this) ex.abortee = null;
    const onClose = this.options.onClose;
    if (onClose) {
      try {
        const r = onClose(this, status) as unknown;
        if (r instanceof Promise) r.catch((err: unknown) => this.logError(err));
      } catch (err) {
        this.logError(err);
      }
    }
  }

  private logError(err: unknown): void {
    const ex = this.ex;
    if (ex !== null) ex.conn.ctx.errorLogger(err, this.request);
    else console.error('httpkit: error in a channel callback:', err);
  }
}

function isResponseMap(data: ChannelData): data is Response {
  return typeof data === 'object' && data !== null && !(data instanceof Uint8Array);
}

const HTML = Object.freeze({ 'content-type': 'text/html; charset=utf-8' });

/** A bare string or Buffer answers 200 text/html, as a string returned by a handler does. */
function toResponse(data: ChannelData): Response {
  if (isResponseMap(data)) return data;
  return { status: 200, headers: HTML, body: data };
}

function toChunk(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('channel data must be a string, Buffer or Uint8Array (or a response map with such a body)');
}

/**
 * The body of a streaming channel: chunks pushed by `send`, pulled by the server's
 * body pump (which writes with backpressure). Holds only what is not written yet.
 */
class ChunkQueue implements AsyncIterableIterator<Chunk> {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private waiter: ((r: IteratorResult<Chunk>) => void) | null = null;
  private waiterFail: ((err: unknown) => void) | null = null;
  /** Set by fail(): the next read throws it (the pump logs it and closes the connection). */
  private failure: { err: unknown } | null = null;
  bytes = 0;
  onDrain: (() => void) | null = null;
  private readonly channel: HttpChannel;

  constructor(channel: HttpChannel) {
    this.channel = channel;
  }

  push(chunk: Buffer): void {
    if (this.ended || chunk.length === 0) return;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = this.waiterFail = null;
      w({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    if (w !== null && this.chunks.length === 0) {
      this.waiter = this.waiterFail = null;
      w({ value: undefined, done: true });
    }
  }

  /** Break the stream off: what is queued is dropped and the pump gets `err`. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = { err };
    this.chunks.length = 0;
    this.bytes = 0;
    const f = this.waiterFail;
    if (f !== null) {
      this.waiter = this.waiterFail = null;
      f(err);
    }
  }

  next(): Promise<IteratorResult<Chunk>> {
    if (this.chunks.length > 0) {
      const chunk = this.chunks.shift()!;
      this.bytes -= chunk.length;
      if (this.onDrain !== null) this.onDrain();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure !== null) return Promise.reject(this.failure.err);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterFail = reject;
    });
  }

  /** The pump stopped early (client gone): drop what is queued. */
  return(): Promise<IteratorResult<Chunk>> {
    this.ended = true;
    this.chunks.length = 0;
    this.bytes = 0;
    this.channel.bodyDropped();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Chunk> {
    return this;
  }
}
