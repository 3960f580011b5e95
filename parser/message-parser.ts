// The incremental state machine shared by RequestParser and ResponseParser: start line
// (subclass), field lines, Content-Length / chunked / close-delimited bodies, trailers,
// pipelining, pause and upgrade. Lines are scanned straight from the input buffer; only
// a line split across execute() calls is copied, into a stash dropped when the message
// completes.
import type { MessageHead, ParserCallbacks, ParserLimits } from './types.ts';
import { TOKEN as TOKEN_TABLE, latin1 as latin1_, stringEqualsLower } from './chars.ts';
import {
  ParseError, makeError, E_BARE_LF, E_CHUNK_DATA_CRLF, E_CHUNK_LINE_TOO_LONG, E_CL_AND_TE, E_CONTENT_LENGTH,
  E_CONTENT_LENGTH_DIFFERS, E_DATA_AFTER_CLOSE, E_HEADER_OVERFLOW, E_INCOMPLETE, E_LEADING_WS, E_OBS_FOLD,
  E_START_LINE_TOO_LONG, E_TE_CHUNKED_TWICE, E_TE_SYNTAX, E_TOO_MANY_HEADERS, E_VERSION, E_VERSION_UNSUPPORTED,
} from './errors.ts';
import { FAILED as FAILED_, INCOMPLETE as INCOMPLETE_, LineScan } from './scan.ts';
import {
  scanFieldLine as scanFieldLine_, classifyField as classifyField_, F_CONNECTION, F_CONTENT_LENGTH, F_OTHER,
  F_TRANSFER_ENCODING, F_UPGRADE,
} from './headers.ts';
import { scanChunkLine as scanChunkLine_ } from './chunked.ts';

// Module-local bindings: hot paths must not go through import bindings (bundlers and
// CommonJS transforms turn those into getter calls).
const TOKEN = TOKEN_TABLE;
const latin1 = latin1_;
const scanFieldLine = scanFieldLine_;
const classifyField = classifyField_;
const scanChunkLine = scanChunkLine_;
const FAILED = FAILED_;
const INCOMPLETE = INCOMPLETE_;
const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
/** Ends a header section; found with one native search per head on the fast path. */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

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
  /** Longest head the fast path decodes at once: start line + header section + CRLFs. */
  private readonly maxHeadLength: number;
  protected readonly scan = new LineScan();

  /** Status for an over-long start line: 414 for a request-line; a status-line is just a bad response (400). */
  protected startLineTooLongStatus = 414;
  protected state = S_START;
  /** Absolute offset of the next byte execute() will see. */
  private offset = 0;
  /** Absolute offset of index 0 of the buffer being scanned (input or stash). */
  protected bufBase = 0;
  /** A line split across execute() calls; only while a message is incomplete. */
  private stash: Buffer | null = null;
  private stashLen = 0;
  private stashBase = 0;

  // Per message.
  protected versionMajor = 1;
  protected versionMinor = 1;
  protected rawHeaders: string[] = NO_HEADERS;
  protected trailers: string[] | null = null;
  protected headerBytes = 0;
  protected headerCount = 0;
  protected contentLength = -1;
  protected teSeen = false;
  protected teChunkedFinal = false;
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
    this.maxHeadLength = this.maxStartLine + this.maxHeaderSize + 4;
  }

  /** Scans the start line at s[p]; on success records it and returns the index after its LF. */
  protected abstract scanStartLine(s: string, p: number, end: number): number;
  /** The header section ended: decide framing, set `state`, `afterState`, `upgrade`, call onHead. Returns FAILED (with scan.fail) or 0. */
  protected abstract headDone(): number;

  /**
   * Parses `data`. Returns the bytes consumed: data.length unless `error` is set, a
   * callback paused the parser, or `upgraded` became true. Offsets in errors count
   * from the first byte ever given (or since reset()).
   */
  execute(data: Buffer): number {
    if (this.error !== null || this.paused || this.upgraded) return 0;
    const len = data.length;
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
          p = this.stashLen === 0 ? this.headStep(data, p, len, base) : this.headLineStep(data, p, len, base);
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
    this.rawHeaders = NO_HEADERS;
    this.trailers = null;
    this.headerBytes = 0;
    this.headerCount = 0;
    this.contentLength = -1;
    this.teSeen = false;
    this.teChunkedFinal = false;
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
    const at = (this.error as ParseError).offset - base;
    const p = at < 0 ? 0 : at >= len ? len - 1 : at;
    this.offset = base + p;
    return p;
  }

  // --- lines -------------------------------------------------------------------

  /**
   * Fast path for a whole head in one buffer: one native search for CRLFCRLF, one
   * latin1 decode, then every line scanned from that string. Otherwise line by line.
   */
  private headStep(data: Buffer, p: number, len: number, base: number): number {
    const end = data.indexOf(HEAD_END, p);
    if (end === -1 || end + 4 - p > this.maxHeadLength) return this.headLineStep(data, p, len, base);
    const s = latin1(data, p, end + 4);
    const n = s.length;
    this.bufBase = base + p;
    let i = 0;
    do {
      const next = this.scanHeadLine(s, i, n);
      if (next < 0) {
        if (next === INCOMPLETE) this.scan.fail(E_BARE_LF, n - 1); // cannot happen: the head ends with CRLFCRLF
        return -1;
      }
      i = next;
    } while (this.state === S_FIELD_LINE && i < n);
    return p + i;
  }

  /**
   * One start/field/trailer line at data[p], possibly continuing a line held in the
   * stash. Returns the next position, or -1 after a failure (scan.error set).
   */
  private headLineStep(data: Buffer, p: number, len: number, base: number): number {
    const lf = data.indexOf(LF, p);
    const to = lf === -1 ? len : lf + 1;
    let r: number;
    if (this.stashLen === 0) {
      this.bufBase = base + p;
      r = this.scanHeadBytes(data, p, to - p);
      if (r === INCOMPLETE) {
        this.stashBase = base + p;
        this.stashAppend(data, p, len);
        return len;
      }
    } else {
      this.stashAppend(data, p, to);
      this.bufBase = this.stashBase;
      r = this.scanHeadBytes(this.stash as Buffer, 0, this.stashLen);
      if (r === INCOMPLETE) return len;
      this.stashLen = 0;
    }
    if (r === FAILED) return -1;
    return to;
  }

  /**
   * Decodes and scans the bytes of one head line (complete when they end in LF). Decodes
   * no more than the line's limit allows, so a huge line costs no huge string.
   */
  private scanHeadBytes(buf: Buffer, start: number, n: number): number {
    const max = this.lineContentMax();
    if (n > max + 2) {
      // Too long whatever follows; a syntax error before the limit still comes first.
      const r = this.scanHeadLine(latin1(buf, start, start + max + 1), 0, max + 1);
      if (r === FAILED) return FAILED;
      return this.scan.fail(this.state === S_START_LINE ? E_START_LINE_TOO_LONG : E_HEADER_OVERFLOW, max);
    }
    const r = this.scanHeadLine(latin1(buf, start, start + n), 0, n);
    if (r >= 0 && r !== n) return this.scan.fail(E_BARE_LF, n - 1); // a complete line is consumed exactly
    return r;
  }

  /** Longest content (CRLF excluded) the current start/field/trailer line may have. */
  private lineContentMax(): number {
    if (this.state === S_START_LINE) return this.maxStartLine;
    const left = this.maxHeaderSize - this.headerBytes - 2;
    return left > 0 ? left : 0;
  }

  /**
   * Scans and, when complete, applies the start line or a field line at s[i]. Limit
   * errors name the first byte past the limit; a syntax error earlier in the line wins.
   * Both rules depend only on the bytes, so every split of the input reports the same.
   */
  private scanHeadLine(s: string, i: number, n: number): number {
    const scan = this.scan;
    const startLine = this.state === S_START_LINE;
    const max = this.lineContentMax();
    const next = startLine ? this.scanStartLine(s, i, n) : scanFieldLine(s, i, n, scan);
    if (next === FAILED) {
      if (scan.errorAt > i + max) return scan.fail(startLine ? E_START_LINE_TOO_LONG : E_HEADER_OVERFLOW, i + max);
      return FAILED;
    }
    if (next === INCOMPLETE) {
      let known = n - i;
      if (known > 0 && s.charCodeAt(n - 1) === CR) known--;
      if (known > max) return scan.fail(startLine ? E_START_LINE_TOO_LONG : E_HEADER_OVERFLOW, i + max);
      return INCOMPLETE;
    }
    if (next - i - 2 > max) return scan.fail(startLine ? E_START_LINE_TOO_LONG : E_HEADER_OVERFLOW, i + max);
    if (startLine) {
      this.state = S_FIELD_LINE;
      return next;
    }
    return this.applyFieldLine(s, i, next);
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
    const lf = data.indexOf(LF, p);
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

  /** Chunk-size line with its limit (same first-byte-past-the-limit rule as head lines). */
  private scanChunkSize(buf: Buffer, p: number, end: number): number {
    const scan = this.scan;
    const max = this.maxChunkLine;
    const next = scanChunkLine(buf, p, end, scan);
    if (next === FAILED) {
      if (scan.errorAt > p + max) return scan.fail(E_CHUNK_LINE_TOO_LONG, p + max);
      return FAILED;
    }
    if (next === INCOMPLETE) {
      let known = end - p;
      if (known > 0 && buf[end - 1] === CR) known--;
      if (known > max) return scan.fail(E_CHUNK_LINE_TOO_LONG, p + max);
      return INCOMPLETE;
    }
    if (next - p - 2 > max) return scan.fail(E_CHUNK_LINE_TOO_LONG, p + max);
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

  private applyFieldLine(s: string, p: number, next: number): number {
    const scan = this.scan;
    const nameEnd = scan.nameEnd;
    if (nameEnd === -1) {
      if (this.state === S_TRAILER_LINE) {
        this.state = S_MSG_DONE;
        return next;
      }
      return this.headDone() === FAILED ? FAILED : next;
    }
    if (++this.headerCount > this.maxHeaders) return scan.fail(E_TOO_MANY_HEADERS, p);
    this.headerBytes += next - p;
    const name = s.substring(p, nameEnd);
    const value = s.substring(scan.valueStart, scan.valueEnd);
    if (this.state === S_TRAILER_LINE) {
      if (this.trailers === null) this.trailers = [name, value];
      else this.trailers.push(name, value);
      return next;
    }
    this.rawHeaders.push(name, value);
    const kind = classifyField(s, p, nameEnd);
    if (kind === F_OTHER) return next;
    return this.applyFramingField(kind, value, scan.valueStart) === FAILED ? FAILED : next;
  }

  /** Content-Length, Transfer-Encoding, Connection, Upgrade. */
  private applyFramingField(kind: number, value: string, valueAt: number): number {
    const scan = this.scan;
    switch (kind) {
      case F_CONTENT_LENGTH: {
        if (this.contentLength !== -1) return scan.fail(E_CONTENT_LENGTH_DIFFERS, valueAt);
        if (this.teSeen) return scan.fail(E_CL_AND_TE, valueAt);
        const n = value.length;
        if (n === 0 || n > 16) return scan.fail(E_CONTENT_LENGTH, valueAt);
        let v = 0;
        for (let i = 0; i < n; i++) {
          const d = value.charCodeAt(i) - 48;
          if (d < 0 || d > 9) return scan.fail(E_CONTENT_LENGTH, valueAt + i);
          v = v * 10 + d;
        }
        if (v > Number.MAX_SAFE_INTEGER) return scan.fail(E_CONTENT_LENGTH, valueAt);
        this.contentLength = v;
        return 0;
      }
      case F_TRANSFER_ENCODING:
        if (this.contentLength !== -1) return scan.fail(E_CL_AND_TE, valueAt);
        this.teSeen = true;
        this.teAt = this.bufBase + valueAt;
        return this.applyTransferEncoding(value, valueAt);
      case F_CONNECTION:
        this.applyConnection(value);
        return 0;
      case F_UPGRADE:
        this.hasUpgrade = true;
        return 0;
    }
    return 0;
  }

  /** RFC 9112 6.1: a list of transfer-codings (token [; params]); records whether chunked is final. */
  private applyTransferEncoding(value: string, valueAt: number): number {
    const n = value.length;
    let i = 0;
    while (i < n) {
      let c = value.charCodeAt(i);
      if (c === 44 || c === SP || c === HTAB) {
        i++;
        continue;
      }
      const start = i;
      while (i < n && TOKEN[value.charCodeAt(i)] === 1) i++;
      if (i === start) return this.scan.fail(E_TE_SYNTAX, valueAt + i);
      const chunked = stringEqualsLower(value, start, i, 'chunked');
      if (chunked && this.teChunkedFinal) return this.scan.fail(E_TE_CHUNKED_TWICE, valueAt + start);
      if (!chunked && this.teChunkedFinal) this.teChunkedFinal = false;
      if (chunked) this.teChunkedFinal = true;
      else if (!isKnownCoding(value, start, i)) this.teUnknown = true;
      // Skip transfer-parameters up to the next list element.
      while (i < n && (c = value.charCodeAt(i)) !== 44) {
        if (c === 34) {
          i++;
          while (i < n && (c = value.charCodeAt(i)) !== 34) i += c === 92 ? 2 : 1;
        }
        i++;
      }
    }
    return 0;
  }

  private applyConnection(value: string): void {
    const n = value.length;
    let i = 0;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 44 || c === SP || c === HTAB) {
        i++;
        continue;
      }
      const start = i;
      while (i < n && value.charCodeAt(i) !== 44) i++;
      let end = i;
      while (end > start && (value.charCodeAt(end - 1) === SP || value.charCodeAt(end - 1) === HTAB)) end--;
      if (stringEqualsLower(value, start, end, 'close')) this.connClose = true;
      else if (stringEqualsLower(value, start, end, 'keep-alive')) this.connKeepAlive = true;
      else if (stringEqualsLower(value, start, end, 'upgrade')) this.connUpgrade = true;
    }
  }

  // --- helpers for subclasses --------------------------------------------------

  /**
   * Scans HTTP-version ("HTTP/" DIGIT "." DIGIT) at buf[i] and records it. Returns 0,
   * INCOMPLETE (fewer than 8 bytes, all plausible so far) or FAILED at the first bad byte.
   */
  protected scanVersion(s: string, i: number, end: number): number {
    if (i + 8 <= end && s.charCodeAt(i) === 72 && s.charCodeAt(i + 1) === 84 && s.charCodeAt(i + 2) === 84 &&
      s.charCodeAt(i + 3) === 80 && s.charCodeAt(i + 4) === 47 && s.charCodeAt(i + 6) === 46) {
      const major = s.charCodeAt(i + 5) - 48;
      const minor = s.charCodeAt(i + 7) - 48;
      if (major >= 0 && major <= 9 && minor >= 0 && minor <= 9) {
        // RFC 9110 2.5: a 1.x recipient treats any 1.y as 1.x; other majors are not this protocol.
        if (major !== 1) return this.scan.fail(E_VERSION_UNSUPPORTED, i + 5);
        this.versionMajor = major;
        this.versionMinor = minor;
        return 0;
      }
    }
    for (let k = 0; k < 8 && i + k < end; k++) {
      const c = s.charCodeAt(i + k);
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

/** IANA-registered transfer-codings other than chunked. */
function isKnownCoding(s: string, start: number, end: number): boolean {
  return stringEqualsLower(s, start, end, 'gzip') || stringEqualsLower(s, start, end, 'deflate') ||
    stringEqualsLower(s, start, end, 'compress') || stringEqualsLower(s, start, end, 'x-gzip') ||
    stringEqualsLower(s, start, end, 'x-compress') || stringEqualsLower(s, start, end, 'identity');
}
