// Content-Encoding decoders (gzip, deflate zlib-wrapped or raw, br) as streaming zlib
// transforms, so a body is decoded as it arrives and a bomb is cut off at maxBody.
import * as zlib from 'node:zlib';
import { Duplex } from 'node:stream';

export const ACCEPT_ENCODING = 'gzip, deflate, br';

export const CODING_NONE = 0;
export const CODING_GZIP = 1;
export const CODING_DEFLATE = 2;
export const CODING_BR = 3;

/** Most codings one Content-Encoding list may stack; a longer list is left undecoded. */
export const MAX_STACKED_CODINGS = 5;

function singleCoding(name: string): number {
  if (name === 'gzip' || name === 'x-gzip') return CODING_GZIP;
  if (name === 'deflate') return CODING_DEFLATE;
  if (name === 'br') return CODING_BR;
  return CODING_NONE;
}

/**
 * The codings a Content-Encoding value names, packed two bits each in the order they are
 * undone (the last applied first, RFC 9110 8.4): a single coding is its own CODING_*
 * value. CODING_NONE for identity, and for a list holding an unknown coding or more than
 * MAX_STACKED_CODINGS (the body is then handed over as it came).
 */
export function codingOf(contentEncoding: string | undefined): number {
  if (contentEncoding === undefined) return CODING_NONE;
  const c = contentEncoding.trim().toLowerCase();
  const single = singleCoding(c);
  if (single !== CODING_NONE || !c.includes(',')) return single;
  let packed = 0;
  let count = 0;
  for (const token of c.split(',')) {
    const name = token.trim();
    if (name === 'identity' || name === '') continue;
    const coding = singleCoding(name);
    if (coding === CODING_NONE || ++count > MAX_STACKED_CODINGS) return CODING_NONE;
    packed = (packed << 2) | coding; // the last applied ends in the lowest bits: undone first
  }
  return packed;
}

/**
 * A decoder for `coding` (from codingOf). For deflate, `first` (the first body bytes)
 * picks zlib-wrapped (RFC 1950 header: CM=8 and the check bits) or raw RFC 1951 data, as
 * browsers accept both; a deflate layer inside a stack is taken as zlib-wrapped.
 */
export function createDecoder(coding: number, first: Buffer): Duplex {
  if (coding < 4) return singleDecoder(coding, first);
  const stages: Duplex[] = [];
  for (let rest = coding; rest !== 0; rest >>>= 2) stages.push(singleDecoder(rest & 3, stages.length === 0 ? first : Buffer.alloc(0)));
  for (let i = 0; i + 1 < stages.length; i++) stages[i]!.pipe(stages[i + 1]!);
  const chain = Duplex.from({ writable: stages[0]!, readable: stages[stages.length - 1]! });
  for (const stage of stages) stage.on('error', (err: Error) => chain.destroy(err));
  return chain;
}

function singleDecoder(coding: number, first: Buffer): Duplex {
  // Default finish flush: ending a truncated stream is an error ("unexpected end of file").
  if (coding === CODING_GZIP) return zlib.createGunzip();
  if (coding === CODING_BR) return zlib.createBrotliDecompress();
  return looksZlibWrapped(first) ? zlib.createInflate() : zlib.createInflateRaw();
}

function looksZlibWrapped(b: Buffer): boolean {
  if (b.length === 0) return true;
  if ((b[0]! & 0x0f) !== 8) return false;
  if (b.length === 1) return true;
  return ((b[0]! << 8) | b[1]!) % 31 === 0;
}
