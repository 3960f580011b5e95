// Timeouts (connect, idle, whole request) and AbortSignal, each against a stalling server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, sleep, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function silent(): Promise<RawServer> {
  const s = await rawServer(() => {});
  servers.push(s);
  return s;
}

test('connectTimeout: a TLS handshake that never completes', T, async () => {
  const s = await silent();
  const t0 = performance.now();
  const r = await client.request({ url: `https://127.0.0.1:${s.port}/`, connectTimeout: 150 });
  const took = performance.now() - t0;
  assert.equal(r.error?.code, 'ERR_CONNECT_TIMEOUT');
  assert.ok(took >= 140 && took < 2000, `took ${took} ms`);
});

test('connectTimeout: a proxy that never answers CONNECT', T, async () => {
  const proxy = await silent();
  const r = await client.request({ url: 'https://127.0.0.1:9/', proxyUrl: proxy.url, connectTimeout: 100 });
  assert.equal(r.error?.code, 'ERR_CONNECT_TIMEOUT');
  await sleep(20);
  assert.equal(proxy.sockets.size, 0, 'the half-open tunnel socket was closed');
});

test('idleTimeout: no bytes before the head, and a stall mid-body', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/mid') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  });
  servers.push(s);
  const t0 = performance.now();
  const a = await client.request({ url: s.url + '/none', idleTimeout: 120 });
  assert.equal(a.error?.code, 'ERR_IDLE_TIMEOUT');
  assert.ok(performance.now() - t0 < 2000);
  const b = await client.request({ url: s.url + '/mid', idleTimeout: 120 });
  assert.equal(b.error?.code, 'ERR_IDLE_TIMEOUT');
  assert.equal(b.status, undefined);
});

test('timeout is a deadline for the whole request, even while bytes keep trickling', T, async () => {
  const s = await rawServer((_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    const iv = setInterval(() => (socket.destroyed ? clearInterval(iv) : socket.write('x')), 20);
    socket.on('close', () => clearInterval(iv));
  });
  servers.push(s);
  const t0 = performance.now();
  const r = await client.request({ url: s.url, timeout: 250, idleTimeout: 100 });
  const took = performance.now() - t0;
  assert.equal(r.error?.code, 'ERR_TIMEOUT');
  assert.ok(took >= 240 && took < 2000, `took ${took} ms`);
});

test('timeout covers time queued for a connection', T, async () => {
  const c = createClient({ maxConnectionsPerHost: 1 });
  const s = await silent();
  const first = c.request({ url: s.url, timeout: 400 });
  const second = await c.request({ url: s.url, timeout: 100 });
  assert.equal(second.error?.code, 'ERR_TIMEOUT');
  assert.equal((await first).error?.code, 'ERR_TIMEOUT');
  c.close();
});

test('a timed-out connection is closed, not reused', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/slow') setTimeout(() => !socket.destroyed && socket.write(ok('late')), 300);
    else socket.write(ok('fast', 'Content-Type: text/plain\r\n'));
  });
  servers.push(s);
  assert.equal((await client.request({ url: s.url + '/slow', timeout: 100 })).error?.code, 'ERR_TIMEOUT');
  const r = await client.request({ url: s.url + '/fast' });
  assert.equal(r.body, 'fast');
});

test('AbortSignal: before sending, and while waiting for the response', T, async () => {
  const s = await silent();
  const r1 = await client.request({ url: s.url, signal: AbortSignal.abort() });
  assert.equal(r1.error?.code, 'ERR_ABORTED');
  assert.equal(s.connections, 0);
  const ac = new AbortController();
  const p = client.request({ url: s.url, signal: ac.signal });
  await sleep(50);
  ac.abort();
  const r2 = await p;
  assert.equal(r2.error?.code, 'ERR_ABORTED');
  await sleep(20);
  assert.equal(s.sockets.size, 0, 'the aborted request closed its connection');
  const r3 = await client.request({ url: s.url, signal: AbortSignal.timeout(50) });
  assert.equal(r3.error?.code, 'ERR_ABORTED');
});

test('no unhandled rejections or exceptions through all of the above', T, async () => {
  let bad = 0;
  const onBad = () => bad++;
  process.on('unhandledRejection', onBad);
  process.on('uncaughtException', onBad);
  try {
    const srv = net.createServer((sock) => sock.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await Promise.all([
      client.request({ url: `http://127.0.0.1:${port}/` }),
      client.request({ url: `https://127.0.0.1:${port}/` }),
      client.request({ url: `http://127.0.0.1:${port}/`, method: 'POST', body: 'x'.repeat(100000) }),
    ]);
    srv.close();
    await sleep(20);
  } finally {
    process.off('unhandledRejection', onBad);
    process.off('uncaughtException', onBad);
  }
  assert.equal(bad, 0);
});

test('timeout spans redirects', T, async () => {
  const s = await rawServer((req, socket) => {
    const n = Number(req.target.slice(1));
    setTimeout(() => socket.write(`HTTP/1.1 302 Found\r\nLocation: /${n + 1}\r\nContent-Length: 0\r\n\r\n`), 80);
  });
  servers.push(s);
  const t0 = performance.now();
  const r = await client.request({ url: s.url + '/0', timeout: 300 });
  assert.equal(r.error?.code, 'ERR_TIMEOUT');
  assert.ok(performance.now() - t0 < 1500);
  assert.ok(r.trace.length >= 2, `followed ${r.trace.length} redirects before the deadline`);
});
