// Frame writer: builds each frame in one buffer when small (header + payload, masked
// when we are the client), coalesces bursts of frames into one write (see coalesce()),
// and keeps order while messages wait for compression.
import type { Duplex } from 'node:stream';
import { crypto } from './builtins.ts';
import { FIN, RSV1, Opcode, headerLength, writeHeader, maskInto, unmaskInPlace } from './frame.ts';
import type { PerMessageDeflate } from './deflate.ts';

/** Buffer's latin1Slice (on every Node Buffer, untyped in @types/node). */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Buffer's utf8Write (on every Node Buffer, untyped in @types/node): write() without its argument parsing. */
interface Utf8Buffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
}

/** Payloads up to this size are copied next to their header; larger ones are written as is. */
const MERGE_LIMIT = 16 * 1024;

// Masking keys come from a shared pool of random bytes, refilled in bulk.
const KEY_POOL_SIZE = 8192;
const keyPool = Buffer.allocUnsafe(KEY_POOL_SIZE);
let keyOffset = KEY_POOL_SIZE;

function nextKeyOffset(): number {
  if (keyOffset === KEY_POOL_SIZE) {
    crypto().randomFillSync(keyPool);
    keyOffset = 0;
  }
  const o = keyOffset;
  keyOffset += 4;
  return o;
}

// Coalescing without a per-write timer. A burst is either one incoming chunk being
// processed (beginBatch/endBatch): the socket is corked at the first frame when more
// input is waiting in the chunk (replies to pipelined messages leave in one writev), a
// lone reply is written at once. Or, outside of that, one turn of the nextTick queue,
// tracked by a process-wide epoch bumped by a single nextTick: the first frame is
// written at once, from the second on the socket is corked until the next tick.
let epoch = 1;
let epochScheduled = false;
function bumpEpoch(): void {
  epoch++;
  epochScheduled = false;
}
function currentEpoch(): number {
  if (!epochScheduled) {
    epochScheduled = true;
    process.nextTick(bumpEpoch);
  }
  return epoch;
}

function uncorkTick(sender: Sender): void {
  sender.uncorkNow();
}

/** Two-byte headers (unmasked, payload under 126 bytes) as latin1 strings, by first byte and length. */
const shortHeaders = new Map<number, string[]>();
function shortHeader(first: number, len: number): string {
  let byLength = shortHeaders.get(first);
  if (byLength === undefined) {
    byLength = [];
    for (let n = 0; n < 126; n++) byLength.push(String.fromCharCode(first, n));
    shortHeaders.set(first, byLength);
  }
  return byLength[len]!;
}

/** A message waiting behind a compression in progress. */
interface Pending {
  opcode: number;
  data: Buffer;
  fin: boolean;
  compress: boolean;
}

// Sender.flags bits: the boolean states, packed (an idle connection is a few words).
const F_MASK = 1;
const F_CORKED = 2;
const F_BATCHING = 4;
const F_CONTINUING = 8;
const F_CONTINUING_COMPRESSED = 16;
const F_COMPRESSING = 32;
const F_END_PENDING = 64;

export class Sender {
  readonly socket: Duplex;
  private flags = 0;
  /** Frames written in the current burst. */
  private burstWrites = 0;
  /** Epoch of the last write outside a batch. */
  private lastEpoch = 0;
  private readonly deflate: PerMessageDeflate | null;

  /** We are the client: frames are masked. */
  private get mask(): boolean { return (this.flags & F_MASK) !== 0; }
  /** The socket is corked by us until the burst ends. */
  private get corked(): boolean { return (this.flags & F_CORKED) !== 0; }
  private set corked(v: boolean) { this.flags = v ? this.flags | F_CORKED : this.flags & ~F_CORKED; }
  /** Inside beginBatch/endBatch (processing one incoming chunk). */
  private get batching(): boolean { return (this.flags & F_BATCHING) !== 0; }
  private set batching(v: boolean) { this.flags = v ? this.flags | F_BATCHING : this.flags & ~F_BATCHING; }
  /** The previous data frame had FIN clear: the next one is a continuation. */
  private get continuing(): boolean { return (this.flags & F_CONTINUING) !== 0; }
  private set continuing(v: boolean) { this.flags = v ? this.flags | F_CONTINUING : this.flags & ~F_CONTINUING; }
  /** The message in progress is compressed (all its fragments go through the deflater). */
  private get continuingCompressed(): boolean { return (this.flags & F_CONTINUING_COMPRESSED) !== 0; }
  private set continuingCompressed(v: boolean) { this.flags = v ? this.flags | F_CONTINUING_COMPRESSED : this.flags & ~F_CONTINUING_COMPRESSED; }
  private get compressing(): boolean { return (this.flags & F_COMPRESSING) !== 0; }
  private set compressing(v: boolean) { this.flags = v ? this.flags | F_COMPRESSING : this.flags & ~F_COMPRESSING; }
  /** end() was asked while compression was running: end once the queue is written. */
  private get endPending(): boolean { return (this.flags & F_END_PENDING) !== 0; }
  private set endPending(v: boolean) { this.flags = v ? this.flags | F_END_PENDING : this.flags & ~F_END_PENDING; }

  private queue: Pending[] | null = null;
  /** Bytes held in `queue` and in the deflater. */
  queuedBytes = 0;

  /** Input not parsed yet: when non-zero during a batch, more replies are likely. */
  private readonly input: { readonly pendingBytes: number } | null;

  constructor(socket: Duplex, isClient: boolean, deflate: PerMessageDeflate | null, input: { readonly pendingBytes: number } | null = null) {
    this.socket = socket;
    this.input = input;
    if (isClient) this.flags = F_MASK;
    this.deflate = deflate;
  }

  /**
   * Send a text (string or bytes) or binary message, or a fragment of one when `fin`
   * is false. `compress` asks for permessage-deflate (ignored when not negotiated or
   * below the threshold).
   */
  sendData(data: string | Buffer, binary: boolean, fin: boolean, compress: boolean): void {
    let opcode: number = binary ? Opcode.BINARY : Opcode.TEXT;
    if (this.continuing) opcode = Opcode.CONTINUATION;
    const deflate = this.deflate;
    let useDeflate = false;
    if (deflate !== null) {
      if (opcode === Opcode.CONTINUATION) useDeflate = this.continuingCompressed;
      else {
        const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        useDeflate = compress && len >= deflate.threshold;
      }
    }
    this.continuing = !fin;
    if (!fin && opcode !== Opcode.CONTINUATION) this.continuingCompressed = useDeflate;
    if (useDeflate || this.compressing) {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      this.enqueue(opcode, buf, fin, useDeflate);
      return;
    }
    this.frame((fin ? FIN : 0) | opcode, data);
  }

  /** Send a ping, pong or close frame (payload at most 125 bytes, checked by the caller). */
  sendControl(opcode: number, payload: Buffer): void {
    if (this.compressing) {
      this.enqueue(opcode, payload, true, false);
      return;
    }
    this.frame(FIN | opcode, payload);
  }

  private enqueue(opcode: number, data: Buffer, fin: boolean, compress: boolean): void {
    if (!this.compressing) {
      if (compress) this.startCompress(opcode, data, fin);
      else this.frame((fin ? FIN : 0) | opcode, data);
      return;
    }
    this.queuedBytes += data.length;
    (this.queue ??= []).push({ opcode, data, fin, compress });
  }

  private startCompress(opcode: number, data: Buffer, fin: boolean): void {
    this.compressing = true;
    this.queuedBytes += data.length;
    const first = opcode === Opcode.CONTINUATION ? 0 : RSV1;
    this.deflate!.compress(data, fin, (out) => {
      this.queuedBytes -= data.length;
      this.compressing = false;
      if (!this.socket.destroyed) this.frame((fin ? FIN : 0) | first | opcode, out);
      this.drainQueue();
    });
  }

  private drainQueue(): void {
    const q = this.queue;
    while (q !== null && q.length > 0 && !this.compressing) {
      const p = q.shift()!;
      this.queuedBytes -= p.data.length;
      if (p.compress) this.startCompress(p.opcode, p.data, p.fin);
      else if (!this.socket.destroyed) this.frame((p.fin ? FIN : 0) | p.opcode, p.data);
    }
    if (q !== null && q.length === 0) this.queue = null;
    if (this.endPending && !this.compressing) {
      this.endPending = false;
      this.socket.end();
    }
  }

  /** End the socket after every queued frame (a close frame behind a compression) is written. */
  end(): void {
    if (this.compressing) this.endPending = true;
    else this.socket.end();
  }

  /** Frames written until endBatch() form one burst (an incoming chunk being processed). */
  beginBatch(): void {
    this.batching = true;
    this.burstWrites = 0;
  }

  endBatch(): void {
    this.batching = false;
    if (this.corked) this.uncorkNow();
  }

  /** @internal */
  uncorkNow(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  private coalesce(): void {
    if (this.batching) {
      if (this.corked) return;
      const n = ++this.burstWrites;
      if (n >= 2 || (this.input !== null && this.input.pendingBytes > 0)) {
        this.corked = true;
        this.socket.cork();
      }
      return;
    }
    const e = currentEpoch();
    if (e !== this.lastEpoch) {
      this.lastEpoch = e;
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncorkTick, this);
    }
  }

  /** Write one frame. `first` is the first header byte (FIN, RSV1, opcode). */
  private frame(first: number, data: string | Buffer): void {
    const socket = this.socket;
    this.coalesce();
    const isString = typeof data === 'string';
    const len = isString ? Buffer.byteLength(data) : data.length;
    const hlen = headerLength(len) + (this.mask ? 4 : 0);
    if (this.mask) {
      const ko = nextKeyOffset();
      const out = Buffer.allocUnsafe(hlen + len);
      writeHeader(out, 0, first, len, keyPool, ko);
      const k0 = keyPool[ko]!, k1 = keyPool[ko + 1]!, k2 = keyPool[ko + 2]!, k3 = keyPool[ko + 3]!;
      if (isString) {
        (out as Utf8Buffer).utf8Write(data, hlen, len);
        unmaskInPlace(out, hlen, hlen + len, k0, k1, k2, k3);
      } else {
        maskInto(out, hlen, data, 0, len, k0, k1, k2, k3);
      }
      socket.write(out);
      return;
    }
    if (len < 126) {
      // A short frame goes out as one latin1 string, which node copies as it writes: no
      // Buffer to allocate. ASCII text is its own latin1; bytes map to latin1 one to one.
      if (!isString) {
        socket.write(shortHeader(first, len) + (data as Latin1Buffer).latin1Slice(0, len), 'latin1');
        return;
      }
      if (len === data.length) {
        socket.write(shortHeader(first, len) + data, 'latin1');
        return;
      }
    }
    if (isString || len <= MERGE_LIMIT) {
      const out = Buffer.allocUnsafe(hlen + len);
      writeHeader(out, 0, first, len, null);
      if (isString) (out as Utf8Buffer).utf8Write(data, hlen, len);
      else out.set(data, hlen);
      socket.write(out);
      return;
    }
    const header = Buffer.allocUnsafe(hlen);
    writeHeader(header, 0, first, len, null);
    socket.write(header);
    socket.write(data);
  }
}
