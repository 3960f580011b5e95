// Response maps: header maps from raw header lines, and bodies converted per `as`.
import { ClientError, ERR_INVALID_JSON } from './errors.ts';
import type { ResponseAs, ResponseHeaders } from './types.ts';

function setOwn(h: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(h, name, { value, enumerable: true, writable: true, configurable: true });
  else h[name] = value;
}

/** Lower-case names; repeated fields joined with ", "; `set-cookie` always an array. */
export function headersFrom(raw: string[]): ResponseHeaders {
  const h: Record<string, unknown> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'set-cookie') {
      const prev = h[name] as string[] | undefined;
      if (prev === undefined) setOwn(h, name, [value]);
      else prev.push(value);
    } else {
      const prev = h[name] as string | undefined;
      setOwn(h, name, prev === undefined ? value : prev + ', ' + value);
    }
  }
  return h as ResponseHeaders;
}

const TEXT_TYPES = new Set([
  'application/json',
  'application/javascript',
  'application/ecmascript',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'image/svg+xml',
]);

/** Media type (lower case, no parameters) and charset parameter of a Content-Type value. */
export function parseContentType(ct: string | undefined): { type: string; charset: string | null } {
  if (ct === undefined) return { type: '', charset: null };
  const semi = ct.indexOf(';');
  const type = (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  let charset: string | null = null;
  if (semi !== -1) {
    const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(ct);
    if (m) charset = m[2]!.toLowerCase();
  }
  return { type, charset };
}

export function isTextual(type: string): boolean {
  return type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

/** Decodes bytes with a charset label; UTF-8 for none or an unknown label. */
export function decodeText(body: Buffer, charset: string | null): string {
  if (charset === null || charset === 'utf-8' || charset === 'utf8') return body.toString('utf8');
  try {
    return new TextDecoder(charset).decode(body);
  } catch {
    return body.toString('utf8');
  }
}

/** Converts a complete body per `as` (not `stream`). Throws ERR_INVALID_JSON for bad JSON. */
export function convertBody(body: Buffer, as: ResponseAs, contentType: string | undefined): unknown {
  if (as === 'buffer') return body;
  const { type, charset } = parseContentType(contentType);
  if (as === 'text') return decodeText(body, charset);
  if (as === 'json') {
    const text = decodeText(body, charset);
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ClientError(ERR_INVALID_JSON, `response body is not valid JSON: ${(err as Error).message}`, err);
    }
  }
  return isTextual(type) ? decodeText(body, charset) : body;
}
