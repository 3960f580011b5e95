// as: 'stream' — a Readable with backpressure to the socket.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Readable } from 'node:stream';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, sleep, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('resolves at the head; the body streams as it arrives', T, async () => {
  const s = await rawServer((_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
    setTimeout(() => socket.write('6\r\nsecond\r\n0\r\n\r\n'), 100);
  });
  servers.push(s);
  const t0 = performance.now();
  const r = await client.request({ url: s.url, as: 'stream' });
  assert.ok(performance.now() - t0 < 90, 'resolved before the body ended');
  assert.equal(r.status, 200);
  assert.equal((await readAll(r.body as Readable)).toString(), 'firstsecond');
  const again = await client.request({ url: s.url, as: 'text' });
  assert.equal(again.body, 'firstsecond');
  assert.equal(s.connections, 1, 'the connection went back to the pool after the stream ended');
});

test('a 64 MiB download streams with backpressure and bounded memory', T, async () => {
  const total = 64 * 1024 * 1024;
  const block = Buffer.alloc(256 * 1024, 97);
  let written = 0;
  const s = await rawServer((_req, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
    const pump = () => {
      while (written < total) {
        written += block.length;
        if (!socket.write(block)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  servers.push(s);
  const r = await client.request({ url: s.url, as: 'stream' });
  const body = r.body as Readable;
  // Nobody reads for a while: the server must be held back by the full socket buffers.
  await sleep(300);
  assert.ok(written < 24 * 1024 * 1024, `server wrote ${written} bytes while nobody read`);
  // Buffers still held after a full collection are the measure (garbage waiting for the
  // collector depends on its timing); RSS only has to stay below the whole body.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const base = process.memoryUsage();
  let peakBuffers = 0;
  let peakRss = 0;
  let received = 0;
  let next = 0;
  for await (const c of body) {
    received += (c as Buffer).length;
    if (received >= next) {
      next += 4 * 1024 * 1024;
      gc();
      const m = process.memoryUsage();
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers - base.arrayBuffers);
      peakRss = Math.max(peakRss, m.rss - base.rss);
    }
  }
  assert.equal(received, total);
  assert.ok(peakBuffers < 16 * 1024 * 1024, `buffers held grew by ${peakBuffers} bytes`);
  assert.ok(peakRss < total, `RSS grew by ${peakRss} bytes`);
});

test('a slow consumer does not trip the idle timeout, a stalled server does', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/stall') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
    else socket.write(ok(Buffer.alloc(4 * 1024 * 1024, 98)));
  });
  servers.push(s);
  const r = await client.request({ url: s.url + '/big', as: 'stream', idleTimeout: 100 });
  const body = r.body as Readable;
  await sleep(300);
  assert.equal((await readAll(body)).length, 4 * 1024 * 1024);
  const stalled = await client.request({ url: s.url + '/stall', as: 'stream', idleTimeout: 100 });
  assert.equal(stalled.status, 200);
  await assert.rejects(readAll(stalled.body as Readable), { code: 'ERR_IDLE_TIMEOUT' });
});

test('a truncated streamed body errors the stream', T, async () => {
  const s = await rawServer((_req, socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly'));
  servers.push(s);
  const r = await client.request({ url: s.url, as: 'stream' });
  await assert.rejects(readAll(r.body as Readable), { code: 'ERR_PREMATURE_CLOSE' });
});

test('destroying the stream early closes that connection; the next request works', T, async () => {
  const s = await rawServer((_req, socket) => socket.write(ok(Buffer.alloc(8 * 1024 * 1024, 99))));
  servers.push(s);
  const r = await client.request({ url: s.url, as: 'stream' });
  const body = r.body as Readable;
  await new Promise((resolve) => body.once('data', resolve));
  body.destroy();
  await sleep(30);
  const next = await client.request({ url: s.url, as: 'buffer' });
  assert.equal((next.body as Buffer).length, 8 * 1024 * 1024);
  assert.equal(s.connections, 2);
});

test('streamed bodies are decoded; HEAD gives an empty stream', T, async () => {
  const gz = zlib.gzipSync('streamed and compressed '.repeat(1000));
  const s = await rawServer((req, socket) => {
    if (req.method === 'HEAD') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n');
    else socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz]));
  });
  servers.push(s);
  const r = await client.request({ url: s.url, as: 'stream' });
  assert.equal((await readAll(r.body as Readable)).toString(), 'streamed and compressed '.repeat(1000));
  const h = await client.request({ url: s.url, method: 'HEAD', as: 'stream' });
  assert.equal((await readAll(h.body as Readable)).length, 0);
});

test('aborting while a body streams destroys the stream with ERR_ABORTED', T, async () => {
  const s = await rawServer((_req, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'));
  servers.push(s);
  const ac = new AbortController();
  const r = await client.request({ url: s.url, as: 'stream', signal: ac.signal });
  assert.equal(r.status, 200);
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(readAll(r.body as Readable), { code: 'ERR_ABORTED' });
});
