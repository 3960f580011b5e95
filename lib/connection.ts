// One connection: bytes in through the parser, request maps out to the handler,
// responses back in request order. All per-connection state lives in one monomorphic
// object; an idle keep-alive connection holds no parser and no buffer.
import type { Socket } from 'node:net';
import { util } from './builtins.ts';
import type { RequestHead } from '../parser/types.ts';
import type { Request, Response } from './types.ts';
import type { ServerContext } from './context.ts';
import { NO_LIST, type Timed } from './timers.ts';
import { Exchange, WAITING, READY, DONE, kRespond, errorResponse, TEXT_HEADERS, type CloseStatus } from './exchange.ts';
import { ParserSlot } from './parser-slot.ts';
import { writeResponse, destroyBody } from './response-sender.ts';
import type { SendTimeoutTarget } from './response-writer.ts';
import { RingRequest, HeaderFacts, kExchange, buildHeaders, splitTarget, hostName, isValidHost, ringMethod, type TargetParts } from './request-map.ts';

// The exchange contract is used by the channel API and the WebSocket integration.
export { Exchange, kRespond, errorResponse, type Abortable, type CloseStatus } from './exchange.ts';
export { ParserSlot } from './parser-slot.ts';

const debug = util.debuglog('httpkit');

/** Handler results waiting in one connection's queue before reading pauses. */
const MAX_QUEUED = 32;
/** Bodies up to this size get their buffer when the head arrives; larger ones as bytes come. */
const PREALLOCATE_BODY = 64 * 1024;
/** Output waiting in user space before reading pauses (a client that pipelines but does not read). */
const MAX_PENDING_OUTPUT = 64 * 1024;
/**
 * A paused fast-path connection goes on reading (copies, into leftover) up to this many
 * bytes before it stops the socket, as a paused stream fills its buffer: a client that
 * leaves meanwhile (FIN, RST) is still noticed.
 */
const PAUSED_READ_LIMIT = 16 * 1024;

const HTML_HEADERS = Object.freeze({ 'content-type': 'text/html; charset=utf-8' });
const SILENT: Response = Object.freeze({ status: 500 });
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const kConn = Symbol('httpkit.connection');

// Connection.flags bits.
const F_IN_MESSAGE = 1;
const F_CORKED = 2;
const F_FLUSH_QUEUED = 4;
const F_IN_READ = 8;
const F_READ_PAUSED = 16;
const F_WAITING_DRAIN = 32;
const F_CLOSING = 64;
const F_LINGERING = 128;
const F_CLOSED = 256;
const F_FAST_READ = 512;
const F_DETACHED = 1024;
const F_READ_STOPPED = 2048;
const F_EOF_PENDING = 4096;
/** The server cut the connection off for a timeout: channels hear 'timeout', not 'client-close'. */
const F_TIMED_OUT = 8192;
/** The last message this connection answers has been read: later bytes are dropped unparsed. */
const F_INPUT_DONE = 16384;
const targetScratch: TargetParts = { uri: null, queryString: null, authority: null };
const facts = new HeaderFacts();

export class Connection implements Timed, SendTimeoutTarget {
  readonly socket: Socket;
  readonly ctx: ServerContext;
  slot: ParserSlot | null = null;

  // Response queue, oldest first.
  first: Exchange | null = null;
  last: Exchange | null = null;
  queued = 0;

  /** Wheel time when the current message began (its details live in the parser slot). */
  msgStart = 0;
  /** Bytes not yet taken by the client when the send timeout was last armed (see waitForDrain). */
  unsentMark = 0;
  /** Output batch: one write per socket read. */
  out = '';
  /** Bytes read while reading was paused, parsed on resume (always a copy: never a view of a read buffer). */
  leftover: Buffer | null = null;
  /** After a hand-over: the new owner (see SocketOwner); null when it asked for nothing. */
  private owner: SocketOwner | null = null;
  /** The boolean states below, packed: an idle connection is a few words. */
  private flags = 0;

  /** Bytes of a message have arrived and it is not complete. */
  get inMessage(): boolean { return (this.flags & F_IN_MESSAGE) !== 0; }
  set inMessage(v: boolean) { this.flags = v ? this.flags | F_IN_MESSAGE : this.flags & ~F_IN_MESSAGE; }
  /** The socket is corked until the batch is flushed. */
  get corked(): boolean { return (this.flags & F_CORKED) !== 0; }
  set corked(v: boolean) { this.flags = v ? this.flags | F_CORKED : this.flags & ~F_CORKED; }
  get flushQueued(): boolean { return (this.flags & F_FLUSH_QUEUED) !== 0; }
  set flushQueued(v: boolean) { this.flags = v ? this.flags | F_FLUSH_QUEUED : this.flags & ~F_FLUSH_QUEUED; }
  /** Inside onData: writes join the batch flushed at its end. */
  get inRead(): boolean { return (this.flags & F_IN_READ) !== 0; }
  set inRead(v: boolean) { this.flags = v ? this.flags | F_IN_READ : this.flags & ~F_IN_READ; }
  get readPaused(): boolean { return (this.flags & F_READ_PAUSED) !== 0; }
  set readPaused(v: boolean) { this.flags = v ? this.flags | F_READ_PAUSED : this.flags & ~F_READ_PAUSED; }
  get waitingDrain(): boolean { return (this.flags & F_WAITING_DRAIN) !== 0; }
  set waitingDrain(v: boolean) { this.flags = v ? this.flags | F_WAITING_DRAIN : this.flags & ~F_WAITING_DRAIN; }
  /** Close once the queue is empty (Connection: close, EOF, stop()). */
  get closing(): boolean { return (this.flags & F_CLOSING) !== 0; }
  set closing(v: boolean) { this.flags = v ? this.flags | F_CLOSING : this.flags & ~F_CLOSING; }
  /** FIN sent; draining what the client still sends until it closes or lingerTimeout. */
  get lingering(): boolean { return (this.flags & F_LINGERING) !== 0; }
  set lingering(v: boolean) { this.flags = v ? this.flags | F_LINGERING : this.flags & ~F_LINGERING; }
  get closed(): boolean { return (this.flags & F_CLOSED) !== 0; }
  set closed(v: boolean) { this.flags = v ? this.flags | F_CLOSED : this.flags & ~F_CLOSED; }

  /** Client address, read once (node caches it on the socket anyway). */
  private remote: string | null = null;

  remoteAddr(): string {
    let r = this.remote;
    if (r === null) r = this.remote = peerAddress(this.socket);
    return r;
  }

  // Timer wheel links.
  timerPrev: Timed | null = null;
  timerNext: Timed | null = null;
  timerList = NO_LIST;
  deadline = 0;

  /**
   * `fastRead`: the socket was made by acceptFast() (lib/fast-read.ts) with onFastRead
   * as its read callback; otherwise bytes come through 'data' events.
   */
  constructor(socket: Socket, ctx: ServerContext, fastRead = false) {
    this.socket = socket;
    this.ctx = ctx;
    (socket as unknown as Record<symbol, Connection>)[kConn] = this;
    socket.setNoDelay(true);
    if (fastRead) this.flags = F_FAST_READ;
    else socket.on('data', onSocketData);
    dropNodeEndListener(socket);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    ctx.connections.add(this);
    ctx.wheel.addActive(this, ctx.wheel.touch() + ctx.headersTimeout);
  }

  // ---- reading -------------------------------------------------------------

  /** After a hand-over to an owner that reads, on the stream path. */
  receive(buf: Buffer): void {
    this.owner!.read!(buf);
  }

  /**
   * A read on the fast path. `buf` is the process-wide read buffer: its bytes are valid
   * only until this returns, so nothing here keeps a view of it (the parser copies a
   * partial line into its stash, bodies are copied into their own buffer, bytes left
   * for later are copied by keepLeftover()).
   */
  onFastRead(nread: number, buf: Buffer): boolean {
    if ((this.flags & F_DETACHED) === 0) {
      this.onData(buf, nread); // the byte count, not a view: no Buffer object per read
      return true;
    }
    const owner = this.owner;
    // A new owner that does not read itself reads the socket as a stream: give it a copy,
    // and stop reading when its Readable is full (read() starts it again).
    if (owner === null || owner.read === undefined) {
      const copy = Buffer.allocUnsafe(nread);
      buf.copy(copy, 0, 0, nread);
      return this.socket.push(copy);
    }
    owner.read(buf.subarray(0, nread));
    return true;
  }

  /** Bytes read: `buf` up to `len` (the whole of it on the 'data' path). */
  onData(buf: Buffer, len: number = buf.length): void {
    if (this.closed) return;
    const wheel = this.ctx.wheel;
    const now = wheel.touch();
    // Draining after a final response, or after the last message it will answer: a
    // client that goes on sending meanwhile costs nothing (no parse, no queued answer).
    if (this.lingering || (this.flags & F_INPUT_DONE) !== 0 || (this.closing && this.first === null)) return;
    if (this.readPaused) {
      // Read while paused: keep (a copy) for later.
      this.keepLeftover(len === buf.length ? buf : buf.subarray(0, len));
      if ((this.flags & F_READ_STOPPED) === 0 && this.leftover!.length >= PAUSED_READ_LIMIT) this.stopReading();
      return;
    }
    if (!this.inMessage) {
      this.inMessage = true;
      this.msgStart = now;
    }
    this.inRead = true;
    this.feed(buf, len);
    this.inRead = false;
    this.flush();
    this.updateTimer();
  }

  private feed(buf: Buffer, len: number): void {
    let slot = this.slot;
    if (slot === null) slot = this.acquireParser();
    const p = slot.parser;
    for (;;) {
      const n = p.execute(buf, len);
      if (slot.completed) {
        slot.completed = false;
        const rest = len - n;
        this.inMessage = rest > 0;
        this.msgStart = this.ctx.wheel.now;
        if (p.upgraded) {
          // The socket may change hands: read nothing more until the handler decides
          // (takeOverSocket gets the leftover bytes; a normal answer resumes HTTP).
          this.inMessage = false;
          this.pauseReading(rest > 0 ? buf.subarray(n, len) : null);
          this.dispatch();
          return;
        }
        p.resume();
        this.dispatch();
        if (this.closed) return;
        if (rest === 0) return;
        buf = buf.subarray(n, len);
        len = rest;
        if (this.closing) {
          this.inMessage = false; // a Connection: close request: ignore what follows
          return;
        }
        // A batch never grows past MAX_PENDING_OUTPUT: write it now and go on while the
        // socket takes it (pausing here instead would wait for a 'drain' that an empty
        // socket buffer never emits). Reading pauses when the socket itself is backed up.
        if (this.out.length > MAX_PENDING_OUTPUT) this.flush();
        if (this.readPaused || this.queued >= MAX_QUEUED || this.socket.writableLength > MAX_PENDING_OUTPUT || this.heldBodies() > this.ctx.maxBody) {
          this.pauseReading(buf);
          this.inMessage = false;
          return;
        }
        continue;
      }
      if (slot.reject !== 0) {
        this.rejectMessage(slot.reject);
        return;
      }
      const err = p.error;
      if (err !== null && err !== undefined) {
        debug('parse error %s: %s at %d', err.code, err.reason, err.offset);
        this.rejectMessage(err.status || 400);
        return;
      }
      return; // everything consumed; the message continues in the next read
    }
  }

  private acquireParser(): ParserSlot {
    const pool = this.ctx.parsers;
    const slot = pool.length > 0 ? pool.pop()! : new ParserSlot(this.ctx);
    slot.conn = this;
    this.slot = slot;
    return slot;
  }

  private releaseParser(): void {
    const slot = this.slot!;
    this.slot = null;
    slot.conn = null;
    slot.clear();
    slot.parser.reset();
    if (this.ctx.parsers.length < 256) this.ctx.parsers.push(slot);
  }

  onHead(head: RequestHead): void {
    const slot = this.slot!;
    slot.head = head;
    slot.headDone = true;
    const ctx = this.ctx;
    const headers = buildHeaders(head.rawHeaders, facts);
    slot.headers = headers;
    slot.host = facts.host;
    slot.contentType = facts.contentType ?? null;
    slot.hasContentLength = facts.hasContentLength;
    if (head.versionMajor !== 1) return this.rejectHead(505);
    // Ring lower-cases the method, so `get` would be served as GET: methods are
    // case-sensitive (RFC 9110 9.1), and a lower-case one is refused, as nginx does.
    const method = head.method;
    if (method !== 'GET' && method !== 'POST' && hasLowerCase(method)) return this.rejectHead(400);
    // RFC 9112 6.1: a transfer coding the server does not apply (gzip, deflate, ... before
    // the final chunked) is not understood: 501, rather than a still-encoded body.
    if (head.chunked && !isChunkedOnly(headers['transfer-encoding']!)) return this.rejectHead(501);
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before; a valid value.
    const hosts = facts.hostCount;
    if (hosts > 1 || (hosts === 0 && head.versionMinor >= 1)) return this.rejectHead(400);
    if (hosts === 1 && !isValidHost(facts.host!)) return this.rejectHead(400);
    const cl = head.contentLength;
    if (cl > ctx.maxBody) return this.rejectHead(413);
    const expect = facts.expect;
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') return this.rejectHead(417);
      // 100 Continue only when it cannot interleave with earlier responses.
      if ((cl > 0 || head.chunked) && head.versionMinor >= 1 && this.first === null) this.out += CONTINUE;
    }
    // Small bodies get their buffer now; large or unknown ones grow with the bytes that
    // actually arrive, so heads announcing big bodies that never come cost nothing.
    slot.bodyLength = 0;
    slot.bodyLimit = cl > 0 ? cl : ctx.maxBody;
    if (cl > 0 && cl <= PREALLOCATE_BODY) slot.body = Buffer.allocUnsafe(cl);
  }

  private rejectHead(status: number): void {
    const slot = this.slot!;
    slot.reject = status;
    slot.parser.pause();
  }

  onBody(chunk: Buffer): void {
    const slot = this.slot!;
    if (slot.reject !== 0) return;
    let body = slot.body;
    const length = slot.bodyLength;
    const need = length + chunk.length;
    if (body === null || need > body.length) {
      if (need > slot.bodyLimit) return this.rejectHead(413); // chunked beyond maxBody
      // One growing buffer (doubling), not a Buffer per chunk: tiny chunks cannot
      // multiply memory.
      let size = body === null ? 16384 : body.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, slot.bodyLimit));
      if (body !== null) body.copy(grown, 0, 0, length);
      slot.body = body = grown;
    }
    chunk.copy(body, length);
    slot.bodyLength = need;
  }

  onComplete(_trailers: string[] | null): void {
    const slot = this.slot!;
    if (slot.reject !== 0) return;
    slot.completed = true;
    slot.headDone = false;
    slot.parser.pause();
  }

  /** Answer the message being read with an error status, then close. */
  private rejectMessage(status: number): void {
    const isHead = this.slot!.isHead();
    this.slot!.clear();
    this.inMessage = false;
    // An answer to HEAD has no content, even an error (RFC 9112 6.3): its bytes would be
    // read as the start of the next response.
    const ex = new Exchange(this, isHead, false, false, false);
    this.enqueue(ex);
    this.closing = true;
    this.flags |= F_INPUT_DONE;
    this.settle(ex, errorResponse(status));
  }

  private dispatch(): void {
    const slot = this.slot!;
    const head = slot.head!;
    const headers = slot.headers!;
    slot.head = null;
    slot.headers = null;
    let body: Buffer | null = slot.body;
    if (body !== null) {
      slot.body = null;
      if (slot.bodyLength < body.length) body = body.subarray(0, slot.bodyLength);
    }
    const ctx = this.ctx;
    const method = head.method;
    splitTarget(head.target, method, targetScratch);
    const uri = targetScratch.uri;
    const http10 = head.versionMinor === 0;
    let keepAlive = head.keepAlive && !ctx.stopping;
    if (method === 'CONNECT') keepAlive = false;
    const ex = new Exchange(this, method === 'HEAD', http10, keepAlive, head.upgrade);
    if (method === 'CONNECT') ex.connect = true;
    this.enqueue(ex);
    if (!keepAlive) {
      this.closing = true;
      // Nothing after it will be answered; an upgrade's bytes are kept for its new owner.
      if (!head.upgrade) this.flags |= F_INPUT_DONE;
    }
    if (uri === null) {
      this.closing = true;
      this.flags |= F_INPUT_DONE;
      this.settle(ex, errorResponse(400));
      return;
    }
    const host = slot.host;
    const contentType = slot.contentType;
    const hasContentLength = slot.hasContentLength;
    const upgradeHeader = head.upgrade ? headers.upgrade : undefined;
    const req = new RingRequest(
      ringMethod(method),
      uri,
      targetScratch.queryString,
      http10 ? 'HTTP/1.0' : head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.' + head.versionMinor,
      headers,
      contentType,
      hasContentLength,
      body,
      ctx.scheme,
      targetScratch.authority !== null ? hostName(targetScratch.authority) : host === undefined ? (this.socket.localAddress ?? ctx.localName) : hostName(host),
      ctx.port,
      this.remoteAddr(),
      ctx.wheel.takeFresh(),
      upgradeHeader !== undefined && upgradeHeader.toLowerCase().includes('websocket'),
      ex,
    );
    ex.req = req;
    if (ctx.trustedProxies !== null) ctx.trustedProxies.apply(req);
    let result: unknown;
    try {
      result = ctx.handler(req as Request);
    } catch (err) {
      ctx.errorLogger(err, req);
      result = errorResponse(500);
    }
    this.settle(ex, result);
  }

  private enqueue(ex: Exchange): void {
    if (this.last === null) this.first = ex;
    else this.last.next = ex;
    this.last = ex;
    this.queued++;
  }

  // ---- handler results -----------------------------------------------------

  /** Record what the handler gave for `ex`; write it if it is next in line. */
  settle(ex: Exchange, result: unknown): void {
    if (ex.state !== WAITING) return;
    let res: Response;
    if (typeof result === 'object' && result !== null) {
      if (typeof (result as PromiseLike<unknown>).then === 'function') {
        void this.settleLater(ex, result as PromiseLike<unknown>);
        return;
      }
      const hook = (result as { [kRespond]?: (ex: Exchange) => void })[kRespond];
      if (hook !== undefined) {
        // The channel API answers later through settle(); its callbacks are user code.
        try {
          hook.call(result, ex);
        } catch (err) {
          this.fail(ex, err);
        }
        return;
      }
      res = result as Response;
    } else if (typeof result === 'string') {
      res = { status: 200, headers: HTML_HEADERS, body: result };
    } else if (result === undefined || result === null) {
      res = { status: 404, headers: TEXT_HEADERS, body: 'Not Found\n' };
    } else {
      this.fail(ex, new TypeError('handler returned ' + typeof result + ', expected a response map'));
      return;
    }
    if (this.closed || this.lingering) {
      ex.state = DONE;
      destroyBody(res.body);
      return;
    }
    ex.response = res;
    ex.state = READY;
    if (ex === this.first) this.drain();
  }

  /** An async handler's result (no closures per request: one awaited frame). */
  private async settleLater(ex: Exchange, result: PromiseLike<unknown>): Promise<void> {
    let value: unknown;
    let ok = true;
    try {
      value = await result;
    } catch (err) {
      value = err;
      ok = false;
    }
    try {
      if (ok) this.settle(ex, value);
      else this.fail(ex, value);
    } catch (err) {
      // An unexpected error costs the connection, not the process.
      this.ctx.errorLogger(err, ex.req);
      this.socket.destroy();
    }
  }

  /** The handler threw or rejected: 500, and the error to errorLogger. */
  fail(ex: Exchange, err: unknown): void {
    if (ex.state !== WAITING) return;
    this.ctx.errorLogger(err, ex.req);
    this.settle(ex, errorResponse(500));
  }

  /** Write every response at the head of the queue that is ready. */
  drain(): void {
    let ex = this.first;
    while (ex !== null && ex.state === READY) {
      if (!writeResponse(this, ex)) return; // streaming: finishExchange() continues
      const keepAlive = ex.keepAlive;
      ex = this.shift(ex);
      if (!keepAlive) {
        // Nothing may follow a response that announced the close.
        this.closing = true;
        this.shutdown();
        return;
      }
    }
    this.afterDrain();
  }

  private shift(ex: Exchange): Exchange | null {
    ex.state = DONE;
    const next = ex.next;
    ex.next = null;
    this.first = next;
    if (next === null) this.last = null;
    this.queued--;
    if (next !== null && next.onTurn !== null) process.nextTick(next.onTurn, next);
    if (ex.upgrade && !this.closing && this.slot !== null && this.slot.parser.upgraded) {
      // The upgrade was declined with a normal response: go on reading HTTP.
      this.slot.parser.resume();
    }
    return next;
  }

  private afterDrain(): void {
    if (this.closed) return;
    if (this.first === null && this.closing) {
      this.flush();
      this.shutdown();
      return;
    }
    if (this.readPaused) {
      if (this.canRead()) this.resumeReading();
      // Paused for the queue, and now the answers fill the socket: resume on 'drain'.
      else if (this.socket.writableLength > MAX_PENDING_OUTPUT) this.waitForDrain();
    }
    if (!this.inRead) {
      this.scheduleFlush();
      this.updateTimer();
    }
  }

  private canRead(): boolean {
    const first = this.first;
    if (first !== null && first.upgrade) return false;
    if (this.slot !== null && this.slot.parser.upgraded) return false;
    return this.queued < MAX_QUEUED && this.socket.writableLength <= MAX_PENDING_OUTPUT && this.heldBodies() <= this.ctx.maxBody;
  }

  /**
   * Request body bytes held by pipelined requests still waiting for their answer: a
   * client may not make the server hold more than one maxBody per connection.
   * (Walks the queue, at most MAX_QUEUED long, only when more pipelined input waits.)
   */
  private heldBodies(): number {
    let n = 0;
    for (let ex = this.first; ex !== null; ex = ex.next) {
      const body = ex.state === WAITING && ex.req !== null ? ex.req.body : null;
      if (body !== null) n += body.length;
    }
    return n;
  }

  /** A streamed or file response finished; write what queued behind it. */
  finishExchange(ex: Exchange, ok: boolean): void {
    if (ex !== this.first) return;
    this.shift(ex);
    if (!ok || this.closed) return;
    if (!ex.keepAlive) {
      this.closing = true;
      this.shutdown();
      return;
    }
    const wasInRead = this.inRead;
    if (!wasInRead) this.ctx.wheel.touch(); // responses written below read the wheel's clock
    this.inRead = true;
    this.drain();
    this.inRead = wasInRead;
    if (!wasInRead) {
      this.flush();
      this.updateTimer();
    }
  }

  // ---- output --------------------------------------------------------------

  /** Send what the batch holds: one write (or one writev when corked). */
  flush(): void {
    if (this.closed) {
      this.out = '';
      return;
    }
    if (this.out.length > 0) {
      this.socket.write(this.out, 'latin1');
      this.out = '';
    }
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    if (!this.readPaused && this.socket.writableLength > MAX_PENDING_OUTPUT) this.pauseReading(null);
  }

  scheduleFlush(): void {
    if (this.flushQueued || (this.out.length === 0 && !this.corked)) return;
    this.flushQueued = true;
    // After the microtasks of this turn: async handlers resolving together share a write.
    process.nextTick(flushTick, this);
  }

  // ---- read pausing --------------------------------------------------------

  /**
   * Keeps unparsed input for later. Always a copy: `rest` may be a view of the shared
   * fast-path read buffer, which the next read of any connection overwrites.
   */
  private keepLeftover(rest: Buffer): void {
    const kept = this.leftover;
    this.leftover = kept === null ? Buffer.from(rest) : Buffer.concat([kept, rest]);
  }

  private pauseReading(rest: Buffer | null): void {
    if (rest !== null) this.keepLeftover(rest);
    if (!this.readPaused) {
      this.readPaused = true;
      if ((this.flags & F_FAST_READ) === 0 || (this.leftover !== null && this.leftover.length >= PAUSED_READ_LIMIT)) this.stopReading();
    }
    if (this.socket.writableLength > MAX_PENDING_OUTPUT) this.waitForDrain();
  }

  /**
   * Output is backed up: reading resumes on 'drain'. Meanwhile the client has
   * sendTimeout to take some of it (as for a streamed body), else it is cut off: a
   * client that pipelines and never reads cannot hold a connection forever.
   */
  private waitForDrain(): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    this.socket.once('drain', onSocketDrain);
    this.unsentMark = unsentBytes(this.socket);
    const wheel = this.ctx.wheel;
    wheel.addActive(this, wheel.now + this.ctx.sendTimeout);
  }

  /** 'drain' after waitForDrain(). */
  drained(): void {
    this.waitingDrain = false;
    if (this.readPaused) this.resumeReading();
    else if (!this.inRead) this.updateTimer();
  }

  private stopReading(): void {
    this.flags |= F_READ_STOPPED;
    this.socket.pause();
  }

  private startReading(): void {
    if ((this.flags & F_READ_STOPPED) === 0) return;
    this.flags &= ~F_READ_STOPPED;
    this.socket.resume();
  }

  resumeReading(): void {
    if (!this.readPaused || this.closed) return;
    this.readPaused = false;
    const rest = this.leftover;
    this.leftover = null;
    if (rest !== null) {
      const wasInRead = this.inRead;
      if (!wasInRead) this.ctx.wheel.touch();
      if (!this.inMessage) {
        this.inMessage = true;
        this.msgStart = this.ctx.wheel.now;
      }
      this.inRead = true;
      this.feed(rest, rest.length);
      this.inRead = wasInRead;
      if (!wasInRead) this.flush();
      if (this.leftover === null && (this.flags & F_EOF_PENDING) !== 0) {
        // The FIN came after these bytes: now it is their turn to end the connection.
        this.flags &= ~F_EOF_PENDING;
        this.onEnd();
      }
    }
    if (!this.readPaused && !this.closed) this.startReading();
    if (!this.inRead) this.updateTimer();
  }

  // ---- timers and closing --------------------------------------------------

  /** Put the connection on the right timer list for its state. Once per read, not per request. */
  updateTimer(): void {
    if (this.closed || this.lingering || this.waitingDrain) return; // waitForDrain() set the deadline
    const ctx = this.ctx;
    const wheel = ctx.wheel;
    if (this.inMessage) {
      const deadline = this.slot !== null && this.slot.headDone
        ? this.msgStart + ctx.requestTimeout
        : this.msgStart + Math.min(ctx.headersTimeout, ctx.requestTimeout);
      wheel.addActive(this, deadline);
      return;
    }
    if (this.slot !== null && !this.readPaused) this.releaseParser();
    if (this.first === null && !this.readPaused) wheel.addIdle(this);
    else if (this.timerList !== NO_LIST) wheel.remove(this);
  }

  onTimeout(_now: number): void {
    if (this.closed) return;
    if (this.lingering) {
      this.socket.destroy();
      return;
    }
    if (this.waitingDrain) {
      // A slow reader of a large answer drains only at its end: one that took some of
      // it during the timeout gets another one.
      const unsent = unsentBytes(this.socket);
      if (unsent < this.unsentMark) {
        this.unsentMark = unsent;
        this.ctx.wheel.addActive(this, this.ctx.wheel.now + this.ctx.sendTimeout);
        return;
      }
      debug('send timeout: the client takes none of its answers');
      this.cutOff();
      return;
    }
    if (this.inMessage) {
      // headersTimeout / requestTimeout: 408 when nothing else is on the way.
      if (this.first === null) {
        debug('request timeout');
        this.inMessage = false;
        const isHead = this.slot !== null && this.slot.isHead();
        if (this.slot !== null) this.slot.clear();
        const ex = new Exchange(this, isHead, false, false, false);
        this.enqueue(ex);
        this.closing = true;
        this.settle(ex, errorResponse(408));
        return;
      }
      // No room for a 408 behind the answers owed: cut off, and their channels hear why.
      this.cutOff();
      return;
    }
    if (this.first === null) this.shutdown(); // keep-alive timeout, or a fresh connection that sent nothing
  }

  /** A streamed body waited sendTimeout for a client that takes nothing: close, reporting 'timeout'. */
  cutOffForSendTimeout(): void {
    this.cutOff();
  }

  private cutOff(): void {
    this.flags |= F_TIMED_OUT;
    this.socket.destroy();
  }

  /** Why the connection closed, as channels are told: a server timeout, the server stopping, or the client. */
  closeStatus(): CloseStatus {
    if ((this.flags & F_TIMED_OUT) !== 0) return 'timeout';
    return this.ctx.stopping ? 'server-close' : 'client-close';
  }

  /** Send FIN, drain the client for a while, then close (avoids an RST eating the last response). */
  shutdown(): void {
    if (this.closed || this.lingering) return;
    this.flush();
    this.lingering = true;
    this.closing = true;
    if (this.readPaused) {
      this.readPaused = false;
      this.leftover = null;
      this.startReading();
    }
    this.socket.end();
    this.ctx.wheel.addActive(this, this.ctx.wheel.now + this.ctx.lingerTimeout);
  }

  /** stop(): close at once when idle, else after the responses in flight. */
  stopGracefully(): void {
    if (this.closed) return;
    this.closing = true;
    if (this.first === null && !this.inMessage && (this.flags & F_DETACHED) === 0) this.shutdown();
    else this.notifyAbort('going-away');
  }

  onEnd(): void {
    // The client sent FIN. Answer what was asked, then close.
    if (this.closed) return;
    if (this.lingering) {
      this.socket.destroy();
      return;
    }
    if (this.leftover !== null) {
      // Requests read before the FIN wait unparsed (reading is paused): they come first,
      // then resumeReading() ends the connection. Channels learn at once, as below.
      this.flags |= F_EOF_PENDING;
      this.notifyAbort('client-close');
      return;
    }
    this.closing = true;
    if (this.slot !== null && this.inMessage) {
      this.slot.parser.finish();
      this.inMessage = false;
    }
    if (this.first === null) this.shutdown();
    // Handlers in flight still get to answer (a half-close is legal), but channels
    // waiting on events learn at once that their client is gone.
    else this.notifyAbort('client-close');
  }

  /** Answer `ex` with nothing: when its turn comes the connection closes (channel closed unanswered). */
  abandon(ex: Exchange): void {
    if (ex.state !== WAITING) return;
    ex.silent = true;
    ex.keepAlive = false;
    this.settle(ex, SILENT);
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.out = '';
    this.leftover = null;
    this.ctx.wheel.remove(this);
    this.ctx.connections.delete(this);
    if (this.slot !== null) this.releaseParser();
    this.notifyAbort(this.closeStatus());
    this.ctx.onConnectionClosed();
  }

  private notifyAbort(status: CloseStatus): void {
    if ((this.flags & F_DETACHED) !== 0) {
      // Handed over: no exchange is left; the owner hears it, if it asked to.
      const owner = this.owner;
      if (owner === null || owner.abort === undefined) return;
      try {
        owner.abort(status);
      } catch (err) {
        this.ctx.errorLogger(err);
      }
      return;
    }
    for (let ex = this.first; ex !== null; ex = ex.next) {
      const a = ex.abortee;
      if (a !== null) {
        ex.abortee = null;
        try {
          a.abort(status);
        } catch (err) {
          this.ctx.errorLogger(err, ex.req);
        }
      }
    }
  }

  /** Hand the raw socket over (WebSocket upgrade). See takeOverSocket(). */
  detach(ex: Exchange, owner: SocketOwner | null): { socket: Socket; head: Buffer } | null {
    if (this.closed || this.lingering || ex !== this.first || ex.state !== WAITING || !ex.upgrade) return null;
    this.flush();
    ex.state = DONE;
    const socket = this.socket;
    socket.off('data', onSocketData);
    socket.off('end', onSocketEnd);
    // The server listens half-open; the new owner gets the usual behaviour: FIN answers FIN.
    socket.allowHalfOpen = false;
    if (nodeEndListener !== null && socket.listenerCount('end') === 0) socket.on('end', nodeEndListener);
    socket.on('end', endOnEnd);
    if (this.waitingDrain) socket.off('drain', onSocketDrain);
    // Handed over paused, whether or not the pause had stopped the socket yet.
    if ((this.flags & F_READ_STOPPED) === 0) this.stopReading();
    this.ctx.wheel.remove(this);
    const head = this.leftover ?? Buffer.alloc(0);
    this.leftover = null;
    if (this.slot !== null) this.releaseParser();
    this.lingering = true; // never read or time out here again; 'close' still untracks it
    // On the fast path the read callback stays the connection's and serves the owner from
    // now on; on the stream path an owner that reads gets the 'data' events.
    this.owner = owner;
    if ((this.flags & F_FAST_READ) === 0 && owner !== null && owner.read !== undefined) socket.on('data', onDetachedData);
    this.flags |= F_DETACHED;
    // The owner hears of stop() and the close itself: the exchange can go (the request
    // map, which the owner may keep, no longer leads to it).
    this.first = this.last = null;
    this.queued = 0;
    if (ex.req !== null) ex.req[kExchange] = null;
    return { socket, head };
  }
}

/**
 * The new owner of a handed-over socket (see takeOverSocket). An object rather than
 * callbacks, so an owner that has the methods (a WebSocket channel) is passed as itself
 * instead of carrying bound functions per connection.
 */
export interface SocketOwner {
  /** Gets every read (the socket is read as a stream without it). */
  read?(buf: Buffer): void;
  /** Told what becomes of the connection: 'going-away' when the server stops, then how it closed. */
  abort?(status: CloseStatus): void;
}

/** Scratch for getpeername(): read once per connection, never kept. */
const peerScratch: { address?: string } = {};
/** Last client address seen: connections from one address (a proxy, a load balancer) share the string. */
let lastRemote = '';

/**
 * Shrinks as the client takes output: the stream's buffer plus what the handle still
 * holds of the write in flight (the kernel takes a large write piece by piece, while
 * writableLength only moves when a whole write completes).
 */
function unsentBytes(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: QueuedHandle | null })._handle;
  if (handle == null) return socket.writableLength;
  let inFlight = typeof handle.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
  // TLS: the TLS handle's queue shrinks only when a whole write is done; the TCP handle
  // under it shows the encrypted bytes still waiting for the client.
  const tcp = handle._parent;
  if (tcp != null && typeof tcp.writeQueueSize === 'number') inFlight += tcp.writeQueueSize;
  return socket.writableLength + inFlight;
}

interface QueuedHandle {
  writeQueueSize?: number;
  _parent?: QueuedHandle | null;
}

/**
 * The client's address, read from the handle into scratch: `socket.remoteAddress` would
 * cache an object on every socket. Sockets whose remoteAddress is overridden (PROXY
 * protocol) and handles without getpeername take the public getter.
 */
function peerAddress(socket: Socket): string {
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: object) => number } | null })._handle;
  let addr: string | undefined;
  if (handle != null && typeof handle.getpeername === 'function' && !Object.hasOwn(socket, 'remoteAddress')) {
    peerScratch.address = undefined;
    handle.getpeername(peerScratch);
    addr = peerScratch.address;
    peerScratch.address = undefined;
  }
  if (addr === undefined) addr = socket.remoteAddress ?? '';
  if (addr === lastRemote) return lastRemote;
  lastRemote = addr;
  return addr;
}

/**
 * node:net's own 'end' listener, which acts only without allowHalfOpen. Server sockets
 * are half-open, so it is dropped: our 'end' listener is then the only one, and an idle
 * connection carries no listener array. detach() puts it back with allowHalfOpen off.
 */
let nodeEndListener: ((...args: unknown[]) => void) | null = null;

function dropNodeEndListener(socket: Socket): void {
  if (!socket.allowHalfOpen || socket.listenerCount('end') !== 1) return;
  if (nodeEndListener === null) {
    // Found once (a copy of the listener list); later sockets just remove it.
    const own = socket.listeners('end')[0] as (...args: unknown[]) => void;
    if (own.name !== 'onReadableStreamEnd') return;
    nodeEndListener = own;
  }
  socket.removeListener('end', nodeEndListener);
}

// Shared listeners: no closures per connection.
function connOf(socket: unknown): Connection {
  return (socket as Record<symbol, Connection>)[kConn]!;
}
/** The read callback of fast-path sockets (see acceptFast in lib/fast-read.ts). */
export function onFastRead(this: Socket, nread: number, buf: Buffer): boolean {
  const conn = connOf(this);
  try {
    return conn.onFastRead(nread, buf);
  } catch (err) {
    // A bug (or a throwing owner) must cost one connection, never the process.
    conn.ctx.errorLogger(err);
    this.destroy();
    return false;
  }
}
function onSocketData(this: Socket, buf: Buffer): void {
  const conn = connOf(this);
  try {
    conn.onData(buf);
  } catch (err) {
    // A bug must cost one connection, never the process and its other clients.
    conn.ctx.errorLogger(err);
    this.destroy();
  }
}
/** 'data' after a hand-over to an owner that reads, on the stream path: same contract as the fast path. */
function onDetachedData(this: Socket, buf: Buffer): void {
  const conn = connOf(this);
  try {
    conn.receive(buf);
  } catch (err) {
    conn.ctx.errorLogger(err);
    this.destroy();
  }
}
function onSocketEnd(this: Socket): void {
  connOf(this).onEnd();
}
function onSocketError(this: Socket, err: Error): void {
  // A client vanishing (ECONNRESET, EPIPE) is routine; 'close' follows.
  debug('socket error: %s', err.message);
}
function onSocketClose(this: Socket): void {
  connOf(this).onClose();
}
function onSocketDrain(this: Socket): void {
  connOf(this).drained();
}
function endOnEnd(this: Socket): void {
  this.end();
}
function flushTick(conn: Connection): void {
  conn.flushQueued = false;
  if (!conn.inRead) conn.flush();
}

/**
 * The exchange behind a request map, for the channel API and the WebSocket upgrade.
 * Null for request maps not made by this server.
 */
export function exchangeOf(req: object): Exchange | null {
  const ex = (req as { [kExchange]?: unknown })[kExchange];
  return ex instanceof Exchange ? ex : null;
}


function hasLowerCase(method: string): boolean {
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return true;
  }
  return false;
}

/**
 * The Transfer-Encoding list names chunked alone (any case). Empty list elements are
 * ignored (RFC 9110 5.6.1): `chunked ,` is chunked. The parser has checked the syntax.
 */
function isChunkedOnly(value: string): boolean {
  if (value === 'chunked') return true;
  let codings = 0;
  for (const member of value.split(',')) {
    const m = member.trim();
    if (m === '') continue;
    if (++codings > 1 || m.toLowerCase() !== 'chunked') return false;
  }
  return codings === 1;
}
