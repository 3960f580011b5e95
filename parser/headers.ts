// Field-line scanning shared by header and trailer sections of requests and responses.
// Scanners walk the Buffer (byte loops on a Uint8Array are the fastest JS can do) and
// record offsets only; strings are cut later from one latin1 decode of the head.
import { TOKEN as TOKEN_TABLE, FIELD_VALUE as FIELD_VALUE_TABLE } from './chars.ts';
import { E_BARE_CR, E_BARE_LF, E_FIELD_NAME, E_FIELD_VALUE, E_OBS_FOLD, E_WS_BEFORE_COLON } from './errors.ts';
import { INCOMPLETE as INCOMPLETE_, type LineScan } from './scan.ts';

// Module-local bindings: hot loops must not go through import bindings (bundlers turn them into getters).
const TOKEN = TOKEN_TABLE;
const FIELD_VALUE = FIELD_VALUE_TABLE;
const INCOMPLETE = INCOMPLETE_;
const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/**
 * Scans one field line (RFC 9112 5: field-name ":" OWS field-value OWS CRLF) or the
 * empty line ending the section, starting at buf[p], looking no further than `end`.
 * Records only offsets; the caller makes strings once the line is known complete.
 * Line endings: CRLF only. RFC 9112 2.2 lets a recipient accept a bare LF; this parser
 * rejects it (HPE_BARE_LF), as llhttp's strict mode does, so that every hop agrees on
 * where a field line ends.
 */
export function scanFieldLine(buf: Buffer, p: number, end: number, out: LineScan): number {
  if (p >= end) return INCOMPLETE;
  let c = buf[p];
  if (c === CR) return scanEmptyLine(buf, p, end, out);
  let i = p;
  while (i < end && TOKEN[buf[i]] === 1) i++;
  if (i >= end) return INCOMPLETE;
  if (buf[i] !== COLON || i === p) return nameError(buf, p, i, out);
  out.nameEnd = i;
  i++;
  while (i < end && ((c = buf[i]) === SP || c === HTAB)) i++;
  const valueStart = i;
  while (i < end && FIELD_VALUE[buf[i]] === 1) i++;
  if (i + 1 >= end) return i >= end || buf[i] === CR ? INCOMPLETE : valueError(buf, i, out);
  if (buf[i] !== CR || buf[i + 1] !== LF) return valueError(buf, i, out);
  let valueEnd = i;
  while (valueEnd > valueStart && ((c = buf[valueEnd - 1]) === SP || c === HTAB)) valueEnd--;
  out.valueStart = valueStart;
  out.valueEnd = valueEnd;
  return i + 2;
}

// Cold paths kept out of scanFieldLine so that it stays small enough to be inlined.

function scanEmptyLine(buf: Buffer, p: number, end: number, out: LineScan): number {
  if (p + 1 >= end) return INCOMPLETE;
  if (buf[p + 1] !== LF) return out.fail(E_BARE_CR, p);
  out.nameEnd = -1;
  return p + 2;
}

function nameError(buf: Buffer, p: number, i: number, out: LineScan): number {
  const c = buf[i];
  if (i === p) {
    if (c === SP || c === HTAB) return out.fail(E_OBS_FOLD, p);
    if (c === LF) return out.fail(E_BARE_LF, p);
    return out.fail(E_FIELD_NAME, p);
  }
  return out.fail(c === SP || c === HTAB ? E_WS_BEFORE_COLON : E_FIELD_NAME, i);
}

/** buf[i] ends a field value but is not a CRLF (at least one byte of it is present). */
function valueError(buf: Buffer, i: number, out: LineScan): number {
  const c = buf[i];
  if (c === CR) return out.fail(E_BARE_CR, i);
  return out.fail(c === LF ? E_BARE_LF : E_FIELD_VALUE, i);
}

// Field names that decide framing and connection handling.
export const F_OTHER = 0;
export const F_CONTENT_LENGTH = 1;
export const F_TRANSFER_ENCODING = 2;
export const F_CONNECTION = 3;
export const F_UPGRADE = 4;

/** Case-insensitive compare of s[start..) with a lower-case name of letters and '-'. */
function nameIs(s: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Which framing-relevant field a name is (case-insensitive), by length first. */
export function classifyField(s: string, start: number, end: number): number {
  const c = s.charCodeAt(start) | 0x20;
  switch (end - start) {
    // The usual spellings by a native prefix compare, any other case byte by byte.
    case 14:
      return c === 99 && (s.startsWith('Content-Length', start) || nameIs(s, start, 'content-length')) ? F_CONTENT_LENGTH : F_OTHER;
    case 17:
      return c === 116 && (s.startsWith('Transfer-Encoding', start) || nameIs(s, start, 'transfer-encoding')) ? F_TRANSFER_ENCODING : F_OTHER;
    case 10:
      return c === 99 && (s.startsWith('Connection', start) || nameIs(s, start, 'connection')) ? F_CONNECTION : F_OTHER;
    case 7:
      return c === 117 && (s.startsWith('Upgrade', start) || nameIs(s, start, 'upgrade')) ? F_UPGRADE : F_OTHER;
    default: return F_OTHER;
  }
}

/** Looks a field up case-insensitively in a rawHeaders array; returns the first value or undefined. */
export function getHeader(rawHeaders: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const n = rawHeaders[i];
    if (n.length === lower.length && n.toLowerCase() === lower) return rawHeaders[i + 1];
  }
  return undefined;
}

/** All values of a field, case-insensitive, in order. */
export function getHeaders(rawHeaders: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const n = rawHeaders[i];
    if (n.length === lower.length && n.toLowerCase() === lower) out.push(rawHeaders[i + 1]);
  }
  return out;
}
