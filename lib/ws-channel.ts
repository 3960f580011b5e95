// WebSocket channels: `asChannel(req, {...})` on an upgrade request answers the opening
// handshake, takes the socket over from the HTTP connection once every earlier
// pipelined request is answered, and speaks RFC 6455 on it. Importing this module (as
// lib/index.ts does) registers it with asChannel.
import type { Socket } from 'node:net';
import { CloseCode, isValidCloseCode } from '../websocket/close-codes.ts';
import type { PerMessageDeflateOptions, UpgradeRequest, WebSocketError } from '../websocket/index.ts';
import type { ChannelSocket } from './ws-open.ts';
import { setWebSocketChannelFactory, type Channel, type ChannelData, type ChannelOptions, type CloseStatus } from './channel.ts';
import { kRespond, errorResponse, type Exchange } from './connection.ts';
import type { Abortable } from './close-status.ts';
import { NO_LIST } from './timers.ts';
import { DrainWait } from './response-writer.ts';
import type { ServerContext } from './context.ts';
import type { Request, Response } from './types.ts';

/** Options of `asChannel` that apply to WebSocket channels only (HTTP channels ignore them). */
export interface WebSocketChannelSettings {
  /** WebSocket: largest message in bytes, after decompression; a bigger one closes the connection with 1009. Default 4 MiB (4194304). */
  maxMessageSize?: number;
  /** WebSocket: most frames one message may span; more close with 1009. Default `maxMessageSize / 64`, at least 4096 (65536 for 4 MiB). */
  maxFrames?: number;
  /** WebSocket: accept a client's permessage-deflate offer: true for the defaults, or the negotiation policy and compression tuning. Default false (off). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** WebSocket: subprotocols spoken; the first one the client offers that is listed here is chosen. Default none. */
  protocols?: readonly string[];
  /** WebSocket: choose a subprotocol from the client's offer (in its order); return one of them, or null for none. Overrides `protocols`. */
  selectProtocol?: (offered: string[], req: Request) => string | null | undefined;
  /** WebSocket: return false to refuse the upgrade with 403 (cross-site WebSocket hijacking protection); gets the Origin header, undefined when absent. Default: accept all. */
  verifyOrigin?: (origin: string | undefined, req: Request) => boolean;
  /** WebSocket: extra header lines for the 101 response, e.g. `{ 'Set-Cookie': 'a=b' }`. Default none. */
  upgradeHeaders?: Record<string, string>;
  /**
   * WebSocket: close with 1001 'idle timeout' (onClose status 'timeout') after this many
   * ms without a message from the client; when heartbeats are off, without any traffic
   * (bytes from the client or messages sent to it). Checked on a timer shared by every
   * channel with the same settings: every quarter of idleTimeout, or once per
   * `heartbeatInterval` when heartbeats are on (idleTimeout is then rounded up to whole
   * intervals); the close comes at most one check late, never early. 0 = never. Default 0.
   */
  idleTimeout?: number;
  /**
   * WebSocket: heartbeats. Every this many ms (one timer shared by every channel with the
   * same setting), a client that sent nothing during the whole interval just past is
   * pinged, whatever the server sent meanwhile: the ping follows 1 to 2 intervals of
   * silence. A client that sends nothing during the next interval either (no pong) is
   * dropped: onClose status 'timeout', code 1006. 0 = off. Default 0.
   */
  heartbeatInterval?: number;
  /** WebSocket: `send` returns false once `bufferedAmount` reaches this many bytes. Default 16384. */
  highWaterMark?: number;
  /** WebSocket: ms to wait for the client's answer to our close frame before dropping the socket. Default 10000. */
  closeTimeout?: number;
}

declare module './channel.ts' {
  // The WebSocket settings are accepted by asChannel next to the common options.
  interface ChannelOptions extends WebSocketChannelSettings {}
}

/** Buffer's utf8Slice (on every Node Buffer, untyped in @types/node): toString() without its argument parsing. */
interface Utf8Buffer extends Buffer {
  utf8Slice(start: number, end: number): string;
}

/** A WebSocket channel's onClose status for a close code received from the client. */
export function closeStatusOf(code: number): CloseStatus {
  switch (code) {
    case CloseCode.NORMAL:
      return 'normal';
    case CloseCode.GOING_AWAY:
      return 'going-away';
    default:
      return 'client-close';
  }
}

const DEFAULT_HIGH_WATER_MARK = 16384;

// Channel states.
const PENDING = 0; // returned by the handler or not yet; no handshake yet
const OPEN = 1;
const CLOSED = 2;

// Who started the close.
const BY_PEER = 0;
const BY_APP = 1;
const BY_STOP = 2;
const BY_TIMEOUT = 3;
const BY_ERROR = 4;
const BY_FAULT = 5; // an application callback threw: closed with 1011
const DRAIN_POLLING = 1 << 5;
const SEND_WATCHED = 1 << 6; // a DrainWait on the wheel waits for the socket to drain

// The WebSocket stack (framer, handshake, permessage-deflate: a quarter of the server's
// code) loads with the first upgrade, so a server that never upgrades never compiles it.
type WsOpen = typeof import('./ws-open.ts');
let wsOpen: WsOpen | null = null;
let wsOpenLoading: Promise<WsOpen> | null = null;
function loadWsOpen(): Promise<WsOpen> {
  return (wsOpenLoading ??= import('./ws-open.ts').then((m) => (wsOpen = m)));
}

/**
 * A channel over a WebSocket connection. `send` sends a text message for a string and a
 * binary one for a Buffer; `onReceive` gets text as a string and binary as a Buffer;
 * `close(code, reason)` starts the closing handshake. onClose gets
 * `(channel, status, code, reason)`: status 'normal' / 'going-away' / 'client-close'
 * when the client closed (1000 / 1001 / other codes or a dropped connection),
 * 'server-close' after `close()`, 'going-away' when the server stops, 'timeout' for the
 * idle timeout, heartbeats and a client that reads nothing for the server's
 * `sendTimeout`, 'protocol-error' for a refused handshake or a frame that broke the
 * protocol or a limit (code 1002, 1007, 1009...), 'error' when onOpen, onReceive or
 * onPing threw (or rejected): the channel then closes with 1011.
 */
export class WebSocketChannel implements Channel, Abortable {
  readonly request: Request;
  /** Called with each message (text as string, binary as Buffer). Settable after creation. */
  onReceive: ((ch: WebSocketChannel, data: string | Buffer) => void) | null;
  /** Called with the payload of each ping from the client (the pong is sent already). */
  onPing: ((ch: WebSocketChannel, data: Buffer) => void) | null;
  /** Called exactly once when the channel closes. Settable after creation. */
  onClose: ((ch: WebSocketChannel, status: CloseStatus, code: number, reason: string) => void) | null;
  /** The close code once closed (1006 when the connection ended without a close frame); 0 while open. */
  closeCode = 0;
  /** The close reason the client sent, '' when none. */
  closeReason = '';
  private readonly options: ChannelOptions;
  /** state (bits 0-1), closedBy (bits 2-4), drainPolling (bit 5), send watched (bit 6): one word. */
  private bits = PENDING | (BY_PEER << 2);
  /** The request's exchange, until the handshake. */
  private ex: Exchange | null = null;
  /** The server's context (its error logger), from the moment a handler returned the channel. */
  private ctx: ServerContext | null = null;
  private ws: ChannelSocket | null = null;
  /** Messages and a close asked for before the handshake, replayed once open. */
  private early: EarlyMessages | null = null;
  private earlyClose: [number, string] | null = null;
  private sentCode = 0;
  private highWaterMark = DEFAULT_HIGH_WATER_MARK;
  private drainWaiters: Array<() => void> | null = null;

  private get state(): number {
    return this.bits & 3;
  }
  private set state(v: number) {
    this.bits = (this.bits & ~3) | v;
  }
  /** @internal who started the close. */
  get closedBy(): number {
    return (this.bits >> 2) & 7;
  }
  set closedBy(v: number) {
    this.bits = (this.bits & ~(7 << 2)) | (v << 2);
  }
  /** A look at bufferedAmount is scheduled for the next turn. */
  private get drainPolling(): boolean {
    return (this.bits & DRAIN_POLLING) !== 0;
  }
  private set drainPolling(v: boolean) {
    this.bits = v ? this.bits | DRAIN_POLLING : this.bits & ~DRAIN_POLLING;
  }

  constructor(req: Request, options: ChannelOptions) {
    this.request = req;
    this.options = options;
    this.onReceive = options.onReceive ?? null;
    this.onPing = options.onPing ?? null;
    this.onClose = options.onClose ?? null;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** The client's address (the request map's `remoteAddr`). */
  get remoteAddr(): string {
    return this.request.remoteAddr;
  }

  /** Always true: this channel speaks WebSocket. */
  get isWebSocket(): true {
    return true;
  }

  /** Open, or not yet opened (sends are held until the handshake). */
  get isOpen(): boolean {
    return this.state === PENDING || (this.state === OPEN && this.ws!.readyState === 1);
  }

  /** The subprotocol agreed in the handshake, '' when none. */
  get protocol(): string {
    return this.ws === null ? '' : this.ws.protocol;
  }

  /** Whether permessage-deflate is in use. */
  get compressed(): boolean {
    return this.ws !== null && this.ws.perMessageDeflate != null;
  }

  /** Bytes accepted by `send` and not yet handed to the operating system. */
  get bufferedAmount(): number {
    if (this.ws !== null) return this.ws.bufferedAmount;
    return this.early === null ? 0 : this.early.bytes;
  }

  /** True while `bufferedAmount` is at or above the high-water mark. */
  get needsDrain(): boolean {
    return this.state !== CLOSED && this.bufferedAmount >= this.highWaterMark;
  }

  /**
   * Send one message: text for a string, binary for a Buffer/Uint8Array (a response
   * map sends its body). With `close = true` the channel closes (1000) after it.
   * Returns false when the channel is closed (nothing sent) or when `bufferedAmount`
   * is over the high-water mark (the message is queued; wait with `drained()`).
   */
  send(data: ChannelData, close = false): boolean {
    if (this.state === CLOSED || (this.ws !== null && this.ws.readyState !== 1)) return false;
    const payload = messageOf(data);
    let ok: boolean;
    const ws = this.ws;
    if (ws === null) {
      if (this.earlyClose !== null) return false;
      const early = (this.early ??= { messages: [], bytes: 0 });
      early.messages.push(payload);
      early.bytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      // Held until the handshake: the same high-water mark applies.
      ok = !this.needsDrain;
    } else {
      ok = ws.send(payload);
      // The socket's buffer is full: the client has that long to take some of it.
      this.watchIfBackedUp(ws);
    }
    if (close) this.close();
    return ok;
  }

  /** Send a ping (payload at most 125 bytes); false when not open. */
  ping(data: string | Buffer = ''): boolean {
    if (this.ws === null || this.ws.readyState !== 1) return false;
    this.ws.ping(data);
    return true;
  }

  /**
   * Start the closing handshake with `code` (default 1000) and `reason` (at most 123
   * UTF-8 bytes); onClose follows when the client answered or `closeTimeout` passed.
   * False when already closing or closed.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): boolean {
    if (this.state === CLOSED) return false;
    const ws = this.ws;
    if (ws === null) {
      if (this.earlyClose !== null) return false;
      // Checked now, as an open connection's close() would: not later, inside the handshake.
      if (!isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
      if (Buffer.byteLength(reason) > 123) throw new RangeError('close reason must be at most 123 bytes');
      this.earlyClose = [code, reason];
      return true;
    }
    if (ws.readyState !== 1) return false;
    if (this.closedBy === BY_PEER) this.closedBy = BY_APP;
    this.sentCode = code;
    ws.close(code, reason);
    return true;
  }

  /** Resolves once `bufferedAmount` is below the high-water mark (or the channel closed). */
  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    const p = new Promise<void>((resolve) => (this.drainWaiters ??= []).push(resolve));
    this.socketDrained();
    return p;
  }

  // ---- server side ----

  /** @internal the handler returned this channel: answer the handshake when it is this request's turn. */
  [kRespond](ex: Exchange): void {
    if (this.ex !== null || this.state !== PENDING) throw new Error('a channel can answer only one request');
    this.ex = ex;
    this.ctx = ex.conn.ctx;
    if (ex.conn.first === ex) {
      this.upgrade();
      return;
    }
    // Earlier pipelined requests are still unanswered: the 101 must come after them.
    ex.abortee = this;
    ex.onTurn = onTurn;
  }

  /** @internal the exchanges before ours are answered. */
  upgrade(): void {
    const ex = this.ex!;
    ex.onTurn = null;
    if (ex.abortee === this) ex.abortee = null;
    if (this.state === CLOSED) return;
    if (ex.conn.ctx.stopping) {
      // Too late to open: a WebSocket accepted now would not get its 1001.
      this.abort('going-away');
      return;
    }
    const open = wsOpen;
    if (open === null) {
      // The first upgrade of the process waits for the WebSocket stack to load; meanwhile
      // a client that leaves or a stop() reaches this channel as the exchange's abortee.
      ex.abortee = this;
      loadWsOpen().then(
        () => {
          if (this.state === PENDING && ex.abortee === this) this.upgrade();
        },
        (err: unknown) => {
          if (this.state !== PENDING || ex.abortee !== this) return;
          ex.abortee = null;
          this.failUpgrade(ex, err);
        },
      );
      return;
    }
    const req = this.request;
    const o = withDefaults(this.options, ex.conn.ctx.websocket);
    let result;
    try {
      result = open.acceptUpgrade(upgradeRequestOf(req), {
        selectProtocol: o.selectProtocol === undefined ? undefined : (offered) => o.selectProtocol!(offered, req),
        protocols: o.protocols,
        verifyOrigin: o.verifyOrigin === undefined ? undefined : (origin) => o.verifyOrigin!(origin, req),
        perMessageDeflate: o.perMessageDeflate ?? false,
        headers: o.upgradeHeaders,
      });
    } catch (err) {
      this.failUpgrade(ex, err);
      return;
    }
    if (!result.ok) {
      ex.conn.settle(ex, closingResponse({ status: result.status, headers: lowerKeys(result.headers), body: result.reason + '\n' }));
      this.finish(result.status === 403 ? 'server-close' : 'protocol-error', CloseCode.ABNORMAL, result.reason);
      return;
    }
    // Reads go straight from the connection's read callback to the WebSocket through this
    // channel's read() (on the fast read path from a buffer shared by all connections and
    // reused after each read).
    const taken = ex.conn.detach(ex, this);
    if (taken === null) {
      // The client left (or the connection is closing) before its turn came.
      this.finish('client-close', CloseCode.ABNORMAL, '');
      return;
    }
    // The connection tells this channel (the socket's owner: read() and abort()) of
    // stop() and of the close, and keeps no exchange for it: neither does the channel.
    this.ex = null;
    const { socket, head } = taken;
    // The WebSocket answers FIN with FIN itself: one 'end' listener per socket, not an array of two.
    socket.removeAllListeners('end');
    socket.write(result.response);
    const ws = new open.ChannelSocket(socket, this, {
      role: 'server',
      deflate: result.deflate,
      protocol: result.protocol,
      perMessageDeflate: typeof o.perMessageDeflate === 'object' ? o.perMessageDeflate : undefined,
      maxPayload: o.maxMessageSize,
      maxFrames: o.maxFrames,
      highWaterMark: o.highWaterMark,
      // Heartbeats and the idle timeout run in the WebSocket, on one timer per setting;
      // it tells this channel through ChannelSocket.timedOut().
      idleTimeout: o.idleTimeout,
      heartbeatInterval: o.heartbeatInterval,
      closeTimeout: o.closeTimeout,
      externalRead: true,
    }, head);
    ws.onPing = wsOnPing;
    ws.onClose = wsOnClose;
    ws.onError = wsOnError;
    ws.onDrain = wsOnDrain;
    this.ws = ws;
    this.highWaterMark = o.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.state = OPEN;
    compactHeaders(req.headers as Record<string, unknown>);
    // A Host without a port equals serverName: one string for both.
    if (req.headers.host === req.serverName) req.headers.host = req.serverName;
    const early = this.early;
    this.early = null;
    if (early !== null) for (const m of early.messages) ws.send(m);
    const earlyClose = this.earlyClose;
    this.earlyClose = null;
    if (earlyClose !== null) this.close(earlyClose[0], earlyClose[1]);
    if (this.drainWaiters !== null) this.socketDrained();
    const onOpen = this.options.onOpen;
    if (onOpen !== undefined && this.state === OPEN) this.call(onOpen, this);
  }

  /** The handshake could not be answered (a throwing hook, the stack failing to load): 500, closed. */
  private failUpgrade(ex: Exchange, err: unknown): void {
    this.logError(err);
    ex.conn.settle(ex, closingResponse(errorResponse(500)));
    this.finish('error', CloseCode.ABNORMAL, '');
  }

  /** From the connection: the client left or the server stops (before the handshake), or the server stops (after). */
  abort(status: CloseStatus): void {
    if (this.state === OPEN) {
      if (status === 'going-away') this.goAway();
      return;
    }
    if (this.state !== PENDING) return;
    const ex = this.ex!;
    ex.onTurn = null;
    if (status === 'going-away') ex.conn.settle(ex, closingResponse({ status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }, body: 'Service Unavailable\n' }));
    else ex.conn.abandon(ex);
    this.finish(status, CloseCode.ABNORMAL, '');
  }

  /** The server is stopping: close with 1001. */
  private goAway(): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1) return;
    this.closedBy = BY_STOP;
    this.sentCode = CloseCode.GOING_AWAY;
    ws.close(CloseCode.GOING_AWAY, 'server stopping');
  }

  /** @internal a message; `lent`: data views a read buffer that is reused after this call. */
  received(data: Buffer, isBinary: boolean, lent: boolean): void {
    const f = this.onReceive;
    if (f === null) return;
    // The per-message path: no argument arrays, a Promise check only when one came back.
    try {
      const r = f(this, isBinary ? (lent ? Buffer.from(data) : data) : (data as Utf8Buffer).utf8Slice(0, data.length)) as unknown;
      if (r !== undefined && r instanceof Promise) r.catch((err) => this.fault(err));
    } catch (err) {
      this.fault(err);
    }
  }

  /**
   * @internal bytes read from the socket: the channel is the socket's owner for the
   * connection (no callable per connection).
   */
  read(buf: Buffer): void {
    const ws = this.ws;
    if (ws === null) return;
    ws.feed(buf);
    // Replies to what the client sent (pongs, an application's echoes) count as sends: a
    // client that floods without reading is cut off by sendTimeout too.
    this.watchIfBackedUp(ws);
  }

  /** @internal */
  pinged(data: Buffer): void {
    const f = this.onPing;
    if (f !== null) this.call(f, this, data);
  }

  /** @internal */
  failed(err: WebSocketError): void {
    this.closedBy = BY_ERROR;
    this.sentCode = err.closeCode;
  }

  /** @internal the socket emptied its buffer: the client is reading. */
  socketDrainEvent(): void {
    if ((this.bits & SEND_WATCHED) !== 0) this.unwatchSend();
    this.socketDrained();
  }

  /** After a write: the socket's buffer is full, so the client has `sendTimeout` to take some of it. */
  private watchIfBackedUp(ws: ChannelSocket): void {
    if ((this.bits & SEND_WATCHED) === 0 && (ws.socket as Socket).writableNeedDrain) this.watchSend();
  }

  /**
   * Put a DrainWait on the server's wheel: if the socket has not drained within
   * `sendTimeout`, the client is dropped. Only while a write waits (no cost otherwise).
   */
  private watchSend(): void {
    const ctx = this.ctx;
    const ws = this.ws;
    if (ctx === null || ws === null || this.state !== OPEN) return;
    const stall = new DrainWait(ws.socket as Socket, this);
    stalls.set(this, stall);
    this.bits |= SEND_WATCHED;
    const wheel = ctx.wheel;
    wheel.addActive(stall, wheel.touch() + ctx.sendTimeout);
  }

  private unwatchSend(): void {
    this.bits &= ~SEND_WATCHED;
    const stall = stalls.get(this);
    if (stall === undefined) return;
    stalls.delete(this);
    if (stall.timerList !== NO_LIST) this.ctx!.wheel.remove(stall);
  }

  /** @internal the client took none of the buffered bytes for `sendTimeout`: drop it (1006). */
  cutOffForSendTimeout(): void {
    this.bits &= ~SEND_WATCHED;
    stalls.delete(this);
    this.dropForTimeout();
  }

  /** Drop the connection without a close handshake (1006); onClose says 'timeout'. */
  private dropForTimeout(): void {
    const ws = this.ws;
    if (this.state !== OPEN || ws === null) return;
    this.timedOut(false);
    ws.terminate();
  }

  /**
   * @internal the WebSocket is about to close for idleTimeout (`idle`: with 1001) or drop
   * a client that missed a heartbeat (1006): onClose will say 'timeout'.
   */
  timedOut(idle: boolean): void {
    if (this.closedBy === BY_PEER) this.closedBy = BY_TIMEOUT;
    if (idle) this.sentCode = CloseCode.GOING_AWAY;
  }

  /** @internal */
  socketDrained(): void {
    const waiters = this.drainWaiters;
    if (waiters === null) return;
    if (this.needsDrain) {
      // 'drain' comes only when the socket itself went over its mark; bytes waiting for
      // compression (or for the handshake) go out without one: look again next turn.
      const ws = this.ws;
      if (ws !== null && !this.drainPolling) {
        if (!(ws.socket as Socket).writableNeedDrain) {
          this.drainPolling = true;
          setImmediate(pollDrain, this);
        } else if ((this.bits & SEND_WATCHED) === 0) this.watchSend(); // compressed bytes filled it
      }
      return;
    }
    this.drainWaiters = null;
    for (const w of waiters) w();
  }

  /** @internal */
  pollDrained(): void {
    this.drainPolling = false;
    this.socketDrained();
  }

  /** @internal the socket closed. */
  closed(code: number, reason: string): void {
    let status: CloseStatus;
    // A peer never sends 1006: it means no close frame arrived; report what we sent then.
    const received = code !== CloseCode.ABNORMAL;
    switch (this.closedBy) {
      case BY_APP:
        status = 'server-close';
        break;
      case BY_STOP:
        status = 'going-away';
        break;
      case BY_TIMEOUT:
        status = 'timeout';
        break;
      case BY_ERROR:
        status = 'protocol-error';
        break;
      case BY_FAULT:
        status = 'error';
        break;
      default:
        status = closeStatusOf(code);
    }
    if (!received && this.sentCode !== 0 && this.closedBy !== BY_PEER) code = this.sentCode;
    this.finish(status, code, reason);
  }

  private finish(status: CloseStatus, code: number, reason: string): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.closeCode = code;
    this.closeReason = reason;
    this.early = null;
    if ((this.bits & SEND_WATCHED) !== 0) this.unwatchSend();
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters !== null) for (const w of waiters) w();
    const f = this.onClose;
    if (f !== null) this.call(f, this, status, code, reason);
  }

  /** Run a user callback; a throw (or a rejection) is logged and closes the channel with 1011, never the process. */
  private call<A extends unknown[]>(f: (...args: A) => unknown, ...args: A): void {
    try {
      const r = f(...args);
      if (r instanceof Promise) r.catch((err) => this.fault(err));
    } catch (err) {
      this.fault(err);
    }
  }

  /**
   * An application callback failed: logged, and an open channel closes with 1011
   * (RFC 6455 7.4.1, an unexpected condition): the application's state for this
   * connection is unknown, and the client learns its message was not handled.
   */
  private fault(err: unknown): void {
    this.logError(err);
    const ws = this.ws;
    if (this.state !== OPEN || ws === null || ws.readyState !== 1) return;
    this.closedBy = BY_FAULT;
    this.sentCode = CloseCode.INTERNAL_ERROR;
    ws.close(CloseCode.INTERNAL_ERROR, 'internal error');
  }

  private logError(err: unknown): void {
    const ctx = this.ctx;
    if (ctx !== null) ctx.errorLogger(err, this.request);
    else console.error('httpkit: error in a WebSocket channel callback:', err);
  }
}

// Shared callbacks: `this` is the connection object, no closures per connection.
function wsOnPing(this: ChannelSocket, data: Buffer): void {
  this.channel.pinged(data);
}
function wsOnClose(this: ChannelSocket, code: number, reason: string): void {
  this.channel.closed(code, reason);
}
function wsOnError(this: ChannelSocket, err: WebSocketError): void {
  this.channel.failed(err);
}
function wsOnDrain(this: ChannelSocket): void {
  this.channel.socketDrainEvent();
}
/** Messages sent before the handshake, with their size in bytes (bufferedAmount until then). */
interface EarlyMessages {
  messages: Array<string | Buffer>;
  bytes: number;
}

/** The stalls armed now, by channel: a channel that never stalls carries no field for one. */
const stalls = new Map<WebSocketChannel, DrainWait>();

function pollDrain(ch: WebSocketChannel): void {
  ch.pollDrained();
}
function onTurn(ex: Exchange): void {
  const ch = ex.abortee;
  if (ch instanceof WebSocketChannel) ch.upgrade();
}

/** The channel's settings over the server's `websocket` defaults. */
function withDefaults(o: ChannelOptions, d: WebSocketChannelSettings | null): WebSocketChannelSettings {
  if (d === null) return o;
  return {
    maxMessageSize: o.maxMessageSize ?? d.maxMessageSize,
    maxFrames: o.maxFrames ?? d.maxFrames,
    perMessageDeflate: o.perMessageDeflate ?? d.perMessageDeflate,
    protocols: o.protocols ?? d.protocols,
    selectProtocol: o.selectProtocol ?? d.selectProtocol,
    verifyOrigin: o.verifyOrigin ?? d.verifyOrigin,
    upgradeHeaders: o.upgradeHeaders ?? d.upgradeHeaders,
    idleTimeout: o.idleTimeout ?? d.idleTimeout,
    heartbeatInterval: o.heartbeatInterval ?? d.heartbeatInterval,
    highWaterMark: o.highWaterMark ?? d.highWaterMark,
    closeTimeout: o.closeTimeout ?? d.closeTimeout,
  };
}

/** Header values every handshake repeats: one shared string each instead of one per connection. */
const COMMON_VALUES = new Map<string, string>(
  ['websocket', 'Upgrade', 'upgrade', 'keep-alive, Upgrade', '13', 'no-cache', 'permessage-deflate; client_max_window_bits', 'gzip, deflate, br', 'gzip, deflate, br, zstd'].map((v) => [v, v]),
);
/** Values this long may be slices of the head string (shorter ones are copies already). */
const SLICE_MIN = 13;

/**
 * The request map lives as long as its WebSocket, unlike the head it was parsed from.
 * Header values are slices of the whole head string, which each slice keeps alive:
 * long values become flat copies of their own, common ones shared strings.
 */
function compactHeaders(headers: Record<string, unknown>): void {
  for (const name in headers) {
    const v = headers[name];
    if (typeof v !== 'string') continue;
    const shared = COMMON_VALUES.get(v);
    if (shared !== undefined) headers[name] = shared;
    else if (v.length >= SLICE_MIN) headers[name] = flatCopy(v);
  }
}

/** A copy of `s` that shares no memory with it (parser strings are latin1; others stay as they are). */
function flatCopy(s: string): string {
  const c = Buffer.from(s, 'latin1').toString('latin1');
  return c === s ? c : s;
}

function upgradeRequestOf(req: Request): UpgradeRequest {
  return { method: req.requestMethod, headers: req.headers, httpVersion: req.protocol };
}

function messageOf(data: ChannelData): string | Buffer {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (typeof data !== 'object' || data === null) throw new TypeError('WebSocket channel data must be a string, Buffer or Uint8Array');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const body = (data as Response).body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body === null || body === undefined) return '';
  throw new TypeError('WebSocket channel data must be a string, Buffer or Uint8Array');
}

/** A refused upgrade closes the connection: what follows the request may be frames, not HTTP. */
function closingResponse(res: Response): Response {
  return { status: res.status, headers: { ...res.headers, connection: 'close' }, body: res.body };
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  for (const k of Object.keys(h)) out[k.toLowerCase()] = h[k]!;
  return out;
}

setWebSocketChannelFactory((req, options) => new WebSocketChannel(req, options));
