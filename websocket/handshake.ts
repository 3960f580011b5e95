// The HTTP/1.1 opening handshake (RFC 6455 4): server-side validation of an upgrade
// request producing the exact response bytes, and the client's request and checks.
import { crypto } from './builtins.ts';
import { acceptDeflateOffer, deflateOffer, parseExtensions, verifyDeflateResponse, type DeflateParams, type PerMessageDeflateOptions } from './deflate.ts';

export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Header access by lower-case name: a function, or a record such as a Ring request's `headers`. */
export type HeaderLookup = ((name: string) => string | undefined) | Record<string, string | string[] | undefined>;

/** The parts of an HTTP request the handshake looks at. */
export interface UpgradeRequest {
  /** Request method; `GET` (or the lower-case `get` of a Ring request map). */
  method: string;
  /** Header lookup by lower-case name; repeated fields joined with ", ". */
  headers: HeaderLookup;
  /** `1.1`, `HTTP/1.1`, ... When given, anything below 1.1 is refused. */
  httpVersion?: string;
}

/** Server handshake policy. */
export interface AcceptOptions {
  /** Subprotocols this server speaks. Without `selectProtocol`, the first one the client offers that is in this list is chosen. Default: none. */
  protocols?: readonly string[];
  /** Choose a subprotocol from the client's offer (in its order); return one of them, or null/undefined for none. Overrides `protocols`. */
  selectProtocol?: (offered: string[], request: UpgradeRequest) => string | null | undefined;
  /** Return false to refuse the request with 403 (cross-origin protection). Gets the Origin header (undefined when absent). Default: accept all. */
  verifyOrigin?: (origin: string | undefined, request: UpgradeRequest) => boolean;
  /** Accept permessage-deflate offers: true for defaults, or a policy. Default false (off). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Extra header lines for the 101 response, e.g. `{ 'Set-Cookie': 'a=b' }`. Default none. */
  headers?: Record<string, string>;
}

export interface UpgradeAccepted {
  ok: true;
  /** The complete `101 Switching Protocols` head to write before any frame. */
  response: Buffer;
  /** Chosen subprotocol, '' when none. */
  protocol: string;
  /** Agreed permessage-deflate parameters, null when not in use. Pass to `new WebSocket(..., { deflate })`. */
  deflate: DeflateParams | null;
  /** The Sec-WebSocket-Extensions value sent, '' when none. */
  extensions: string;
}

export interface UpgradeRejected {
  ok: false;
  /** 400, 403 or 426. */
  status: number;
  /** What was wrong (also the response body). */
  reason: string;
  /** Headers the response must carry (e.g. `Sec-WebSocket-Version: 13` with 426). */
  headers: Record<string, string>;
  /** A complete response (with `Connection: close`) ready to write, then close the socket. */
  response: Buffer;
}

export type UpgradeResult = UpgradeAccepted | UpgradeRejected;

/** Sec-WebSocket-Accept for a key. */
export function acceptKey(key: string): string {
  return crypto().createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

function lookup(headers: HeaderLookup, name: string): string | undefined {
  if (typeof headers === 'function') return headers(name);
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Does the comma-separated header value contain `token` (case-insensitive)? */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// 16 random bytes in base64: 22 characters, the last one from the 4-bit alphabet, then "==".
const KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 426: 'Upgrade Required' };

function reject(status: number, reason: string, headers: Record<string, string> = {}): UpgradeRejected {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return { ok: false, status, reason, headers, response: Buffer.from(`${head}\r\n${reason}`, 'utf8') };
}

/** Parse a comma list of tokens; null when an element is not a token or repeats. */
function parseProtocolList(value: string): string[] | null {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const p = raw.trim();
    if (p === '') continue;
    if (!TOKEN.test(p) || out.includes(p)) return null;
    out.push(p);
  }
  return out;
}

/**
 * Validate a WebSocket upgrade request and produce the response: either the 101 head
 * to write (then hand the socket to `new WebSocket(socket, { role: 'server', deflate,
 * protocol })`), or a rejection (400 malformed, 403 origin refused, 426 wrong version).
 */
export function acceptUpgrade(request: UpgradeRequest, options: AcceptOptions = {}): UpgradeResult {
  const h = request.headers;
  if (request.method !== 'GET' && request.method !== 'get') return reject(400, 'WebSocket upgrade requires GET');
  if (request.httpVersion !== undefined) {
    const m = /^(?:HTTP\/)?(\d)\.(\d)$/.exec(request.httpVersion);
    if (m === null || Number(m[1]) * 10 + Number(m[2]) < 11) return reject(400, 'WebSocket upgrade requires HTTP/1.1');
  }
  if (!hasToken(lookup(h, 'upgrade'), 'websocket')) return reject(400, 'Upgrade header must include "websocket"');
  if (!hasToken(lookup(h, 'connection'), 'upgrade')) return reject(400, 'Connection header must include "upgrade"');
  const version = lookup(h, 'sec-websocket-version');
  if (version === undefined) return reject(400, 'missing Sec-WebSocket-Version');
  if (version.trim() !== '13') return reject(426, 'unsupported WebSocket version (13 only)', { 'Sec-WebSocket-Version': '13' });
  const key = lookup(h, 'sec-websocket-key')?.trim();
  if (key === undefined || !KEY.test(key)) return reject(400, 'missing or invalid Sec-WebSocket-Key');
  if (options.verifyOrigin !== undefined && !options.verifyOrigin(lookup(h, 'origin'), request)) {
    return reject(403, 'origin not allowed');
  }

  let protocol = '';
  const protoHeader = lookup(h, 'sec-websocket-protocol');
  if (protoHeader !== undefined) {
    const offered = parseProtocolList(protoHeader);
    if (offered === null) return reject(400, 'invalid Sec-WebSocket-Protocol');
    if (offered.length > 0) {
      if (options.selectProtocol !== undefined) {
        const chosen = options.selectProtocol(offered, request);
        if (chosen !== null && chosen !== undefined && chosen !== '') {
          if (!offered.includes(chosen)) throw new Error(`selectProtocol returned "${chosen}", which the client did not offer`);
          protocol = chosen;
        }
      } else if (options.protocols !== undefined) {
        protocol = offered.find((p) => options.protocols!.includes(p)) ?? '';
      }
    }
  }

  let deflate: DeflateParams | null = null;
  let extensions = '';
  const extHeader = lookup(h, 'sec-websocket-extensions');
  if (extHeader !== undefined) {
    const offers = parseExtensions(extHeader);
    if (offers === null) return reject(400, 'invalid Sec-WebSocket-Extensions');
    if (options.perMessageDeflate) {
      const policy = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
      const agreed = acceptDeflateOffer(offers, policy);
      if (agreed !== null) {
        deflate = agreed.params;
        extensions = agreed.header;
      }
    }
  }

  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== '') head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== '') head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if (options.headers) for (const [k, v] of Object.entries(options.headers)) head += `${k}: ${v}\r\n`;
  return { ok: true, response: Buffer.from(head + '\r\n', 'latin1'), protocol, deflate, extensions };
}

// ---- client side ----

export interface ClientHandshakeOptions {
  /** Subprotocols to offer, in preference order. Default none. */
  protocols?: readonly string[];
  /** Extra request headers (e.g. Authorization, Origin, Cookie; a Host here replaces the URL's). Default none. */
  headers?: Record<string, string>;
  /** Offer permessage-deflate: true for defaults or the offer's parameters. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Build the opening request for `url` (ws: or wss:). Returns the bytes and the key to check the answer against. */
export function buildClientRequest(url: URL, opts: ClientHandshakeOptions = {}): { key: string; request: Buffer } {
  // RFC 6455 3: fragment identifiers MUST NOT be used on WebSocket URIs ('#' is sent as %23).
  if (url.hash !== '' || url.href.endsWith('#')) throw new TypeError(`a WebSocket URL has no fragment: ${url.href}`);
  const key = crypto().randomBytes(16).toString('base64');
  const path = (url.pathname || '/') + url.search;
  const userHost = opts.headers !== undefined && Object.keys(opts.headers).some((k) => k.toLowerCase() === 'host');
  let head = `GET ${path} HTTP/1.1\r\n${userHost ? '' : `Host: ${url.host}\r\n`}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (opts.protocols && opts.protocols.length > 0) {
    for (let i = 0; i < opts.protocols.length; i++) {
      const p = opts.protocols[i]!;
      if (!TOKEN.test(p)) throw new TypeError(`invalid subprotocol "${p}"`);
      if (opts.protocols.indexOf(p) !== i) throw new TypeError(`subprotocol "${p}" offered twice`);
    }
    head += `Sec-WebSocket-Protocol: ${opts.protocols.join(', ')}\r\n`;
  }
  if (opts.perMessageDeflate) head += `Sec-WebSocket-Extensions: ${deflateOffer(opts.perMessageDeflate === true ? {} : opts.perMessageDeflate)}\r\n`;
  if (url.username !== '' && !opts.headers?.authorization && !opts.headers?.Authorization) {
    const cred = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    head += `Authorization: Basic ${Buffer.from(cred).toString('base64')}\r\n`;
  }
  if (opts.headers) {
    for (const [k, v] of Object.entries(opts.headers)) {
      if (!TOKEN.test(k) || /[\r\n\0]/.test(v)) throw new TypeError(`invalid header ${k}`);
      head += `${k}: ${v}\r\n`;
    }
  }
  return { key, request: Buffer.from(head + '\r\n', 'utf8') };
}

/** A parsed HTTP response head. */
export interface ResponseHeadInfo {
  /** `1.1` or `1.0`. */
  httpVersion: string;
  statusCode: number;
  reason: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  /** Bytes of the head including the blank line. */
  length: number;
}

/**
 * Parse an HTTP/1.1 response head at the start of `buf`. Returns null when the head is
 * not complete yet, or a string describing why it is malformed.
 */
export function parseResponseHead(buf: Buffer, maxSize = 16384): ResponseHeadInfo | null | string {
  const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return buf.length > maxSize ? 'response head too large' : null;
  if (end + 4 > maxSize) return 'response head too large';
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = /^HTTP\/(1\.[01]) (\d{3}) ?([^\r\n]*)$/.exec(lines[0]!);
  if (m === null) return 'invalid status line';
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'invalid header line';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'invalid header name';
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return 'invalid header value';
    const k = name.toLowerCase();
    headers[k] = headers[k] === undefined ? value : `${headers[k]}, ${value}`;
  }
  return { httpVersion: m[1]!, statusCode: Number(m[2]), reason: m[3]!, headers, length: end + 4 };
}

/** Check a server's 101 answer. Returns the agreed subprotocol and deflate parameters, or a reason. */
export function verifyServerResponse(
  res: { statusCode: number; headers: HeaderLookup; httpVersion?: string },
  key: string,
  opts: ClientHandshakeOptions = {},
): { protocol: string; deflate: DeflateParams | null } | string {
  if (res.statusCode !== 101) return `unexpected status ${res.statusCode}`;
  // Upgrade is an HTTP/1.1 mechanism: an HTTP/1.0 peer cannot have switched protocols.
  if (res.httpVersion !== undefined && res.httpVersion !== '1.1' && res.httpVersion !== 'HTTP/1.1') return `101 in an HTTP/${res.httpVersion} response`;
  const h = res.headers;
  if (!hasToken(lookup(h, 'upgrade'), 'websocket')) return 'Upgrade header is not "websocket"';
  if (!hasToken(lookup(h, 'connection'), 'upgrade')) return 'Connection header lacks "upgrade"';
  if (lookup(h, 'sec-websocket-accept')?.trim() !== acceptKey(key)) return 'Sec-WebSocket-Accept does not match the key';
  let protocol = '';
  const p = lookup(h, 'sec-websocket-protocol');
  if (p !== undefined) {
    protocol = p.trim();
    if (!opts.protocols?.includes(protocol)) return `server chose subprotocol "${protocol}" which was not offered`;
  }
  let deflate: DeflateParams | null = null;
  const ext = lookup(h, 'sec-websocket-extensions');
  if (ext !== undefined) {
    const list = parseExtensions(ext);
    if (list === null) return 'invalid Sec-WebSocket-Extensions';
    for (const e of list) {
      if (e.name !== 'permessage-deflate' || !opts.perMessageDeflate || deflate !== null) return `server accepted extension "${e.name}" which was not offered`;
      const r = verifyDeflateResponse(e, opts.perMessageDeflate === true ? {} : opts.perMessageDeflate);
      if (typeof r === 'string') return `permessage-deflate: ${r}`;
      deflate = r;
    }
  }
  return { protocol, deflate };
}
