// The fast read path (one shared read buffer for every plain TCP connection) and the
// stream path it falls back to. Every byte kept past a read must be a copy: these tests
// split input across reads, pause reading, and have other connections read in between,
// so that a view kept by mistake shows up as corrupted bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connectRaw, get, responsesOf, withServer, type RawClient } from './helpers/raw.ts';
import { sleep, until } from '../helpers/wait.ts';
import { takeOverSocket } from '../../lib/takeover.ts';
import { asChannel, type Request, type Response } from '../../lib/index.ts';

const PATHS = [true, false] as const;
const name = (fast: boolean): string => (fast ? 'fast read' : 'stream read');

/** Echoes the method, target and body, so any corrupted byte shows in the answer. */
function echo(req: Request): Response {
  return { headers: { 'x-uri': req.uri + (req.queryString ? '?' + req.queryString : '') }, body: `${req.requestMethod} ${req.uri} ${req.headers['x-tag'] ?? ''} [${req.body?.toString('latin1') ?? ''}]` };
}

async function asyncEcho(req: Request): Promise<Response> {
  await sleep(5 + (req.uri.length % 7));
  return echo(req);
}

/** Another connection sending distinct bytes (all 'Z', several KB), so the shared buffer is overwritten between reads. */
async function noise(port: number, times: number): Promise<void> {
  const c = await connectRaw(port);
  try {
    for (let i = 0; i < times; i++) {
      const body = 'Z'.repeat(6000 + i);
      c.write(`POST /ZZZZZZZZZZZZZZZZ HTTP/1.1\r\nHost: ZZZZ\r\nX-Tag: ZZZZZZZZZZZZZZZZZZZZ\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await c.waitResponses(i + 1, 'POST');
    }
  } finally {
    c.close();
  }
}

function post(path: string, body: string, tag = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nX-Tag: ${tag}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

function expected(method: string, path: string, tag: string, body: string): string {
  return `${method} ${path} ${tag} [${body}]`;
}

async function client(port: number): Promise<RawClient> {
  const c = await connectRaw(port);
  c.socket.setNoDelay(true);
  return c;
}

test('fast read: reads land in one buffer shared by all connections (fastRead: false: a Buffer per read); the peer address and port are known', async () => {
  for (const fast of PATHS) {
    const seen: ArrayBufferLike[] = [];
    const peers: string[] = [];
    await withServer((req) => {
      const taken = takeOverSocket(req, undefined, (buf) => {
        seen.push(buf.buffer);
        taken!.socket.write(Buffer.from(buf)); // copy: buf is borrowed
      })!;
      peers.push(`${req.remoteAddr} ${taken.socket.remoteAddress}:${taken.socket.remotePort}`);
      taken.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
      taken.socket.resume();
      return undefined;
    }, { fastRead: fast }, async (server) => {
      const a = await client(server.port);
      const b = await client(server.port);
      for (const c of [a, b]) {
        c.write(get('/up', 'Upgrade: x\r\nConnection: Upgrade\r\n'));
        await c.waitFor((x) => x.text.includes('101 Switching'));
      }
      a.write('one');
      await a.waitFor((x) => x.text.endsWith('one'));
      b.write('two');
      await b.waitFor((x) => x.text.endsWith('two'));
      a.write('three');
      await a.waitFor((x) => x.text.endsWith('three'));
      assert.deepEqual(peers, [a, b].map((c) => `127.0.0.1 127.0.0.1:${c.socket.localPort}`), 'client address and port');
      a.close();
      b.close();
    });
    assert.equal(seen.length, 3, name(fast));
    if (fast) {
      assert.ok(seen[0] === seen[1] && seen[1] === seen[2], 'one shared buffer');
      assert.ok(seen[0]!.byteLength >= 16384);
    } else {
      assert.ok(seen[0] !== seen[1] && seen[1] !== seen[2], 'a Buffer per read');
    }
  }
});

for (const fast of PATHS) {
  test(`${name(fast)}: a request head split across reads, other connections reading in between`, async () => {
    await withServer(echo, { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      const long = 'v'.repeat(3000) + 'END';
      const req = `GET /split/path?q=abcdef HTTP/1.1\r\nHost: localhost\r\nX-Tag: t1\r\nX-Long: ${long}\r\n\r\n`;
      // Cut inside the method, the target, a name, a value and the final CRLF.
      const cuts = [2, 9, 20, 40, 47, 300, 2000, req.length - 1];
      let at = 0;
      for (const cut of cuts) {
        c.write(req.slice(at, cut));
        at = cut;
        await sleep(5);
        await noise(server.port, 1);
      }
      c.write(req.slice(at));
      const [r] = await c.waitResponses(1);
      assert.equal(r!.body.toString(), expected('get', '/split/path', 't1', ''));
      assert.equal(r!.headers['x-uri'], '/split/path?q=abcdef');
      c.close();
    });
  });

  test(`${name(fast)}: bodies (Content-Length and chunked) arriving in pieces while another connection reads`, async () => {
    await withServer((req) => ({ body: `${req.body!.length}:${req.body!.toString('latin1')}` }), { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      const body = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      c.write(`POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      for (let i = 0; i < body.length; i += 1700) {
        c.write(body.slice(i, i + 1700));
        await sleep(3);
        await noise(server.port, 1);
      }
      const [r1] = await c.waitResponses(1, 'POST');
      assert.equal(r1!.body.toString(), `${body.length}:${body}`);
      c.write('POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      const parts = ['abc', 'defghij', 'k'.repeat(3000), 'lmnop'];
      for (const p of parts) {
        const frame = `${p.length.toString(16)}\r\n${p}\r\n`;
        // Split each chunk frame inside its size line and its data.
        c.write(frame.slice(0, 1));
        await sleep(3);
        await noise(server.port, 1);
        c.write(frame.slice(1, 5));
        await sleep(3);
        c.write(frame.slice(5));
        await sleep(3);
      }
      c.write('0\r\n\r\n');
      const rs = await c.waitResponses(2, 'POST');
      const all = parts.join('');
      assert.equal(rs[1]!.body.toString(), `${all.length}:${all}`);
      c.close();
    });
  });

  test(`${name(fast)}: pipelined requests split across reads, with async handlers and a paused queue`, async () => {
    await withServer(asyncEcho, { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      // 60 requests (more than the queue holds before reading pauses), with bodies.
      const reqs: string[] = [];
      const want: string[] = [];
      for (let i = 0; i < 60; i++) {
        const body = `body-${i}-` + 'x'.repeat(i * 13);
        reqs.push(post(`/p${i}`, body, `tag${i}`));
        want.push(expected('post', `/p${i}`, `tag${i}`, body));
      }
      const all = reqs.join('');
      // Uneven pieces: cuts land inside heads and bodies alike.
      let at = 0;
      let n = 0;
      const noisy: Promise<void>[] = [];
      while (at < all.length) {
        const size = 97 + ((n * 1237) % 2900);
        c.write(all.slice(at, at + size));
        at += size;
        n++;
        if (n % 3 === 0) {
          await sleep(2);
          noisy.push(noise(server.port, 1));
        }
      }
      const rs = await c.waitResponses(60, 'POST', 8000);
      await Promise.all(noisy); // before the server stops
      assert.deepEqual(rs.map((r) => r.body.toString()), want);
      c.close();
    });
  });

  test(`${name(fast)}: 100 pipelined requests in one write, then FIN: every one answered before the close`, async () => {
    await withServer(asyncEcho, { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      let all = '';
      for (let i = 0; i < 100; i++) all += get(`/r${i}`, `X-Tag: t${i}\r\n`);
      c.socket.end(all);
      // Other connections read while this one is paused with its queue full.
      await noise(server.port, 3);
      await c.waitClose(8000);
      const rs = responsesOf(c.received);
      assert.equal(rs.length, 100);
      assert.deepEqual(rs.map((r) => r.body.toString()), Array.from({ length: 100 }, (_, i) => expected('get', `/r${i}`, `t${i}`, '')));
    });
  });

  test(`${name(fast)}: a client that leaves while its reading is paused (queue full) is noticed at once`, async () => {
    const closes: string[] = [];
    await withServer((req) => asChannel(req, { onClose: (_ch, status) => closes.push(status) }), { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      // 40 pipelined polls: reading pauses at 32 owed answers, the rest waits unparsed.
      let all = '';
      for (let i = 0; i < 40; i++) all += get(`/poll${i}`);
      c.write(all);
      await until(() => server.connections === 1 && closes.length === 0, 2000, 'polls waiting');
      await sleep(20);
      c.close();
      await until(() => server.connections === 0, 2000, 'the connection to close');
      await until(() => closes.length === 32, 2000, 'every open poll told');
      assert.deepEqual(new Set(closes), new Set(['client-close']));
    });
  });

  test(`${name(fast)}: the bytes after an upgrade head survive other connections' reads before the hand-over`, async () => {
    let resolveReady: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    await withServer(async (req) => {
      if (!req.isWebSocket) return echo(req);
      await ready; // other connections read while this one waits, paused
      const taken = takeOverSocket(req)!;
      taken.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      // The head holds what the server read past the request head; the rest follows as data.
      taken.socket.write('head=' + taken.head.toString('latin1'));
      taken.socket.on('data', (d: Buffer) => taken.socket.write(d.toString('latin1')));
      taken.socket.resume();
      return undefined;
    }, { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      c.write(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n') + 'EARLY-BYTES-0123456789');
      await sleep(10);
      await noise(server.port, 2);
      c.write('SECOND-READ');
      await sleep(10);
      await noise(server.port, 2);
      resolveReady!();
      await c.waitFor((x) => x.text.includes('head='));
      c.write('after');
      await c.waitFor((x) => x.text.endsWith('after'));
      assert.ok(c.text.endsWith('\r\n\r\nhead=EARLY-BYTES-0123456789SECOND-READafter'), c.text);
      c.close();
    });
  });

  test(`${name(fast)}: a taken-over socket without onRead works as a stream: async iteration, backpressure, FIN`, async () => {
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    let ended = false;
    let maxBuffered = 0;
    await withServer((req) => {
      if (req.headers.upgrade === undefined) return echo(req);
      const taken = takeOverSocket(req)!;
      const s = taken.socket;
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
      void (async () => {
        const keep: Buffer[] = [taken.head];
        let total = taken.head.length;
        for await (const chunk of s as AsyncIterable<Buffer>) {
          keep.push(chunk); // kept past the read: must not change later
          total += chunk.length;
          maxBuffered = Math.max(maxBuffered, s.readableLength);
          if (total === data.length) s.write(Buffer.concat(keep).equals(data) ? 'intact' : 'CORRUPTED');
          await sleep(1); // a slow reader: reading must pause, not buffer without bound
        }
        ended = true;
      })();
      return undefined;
    }, { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      c.write(get('/up', 'Upgrade: x\r\nConnection: Upgrade\r\n'));
      await c.waitFor((x) => x.text.includes('101 Switching'));
      const noisy = noise(server.port, 5);
      c.write(data);
      await noisy;
      await c.waitFor((x) => x.text.endsWith('intact') || x.text.endsWith('CORRUPTED'), 10_000);
      assert.ok(c.text.endsWith('intact'));
      assert.ok(maxBuffered <= 256 * 1024, `buffered ${maxBuffered}`);
      c.socket.end();
      await c.waitClose(); // the FIN reached the stream and was answered with FIN
      await until(() => ended, 2000, 'the iteration to end');
    });
  });

  test(`${name(fast)}: takeOverSocket with onRead gets every byte; a throwing onRead is logged and closes the socket`, async () => {
    const errors: unknown[] = [];
    const got: Buffer[] = [];
    await withServer((req) => {
      if (req.headers.upgrade === undefined) return echo(req);
      const taken = takeOverSocket(req, undefined, (buf) => {
        if (buf.includes('boom')) throw new Error('receiver bug');
        got.push(Buffer.from(buf));
      })!;
      taken.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
      if (taken.head.length > 0) got.push(taken.head);
      taken.socket.resume();
      return undefined;
    }, { fastRead: fast, errorLogger: (err) => errors.push(err) }, async (server) => {
      const c = await client(server.port);
      c.write(get('/up', 'Upgrade: x\r\nConnection: Upgrade\r\n') + 'h');
      await c.waitFor((x) => x.text.includes('101 Switching'));
      for (let i = 0; i < 5; i++) {
        c.write(`piece${i}|`);
        await sleep(3);
        await noise(server.port, 1);
      }
      await until(() => Buffer.concat(got).toString() === 'hpiece0|piece1|piece2|piece3|piece4|', 3000, 'all pieces');
      c.write('boom');
      await c.waitClose();
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /receiver bug/);
      assert.equal(server.connections, 0);
    });
  });

  test(`${name(fast)}: server bookkeeping: connections counted, remote address, half-close, reset, stop()`, async () => {
    const { runServer } = await import('../../lib/index.ts');
    const server = await runServer((req) => ({ body: req.remoteAddr }), { ip: '127.0.0.1', port: 0, fastRead: fast, maxConnections: 3 });
    try {
      // Half-close: the request, then FIN; the answer still comes.
      const half = await client(server.port);
      half.socket.end(get('/'));
      await half.waitClose();
      assert.equal(responsesOf(half.received)[0]!.body.toString(), '127.0.0.1');
      // Reset mid-request: the connection goes, the next one is served.
      const reset = await client(server.port);
      reset.write('GET / HTTP/1.1\r\nHo');
      await until(() => server.connections === 1, 2000, 'counted');
      reset.socket.resetAndDestroy();
      await until(() => server.connections === 0, 2000, 'reset connection untracked');
      // maxConnections counts the re-wrapped sockets: the fourth is refused.
      const open = await Promise.all([client(server.port), client(server.port), client(server.port)]);
      for (const o of open) o.write(get('/'));
      await Promise.all(open.map((o) => o.waitResponses(1)));
      const refused = await client(server.port);
      await refused.waitClose();
      assert.equal(refused.received.length, 0);
      assert.equal(server.connections, 3);
      open[0]!.close();
      await until(() => server.connections === 2, 2000, 'one closed');
      const again = await client(server.port);
      again.write(get('/'));
      await again.waitResponses(1);
      // stop(): idle keep-alive connections close, the listener closes, stop resolves.
      await server.stop({ timeout: 200 });
      assert.equal(server.status, 'stopped');
      assert.equal(server.connections, 0);
      await again.waitClose();
      await new Promise<void>((resolve) => {
        const s: Socket = netConnect(server.port, '127.0.0.1');
        s.on('error', () => resolve());
        s.on('connect', () => {
          s.destroy();
          assert.fail('still listening after stop()');
        });
      });
      for (const o of open) o.close();
    } finally {
      await server.stop({ timeout: 50 });
    }
  });
}

test('fastRead left out, true or false: the same bytes served', async () => {
  const answers: string[] = [];
  for (const fast of [undefined, true, false]) {
    await withServer(echo, fast === undefined ? {} : { fastRead: fast }, async (server) => {
      const c = await client(server.port);
      c.write(post('/same', 'payload', 'x') + get('/two'));
      const rs = await c.waitResponses(2, 'POST');
      answers.push(rs.map((r) => r.body.toString()).join('|'));
      c.close();
    });
  }
  assert.equal(new Set(answers).size, 1);
  assert.equal(answers[0], `${expected('post', '/same', 'x', 'payload')}|${expected('get', '/two', '', '')}`);
});

test('acceptFast: nothing changes on a server that is not listening; accept errors still reach node (server error event)', async () => {
  const { acceptFast } = await import('../../lib/fast-read.ts');
  const { createServer } = await import('node:net');
  const idle = createServer();
  assert.equal(acceptFast(idle, () => assert.fail('no socket expected'), () => true), false);
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const accepted: Socket[] = [];
    assert.equal(acceptFast(server, (s) => accepted.push(s), () => true), true);
    const errors: NodeJS.ErrnoException[] = [];
    server.on('error', (e: NodeJS.ErrnoException) => errors.push(e));
    // What the listening handle reports when accept() fails (EMFILE: out of descriptors).
    const handle = (server as unknown as { _handle: { onconnection(err: number, h?: unknown): void } })._handle;
    handle.onconnection(-24, undefined);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'EMFILE');
    // A real connection still arrives, counted by the server.
    const c = await client((server.address() as { port: number }).port);
    await until(() => accepted.length === 1, 2000, 'the accepted socket');
    const count = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    assert.equal(count, 1);
    c.close();
    accepted[0]!.destroy();
  } finally {
    // close() completes only once the server's connection count is back to 0.
    let closed = false;
    server.close(() => (closed = true));
    await until(() => closed, 2000, 'server.close() to complete');
  }
});
