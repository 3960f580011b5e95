// Request parser (server side): request-line, then the shared field/body machinery.
import type { RequestHead } from './types.ts';
import { TOKEN as TOKEN_TABLE, TARGET as TARGET_TABLE } from './chars.ts';
import { E_BARE_CR, E_BARE_LF, E_METHOD, E_TARGET, E_TE_HTTP10, E_TE_NOT_CHUNKED_FINAL, E_TE_UNKNOWN, E_VERSION } from './errors.ts';
import { FAILED, INCOMPLETE } from './scan.ts';
import { MessageParser, S_BODY_LENGTH, S_CHUNK_SIZE, S_CLOSED, S_MSG_DONE, S_START } from './message-parser.ts';

// Module-local bindings for the hot loop (see message-parser.ts).
const TOKEN = TOKEN_TABLE;
const TARGET = TARGET_TABLE;
const CR = 13;
const LF = 10;
const SP = 32;

export class RequestParser extends MessageParser<RequestHead> {
  private method = '';
  private target = '';
  // Start-line offsets between scanStartLine and applyStartLine.
  private methodStart = 0;
  private methodEnd = 0;
  private targetStart = 0;
  private targetEnd = 0;

  /**
   * The method of the request whose head is being parsed: set once its request-line is
   * complete, '' before that and after onHead (which carries it). A server answering a
   * head it rejects uses it to know whether the answer may have content (HEAD).
   */
  get messageMethod(): string {
    return this.method;
  }

  override reset(): void {
    super.reset();
    this.method = '';
    this.target = '';
  }

  /** request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3). */
  protected scanStartLine(buf: Buffer, p: number, end: number): number {
    const scan = this.scan;
    let i = p;
    while (i < end && TOKEN[buf[i]] === 1) i++;
    if (i >= end) return INCOMPLETE;
    if (buf[i] !== SP || i === p) return scan.fail(E_METHOD, i);
    const methodEnd = i++;
    const targetStart = i;
    while (i < end && TARGET[buf[i]] === 1) i++;
    if (i >= end) return INCOMPLETE;
    if (buf[i] !== SP || i === targetStart) return scan.fail(E_TARGET, i);
    const targetEnd = i++;
    const v = this.scanVersion(buf, i, end);
    if (v === FAILED && scan.error === E_VERSION) {
      // "GET /a b HTTP/1.1" is a space in the target, not a bad version: decide once a
      // SP or the line end shows up, so every split of the input gets the same answer.
      const badAt = scan.errorAt;
      const k = nextDelimiter(buf, i, end);
      if (k === -1) return INCOMPLETE;
      const r = buf[k] === SP ? scan.fail(E_TARGET, targetEnd) : scan.fail(E_VERSION, badAt);
      scan.decidedAt = k;
      return r;
    }
    if (v !== 0) return v;
    i += 8;
    if (i >= end) return INCOMPLETE;
    const c = buf[i];
    if (c !== CR) return scan.fail(c === LF ? E_BARE_LF : E_VERSION, i);
    if (i + 1 >= end) return INCOMPLETE;
    if (buf[i + 1] !== LF) return scan.fail(E_BARE_CR, i);
    this.methodStart = p;
    this.methodEnd = methodEnd;
    this.targetStart = targetStart;
    this.targetEnd = targetEnd;
    return i + 2;
  }

  /**
   * RFC 9112 3: a method longer than any the server implements is 501, a target longer
   * than it will parse 414. The limit byte itself may be the SP that ends the method.
   */
  protected override methodPastLimit(buf: Buffer, lineStart: number, limitAt: number): boolean {
    const sp = buf.indexOf(SP, lineStart);
    return sp === -1 || sp > limitAt;
  }

  protected startLineClass(stash: Buffer, n: number): Uint8Array | null {
    const sp = stash.indexOf(SP);
    if (sp === -1 || sp >= n) return TOKEN; // still in the method
    const sp2 = stash.indexOf(SP, sp + 1);
    return sp2 === -1 || sp2 >= n ? TARGET : null; // in the target; the version is short
  }

  protected applyStartLine(s: string, delta: number): void {
    this.method = methodName(s, this.methodStart - delta, this.methodEnd - delta);
    this.target = s.substring(this.targetStart - delta, this.targetEnd - delta);
  }

  protected headDone(): number {
    let chunked = false;
    let state = S_MSG_DONE;
    if (this.teSeen) {
      // RFC 9112 6.1: HTTP/1.0 has no transfer codings; its framing cannot be trusted.
      if (this.versionMinor === 0) return this.scan.fail(E_TE_HTTP10, this.teAt - this.bufBase);
      // RFC 9112 6.3: a request's length is known only when chunked is the final coding.
      if (!this.teChunkedFinal) return this.scan.fail(E_TE_NOT_CHUNKED_FINAL, this.teAt - this.bufBase);
      if (this.teUnknown) return this.scan.fail(E_TE_UNKNOWN, this.teAt - this.bufBase);
      chunked = true;
      state = S_CHUNK_SIZE;
    } else if (this.contentLength > 0) {
      this.remaining = this.contentLength;
      state = S_BODY_LENGTH;
    }
    const method = this.method;
    const connect = method === 'CONNECT';
    // CONNECT: the bytes after the head belong to the tunnel (RFC 9110 9.3.6), in
    // HTTP/1.0 too (proxies have always taken it). Upgrade is an HTTP/1.1 mechanism: in
    // an HTTP/1.0 request it is ignored (RFC 9110 7.8) and the request is an ordinary one.
    if (connect) state = S_MSG_DONE;
    const upgrade = connect || (this.connUpgrade && this.hasUpgrade && this.versionMinor !== 0);
    const keepAlive = this.persistent();
    this.upgrade = upgrade;
    this.afterState = keepAlive ? S_START : S_CLOSED;
    this.state = state;
    const head: RequestHead = {
      method,
      target: this.target,
      versionMajor: this.versionMajor,
      versionMinor: this.versionMinor,
      rawHeaders: this.rawHeaders,
      contentLength: chunked ? -1 : this.contentLength,
      chunked,
      keepAlive,
      upgrade,
    };
    this.method = '';
    this.target = '';
    this.callbacks.onHead(head);
    return 0;
  }
}

/** Common methods as constant strings (no allocation); others as substrings. */
function methodName(s: string, start: number, end: number): string {
  const c = s.charCodeAt(start);
  switch (end - start) {
    case 3:
      if (c === 71 && s.charCodeAt(start + 1) === 69 && s.charCodeAt(start + 2) === 84) return 'GET';
      if (c === 80 && s.charCodeAt(start + 1) === 85 && s.charCodeAt(start + 2) === 84) return 'PUT';
      break;
    case 4:
      if (c === 80 && s.charCodeAt(start + 1) === 79 && s.charCodeAt(start + 2) === 83 && s.charCodeAt(start + 3) === 84) return 'POST';
      if (c === 72 && s.charCodeAt(start + 1) === 69 && s.charCodeAt(start + 2) === 65 && s.charCodeAt(start + 3) === 68) return 'HEAD';
      break;
  }
  return s.substring(start, end);
}

/** Index of the first SP, CR or LF at or after i, or -1. */
function nextDelimiter(buf: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = buf[i];
    if (c === SP || c === CR || c === LF) return i;
  }
  return -1;
}
