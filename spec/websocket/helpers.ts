// Shared test helpers: a tiny WebSocket server on node:net, a frame feeder that runs a
// byte sequence through a connection whole and byte by byte, and frame decoding.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { decodeFrames, type Frame as DecodedFrame } from '../helpers/ws-frames.ts';
import { WebSocket, upgradeSocket, encodeFrame, Opcode, type WebSocketOptions, type UpgradeSocketOptions } from '../../websocket/index.ts';

export { encodeFrame, Opcode };

export const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** A client-to-server frame (masked). */
export function cframe(opcode: number, payload: string | Buffer, opts: { fin?: boolean; rsv?: number } = {}): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeFrame(opcode, p, { ...opts, mask: MASK });
}

/** A server-to-client frame (unmasked). */
export function sframe(opcode: number, payload: string | Buffer, opts: { fin?: boolean; rsv?: number } = {}): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeFrame(opcode, p, opts);
}

export { decodeFrames, type DecodedFrame };

/** An in-memory duplex: what the connection writes is collected in `written`. */
export class MemorySocket extends Duplex {
  written: Buffer[] = [];
  ended = false;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.written.push(chunk);
    cb();
  }
  override _final(cb: () => void): void {
    this.ended = true;
    cb();
  }
  output(): Buffer {
    return Buffer.concat(this.written);
  }
}

export type Event =
  | ['message', string | Buffer, boolean]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string, number];

export interface FeedResult {
  events: Event[];
  /** Frames the connection wrote back. */
  frames: DecodedFrame[];
  /** The connection ended its side of the stream. */
  ended: boolean;
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

async function feedOnce(bytes: Buffer, options: WebSocketOptions, byteByByte: boolean, settleMs: number): Promise<FeedResult> {
  const sock = new MemorySocket();
  const events: Event[] = [];
  const ws = new WebSocket(sock, {
    closeTimeout: 1000,
    ...options,
    onMessage: (d, bin) => events.push(['message', bin ? Buffer.from(d) : d.toString('utf8'), bin]),
    onPing: (d) => events.push(['ping', d.toString()]),
    onPong: (d) => events.push(['pong', d.toString()]),
    onError: (e) => events.push(['error', e.code, e.closeCode]),
  });
  if (byteByByte) {
    for (let i = 0; i < bytes.length; i++) {
      sock.push(bytes.subarray(i, i + 1));
      if (options.deflate) await tick();
    }
  } else sock.push(bytes);
  // Let inflation (zlib runs off-thread) and writes settle: wait until nothing changes.
  for (let i = 0; i < 5; i++) await tick();
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  if (options.deflate) {
    let last = -1;
    let quiet = 0;
    for (let i = 0; i < 200 && quiet < 3; i++) {
      const now = events.length * 1e6 + sock.written.length;
      quiet = now === last ? quiet + 1 : 0;
      last = now;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  for (let i = 0; i < 5; i++) await tick();
  const result = { events, frames: decodeFrames(sock.output()), ended: sock.ended };
  ws.terminate();
  sock.destroy();
  return result;
}

/**
 * Run `bytes` through a fresh connection twice, as one chunk and one byte at a time,
 * check both runs saw the same events and replies, and return them.
 */
export async function feed(bytes: Buffer | Buffer[], options: Partial<WebSocketOptions> = {}, settleMs = 0): Promise<FeedResult> {
  const all = Array.isArray(bytes) ? Buffer.concat(bytes) : bytes;
  const opts: WebSocketOptions = { role: 'server', ...options };
  // Copies: the receiver unmasks socket chunks in place.
  const whole = await feedOnce(Buffer.from(all), opts, false, settleMs);
  const split = await feedOnce(Buffer.from(all), opts, true, settleMs);
  assert.deepEqual(split.events, whole.events, 'byte-by-byte events match whole-chunk events');
  assert.deepEqual(split.frames, whole.frames, 'byte-by-byte replies match whole-chunk replies');
  assert.equal(split.ended, whole.ended);
  return whole;
}

/** Parse a request head read from a raw socket (test server only). */
export function parseRequestHead(text: string): { method: string; target: string; version: string; headers: Record<string, string> } {
  const lines = text.split('\r\n');
  const [method, target, version] = lines[0]!.split(' ') as [string, string, string];
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    const k = line.slice(0, c).toLowerCase();
    const v = line.slice(c + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { method, target, version, headers };
}

/** A test server on 127.0.0.1: node:net (or node:tls with `tls`) + acceptUpgrade + WebSocket. */
export async function startServer(
  options: UpgradeSocketOptions,
  onConnection: (ws: WebSocket, target: string) => void,
  tls?: TlsOptions,
): Promise<{ server: Server; port: number; url: string; sockets: Set<Socket>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      socket.pause();
      const req = parseRequestHead(buf.toString('latin1', 0, end));
      const head = buf.subarray(end + 4);
      const result = upgradeSocket(socket, { method: req.method, headers: req.headers, httpVersion: req.version }, options, head);
      if (result instanceof WebSocket) onConnection(result, req.target);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  };
  const server: Server = tls === undefined ? createServer(accept) : createTlsServer(tls, accept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `${tls === undefined ? 'ws' : 'wss'}://127.0.0.1:${port}`,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
