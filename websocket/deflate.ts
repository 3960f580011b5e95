// permessage-deflate (RFC 7692): negotiation for both roles and the per-connection
// compressor/decompressor on node:zlib. zlib streams are created on first use and
// released after each message when the context is not taken over, so an idle
// connection holds no zlib memory unless context takeover was negotiated.
import type { DeflateRaw, InflateRaw } from 'node:zlib';
import { zlib } from './builtins.ts';

/** permessage-deflate settings for one side (offer as client, acceptance policy as server). */
export interface PerMessageDeflateOptions {
  /** Ask (client) / force (server) the server to reset its compression context after each message. Default false. */
  serverNoContextTakeover?: boolean;
  /** Ask (client) / force (server) the client to reset its compression context after each message. Default false. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (8-15) the server may compress with. Default: not sent (15). */
  serverMaxWindowBits?: number;
  /** Largest LZ77 window (8-15) the client may compress with. Client default: offered without value (server may pick); server default: whatever the client offered. */
  clientMaxWindowBits?: number;
  /** zlib compression level 0-9. Default 1 (fast; messages are small). */
  level?: number;
  /** zlib memLevel 1-9. Default 8. */
  memLevel?: number;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
}

/** Parameters agreed in the handshake. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export type ExtensionParams = Record<string, string | true>;
export interface ExtensionOffer {
  name: string;
  params: ExtensionParams;
  /** A parameter appeared twice (RFC 7692 says to decline such an offer). */
  duplicate: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parse a Sec-WebSocket-Extensions value (RFC 6455 9.1): a comma list of
 * `token *( ";" token [ "=" (token / quoted-string) ] )`. Returns null when malformed.
 */
export function parseExtensions(header: string): ExtensionOffer[] | null {
  const out: ExtensionOffer[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const s = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(s, i);
  };
  for (;;) {
    skipWs();
    if (i < n && header[i] === ',') {
      i++; // empty list elements are allowed by the #rule
      continue;
    }
    if (i >= n) break;
    const name = readToken();
    if (name === '') return null;
    const offer: ExtensionOffer = { name: name.toLowerCase(), params: {}, duplicate: false };
    skipWs();
    while (i < n && header[i] === ';') {
      i++;
      skipWs();
      const key = readToken().toLowerCase();
      if (key === '') return null;
      skipWs();
      let value: string | true = true;
      if (i < n && header[i] === '=') {
        i++;
        skipWs();
        if (header[i] === '"') {
          i++;
          let v = '';
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\') i++;
            v += header[i] ?? '';
            i++;
          }
          if (i >= n) return null;
          i++;
          if (!TOKEN.test(v)) return null; // the unquoted value must still be a token
          value = v;
        } else {
          value = readToken();
          if (value === '') return null;
        }
        skipWs();
      }
      if (Object.prototype.hasOwnProperty.call(offer.params, key)) offer.duplicate = true;
      else offer.params[key] = value;
    }
    out.push(offer);
    skipWs();
    if (i >= n) break;
    if (header[i] !== ',') return null;
    i++;
  }
  return out;
}

/** Window bits value: an integer 8-15 written without leading zeros, else NaN. */
function windowBits(v: string | true | undefined): number {
  if (typeof v !== 'string' || !/^(8|9|1[0-5])$/.test(v)) return NaN;
  return Number(v);
}

const KNOWN = new Set(['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits']);

/**
 * Server side: pick the first acceptable permessage-deflate offer. Offers with unknown
 * or invalid parameters are declined (RFC 7692 5). Every window size 8-15 is agreed to:
 * see `deflaterWindowBits` for 8.
 * Returns the agreed parameters and the response header value, or null to decline all.
 */
export function acceptDeflateOffer(offers: ExtensionOffer[], opts: PerMessageDeflateOptions): { params: DeflateParams; header: string } | null {
  for (const offer of offers) {
    if (offer.name !== 'permessage-deflate' || offer.duplicate) continue;
    const p = offer.params;
    let ok = true;
    for (const k of Object.keys(p)) if (!KNOWN.has(k)) ok = false;
    if (!ok) continue;
    if (p.server_no_context_takeover !== undefined && p.server_no_context_takeover !== true) continue;
    if (p.client_no_context_takeover !== undefined && p.client_no_context_takeover !== true) continue;
    let serverBits = opts.serverMaxWindowBits ?? 15;
    let sendServerBits = opts.serverMaxWindowBits !== undefined;
    if (p.server_max_window_bits !== undefined) {
      const v = windowBits(p.server_max_window_bits);
      if (Number.isNaN(v)) continue;
      serverBits = Math.min(serverBits, v);
      sendServerBits = true;
    }
    let clientBits = 15;
    let sendClientBits = false;
    if (p.client_max_window_bits !== undefined) {
      const v = p.client_max_window_bits === true ? 15 : windowBits(p.client_max_window_bits);
      if (Number.isNaN(v)) continue;
      clientBits = Math.min(v, opts.clientMaxWindowBits ?? 15);
      sendClientBits = opts.clientMaxWindowBits !== undefined || p.client_max_window_bits !== true;
    }
    const params: DeflateParams = {
      serverNoContextTakeover: p.server_no_context_takeover === true || opts.serverNoContextTakeover === true,
      clientNoContextTakeover: p.client_no_context_takeover === true || opts.clientNoContextTakeover === true,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    let header = 'permessage-deflate';
    if (params.serverNoContextTakeover) header += '; server_no_context_takeover';
    if (params.clientNoContextTakeover) header += '; client_no_context_takeover';
    if (sendServerBits) header += `; server_max_window_bits=${serverBits}`;
    if (sendClientBits) header += `; client_max_window_bits=${clientBits}`;
    return { params, header };
  }
  return null;
}

/** Client side: the Sec-WebSocket-Extensions value to offer. */
export function deflateOffer(opts: PerMessageDeflateOptions): string {
  let h = 'permessage-deflate';
  if (opts.serverNoContextTakeover) h += '; server_no_context_takeover';
  if (opts.clientNoContextTakeover) h += '; client_no_context_takeover';
  if (opts.serverMaxWindowBits !== undefined) h += `; server_max_window_bits=${opts.serverMaxWindowBits}`;
  h += opts.clientMaxWindowBits !== undefined ? `; client_max_window_bits=${opts.clientMaxWindowBits}` : '; client_max_window_bits';
  return h;
}

/**
 * Client side: check the server's permessage-deflate response against our offer.
 * Returns the agreed parameters, or an error message.
 */
export function verifyDeflateResponse(resp: ExtensionOffer, opts: PerMessageDeflateOptions): DeflateParams | string {
  if (resp.duplicate) return 'permessage-deflate parameter repeated';
  const p = resp.params;
  for (const k of Object.keys(p)) if (!KNOWN.has(k)) return `unknown permessage-deflate parameter ${k}`;
  if (p.server_no_context_takeover !== undefined && p.server_no_context_takeover !== true) return 'server_no_context_takeover takes no value';
  if (p.client_no_context_takeover !== undefined && p.client_no_context_takeover !== true) return 'client_no_context_takeover takes no value';
  if (opts.serverNoContextTakeover && p.server_no_context_takeover !== true) return 'server ignored server_no_context_takeover';
  let serverBits = 15;
  if (p.server_max_window_bits !== undefined) {
    serverBits = windowBits(p.server_max_window_bits);
    if (Number.isNaN(serverBits)) return 'invalid server_max_window_bits';
    if (opts.serverMaxWindowBits !== undefined && serverBits > opts.serverMaxWindowBits) return 'server_max_window_bits above the offer';
  } else if (opts.serverMaxWindowBits !== undefined) {
    return 'server ignored server_max_window_bits';
  }
  let clientBits = opts.clientMaxWindowBits ?? 15;
  if (p.client_max_window_bits !== undefined) {
    const v = windowBits(p.client_max_window_bits);
    if (Number.isNaN(v)) return 'invalid client_max_window_bits';
    if (v > clientBits) return 'client_max_window_bits above the offer';
    clientBits = v;
  }
  return {
    serverNoContextTakeover: p.server_no_context_takeover === true,
    clientNoContextTakeover: p.client_no_context_takeover === true || opts.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}

/**
 * The zlib windowBits that compresses within an agreed window of 2^bits bytes. zlib's
 * raw deflate refuses 8, but at 9 it never refers back more than 512 - 262 = 250 bytes
 * (MAX_DIST: the window minus the lookahead), which fits a 256-byte window: 9 honours 8.
 */
export function deflaterWindowBits(bits: number): number {
  return bits < 9 ? 9 : bits;
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const kOwner = Symbol('permessage-deflate');

type Done = (err: Error | null, out: Buffer | null) => void;

/** Raised when a compressed message inflates past the size limit. */
export class InflateLimitError extends Error {}

/** Per-connection compressor and decompressor for one negotiated parameter set. */
export class PerMessageDeflate {
  /** The parameters agreed in the handshake. */
  readonly params: DeflateParams;
  readonly threshold: number;
  private readonly level: number;
  private readonly memLevel: number;
  /** Reset our deflate context after each message. */
  private readonly ownReset: boolean;
  /** The peer resets its context, so ours can go too. */
  private readonly peerReset: boolean;
  private readonly ownBits: number;
  private readonly peerBits: number;
  private inflater: InflateRaw | null = null;
  private deflater: DeflateRaw | null = null;
  private inChunks: Buffer[] = [];
  private inLength = 0;
  private inLimit = 0;
  private inError: Error | null = null;
  private inDone: Done | null = null;
  private outChunks: Buffer[] = [];
  private outLength = 0;

  constructor(params: DeflateParams, isServer: boolean, opts: PerMessageDeflateOptions = {}) {
    this.params = params;
    this.threshold = opts.threshold ?? 1024;
    this.level = opts.level ?? 1;
    this.memLevel = opts.memLevel ?? 8;
    this.ownReset = isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.peerReset = isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.ownBits = deflaterWindowBits(isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits);
    this.peerBits = isServer ? params.clientMaxWindowBits : params.serverMaxWindowBits;
  }

  /**
   * Inflate one frame's payload. `limit` is how many more bytes the message may
   * grow by; exceeding it fails with InflateLimitError before more output is buffered.
   * `fin` ends the message (appends the stripped 00 00 FF FF tail).
   */
  decompress(data: Buffer, fin: boolean, limit: number, done: Done): void {
    let inf = this.inflater;
    if (inf === null) {
      inf = zlib().createInflateRaw({ windowBits: this.peerBits });
      (inf as unknown as Record<symbol, unknown>)[kOwner] = this;
      inf.on('data', onInflateData);
      inf.on('error', onInflateError);
      this.inflater = inf;
    }
    this.inLimit = limit;
    this.inDone = done;
    inf.write(data);
    if (fin) inf.write(TRAILER);
    inf.flush(() => {
      if (this.inflater !== inf) return; // failed or closed meanwhile
      this.inDone = null;
      const err = this.inError;
      if (err !== null) {
        this.inError = null;
        this.releaseInflater();
        done(err, null);
        return;
      }
      const out = this.inChunks.length === 1 ? this.inChunks[0]! : Buffer.concat(this.inChunks, this.inLength);
      this.inChunks = [];
      this.inLength = 0;
      if (fin && this.peerReset) this.releaseInflater();
      done(null, out);
    });
  }

  /** Deflate a message (or one fragment of it when `fin` is false). */
  compress(data: Buffer, fin: boolean, done: (out: Buffer) => void): void {
    let def = this.deflater;
    if (def === null) {
      def = zlib().createDeflateRaw({ windowBits: this.ownBits, level: this.level, memLevel: this.memLevel });
      (def as unknown as Record<symbol, unknown>)[kOwner] = this;
      def.on('data', onDeflateData);
      this.deflater = def;
    }
    def.write(data);
    def.flush(zlib().constants.Z_SYNC_FLUSH, () => {
      if (this.deflater === null) return;
      let out = this.outChunks.length === 1 ? this.outChunks[0]! : Buffer.concat(this.outChunks, this.outLength);
      this.outChunks = [];
      this.outLength = 0;
      // A sync flush ends with an empty stored block 00 00 FF FF, which the frame omits.
      if (fin) out = out.subarray(0, out.length - 4);
      if (fin && this.ownReset) this.releaseDeflater();
      done(out);
    });
  }

  /** Free both zlib contexts (connection closed). */
  close(): void {
    this.releaseInflater();
    this.releaseDeflater();
  }

  private releaseInflater(): void {
    const inf = this.inflater;
    if (inf === null) return;
    this.inflater = null;
    this.inChunks = [];
    this.inLength = 0;
    inf.removeListener('data', onInflateData);
    inf.close();
    // close() may still emit a late 'error'; keep a listener so it is not thrown.
  }

  private releaseDeflater(): void {
    const def = this.deflater;
    if (def === null) return;
    this.deflater = null;
    this.outChunks = [];
    this.outLength = 0;
    def.removeListener('data', onDeflateData);
    def.close();
  }

  /** @internal */
  _inflated(chunk: Buffer): void {
    if (this.inError !== null) return;
    this.inLength += chunk.length;
    if (this.inLength > this.inLimit) {
      this.inError = new InflateLimitError('decompressed message exceeds the size limit');
      this.inChunks = [];
      // Drop further output of this frame instead of buffering it.
      this.inflater?.removeListener('data', onInflateData);
      this.inflater?.reset();
      return;
    }
    this.inChunks.push(chunk);
  }

  /** @internal */
  _inflateFailed(err: Error): void {
    // A corrupt stream: the flush callback will not come, so answer now.
    const done = this.inDone;
    const limitErr = this.inError;
    this.inDone = null;
    this.inError = null;
    this.releaseInflater();
    // After a limit reset the rest of the frame reads as garbage; report the limit.
    if (done !== null) done(limitErr ?? err, null);
  }

  /** @internal */
  _deflated(chunk: Buffer): void {
    this.outChunks.push(chunk);
    this.outLength += chunk.length;
  }
}

function onInflateData(this: InflateRaw, chunk: Buffer): void {
  ((this as unknown as Record<symbol, unknown>)[kOwner] as PerMessageDeflate)._inflated(chunk);
}

function onInflateError(this: InflateRaw, err: Error): void {
  ((this as unknown as Record<symbol, unknown>)[kOwner] as PerMessageDeflate)._inflateFailed(err);
}

function onDeflateData(this: DeflateRaw, chunk: Buffer): void {
  ((this as unknown as Record<symbol, unknown>)[kOwner] as PerMessageDeflate)._deflated(chunk);
}
