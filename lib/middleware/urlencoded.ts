// application/x-www-form-urlencoded decoding (query strings and form bodies):
// `+` is a space, `%XX` a byte, bytes decoded with the given charset. Malformed
// escapes are kept literally rather than throwing.

// The global TextDecoder (not node:util's: its ESM facade costs start-up memory).
type TextDecoder = InstanceType<typeof globalThis.TextDecoder>;

import { newParamMap, type ParamMap } from '../param-map.ts';

export { newParamMap, type ParamMap };

/** Raised when a query or form has more pairs than allowed. */
export class TooManyParamsError extends Error {}

const decoders = new Map<string, TextDecoder | null>();

/** A decoder for a charset label; null when Node does not know the label. */
function decoderFor(charset: string): TextDecoder | null {
  let d = decoders.get(charset);
  if (d === undefined) {
    try {
      d = new TextDecoder(charset);
    } catch {
      d = null;
    }
    if (decoders.size < 64) decoders.set(charset, d);
  }
  return d;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 32;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** True when `s[start, end)` needs no decoding (no `%`, `+` or non-ASCII). */
function isPlain(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43 || c > 127) return false;
  }
  return true;
}

/**
 * Decodes one component of `s` (a latin1 string, one char per byte, or plain
 * text). Unknown charsets decode as UTF-8.
 */
export function decodeComponent(s: string, start = 0, end = s.length, charset = 'utf-8'): string {
  if (isPlain(s, start, end)) return s.slice(start, end);
  const bytes = Buffer.allocUnsafe(end - start);
  let n = 0;
  let wide = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 43) bytes[n++] = 32;
    else if (c === 37) {
      const hi = i + 2 < end ? hexValue(s.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < end ? hexValue(s.charCodeAt(i + 2)) : -1;
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
      } else bytes[n++] = 37;
    } else if (c > 255) {
      wide = true;
      break;
    } else bytes[n++] = c;
  }
  if (wide) return decodeWide(s.slice(start, end));
  const out = bytes.subarray(0, n);
  const cs = charset.toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') return out.toString('utf8');
  if (cs === 'iso-8859-1' || cs === 'latin1' || cs === 'us-ascii') return out.toString('latin1');
  const d = decoderFor(cs);
  return d === null ? out.toString('utf8') : d.decode(out);
}

/** Text already decoded to UTF-16 (chars above 0xFF): only `+` and valid `%XX` runs. */
function decodeWide(s: string): string {
  return s.replace(/\+/g, ' ').replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/**
 * Parses `a=1&b=2&a=3` into a map without inherited keys (`{a: ['1', '3'], b: '2'}`).
 * Empty pairs are skipped; a key without `=` gets the empty string.
 * Throws TooManyParamsError past `maxParams` pairs.
 */
export function parseUrlEncoded(s: string, charset = 'utf-8', maxParams = 1000, into: ParamMap = newParamMap()): ParamMap {
  let count = 0;
  let start = 0;
  const len = s.length;
  // The next `=` at or after `start`, found again only once passed, so `a&a&...` stays linear.
  let next = -2;
  while (start <= len) {
    let amp = s.indexOf('&', start);
    if (amp === -1) amp = len;
    if (amp > start) {
      if (++count > maxParams) throw new TooManyParamsError(`more than ${maxParams} parameters`);
      if (next !== -1 && next < start) next = s.indexOf('=', start);
      const eq = next === -1 || next > amp ? amp : next;
      const key = decodeComponent(s, start, eq, charset);
      const value = eq < amp ? decodeComponent(s, eq + 1, amp, charset) : '';
      addParam(into, key, value);
    }
    start = amp + 1;
  }
  return into;
}

/** Adds a value under `key`, turning a repeated key into an array. */
export function addParam(map: ParamMap, key: string, value: string): void {
  const prev = map[key];
  if (prev === undefined) map[key] = value;
  else if (typeof prev === 'string') map[key] = [prev, value];
  else prev.push(value);
}

/** The `charset` parameter of a Content-Type value, lower-cased, or null. */
export function charsetOf(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return m === null ? null : m[1]!.toLowerCase();
}

/** The media type of a Content-Type value (`type/subtype`), lower-cased. */
export function mediaTypeOf(contentType: string | null | undefined): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}
