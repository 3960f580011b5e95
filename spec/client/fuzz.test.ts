// Mutated responses (seeded, reproducible): every request resolves — a response or a
// coded error — and nothing throws, hangs or rejects.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createClient } from '../../client/index.ts';
import { rawServer, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const gz = gzipSync('fuzzed body '.repeat(20));
const seeds: Buffer[] = [
  Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world'),
  Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n6;a=b\r\n world\r\n0\r\nX-T: v\r\n\r\n'),
  Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n'),
  Buffer.from('HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n'),
  Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz]),
  Buffer.from('HTTP/1.0 200 OK\r\nX-Folded: a\r\n b\r\n\r\nclose-delimited'),
];
const SPECIAL = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0x3a, 0x30, 0x66, 0xff];

function mutate(r: () => number, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const kind = Math.floor(r() * 4);
  if (kind === 0) return b.subarray(0, Math.floor(r() * b.length)); // truncate
  if (kind === 1) {
    for (let i = 0; i < 1 + r() * 3; i++) b[Math.floor(r() * b.length)] = SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    return b;
  }
  if (kind === 2) {
    const at = Math.floor(r() * b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from([SPECIAL[Math.floor(r() * SPECIAL.length)]!]), b.subarray(at)]);
  }
  const at = Math.floor(r() * b.length);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 4))]); // delete a few bytes
}

test('300 mutated responses all resolve, each with a status or a coded error', T, async () => {
  const r = rng(0x5eed);
  const cases = Array.from({ length: 300 }, (_, i) => mutate(r, seeds[i % seeds.length]!));
  let bad = 0;
  let errors = 0;
  let responses = 0;
  const onBad = () => bad++;
  process.on('uncaughtException', onBad);
  process.on('unhandledRejection', onBad);
  try {
    const s = await rawServer((req, socket) => {
      const i = Number(req.target.split('/')[1]);
      const bytes = cases[i] ?? Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      socket.end(bytes);
    });
    servers.push(s);
    for (let batch = 0; batch < cases.length; batch += 30) {
      const rs = await Promise.all(cases.slice(batch, batch + 30).map((_, j) =>
        client.request({ url: `${s.url}/${batch + j}`, idleTimeout: 2000, timeout: 5000, maxRedirects: 2 })));
      for (const res of rs) {
        if (res.error === undefined) {
          responses++;
          assert.equal(typeof res.status, 'number');
        } else {
          errors++;
          assert.equal(res.status, undefined);
          assert.ok(typeof res.error.code === 'string' && res.error.code.length > 0);
          assert.notEqual(res.error.code, 'ERR_TIMEOUT', 'no mutated response hangs the client');
        }
      }
    }
  } finally {
    process.off('uncaughtException', onBad);
    process.off('unhandledRejection', onBad);
  }
  assert.equal(bad, 0);
  assert.ok(errors > 30 && responses > 30, `a mix of outcomes: ${responses} responses, ${errors} errors`);
});
