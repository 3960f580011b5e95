// headersTimeout (slowloris), requestTimeout, keepAliveTimeout, stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sleep, withServer } from './helpers/raw.ts';
import { runServer } from '../../lib/index.ts';
import { TimerWheel, type Timed } from '../../lib/timers.ts';

const fast = { headersTimeout: 200, requestTimeout: 600, keepAliveTimeout: 300 };

test('slowloris: a head trickled byte by byte is cut off with 408 at headersTimeout', async () => {
  await withServer(() => 'ok', fast, async (server) => {
    const c = await connectRaw(server.port);
    const t0 = Date.now();
    const head = 'GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    while (!c.ended && i < head.length) {
      c.write(head[i++]!);
      await sleep(10);
    }
    await c.waitEnd(4000);
    const elapsed = Date.now() - t0;
    c.close();
    assert.ok(elapsed >= 150 && elapsed < 2500, `cut off after ${elapsed} ms`);
    const [r] = responsesOf(c.received);
    assert.equal(r!.status, 408);
    assert.equal(r!.headers.connection, 'close');
  });
});

test('requestTimeout: a body trickled past it gets 408', async () => {
  await withServer(() => 'ok', fast, async (server) => {
    const c = await connectRaw(server.port);
    c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n');
    const t0 = Date.now();
    for (let i = 0; i < 100 && !c.ended; i++) {
      c.write('x');
      await sleep(15);
    }
    await c.waitEnd(4000);
    const elapsed = Date.now() - t0;
    c.close();
    assert.ok(elapsed >= 400 && elapsed < 3000, `cut off after ${elapsed} ms`);
    assert.equal(responsesOf(c.received)[0]!.status, 408);
  });
});

test('keepAliveTimeout closes an idle connection; a silent new one is closed at headersTimeout', async () => {
  await withServer(() => 'ok', fast, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/'));
    await c.waitResponses(1);
    const t0 = Date.now();
    await c.waitEnd(4000);
    const idle = Date.now() - t0;
    assert.ok(idle >= 250 && idle < 2500, `idle connection closed after ${idle} ms`);
    assert.equal(responsesOf(c.received).length, 1, 'no 408 on an idle keep-alive connection');
    c.close();
    const s = await connectRaw(server.port);
    const t1 = Date.now();
    await s.waitEnd(4000);
    const silent = Date.now() - t1;
    assert.ok(silent >= 150 && silent < 2500, `silent connection closed after ${silent} ms`);
    assert.equal(s.received.length, 0);
    s.close();
  });
});

test('a long-running handler is not cut off by the read timeouts', async () => {
  await withServer(async () => {
    await sleep(700);
    return 'late';
  }, fast, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/'));
    const [r] = await c.waitResponses(1, 'GET', 3000);
    c.close();
    assert.equal(r!.body.toString(), 'late');
  });
});

test('stop(): idle connections close at once, in-flight requests finish with Connection: close', async () => {
  const server = await runServer(async (req) => {
    if (req.uri === '/slow') await sleep(150);
    return { body: req.uri };
  }, { ip: '127.0.0.1', port: 0 });
  try {
    const idle = await connectRaw(server.port);
    idle.write(get('/idle'));
    await idle.waitResponses(1);
    const busy = await connectRaw(server.port);
    busy.write(get('/slow'));
    await sleep(20);
    assert.equal(server.connections, 2);
    const t0 = Date.now();
    const stopped = server.stop({ timeout: 5000 });
    assert.equal(server.status, 'stopping');
    await idle.waitEnd(2000);
    assert.ok(Date.now() - t0 < 400, 'idle connection closed at once');
    const [r] = await busy.waitResponses(1);
    assert.equal(r!.body.toString(), '/slow');
    assert.equal(r!.headers.connection, 'close');
    await busy.waitEnd(2000);
    await stopped;
    assert.ok(Date.now() - t0 < 4000, 'stop resolved once the last request finished, not at its timeout');
    assert.equal(server.status, 'stopped');
    assert.equal(server.connections, 0);
    idle.close();
    busy.close();
    // No longer accepting.
    await assert.rejects(connectRaw(server.port));
  } finally {
    await server.stop();
  }
});

test('stop(): a request still running at the timeout is force-closed', async () => {
  const server = await runServer(() => new Promise(() => {}), { ip: '127.0.0.1', port: 0 });
  const c = await connectRaw(server.port);
  c.write(get('/forever'));
  await sleep(20);
  const t0 = Date.now();
  await server.stop({ timeout: 100 });
  const took = Date.now() - t0;
  await c.waitClose(2000);
  c.close();
  assert.ok(took >= 90 && took < 2000, `stop took ${took} ms`);
  assert.equal(server.status, 'stopped');
});

test('timer wheel: idle items expire in order, active items by their own deadline', () => {
  const wheel = new TimerWheel(100, 10);
  const fired: string[] = [];
  const item = (name: string): Timed => ({
    timerPrev: null, timerNext: null, timerList: 0, deadline: 0,
    onTimeout() { fired.push(name); },
  });
  const a = item('a'), b = item('b'), c = item('c'), d = item('d');
  wheel.now = 1000;
  wheel.addIdle(a);
  wheel.now = 1050;
  wheel.addIdle(b);
  wheel.addActive(c, 1300);
  wheel.addActive(d, 1120);
  wheel.expire(1110);
  assert.deepEqual(fired, ['a']);
  wheel.remove(b);
  wheel.expire(1200);
  assert.deepEqual(fired, ['a', 'd']);
  wheel.addIdle(b); // re-added at now=1200: expires at 1300
  wheel.expire(1299);
  assert.deepEqual(fired, ['a', 'd']);
  wheel.expire(1300);
  assert.deepEqual(fired, ['a', 'd', 'b', 'c']);
});

test('maxConnections: connections beyond it are refused, the others served', async () => {
  await withServer(() => 'ok', { maxConnections: 1 }, async (server) => {
    const a = await connectRaw(server.port);
    a.write(get('/'));
    await a.waitResponses(1);
    const b = await connectRaw(server.port);
    await b.waitClose(2000);
    assert.equal(b.received.length, 0);
    a.write(get('/'));
    await a.waitResponses(2);
    a.close();
    b.close();
  });
});

test('a channel whose onOpen throws gets a 500, not a crash', async () => {
  const logged: unknown[] = [];
  const { asChannel } = await import('../../lib/index.ts');
  await withServer((req) => asChannel(req, { onOpen() { throw new Error('open failed'); } }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/'));
    const [r] = await c.waitResponses(1);
    c.close();
    assert.equal(r!.status, 500);
    assert.equal((logged[0] as Error).message, 'open failed');
  });
});
