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
