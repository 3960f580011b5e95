// Incremental frame parser. Socket chunks are kept in a short list and read in place;
// a payload is copied only when it spans chunks. Masked payloads are unmasked in place.
// Events go to a handler object (no per-frame closures).
//
// Lent input (push(chunk, true)): the caller reuses the chunk's memory once push()
// returns (a shared read buffer). Frames that are whole in it are still read in place;
// what must outlive the call is copied: the unparsed tail (a partial header or
// payload), a fragment of an unfinished message, a payload handed to the inflater.
// Events whose data views the lent chunk say so (`lent`): valid only during the call.
import { Opcode, FIN, RSV1, RSV2, RSV3, MASK_BIT, MAX_CONTROL_PAYLOAD, unmaskInPlace, unmaskAscii } from './frame.ts';
import { utf8Continue, UTF8_ACCEPT, UTF8_REJECT } from './utf8.ts';
import { isUtf8 } from './builtins.ts';
import { isValidCloseCode, CloseCode } from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { InflateLimitError, type PerMessageDeflate } from './deflate.ts';

/**
 * What the receiver reports, synchronously. `lent` is true when `data` views a chunk
 * pushed as lent: it is valid only until the call returns (copy to keep).
 */
export interface ReceiverHandler {
  /** A complete text or binary message. */
  rxMessage(data: Buffer, isBinary: boolean, lent: boolean): void;
  rxPing(data: Buffer, lent: boolean): void;
  rxPong(data: Buffer, lent: boolean): void;
  /** A valid close frame; the receiver ignores everything after it. */
  rxClose(code: number, reason: string): void;
  /** A protocol violation or limit; the receiver has stopped. */
  rxError(err: WebSocketError): void;
  /** Async work (inflation) finished: the receiver takes input again. */
  rxResume(): void;
}

export interface ReceiverOptions {
  /** Frames from the peer must be masked (we are the server) or must not be (client). */
  isServer: boolean;
  maxPayload: number;
  maxFrames: number;
  deflate: PerMessageDeflate | null;
}

const S_INFO = 0;
const S_LEN16 = 1;
const S_LEN64 = 2;
const S_MASK = 3;
const S_DATA = 4;

const EMPTY = Buffer.alloc(0);
/** Text payloads shorter than this are checked for ASCII while being unmasked. */
const ASCII_SCAN_MAX = 128;

// Receiver.flags bits: the boolean states, packed (an idle connection is a few words).
const F_SERVER = 1;
const F_BUSY = 2;
const F_STOPPED = 4;
const F_FIN = 8;
const F_MASKED = 16;
const F_MSG_COMPRESSED = 32;
const F_VIEWED = 64;

export class Receiver {
  private readonly handler: ReceiverHandler;
  private readonly maxPayload: number;
  private readonly maxFrames: number;
  private readonly deflate: PerMessageDeflate | null;

  /** Unparsed input, oldest first; null when there is none (no idle array per connection). */
  private chunks: Buffer[] | null = null;
  /** Read position in chunks[0]. */
  private offset = 0;
  private buffered = 0;
  private state = S_INFO;
  private flags = 0;
  /** The chunk being pushed when the caller lends it (reuses its memory after push()). */
  private lent: Buffer | null = null;

  /** Frames from the peer must be masked (we are the server). */
  private get isServer(): boolean { return (this.flags & F_SERVER) !== 0; }
  /** Waiting for inflation; input is queued. */
  private get busy(): boolean { return (this.flags & F_BUSY) !== 0; }
  private set busy(v: boolean) { this.flags = v ? this.flags | F_BUSY : this.flags & ~F_BUSY; }
  /** After a close frame or an error: input is ignored. */
  private get stopped(): boolean { return (this.flags & F_STOPPED) !== 0; }
  private set stopped(v: boolean) { this.flags = v ? this.flags | F_STOPPED : this.flags & ~F_STOPPED; }
  /** The current frame has FIN set. */
  private get fin(): boolean { return (this.flags & F_FIN) !== 0; }
  private set fin(v: boolean) { this.flags = v ? this.flags | F_FIN : this.flags & ~F_FIN; }
  /** The current frame is masked. */
  private get masked(): boolean { return (this.flags & F_MASKED) !== 0; }
  private set masked(v: boolean) { this.flags = v ? this.flags | F_MASKED : this.flags & ~F_MASKED; }
  /** The data message in progress is compressed. */
  private get msgCompressed(): boolean { return (this.flags & F_MSG_COMPRESSED) !== 0; }
  private set msgCompressed(v: boolean) { this.flags = v ? this.flags | F_MSG_COMPRESSED : this.flags & ~F_MSG_COMPRESSED; }
  /** The last payload() views the lent chunk. */
  private get viewed(): boolean { return (this.flags & F_VIEWED) !== 0; }
  private set viewed(v: boolean) { this.flags = v ? this.flags | F_VIEWED : this.flags & ~F_VIEWED; }

  // Current frame.
  private opcode = 0;
  private payloadLength = 0;
  /** Masking key, the four bytes big-endian in one int. */
  private key = 0;
  /** Payload bytes of the current text frame already unmasked and UTF-8 checked while it was arriving. */
  private scanned = 0;
  /** Where scanning resumes: chunk index and offset in it (chunks are only appended meanwhile). */
  private scanIdx = 0;
  private scanPos = 0;

  // Current data message (opcode 0 = none in progress).
  private msgOpcode = 0;
  private msgLength = 0;
  private msgFrames = 0;
  private utf8State = UTF8_ACCEPT;
  /** Earlier frames of the message in progress; null when none (no idle array per connection). */
  private fragments: Buffer[] | null = null;

  constructor(handler: ReceiverHandler, opts: ReceiverOptions) {
    this.handler = handler;
    if (opts.isServer) this.flags = F_SERVER;
    this.maxPayload = opts.maxPayload;
    this.maxFrames = opts.maxFrames;
    this.deflate = opts.deflate;
  }

  /**
   * Feed bytes. Returns false while the receiver waits on inflation (pause the source).
   * With `lent`, the caller may overwrite `chunk` once this returns: nothing keeps a
   * view of it (see the top of this file).
   */
  push(chunk: Buffer, lent = false): boolean {
    if (this.stopped) return true;
    if (chunk.length === 0) return !this.busy;
    const chunks = this.chunks;
    if (chunks === null) this.chunks = [chunk];
    else chunks.push(chunk);
    this.buffered += chunk.length;
    if (!lent) {
      if (!this.busy) this.run();
      return !this.busy;
    }
    this.lent = chunk;
    try {
      if (!this.busy) this.run();
    } finally {
      // Also when a handler threw: the rest of the chunk must not stay a view.
      this.lent = null;
      this.keepRest(chunk);
    }
    return !this.busy;
  }

  /** Replace what is left of the lent `chunk` (always the last in the list) by a copy. */
  private keepRest(chunk: Buffer): void {
    const chunks = this.chunks;
    if (chunks === null) return;
    const last = chunks.length - 1;
    if (chunks[last] !== chunk) return;
    const start = last === 0 ? this.offset : 0;
    chunks[last] = keptCopyOf(chunk, start, chunk.length);
    if (last === 0) {
      this.offset = 0;
      // A text frame's scan position inside this chunk moves with it.
      if (this.scanned > 0 && this.scanIdx === 0) this.scanPos -= start;
    }
  }

  /** Bytes received and not parsed yet (more frames may follow in the current chunk). */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Stop and drop buffered input (connection closing). */
  stop(): void {
    this.stopped = true;
    this.scanned = 0;
    this.chunks = null;
    this.fragments = null;
    this.buffered = 0;
    this.offset = 0;
  }

  private run(): void {
    while (!this.stopped && !this.busy) {
      switch (this.state) {
        case S_INFO:
          if (this.buffered < 2 || !this.readInfo()) return;
          break;
        case S_LEN16:
          if (this.buffered < 2 || !this.readLen16()) return;
          break;
        case S_LEN64:
          if (this.buffered < 8 || !this.readLen64()) return;
          break;
        case S_MASK:
          if (this.buffered < 4) return;
          this.readMask();
          break;
        default:
          if (this.buffered < this.payloadLength) {
            // A text frame still arriving: check what is here, so bad UTF-8 fails now.
            if (this.msgOpcode === Opcode.TEXT && !this.msgCompressed && this.opcode < 0x8 && this.buffered > this.scanned) this.scanPartial();
            return;
          }
          this.readData();
      }
    }
  }

  // ---- buffer access ----

  /** Position of `n` header bytes returned by take(): either in chunks[0] or in a copy. */
  private pos = 0;

  private take(n: number): Buffer {
    const c = this.chunks![0]!;
    const avail = c.length - this.offset;
    if (avail >= n) {
      this.pos = this.offset;
      this.advance(n, avail);
      return c;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out, n);
    this.pos = 0;
    return out;
  }

  /** The next `n` bytes: a view of chunks[0] when it holds them all (sets `viewed` if that is lent), else a copy. */
  private payload(n: number): Buffer {
    if (n === 0) {
      this.viewed = false;
      return EMPTY;
    }
    const c = this.chunks![0]!;
    const avail = c.length - this.offset;
    if (avail >= n) {
      const b = this.offset === 0 && avail === n ? c : c.subarray(this.offset, this.offset + n);
      this.viewed = c === this.lent;
      this.advance(n, avail);
      return b;
    }
    this.viewed = false;
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out, n);
    return out;
  }

  private advance(n: number, avail: number): void {
    this.buffered -= n;
    if (avail === n) {
      const chunks = this.chunks!;
      if (chunks.length === 1) this.chunks = null;
      else chunks.shift();
      this.offset = 0;
    } else {
      this.offset += n;
    }
  }

  private copyOut(out: Buffer, n: number): void {
    // Walk by index and drop the consumed chunks once: many tiny chunks stay linear.
    const chunks = this.chunks!;
    let w = 0;
    let i = 0;
    let off = this.offset;
    while (w < n) {
      const c = chunks[i]!;
      const k = Math.min(c.length - off, n - w);
      c.copy(out, w, off, off + k);
      w += k;
      off += k;
      if (off === c.length) {
        i++;
        off = 0;
      }
    }
    this.buffered -= n;
    this.offset = off;
    if (i === chunks.length) this.chunks = null;
    else if (i > 0) chunks.splice(0, i);
  }

  // ---- states ----

  private readInfo(): boolean {
    const b = this.take(2);
    const p = this.pos;
    const b0 = b[p]!;
    const b1 = b[p + 1]!;
    const opcode = b0 & 0x0f;
    const fin = (b0 & FIN) !== 0;
    const rsv1 = (b0 & RSV1) !== 0;
    if ((b0 & (RSV2 | RSV3)) !== 0) return this.fail('WS_INVALID_RSV', CloseCode.PROTOCOL_ERROR, 'RSV2 and RSV3 must be clear');
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.fail('WS_INVALID_OPCODE', CloseCode.PROTOCOL_ERROR, `reserved opcode 0x${opcode.toString(16)}`);
      if (!fin) return this.fail('WS_FRAGMENTED_CONTROL', CloseCode.PROTOCOL_ERROR, 'control frames must not be fragmented');
      if (rsv1) return this.fail('WS_INVALID_RSV', CloseCode.PROTOCOL_ERROR, 'RSV1 must be clear on control frames');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return this.fail('WS_CONTROL_TOO_LONG', CloseCode.PROTOCOL_ERROR, 'control frame payload over 125 bytes');
    } else if (opcode === Opcode.CONTINUATION) {
      if (this.msgOpcode === 0) return this.fail('WS_UNEXPECTED_CONTINUATION', CloseCode.PROTOCOL_ERROR, 'continuation frame without a message in progress');
      if (rsv1) return this.fail('WS_INVALID_RSV', CloseCode.PROTOCOL_ERROR, 'RSV1 must be clear on continuation frames');
    } else if (opcode <= Opcode.BINARY) {
      if (this.msgOpcode !== 0) return this.fail('WS_EXPECTED_CONTINUATION', CloseCode.PROTOCOL_ERROR, 'new data frame before the previous message ended');
      if (rsv1 && this.deflate === null) return this.fail('WS_INVALID_RSV', CloseCode.PROTOCOL_ERROR, 'RSV1 set but no extension negotiated');
      this.msgOpcode = opcode;
      this.msgCompressed = rsv1;
      this.msgLength = 0;
      this.msgFrames = 0;
      this.utf8State = UTF8_ACCEPT;
    } else {
      return this.fail('WS_INVALID_OPCODE', CloseCode.PROTOCOL_ERROR, `reserved opcode 0x${opcode.toString(16)}`);
    }
    const masked = (b1 & MASK_BIT) !== 0;
    if (masked !== this.isServer) {
      return this.fail('WS_MASK', CloseCode.PROTOCOL_ERROR, this.isServer ? 'client frames must be masked' : 'server frames must not be masked');
    }
    if (opcode < 0x8 && ++this.msgFrames > this.maxFrames) {
      return this.fail('WS_TOO_MANY_FRAMES', CloseCode.MESSAGE_TOO_BIG, `message has more than ${this.maxFrames} frames`);
    }
    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    const len = b1 & 0x7f;
    if (len === 126) this.state = S_LEN16;
    else if (len === 127) this.state = S_LEN64;
    else {
      this.payloadLength = len;
      return this.afterLength();
    }
    return true;
  }

  private readLen16(): boolean {
    const b = this.take(2);
    const len = (b[this.pos]! << 8) | b[this.pos + 1]!;
    if (len < 126) return this.fail('WS_NON_MINIMAL_LENGTH', CloseCode.PROTOCOL_ERROR, 'length not in minimal form');
    this.payloadLength = len;
    return this.afterLength();
  }

  private readLen64(): boolean {
    const b = this.take(8);
    const hi = b.readUInt32BE(this.pos);
    const lo = b.readUInt32BE(this.pos + 4);
    if (hi >= 0x80000000) return this.fail('WS_INVALID_LENGTH', CloseCode.PROTOCOL_ERROR, 'most significant bit of a 64-bit length must be 0');
    if (hi === 0 && lo < 65536) return this.fail('WS_NON_MINIMAL_LENGTH', CloseCode.PROTOCOL_ERROR, 'length not in minimal form');
    if (hi >= 0x200000) return this.tooBig();
    this.payloadLength = hi * 0x100000000 + lo;
    return this.afterLength();
  }

  private afterLength(): boolean {
    if (this.opcode < 0x8 && this.payloadLength > this.frameRoom()) return this.tooBig();
    this.state = this.masked ? S_MASK : S_DATA;
    return true;
  }

  /**
   * Most payload bytes the current data frame may carry. The limit is on the message;
   * a compressed frame is checked again, exactly, while it inflates. Deflate makes
   * incompressible data slightly longer (5 bytes per stored block: about 0.03%), so a
   * compressed frame may exceed what is left of the limit by that much.
   */
  private frameRoom(): number {
    const room = this.maxPayload - this.msgLength;
    return this.msgCompressed ? room + Math.floor(room / 1024) + 64 : room;
  }

  private tooBig(): boolean {
    return this.fail('WS_MESSAGE_TOO_BIG', CloseCode.MESSAGE_TOO_BIG, `message exceeds ${this.maxPayload} bytes`);
  }

  private readMask(): void {
    const b = this.take(4);
    const p = this.pos;
    this.key = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    this.state = S_DATA;
  }

  private readData(): void {
    const n = this.payloadLength;
    let data = this.payload(n);
    const lent = this.viewed;
    const done = this.scanned;
    this.scanned = 0;
    /** A short unfragmented text message that is all ASCII: valid UTF-8 without a check. */
    let ascii = false;
    if (this.masked && n > done) {
      if (done === 0 && n < ASCII_SCAN_MAX && this.opcode === Opcode.TEXT && (this.flags & (F_FIN | F_MSG_COMPRESSED)) === F_FIN) {
        const key = this.key;
        ascii = unmaskAscii(data, 0, n, key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff);
      } else this.unmask(data, done, n, done);
    }
    this.state = S_INFO;
    if (this.opcode >= 0x8) {
      this.control(data, lent);
      return;
    }
    if (this.msgCompressed) {
      // The inflater reads its input later, on the thread pool.
      if (lent) data = Buffer.from(data);
      this.inflate(data);
      return;
    }
    this.dataFrame(data, done, lent, ascii);
  }

  /** Unmask `buf[start, end)`, whose first byte is payload byte number `pos`. */
  private unmask(buf: Buffer, start: number, end: number, pos: number): void {
    const key = this.key;
    const k0 = key >>> 24, k1 = (key >>> 16) & 0xff, k2 = (key >>> 8) & 0xff, k3 = key & 0xff;
    switch (pos & 3) {
      case 0:
        unmaskInPlace(buf, start, end, k0, k1, k2, k3);
        break;
      case 1:
        unmaskInPlace(buf, start, end, k1, k2, k3, k0);
        break;
      case 2:
        unmaskInPlace(buf, start, end, k2, k3, k0, k1);
        break;
      default:
        unmaskInPlace(buf, start, end, k3, k0, k1, k2);
    }
  }

  /**
   * Unmask and validate the part of a text frame's payload received so far (all
   * buffered bytes belong to it), in place in the socket chunks. Only frames split
   * across reads get here.
   */
  private scanPartial(): void {
    const chunks = this.chunks!;
    if (this.scanned === 0) {
      this.scanIdx = 0;
      this.scanPos = this.offset;
    }
    for (let i = this.scanIdx; i < chunks.length; i++) {
      const c = chunks[i]!;
      const a = i === this.scanIdx ? this.scanPos : 0;
      if (a >= c.length) continue;
      if (this.masked) this.unmask(c, a, c.length, this.scanned);
      const st = utf8Continue(this.utf8State, a === 0 ? c : c.subarray(a));
      this.scanned += c.length - a;
      if (st === UTF8_REJECT) {
        this.fail('WS_INVALID_UTF8', CloseCode.INVALID_PAYLOAD, 'text message is not valid UTF-8');
        return;
      }
      this.utf8State = st;
    }
    this.scanIdx = chunks.length;
    this.scanPos = 0;
  }

  /**
   * Add one (decompressed) frame's bytes to the message; deliver it on FIN.
   * The first `validated` bytes were UTF-8 checked while the frame was arriving;
   * `lent`: data views the lent chunk.
   */
  private dataFrame(data: Buffer, validated: number, lent: boolean, ascii: boolean): void {
    const fin = this.fin;
    if (this.msgOpcode === Opcode.TEXT && !(fin && this.fragments === null && !this.msgCompressed && validated === 0)) {
      // Fragmented, compressed or streamed text: validate incrementally so a bad sequence fails now.
      const s = utf8Continue(this.utf8State, validated > 0 ? data.subarray(validated) : data);
      if (s === UTF8_REJECT || (fin && s !== UTF8_ACCEPT)) {
        this.fail('WS_INVALID_UTF8', CloseCode.INVALID_PAYLOAD, 'text message is not valid UTF-8');
        return;
      }
      this.utf8State = s;
    }
    if (!fin) {
      if (data.length > 0) {
        (this.fragments ??= []).push(lent ? keptCopyOf(data, 0, data.length) : data);
        this.msgLength += data.length;
      }
      return;
    }
    let msg: Buffer;
    const frags = this.fragments;
    if (frags === null) msg = data;
    else {
      if (data.length > 0) frags.push(data);
      msg = Buffer.concat(frags, this.msgLength + data.length);
      this.fragments = null;
      lent = false;
    }
    const opcode = this.msgOpcode;
    this.msgOpcode = 0;
    this.msgLength = 0;
    if (opcode === Opcode.TEXT && !ascii && frags === null && !this.msgCompressed && validated === 0 && !isUtf8(msg)) {
      this.fail('WS_INVALID_UTF8', CloseCode.INVALID_PAYLOAD, 'text message is not valid UTF-8');
      return;
    }
    this.handler.rxMessage(msg, opcode === Opcode.BINARY, lent);
  }

  private inflate(data: Buffer): void {
    this.busy = true;
    const fin = this.fin;
    this.deflate!.decompress(data, fin, this.maxPayload - this.msgLength, (err, out) => {
      this.busy = false;
      if (this.stopped) return;
      if (err !== null) {
        if (err instanceof InflateLimitError) this.tooBig();
        else this.fail('WS_INVALID_COMPRESSED_DATA', CloseCode.INVALID_PAYLOAD, `invalid compressed data: ${err.message}`);
        return;
      }
      this.fin = fin;
      this.dataFrame(out!, 0, false, false);
      if (this.stopped) return;
      this.run();
      if (!this.busy && !this.stopped) this.handler.rxResume();
    });
  }

  private control(data: Buffer, lent: boolean): void {
    if (this.opcode === Opcode.PING) {
      this.handler.rxPing(data, lent);
      return;
    }
    if (this.opcode === Opcode.PONG) {
      this.handler.rxPong(data, lent);
      return;
    }
    // Close.
    if (data.length === 1) {
      this.fail('WS_INVALID_CLOSE', CloseCode.PROTOCOL_ERROR, 'close payload of 1 byte');
      return;
    }
    let code: number = CloseCode.NO_STATUS;
    let reason = '';
    if (data.length >= 2) {
      code = (data[0]! << 8) | data[1]!;
      if (!isValidCloseCode(code)) {
        this.fail('WS_INVALID_CLOSE_CODE', CloseCode.PROTOCOL_ERROR, `invalid close code ${code}`);
        return;
      }
      const r = data.subarray(2);
      if (!isUtf8(r)) {
        this.fail('WS_INVALID_UTF8', CloseCode.INVALID_PAYLOAD, 'close reason is not valid UTF-8');
        return;
      }
      reason = r.toString('utf8');
    }
    this.stop();
    this.handler.rxClose(code, reason);
  }

  private fail(code: string, closeCode: number, message: string): false {
    this.stop();
    this.handler.rxError(new WebSocketError(code, closeCode, message));
    return false;
  }
}

/**
 * A copy that may be held for as long as a peer takes to send the rest: its own memory
 * of exactly this size, not a slice of node's shared 8 KiB pool, which a slow peer
 * would keep alive whole.
 */
function keptCopyOf(src: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafeSlow(end - start);
  src.copy(out, 0, start, end);
  return out;
}
