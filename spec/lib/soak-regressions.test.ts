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
      while (!c.ended && c.received.length < size + 1000 && Date.now() - t0 < 10_000) {
        c.socket.pause();
        await sleep(60);
        const had = c.received.length;
        c.socket.resume();
        await c.waitFor(() => c.ended || c.received.length >= had + 512 * 1024 || c.received.length >= size, 2000).catch(() => {});
      }
      assert.ok(Date.now() - t0 > 1000, 'the read took more than one sendTimeout');
      const head = c.received.indexOf('\r\n\r\n');
      assert.ok(head > 0, 'a response head');
      assert.equal(c.received.length - head - 4, size, `whole body received (cut off: ${c.ended})`);
    } finally {
      c.close();
    }
  });
});
