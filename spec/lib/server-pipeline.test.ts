// Pipelining, byte-by-byte delivery, batching and read pausing.
import { test } from 'node:test';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { connectRaw, get, sleep, withServer } from './helpers/raw.ts';
import type { Request } from '../../lib/index.ts';

test('100 pipelined requests in one write are answered in order', async () => {
  await withServer((req) => ({ body: req.uri }), {}, async (server) => {
    const c = await connectRaw(server.port);
    let all = '';
    for (let i = 0; i < 100; i++) all += get('/r' + i);
    c.write(all);
    const rs = await c.waitResponses(100);
    c.close();
    assert.equal(rs.length, 100);
    rs.forEach((r, i) => assert.equal(r.body.toString(), '/r' + i));
  });
});

test('answers keep request order even when a later handler finishes first', async () => {
  await withServer(async (req) => {
    const ms = Number(req.uri.slice(1));
    await sleep(ms);
    return { body: req.uri };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/60') + get('/1') + get('/30') + get('/0'));
    const rs = await c.waitResponses(4);
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/60', '/1', '/30', '/0']);
  });
});

test('a request delivered byte by byte (head and body) is parsed and answered', async () => {
  await withServer((req) => ({ body: `${req.uri} ${req.body?.toString()}` }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.socket.setNoDelay(true);
    const msg = 'POST /bytes?x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' + get('/after');
    for (const ch of msg) {
      c.write(ch);
      await sleep(0);
    }
    const rs = await c.waitResponses(2);
    c.close();
    assert.equal(rs[0]!.body.toString(), '/bytes abcde');
    assert.equal(rs[1]!.body.toString(), '/after undefined');
  });
});

test('pipelined responses of one read go out in one write, sync or async handlers', async () => {
  for (const handler of [(req: Request) => ({ body: req.uri }), async (req: Request) => ({ body: req.uri })]) {
    await withServer(handler, {}, async (server) => {
      const c = await connectRaw(server.port);
      let all = '';
      for (let i = 0; i < 16; i++) all += get('/' + i);
      // Count socket writes in this process while the 16 requests are answered: the
      // server side must make one (the client's own write is the other).
      const proto = Socket.prototype as unknown as { write: (...a: unknown[]) => boolean };
      const original = proto.write;
      let writes = 0;
      proto.write = function (this: Socket, ...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
      try {
        c.write(all);
        await c.waitResponses(16);
      } finally {
        proto.write = original;
      }
      c.close();
      assert.equal(writes, 2, `server writes for 16 pipelined responses: ${writes - 1}`);
    });
  }
});

test('reading pauses while too many answers are owed, then resumes', async () => {
  const started: string[] = [];
  const pending: Array<() => void> = [];
  const handler = (req: Request) => new Promise((resolve) => {
    started.push(req.uri);
    pending.push(() => resolve({ body: req.uri }));
  });
  await withServer(handler, {}, async (server) => {
    const c = await connectRaw(server.port);
    let all = '';
    for (let i = 0; i < 200; i++) all += get('/' + i);
    c.write(all);
    await sleep(100);
    assert.ok(started.length >= 8 && started.length <= 64, `handlers started while none answered: ${started.length}`);
    // Answer as they come; every request is eventually read and answered in order.
    const deadline = Date.now() + 5000;
    while (started.length < 200 || pending.length > 0) {
      if (Date.now() > deadline) throw new Error('stalled at ' + started.length);
      const batch = pending.splice(0);
      for (const f of batch) f();
      await sleep(5);
    }
    const rs = await c.waitResponses(200);
    c.close();
    rs.forEach((r, i) => assert.equal(r.body.toString(), '/' + i));
  });
});

test('a client that pipelines but never reads does not grow server memory without bound', async () => {
  let served = 0;
  const big = Buffer.alloc(64 * 1024, 'x');
  await withServer(() => {
    served++;
    return { body: big };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.socket.pause(); // never read
    let all = '';
    for (let i = 0; i < 2000; i++) all += get('/');
    c.write(all);
    await sleep(300);
    // Kernel buffers hold some responses; the server must stop reading well before 2000.
    assert.ok(served < 400, `served ${served} responses to a client that reads nothing`);
    c.close();
  });
});

const libDir = fileURLToPath(new URL('../../lib/', import.meta.url));

test('no timer is created per request or per connection: one shared wheel', async () => {
  await withServer((req) => ({ body: req.uri }), {}, async (server) => {
    const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = ['setTimeout', 'setInterval', 'setImmediate'];
    const originals = names.map((n) => g[n]!);
    let fromLib = 0;
    names.forEach((n, i) => {
      g[n] = function (...args: unknown[]) {
        if ((new Error().stack ?? '').includes(libDir)) fromLib++;
        return originals[i]!.apply(this, args);
      };
    });
    try {
      const clients = await Promise.all([0, 1, 2, 3].map(() => connectRaw(server.port)));
      for (let round = 0; round < 25; round++) {
        for (const c of clients) c.write(get('/r' + round));
        await Promise.all(clients.map((c) => c.waitResponses(round + 1)));
      }
      for (const c of clients) c.close();
    } finally {
      names.forEach((n, i) => (g[n] = originals[i]!));
    }
    assert.equal(fromLib, 0, 'timers created by lib/ for 4 connections and 100 requests');
  });
});
