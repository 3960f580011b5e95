// The connection pool: keep-alive reuse, queueing at the limit, idle expiry, stale
// sockets and the one retry of idempotent requests.
import { test, after } from 'node:test';
import type { Socket } from 'node:net';
import assert from 'node:assert/strict';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, sleep, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function okServer(delay = 0): Promise<RawServer> {
  const s = await rawServer((req, socket) => {
    const reply = () => socket.write(ok(`conn ${req.conn}`, 'Content-Type: text/plain\r\n'));
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  });
  servers.push(s);
  return s;
}

/** A server answering 'fine' to every request but the second, which meets `second`. */
async function secondRequestFails(second: (socket: Socket) => void): Promise<RawServer> {
  let n = 0;
  const s = await rawServer((_req, socket) => {
    n++;
    if (n === 2) second(socket);
    else socket.write(ok('fine'));
  });
  servers.push(s);
  return s;
}

test('sequential requests reuse one connection; a request sent right after resolution reuses it', T, async () => {
  const c = createClient();
  const s = await okServer();
  for (let i = 0; i < 5; i++) {
    const r = await c.request({ url: s.url + '/' + i });
    assert.equal(r.body, 'conn 0');
  }
  // Issued synchronously in the continuation of the previous one.
  await c.request({ url: s.url }).then(() => c.request({ url: s.url }));
  assert.equal(s.connections, 1);
  c.close();
});

test('concurrent requests open connections up to maxConnectionsPerHost and queue the rest', T, async () => {
  const c = createClient({ maxConnectionsPerHost: 2 });
  const s = await okServer(20);
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => c.request({ url: s.url + '/' + i })));
  for (const r of rs) assert.equal(r.status, 200);
  assert.equal(s.connections, 2);
  assert.equal(s.requests.length, 8);
  c.close();
});

test('maxConnections limits connections over all origins', T, async () => {
  const c = createClient({ maxConnections: 1 });
  const a = await okServer(10);
  const b = await okServer(10);
  const rs = await Promise.all([
    c.request({ url: a.url }), c.request({ url: b.url }), c.request({ url: a.url }), c.request({ url: b.url }),
  ]);
  for (const r of rs) assert.equal(r.status, 200, r.error?.message);
  assert.ok(a.connections + b.connections <= 3, 'connections are reused or evicted, never more than one open at once');
  c.close();
});

test('idle connections close after keepalive ms', T, async () => {
  const c = createClient();
  const s = await okServer();
  await c.request({ url: s.url, keepalive: 60 });
  assert.equal(s.sockets.size, 1);
  await sleep(250);
  assert.equal(s.sockets.size, 0, 'the idle socket was closed by the client');
  await c.request({ url: s.url });
  assert.equal(s.connections, 2);
  c.close();
});

test('keepalive -1 sends Connection: close and never pools', T, async () => {
  const c = createClient();
  const s = await okServer();
  await c.request({ url: s.url, keepalive: -1 });
  await c.request({ url: s.url, keepalive: -1 });
  assert.equal(s.requests[0]!.headers.connection, 'close');
  assert.equal(s.connections, 2);
  const c2 = createClient({ keepalive: -1 });
  await c2.request({ url: s.url });
  assert.equal(s.requests[2]!.headers.connection, 'close');
  c.close();
  c2.close();
});

test('a socket the server closed while idle is detected and not reused', T, async () => {
  const c = createClient();
  const s = await rawServer((_req, socket) => {
    socket.write(ok('x'));
    setTimeout(() => socket.end(), 10);
  });
  servers.push(s);
  assert.equal((await c.request({ url: s.url })).status, 200);
  await sleep(60);
  const r = await c.request({ url: s.url });
  assert.equal(r.status, 200);
  assert.equal(s.connections, 2);
  assert.equal(s.requests.length, 2, 'nothing was sent on the dead socket');
  c.close();
});

test('an idempotent request that dies on a reused connection before any response byte is retried once', T, async () => {
  const c = createClient();
  // The second request (on the reused connection) meets a close without an answer: the stale-socket race.
  const s = await secondRequestFails((socket) => socket.destroy());
  assert.equal((await c.request({ url: s.url, as: 'text' })).body, 'fine');
  const r = await c.request({ url: s.url, as: 'text' });
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'fine');
  assert.equal(s.requests.length, 3);
  assert.equal(s.connections, 2);
  c.close();
});

test('a POST that dies on a reused connection is not replayed', T, async () => {
  const c = createClient();
  const s = await secondRequestFails((socket) => socket.destroy());
  await c.request({ url: s.url, method: 'POST', body: 'a' });
  const r = await c.request({ url: s.url, method: 'POST', body: 'b' });
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
  assert.equal(s.requests.length, 2);
  c.close();
});

test('a request failing after response bytes arrived is not retried', T, async () => {
  const c = createClient();
  const s = await secondRequestFails((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  await c.request({ url: s.url });
  const r = await c.request({ url: s.url });
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
  assert.equal(s.requests.length, 2);
  c.close();
});

test('unsolicited bytes on an idle connection close it', T, async () => {
  const c = createClient();
  const s = await rawServer((_req, socket) => {
    socket.write(ok('x'));
    setTimeout(() => socket.write('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n'), 10);
  });
  servers.push(s);
  await c.request({ url: s.url });
  await sleep(50);
  const r = await c.request({ url: s.url });
  assert.equal(r.status, 200);
  assert.equal(s.connections, 2);
  c.close();
});

test('close() fails queued and in-flight requests with ERR_CLIENT_CLOSED', T, async () => {
  const c = createClient({ maxConnectionsPerHost: 1 });
  const s = await rawServer(() => {});
  servers.push(s);
  const p1 = c.request({ url: s.url });
  const p2 = c.request({ url: s.url });
  await sleep(30);
  c.close();
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.equal(r1.error?.code, 'ERR_CLIENT_CLOSED');
  assert.equal(r2.error?.code, 'ERR_CLIENT_CLOSED');
});

test('an idle pool does not keep the process alive', T, async () => {
  const { execFile } = await import('node:child_process');
  const s = await okServer();
  const script = `import('${new URL('../../client/index.ts', import.meta.url).href}').then(async (m) => { const r = await m.get('${s.url}'); console.log(r.status); })`;
  const t0 = Date.now();
  // Asynchronous: the server lives in this process.
  const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 15000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (child.exitCode ?? -1) : 0, stdout, stderr });
    });
  });
  assert.equal(res.stdout.trim(), '200', res.stderr);
  assert.equal(res.code, 0);
  assert.ok(Date.now() - t0 < 10000, 'exited without waiting for keepalive');
});

test('the retry happens once: a second failure on the fresh connection is returned', T, async () => {
  const c = createClient();
  let n = 0;
  const s = await rawServer((_req, socket) => {
    n++;
    if (n === 1) socket.write(ok('first'));
    else socket.destroy();
  });
  servers.push(s);
  await c.request({ url: s.url });
  const r = await c.request({ url: s.url });
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
  assert.equal(s.requests.length, 3, 'original, one retry, nothing more');
  c.close();
});

test('client defaults apply to its requests; per-request options win', T, async () => {
  const c = createClient({ defaults: { headers: { 'x-team': 'core', 'x-over': 'default' }, userAgent: 'team-agent', as: 'text' } });
  const s = await okServer();
  const r = await c.request({ url: s.url, headers: { 'x-over': 'mine' } });
  assert.equal(r.body, 'conn 0');
  const req = s.requests.at(-1)!;
  assert.equal(req.headers['x-team'], 'core');
  assert.equal(req.headers['x-over'], 'mine');
  assert.equal(req.headers['user-agent'], 'team-agent');
  c.close();
});

test('a Keep-Alive: timeout=N from the server shortens the idle time', T, async () => {
  const c = createClient();
  const s = await rawServer((_req, socket) => socket.write(ok('ka', 'Keep-Alive: timeout=1, max=100\r\n')));
  servers.push(s);
  await c.request({ url: s.url });
  await sleep(150);
  assert.equal(s.sockets.size, 1, 'still pooled shortly after');
  await sleep(600);
  assert.equal(s.sockets.size, 0, 'closed before the server would (500 ms for timeout=1)');
  c.close();
});

test('a caller Connection: close header is honoured: the connection is not pooled', T, async () => {
  const c = createClient();
  const s = await okServer();
  await c.request({ url: s.url, headers: { Connection: 'close' } });
  await c.request({ url: s.url });
  assert.equal(s.requests[0]!.headers.connection, 'close');
  assert.equal(s.connections, 2);
  c.close();
});
