// Values of the fields that decide framing and persistence: Content-Length,
// Transfer-Encoding and Connection (RFC 9110 8.6, RFC 9112 6.1, RFC 9110 7.6.1).
import { TOKEN as TOKEN_TABLE, QDTEXT as QDTEXT_TABLE, QUOTED_PAIR as QUOTED_PAIR_TABLE, stringEqualsLower } from './chars.ts';

const TOKEN = TOKEN_TABLE;
const QDTEXT = QDTEXT_TABLE;
const QUOTED_PAIR = QUOTED_PAIR_TABLE;
const SEMI = 59;
const EQUALS = 61;
const SP = 32;
const HTAB = 9;
const COMMA = 44;
const DQUOTE = 34;
const BACKSLASH = 92;

/**
 * Content-Length = 1*DIGIT, at most 2^53-1. Returns the length, or `-1 - i` where i is
 * the index of the first bad character (0 for an empty, too long or too large value).
 * Leading zeros are digits like any other (`007` is 7), however many there are.
 */
export function parseContentLength(value: string): number {
  const n = value.length;
  let i = 0;
  while (i < n - 1 && value.charCodeAt(i) === 48) i++;
  if (n === 0 || n - i > 16) return -1;
  let v = 0;
  for (; i < n; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1 - i;
    v = v * 10 + d;
  }
  return v > Number.MAX_SAFE_INTEGER ? -1 : v;
}

// connectionTokens() flags.
export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/** The Connection options this parser acts on, as CONN_* flags (case-insensitive list). */
export function connectionTokens(value: string): number {
  // The two single-token values nearly every client sends, then the general list.
  if (value === 'keep-alive' || value === 'Keep-Alive') return CONN_KEEP_ALIVE;
  if (value === 'close') return CONN_CLOSE;
  let flags = 0;
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === COMMA || c === SP || c === HTAB) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && value.charCodeAt(i) !== COMMA) i++;
    let end = i;
    while (end > start && (value.charCodeAt(end - 1) === SP || value.charCodeAt(end - 1) === HTAB)) end--;
    if (stringEqualsLower(value, start, end, 'close')) flags |= CONN_CLOSE;
    else if (stringEqualsLower(value, start, end, 'keep-alive')) flags |= CONN_KEEP_ALIVE;
    else if (stringEqualsLower(value, start, end, 'upgrade')) flags |= CONN_UPGRADE;
  }
  return flags;
}

// transferCodings() flags.
/** At least one coding was listed. */
export const TE_ANY = 1;
/** The last coding listed is chunked. */
export const TE_CHUNKED_FINAL = 2;
/** chunked is listed (here or, when passed in, in an earlier field line). */
export const TE_CHUNKED_SEEN = 4;
/** A coding other than chunked and the registered compressions is listed. */
export const TE_UNKNOWN = 8;

/**
 * A Transfer-Encoding value: a list of transfer-coding [; parameters] (RFC 9112 6.1,
 * 7: token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ), empty list
 * elements ignored). `chunkedSeen` says whether an earlier field line listed chunked.
 * Returns TE_* flags, or a negative error: `-1 - 2 * i` for a syntax error at index i
 * (a missing token, or anything but a parameter or "," after one: `chunked foo` is not
 * chunked), `-2 - 2 * i` for chunked listed a second time at index i.
 */
export function transferCodings(value: string, chunkedSeen: boolean): number {
  let flags = chunkedSeen ? TE_CHUNKED_SEEN : 0;
  const n = value.length;
  let i = 0;
  while (i < n) {
    let c = value.charCodeAt(i);
    if (c === COMMA || c === SP || c === HTAB) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && TOKEN[value.charCodeAt(i)] === 1) i++;
    if (i === start) return -1 - 2 * i;
    if (stringEqualsLower(value, start, i, 'chunked')) {
      if ((flags & TE_CHUNKED_SEEN) !== 0) return -2 - 2 * start;
      flags |= TE_ANY | TE_CHUNKED_SEEN | TE_CHUNKED_FINAL;
    } else {
      flags = (flags | TE_ANY) & ~TE_CHUNKED_FINAL;
      if (!isKnownCoding(value, start, i)) flags |= TE_UNKNOWN;
    }
    // transfer-parameters, then OWS and the next list element or the end.
    for (;;) {
      i = skipOws(value, i, n);
      if (i >= n) break;
      c = value.charCodeAt(i);
      if (c === COMMA) break;
      if (c !== SEMI) return -1 - 2 * i;
      i = skipOws(value, i + 1, n);
      const nameStart = i;
      while (i < n && TOKEN[value.charCodeAt(i)] === 1) i++;
      if (i === nameStart) return -1 - 2 * i;
      i = skipOws(value, i, n);
      if (i >= n || value.charCodeAt(i) !== EQUALS) return -1 - 2 * i;
      i = skipOws(value, i + 1, n);
      if (i < n && value.charCodeAt(i) === DQUOTE) {
        i = quotedStringEnd(value, i + 1, n);
        if (i < 0) return -1 - 2 * -(i + 1);
      } else {
        const valueStart = i;
        while (i < n && TOKEN[value.charCodeAt(i)] === 1) i++;
        if (i === valueStart) return -1 - 2 * i;
      }
    }
  }
  return flags;
}

function skipOws(s: string, i: number, n: number): number {
  let c;
  while (i < n && ((c = s.charCodeAt(i)) === SP || c === HTAB)) i++;
  return i;
}

/** Index after the closing DQUOTE of a quoted-string whose content starts at i, or `-1 - k` for a bad byte (or the end) at k. */
function quotedStringEnd(s: string, i: number, n: number): number {
  for (;;) {
    if (i >= n) return -1 - i;
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) {
      i++;
      if (i >= n || QUOTED_PAIR[s.charCodeAt(i)] !== 1) return -1 - i;
    } else if (QDTEXT[c] !== 1) return -1 - i;
    i++;
  }
}

/** IANA-registered transfer-codings other than chunked. */
function isKnownCoding(s: string, start: number, end: number): boolean {
  return stringEqualsLower(s, start, end, 'gzip') || stringEqualsLower(s, start, end, 'deflate') ||
    stringEqualsLower(s, start, end, 'compress') || stringEqualsLower(s, start, end, 'x-gzip') ||
    stringEqualsLower(s, start, end, 'x-compress') || stringEqualsLower(s, start, end, 'identity');
}
