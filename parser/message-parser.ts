// The incremental state machine shared by RequestParser and ResponseParser: start line
// (subclass), field lines, Content-Length / chunked / close-delimited bodies, trailers,
// pipelining, pause and upgrade. Lines are scanned straight from the input buffer; only
// a line split across execute() calls is copied, into a stash dropped when the message
// completes.
import type { MessageHead, ParserCallbacks, ParserLimits } from './types.ts';
import { TOKEN as TOKEN_TABLE, FIELD_VALUE as FIELD_VALUE_TABLE, latin1 as latin1_, type Latin1Buffer } from './chars.ts';
import {
  ParseError, makeError, E_BARE_LF, E_CHUNK_DATA_CRLF, E_CHUNK_EXTENSIONS_OVERFLOW, E_CHUNK_LINE_TOO_LONG, E_METHOD_TOO_LONG, E_CL_AND_TE, E_CONTENT_LENGTH,
  E_CONTENT_LENGTH_DIFFERS, E_DATA_AFTER_CLOSE, E_HEADER_OVERFLOW, E_INCOMPLETE, E_LEADING_WS, E_OBS_FOLD,
  E_START_LINE_TOO_LONG, E_TE_CHUNKED_TWICE, E_TE_SYNTAX, E_TOO_MANY_HEADERS, E_VERSION, E_VERSION_UNSUPPORTED,
} from './errors.ts';
import { FAILED as FAILED_, INCOMPLETE as INCOMPLETE_, LineScan } from './scan.ts';
import {
  scanFieldLine as scanFieldLine_, classifyField as classifyField_, F_CONNECTION, F_CONTENT_LENGTH, F_OTHER,
  F_TRANSFER_ENCODING, F_UPGRADE,
} from './headers.ts';
import { scanChunkLine as scanChunkLine_ } from './chunked.ts';
import {
  parseContentLength, connectionTokens, transferCodings, CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE, TE_ANY,
  TE_CHUNKED_FINAL, TE_CHUNKED_SEEN, TE_UNKNOWN,
} from './framing.ts';

// Module-local bindings: hot paths must not go through import bindings (bundlers and
// CommonJS transforms turn those into getter calls).
const TOKEN = TOKEN_TABLE;
const FIELD_VALUE = FIELD_VALUE_TABLE;
const latin1 = latin1_;
const scanFieldLine = scanFieldLine_;
const classifyField = classifyField_;
const scanChunkLine = scanChunkLine_;
const FAILED = FAILED_;
const INCOMPLETE = INCOMPLETE_;
const CR = 13;
const LF = 10;
/**
 * Field offsets of the head being scanned on the fast path (4 per field). Shared by all
 * parsers: it is filled and consumed within one step, before any callback runs.
 */
let MARKS: Int32Array<ArrayBuffer> = new Int32Array(4 * 64);

/** Doubles MARKS (it grows with the largest head seen, not with maxHeaders, which may be huge). */
function growMarks(): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(MARKS.length * 2);
  grown.set(MARKS);
  MARKS = grown;
  return grown;
}

// Parser states.
export const S_START = 0; // between messages: CR/LF skipped (RFC 9112 2.2), anything else begins a message
export const S_START_LINE = 1;
export const S_FIELD_LINE = 2;
export const S_CHUNK_SIZE = 3;
export const S_TRAILER_LINE = 4;
export const S_BODY_LENGTH = 5;
export const S_BODY_EOF = 6; // close-delimited response body
export const S_CHUNK_DATA = 7;
export const S_CHUNK_DATA_CR = 8;
export const S_CHUNK_DATA_LF = 9;
export const S_MSG_DONE = 10; // message ended; onComplete pending (runs at the next step)
export const S_CLOSED = 11; // after a message that ends the connection: only CR/LF allowed

export const DEFAULT_LIMITS: Required<ParserLimits> = Object.freeze({
  maxStartLine: 8192,
  maxHeaderSize: 16384,
  maxHeaders: 100,
  maxChunkLine: 4096,
  maxChunkExtensions: 16384,
});

const NO_HEADERS: string[] = [];

export abstract class MessageParser<H extends MessageHead> {
  /** The parse error, once one occurred; execute() consumes nothing more until reset(). */
  error: ParseError | null = null;
  /** An upgrade/CONNECT message completed; the bytes after it belong to the new protocol. resume() declines and continues with HTTP. */
  upgraded = false;
  /** A callback called pause(); execute() consumes nothing until resume(). */
  paused = false;

  protected readonly callbacks: ParserCallbacks<H>;
  protected readonly maxStartLine: number;
  protected readonly maxHeaderSize: number;
  protected readonly maxHeaders: number;
  protected readonly maxChunkLine: number;
  protected readonly maxChunkExtensions: number;
  protected readonly scan = new LineScan();

  /** Status for an over-long start line: 414 for a request-line; a status-line is just a bad response (400). */
  protected startLineTooLongStatus = 414;
  /** Request-lines: the bytes past maxStartLine are still the method (501, not 414). */
  protected methodPastLimit(_buf: Buffer, _lineStart: number, _limitAt: number): boolean {
    return false;
  }
  protected state = S_START;
  /** Absolute offset of the next byte execute() will see. */
  private offset = 0;
  /** Absolute offset of index 0 of the buffer being scanned (input or stash). */
  protected bufBase = 0;
  /** A line split across execute() calls; only while a message is incomplete. */
  private stash: Buffer | null = null;
  private stashLen = 0;
  private stashBase = 0;
  /** Bytes the fast path decodes up front for a head: the previous head's length plus slack. */
  private headGuess = 1024;
  /** Bytes that validly extend the stashed partial line without a rescan, if known. */
  private stashClass: Uint8Array | null = null;

  // Per message.
  protected versionMajor = 1;
  protected versionMinor = 1;
  protected rawHeaders: string[] = NO_HEADERS;
  protected trailers: string[] | null = null;
  protected headerBytes = 0;
  protected headerCount = 0;
  /** Chunk extension bytes of this message so far (maxChunkExtensions). */
  protected chunkExtBytes = 0;
  protected contentLength = -1;
  protected teSeen = false;
  protected teChunkedFinal = false;
  protected teChunkedSeen = false;
  protected teUnknown = false;
  /** Absolute offset of the last Transfer-Encoding value, for framing errors found at the end of the head. */
  protected teAt = 0;
  protected connClose = false;
  protected connKeepAlive = false;
  protected connUpgrade = false;
  protected hasUpgrade = false;
  protected remaining = 0;
  protected upgrade = false;
  /** State after onComplete: S_START (keep-alive) or S_CLOSED. */
  protected afterState = S_START;

  constructor(callbacks: ParserCallbacks<H>, limits?: ParserLimits) {
    this.callbacks = callbacks;
    this.maxStartLine = limits?.maxStartLine ?? DEFAULT_LIMITS.maxStartLine;
    this.maxHeaderSize = limits?.maxHeaderSize ?? DEFAULT_LIMITS.maxHeaderSize;
    this.maxHeaders = limits?.maxHeaders ?? DEFAULT_LIMITS.maxHeaders;
    this.maxChunkLine = limits?.maxChunkLine ?? DEFAULT_LIMITS.maxChunkLine;
    this.maxChunkExtensions = limits?.maxChunkExtensions ?? DEFAULT_LIMITS.maxChunkExtensions;
  }

  /** For a valid incomplete start line: the byte class that validly extends it, or null (rescan). */
  protected abstract startLineClass(stash: Buffer, n: number): Uint8Array | null;
  /** Scans the start line at buf[p] recording offsets only; returns the index after its LF, INCOMPLETE or FAILED. */
  protected abstract scanStartLine(buf: Buffer, p: number, end: number): number;
  /** Makes the start line's strings from `s`, the decoded line(s) starting at buffer index `delta`. */
  protected abstract applyStartLine(s: string, delta: number): void;
  /** The header section ended: decide framing, set `state`, `afterState`, `upgrade`, call onHead. Returns FAILED (with scan.fail) or 0. */
  protected abstract headDone(): number;

  /**
   * Parses `data` up to `end` (default: all of it; a server reading into one reused
   * buffer passes the byte count instead of making a view per read). Returns the bytes
   * consumed: `end` unless `error` is set, a callback paused the parser, or `upgraded`
   * became true. Offsets in errors count from the first byte ever given (or since reset()).
   */
  execute(data: Buffer, end: number = data.length): number {
    if (this.error !== null || this.paused || this.upgraded) return 0;
    if (!(end >= 0 && end <= data.length)) throw new RangeError(`execute: end ${end} is outside the buffer (0..${data.length})`);
    const len = end;
    const base = this.offset;
    let p = 0;
    for (;;) {
      const state = this.state;
      if (state === S_MSG_DONE) {
        this.completeMessage();
        if (this.paused || this.upgraded) break;
        continue;
      }
      if (p >= len) break;
      switch (state) {
        case S_START: {
          const c = data[p];
          if (c === CR || c === LF) {
            p++;
            continue;
          }
          this.beginMessage();
          continue;
        }
        case S_START_LINE:
          p = this.stashLen === 0 ? this.headFast(data, p, len, base) : this.headLineStep(data, p, len, base);
          if (p < 0) return this.failed(base, len);
          break;
        case S_FIELD_LINE:
        case S_TRAILER_LINE:
          p = this.headLineStep(data, p, len, base);
          if (p < 0) return this.failed(base, len);
          break;
        case S_CHUNK_SIZE:
          p = this.chunkLineStep(data, p, len, base);
          if (p < 0) return this.failed(base, len);
          break;
        case S_BODY_LENGTH: {
          const avail = len - p;
          const n = this.remaining < avail ? this.remaining : avail;
          const chunk = data.subarray(p, p + n);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_MSG_DONE;
          this.callbacks.onBody(chunk);
          break;
        }
        case S_CHUNK_DATA: {
          const avail = len - p;
          const n = this.remaining < avail ? this.remaining : avail;
          const chunk = data.subarray(p, p + n);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_CR;
          this.callbacks.onBody(chunk);
          break;
        }
        case S_CHUNK_DATA_CR:
          if (data[p] !== CR) return this.raise(E_CHUNK_DATA_CRLF, base + p, base, len);
          p++;
          this.state = S_CHUNK_DATA_LF;
          continue;
        case S_CHUNK_DATA_LF:
          if (data[p] !== LF) return this.raise(E_CHUNK_DATA_CRLF, base + p, base, len);
          p++;
          this.state = S_CHUNK_SIZE;
          continue;
        case S_BODY_EOF: {
          const chunk = data.subarray(p, len);
          p = len;
          this.callbacks.onBody(chunk);
          break;
        }
        case S_CLOSED: {
          const c = data[p];
          if (c !== CR && c !== LF) return this.raise(E_DATA_AFTER_CLOSE, base + p, base, len);
          p++;
          continue;
        }
      }
      if (this.paused) break;
    }
    this.offset = base + p;
    return p;
  }

  /** Pause from inside a callback: execute() returns right after the current event. */
  pause(): void {
    this.paused = true;
  }

  /** Undo pause(), or decline an upgrade and keep parsing HTTP. Feed the unconsumed bytes again. */
  resume(): void {
    this.paused = false;
    this.upgraded = false;
  }

  /**
   * The peer closed the connection. Ends a close-delimited response body (onComplete),
   * or returns (and sets) an error when a message was incomplete; null otherwise.
   */
  finish(): ParseError | null {
    if (this.error !== null) return this.error;
    if (this.upgraded) return null;
    switch (this.state) {
      case S_START:
      case S_CLOSED:
        return null;
      case S_BODY_EOF:
        this.afterState = S_CLOSED;
        this.completeMessage();
        return null;
      case S_MSG_DONE:
        this.completeMessage();
        return null;
      default:
        this.error = makeError(E_INCOMPLETE, this.offset);
        return this.error;
    }
  }

  /** Clears all state (including error, offsets, pause and upgrade) for reuse on a new connection. */
  reset(): void {
    this.error = null;
    this.upgraded = false;
    this.paused = false;
    this.state = S_START;
    this.offset = 0;
    this.endMessage();
  }

  // --- message lifecycle -------------------------------------------------------

  private beginMessage(): void {
    this.state = S_START_LINE;
    this.rawHeaders = [];
  }

  private completeMessage(): void {
    const trailers = this.trailers;
    const upgrade = this.upgrade;
    this.state = this.afterState;
    this.endMessage();
    if (upgrade) this.upgraded = true;
    this.callbacks.onComplete(trailers);
  }

  /** Drops everything a finished message held (idle parsers keep no buffers or arrays). */
  protected endMessage(): void {
    this.stash = null;
    this.stashLen = 0;
    this.stashClass = null;
    this.rawHeaders = NO_HEADERS;
    this.trailers = null;
    this.headerBytes = 0;
    this.headerCount = 0;
    this.chunkExtBytes = 0;
    this.contentLength = -1;
    this.teSeen = false;
    this.teChunkedFinal = false;
    this.teChunkedSeen = false;
    this.teUnknown = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.connUpgrade = false;
    this.hasUpgrade = false;
    this.remaining = 0;
    this.upgrade = false;
    this.afterState = S_START;
  }

  // --- errors --------------------------------------------------------------------

  private raise(id: number, offset: number, base: number, len: number): number {
    this.error = makeError(id, offset);
    return this.stopAt(base, len);
  }

  /** A scanner failed: turn scan.error/errorAt into the ParseError. */
  private failed(base: number, len: number): number {
    let id = this.scan.error;
    if (id === E_OBS_FOLD && this.state === S_FIELD_LINE && this.headerCount === 0) id = E_LEADING_WS;
    this.error = makeError(id, this.bufBase + this.scan.errorAt, id === E_START_LINE_TOO_LONG ? this.startLineTooLongStatus : 0);
    return this.stopAt(base, len);
  }

  private stopAt(base: number, len: number): number {
    this.stash = null;
    this.stashLen = 0;
    this.stashClass = null;
    const at = (this.error as ParseError).offset - base;
    const p = at < 0 ? 0 : at >= len ? len - 1 : at;
    this.offset = base + p;
    return p;
  }

  // --- lines -------------------------------------------------------------------

  /**
   * Fast path: scan the head straight from the input. One latin1 decode of a window as
   * long as the previous head (plus slack) is made up front, and the strings of every
   * line inside it are cut from it as the line is scanned. Lines past the window are
   * recorded in MARKS and cut from a second decode when the head ends (or the input
   * does, or a byte is bad). An incomplete last line goes to the stash and the head
   * continues line by line.
   */
  private headFast(data: Buffer, p: number, len: number, base: number): number {
    const scan = this.scan;
    this.bufBase = base;
    const headStart = p;
    let r = this.limitLine(this.scanStartLine(data, p, len), data, p, len, this.maxStartLine, E_START_LINE_TOO_LONG);
    if (r === FAILED) return -1;
    if (r === INCOMPLETE) return this.stashLine(data, p, len, base);
    let windowEnd = headStart + this.headGuess;
    if (windowEnd > len) windowEnd = len;
    if (windowEnd < r) windowEnd = r;
    const s = (data as Latin1Buffer).latin1Slice(headStart, windowEnd);
    this.applyStartLine(s, headStart);
    this.state = S_FIELD_LINE;
    const maxHeaders = this.maxHeaders;
    const maxHeaderSize = this.maxHeaderSize;
    let marks = MARKS;
    let count = 0;
    let marked = 0;
    let markFrom = 0;
    let i = r;
    // Section bytes so far, kept local in the loop (headerBytes is 0 here: a new head).
    let bytes = 0;
    for (;;) {
      if (count >= maxHeaders && i < len && data[i] !== CR) {
        this.headerBytes = bytes;
        this.headerCount = count;
        scan.fail(E_TOO_MANY_HEADERS, i);
        return this.applyMarked(data, markFrom, i, marked, true);
      }
      r = scanFieldLine(data, i, len, scan);
      // Common case first: a complete field line within the section budget.
      if (r > 0 && scan.nameEnd !== -1 && bytes + (r - i) <= maxHeaderSize) {
        if (r <= windowEnd && marked === 0) {
          if (this.applyField(s, headStart, i, scan.nameEnd, scan.valueStart, scan.valueEnd) === FAILED) return -1;
        } else {
          const k = marked * 4;
          if (k === 0) markFrom = i;
          if (k === marks.length) marks = growMarks();
          marks[k] = i;
          marks[k + 1] = scan.nameEnd;
          marks[k + 2] = scan.valueStart;
          marks[k + 3] = scan.valueEnd;
          marked++;
        }
        count++;
        bytes += r - i;
        i = r;
        continue;
      }
      this.headerBytes = bytes;
      this.headerCount = count;
      const left = maxHeaderSize - bytes - 2;
      r = this.limitLine(r, data, i, len, left > 0 ? left : 0, E_HEADER_OVERFLOW);
      if (r === FAILED) return this.applyMarked(data, markFrom, i, marked, true);
      if (this.applyMarked(data, markFrom, i, marked, false) < 0) return -1;
      if (r === INCOMPLETE) return this.stashLine(data, i, len, base);
      if (scan.nameEnd === -1) {
        // Next head: decode about as much as this one took.
        this.headGuess = r - headStart + 64;
        return this.headDone() === FAILED ? -1 : r;
      }
      // Unreachable: limitLine fails any field line over the budget.
      scan.fail(E_HEADER_OVERFLOW, i);
      return -1;
    }
  }

  /**
   * Makes the strings of the `marked` field lines recorded in MARKS (all within
   * data[from, end)) and applies them. With `failing`, scan holds an error found after
   * them: a framing error among these earlier lines takes precedence; otherwise that
   * error is restored. Returns 0, or -1 on failure.
   */
  private applyMarked(data: Buffer, from: number, end: number, marked: number, failing: boolean): number {
    if (marked > 0) {
      const scan = this.scan;
      const error = scan.error;
      const errorAt = scan.errorAt;
      const s = (data as Latin1Buffer).latin1Slice(from, end);
      const marks = MARKS;
      for (let k = 0; k < marked * 4; k += 4) {
        if (this.applyField(s, from, marks[k], marks[k + 1], marks[k + 2], marks[k + 3]) === FAILED) return -1;
      }
      if (failing) scan.fail(error, errorAt);
    }
    return failing ? -1 : 0;
  }

  /** Keeps the incomplete (valid so far) line data[p, len) for the next execute(). */
  private stashLine(data: Buffer, p: number, len: number, base: number): number {
    if (p === len) return len;
    this.stashBase = base + p;
    this.stashAppend(data, p, len);
    this.stashClass = this.partialLineClass(this.stash as Buffer, this.stashLen);
    return len;
  }

  /**
   * Slow path: one start/field/trailer line at data[p], or the rest of a line held in the
   * stash. Each complete line is decoded on its own. Returns the next position, or -1.
   */
  private headLineStep(data: Buffer, p: number, len: number, base: number): number {
    const scan = this.scan;
    const state = this.state;
    if (this.stashLen === 0) {
      if (state !== S_START_LINE && data[p] !== CR && this.headerCount >= this.maxHeaders) {
        this.bufBase = base;
        scan.fail(E_TOO_MANY_HEADERS, p);
        return -1;
      }
      this.bufBase = base;
      const r = this.scanHeadLine(data, p, len);
      if (r === FAILED) return -1;
      if (r === INCOMPLETE) return this.stashLine(data, p, len, base);
      return this.applyHeadLine(data, p, r) === FAILED ? -1 : r;
    }
    let lf = data.indexOf(LF, p);
    if (lf >= len) lf = -1; // past `end`: bytes of an earlier read
    const to = lf === -1 ? len : lf + 1;
    const known = this.stashClass;
    this.stashAppend(data, p, to);
    const stash = this.stash as Buffer;
    const stashLen = this.stashLen;
    this.bufBase = this.stashBase;
    if (lf === -1 && known !== null && allIn(known, data, p, to) && stashLen <= this.lineLimit()) {
      // The held prefix was valid and every new byte is valid where it stands: nothing
      // to rescan. Keeps a line dribbled in byte by byte linear, not quadratic.
      return len;
    }
    const r = this.scanHeadLine(stash, 0, stashLen);
    if (r === FAILED) return -1;
    if (r === INCOMPLETE) {
      if (lf === -1) {
        this.stashClass = this.partialLineClass(stash, stashLen);
        return len;
      }
      scan.fail(E_BARE_LF, stashLen - 1); // scanners never stop short of a complete line; defensive
      return -1;
    }
    this.stashLen = 0;
    this.stashClass = null;
    return this.applyHeadLine(stash, 0, r) === FAILED ? -1 : to;
  }

  /** Content limit of the current start/field/trailer line (see limitLine). */
  private lineLimit(): number {
    if (this.state === S_START_LINE) return this.maxStartLine;
    const left = this.maxHeaderSize - this.headerBytes - 2;
    return left > 0 ? left : 0;
  }

  /**
   * For a valid incomplete line held in the stash: the byte class that extends it
   * validly (name, value, method or target bytes), or null when the next bytes need a
   * full rescan (a pending CR, the version, a chunk line...).
   */
  private partialLineClass(stash: Buffer, n: number): Uint8Array | null {
    if (n === 0 || stash[n - 1] === CR) return null;
    if (this.state === S_START_LINE) return this.startLineClass(stash, n);
    return stash.indexOf(58, 0) !== -1 && stash.indexOf(58, 0) < n ? FIELD_VALUE : TOKEN;
  }

  /** Scans a start/field/trailer line at buf[i] with its limit. */
  private scanHeadLine(buf: Buffer, i: number, n: number): number {
    if (this.state === S_START_LINE) {
      return this.limitLine(this.scanStartLine(buf, i, n), buf, i, n, this.maxStartLine, E_START_LINE_TOO_LONG);
    }
    const left = this.maxHeaderSize - this.headerBytes - 2;
    return this.limitLine(scanFieldLine(buf, i, n, this.scan), buf, i, n, left > 0 ? left : 0, E_HEADER_OVERFLOW);
  }

  /** Applies the complete line buf[i, next) just scanned by scanHeadLine. */
  private applyHeadLine(buf: Buffer, i: number, next: number): number {
    const state = this.state;
    if (state === S_START_LINE) {
      this.applyStartLine(latin1(buf, i, next), i);
      this.state = S_FIELD_LINE;
      return next;
    }
    const scan = this.scan;
    if (scan.nameEnd === -1) {
      if (state === S_TRAILER_LINE) {
        this.state = S_MSG_DONE;
        return next;
      }
      return this.headDone();
    }
    this.headerCount++;
    this.headerBytes += next - i;
    return this.applyField(latin1(buf, i, next), i, i, scan.nameEnd, scan.valueStart, scan.valueEnd);
  }

  /**
   * Limits for a line at buf[i] whose scan returned `next`: its content (CRLF excluded)
   * may be at most `max` bytes; the error names the first byte past the limit. A syntax
   * error before that byte wins. Both depend only on the bytes, so every split of the
   * input reports the same error.
   */
  private limitLine(next: number, buf: Buffer, i: number, n: number, max: number, id: number): number {
    const scan = this.scan;
    if (next === FAILED) return scan.decidedAt > i + max ? this.overLimit(buf, i, max, id) : FAILED;
    if (next === INCOMPLETE) {
      let known = n - i;
      if (known > 0 && buf[n - 1] === CR) known--;
      return known > max ? this.overLimit(buf, i, max, id) : INCOMPLETE;
    }
    return next - i - 2 > max ? this.overLimit(buf, i, max, id) : next;
  }

  /** The line at buf[i] passes its limit; buf holds at least the byte at i + max. */
  private overLimit(buf: Buffer, i: number, max: number, id: number): number {
    if (id === E_START_LINE_TOO_LONG && this.methodPastLimit(buf, i, i + max)) id = E_METHOD_TOO_LONG;
    return this.scan.fail(id, i + max);
  }

  /** One chunk-size line (bytes, no strings needed), possibly continuing a stashed one. */
  private chunkLineStep(data: Buffer, p: number, len: number, base: number): number {
    if (this.stashLen === 0) {
      this.bufBase = base;
      const next = this.scanChunkSize(data, p, len);
      if (next >= 0) return next;
      if (next === FAILED) return -1;
      this.stashBase = base + p;
      this.stashAppend(data, p, len);
      return len;
    }
    let lf = data.indexOf(LF, p);
    if (lf >= len) lf = -1; // past `end`: bytes of an earlier read
    const to = lf === -1 ? len : lf + 1;
    this.stashAppend(data, p, to);
    this.bufBase = this.stashBase;
    const stashLen = this.stashLen;
    const next = this.scanChunkSize(this.stash as Buffer, 0, stashLen);
    if (next === FAILED) return -1;
    if (next === INCOMPLETE) {
      if (lf === -1) return len;
      this.scan.fail(E_BARE_LF, stashLen - 1); // scanners never stop short of a complete line; defensive
      return -1;
    }
    this.stashLen = 0;
    return to;
  }

  /** Chunk-size line with its limit. */
  private scanChunkSize(buf: Buffer, p: number, end: number): number {
    const next = this.limitLine(scanChunkLine(buf, p, end, this.scan), buf, p, end, this.maxChunkLine, E_CHUNK_LINE_TOO_LONG);
    if (next < 0) return next;
    const scan = this.scan;
    if (scan.extLength !== 0) {
      const ext = this.chunkExtBytes + scan.extLength;
      // The first extension byte past the budget (the line is complete: same for every split).
      if (ext > this.maxChunkExtensions) return scan.fail(E_CHUNK_EXTENSIONS_OVERFLOW, next - 2 - (ext - this.maxChunkExtensions));
      this.chunkExtBytes = ext;
    }
    const size = scan.size;
    if (size === 0) {
      this.state = S_TRAILER_LINE;
      this.headerBytes = 0;
      this.headerCount = 0;
    } else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return next;
  }

  private stashAppend(data: Buffer, from: number, to: number): void {
    const need = this.stashLen + (to - from);
    let stash = this.stash;
    if (stash === null || stash.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, stash === null ? 128 : stash.length * 2));
      if (stash !== null) stash.copy(grown, 0, 0, this.stashLen);
      this.stash = stash = grown;
    }
    data.copy(stash, this.stashLen, from, to);
    this.stashLen = need;
  }

  /**
   * Makes the strings of one field line from `s` (which starts at buffer index `delta`)
   * and applies it. Offsets are buffer indices. Returns 0 or FAILED.
   */
  private applyField(s: string, delta: number, lineStart: number, nameEnd: number, valueStart: number, valueEnd: number): number {
    const name = s.substring(lineStart - delta, nameEnd - delta);
    const value = s.substring(valueStart - delta, valueEnd - delta);
    if (this.state === S_TRAILER_LINE) {
      if (this.trailers === null) this.trailers = [name, value];
      else this.trailers.push(name, value);
      return 0;
    }
    this.rawHeaders.push(name, value);
    // Only names of these lengths can be framing fields (see classifyField).
    const nameLength = nameEnd - lineStart;
    if (nameLength !== 10 && nameLength !== 14 && nameLength !== 7 && nameLength !== 17) return 0;
    const kind = classifyField(s, lineStart - delta, nameEnd - delta);
    if (kind === F_OTHER) return 0;
    return this.applyFramingField(kind, value, valueStart);
  }

  /** Content-Length, Transfer-Encoding, Connection, Upgrade. */
  private applyFramingField(kind: number, value: string, valueAt: number): number {
    const scan = this.scan;
    switch (kind) {
      case F_CONTENT_LENGTH: {
        if (this.contentLength !== -1) return scan.fail(E_CONTENT_LENGTH_DIFFERS, valueAt);
        if (this.teSeen) return scan.fail(E_CL_AND_TE, valueAt);
        const v = parseContentLength(value);
        if (v < 0) return scan.fail(E_CONTENT_LENGTH, valueAt - 1 - v);
        this.contentLength = v;
        return 0;
      }
      case F_TRANSFER_ENCODING: {
        if (this.contentLength !== -1) return scan.fail(E_CL_AND_TE, valueAt);
        this.teSeen = true;
        this.teAt = this.bufBase + valueAt;
        const te = transferCodings(value, this.teChunkedSeen);
        if (te < 0) {
          const e = -1 - te;
          return scan.fail((e & 1) === 0 ? E_TE_SYNTAX : E_TE_CHUNKED_TWICE, valueAt + (e >> 1));
        }
        if ((te & TE_ANY) !== 0) this.teChunkedFinal = (te & TE_CHUNKED_FINAL) !== 0;
        if ((te & TE_CHUNKED_SEEN) !== 0) this.teChunkedSeen = true;
        if ((te & TE_UNKNOWN) !== 0) this.teUnknown = true;
        return 0;
      }
      case F_CONNECTION: {
        const flags = connectionTokens(value);
        if ((flags & CONN_CLOSE) !== 0) this.connClose = true;
        if ((flags & CONN_KEEP_ALIVE) !== 0) this.connKeepAlive = true;
        if ((flags & CONN_UPGRADE) !== 0) this.connUpgrade = true;
        return 0;
      }
      case F_UPGRADE:
        this.hasUpgrade = true;
        return 0;
    }
    return 0;
  }

  // --- helpers for subclasses --------------------------------------------------

  /**
   * Scans HTTP-version ("HTTP/" DIGIT "." DIGIT) at buf[i] and records it. Returns 0,
   * INCOMPLETE (fewer than 8 bytes, all plausible so far) or FAILED at the first bad byte.
   */
  protected scanVersion(buf: Buffer, i: number, end: number): number {
    if (i + 8 <= end && buf[i] === 72 && buf[i + 1] === 84 && buf[i + 2] === 84 && buf[i + 3] === 80 && buf[i + 4] === 47 && buf[i + 6] === 46) {
      const major = buf[i + 5] - 48;
      const minor = buf[i + 7] - 48;
      if (major >= 0 && major <= 9 && minor >= 0 && minor <= 9) {
        // RFC 9110 2.5: a 1.x recipient treats any 1.y as 1.x; other majors are not this protocol.
        if (major !== 1) {
          // Decided only once the minor digit is in: limits compare against that byte.
          this.scan.fail(E_VERSION_UNSUPPORTED, i + 5);
          this.scan.decidedAt = i + 7;
          return FAILED;
        }
        this.versionMajor = major;
        this.versionMinor = minor;
        return 0;
      }
    }
    for (let k = 0; k < 8 && i + k < end; k++) {
      const c = buf[i + k];
      const ok = k === 5 || k === 7 ? c >= 48 && c <= 57 : c === VERSION_PREFIX.charCodeAt(k);
      if (!ok) return this.scan.fail(E_VERSION, i + k);
    }
    return INCOMPLETE;
  }

  /** RFC 9112 9.3: persistence from the version and Connection tokens. */
  protected persistent(): boolean {
    if (this.connClose) return false;
    return this.versionMinor >= 1 || this.connKeepAlive;
  }
}

const VERSION_PREFIX = 'HTTP/0.0';

/** Every byte of buf[from, to) is in the class. */
function allIn(cls: Uint8Array, buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (cls[buf[i]] !== 1) return false;
  return true;
}
