// Outgoing frames: exact bytes, masking by role, coalescing of bursts, no idle buffers,
// and the close timeout against a peer that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { MemorySocket, decodeFrames, cframe, startServer, Opcode } from './helpers.ts';
import { WebSocket } from '../../websocket/index.ts';

class CountingSocket extends MemorySocket {
  writes = 0;
  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes++;
    super._write(chunk, enc, cb);
  }
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.writes++;
    for (const c of chunks) this.written.push(c.chunk);
    cb();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('server frames: exact header bytes for the three length forms, unmasked', async () => {
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'server' });
  ws.send('hi');
  ws.send(Buffer.alloc(200, 1));
  ws.send(Buffer.alloc(70000, 2));
  await tick();
  const out = sock.output();
  assert.deepEqual([...out.subarray(0, 4)], [0x81, 0x02, 0x68, 0x69]);
  assert.deepEqual([...out.subarray(4, 8)], [0x82, 126, 0x00, 200]);
  const p = 8 + 200;
  assert.deepEqual([...out.subarray(p, p + 10)], [0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
  assert.equal(out.length, p + 10 + 70000);
  ws.terminate();
});

test('client frames are masked with fresh keys and decode to the payload', async () => {
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'client' });
  ws.send('same');
  ws.send('same');
  ws.send(Buffer.alloc(1000, 9));
  await tick();
  const frames = decodeFrames(sock.output());
  assert.equal(frames.length, 3);
  for (const f of frames) assert.equal(f.masked, true);
  assert.equal(frames[0]!.payload.toString(), 'same');
  assert.ok(frames[2]!.payload.equals(Buffer.alloc(1000, 9)));
  const raw = sock.output();
  assert.notDeepEqual(raw.subarray(2, 6), raw.subarray(10, 14), 'different masking keys');
  ws.terminate();
});

test('a burst of sends in one tick leaves in two writes: the first at once, the rest together', async () => {
  const sock = new CountingSocket();
  const ws = new WebSocket(sock, { role: 'server' });
  for (let i = 0; i < 20; i++) ws.send(`m${i}`);
  await tick();
  assert.equal(sock.writes, 2);
  assert.deepEqual(decodeFrames(sock.output()).map((f) => f.payload.toString()), Array.from({ length: 20 }, (_, i) => `m${i}`));
  // A lone send in a later tick is written directly.
  ws.send('alone');
  await tick();
  assert.equal(sock.writes, 3);
  ws.terminate();
});

test('replies to frames of one incoming chunk leave in one write', async () => {
  const sock = new CountingSocket();
  const ws = new WebSocket(sock, { role: 'server', onMessage: (d) => ws.send(d, { binary: false }) });
  const frames = Array.from({ length: 10 }, (_, i) => cframe(Opcode.TEXT, `e${i}`));
  sock.push(Buffer.concat(frames));
  await tick();
  assert.equal(sock.writes, 1);
  assert.deepEqual(decodeFrames(sock.output()).map((f) => f.payload.toString()), Array.from({ length: 10 }, (_, i) => `e${i}`));
  ws.terminate();
});

test('no input is retained once a message is complete', async () => {
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'server' });
  const frame = cframe(Opcode.BINARY, Buffer.alloc(5000, 1));
  sock.push(frame.subarray(0, 100));
  await tick();
  const rx = (ws as unknown as { receiver: { chunks: Buffer[] | null; fragments: Buffer[] | null } }).receiver;
  assert.equal(rx.chunks?.length, 1, 'partial frame is held');
  sock.push(frame.subarray(100));
  await tick();
  assert.equal(rx.chunks, null, 'nothing held after the message, not even an empty list');
  assert.equal(rx.fragments, null, 'no fragment list kept');
  ws.terminate();
});

test('send(): fragments, binary override, not open -> false', async () => {
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'server' });
  ws.send('a', { fin: false });
  ws.ping('between');
  ws.send(Buffer.from('b'), { fin: false });
  ws.send('c');
  ws.send('as binary', { binary: true });
  ws.send(Buffer.from('as text'), { binary: false });
  await tick();
  const frames = decodeFrames(sock.output());
  assert.deepEqual(frames.map((f) => [f.fin, f.opcode, f.payload.toString()]), [
    [false, Opcode.TEXT, 'a'],
    [true, Opcode.PING, 'between'],
    [false, Opcode.CONTINUATION, 'b'],
    [true, Opcode.CONTINUATION, 'c'],
    [true, Opcode.BINARY, 'as binary'],
    [true, Opcode.TEXT, 'as text'],
  ]);
  ws.close();
  assert.equal(ws.send('late'), false);
  ws.terminate();
});

test('close timeout: a peer that never answers the close is cut off (1006)', async () => {
  let serverWs!: WebSocket;
  const srv = await startServer({ closeTimeout: 150 }, (ws) => (serverWs = ws));
  try {
    const sock = netConnect(srv.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    sock.on('data', () => {}); // reads, never replies
    sock.on('error', () => {});
    await once(sock, 'data');
    while (serverWs === undefined) await tick();
    const t0 = Date.now();
    const closed = new Promise<number>((r) => (serverWs.onClose = (c) => r(c)));
    serverWs.close(1000);
    assert.equal(await closed, 1006);
    const dt = Date.now() - t0;
    assert.ok(dt >= 140 && dt < 2000, `closed after ${dt} ms`);
    sock.destroy();
  } finally {
    await srv.close();
  }
});

test('text frames of every kind in one corked burst over a real socket: short ASCII, edge lengths, non-ASCII, binary in between', async () => {
  const messages: Array<string | Buffer> = [
    '', 'a', 'x'.repeat(125), 'y'.repeat(126), 'ünïcode', '€'.repeat(41), '€'.repeat(42), Buffer.from([0x81, 0x05, 0xff]),
    'tab\tand\u007f', 'z'.repeat(124) + 'é', 'q'.repeat(70000),
    Buffer.from(Array.from({ length: 125 }, (_, i) => 255 - i)), Buffer.from(Array.from({ length: 125 }, (_, i) => i)), Buffer.alloc(0),
  ];
  const srv = await startServer({}, (ws) => {
    // One tick: the first frame is written at once, the rest corked into one writev.
    for (const m of messages) ws.send(m);
    for (let i = 0; i < 50; i++) ws.send(`burst ${i}`);
  });
  try {
    const { connect } = await import('../../websocket/index.ts');
    const c = await connect(srv.url);
    const got: Array<string | Buffer> = [];
    c.onMessage = (d, bin) => got.push(bin ? Buffer.from(d) : d.toString('utf8'));
    const want = [...messages, ...Array.from({ length: 50 }, (_, i) => `burst ${i}`)];
    for (let i = 0; i < 200 && got.length < want.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, want);
    c.terminate();
  } finally {
    await srv.close();
  }
});

test('a peer that floods pings and reads nothing: pongs do not pile up (only the latest is owed, RFC 6455 5.5.3)', async () => {
  let serverWs!: WebSocket;
  const srv = await startServer({}, (ws) => (serverWs = ws));
  try {
    const sock = netConnect(srv.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.on('error', () => {});
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await once(sock, 'data'); // the 101
    sock.pause();
    while (serverWs === undefined) await tick();
    let pings = 0;
    serverWs.onPing = () => void pings++;
    const burst = Buffer.concat(Array.from({ length: 1000 }, (_, i) => cframe(Opcode.PING, Buffer.alloc(125, i & 0xff))));
    // About 130 MB of pings (bounded in count and time), never reading a pong.
    const t0 = Date.now();
    for (let i = 0; i < 1000 && Date.now() - t0 < 10_000; i++) {
      if (sock.writableLength > 1 << 20) await once(sock, 'drain');
      sock.write(burst);
    }
    while (pings < 1_000_000 && Date.now() - t0 < 15_000 && sock.writableLength > 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(pings > 100_000, `the server read the pings (${pings})`);
    assert.ok(serverWs.bufferedAmount < 8 * 1024 * 1024, `pongs held back: ${serverWs.bufferedAmount} bytes buffered`);
    sock.destroy();
  } finally {
    await srv.close();
  }
});
