// The WebSocket stack loads with the process's first upgrade (lib/ws-open.ts). This file
// imports nothing of websocket/ itself (node:test runs each file in its own process), so
// the first test's upgrade is the process's first: its client leaves while the stack
// loads. Then many upgrades at once, each with a frame right behind its request head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { asChannel, runServer, type CloseStatus } from '../../lib/index.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function upgrade(port: number): Socket {
  const s = connect(port, '127.0.0.1');
  s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  return s;
}

/** A masked client text frame (payload under 126 bytes). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Everything the socket receives until `done(bytes)` says so (or 5 s pass). */
function readUntil(s: Socket, done: (all: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(all.toString('latin1'))}`)), 5000);
    s.on('data', (d: Buffer) => {
      all = Buffer.concat([all, d]);
      if (done(all)) {
        clearTimeout(timer);
        resolve(all);
      }
    });
    s.on('error', reject);
  });
}

test('a client that leaves while the first upgrade waits for the stack: onClose once, the server goes on', async () => {
  const closes: CloseStatus[] = [];
  let gone: Socket | null = null;
  const server = await runServer((req) => {
    // The client leaves as soon as its request is read: the upgrade is still waiting for
    // the WebSocket stack (the first of this process) when the connection ends.
    gone?.destroy();
    return asChannel(req, { onClose: (_ch, status) => closes.push(status) });
  }, { ip: '127.0.0.1', port: 0 });
  try {
    gone = upgrade(server.port);
    const deadline = Date.now() + 3000;
    while (closes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(closes, ['client-close']);
    const next = upgrade(server.port);
    const reply = await readUntil(next, (all) => all.includes('\r\n\r\n'));
    assert.match(reply.toString('latin1'), /^HTTP\/1\.1 101 /);
    next.destroy();
    while (closes.length === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(closes, ['client-close', 'client-close']);
  } finally {
    await server.stop();
  }
});

test('many upgrades at once, each with a frame behind its request head, all open and echo', async () => {
  const opened: string[] = [];
  const server = await runServer((req) => asChannel(req, {
    onOpen: () => opened.push('open'),
    onReceive: (ch, data) => ch.send(data),
  }), { ip: '127.0.0.1', port: 0 });
  try {
    const clients = Array.from({ length: 20 }, () => upgrade(server.port));
    // Each client sends its first frame right behind the request head: those bytes wait
    // with the connection until the WebSocket takes it over.
    clients.forEach((c, i) => c.write(textFrame(`hello ${i}`)));
    const replies = await Promise.all(clients.map((c, i) => readUntil(c, (all) => all.includes(`hello ${i}`))));
    for (const [i, r] of replies.entries()) {
      const text = r.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.ok(text.includes(`Sec-WebSocket-Accept: ${ACCEPT}`) || text.toLowerCase().includes(`sec-websocket-accept: ${ACCEPT.toLowerCase()}`));
      // An unmasked server text frame carrying the echo.
      const frame = r.subarray(r.indexOf('\r\n\r\n') + 4);
      assert.equal(frame[0], 0x81);
      assert.equal(frame.subarray(2, 2 + frame[1]!).toString(), `hello ${i}`);
    }
    assert.equal(opened.length, 20);
    for (const c of clients) c.destroy();
  } finally {
    await server.stop();
  }
});
