// Request validation and serialisation: options in, one request head string out.
// Everything here runs before a socket is touched, so invalid input never sends a byte.
import { ClientError, ERR_INVALID_HEADER, ERR_INVALID_METHOD, ERR_INVALID_OPTION, ERR_INVALID_URL, ERR_UNSUPPORTED_PROTOCOL } from './errors.ts';
import type { HeaderValue, Params } from './types.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: HTAB, visible ASCII, SP and obs-text. CR, LF, NUL and other controls are refused.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

export function checkMethod(method: unknown): string {
  if (typeof method !== 'string' || !TOKEN.test(method)) {
    throw new ClientError(ERR_INVALID_METHOD, `invalid method: ${JSON.stringify(String(method))} is not a token`);
  }
  // Lower-case spellings are a convenience (`method: 'post'`); mixed-case custom methods pass as given.
  const upper = method.toUpperCase();
  const m = method === method.toLowerCase() ? upper : method;
  if (upper === 'CONNECT') throw new ClientError(ERR_INVALID_METHOD, 'CONNECT is not supported by request(); use proxyUrl');
  return m;
}

export function checkHeaderName(name: string): void {
  if (!TOKEN.test(name)) throw new ClientError(ERR_INVALID_HEADER, `invalid header name: ${JSON.stringify(name)}`);
}

export function checkHeaderValue(name: string, value: string): void {
  if (BAD_VALUE.test(value)) {
    throw new ClientError(ERR_INVALID_HEADER, `invalid character in the value of header ${JSON.stringify(name)}`);
  }
}

/**
 * Validates caller headers into a flat [name, value, ...] list (names as given).
 * Array values become repeated lines; null/undefined values are skipped.
 */
export function headerList(headers: Record<string, HeaderValue | undefined | null> | undefined): string[] {
  const out: string[] = [];
  if (headers == null) return out;
  if (typeof headers !== 'object') throw new ClientError(ERR_INVALID_HEADER, 'headers must be an object');
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined || v === null) continue;
    checkHeaderName(name);
    if (Array.isArray(v)) {
      for (const item of v) {
        const s = String(item);
        checkHeaderValue(name, s);
        out.push(name, s);
      }
    } else {
      const s = typeof v === 'string' ? v : String(v);
      checkHeaderValue(name, s);
      out.push(name, s);
    }
  }
  return out;
}

/** Index of the first header named `lower` (case-insensitive) in a flat list, or -1. */
export function findHeader(list: string[], lower: string): number {
  for (let i = 0; i < list.length; i += 2) {
    const n = list[i]!;
    if (n.length === lower.length && n.toLowerCase() === lower) return i;
  }
  return -1;
}

/** Removes every header whose lower-cased name is in `names`. */
export function dropHeaders(list: string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    if (!names.includes(list[i]!.toLowerCase())) out.push(list[i]!, list[i + 1]!);
  }
  return out;
}

/** `a=1&b=2&b=3`: arrays repeat the key; spaces as %20. */
export function encodeParams(params: Params): string {
  if (params === null || typeof params !== 'object') throw new ClientError(ERR_INVALID_OPTION, 'queryParams and formParams must be objects');
  let s = '';
  for (const key of Object.keys(params)) {
    const v = params[key];
    if (v === undefined || v === null) continue;
    const k = encodeURIComponent(key);
    if (Array.isArray(v)) {
      for (const item of v) s += (s === '' ? '' : '&') + k + '=' + encodeURIComponent(String(item));
    } else {
      s += (s === '' ? '' : '&') + k + '=' + encodeURIComponent(String(v));
    }
  }
  return s;
}

/** Form encoding (application/x-www-form-urlencoded): like encodeParams with spaces as '+'. */
export function encodeForm(params: Params): string {
  return encodeParams(params).replace(/%20/g, '+');
}

// Parsed URLs by input string: parsing (and URL setters) cost more than the rest of a
// request's preparation. Cached URLs are never mutated: changes are made on copies.
const urlCache = new Map<string, URL>();
const URL_CACHE_MAX = 512;

export function parseUrl(input: unknown, queryParams: Params | undefined): URL {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new ClientError(ERR_INVALID_URL, 'url is required (an absolute http: or https: URL)');
  }
  const key = typeof input === 'string' ? input : null;
  let url = key !== null ? urlCache.get(key) : undefined;
  if (url === undefined) {
    try {
      url = new URL(String(input));
    } catch (err) {
      throw new ClientError(ERR_INVALID_URL, `invalid url: ${JSON.stringify(String(input))}`, err);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ClientError(ERR_UNSUPPORTED_PROTOCOL, `unsupported protocol ${url.protocol} (http: and https: only)`);
    }
    if (url.hostname === '') throw new ClientError(ERR_INVALID_URL, `url has no host: ${JSON.stringify(String(input))}`);
    // Never sent: also an empty fragment (`/a#`), whose hash reads '' while href keeps the '#'.
    url.hash = '';
    if (key !== null) {
      if (urlCache.size >= URL_CACHE_MAX) urlCache.clear();
      urlCache.set(key, url);
    }
  }
  if (queryParams != null) {
    const extra = encodeParams(queryParams);
    if (extra !== '') {
      url = new URL(url.href);
      url.search = url.search === '' ? '?' + extra : url.search + '&' + extra;
    }
  }
  return url;
}

/** The URL without userinfo (a copy when it had some). */
export function withoutCredentials(url: URL): URL {
  if (url.username === '' && url.password === '') return url;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy;
}

/** Host to connect to: the URL hostname without IPv6 brackets. */
export function connectHost(url: URL): string {
  const h = url.hostname;
  return h.charCodeAt(0) === 91 /* [ */ ? h.slice(1, -1) : h;
}

export function defaultPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/**
 * The request head as one latin1 string: request line, Host, caller headers, the
 * client's defaults (only where the caller set none) and the framing header.
 */
export function serialiseHead(
  method: string,
  target: string,
  host: string,
  headers: string[],
  defaults: string,
  framing: string,
): string {
  let h = method + ' ' + target + ' HTTP/1.1\r\n';
  if (host !== '') h += 'Host: ' + host + '\r\n';
  for (let i = 0; i < headers.length; i += 2) h += headers[i] + ': ' + headers[i + 1] + '\r\n';
  return h + defaults + framing + '\r\n';
}
