// Frame header layout (RFC 6455 5.2) and the masking transform (5.3).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-------+-+-------------+-------------------------------+
// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
// | |1|2|3|       |K|             |                               |
// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export const FIN = 0x80;
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;
export const MASK_BIT = 0x80;

/** Largest payload of a control frame (close, ping, pong). */
export const MAX_CONTROL_PAYLOAD = 125;

export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/** Header length (without the 4-byte masking key) for a payload of `len` bytes. */
export function headerLength(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/**
 * Write a frame header into `out` at `offset`; returns the offset after it (after the
 * masking key when `maskKey` is given). `first` is FIN|RSV|opcode.
 */
export function writeHeader(out: Buffer, offset: number, first: number, len: number, maskKey: Uint8Array | null, maskOffset = 0): number {
  out[offset] = first;
  const m = maskKey === null ? 0 : MASK_BIT;
  if (len < 126) {
    out[offset + 1] = m | len;
    offset += 2;
  } else if (len < 65536) {
    out[offset + 1] = m | 126;
    out[offset + 2] = len >>> 8;
    out[offset + 3] = len & 0xff;
    offset += 4;
  } else {
    out[offset + 1] = m | 127;
    // Payloads stay far below 2^53; the high word carries the rest.
    out.writeUInt32BE(Math.floor(len / 0x100000000), offset + 2);
    out.writeUInt32BE(len >>> 0, offset + 6);
    offset += 10;
  }
  if (maskKey !== null) {
    out[offset] = maskKey[maskOffset]!;
    out[offset + 1] = maskKey[maskOffset + 1]!;
    out[offset + 2] = maskKey[maskOffset + 2]!;
    out[offset + 3] = maskKey[maskOffset + 3]!;
    offset += 4;
  }
  return offset;
}

/** Encode a complete frame into one new buffer (cold paths and tests). */
export function encodeFrame(opcode: number, payload: Uint8Array, opts: { fin?: boolean; rsv?: number; mask?: Uint8Array | null } = {}): Buffer {
  const len = payload.length;
  const mask = opts.mask ?? null;
  const first = (opts.fin === false ? 0 : FIN) | (opts.rsv ?? 0) | opcode;
  const out = Buffer.allocUnsafe(headerLength(len) + (mask ? 4 : 0) + len);
  const start = writeHeader(out, 0, first, len, mask);
  if (mask) maskInto(out, start, payload, 0, len, mask[0]!, mask[1]!, mask[2]!, mask[3]!);
  else out.set(payload, start);
  return out;
}

// Word-at-a-time masking: a 32-bit view over the aligned middle of the buffer.
// Small payloads go byte by byte: creating the view costs more than it saves.
const WORD_THRESHOLD = 128;
// Int32 (not Uint32) so the key word stays a small integer and the loop stays in int32 math.
const keyBytes = new Uint8Array(4);
const scratch = new Uint8Array(4);
const scratchWord = new Int32Array(scratch.buffer);

/** The key as a native-endian 32-bit word starting at key byte `phase`. */
function rotatedWord(k0: number, k1: number, k2: number, k3: number, phase: number): number {
  keyBytes[0] = k0;
  keyBytes[1] = k1;
  keyBytes[2] = k2;
  keyBytes[3] = k3;
  scratch[0] = keyBytes[phase & 3]!;
  scratch[1] = keyBytes[(phase + 1) & 3]!;
  scratch[2] = keyBytes[(phase + 2) & 3]!;
  scratch[3] = keyBytes[(phase + 3) & 3]!;
  return scratchWord[0]!;
}

/** XOR `buf[start, end)` in place with the key bytes k0..k3 (unmask or mask). */
export function unmaskInPlace(buf: Uint8Array, start: number, end: number, k0: number, k1: number, k2: number, k3: number): void {
  let i = start;
  const len = end - start;
  if (len >= WORD_THRESHOLD) {
    // Byte-wise until the absolute address is 4-aligned.
    const abs = buf.byteOffset + i;
    let head = (4 - (abs & 3)) & 3;
    let p = 0;
    while (head-- > 0) {
      const k = p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
      buf[i++] ^= k;
      p++;
    }
    const words = (end - i) >>> 2;
    const w = rotatedWord(k0, k1, k2, k3, p);
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    let j = 0;
    for (const end4 = words - 3; j < end4; j += 4) {
      view[j] = view[j]! ^ w;
      view[j + 1] = view[j + 1]! ^ w;
      view[j + 2] = view[j + 2]! ^ w;
      view[j + 3] = view[j + 3]! ^ w;
    }
    for (; j < words; j++) view[j] = view[j]! ^ w;
    i += words << 2;
    // The tail continues at the same key phase as the aligned words ended on.
    const tailPhase = p;
    let q = 0;
    while (i < end) {
      const idx = (tailPhase + q++) & 3;
      buf[i++] ^= idx === 0 ? k0 : idx === 1 ? k1 : idx === 2 ? k2 : k3;
    }
    return;
  }
  let p = 0;
  const end4 = end - 3;
  for (; i < end4; i += 4) {
    buf[i] ^= k0;
    buf[i + 1] ^= k1;
    buf[i + 2] ^= k2;
    buf[i + 3] ^= k3;
  }
  while (i < end) {
    buf[i++] ^= p === 0 ? k0 : p === 1 ? k1 : k2;
    p++;
  }
}

/**
 * unmaskInPlace for short payloads (key phase 0) that also tells whether every unmasked
 * byte is ASCII: a short text message then needs no separate UTF-8 check.
 */
export function unmaskAscii(buf: Uint8Array, start: number, end: number, k0: number, k1: number, k2: number, k3: number): boolean {
  let acc = 0;
  let i = start;
  const end4 = end - 3;
  for (; i < end4; i += 4) {
    const a = buf[i]! ^ k0;
    const b = buf[i + 1]! ^ k1;
    const c = buf[i + 2]! ^ k2;
    const d = buf[i + 3]! ^ k3;
    buf[i] = a;
    buf[i + 1] = b;
    buf[i + 2] = c;
    buf[i + 3] = d;
    acc |= a | b | c | d;
  }
  let p = 0;
  while (i < end) {
    const v = buf[i]! ^ (p === 0 ? k0 : p === 1 ? k1 : k2);
    buf[i++] = v;
    acc |= v;
    p++;
  }
  return acc < 0x80;
}

/** Copy `src[srcStart, srcStart+len)` into `dst` at `dstStart`, masked with k0..k3. */
export function maskInto(dst: Uint8Array, dstStart: number, src: Uint8Array, srcStart: number, len: number, k0: number, k1: number, k2: number, k3: number): void {
  if (len >= WORD_THRESHOLD) {
    dst.set(src.subarray(srcStart, srcStart + len), dstStart);
    unmaskInPlace(dst, dstStart, dstStart + len, k0, k1, k2, k3);
    return;
  }
  let i = 0;
  const len4 = len - 3;
  for (; i < len4; i += 4) {
    dst[dstStart + i] = src[srcStart + i]! ^ k0;
    dst[dstStart + i + 1] = src[srcStart + i + 1]! ^ k1;
    dst[dstStart + i + 2] = src[srcStart + i + 2]! ^ k2;
    dst[dstStart + i + 3] = src[srcStart + i + 3]! ^ k3;
  }
  let p = 0;
  while (i < len) {
    dst[dstStart + i] = src[srcStart + i]! ^ (p === 0 ? k0 : p === 1 ? k1 : k2);
    i++;
    p++;
  }
}
