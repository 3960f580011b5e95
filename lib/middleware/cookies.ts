// Cookies (RFC 6265): parse the Cookie header into req.cookies, build Set-Cookie
// lines with setCookie(), and turn a response's `cookies` map into Set-Cookie lines.
import type { Handler, Request, Response } from '../types.ts';
import { isResponseMap, mapResult, toResponse } from './result.ts';
import { newParamMap } from './urlencoded.ts';

/** Set-Cookie attributes (RFC 6265 section 4.1, plus Partitioned). */
export interface CookieAttributes {
  /** Absolute expiry, sent as an HTTP-date. Default none (a session cookie). */
  expires?: Date;
  /** Lifetime in whole seconds; 0 or less expires it now. Default none. */
  maxAge?: number;
  /** Domain the cookie is sent to (and its subdomains). Default none (host-only). */
  domain?: string;
  /** Path prefix the cookie is sent for. Default none (the browser uses the request's directory). */
  path?: string;
  /** Only sent over HTTPS. Default `false`; forced by `sameSite: 'None'`, `partitioned` and the `__Secure-`/`__Host-` prefixes (which throw if it is `false`). */
  secure?: boolean;
  /** Hidden from scripts. Default `false`. */
  httpOnly?: boolean;
  /** Cross-site policy. Default none (the browser's default, Lax). `'None'` requires `secure`. */
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none';
  /** CHIPS partitioned cookie; requires `secure`. Default `false`. */
  partitioned?: boolean;
  /** Percent-encode the value with encodeURIComponent. Default `true`; with `false` the value must already be cookie-octets. */
  encode?: boolean;
}

/** A response `cookies` entry: a value, or a value with attributes. */
export type CookieSpec = string | (CookieAttributes & { value: string });

/** A response map that may carry `cookies` for `wrapCookies` to turn into Set-Cookie lines. */
export interface CookieResponse extends Response {
  cookies?: Record<string, CookieSpec>;
}

// token (RFC 9110 section 5.6.2)
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E, optionally in DQUOTEs
const COOKIE_VALUE = /^(?:"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"|[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)$/;
// av-octet: any CHAR except CTLs or ";"
const ATTR_VALUE = /^[\x20-\x3a\x3c-\x7e]*$/;
const DOMAIN = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * One Set-Cookie header value. Throws TypeError for an invalid name, value or
 * attribute, and for combinations browsers reject (SameSite=None or Partitioned
 * without Secure, `__Host-` with a Domain or a Path other than `/`).
 */
export function setCookie(name: string, value: string, attrs: CookieAttributes = {}): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(name)}`);
  const v = attrs.encode === false ? String(value) : encodeURIComponent(String(value));
  if (!COOKIE_VALUE.test(v)) throw new TypeError(`invalid cookie value for ${name}: ${JSON.stringify(value)}`);
  let out = `${name}=${v}`;
  if (attrs.expires !== undefined) {
    if (!(attrs.expires instanceof Date) || Number.isNaN(attrs.expires.getTime())) throw new TypeError(`invalid expires for cookie ${name}`);
    out += `; Expires=${attrs.expires.toUTCString()}`;
  }
  if (attrs.maxAge !== undefined) {
    if (!Number.isFinite(attrs.maxAge)) throw new TypeError(`invalid maxAge for cookie ${name}`);
    out += `; Max-Age=${Math.floor(attrs.maxAge)}`;
  }
  if (attrs.domain !== undefined) {
    if (!DOMAIN.test(attrs.domain)) throw new TypeError(`invalid domain for cookie ${name}: ${JSON.stringify(attrs.domain)}`);
    out += `; Domain=${attrs.domain}`;
  }
  if (attrs.path !== undefined) {
    if (!ATTR_VALUE.test(attrs.path) || attrs.path[0] !== '/') throw new TypeError(`invalid path for cookie ${name}: ${JSON.stringify(attrs.path)}`);
    out += `; Path=${attrs.path}`;
  }
  const sameSite = attrs.sameSite === undefined ? undefined : attrs.sameSite[0]!.toUpperCase() + attrs.sameSite.slice(1).toLowerCase();
  if (sameSite !== undefined && sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
    throw new TypeError(`invalid sameSite for cookie ${name}: ${JSON.stringify(attrs.sameSite)}`);
  }
  const secure = attrs.secure === true;
  if (!secure) {
    if (sameSite === 'None') throw new TypeError(`cookie ${name}: SameSite=None requires secure`);
    if (attrs.partitioned === true) throw new TypeError(`cookie ${name}: Partitioned requires secure`);
    if (/^__(secure|host)-/i.test(name)) throw new TypeError(`cookie ${name}: prefix requires secure`);
  }
  // Browsers match the prefixes case-insensitively (`__HOST-` too).
  if (/^__host-/i.test(name) && (attrs.domain !== undefined || attrs.path !== '/')) {
    throw new TypeError(`cookie ${name}: __Host- prefix requires path "/" and no domain`);
  }
  if (secure) out += '; Secure';
  if (attrs.httpOnly === true) out += '; HttpOnly';
  if (sameSite !== undefined) out += `; SameSite=${sameSite}`;
  if (attrs.partitioned === true) out += '; Partitioned';
  return out;
}

/** A Set-Cookie value that deletes `name` (same path/domain as when it was set). */
export function deleteCookie(name: string, attrs: Pick<CookieAttributes, 'domain' | 'path' | 'secure' | 'httpOnly' | 'sameSite' | 'partitioned'> = {}): string {
  return setCookie(name, '', { ...attrs, expires: new Date(0), maxAge: 0 });
}

/** Options of `parseCookies` and `wrapCookies`. */
export interface ParseCookieOptions {
  /** Percent-decode values (kept raw when malformed). Default `true`. */
  decode?: boolean;
}

/**
 * Parses a Cookie header (`a=1; b="2"`) into a map without inherited keys. The first
 * occurrence of a name wins (browsers send the most specific first); pairs without
 * `=` and invalid names are skipped; surrounding DQUOTEs are removed.
 */
export function parseCookies(header: string | null | undefined, options: ParseCookieOptions = {}): Record<string, string> {
  const out = newParamMap() as Record<string, string>;
  if (!header) return out;
  const decode = options.decode ?? true;
  let start = 0;
  const len = header.length;
  while (start < len) {
    let semi = header.indexOf(';', start);
    if (semi === -1) semi = len;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < semi) {
      const name = header.slice(start, eq).trim();
      if (name !== '' && out[name] === undefined && TOKEN.test(name)) {
        let value = header.slice(eq + 1, semi).trim();
        if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
        if (decode && value.includes('%')) {
          try {
            value = decodeURIComponent(value);
          } catch {
            // keep the raw value
          }
        }
        out[name] = value;
      }
    }
    start = semi + 1;
  }
  return out;
}

/** Appends Set-Cookie lines to a response map's headers (keeps existing ones). */
export function appendSetCookie(res: Response, ...lines: string[]): Response {
  const headers = (res.headers ??= {});
  let key = 'set-cookie';
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'set-cookie') key = k;
  const prev = headers[key];
  const list: (string | number)[] = prev === undefined ? [] : Array.isArray(prev) ? [...(prev as (string | number)[])] : [prev as string | number];
  list.push(...lines);
  headers[key] = list;
  return res;
}

/**
 * Parses cookies into `req.cookies`, and turns a response map's `cookies` key
 * (`{ name: 'v' }` or `{ name: { value: 'v', httpOnly: true, ... } }`) into
 * Set-Cookie lines. An invalid cookie in the response throws (a server error).
 */
export function wrapCookies(handler: Handler, options: ParseCookieOptions = {}): Handler {
  return function cookiesHandler(req: Request): unknown {
    req.cookies = parseCookies(req.headers.cookie, options);
    return mapResult(handler(req), addResponseCookies);
  };
}

function addResponseCookies(result: unknown): unknown {
  if (!isResponseMap(result)) return result;
  const cookies = (result as CookieResponse).cookies;
  if (cookies === undefined || cookies === null) return result;
  const res = toResponse(result)!;
  const lines: string[] = [];
  for (const name of Object.keys(cookies)) {
    const spec = cookies[name]!;
    lines.push(typeof spec === 'string' ? setCookie(name, spec) : setCookie(name, spec.value, spec));
  }
  const out = { ...res } as CookieResponse;
  delete out.cookies;
  if (out.headers !== undefined) out.headers = { ...out.headers };
  return appendSetCookie(out, ...lines);
}
