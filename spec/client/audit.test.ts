// Corners of the pool's keep-alive found by an outside-in audit: a pooled connection
// past its keep-alive time is never reused, even when the coarse timer that closes idle
// connections has not run yet.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, sleep, type RawServer, T } from './helpers.ts';
import { until } from '../helpers/wait.ts';

const servers: RawServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Keep the event loop busy for `ms` (timers, the pool's tick included, cannot run). */
function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

test('Keep-Alive: timeout=0 from the server: the connection is closed after the response, not pooled', T, async () => {
  const c = createClient();
  const s = await rawServer((req, socket) => socket.write(ok(`conn ${req.conn}`, 'Keep-Alive: timeout=0\r\n')));
  servers.push(s);
  const r1 = await c.request({ url: s.url, as: 'text' });
  assert.equal(r1.body, 'conn 0');
  const r2 = await c.request({ url: s.url, as: 'text' });
  assert.equal(r2.error, undefined);
  assert.equal(r2.body, 'conn 1', 'the second request went out on a new connection');
  await until(() => s.sockets.size <= 1, 2000, 'the first connection closed by the client');
  c.close();
});

test('a pooled connection past its keep-alive time is not reused, though the idle timer has not fired yet', T, async () => {
  const c = createClient();
  // timeout=1 -> the client keeps the connection idle for 500 ms at most.
  const s = await rawServer((req, socket) => socket.write(ok(`conn ${req.conn}`, 'Keep-Alive: timeout=1\r\n')));
  servers.push(s);
  const r1 = await c.request({ url: s.url, as: 'text' });
  assert.equal(r1.body, 'conn 0');
  await sleep(10);
  // Synchronous work longer than the keep-alive time, then a request at once: the pool
  // must judge the idle connection by the clock, not by whether its timer has run.
  blockEventLoop(700);
  const r2 = await c.request({ url: s.url, as: 'text' });
  assert.equal(r2.error, undefined);
  assert.equal(r2.body, 'conn 1', 'the expired idle connection was not used');
  assert.equal(s.requests.filter((q) => q.conn === 0).length, 1, 'nothing more was sent on the expired connection');
  c.close();
});

test('keepalive: 0 never pools: each request opens its own connection and the client closes it', T, async () => {
  const c = createClient({ keepalive: 0 });
  const s = await rawServer((req, socket) => socket.write(ok(`conn ${req.conn}`)));
  servers.push(s);
  for (let i = 0; i < 3; i++) {
    const r = await c.request({ url: s.url, as: 'text' });
    assert.equal(r.body, `conn ${i}`);
  }
  await until(() => s.sockets.size === 0, 2000, 'every connection closed by the client');
  c.close();
});

test('obs-fold: a head full of blanks is unfolded in linear time (a hostile server cannot stall the client)', T, async () => {
  // An obs-fold early (so the head is rewritten), then a 60,000-blank run inside the
  // 64 KiB the client keeps for the rewrite. A backtracking rewrite spends over a second
  // of CPU per response on this; a linear one, a few milliseconds.
  const head = 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\nX: ' + ' '.repeat(60_000) + 'x\r\nContent-Length: 2\r\n\r\nok';
  const s = await rawServer((_req, socket) => socket.write(head));
  servers.push(s);
  const c = createClient();
  const started = performance.now();
  const results = await Promise.all([0, 1, 2, 3].map(() => c.request({ url: s.url })));
  const elapsed = performance.now() - started;
  for (const r of results) {
    assert.equal(r.error?.code, 'ERR_PROTOCOL', 'the unfolded head is still over the header size limit');
    assert.equal(r.status, undefined);
  }
  assert.ok(elapsed < 2000, `four hostile heads took ${Math.round(elapsed)} ms`);
  c.close();
});

test('obs-fold: folded values are joined with one space; blanks around each fold are dropped', T, async () => {
  const s = await rawServer((_req, socket) =>
    socket.write('HTTP/1.1 200 OK\r\nX-A: one \t\r\n \t two\r\nX-B: a\r\n\tb\r\n c\r\nContent-Length: 2\r\n\r\nok'),
  );
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url, as: 'text' });
  assert.equal(r.error, undefined);
  assert.equal(r.headers['x-a'], 'one two');
  assert.equal(r.headers['x-b'], 'a b c');
  assert.equal(r.body, 'ok');
  c.close();
});

test('a redirect with an endless body is followed without reading the body to its end', T, async () => {
  const chunk = Buffer.from('4000\r\n' + 'x'.repeat(0x4000) + '\r\n', 'latin1');
  let redirectBytes = 0;
  const s = await rawServer((req, socket) => {
    if (req.target === '/final') {
      socket.write(ok('done'));
      return;
    }
    socket.write('HTTP/1.1 302 Found\r\nLocation: /final\r\nTransfer-Encoding: chunked\r\n\r\n');
    // Chunks for as long as the client reads them (bounded, so a failing run ends).
    const pump = (): void => {
      while (!socket.destroyed && redirectBytes < 256 * 1024 * 1024) {
        redirectBytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url + '/start', as: 'text', timeout: 10_000 });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'done');
  assert.deepEqual(r.trace.map((h) => h.status), [302]);
  assert.ok(redirectBytes < 64 * 1024 * 1024, `the client stopped reading the redirect body (server wrote ${redirectBytes} bytes)`);
  assert.equal(s.requests[1]!.conn, 1, 'the redirect went out on a new connection: the one with the unfinished body was closed');
  c.close();
});

test('a short redirect body is drained and its connection reused for the next hop', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/final') socket.write(ok('done'));
    else socket.write('HTTP/1.1 301 Moved\r\nLocation: /final\r\nContent-Length: 20\r\n\r\n<a href=/final>x</a>');
  });
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url + '/start', as: 'text' });
  assert.equal(r.body, 'done');
  assert.deepEqual(s.requests.map((q) => q.conn), [0, 0]);
  c.close();
});

test('obs-fold in a 1xx head and again in the final head: both unfolded, whether the heads arrive together or apart', T, async () => {
  const early = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>;\r\n rel=preload\r\n\r\n';
  const final = 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok';
  for (const parts of [[early + final], [early, final]]) {
    const s = await rawServer(async (_req, socket) => {
      for (const p of parts) {
        socket.write(p);
        await sleep(20);
      }
    });
    servers.push(s);
    const c = createClient();
    const r = await c.request({ url: s.url, as: 'text' });
    assert.equal(r.error, undefined, `${parts.length} write(s)`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-a'], 'one two');
    assert.equal(r.body, 'ok');
    c.close();
  }
});

test('obs-fold in many 1xx heads of one response: a protocol error, not endless re-parsing', T, async () => {
  const folded1xx = 'HTTP/1.1 103 Early Hints\r\nLink: </a>;\r\n rel=preload\r\n\r\n';
  const s = await rawServer((_req, socket) => socket.write(folded1xx.repeat(1000) + 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url, timeout: 10_000 });
  assert.equal(r.error?.code, 'ERR_PROTOCOL');
  assert.equal((r.error as { parserCode?: string }).parserCode, 'HPE_OBS_FOLD');
  c.close();
});

test('a request that times out while its connection is still being set up closes that connection', T, async () => {
  // A TCP server that never answers the TLS ClientHello: the connection stays "being
  // opened" until connectTimeout (60 s by default) unless the pool lets it go.
  const s = await rawServer(() => {});
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: `https://127.0.0.1:${s.port}/`, insecure: true, timeout: 300 });
  assert.equal(r.error?.code, 'ERR_TIMEOUT');
  assert.equal(s.connections, 1);
  await until(() => s.sockets.size === 0, 3000, 'the half-open TLS connection closed by the client');
  c.close();
});

test('a body under a transfer coding other than chunked is an error, not handed over still encoded', T, async () => {
  const cases = [
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc',
  ];
  for (const bytes of cases) {
    const s = await rawServer((_req, socket) => socket.end(bytes));
    servers.push(s);
    const c = createClient();
    const r = await c.request({ url: s.url, as: 'text' });
    assert.equal(r.error?.code, 'ERR_PROTOCOL', bytes);
    assert.match(r.error!.message, /transfer coding/);
    assert.equal(r.body, undefined);
    c.close();
  }
});

test('Transfer-Encoding in an HTTP/1.0 response is faulty framing: an error, never the chunk syntax as the body', T, async () => {
  const s = await rawServer((_req, socket) => socket.end('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url, as: 'text' });
  assert.equal(r.error?.code, 'ERR_PROTOCOL');
  assert.match(r.error!.message, /HTTP\/1\.0/);
  c.close();
});

test('no body, no transfer coding check: a 204 or a HEAD answer with Transfer-Encoding: chunked stays a success', T, async () => {
  const s = await rawServer((req, socket) =>
    socket.write(req.method === 'HEAD' ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' : 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'),
  );
  servers.push(s);
  const c = createClient();
  const head = await c.request({ url: s.url, method: 'HEAD' });
  assert.equal(head.status, 200);
  const none = await c.request({ url: s.url });
  assert.equal(none.status, 204);
  assert.deepEqual(s.requests.map((q) => q.conn), [0, 0], 'the connection stayed reusable');
  c.close();
});

test('a fragment is never sent, not even an empty one (`/a?b#`), also in the absolute form sent to a proxy', T, async () => {
  const proxy = await rawServer((_req, socket) => socket.write(ok('via proxy')));
  servers.push(proxy);
  const c = createClient();
  const r = await c.request({ url: 'http://127.0.0.1:9/a?b#', proxyUrl: proxy.url, as: 'text' });
  assert.equal(r.body, 'via proxy');
  assert.equal(proxy.requests[0]!.target, 'http://127.0.0.1:9/a?b');
  assert.equal(r.url, 'http://127.0.0.1:9/a?b');
  const direct = await c.request({ url: proxy.url + '/x#', as: 'text' });
  assert.equal(direct.url, proxy.url + '/x');
  c.close();
});

test('a Location with raw UTF-8 bytes is read as UTF-8 (as browsers do), not percent-encoded twice', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target.startsWith('/start')) {
      socket.write(Buffer.concat([Buffer.from('HTTP/1.1 302 Found\r\nLocation: /caf'), Buffer.from('é/ü?q=ß', 'utf8'), Buffer.from('\r\nContent-Length: 0\r\n\r\n')]));
    } else {
      socket.write(ok('done'));
    }
  });
  servers.push(s);
  const c = createClient();
  const r = await c.request({ url: s.url + '/start', as: 'text' });
  assert.equal(r.body, 'done');
  assert.equal(s.requests[1]!.target, '/caf%C3%A9/%C3%BC?q=%C3%9F');
  // Bytes that are not UTF-8 stay one character per byte.
  const s2 = await rawServer((req, socket) => {
    if (req.target.startsWith('/start')) socket.write(Buffer.concat([Buffer.from('HTTP/1.1 302 Found\r\nLocation: /x'), Buffer.from([0xe9]), Buffer.from('\r\nContent-Length: 0\r\n\r\n')]));
    else socket.write(ok('done'));
  });
  servers.push(s2);
  const r2 = await c.request({ url: s2.url + '/start', as: 'text' });
  assert.equal(r2.body, 'done');
  assert.equal(s2.requests[1]!.target, '/x%C3%A9');
  c.close();
});
