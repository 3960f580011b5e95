// Helpers for the WebSocket channel tests: upgrade request bytes, client frames, an
// independent frame decoder for what the server writes, and bounded waiting.
import { encodeFrame } from '../../websocket/index.ts';
import type { RawClient } from './helpers/raw.ts';
import { decodeFrames as framesOf, type Frame } from '../helpers/ws-frames.ts';

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** Sec-WebSocket-Accept for KEY (RFC 6455 1.3). */
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** An upgrade request; `extra` header lines replace nothing, they are appended. */
export function upgradeRequest(path = '/', extra = '', opts: { version?: string; key?: string } = {}): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${opts.key ?? KEY}\r\nSec-WebSocket-Version: ${opts.version ?? '13'}\r\n${extra}\r\n`
  );
}

const MASK = Buffer.from([0x11, 0x8e, 0x5a, 0xc3]);

/** A masked client frame. */
export function clientFrame(opcode: number, payload: string | Buffer, opts: { fin?: boolean; rsv?: number } = {}): Buffer {
  return encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, { ...opts, mask: MASK });
}

/** A close frame payload: code + reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

export { framesOf, type Frame };

/** Offset just past the first HTTP head in `buf`, or -1. */
export function headEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf('\r\n\r\n', from, 'latin1');
  return i < 0 ? -1 : i + 4;
}

/** Frames the server wrote after its 101 head. */
export function framesAfter101(c: RawClient): Frame[] {
  const buf = c.received;
  const start = buf.indexOf('HTTP/1.1 101', 0, 'latin1');
  if (start < 0) return [];
  const end = headEnd(buf, start);
  return end < 0 ? [] : framesOf(buf, end);
}

export { until } from '../helpers/wait.ts';
