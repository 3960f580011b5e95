// Request head + body -> the Ring request map a handler receives.
import type { Request, RequestHeaders } from './types.ts';

/**
 * Key of the request map's link to its exchange (connection side). A symbol so that
 * JSON and Object.keys skip it, and enumerable so that `{ ...req }` copies made by
 * middleware keep it.
 */
export const kExchange: unique symbol = Symbol('httpkit.exchange');

/**
 * The request map. A class so that every request has the same shape (fields set in
 * the constructor, in one order). Middleware may add keys.
 */
export class RingRequest implements Request {
  [key: string]: unknown;
  serverPort: number;
  serverName: string;
  remoteAddr: string;
  uri: string;
  queryString: string | null;
  scheme: 'http' | 'https';
  requestMethod: string;
  protocol: string;
  headers: RequestHeaders;
  body: Buffer | null;
  contentType: string | null;
  contentLength: number | null;
  characterEncoding: string | null;
  startTime: number;
  isWebSocket: boolean;
  [kExchange]: unknown;

  constructor(
    method: string,
    uri: string,
    queryString: string | null,
    protocol: string,
    headers: RequestHeaders,
    contentType: string | null,
    hasContentLength: boolean,
    body: Buffer | null,
    scheme: 'http' | 'https',
    serverName: string,
    serverPort: number,
    remoteAddr: string,
    startTime: number,
    isWebSocket: boolean,
    exchange: unknown,
  ) {
    this.serverPort = serverPort;
    this.serverName = serverName;
    this.remoteAddr = remoteAddr;
    this.uri = uri;
    this.queryString = queryString;
    this.scheme = scheme;
    this.requestMethod = method;
    this.protocol = protocol;
    this.headers = headers;
    this.body = body;
    this.contentType = contentType;
    this.contentLength = body === null ? (hasContentLength ? 0 : null) : body.length;
    this.characterEncoding = contentType === null ? null : charsetOf(contentType);
    this.startTime = startTime;
    this.isWebSocket = isWebSocket;
    this[kExchange] = exchange;
  }
}

/** `charset` parameter of a media type, or null. */
export function charsetOf(contentType: string): string | null {
  const i = contentType.toLowerCase().indexOf('charset=');
  if (i === -1) return null;
  let v = contentType.slice(i + 8);
  const semi = v.indexOf(';');
  if (semi !== -1) v = v.slice(0, semi);
  v = v.trim();
  if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
  return v === '' ? null : v;
}

// Lower-cased names browsers and tools send, as constant (internalized) strings: no
// toLowerCase() allocation, no hashing of the parser's fresh name string, and fast
// property stores into the header map.
const COMMON_NAMES = [
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'connection', 'content-type',
  'content-length', 'cookie', 'referer', 'origin', 'cache-control', 'upgrade', 'authorization',
  'upgrade-insecure-requests', 'if-none-match', 'if-modified-since', 'transfer-encoding', 'expect',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol',
  'pragma', 'range', 'x-forwarded-for', 'x-requested-with', 'sec-fetch-mode', 'sec-fetch-site',
  'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'dnt', 'te',
  'priority', 'if-match', 'if-range', 'if-unmodified-since', 'x-forwarded-proto', 'x-forwarded-host',
  'x-real-ip', 'forwarded', 'keep-alive', 'content-encoding', 'accept-charset', 'via', 'traceparent',
];
/** Common names by length, for a compare-only lookup. */
const byLength: string[][] = [];
for (const n of COMMON_NAMES) (byLength[n.length] ??= []).push(n);

function lower(name: string): string {
  const candidates = byLength[name.length];
  if (candidates !== undefined) {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (name === c || equalsLower(name, c)) return c;
    }
  }
  return name.toLowerCase();
}

/** `name` equals the lower-case `lowerName` ignoring ASCII case (same length assumed). */
function equalsLower(name: string, lowerName: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * What buildHeaders saw of the fields the server itself reads, so that it need not look
 * them up in the map again (lookups in maps of varying shapes are the slow kind).
 */
export class HeaderFacts {
  /** Host lines (RFC 9112 3.2 needs exactly one). */
  hostCount = 0;
  /** The Host value when there is exactly one line. */
  host: string | undefined = undefined;
  /**
   * The expectation to act on (see expectation()): undefined when none, '100-continue',
   * or the value as sent when it holds anything else.
   */
  expect: string | undefined = undefined;
  contentType: string | undefined = undefined;
  hasContentLength = false;
}

const SEEN_EXPECT = 1;
const SEEN_CONTENT_TYPE = 2;
const SEEN_CONTENT_LENGTH = 4;

/**
 * Header map from [name, value, ...]: lower-cased names; repeated fields joined with
 * ", " (RFC 9110 5.3), Cookie with "; " (RFC 6265 5.4). Set-Cookie cannot be combined
 * with commas (RFC 9110 5.3), so repeated Set-Cookie lines are joined with "\n".
 * Notes Host, Expect, Content-Type and Content-Length in `out`.
 */
export function buildHeaders(raw: string[], out: HeaderFacts): RequestHeaders {
  const headers: RequestHeaders = {};
  let hosts = 0;
  let host: string | undefined;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = lower(raw[i]!);
    const value = raw[i + 1]!;
    if (name === 'host') {
      hosts++;
      host = value;
    } else if (name === 'expect') seen |= SEEN_EXPECT;
    else if (name === 'content-type') seen |= SEEN_CONTENT_TYPE;
    else if (name === 'content-length') seen |= SEEN_CONTENT_LENGTH;
    const prev = headers[name];
    // Not a string: absent, or inherited from Object.prototype (`constructor`, ...).
    if (typeof prev !== 'string') {
      if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      else headers[name] = value;
    } else if (name === 'cookie') headers[name] = prev + '; ' + value;
    else if (name === 'set-cookie') headers[name] = prev + '\n' + value;
    else headers[name] = prev + ', ' + value;
  }
  out.hostCount = hosts;
  out.host = hosts === 1 ? host : undefined;
  // Repeated lines were joined above: the map holds the value to use.
  out.expect = (seen & SEEN_EXPECT) !== 0 ? expectation(headers.expect!) : undefined;
  out.contentType = (seen & SEEN_CONTENT_TYPE) !== 0 ? headers['content-type'] : undefined;
  out.hasContentLength = (seen & SEEN_CONTENT_LENGTH) !== 0;
  return headers;
}

/**
 * An Expect value as a list (RFC 9110 10.1.1, 5.6.1): empty elements are ignored, so
 * `Expect:` and `Expect: ,` expect nothing (undefined), and repeats of 100-continue (any
 * case) are one '100-continue'. Any other member returns the value unchanged (417).
 */
export function expectation(value: string): string | undefined {
  if (value === '100-continue') return value;
  let found = false;
  for (const member of value.split(',')) {
    const m = member.replace(OWS_EDGES, '');
    if (m === '') continue;
    if (m.length !== 12 || !equalsLower(m, '100-continue')) return value;
    found = true;
  }
  return found ? '100-continue' : undefined;
}

const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

/** Result of splitting a request-target. uri === null means the target is invalid for this method. */
export interface TargetParts {
  uri: string | null;
  queryString: string | null;
  /** Host (and port) of an absolute-form target, which wins over the Host header (RFC 9112 3.2.2); else null. */
  authority: string | null;
}

/**
 * Split a request-target (RFC 9112 3.2) into path and query. Origin-form `/p?q`,
 * absolute-form `http://host/p?q` (served as `/p`), asterisk-form `*` (OPTIONS only),
 * authority-form `host:port` (CONNECT only, and the only form CONNECT may use).
 */
export function splitTarget(target: string, method: string, out: TargetParts): void {
  const c0 = target.charCodeAt(0);
  let start = 0;
  out.authority = null;
  if (method === 'CONNECT') {
    // RFC 9110 9.3.6: the tunnel's host and port, nothing else; no port is a 400.
    const ok = isAuthorityForm(target);
    out.uri = ok ? target : null;
    out.authority = ok ? target : null;
    out.queryString = null;
    return;
  }
  if (c0 !== 47 /* / */) {
    if (target === '*') {
      out.uri = method === 'OPTIONS' ? '*' : null;
      out.queryString = null;
      return;
    }
    const scheme = target.indexOf('://');
    const s = scheme === -1 ? '' : target.slice(0, scheme).toLowerCase();
    if (s !== 'http' && s !== 'https') {
      out.uri = null;
      out.queryString = null;
      return;
    }
    const slash = target.indexOf('/', scheme + 3);
    const q0 = target.indexOf('?', scheme + 3);
    const authEnd = slash === -1 ? (q0 === -1 ? target.length : q0) : q0 !== -1 && q0 < slash ? q0 : slash;
    const authority = target.slice(scheme + 3, authEnd);
    if (authority === '' || !isValidHost(authority)) {
      out.uri = null;
      out.queryString = null;
      return;
    }
    out.authority = authority;
    if (slash === -1 || (q0 !== -1 && q0 < slash)) {
      // `http://host` or `http://host?x`: the path is empty, which means `/`.
      out.uri = '/';
      out.queryString = q0 === -1 ? null : target.slice(q0 + 1);
      return;
    }
    start = slash;
  }
  const q = target.indexOf('?', start);
  // A '%' in the path must start an escape (RFC 3986 2.1): `/a%zz` is an invalid target
  // (400), not a path the handler's decoding would choke on. The query is left as sent.
  const pct = target.indexOf('%', start);
  if (pct !== -1 && (q === -1 || pct < q) && !validEscapes(target, pct, q === -1 ? target.length : q)) {
    out.uri = null;
    out.queryString = null;
    return;
  }
  if (q === -1) {
    out.uri = start === 0 ? target : target.slice(start);
    out.queryString = null;
  } else {
    out.uri = target.slice(start, q);
    out.queryString = target.slice(q + 1);
  }
}

/** Every '%' in s[from, to) (s[from] is one) is followed by two hex digits. */
function validEscapes(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (s.charCodeAt(i) !== 37 /* % */) continue;
    if (i + 2 >= to || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
    i += 2;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

/** authority-form (RFC 9112 3.2.3): uri-host ":" port, with a non-empty host and a port in 1-65535. */
function isAuthorityForm(target: string): boolean {
  const colon = target.lastIndexOf(':');
  const digits = target.length - colon - 1;
  if (colon <= 0 || digits < 1 || digits > 5) return false;
  let port = 0;
  for (let i = colon + 1; i < target.length; i++) {
    const d = target.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    port = port * 10 + d;
  }
  return port >= 1 && port <= 65535 && isValidHost(target);
}

/** Host header value without the port, for serverName. */
export function hostName(host: string): string {
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

// RFC 9110 7.2 / RFC 3986 3.2.2: host [":" port], reg-name/IPv4/IP-literal characters.
const validHost = /^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

// reg-name / IPv4 characters (RFC 3986 3.2.2): unreserved, sub-delims and '%'.
const HOST_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%") HOST_CHAR[c.charCodeAt(0)] = 1;

/**
 * A Host value (or absolute-form authority) this server can be the origin of: host
 * [":" port]. The host may not be empty (`Host:`, `Host: :80`): an http or https URI
 * with an empty host is invalid and must be rejected (RFC 9110 4.2.1, 4.2.2).
 */
export function isValidHost(host: string): boolean {
  if (host.charCodeAt(0) === 91 /* [ */) return validHost.test(host); // IP literal: rare, exact rule
  // A loop beats the regex on the common `name[:port]`.
  let i = 0;
  const n = host.length;
  for (; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c === 58 /* : */) break;
    if (c > 127 || HOST_CHAR[c] === 0) return false;
  }
  if (i === 0) return false;
  for (i++; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Ring's lower-case request method (constants for the common ones). */
export function ringMethod(method: string): string {
  switch (method) {
    case 'GET': return 'get';
    case 'POST': return 'post';
    case 'HEAD': return 'head';
    case 'PUT': return 'put';
    case 'DELETE': return 'delete';
    case 'PATCH': return 'patch';
    case 'OPTIONS': return 'options';
    default: return method.toLowerCase();
  }
}
