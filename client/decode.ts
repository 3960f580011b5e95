// Content-Encoding decoders (gzip, deflate zlib-wrapped or raw, br) as streaming zlib
// transforms, so a body is decoded as it arrives and a bomb is cut off at maxBody.
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';

export const ACCEPT_ENCODING = 'gzip, deflate, br';

export const CODING_NONE = 0;
export const CODING_GZIP = 1;
export const CODING_DEFLATE = 2;
export const CODING_BR = 3;

/** The single coding a Content-Encoding value names; CODING_NONE for identity, lists and unknown codings. */
export function codingOf(contentEncoding: string | undefined): number {
  if (contentEncoding === undefined) return CODING_NONE;
  const c = contentEncoding.trim().toLowerCase();
  if (c === 'gzip' || c === 'x-gzip') return CODING_GZIP;
  if (c === 'deflate') return CODING_DEFLATE;
  if (c === 'br') return CODING_BR;
  return CODING_NONE;
}

/**
 * A decoder for `coding`. For deflate, `first` (the first body bytes) picks zlib-wrapped
 * (RFC 1950 header: CM=8 and the check bits) or raw RFC 1951 data, as browsers accept both.
 */
export function createDecoder(coding: number, first: Buffer): Transform {
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
