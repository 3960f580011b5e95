// X-Forwarded-For / X-Forwarded-Proto, believed only when the connection comes from a
// proxy the server was told to trust: anyone else could write those headers.
import { BlockList, isIP } from 'node:net';
import type { Request } from './types.ts';

/**
 * The set of proxy addresses whose forwarding headers are believed. Entries are
 * addresses (`'127.0.0.1'`, `'::1'`), CIDR ranges (`'10.0.0.0/8'`, `'fd00::/8'`),
 * or `'loopback'` (127.0.0.0/8 and ::1).
 */
export class TrustedProxies {
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim();
      if (e === 'loopback') {
        this.#list.addSubnet('127.0.0.0', 8, 'ipv4');
        this.#list.addAddress('::1', 'ipv6');
        continue;
      }
      const slash = e.indexOf('/');
      const addr = slash === -1 ? e : e.slice(0, slash);
      const v = isIP(addr);
      if (v === 0) throw new RangeError(`trustedProxies: not an address or CIDR range: ${raw}`);
      const type = v === 4 ? 'ipv4' : 'ipv6';
      if (slash === -1) {
        this.#list.addAddress(addr, type);
        continue;
      }
      const bits = e.slice(slash + 1);
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (v === 4 ? 32 : 128)) throw new RangeError(`trustedProxies: bad prefix length in ${raw}`);
      this.#list.addSubnet(addr, prefix, type);
    }
  }

  /** applyForwarded(req, this): what the server does to each request when `trustedProxies` is set. */
  apply(req: Request): void {
    applyForwarded(req, this);
  }

  /** Whether `address` (as a socket reports it; IPv4-mapped IPv6 counts as IPv4) is trusted. */
  trusts(address: string): boolean {
    const a = unmap(address);
    const v = isIP(a);
    return v !== 0 && this.#list.check(a, v === 4 ? 'ipv4' : 'ipv6');
  }
}

function unmap(a: string): string {
  return a.length > 7 && a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * When the request came straight from a trusted proxy: `remoteAddr` becomes the
 * client named by X-Forwarded-For (the rightmost entry that is not itself a trusted
 * proxy; a malformed entry stops the walk) and `scheme` follows X-Forwarded-Proto
 * (the value the nearest proxy set, `http` or `https`). Otherwise nothing changes.
 * The raw headers stay in `req.headers` either way.
 */
export function applyForwarded(req: Request, trusted: TrustedProxies): void {
  if (!trusted.trusts(req.remoteAddr)) return;
  const xff = req.headers['x-forwarded-for'];
  if (xff !== undefined) {
    const hops = xff.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = stripPort(hops[i]!.trim());
      if (isIP(hop) === 0) break;
      req.remoteAddr = hop;
      if (!trusted.trusts(hop)) break;
    }
  }
  const xfp = req.headers['x-forwarded-proto'];
  if (xfp !== undefined) {
    const comma = xfp.lastIndexOf(',');
    const proto = (comma === -1 ? xfp : xfp.slice(comma + 1)).trim().toLowerCase();
    if (proto === 'https' || proto === 'http') req.scheme = proto;
  }
}

/** `[::1]:80` -> `::1`, `1.2.3.4:80` -> `1.2.3.4`; plain addresses unchanged. */
function stripPort(h: string): string {
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return colon !== -1 && colon === h.lastIndexOf(':') ? h.slice(0, colon) : h;
}
