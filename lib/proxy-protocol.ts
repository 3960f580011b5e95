// PROXY protocol v1 (text) and v2 (binary) headers, as sent by load balancers
// (haproxy, nginx `proxy_protocol on`, AWS NLB) ahead of the client's bytes, so a
// server behind a TCP proxy learns the real client address.
// The parser is a pure function over the bytes received so far; the reader below
// consumes the header from a fresh socket before HTTP (or TLS) sees any byte.
import type { Socket } from 'node:net';

/** `proxyProtocol` server option: off, required on every connection, or accepted when present. */
export type ProxyProtocolMode = 'disable' | 'enable' | 'optional';

/** A Type-Length-Value field of a v2 header (e.g. 0x01 ALPN, 0x02 authority, 0x05 unique id). */
export interface ProxyTlv {
  type: number;
  value: Buffer;
}

/** What a PROXY header says. */
export interface ProxyHeader {
  version: 1 | 2;
  /** v2 LOCAL (health checks by the proxy itself) or v1/v2 UNKNOWN: keep the socket's own addresses. */
  local: boolean;
  /** 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'unknown' */
  family: string;
  sourceAddress: string | null;
  sourcePort: number | null;
  destinationAddress: string | null;
  destinationPort: number | null;
  /** v2 TLVs in order; empty for v1. */
  tlvs: ProxyTlv[];
}

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'none' }
  | { kind: 'error'; reason: string }
  | { kind: 'header'; header: ProxyHeader; length: number };

/** The 12-byte v2 signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 line is at most 107 bytes with its CRLF. */
const V1_MAX = 107;

const INCOMPLETE: ProxyParse = Object.freeze({ kind: 'incomplete' });
const NONE: ProxyParse = Object.freeze({ kind: 'none' });

function error(reason: string): ProxyParse {
  return { kind: 'error', reason };
}

/** True when `buf` (maybe short) agrees with `sig` on their common length. */
function prefixMatches(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  for (let i = 0; i < n; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

/**
 * Parse a PROXY header at the start of `buf`. With `required` false, bytes that
 * cannot start a header give `none` (the connection speaks plain HTTP or TLS).
 */
export function parseProxyHeader(buf: Buffer, required: boolean): ProxyParse {
  if (buf.length === 0) return INCOMPLETE;
  const maybeV1 = prefixMatches(buf, V1_PREFIX);
  const maybeV2 = prefixMatches(buf, V2_SIGNATURE);
  if (!maybeV1 && !maybeV2) return required ? error('no PROXY header') : NONE;
  if (maybeV1 && buf.length < V1_PREFIX.length) return INCOMPLETE;
  if (maybeV2 && buf.length < V2_SIGNATURE.length) return INCOMPLETE;
  return maybeV1 ? parseV1(buf) : parseV2(buf);
}

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PORT = /^(?:0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return buf.length >= V1_MAX ? error('v1 line too long') : INCOMPLETE;
  if (end + 2 > V1_MAX) return error('v1 line too long');
  const line = buf.toString('latin1', V1_PREFIX.length, end);
  const parts = line.split(' ');
  const proto = parts[0];
  if (proto === 'UNKNOWN') {
    // Whatever follows UNKNOWN is to be ignored.
    return { kind: 'header', length: end + 2, header: header(1, true, 'unknown', null, null, null, null, []) };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return error('v1 protocol must be TCP4, TCP6 or UNKNOWN');
  if (parts.length !== 5) return error('v1 line needs 4 address fields');
  const [, src, dst, sport, dport] = parts as [string, string, string, string, string];
  const v4 = proto === 'TCP4';
  if (v4 ? !(IPV4.test(src) && IPV4.test(dst)) : !(isIPv6(src) && isIPv6(dst))) return error('v1 address does not match ' + proto);
  if (!PORT.test(sport) || !PORT.test(dport) || +sport > 65535 || +dport > 65535) return error('v1 port out of range');
  return {
    kind: 'header',
    length: end + 2,
    header: header(1, false, v4 ? 'tcp4' : 'tcp6', src, +sport, dst, +dport, []),
  };
}

function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  try {
    return new URL('http://[' + s + ']/').hostname.length > 2;
  } catch {
    return false;
  }
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return INCOMPLETE;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return error('v2 version must be 2');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return error('v2 command must be LOCAL or PROXY');
  const fam = buf[13]!;
  const len = buf.readUInt16BE(14);
  const total = 16 + len;
  if (buf.length < total) return INCOMPLETE;
  const body = buf.subarray(16, total);
  const af = fam >> 4;
  const transport = fam & 0x0f;
  if (af > 3 || transport > 2) return error('v2 unknown address family');
  const addrLen = af === 1 ? 12 : af === 2 ? 36 : af === 3 ? 216 : 0;
  if (len < addrLen) return error('v2 address block too short');
  const tlvs = parseTlvs(body.subarray(addrLen));
  if (tlvs === null) return error('v2 TLV overruns the header');
  const local = cmd === 0 || af === 0;
  if (local) return { kind: 'header', length: total, header: header(2, true, cmd === 0 ? 'local' : 'unknown', null, null, null, null, tlvs) };
  const stream = transport === 1;
  if (af === 1) {
    return {
      kind: 'header',
      length: total,
      header: header(2, false, stream ? 'tcp4' : 'udp4', ipv4(body, 0), body.readUInt16BE(8), ipv4(body, 4), body.readUInt16BE(10), tlvs),
    };
  }
  if (af === 2) {
    return {
      kind: 'header',
      length: total,
      header: header(2, false, stream ? 'tcp6' : 'udp6', ipv6(body, 0), body.readUInt16BE(32), ipv6(body, 16), body.readUInt16BE(34), tlvs),
    };
  }
  return { kind: 'header', length: total, header: header(2, false, 'unix', cString(body, 0, 108), null, cString(body, 108, 108), null, tlvs) };
}

function parseTlvs(b: Buffer): ProxyTlv[] | null {
  const out: ProxyTlv[] = [];
  let i = 0;
  while (i < b.length) {
    if (i + 3 > b.length) return null;
    const n = b.readUInt16BE(i + 1);
    if (i + 3 + n > b.length) return null;
    out.push({ type: b[i]!, value: Buffer.from(b.subarray(i + 3, i + 3 + n)) });
    i += 3 + n;
  }
  return out;
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  // Canonical text (zero runs compressed, v4-mapped kept) through the URL parser.
  return new URL('http://[' + groups.join(':') + ']/').hostname.slice(1, -1);
}

function cString(b: Buffer, at: number, max: number): string {
  const s = b.subarray(at, at + max);
  const z = s.indexOf(0);
  return s.toString('latin1', 0, z === -1 ? s.length : z);
}

function header(
  version: 1 | 2, local: boolean, family: string,
  sourceAddress: string | null, sourcePort: number | null,
  destinationAddress: string | null, destinationPort: number | null,
  tlvs: ProxyTlv[],
): ProxyHeader {
  return { version, local, family, sourceAddress, sourcePort, destinationAddress, destinationPort, tlvs };
}

/** The PROXY header a socket arrived with, or undefined. */
export const kProxyHeader: unique symbol = Symbol('httpkit.proxyHeader');

/** The PROXY header read from this socket (or the TLS socket above it), if any. */
export function proxyHeaderOf(socket: object): ProxyHeader | undefined {
  return (socket as { [kProxyHeader]?: ProxyHeader })[kProxyHeader];
}

/**
 * Make `socket.remoteAddress` / `remotePort` / `remoteFamily` report the client
 * named by the header, so everything above (request maps, WebSocket channels, logs)
 * sees the real client without knowing about the proxy.
 */
export function applyProxyHeader(socket: Socket, h: ProxyHeader): void {
  (socket as unknown as { [kProxyHeader]?: ProxyHeader })[kProxyHeader] = h;
  if (h.local || h.sourceAddress === null || h.family === 'unix') return;
  const family = h.family.endsWith('6') ? 'IPv6' : 'IPv4';
  Object.defineProperty(socket, 'remoteAddress', { value: h.sourceAddress, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: h.sourcePort, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: family, configurable: true });
}

/**
 * Consume a PROXY header from a fresh socket, then call `ready` with the socket
 * (paused, header applied, any bytes after the header pushed back for the next
 * reader) and those bytes. A malformed or missing (mode 'enable') header, or none
 * within `timeout` ms, closes the connection: nothing of it reaches the handler.
 */
export function readProxyHeader(
  socket: Socket,
  mode: 'enable' | 'optional',
  timeout: number,
  ready: (socket: Socket, rest: Buffer) => void,
  onReject: (reason: string) => void,
): void {
  let got: Buffer | null = null;
  const finish = (): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.setTimeout(0);
    socket.off('timeout', onTimeout);
  };
  const reject = (reason: string): void => {
    finish();
    onReject(reason);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    got = got === null ? chunk : Buffer.concat([got, chunk]);
    const r = parseProxyHeader(got, mode === 'enable');
    if (r.kind === 'incomplete') {
      if (got.length > 16 + 65535) reject('PROXY header too long');
      return;
    }
    if (r.kind === 'error') return reject(r.reason);
    finish();
    socket.pause();
    let rest = got;
    if (r.kind === 'header') {
      applyProxyHeader(socket, r.header);
      rest = got.subarray(r.length);
    }
    got = null;
    ready(socket, rest);
  };
  const onEnd = (): void => reject('connection ended before the PROXY header');
  const onError = (): void => reject('socket error before the PROXY header');
  const onTimeout = (): void => reject('no PROXY header in time');
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('timeout', onTimeout);
  socket.setTimeout(timeout);
}
