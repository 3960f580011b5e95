// Regressions found by soak runs against the echo server, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, sleep, withServer } from './helpers/raw.ts';

test('sendTimeout: a client that keeps reading a large answer slowly is not cut off (only one that reads nothing is)', async () => {
  const size = 8 * 1024 * 1024;
  const body = Buffer.alloc(size, 'a');
  await withServer(() => ({ body }), { sendTimeout: 500 }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/big'));
      // Takes 512 KiB, then pauses 60 ms (well under sendTimeout), and again: the whole answer
      // takes several sendTimeouts, and the client takes some of it in every one of them.
      const t0 = Date.now();
      const bodyBytes = () => {
        const head = c.received.indexOf('\r\n\r\n');
        return head < 0 ? 0 : c.received.length - head - 4;
      };
      while (!c.ended && bodyBytes() < size && Date.now() - t0 < 10_000) {
        c.socket.pause();
        await sleep(60);
        const had = c.received.length;
        c.socket.resume();
        await c.waitFor(() => c.ended || c.received.length >= had + 512 * 1024 || bodyBytes() >= size, 2000).catch(() => {});
      }
      assert.ok(Date.now() - t0 > 1000, 'the read took more than one sendTimeout');
      assert.ok(c.text.startsWith('HTTP/1.1 200 '), 'a 200 head');
      assert.equal(bodyBytes(), size, `whole body received (cut off: ${c.ended})`);
    } finally {
      c.close();
    }
  });
});

test('heartbeats: a pong that arrived while the event loop was blocked past the next tick is heard (the client is not dropped)', async () => {
  const { asChannel } = await import('../../lib/index.ts');
  const { upgradeRequest, clientFrame, framesAfter101 } = await import('./ws-support.ts');
  let closedWith: string | null = null;
  await withServer((req) => {
    if (req.uri === '/block') {
      const end = Date.now() + 500; // a stall of the whole event loop (a slow handler, a long GC)
      while (Date.now() < end);
      return { body: 'unblocked' };
    }
    return asChannel(req, { heartbeatInterval: 200, onClose: (_ch, status) => { closedWith = status; } });
  }, {}, async (server) => {
    const ws = await connectRaw(server.port);
    const other = await connectRaw(server.port);
    try {
      ws.write(upgradeRequest('/ws'));
      // The first heartbeat ping: stall the server (another connection's handler), and
      // answer while it is stalled, well inside the interval.
      await ws.waitFor(() => framesAfter101(ws).some((f) => f.opcode === 0x9), 3000, 'a heartbeat ping');
      other.write(get('/block'));
      await sleep(30);
      ws.write(clientFrame(0xa, Buffer.alloc(0)));
      await other.waitResponses(1);
      // Answer later pings at once; the server must not drop the client.
      const t0 = Date.now();
      let answered = 1;
      while (Date.now() - t0 < 800 && !ws.ended) {
        const pings = framesAfter101(ws).filter((f) => f.opcode === 0x9).length;
        for (; answered < pings; answered++) ws.write(clientFrame(0xa, Buffer.alloc(0)));
        await sleep(20);
      }
      assert.equal(ws.ended, false, `dropped (${closedWith}) though its pong came within the interval`);
    } finally {
      ws.close();
      other.close();
    }
  });
});

test('heartbeats: a client whose compressed message waits for a busy thread pool (reading paused meanwhile) is not dropped', async () => {
  const { asChannel } = await import('../../lib/index.ts');
  const { upgradeRequest, clientFrame, framesAfter101 } = await import('./ws-support.ts');
  const { pbkdf2 } = await import('node:crypto');
  const { deflateRawSync, constants } = await import('node:zlib');
  let closedWith: string | null = null;
  let received = 0;
  await withServer((req) => asChannel(req, {
    heartbeatInterval: 150,
    perMessageDeflate: true,
    onReceive: () => { received++; },
    onClose: (_ch, status) => { closedWith = status; },
  }), {}, async (server) => {
    const ws = await connectRaw(server.port);
    try {
      ws.write(upgradeRequest('/ws', 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
      let answered = 0;
      const answerPings = () => {
        const pings = framesAfter101(ws).filter((f) => f.opcode === 0x9).length;
        for (; answered < pings; answered++) ws.write(clientFrame(0xa, Buffer.alloc(0)));
      };
      await ws.waitFor(() => framesAfter101(ws).some((f) => f.opcode === 0x9), 3000, 'a heartbeat ping');
      answerPings();
      // Every thread of the pool busy for several heartbeat intervals (as under a load of
      // compressions): the server's inflate of the next message waits, and reading with it.
      const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      let busy = threads;
      for (let i = 0; i < threads; i++) pbkdf2('x', 'y', 4_000_000, 32, 'sha256', () => { busy--; });
      const z = deflateRawSync(Buffer.alloc(1000, 'm'), { finishFlush: constants.Z_SYNC_FLUSH });
      ws.write(clientFrame(0x2, z.subarray(0, z.length - 4), { rsv: 0x40 }));
      const t0 = Date.now();
      while ((busy > 0 || Date.now() - t0 < 400) && Date.now() - t0 < 8000 && !ws.ended) {
        answerPings();
        await sleep(20);
      }
      const stalled = Date.now() - t0;
      assert.equal(ws.ended, false, `dropped (${closedWith}) while the server was not reading (stall ${stalled} ms)`);
      assert.ok(stalled > 600, `the pool was busy for several intervals (${stalled} ms)`);
      assert.equal(received, 1, 'the message arrived once the pool was free');
    } finally {
      ws.close();
    }
  });
});

test('heartbeats: a ping queued behind a compression that waits for a busy thread pool is not counted unanswered', async () => {
  const { asChannel } = await import('../../lib/index.ts');
  const { upgradeRequest, clientFrame, framesAfter101 } = await import('./ws-support.ts');
  const { pbkdf2 } = await import('node:crypto');
  let closedWith: string | null = null;
  await withServer((req) => asChannel(req, {
    heartbeatInterval: 150,
    perMessageDeflate: true,
    onReceive: (ch, data) => ch.send(data),
    onClose: (_ch, status) => { closedWith = status; },
  }), {}, async (server) => {
    const ws = await connectRaw(server.port);
    try {
      ws.write(upgradeRequest('/ws', 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
      await ws.waitFor((c) => c.text.includes('\r\n\r\n'), 3000, 'the 101');
      // The pool busy for several intervals: the echo's compression waits, and the
      // heartbeat ping queued behind it cannot reach the client meanwhile.
      const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      let busy = threads;
      for (let i = 0; i < threads; i++) pbkdf2('x', 'y', 6_000_000, 32, 'sha256', () => { busy--; });
      ws.write(clientFrame(0x2, Buffer.alloc(200_000, 'e'))); // uncompressed: no inflate
      const t0 = Date.now();
      let answered = 0;
      while ((busy > 0 || Date.now() - t0 < 400) && Date.now() - t0 < 8000 && !ws.ended) {
        const pings = framesAfter101(ws).filter((f) => f.opcode === 0x9).length;
        for (; answered < pings; answered++) ws.write(clientFrame(0xa, Buffer.alloc(0)));
        await sleep(20);
      }
      const stalled = Date.now() - t0;
      assert.equal(ws.ended, false, `dropped (${closedWith}) before its ping could reach it (stall ${stalled} ms)`);
      assert.ok(stalled > 600, `the pool was busy for several intervals (${stalled} ms)`);
      assert.ok(framesAfter101(ws).some((f) => f.opcode === 0x2), 'the echo arrived');
    } finally {
      ws.close();
    }
  });
});

test('sendTimeout over TLS: a client that keeps reading a large answer slowly is not cut off', async (t) => {
  const { haveOpenssl, makeCert } = await import('../helpers/tls-cert.ts');
  const { requirePeer } = await import('../helpers/tools.ts');
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const { connect } = await import('node:tls');
  const { key, cert } = makeCert();
  const size = 32 * 1024 * 1024;
  const body = Buffer.alloc(size, 'a');
  await withServer(() => ({ body }), { sendTimeout: 300, tls: { key, cert } }, async (server) => {
    const socket = connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    let received = 0;
    let ended = false;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('close', () => (ended = true));
    socket.on('error', () => {});
    try {
      await new Promise((r) => socket.once('secureConnect', r));
      socket.write(get('/big'));
      // Reads about 1 MiB, pauses 100 ms (well under sendTimeout), and again: the answer
      // takes many sendTimeouts, and the client takes some of it in every one of them.
      const t0 = Date.now();
      while (!ended && received < size && Date.now() - t0 < 15_000) {
        socket.pause();
        await sleep(100);
        const had = received;
        socket.resume();
        while (!ended && received < had + 1024 * 1024 && received < size && Date.now() - t0 < 15_000) await sleep(2);
      }
      assert.ok(received > size, `whole answer received (${received} bytes in ${Date.now() - t0} ms; cut off: ${ended})`);
      assert.ok(Date.now() - t0 > 1000, `the read took several sendTimeouts (${Date.now() - t0} ms)`);
    } finally {
      socket.destroy();
    }
  });
});
