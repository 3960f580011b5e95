// Byte classes for the parsers' hot loops: one table lookup per byte. (Each hot module
// binds the tables and its byte constants locally; see message-parser.ts.)

const SP = 32;
const HTAB = 9;

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** RFC 9110 5.6.2 tchar: methods, field names, transfer-coding names, chunk-ext names. */
export const TOKEN = table((c) => isAlnum(c) || TCHAR_PUNCT.includes(String.fromCharCode(c)));

/** RFC 9110 5.5 field-vchar / SP / HTAB (obs-text allowed): everything but CTLs other than HTAB, and DEL. */
export const FIELD_VALUE = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/**
 * request-target bytes (RFC 9112 3.2, RFC 3986 2): visible ASCII only. No whitespace,
 * control bytes, DEL or raw non-ASCII (clients must percent-encode UTF-8).
 */
export const TARGET = table((c) => c > 0x20 && c < 0x7f);

/** RFC 9110 5.6.4 qdtext (inside a quoted-string, besides quoted-pair). */
export const QDTEXT = table((c) => c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);

/** RFC 9110 5.6.4 quoted-pair second byte: HTAB / SP / VCHAR / obs-text. */
export const QUOTED_PAIR = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/** Hex digit values, -1 for non-hex bytes. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** Case-insensitive compare of a string with a lower-case ASCII word. */
export function stringEqualsLower(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Buffer's latin1Slice (present on every Node Buffer, untyped in @types/node): the fastest byte-to-string copy. */
export interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}
