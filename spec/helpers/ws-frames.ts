// A test-side WebSocket frame decoder, independent of websocket/receiver.ts, for
// checking the bytes a peer put on the wire.
export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Unmasked payload (a copy). */
  payload: Buffer;
}

/** Decode the complete frames in `buf` from `offset`; a trailing partial frame is left out. */
export function decodeFrames(buf: Buffer, offset = 0): Frame[] {
  const out: Frame[] = [];
  let i = offset;
  while (i + 2 <= buf.length) {
    const b0 = buf[i]!;
    const b1 = buf[i + 1]!;
    let len = b1 & 0x7f;
    let p = i + 2;
    if (len === 126) {
      if (p + 2 > buf.length) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      key = buf.subarray(p, p + 4);
      p += 4;
    }
    if (p + len > buf.length) break;
    const payload = Buffer.from(buf.subarray(p, p + len));
    if (key !== null) for (let j = 0; j < len; j++) payload[j]! ^= key[j & 3]!;
    out.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    i = p + len;
  }
  return out;
}
