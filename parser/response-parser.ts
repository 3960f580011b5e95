// Response parser (client side): status-line, then the shared field/body machinery.
// Needs the request method to frame the body (HEAD, CONNECT).
import type { ResponseHead } from './types.ts';
import { FIELD_VALUE as FIELD_VALUE_TABLE } from './chars.ts';
import { E_BARE_CR, E_BARE_LF, E_REASON, E_STATUS, E_VERSION } from './errors.ts';
import { INCOMPLETE } from './scan.ts';
import { MessageParser, S_BODY_EOF, S_BODY_LENGTH, S_CHUNK_SIZE, S_CLOSED, S_MSG_DONE, S_START } from './message-parser.ts';
import type { ParserCallbacks, ParserLimits } from './types.ts';

const FIELD_VALUE = FIELD_VALUE_TABLE;
const CR = 13;
const LF = 10;
const SP = 32;

export class ResponseParser extends MessageParser<ResponseHead> {
  /** Method of the request this response answers; set before its bytes arrive. HEAD: no body; CONNECT + 2xx: upgraded. */
  requestMethod = 'GET';
  /**
   * Minor version of the request this response answers (default 1); set before its
   * bytes arrive. A 101 switches protocols only in an HTTP/1.1 exchange: an HTTP/1.0
   * request cannot ask for an upgrade (RFC 9110 7.8) nor be sent a 1xx (15.2).
   */
  requestVersionMinor = 1;
  private statusCode = 0;
  private reason = '';
  private reasonStart = 0;
  private reasonEnd = 0;

  constructor(callbacks: ParserCallbacks<ResponseHead>, limits?: ParserLimits) {
    super(callbacks, limits);
    this.startLineTooLongStatus = 400;
  }

  override reset(): void {
    super.reset();
    this.requestMethod = 'GET';
    this.requestVersionMinor = 1;
  }

  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 4). */
  protected scanStartLine(buf: Buffer, p: number, end: number): number {
    const scan = this.scan;
    const v = this.scanVersion(buf, p, end);
    if (v !== 0) return v;
    let i = p + 8;
    if (i >= end) return INCOMPLETE;
    if (buf[i] !== SP) return scan.fail(E_VERSION, i);
    i++;
    let status = 0;
    for (let k = 0; k < 3; k++, i++) {
      if (i >= end) return INCOMPLETE;
      const d = buf[i] - 48;
      if (d < 0 || d > 9 || (k === 0 && d === 0)) return scan.fail(E_STATUS, i);
      status = status * 10 + d;
    }
    if (i >= end) return INCOMPLETE;
    let c = buf[i];
    let reasonStart = i;
    if (c === SP) {
      reasonStart = ++i;
      while (i < end && FIELD_VALUE[buf[i]] === 1) i++;
      if (i >= end) return INCOMPLETE;
      c = buf[i];
      if (c !== CR) return scan.fail(c === LF ? E_BARE_LF : E_REASON, i);
    } else if (c !== CR) {
      return scan.fail(c === LF ? E_BARE_LF : E_STATUS, i);
    }
    if (i + 1 >= end) return INCOMPLETE;
    if (buf[i + 1] !== LF) return scan.fail(E_BARE_CR, i);
    this.statusCode = status;
    this.reasonStart = reasonStart;
    this.reasonEnd = i;
    return i + 2;
  }

  protected startLineClass(stash: Buffer, n: number): Uint8Array | null {
    // Only the reason phrase can be long: after "HTTP/x.y SP ddd SP".
    return n > 13 ? FIELD_VALUE : null;
  }

  protected applyStartLine(s: string, delta: number): void {
    this.reason = this.reasonStart === this.reasonEnd ? '' : s.substring(this.reasonStart - delta, this.reasonEnd - delta);
  }

  protected headDone(): number {
    const status = this.statusCode;
    const method = this.requestMethod;
    // A 101 is a switch only when both sides speak HTTP/1.1 (RFC 9110 7.8, 15.2.2);
    // otherwise it is an unexpected 1xx, which a client may ignore (RFC 9110 15.2), and
    // the final response follows. A 2xx to CONNECT opens a tunnel in any version.
    const switched = status === 101 && this.versionMinor !== 0 && this.requestVersionMinor !== 0;
    const interim = status < 200 && !switched;
    const upgrade = switched || (method === 'CONNECT' && status >= 200 && status < 300);
    let chunked = false;
    let contentLength = this.contentLength;
    let state: number;
    if (upgrade || interim || status === 204 || status === 304 || method === 'HEAD') {
      // RFC 9112 6.3 rules 1-2: no content, whatever the framing fields say.
      state = S_MSG_DONE;
    } else if (this.teSeen) {
      contentLength = -1;
      // RFC 9112 6.1: in HTTP/1.0, Transfer-Encoding means faulty framing: read until close.
      if (this.teChunkedFinal && this.versionMinor !== 0) {
        chunked = true;
        state = S_CHUNK_SIZE;
      } else {
        state = S_BODY_EOF; // RFC 9112 6.3 rule 4: read until the connection closes
      }
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      state = S_BODY_LENGTH;
    } else if (contentLength === 0) {
      state = S_MSG_DONE;
    } else {
      state = S_BODY_EOF;
    }
    const keepAlive = state !== S_BODY_EOF && this.persistent();
    this.upgrade = upgrade;
    this.afterState = interim || keepAlive ? S_START : S_CLOSED;
    this.state = state;
    const head: ResponseHead = {
      statusCode: status,
      reason: this.reason,
      versionMajor: this.versionMajor,
      versionMinor: this.versionMinor,
      rawHeaders: this.rawHeaders,
      contentLength,
      chunked,
      keepAlive,
      upgrade,
    };
    this.reason = '';
    this.callbacks.onHead(head);
    return 0;
  }
}
