import type { ParseErrorShape } from './types.ts';

/** A precise parse failure: stable `code`, the rule it enforces (`reason`), where (`offset`) and the status a server answers with. */
export class ParseError extends Error implements ParseErrorShape {
  readonly code: string;
  readonly reason: string;
  readonly offset: number;
  readonly status: number;

  constructor(code: string, reason: string, offset: number, status: number) {
    super(`${code}: ${reason} (at byte ${offset})`);
    this.name = 'ParseError';
    this.code = code;
    this.reason = reason;
    this.offset = offset;
    this.status = status;
  }
}

// Internal error ids: scanners record a small integer, the parser turns it into a ParseError.
export const E_METHOD = 1;
export const E_TARGET = 2;
export const E_VERSION = 3;
export const E_VERSION_UNSUPPORTED = 4;
export const E_STATUS = 5;
export const E_REASON = 6;
export const E_START_LINE_TOO_LONG = 7;
export const E_FIELD_NAME = 8;
export const E_WS_BEFORE_COLON = 9;
export const E_FIELD_VALUE = 10;
export const E_OBS_FOLD = 11;
export const E_BARE_CR = 12;
export const E_BARE_LF = 13;
export const E_HEADER_OVERFLOW = 14;
export const E_TOO_MANY_HEADERS = 15;
export const E_CONTENT_LENGTH = 16;
export const E_CONTENT_LENGTH_DIFFERS = 17;
export const E_CL_AND_TE = 18;
export const E_TE_NOT_CHUNKED_FINAL = 19;
export const E_TE_UNKNOWN = 20;
export const E_TE_SYNTAX = 21;
export const E_CHUNK_SIZE = 22;
export const E_CHUNK_EXTENSION = 23;
export const E_CHUNK_LINE_TOO_LONG = 24;
export const E_CHUNK_DATA_CRLF = 25;
export const E_DATA_AFTER_CLOSE = 26;
export const E_INCOMPLETE = 27;
export const E_TE_CHUNKED_TWICE = 28;
export const E_LEADING_WS = 29;
export const E_TE_HTTP10 = 30;
export const E_CHUNK_EXTENSIONS_OVERFLOW = 31;
export const E_METHOD_TOO_LONG = 32;

/** id -> [code, status, reason naming the rule]. Documented in docs/parser.md. */
const TABLE: Array<[string, number, string]> = [];
TABLE[E_METHOD] = ['HPE_INVALID_METHOD', 400, 'RFC 9110 9.1: method must be a token followed by one SP'];
TABLE[E_TARGET] = ['HPE_INVALID_URL', 400, 'RFC 9112 3.2: request-target must be non-empty visible bytes without whitespace, followed by one SP'];
TABLE[E_VERSION] = ['HPE_INVALID_VERSION', 400, 'RFC 9112 2.3: HTTP-version must be "HTTP/" DIGIT "." DIGIT followed by CRLF (request) or SP (response)'];
TABLE[E_VERSION_UNSUPPORTED] = ['HPE_VERSION_NOT_SUPPORTED', 505, 'RFC 9110 2.5: only major version 1 is spoken on an HTTP/1.1 connection'];
TABLE[E_STATUS] = ['HPE_INVALID_STATUS', 400, 'RFC 9112 4: status-code must be 3 digits (100-999) followed by SP or CRLF'];
TABLE[E_REASON] = ['HPE_INVALID_STATUS', 400, 'RFC 9112 4: reason-phrase allows only HTAB, SP, VCHAR and obs-text'];
TABLE[E_START_LINE_TOO_LONG] = ['HPE_START_LINE_TOO_LONG', 414, 'limit maxStartLine: request or status line too long'];
TABLE[E_METHOD_TOO_LONG] = ['HPE_START_LINE_TOO_LONG', 501, 'RFC 9112 3: a method longer than any implemented (it alone passes maxStartLine)'];
TABLE[E_FIELD_NAME] = ['HPE_INVALID_HEADER_TOKEN', 400, 'RFC 9110 5.1: field-name must be a non-empty token followed by ":"'];
TABLE[E_WS_BEFORE_COLON] = ['HPE_INVALID_HEADER_TOKEN', 400, 'RFC 9112 5.1: no whitespace allowed between field-name and colon'];
TABLE[E_FIELD_VALUE] = ['HPE_INVALID_HEADER_VALUE', 400, 'RFC 9110 5.5: field-value must not contain NUL, CTLs (other than HTAB) or DEL'];
TABLE[E_OBS_FOLD] = ['HPE_OBS_FOLD', 400, 'RFC 9112 5.2: obsolete line folding (a field line starting with SP or HTAB) is rejected'];
TABLE[E_BARE_CR] = ['HPE_BARE_CR', 400, 'RFC 9112 2.2: CR must be followed by LF'];
TABLE[E_BARE_LF] = ['HPE_BARE_LF', 400, 'RFC 9112 2.2: lines must end with CRLF (bare LF is rejected)'];
TABLE[E_HEADER_OVERFLOW] = ['HPE_HEADER_OVERFLOW', 431, 'limit maxHeaderSize: header (or trailer) section too large'];
TABLE[E_TOO_MANY_HEADERS] = ['HPE_TOO_MANY_HEADERS', 431, 'limit maxHeaders: too many field lines'];
TABLE[E_CONTENT_LENGTH] = ['HPE_INVALID_CONTENT_LENGTH', 400, 'RFC 9110 8.6: Content-Length must be 1*DIGIT no larger than 2^53-1'];
TABLE[E_CONTENT_LENGTH_DIFFERS] = ['HPE_INVALID_CONTENT_LENGTH', 400, 'RFC 9112 6.3: more than one Content-Length field'];
TABLE[E_CL_AND_TE] = ['HPE_UNEXPECTED_CONTENT_LENGTH', 400, 'RFC 9112 6.3: Content-Length and Transfer-Encoding together'];
TABLE[E_TE_NOT_CHUNKED_FINAL] = ['HPE_INVALID_TRANSFER_ENCODING', 400, 'RFC 9112 6.3: request Transfer-Encoding must end with chunked'];
TABLE[E_TE_UNKNOWN] = ['HPE_UNKNOWN_TRANSFER_ENCODING', 501, 'RFC 9112 6.1: unknown transfer-coding in a request'];
TABLE[E_TE_SYNTAX] = ['HPE_INVALID_TRANSFER_ENCODING', 400, 'RFC 9112 6.1: Transfer-Encoding must be a list of transfer-coding tokens'];
TABLE[E_TE_CHUNKED_TWICE] = ['HPE_INVALID_TRANSFER_ENCODING', 400, 'RFC 9112 6.1: chunked must not be applied more than once'];
TABLE[E_CHUNK_SIZE] = ['HPE_INVALID_CHUNK_SIZE', 400, 'RFC 9112 7.1: chunk-size must be 1*HEXDIG no larger than 2^53-1, followed by chunk-ext or CRLF'];
TABLE[E_CHUNK_EXTENSION] = ['HPE_INVALID_CHUNK_EXTENSION', 400, 'RFC 9112 7.1.1: chunk-ext must be ";" token ["=" (token / quoted-string)]'];
TABLE[E_CHUNK_LINE_TOO_LONG] = ['HPE_CHUNK_LINE_TOO_LONG', 400, 'limit maxChunkLine: chunk-size line too long'];
TABLE[E_CHUNK_EXTENSIONS_OVERFLOW] = ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'limit maxChunkExtensions: too many chunk extension bytes in one message'];
TABLE[E_CHUNK_DATA_CRLF] = ['HPE_INVALID_CHUNK_DATA', 400, 'RFC 9112 7.1: chunk-data must be followed by CRLF'];
TABLE[E_DATA_AFTER_CLOSE] = ['HPE_CLOSED_CONNECTION', 400, 'RFC 9112 9.6: data after a message that closes the connection'];
TABLE[E_INCOMPLETE] = ['HPE_INVALID_EOF_STATE', 400, 'RFC 9112 8: connection closed before the message was complete'];
TABLE[E_TE_HTTP10] = ['HPE_INVALID_TRANSFER_ENCODING', 400, 'RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing'];
TABLE[E_LEADING_WS] = ['HPE_INVALID_HEADER_TOKEN', 400, 'RFC 9112 2.2: whitespace between the start line and the first field line'];

export function makeError(id: number, offset: number, statusOverride = 0): ParseError {
  const [code, status, reason] = TABLE[id];
  return new ParseError(code, reason, offset, statusOverride || status);
}
