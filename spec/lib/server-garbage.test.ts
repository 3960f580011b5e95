// Hostile and broken input: never a crash, a hang or a wrong answer; the next client is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sendRaw, withServer } from './helpers/raw.ts';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pieces = ['GET', 'POST', ' ', '/', 'HTTP/1.1', 'HTTP/1.0', '\r\n', '\n', '\r', ':', 'Host: h', 'Content-Length: ',
  'Transfer-Encoding: chunked', '0', '5', 'ffffffff', 'Connection: close', 'Expect: 100-continue', '\0', '\x7f', 'é', '\t', '  '];

test('200 random malformed requests: each is answered with an error status or closed, and the server lives on', async () => {
  const logged: unknown[] = [];
  await withServer((req) => ({ body: req.uri }), { headersTimeout: 300, requestTimeout: 600, errorLogger: (e) => logged.push(e) }, async (server) => {
    const rand = prng(20261125);
    for (let i = 0; i < 200; i++) {
      let msg = '';
      const n = 1 + Math.floor(rand() * 12);
      for (let k = 0; k < n; k++) msg += pieces[Math.floor(rand() * pieces.length)];
      const raw = await sendRaw(server.port, Buffer.from(msg, 'latin1'), 2000);
      const text = raw.toString('latin1');
      if (text.length > 0) assert.match(text, /^HTTP\/1\.1 (200|[45]\d\d) /, `answer to ${JSON.stringify(msg)}`);
    }
    assert.deepEqual(logged, []);
    const ok = responsesOf(await sendRaw(server.port, get('/alive', 'Connection: close\r\n')));
    assert.equal(ok[0]!.body.toString(), '/alive');
  });
});

test('a request split at every byte boundary gives the same answer', async () => {
  await withServer((req) => ({ body: `${req.requestMethod} ${req.uri} ${req.body?.toString() ?? ''}` }), {}, async (server) => {
    const msg = 'POST /split?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world';
    for (let cut = 1; cut < msg.length; cut += 7) {
      const c = await connectRaw(server.port);
      c.socket.setNoDelay(true);
      c.write(msg.slice(0, cut));
      await new Promise((r) => setTimeout(r, 2));
      c.write(msg.slice(cut));
      const [r] = await c.waitResponses(1, 'POST');
      c.close();
      assert.equal(r!.body.toString(), 'post /split hello world', `cut at ${cut}`);
    }
  });
});
