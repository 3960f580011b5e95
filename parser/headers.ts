// Field-line scanning shared by header and trailer sections of requests and responses.
import { CR, LF, SP, HTAB, COLON, TOKEN, FIELD_VALUE, equalsLower } from './chars.ts';
import { E_BARE_CR, E_BARE_LF, E_FIELD_NAME, E_FIELD_VALUE, E_OBS_FOLD, E_WS_BEFORE_COLON } from './errors.ts';
import { INCOMPLETE, type LineScan } from './scan.ts';

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
  if (c === CR) {
    if (p + 1 >= end) return INCOMPLETE;
    if (buf[p + 1] !== LF) return out.fail(E_BARE_CR, p);
    out.nameEnd = -1;
    return p + 2;
  }
  let i = p;
  while (i < end && TOKEN[buf[i]] === 1) i++;
  if (i >= end) return INCOMPLETE;
  c = buf[i];
  if (c !== COLON || i === p) {
    if (i === p) {
      if (c === SP || c === HTAB) return out.fail(E_OBS_FOLD, p);
      if (c === LF) return out.fail(E_BARE_LF, p);
      return out.fail(E_FIELD_NAME, p);
    }
    return out.fail(c === SP || c === HTAB ? E_WS_BEFORE_COLON : E_FIELD_NAME, i);
  }
  out.nameEnd = i;
  i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  const valueStart = i;
  while (i < end && FIELD_VALUE[buf[i]] === 1) i++;
  if (i >= end) return INCOMPLETE;
  c = buf[i];
  if (c !== CR) return out.fail(c === LF ? E_BARE_LF : E_FIELD_VALUE, i);
  if (i + 1 >= end) return INCOMPLETE;
  if (buf[i + 1] !== LF) return out.fail(E_BARE_CR, i);
  let valueEnd = i;
  while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
  out.valueStart = valueStart;
  out.valueEnd = valueEnd;
  return i + 2;
}

// Field names that decide framing and connection handling.
export const F_OTHER = 0;
export const F_CONTENT_LENGTH = 1;
export const F_TRANSFER_ENCODING = 2;
export const F_CONNECTION = 3;
export const F_UPGRADE = 4;

/** Which framing-relevant field a name is (case-insensitive), by length first. */
export function classifyField(buf: Buffer, start: number, end: number): number {
  switch (end - start) {
    case 14: return equalsLower(buf, start, 'content-length') ? F_CONTENT_LENGTH : F_OTHER;
    case 17: return equalsLower(buf, start, 'transfer-encoding') ? F_TRANSFER_ENCODING : F_OTHER;
    case 10: return equalsLower(buf, start, 'connection') ? F_CONNECTION : F_OTHER;
    case 7: return equalsLower(buf, start, 'upgrade') ? F_UPGRADE : F_OTHER;
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
