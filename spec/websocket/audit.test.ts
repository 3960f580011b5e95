// Conformance corners found by an outside-in audit, over real sockets with exact bytes:
// 8-bit LZ77 windows in permessage-deflate (both roles), and client handshake answers
// that must not open a connection.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { connect, acceptKey, HandshakeError } from '../../websocket/index.ts';
import { startServer, cframe, decodeFrames, Opcode } from './helpers.ts';
import { until } from '../helpers/wait.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * Inflate the payloads of consecutive compressed messages with one raw inflater whose
 * window is 2^bits bytes, keeping the context between messages (as a peer that agreed
 * to that window does). zlib fails with "invalid distance too far back" when a message
 * refers further back than the window.
 */
async function inflateWithWindow(bits: number, payloads: Buffer[]): Promise<Buffer[]> {
  const inf = zlib.createInflateRaw({ windowBits: bits });
  const out: Buffer[] = [];
  let current: Buffer[] = [];
  let failure: Error | null = null;
  inf.on('data', (c: Buffer) => current.push(c));
  let wake: () => void = () => {};
  inf.on('error', (e) => {
    failure = e;
    wake(); // a failed stream never calls the flush callback
  });
  for (const p of payloads) {
    inf.write(Buffer.concat([p, TRAILER]));
    await new Promise<void>((r) => {
      wake = r;
      inf.flush(() => r());
    });
    if (failure !== null) throw failure;
    out.push(Buffer.concat(current));
    current = [];
  }
  inf.close();
  return out;
}

/** Everything a raw socket receives, and a wait for a condition on it. */
function collect(sock: Socket): (done: (all: Buffer) => boolean, what: string) => Promise<Buffer> {
  let all = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => (all = Buffer.concat([all, c])));
  return async (done, what) => {
    await until(() => done(all), 5000, what);
    return all;
  };
}

test('server: an offer of server_max_window_bits=8 is agreed to, and what the server compresses fits a 256-byte window', async () => {
  const srv = await startServer({ perMessageDeflate: true }, (ws) => {
    ws.onMessage = (data, isBinary) => ws.send(data, { binary: isBinary });
  });
  cleanups.push(srv.close);
  const sock = netConnect(srv.port, '127.0.0.1');
  cleanups.push(() => void sock.destroy());
  const readUntil = collect(sock);
  await once(sock, 'connect');
  sock.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n\r\n',
  );
  const head = await readUntil((b) => b.includes('\r\n\r\n'), 'the 101');
  const text = head.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.match(text, /\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n/i);

  // The same incompressible 3000 bytes twice: with context takeover, a window larger
  // than 256 bytes would let the second echo refer back to the first.
  const a = randomBytes(3000);
  const start = text.indexOf('\r\n\r\n') + 4;
  sock.write(Buffer.concat([cframe(Opcode.BINARY, a), cframe(Opcode.BINARY, a)]));
  const all = await readUntil((b) => decodeFrames(b, start).length >= 2, 'two echoes');
  const frames = decodeFrames(all, start);
  assert.equal(frames.length, 2);
  for (const f of frames) {
    assert.equal(f.opcode, Opcode.BINARY);
    assert.equal(f.rsv, 4, 'the echo is compressed (RSV1)');
    assert.equal(f.masked, false);
  }
  const [m1, m2] = await inflateWithWindow(8, frames.map((f) => f.payload));
  assert.ok(m1!.equals(a) && m2!.equals(a), 'both echoes inflate with a 256-byte window');
});

/** A raw server answering the upgrade with `answer(key)` and collecting what the client sends after it. */
async function rawWsServer(answer: (key: string) => string): Promise<{ port: number; received: () => Buffer; server: Server }> {
  let after101 = Buffer.alloc(0);
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let answered = false;
    s.on('data', (c: Buffer) => {
      if (answered) {
        after101 = Buffer.concat([after101, c]);
        return;
      }
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      answered = true;
      const key = /\r\nSec-WebSocket-Key: *([^\r]+)/i.exec(buf.toString('latin1', 0, end))![1]!;
      s.write(answer(key));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as { port: number }).port, received: () => after101, server };
}

const switching = (key: string, extra = '', version = '1.1') =>
  `HTTP/${version} 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`;

test('client: a server asking for client_max_window_bits=8 gets it, and the client compresses within 256 bytes', async () => {
  const srv = await rawWsServer((key) => switching(key, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n'));
  const ws = await connect(`ws://127.0.0.1:${srv.port}/`, { perMessageDeflate: true, timeout: 5000 });
  cleanups.push(() => ws.terminate());
  assert.equal(ws.perMessageDeflate?.clientMaxWindowBits, 8);
  const a = randomBytes(3000);
  ws.send(a);
  ws.send(a);
  await until(() => decodeFrames(srv.received()).length >= 2, 5000, 'two client frames');
  const frames = decodeFrames(srv.received());
  for (const f of frames) {
    assert.equal(f.masked, true);
    assert.equal(f.rsv, 4, 'compressed (RSV1)');
  }
  const [m1, m2] = await inflateWithWindow(8, frames.map((f) => f.payload));
  assert.ok(m1!.equals(a) && m2!.equals(a), 'both messages inflate with a 256-byte window');
});

test('client: a 101 in an HTTP/1.0 response does not open a connection', async () => {
  const srv = await rawWsServer((key) => switching(key, '', '1.0'));
  await assert.rejects(connect(`ws://127.0.0.1:${srv.port}/`, { timeout: 5000 }), (err: unknown) => {
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.code, 'WS_HANDSHAKE_FAILED');
    assert.equal(err.statusCode, 101);
    assert.match(err.message, /HTTP\/1\.0/);
    return true;
  });
});

test('client: a redirect is not followed; the error carries the status and the Location', async () => {
  const srv = await rawWsServer(() => 'HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n');
  await assert.rejects(connect(`ws://127.0.0.1:${srv.port}/`, { timeout: 5000 }), (err: unknown) => {
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.statusCode, 302);
    assert.equal(err.response?.headers.location, 'ws://127.0.0.1:1/elsewhere');
    return true;
  });
  assert.equal(srv.received().length, 0, 'nothing sent after the refused handshake');
});

test('server defaults: a 4 MiB message in 64-byte fragments is echoed; 65537 fragments close with 1009', async () => {
  const srv = await startServer({}, (ws) => {
    ws.onMessage = (data) => ws.send(`got ${data.length}`);
  });
  cleanups.push(srv.close);
  /** Upgrade a raw socket, send `frames`, and return the first frame the server sends back. */
  const roundTrip = async (frames: Buffer): Promise<{ opcode: number; payload: Buffer }> => {
    const sock = netConnect(srv.port, '127.0.0.1');
    cleanups.push(() => void sock.destroy());
    const readUntil = collect(sock);
    await once(sock, 'connect');
    sock.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    sock.write(frames);
    const all = await readUntil((b) => b.includes('\r\n\r\n') && decodeFrames(b, b.indexOf('\r\n\r\n') + 4).length > 0, 'a reply');
    return decodeFrames(all, all.indexOf('\r\n\r\n') + 4)[0]!;
  };
  const fragmented = (count: number, size: number): Buffer => {
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) parts.push(cframe(i === 0 ? Opcode.BINARY : Opcode.CONTINUATION, Buffer.alloc(size, i & 0xff), { fin: i === count - 1 }));
    return Buffer.concat(parts);
  };
  const echoed = await roundTrip(fragmented(65536, 64));
  assert.equal(echoed.opcode, Opcode.TEXT);
  assert.equal(echoed.payload.toString(), `got ${4 * 1024 * 1024}`);
  const refused = await roundTrip(fragmented(65537, 1));
  assert.equal(refused.opcode, Opcode.CLOSE);
  assert.equal(refused.payload.readUInt16BE(0), 1009);
});

test('client: a URL with a fragment, or a subprotocol offered twice, is refused before a byte is sent', async () => {
  const srv = await rawWsServer((key) => switching(key));
  let connections = 0;
  srv.server.on('connection', () => connections++);
  for (const url of [`ws://127.0.0.1:${srv.port}/chat#room`, `ws://127.0.0.1:${srv.port}/chat#`]) {
    await assert.rejects(connect(url, { timeout: 5000 }), (err: unknown) => err instanceof TypeError && /fragment/.test(err.message));
  }
  await assert.rejects(connect(`ws://127.0.0.1:${srv.port}/`, { protocols: ['chat', 'chat'], timeout: 5000 }), (err: unknown) => err instanceof TypeError && /twice/.test(err.message));
  // An escaped '#' is part of the path, as RFC 6455 wants it sent.
  const ws = await connect(`ws://127.0.0.1:${srv.port}/chat%23room`, { timeout: 5000 });
  ws.terminate();
  assert.equal(connections, 1, 'only the valid URL opened a connection');
});

test('client: timeout 0 means no handshake limit (not an immediate failure)', async () => {
  const srv = await rawWsServer((key) => switching(key));
  // The answer comes 50 ms late: no timer of 0 ms may fire first.
  srv.server.prependListener('connection', (s: Socket) => {
    s.pause();
    setTimeout(() => s.resume(), 50);
  });
  const ws = await connect(`ws://127.0.0.1:${srv.port}/`, { timeout: 0 });
  assert.equal(ws.readyState, 1);
  ws.terminate();
});

test('permessage-deflate: an incompressible message of exactly the size limit is accepted; one byte more closes with 1009', async () => {
  const limit = 64 * 1024;
  const srv = await startServer({ perMessageDeflate: true, maxPayload: limit }, (ws) => {
    ws.onMessage = (data) => ws.send(`got ${data.length}`);
  });
  cleanups.push(srv.close);
  /** Send one message on a fresh connection; the reply, or how the connection closed. */
  const exchange = async (msg: Buffer): Promise<string> => {
    const ws = await connect(`ws://127.0.0.1:${srv.port}/`, { perMessageDeflate: { threshold: 0 }, timeout: 5000 });
    cleanups.push(() => ws.terminate());
    const outcome = new Promise<string>((resolve) => {
      ws.onMessage = (d) => resolve(d.toString());
      ws.onClose = (code) => resolve(`closed ${code}`);
    });
    ws.send(msg);
    return outcome;
  };
  // Random bytes deflate to a little more than they are: the frame on the wire is longer than the limit.
  assert.equal(await exchange(randomBytes(limit)), `got ${limit}`);
  assert.equal(await exchange(randomBytes(limit + 1)), 'closed 1009');
});
