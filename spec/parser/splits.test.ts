// Property test: for mutated messages (a fixed seed, a bounded count), any split of the
// bytes gives the same messages, error code and error offset as feeding them whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feed } from './feed.ts';

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUESTS = [
  'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nCookie: a=1; b=2\r\n\r\n',
  'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world',
  'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="q"\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n',
  'GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.1\r\nConnection: close\r\n\r\n',
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close',
];
const NOISE = [0, 9, 10, 13, 32, 34, 44, 58, 59, 127, 200, 0x41, 0x30];

function mutate(src: string, r: () => number): Buffer {
  const b = [...Buffer.from(src, 'latin1')];
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * b.length);
    const byte = NOISE[Math.floor(r() * NOISE.length)];
    const op = r();
    if (op < 0.4) b[at] = byte;
    else if (op < 0.7) b.splice(at, 0, byte);
    else b.splice(at, 1);
  }
  return Buffer.from(b);
}

for (const [kind, sources] of [['request', REQUESTS], ['response', RESPONSES]] as const) {
  test(`${kind}s: mutated inputs agree across splits (fixed seed, 600 cases)`, () => {
    const r = rng(kind === 'request' ? 12345 : 54321);
    let errors = 0;
    for (let n = 0; n < 600; n++) {
      const input = mutate(sources[n % sources.length], r);
      // feed() asserts whole == byte-by-byte == thirds; with eof, finish() is compared too.
      const out = feed(kind, input, { eof: n % 2 === 0 });
      if (out.error) errors++;
    }
    // The mutations must actually exercise the error paths, not only the happy ones.
    assert.ok(errors > 100, `only ${errors} of 600 mutated inputs were rejected`);
  });
}
