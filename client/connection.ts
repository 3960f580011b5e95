// One pooled connection: a socket, a ResponseParser and at most one exchange in flight.
// Socket and parser events are methods bound once per connection, never per request.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ResponseParser } from '../parser/index.ts';
import type { ParseErrorShape, ResponseHead } from '../parser/types.ts';
import {
  ClientError, toClientError,
  ERR_CONNECT_TIMEOUT, ERR_IDLE_TIMEOUT, ERR_INVALID_BODY, ERR_PREMATURE_CLOSE, ERR_PROTOCOL, ERR_SOCKET, ERR_TIMEOUT,
  ERR_UNEXPECTED_UPGRADE, ERR_PROXY, ERR_TLS,
} from './errors.ts';
import { findHeader, serialiseHead } from './request.ts';
import { openTunnel } from './proxy.ts';
import type { Exchange } from './exchange.ts';
import type { Pool } from './pool.ts';

export const CONNECTING = 0;
export const IDLE = 1;
export const BUSY = 2;
export const CLOSED = 3;

/** Bodies up to this size go out in the same write as the head. */
const COALESCE_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Bytes of a response kept before its final head, for the obs-fold retry. */
const MAX_HEAD_RETAINED = 64 * 1024;
/** Heads of one response (1xx and final) that may use obs-fold. */
const MAX_UNFOLDS = 4;

/**
 * How long to keep the connection idle: the request's `keepalive`, but shorter than a
 * `Keep-Alive: timeout=N` the server announced, so it is not reused just as the server
 * drops it.
 */
export function keepaliveFor(keepalive: number, header: string | undefined): number {
  if (header === undefined) return keepalive;
  const m = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(header);
  if (m === null) return keepalive;
  const hint = Number(m[1]) * 1000;
  return Math.min(keepalive, hint - Math.min(1000, hint / 2));
}

export class Connection {
  readonly pool: Pool;
  socket: net.Socket | null;
  /** The raw proxy socket while a CONNECT tunnel is being set up. */
  tunnel: net.Socket | null;
  readonly parser: ResponseParser;
  state: number;
  ex: Exchange | null;
  /** An exchange retried on this fresh connection; it goes first once connected. */
  reserved: Exchange | null;
  served: number;
  /** The current exchange runs on a connection that carried an earlier one. */
  reused: boolean;
  lastActivity: number;
  idleSince: number;
  keepaliveMs: number;
  connectDeadline: number;
  /** Reading is paused for a slow consumer; `leftover` holds the unparsed rest of the last chunk. */
  paused: boolean;
  leftover: Buffer | null;
  eof: boolean;
  messageDone: boolean;
  informational: boolean;
  trailers: string[] | null;
  responseKeepAlive: boolean;
  /** Bytes of the response received before its final head, kept to retry a head with obs-fold. */
  headBuf: Buffer | null;
  finalHeadSeen: boolean;
  /** Waiting for the rest of a head that uses obs-fold. */
  foldPending: boolean;
  /** No more unfolding for this response (its head outgrew what is kept). */
  foldFixed: boolean;
  /** Bytes at the start of `headBuf` already rewritten by unfold(): a later fold must be past them. */
  foldedTo: number;
  /** Rewrites done for this response (each parses it again from the start: bounded). */
  unfolds: number;
  upgradeSeen: boolean;
  referenced: boolean;
  /** Counted by the pool as being opened. */
  pending: boolean;
  drainWaiter: (() => void) | null;
  /** The body held back until the server answers `Expect: 100-continue` (or the wait ends). */
  continueTimer: ReturnType<typeof setTimeout> | null;

  constructor(pool: Pool) {
    this.pool = pool;
    this.socket = null;
    this.tunnel = null;
    this.parser = new ResponseParser(this);
    this.state = CONNECTING;
    this.ex = null;
    this.reserved = null;
    this.served = 0;
    this.reused = false;
    this.lastActivity = 0;
    this.idleSince = 0;
    this.keepaliveMs = 0;
    this.connectDeadline = Infinity;
    this.paused = false;
    this.leftover = null;
    this.eof = false;
    this.messageDone = false;
    this.informational = false;
    this.trailers = null;
    this.responseKeepAlive = false;
    this.headBuf = null;
    this.finalHeadSeen = false;
    this.foldPending = false;
    this.foldFixed = false;
    this.foldedTo = 0;
    this.unfolds = 0;
    this.upgradeSeen = false;
    this.referenced = true;
    this.pending = true;
    this.drainWaiter = null;
    this.continueTimer = null;
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.onDrain = this.onDrain.bind(this);
    this.onConnected = this.onConnected.bind(this);
  }

  // ---- connecting ----

  /** Opens the socket (TCP, TLS, or through a proxy). `connectTimeout` of 0 means none. */
  connect(connectTimeout: number): void {
    const pool = this.pool;
    this.connectDeadline = connectTimeout > 0 ? performance.now() + connectTimeout : Infinity;
    if (pool.proxy !== null && pool.https) {
      this.tunnel = openTunnel(pool.proxy, pool.authority, pool.proxyAuth, (err, raw) => {
        this.tunnel = null;
        if (this.state === CLOSED) {
          raw?.destroy();
          return;
        }
        if (err !== null) {
          this.connectFailed(toClientError(err, ERR_PROXY));
          return;
        }
        try {
          this.attach(tls.connect({ ...pool.tlsOptions(), socket: raw! }), 'secureConnect');
        } catch (e) {
          raw!.destroy();
          this.connectFailed(toClientError(e, ERR_SOCKET));
        }
      });
      return;
    }
    if (pool.https) {
      this.attach(tls.connect(pool.tlsOptions()), 'secureConnect');
    } else if (pool.proxy !== null) {
      this.attach(net.connect({ host: pool.proxyHost, port: pool.proxyPort }), 'connect');
    } else {
      this.attach(net.connect({ host: pool.host, port: pool.port }), 'connect');
    }
  }

  private attach(socket: net.Socket, readyEvent: string): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.once(readyEvent, this.onConnected);
    if (readyEvent === 'secureConnect') {
      socket.on('session', (session: Buffer) => {
        this.pool.session = session;
      });
    }
  }

  private onConnected(): void {
    if (this.state !== CONNECTING) return;
    this.socket!.setNoDelay(true);
    this.state = IDLE;
    this.pool.connected(this);
  }

  private connectFailed(err: Error & { code: string }): void {
    if (this.state !== CONNECTING) return;
    // Fail the waiting exchange first, so closing does not open a replacement for it.
    this.pool.connectFailed(this, err);
    this.destroy();
  }

  // ---- sending ----

  /** Sends `ex` on this (idle, connected) connection. */
  assign(ex: Exchange): void {
    const socket = this.socket!;
    this.state = BUSY;
    this.ex = ex;
    this.reused = this.served > 0;
    ex.conn = this;
    ex.beginAttempt();
    if (!this.referenced) {
      socket.ref();
      this.referenced = true;
    }
    const parser = this.parser;
    parser.reset();
    parser.requestMethod = ex.method;
    this.headBuf = null;
    this.finalHeadSeen = false;
    this.foldPending = false;
    this.foldFixed = false;
    this.foldedTo = 0;
    this.unfolds = 0;
    this.upgradeSeen = false;
    this.lastActivity = performance.now();
    const pool = this.pool;
    const url = ex.url;
    const target = pool.absoluteForm ? url.href : url.pathname + url.search;
    const head = serialiseHead(
      ex.method, target, ex.callerHost ? '' : url.host, ex.headers,
      pool.absoluteForm ? ex.defaults + pool.proxyAuth : ex.defaults, ex.framing(),
    );
    const body = ex.body;
    if ((body !== null || ex.bodyStream !== null) && expectsContinue(ex.headers)) {
      // RFC 9110 10.1.1: the head goes alone; the body follows a 100 Continue, or the
      // wait's end. A final status first means the body is never sent.
      socket.write(head, 'latin1');
      this.continueTimer = setTimeout(sendHeldBody, EXPECT_CONTINUE_WAIT, this, ex);
      this.continueTimer.unref();
      return;
    }
    if (body === null) {
      socket.write(head, 'latin1');
    } else if (body.length <= COALESCE_LIMIT) {
      const buf = Buffer.allocUnsafe(head.length + body.length);
      buf.write(head, 0, 'latin1');
      body.copy(buf, head.length);
      socket.write(buf);
    } else {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
    }
    if (ex.bodyStream === null) ex.requestSent = true;
    else void this.pumpBody(ex);
  }

  /** Sends the body held for a 100 Continue, once: on the 100 or when the wait ends. */
  sendBody(ex: Exchange): void {
    if (this.continueTimer === null || this.ex !== ex || this.state === CLOSED) return;
    this.endContinueWait();
    if (ex.body !== null) {
      this.socket!.write(ex.body);
      ex.requestSent = true;
    } else {
      void this.pumpBody(ex);
    }
  }

  /**
   * Ends the wait for 100 Continue, if any. Without sendBody() (a final status came, or
   * the connection closed) the held body is never sent, so the connection closes after
   * this response.
   */
  private endContinueWait(): void {
    if (this.continueTimer === null) return;
    clearTimeout(this.continueTimer);
    this.continueTimer = null;
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }

  private onDrain(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    if (w !== null) w();
  }

  /** Streams a request body, chunked unless the caller gave a Content-Length, with backpressure. */
  private async pumpBody(ex: Exchange): Promise<void> {
    const chunked = ex.userLength < 0;
    let sent = 0;
    try {
      for await (const c of ex.bodyStream!) {
        if (this.ex !== ex) return;
        const buf = typeof c === 'string' ? Buffer.from(c, 'utf8') : (c as Uint8Array);
        if (!(buf instanceof Uint8Array)) throw new ClientError(ERR_INVALID_BODY, 'body stream yielded a value that is not a string or bytes');
        if (buf.length === 0) continue;
        sent += buf.length;
        if (!chunked && sent > ex.userLength) throw new ClientError(ERR_INVALID_BODY, 'body is longer than its Content-Length');
        const s = this.socket!;
        let ok: boolean;
        if (chunked) {
          s.cork();
          s.write(buf.length.toString(16) + '\r\n', 'latin1');
          s.write(buf);
          ok = s.write('\r\n', 'latin1');
          s.uncork();
        } else {
          ok = s.write(buf);
        }
        this.lastActivity = performance.now();
        if (!ok) {
          await this.waitDrain();
          if (this.ex !== ex) return;
        }
      }
      if (this.ex !== ex) return;
      if (!chunked && sent !== ex.userLength) throw new ClientError(ERR_INVALID_BODY, 'body is shorter than its Content-Length');
      if (chunked) this.socket!.write('0\r\n\r\n', 'latin1');
      ex.requestSent = true;
    } catch (err) {
      if (this.ex !== ex) return;
      this.ex = null;
      ex.conn = null;
      this.destroy();
      ex.fail(toClientError(err, ERR_INVALID_BODY));
    }
  }

  // ---- receiving ----

  private onData(buf: Buffer): void {
    this.lastActivity = performance.now();
    const ex = this.ex;
    if (ex === null) {
      // Bytes nobody asked for (an idle connection, or after a failure): the stream is unusable.
      this.destroy();
      return;
    }
    ex.responseStarted = true;
    if (!this.finalHeadSeen && !this.foldFixed) {
      this.headBuf = this.headBuf === null ? buf : Buffer.concat([this.headBuf, buf]);
      if (this.headBuf.length > MAX_HEAD_RETAINED && !this.foldPending) {
        // Endless 1xx or a huge head: stop keeping bytes (no unfolding retry for this response).
        this.headBuf = null;
        this.foldFixed = true;
      } else if (this.foldPending) {
        this.unfold();
        return;
      }
    }
    if (this.paused) {
      this.leftover = this.leftover === null ? buf : Buffer.concat([this.leftover, buf]);
      this.socket!.pause();
      return;
    }
    this.feed(buf);
  }

  private feed(input: Buffer): void {
    const parser = this.parser;
    let buf = input;
    for (;;) {
      const n = parser.execute(buf);
      if (this.state === CLOSED) return;
      if (this.messageDone) {
        this.complete(n < buf.length);
        return;
      }
      if (parser.error) {
        if (parser.error.code === 'HPE_OBS_FOLD' && !this.finalHeadSeen && !this.foldFixed) this.unfold();
        else this.protocolError(parser.error);
        return;
      }
      if (parser.upgraded) {
        this.failExchange(new ClientError(ERR_UNEXPECTED_UPGRADE, 'server switched protocols (101) on a plain request'));
        return;
      }
      if (n >= buf.length) return;
      buf = buf.subarray(n);
      if (this.paused) {
        this.leftover = buf;
        this.socket!.pause();
        return;
      }
      parser.resume();
    }
  }

  /**
   * The strict parser refuses obs-fold (RFC 9112 5.2); a client may instead replace each
   * fold with SP. Once the head holding the fold is complete, rewrites the response so
   * far up to its end and parses it again. Each head may need this (a 1xx and the final
   * one); a fold error inside what was already rewritten is final.
   */
  private unfold(): void {
    const data = this.headBuf!;
    const from = this.parser.error !== null ? this.parser.error.offset : 0;
    if (from < this.foldedTo || this.unfolds === MAX_UNFOLDS) {
      this.protocolError(this.parser.error!);
      return;
    }
    const end = data.indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
    if (end === -1) {
      if (data.length > MAX_HEAD_RETAINED) this.protocolError(this.parser.error!);
      else this.foldPending = true;
      return;
    }
    const headEnd = end + 2;
    const text = unfoldHead(data.toString('latin1', 0, headEnd));
    const fixed = Buffer.concat([Buffer.from(text, 'latin1'), data.subarray(headEnd)]);
    this.foldPending = false;
    this.foldedTo = text.length;
    this.unfolds++;
    // Parser offsets count from the start of `fixed`: keep collecting after it.
    this.headBuf = fixed;
    const parser = this.parser;
    parser.reset();
    parser.requestMethod = this.ex!.method;
    this.feed(fixed);
  }

  onHead(head: ResponseHead): void {
    const ex = this.ex;
    if (ex === null) return;
    const status = head.statusCode;
    if (status < 200 && !head.upgrade) {
      // 1xx informational: skipped, the final response follows. A 100 releases a held body.
      // (A 101 that is no switch, in an HTTP/1.0 response, is one of them: RFC 9110 15.2.)
      this.informational = true;
      if (status === 100 && this.continueTimer !== null) this.sendBody(ex);
      return;
    }
    this.endContinueWait();
    this.finalHeadSeen = true;
    this.headBuf = null;
    if (status === 101) {
      this.upgradeSeen = true;
      return;
    }
    this.responseKeepAlive = head.keepAlive;
    if (!ex.onHead(head)) {
      // The exchange failed on this head (limits, redirects): it no longer owns the connection.
      if (this.ex === ex) {
        this.ex = null;
        ex.conn = null;
        this.destroy();
      }
      this.parser.pause();
    }
  }

  onBody(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null) return;
    if (!ex.onBody(chunk)) this.pauseReading();
  }

  onComplete(trailers: string[] | null): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    if (this.ex === null || this.upgradeSeen) return;
    this.messageDone = true;
    this.trailers = trailers;
    // Stop here: the exchange is finished outside the parser's loop.
    this.parser.pause();
  }

  /** The response ended: back to the pool (before the exchange resolves) or closed. */
  private complete(extraBytes: boolean): void {
    const ex = this.ex!;
    this.ex = null;
    ex.conn = null;
    this.messageDone = false;
    this.served++;
    const trailers = this.trailers;
    this.trailers = null;
    const keepaliveMs = keepaliveFor(ex.keepalive, ex.respHeaders['keep-alive']);
    if (!extraBytes && this.responseKeepAlive && ex.requestSent && keepaliveMs > 0 && !this.eof) {
      this.keepaliveMs = keepaliveMs;
      this.paused = false;
      this.leftover = null;
      // Idle sockets keep flowing so a close by the server is seen at once.
      if (this.socket!.isPaused()) this.socket!.resume();
      this.pool.release(this);
    } else {
      this.destroy();
    }
    ex.onComplete(trailers);
  }

  pauseReading(): void {
    if (this.paused || this.state === CLOSED) return;
    this.paused = true;
    this.parser.pause();
  }

  resumeReading(): void {
    if (!this.paused || this.state === CLOSED) return;
    this.paused = false;
    this.lastActivity = performance.now();
    this.parser.resume();
    // Feed what was held back; an empty feed lets the parser finish a message whose
    // last body byte was delivered just before the pause.
    const rest = this.leftover ?? EMPTY;
    this.leftover = null;
    this.feed(rest);
    if (this.state === CLOSED || this.paused || this.ex === null) return;
    if (this.eof) {
      this.handleEof();
      return;
    }
    this.socket!.resume();
  }

  private protocolError(err: ParseErrorShape): void {
    this.failExchange(new ClientError(ERR_PROTOCOL, `invalid response: ${err.reason} (${err.code} at byte ${err.offset})`, err, err.code));
  }

  private onEnd(): void {
    this.eof = true;
    if (this.paused && this.leftover !== null) return; // handled once the consumer catches up
    this.handleEof();
  }

  private handleEof(): void {
    const ex = this.ex;
    if (ex === null || this.state !== BUSY) {
      this.destroy();
      return;
    }
    if (!ex.responseStarted) {
      this.failExchange(new ClientError(ERR_PREMATURE_CLOSE, 'connection closed before a response arrived'));
      return;
    }
    const err = this.parser.finish();
    if ((this.state as number) === CLOSED) return;
    if (this.messageDone) {
      this.complete(false);
      return;
    }
    if (err) {
      this.failExchange(new ClientError(ERR_PREMATURE_CLOSE, `connection closed mid-response: ${err.reason}`, err, err.code));
    } else {
      this.failExchange(new ClientError(ERR_PREMATURE_CLOSE, 'connection closed mid-response'));
    }
  }

  private onError(err: Error): void {
    if (this.state === CONNECTING) {
      this.connectFailed(toClientError(err, this.pool.https ? ERR_TLS : ERR_SOCKET));
      return;
    }
    this.failExchange(toClientError(err, ERR_SOCKET));
  }

  private onClose(): void {
    if (this.state === CONNECTING) {
      this.connectFailed(new ClientError(ERR_PREMATURE_CLOSE, 'connection closed while connecting'));
      return;
    }
    if (this.ex !== null) this.failExchange(new ClientError(ERR_PREMATURE_CLOSE, 'connection closed before the response completed'));
    else this.destroy();
  }

  /** Fails (or, once, retries on a fresh connection) the current exchange and closes. */
  failExchange(err: Error & { code: string }, allowRetry = true): void {
    const ex = this.ex;
    this.ex = null;
    this.destroy();
    if (ex === null) return;
    ex.conn = null;
    if (allowRetry && this.reused && !ex.responseStarted && ex.retryable()) {
      ex.retried = true;
      this.pool.retry(ex);
    } else {
      ex.fail(err);
    }
  }

  /** The exchange gave up the connection (timeout, abort, limit): close it. */
  drop(ex: Exchange): void {
    if (this.ex === ex) this.ex = null;
    this.destroy();
  }

  /** Closes the socket; bookkeeping is synchronous so the pool can reuse the slot at once. */
  destroy(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.parser.pause();
    this.leftover = null;
    this.endContinueWait();
    this.pool.remove(this);
    this.socket?.destroy();
    this.tunnel?.destroy();
    this.onDrain();
  }

  // ---- timers ----

  /** Goes idle in the pool: unreferenced so an idle pool never keeps the process alive. */
  makeIdle(now: number): void {
    this.state = IDLE;
    this.idleSince = now;
    if (this.referenced) {
      this.socket!.unref();
      this.referenced = false;
    }
  }

  /**
   * Is the idle socket still usable: not ended or destroyed by the peer, and within its
   * keep-alive time (the coarse tick may not have closed it yet, and past a server's
   * announced timeout the server may be closing it right now)?
   */
  alive(now: number): boolean {
    const s = this.socket;
    return this.state === IDLE && s !== null && !this.eof && !s.destroyed && s.writable && s.readable && now - this.idleSince < this.keepaliveMs;
  }

  tick(now: number): void {
    const state = this.state;
    if (state === BUSY) {
      const ex = this.ex;
      if (ex === null) return;
      if (now >= ex.deadline) ex.abort(new ClientError(ERR_TIMEOUT, 'request timed out'));
      else if (!this.paused && ex.idleTimeout > 0 && now - this.lastActivity >= ex.idleTimeout) {
        ex.abort(new ClientError(ERR_IDLE_TIMEOUT, `no data received for ${ex.idleTimeout} ms`));
      }
    } else if (state === IDLE) {
      if (now - this.idleSince >= this.keepaliveMs) this.destroy();
    } else if (state === CONNECTING) {
      if (now >= this.connectDeadline) this.connectFailed(new ClientError(ERR_CONNECT_TIMEOUT, 'connect timed out'));
    }
  }
}

/**
 * Replaces each obs-fold (OWS CRLF RWS, RFC 9112 5.2) with one SP. One pass in linear
 * time: a backtracking pattern such as /[ \t]*\r\n[ \t]+/ is quadratic in a run of
 * blanks, which a hostile server can fill a 64 KiB head with.
 */
export function unfoldHead(text: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const crlf = text.indexOf('\r\n', from);
    if (crlf === -1) return out + text.slice(from);
    let next = crlf + 2;
    if (!isBlank(text.charCodeAt(next))) {
      out += text.slice(from, next);
      from = next;
      continue;
    }
    while (isBlank(text.charCodeAt(next))) next++;
    let end = crlf;
    while (end > from && isBlank(text.charCodeAt(end - 1))) end--;
    out += text.slice(from, end) + ' ';
    from = next;
  }
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Ms to wait for 100 Continue before sending the body anyway (as curl does). */
const EXPECT_CONTINUE_WAIT = 1000;

function sendHeldBody(conn: Connection, ex: Exchange): void {
  conn.sendBody(ex);
}

/** The caller's headers carry `Expect: 100-continue`. */
function expectsContinue(headers: string[]): boolean {
  const i = findHeader(headers, 'expect');
  return i !== -1 && headers[i + 1]!.trim().toLowerCase() === '100-continue';
}
