// One WebSocket connection over any duplex byte stream (net.Socket, tls.TLSSocket, or
// an in-memory Duplex), for either role. The HTTP handshake has already happened:
// server code calls acceptUpgrade() first, client code uses connect().
import type { Duplex } from 'node:stream';
import { Receiver, type ReceiverHandler } from './receiver.ts';
import { Sender } from './sender.ts';
import { Opcode, MAX_CONTROL_PAYLOAD } from './frame.ts';
import { CloseCode, isValidCloseCode, MAX_CLOSE_REASON_BYTES } from './close-codes.ts';
import { PerMessageDeflate, type DeflateParams, type PerMessageDeflateOptions } from './deflate.ts';
import type { WebSocketError } from './errors.ts';

/** Connection settings. Every field except `role` is optional. */
export interface WebSocketOptions {
  /** Which end we are: servers require masked frames from the peer, clients mask their own. */
  role: 'server' | 'client';
  /** Largest message (after decompression) in bytes; larger ones close with 1009. Default 4 MiB (4194304). */
  maxPayload?: number;
  /** Most frames one message may span; more close with 1009. Default `maxPayload / 64` (65536 for 4 MiB), at least 4096: a message at the size limit may come in 64-byte fragments. */
  maxFrames?: number;
  /** permessage-deflate parameters agreed in the handshake (`acceptUpgrade().deflate` / from connect()); null or absent = no compression. */
  deflate?: DeflateParams | null;
  /** Compression tuning (level, memLevel, threshold) when `deflate` is set. Defaults as in PerMessageDeflateOptions. */
  perMessageDeflate?: PerMessageDeflateOptions;
  /** Subprotocol agreed in the handshake, exposed as `protocol`. Default ''. */
  protocol?: string;
  /** `send()` returns false once `bufferedAmount` reaches this many bytes. Default 16384. */
  highWaterMark?: number;
  /**
   * Close with 1001 'idle timeout' after this many ms without traffic (bytes received or
   * messages sent); with heartbeats, without a message received (pongs keep a peer
   * alive, not active). Checked on a timer shared by every connection with the same
   * settings: every quarter of idleTimeout, or once per `heartbeatInterval` with
   * heartbeats (idleTimeout is then rounded up to whole intervals). The close comes at
   * most one check late, never early. 0 = never. Default 0.
   */
  idleTimeout?: number;
  /**
   * Heartbeats: every this many ms (one timer shared by every connection with the same
   * setting), a peer that sent nothing during the whole interval just past is pinged,
   * whatever this side sent meanwhile: the ping follows 1 to 2 intervals of silence. If
   * nothing arrives during the interval after the ping either, the socket is destroyed
   * (onClose gets 1006). 0 = off. Default 0.
   */
  heartbeatInterval?: number;
  /** How long to wait for the peer's close frame or TCP close before destroying the socket, in ms. Default 10000. */
  closeTimeout?: number;
  /** A complete message; text is a UTF-8-validated Buffer. It may view the socket chunk (copy before changing it); it stays valid after the call, also with `feed()`. Default: ignore. */
  onMessage?: (data: Buffer, isBinary: boolean) => void;
  /** A ping arrived (the pong is already queued). Default: ignore. */
  onPing?: (data: Buffer) => void;
  /** A pong arrived (solicited or not). Default: ignore. */
  onPong?: (data: Buffer) => void;
  /** Once, when TCP is closed: peer's close code, 1005 (none given) or 1006 (no close frame). Default: ignore. */
  onClose?: (code: number, reason: string) => void;
  /** The peer broke the protocol or a limit; the close frame with `err.closeCode` is on its way. Default: ignore. */
  onError?: (err: WebSocketError) => void;
  /** The socket's write buffer drained (after send() returned false). Default: ignore. */
  onDrain?: () => void;
  /**
   * The owner of the socket reads it and hands each chunk to `feed()`: no 'data'
   * listener is added (e.g. a socket read with node:net's `onread` option into one
   * shared buffer). Pausing on backpressure still goes through socket.pause()/resume().
   * Default false.
   */
  externalRead?: boolean;
}

/** Per-send options. */
export interface SendOptions {
  /** Send as binary (opcode 2) or text (opcode 1). Default: binary for Buffers, text for strings. */
  binary?: boolean;
  /** Compress when permessage-deflate was negotiated and the message reaches the threshold. Default true. */
  compress?: boolean;
  /** Last fragment of the message. `fin: false` starts/continues a fragmented message. Default true. */
  fin?: boolean;
}

export const DEFAULT_MAX_PAYLOAD = 4 * 1024 * 1024;
/** The least default `maxFrames`. */
export const DEFAULT_MAX_FRAMES = 4096;

/**
 * Default frame limit for a message limit: fragments of 64 bytes or more are never too
 * many (test suites send a 4 MiB message in 64-byte fragments); what the limit guards
 * against is the bookkeeping of many tiny fragments, a few hundred bytes each.
 */
export function defaultMaxFrames(maxPayload: number): number {
  return Math.max(DEFAULT_MAX_FRAMES, Math.ceil(maxPayload / 64));
}

export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

const EMPTY = Buffer.alloc(0);
// flags: close frames, and what happened since the last heartbeat tick.
const CLOSE_SENT = 1;
const CLOSE_RECEIVED = 2;
const HEARD = 4; // bytes from the peer
const HEARD_MESSAGE = 8; // a message from the peer
const SENT = 16; // a message sent
const AWAITING_PONG = 32; // a heartbeat ping is out and nothing has arrived since
const INPUT_PAUSED = 64; // reading stopped while a message inflates: the peer cannot be heard
const PING_HELD = 128; // a tick found the heartbeat ping still queued behind a compression
const TRAFFIC = HEARD | HEARD_MESSAGE | SENT;
const kWebSocket = Symbol('websocket');
function noop(): void {}

type SocketWithWs = Duplex & { [kWebSocket]?: WebSocket };

export class WebSocket implements ReceiverHandler {
  /** The underlying stream. */
  readonly socket: Duplex;
  readonly isServer: boolean;
  /** Negotiated subprotocol, '' when none. */
  readonly protocol: string;
  /** 1 open, 2 closing, 3 closed. */
  readyState = OPEN;
  onMessage: (data: Buffer, isBinary: boolean) => void;
  onPing: (data: Buffer) => void;
  onPong: (data: Buffer) => void;
  onClose: (code: number, reason: string) => void;
  onError: (err: WebSocketError) => void;
  onDrain: () => void;

  private readonly receiver: Receiver;
  private readonly sender: Sender;
  private readonly pmd: PerMessageDeflate | null;
  private readonly highWaterMark: number;
  private readonly closeTimeout: number;
  /** The shared timer this connection's heartbeats and idle timeout tick on; null when both are off. */
  private readonly beats: BeatGroup | null;
  private closeCode: number = CloseCode.ABNORMAL;
  private closeReason = '';
  /** Close frames sent/received, and the traffic since the last heartbeat tick (see the flag constants). */
  private flags = 0;
  /** Ticks of the beat group without traffic that counts for the idle timeout. */
  private quietTicks = 0;
  private closeTimer: NodeJS.Timeout | null = null;
  /** The pong owed for the latest ping while the peer reads nothing (sent on 'drain'). */
  private pendingPong: Buffer | null = null;

  /**
   * Take over `socket` after a completed handshake. `head` holds bytes already read
   * past the HTTP head (the start of the first frames); they are processed on a later
   * turn of the event loop, after the caller had the chance to set handlers.
   */
  constructor(socket: Duplex, options: WebSocketOptions, head?: Buffer) {
    this.socket = socket;
    this.isServer = options.role === 'server';
    this.protocol = options.protocol ?? '';
    this.onMessage = options.onMessage ?? noop;
    this.onPing = options.onPing ?? noop;
    this.onPong = options.onPong ?? noop;
    this.onClose = options.onClose ?? noop;
    this.onError = options.onError ?? noop;
    this.onDrain = options.onDrain ?? noop;
    this.highWaterMark = options.highWaterMark ?? 16384;
    this.closeTimeout = options.closeTimeout ?? 10000;
    this.pmd = options.deflate ? new PerMessageDeflate(options.deflate, this.isServer, options.perMessageDeflate) : null;
    this.receiver = new Receiver(this, {
      isServer: this.isServer,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxFrames: options.maxFrames ?? defaultMaxFrames(options.maxPayload ?? DEFAULT_MAX_PAYLOAD),
      deflate: this.pmd,
    });
    this.sender = new Sender(socket, !this.isServer, this.pmd, this.receiver);

    const s = socket as SocketWithWs;
    s[kWebSocket] = this;
    const net = socket as Partial<import('node:net').Socket>;
    if (typeof net.setNoDelay === 'function') net.setNoDelay(true);
    // Heartbeats and the idle timeout tick on a timer shared by every WebSocket with the
    // same settings, not one per connection; the socket's own timeout would also count
    // this side's writes as life, so a peer that died while we kept sending would never
    // be pinged. The handshake counts as traffic both ways.
    const heartbeat = options.heartbeatInterval ?? 0;
    const idle = options.idleTimeout ?? 0;
    if (heartbeat > 0 || idle > 0) {
      this.flags = TRAFFIC;
      this.beats = joinBeats(this, heartbeat, idle);
    } else this.beats = null;
    if (options.externalRead !== true) socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    // An 'error' destroys an autoDestroy stream (net and tls sockets) by itself; when its
    // owner already listens (a server's logger), a second listener would only cost an array.
    const rs = (socket as { _readableState?: { autoDestroy?: boolean } })._readableState;
    if (rs?.autoDestroy !== true || socket.listenerCount('error') === 0) socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    // Bytes that came with the handshake wait one turn of the event loop (the socket
    // stays paused meanwhile), so code after `await connect()` can set handlers first.
    if (head !== undefined && head.length > 0) setImmediate(pushHead, this, head);
    else socket.resume();
    if (socket.destroyed) process.nextTick(socketOnCloseOf, this);
  }

  /** Negotiated permessage-deflate parameters, null when messages are not compressed. */
  get perMessageDeflate(): DeflateParams | null {
    const pmd = this.pmd;
    return pmd === null ? null : pmd.params;
  }

  private get closeFrameSent(): boolean {
    return (this.flags & CLOSE_SENT) !== 0;
  }

  private get closeFrameReceived(): boolean {
    return (this.flags & CLOSE_RECEIVED) !== 0;
  }

  /** Bytes accepted by send() and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.sender.queuedBytes;
  }

  /**
   * Send a message: strings as text, Buffers as binary (override with `binary`).
   * Returns false when `bufferedAmount` is at or above the high-water mark (wait for
   * onDrain) or when the connection is no longer open (the message is dropped).
   */
  send(data: string | Buffer | Uint8Array, options?: SendOptions): boolean {
    if (this.readyState !== OPEN) return false;
    let buf: string | Buffer;
    if (typeof data === 'string' || Buffer.isBuffer(data)) buf = data;
    else buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const binary = options?.binary ?? typeof data !== 'string';
    this.flags |= SENT;
    this.sender.sendData(buf, binary, options?.fin ?? true, options?.compress ?? true);
    return this.bufferedAmount < this.highWaterMark;
  }

  /** Send a ping (payload at most 125 bytes). */
  ping(data: string | Buffer = EMPTY): void {
    this.control(Opcode.PING, data);
  }

  /** Send an unsolicited pong (payload at most 125 bytes). */
  pong(data: string | Buffer = EMPTY): void {
    this.control(Opcode.PONG, data);
  }

  private control(opcode: number, data: string | Buffer): void {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (buf.length > MAX_CONTROL_PAYLOAD) throw new RangeError('control frame payload must be at most 125 bytes');
    if (this.readyState !== OPEN) return;
    this.sender.sendControl(opcode, buf);
  }

  /**
   * Start the closing handshake: send a close frame with `code` (default 1000) and
   * `reason` (at most 123 UTF-8 bytes), then wait for the peer's close frame. The
   * server closes TCP first; onClose fires when the socket is closed.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (!isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
    const r = Buffer.from(reason, 'utf8');
    if (r.length > MAX_CLOSE_REASON_BYTES) throw new RangeError('close reason must be at most 123 bytes');
    if (this.readyState === CLOSED || this.closeFrameSent) return;
    this.readyState = CLOSING;
    this.sendClose(code, r);
    if (this.closeFrameReceived) this.endTcp();
    else this.armCloseTimer();
  }

  /** Destroy the socket at once, without a closing handshake (onClose gets 1006). */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.socket.destroy();
  }

  private sendClose(code: number, reason: Buffer): void {
    this.flags |= CLOSE_SENT;
    let payload = EMPTY;
    if (code !== CloseCode.NO_STATUS) {
      payload = Buffer.allocUnsafe(2 + reason.length);
      payload.writeUInt16BE(code, 0);
      reason.copy(payload, 2);
    }
    if (!this.socket.destroyed) this.sender.sendControl(Opcode.CLOSE, payload);
  }

  /** Both close frames are out: the server closes TCP, the client waits for it. */
  private endTcp(): void {
    if (this.isServer) this.sender.end();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(closeTimerFired, this.closeTimeout, this);
    this.closeTimer.unref?.();
  }

  // ---- receiver events ----

  rxMessage(data: Buffer, isBinary: boolean, lent: boolean): void {
    this.flags |= HEARD_MESSAGE;
    this.deliver(data, isBinary, lent);
  }

  /** A complete message for the application; `lent`: data views a chunk the caller reuses. */
  protected deliver(data: Buffer, isBinary: boolean, lent: boolean): void {
    this.onMessage(lent ? Buffer.from(data) : data, isBinary);
  }

  rxPing(data: Buffer, lent: boolean): void {
    // Rare and at most 125 bytes: one copy serves the queued pong and the callback.
    if (lent) data = Buffer.from(data);
    if (this.readyState === OPEN) {
      // RFC 6455 5.5.3: a pong may answer only the most recent ping. While the peer reads
      // nothing, pongs do not pile up behind each other: the latest one waits for 'drain'.
      // A pong still held answers an older ping: this one replaces it, never follows it.
      if (this.socket.writableNeedDrain) this.pendingPong = data;
      else {
        this.pendingPong = null;
        this.sender.sendControl(Opcode.PONG, data);
      }
    }
    this.onPing(data);
  }

  /** @internal the socket drained: the pong held back, if any, goes out. */
  drained(): void {
    const pong = this.pendingPong;
    if (pong !== null) {
      this.pendingPong = null;
      if (this.readyState === OPEN) this.sender.sendControl(Opcode.PONG, pong);
    }
    this.onDrain();
  }

  rxPong(data: Buffer, lent: boolean): void {
    this.onPong(lent ? Buffer.from(data) : data);
  }

  rxClose(code: number, reason: string): void {
    this.flags |= CLOSE_RECEIVED;
    this.closeCode = code;
    this.closeReason = reason;
    this.readyState = CLOSING;
    // Echo the code; 1005 (no code received) is answered with an empty close frame.
    if (!this.closeFrameSent) this.sendClose(code, EMPTY);
    this.endTcp();
  }

  rxError(err: WebSocketError): void {
    this.readyState = CLOSING;
    if (!this.closeFrameSent) this.sendClose(err.closeCode, Buffer.from(err.message.slice(0, 100), 'utf8'));
    this.sender.end();
    this.armCloseTimer();
    this.onError(err);
  }

  rxResume(): void {
    this.flags &= ~INPUT_PAUSED;
    this.socket.resume();
  }

  /** @internal */
  socketClosed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    if (this.beats !== null) leaveBeats(this, this.beats);
    if (this.closeTimer !== null) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    this.receiver.stop();
    this.pmd?.close();
    this.onClose(this.closeCode, this.closeReason);
  }

  /**
   * @internal one tick of the beat group: close with 1001 once idleTimeout passed
   * without traffic that counts; ping a peer that sent nothing since the last tick, and
   * drop it (1006) when it sent nothing since the ping either.
   */
  heartbeat(): void {
    const group = this.beats;
    if (this.readyState !== OPEN || group === null) return;
    const flags = this.flags;
    this.flags = flags & ~TRAFFIC;
    if (group.idleTicks > 0) {
      // A tick that saw traffic starts the count again: it may have come just before the
      // tick, so the quiet time is at least the ticks counted since.
      this.quietTicks = (flags & group.activity) !== 0 ? 0 : this.quietTicks + 1;
      if (this.quietTicks >= group.idleTicks) {
        this.timedOut(true);
        return;
      }
    }
    if (!group.pings) return;
    // While reading waits for an inflate (the threads may be busy), a pong would not be seen.
    if ((flags & (HEARD | INPUT_PAUSED)) !== 0) this.flags &= ~(AWAITING_PONG | PING_HELD);
    else if ((flags & AWAITING_PONG) !== 0) {
      // A ping still queued behind a compression has not reached the peer: no answer is
      // due yet. Once it is out, the peer has a whole interval from the tick that saw it go.
      if (this.sender.queuedBytes > 0) this.flags |= PING_HELD;
      else if ((flags & PING_HELD) !== 0) this.flags &= ~PING_HELD;
      else this.timedOut(false);
    }
    else {
      this.flags |= AWAITING_PONG;
      this.sender.sendControl(Opcode.PING, EMPTY);
    }
  }

  /**
   * The peer went quiet: idleTimeout passed (`idle`, closed with 1001) or a heartbeat
   * ping went unanswered (the socket is destroyed: 1006). Subclasses learn of it here.
   */
  protected timedOut(idle: boolean): void {
    if (idle) this.close(CloseCode.GOING_AWAY, 'idle timeout');
    else this.terminate();
  }

  /**
   * Hand over bytes read from the socket (with `externalRead`). The chunk is only
   * borrowed: the caller may overwrite it once feed() returns (a shared read buffer);
   * whatever must outlive the call is copied, and onMessage/onPing/onPong get their
   * own copies when their data would view it.
   */
  feed(chunk: Buffer): void {
    this.receive(chunk, true);
  }

  /** @internal bytes from the socket; `lent`: the caller reuses the chunk after the call. */
  receive(chunk: Buffer, lent = false): void {
    this.flags |= HEARD;
    const sender = this.sender;
    sender.beginBatch();
    let more = true;
    try {
      more = this.receiver.push(chunk, lent);
    } finally {
      // Replies to this chunk leave together, even if a handler threw.
      sender.endBatch();
    }
    if (!more) {
      this.flags |= INPUT_PAUSED;
      this.socket.pause();
    }
  }
}

/** The connection object returned by connect() and created for accepted upgrades. */
export type WebSocketConnection = WebSocket;

function wsOf(socket: Duplex): WebSocket {
  return (socket as SocketWithWs)[kWebSocket]!;
}

function socketOnData(this: Duplex, chunk: Buffer): void {
  wsOf(this).receive(chunk);
}

function socketOnEnd(this: Duplex): void {
  // The peer sent FIN: finish our side too (half-open sockets are not kept).
  this.end();
}

function socketOnClose(this: Duplex): void {
  wsOf(this).socketClosed();
}

function socketOnCloseOf(ws: WebSocket): void {
  ws.socketClosed();
}

function socketOnError(this: Duplex): void {
  // Socket errors (reset, EPIPE) end in 'close'; onClose reports 1006.
  this.destroy();
}

function socketOnDrain(this: Duplex): void {
  wsOf(this).drained();
}

/**
 * The WebSockets with the same heartbeatInterval and idleTimeout, ticked by one shared
 * interval: no timer per connection. With heartbeats it ticks once per heartbeatInterval;
 * with the idle timeout alone, four times per idleTimeout.
 */
class BeatGroup {
  readonly heartbeatInterval: number;
  readonly idleTimeout: number;
  /** Ping silent peers on each tick. */
  readonly pings: boolean;
  /** Quiet ticks before the idle close (0: no idle timeout). */
  readonly idleTicks: number;
  /** The flags that count as activity for the idle timeout: a message received with heartbeats, else traffic either way. */
  readonly activity: number;
  readonly members = new Set<WebSocket>();
  readonly timer: NodeJS.Timeout;

  constructor(heartbeat: number, idle: number) {
    this.heartbeatInterval = heartbeat;
    this.idleTimeout = idle;
    this.pings = heartbeat > 0;
    const period = heartbeat > 0 ? heartbeat : idle / 4;
    this.idleTicks = idle > 0 ? Math.ceil(idle / period) : 0;
    this.activity = heartbeat > 0 ? HEARD_MESSAGE : HEARD | SENT;
    this.timer = setInterval(beatAfterReads, period, this);
    this.timer.unref();
  }
}

/** The beat groups in use (one per distinct pair of settings: a handful at most). */
const beatGroups: BeatGroup[] = [];

function joinBeats(ws: WebSocket, heartbeat: number, idle: number): BeatGroup {
  for (const group of beatGroups) {
    if (group.heartbeatInterval === heartbeat && group.idleTimeout === idle) {
      group.members.add(ws);
      return group;
    }
  }
  const group = new BeatGroup(heartbeat, idle);
  beatGroups.push(group);
  group.members.add(ws);
  return group;
}

function leaveBeats(ws: WebSocket, group: BeatGroup): void {
  if (!group.members.delete(ws) || group.members.size > 0) return;
  clearInterval(group.timer);
  beatGroups.splice(beatGroups.indexOf(group), 1);
}

/**
 * The interval fires in the timers phase, before the poll phase reads what came in
 * meanwhile: after a stall of the event loop, a pong already waiting in the socket would
 * be missed and its peer dropped. Tick in the check phase, after those reads.
 */
function beatAfterReads(group: BeatGroup): void {
  setImmediate(tickBeats, group);
}

function tickBeats(group: BeatGroup): void {
  for (const ws of group.members) ws.heartbeat();
}

function pushHead(ws: WebSocket, head: Buffer): void {
  if (ws.readyState === CLOSED) return;
  ws.receive(head);
  if (!ws.socket.destroyed) ws.socket.resume();
}

function closeTimerFired(ws: WebSocket): void {
  ws.socket.destroy();
}
