// Wire-conformance audit of the server, part two: Upgrade in HTTP/1.0, CONNECT tunnels,
// and hostile clients. Real bytes over real sockets on 127.0.0.1, assertions on what the
// client and the application see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, type ResponseHead } from '../../parser/index.ts';
import { asChannel, type Request, type Response } from '../../lib/index.ts';
import { exchangeOf } from '../../lib/connection.ts';
import { takeOverSocket } from '../../lib/takeover.ts';
import { connectRaw, get, responsesOf, sendRaw, sleep, withServer } from './helpers/raw.ts';
import { until } from '../helpers/wait.ts';

const WS_HEADERS = 'Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

/** The first response head in `buf` as an answer to `method`, and the bytes after it (a tunnel's, after an upgrade). */
function headAndRest(buf: Buffer, method: string): { head: ResponseHead; upgraded: boolean; rest: string } {
  let head: ResponseHead | null = null;
  const parser = new ResponseParser({ onHead: (h) => (head = h), onBody() {}, onComplete() {} });
  parser.requestMethod = method;
  const n = parser.execute(buf);
  assert.equal(parser.error, null);
  assert.ok(head !== null, 'a response head');
  return { head, upgraded: parser.upgraded, rest: buf.subarray(n).toString('latin1') };
}

function headerNames(head: ResponseHead): string[] {
  return head.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

test('Upgrade in an HTTP/1.0 request is ignored (RFC 9110 7.8): the handler runs, isWebSocket is false, the socket stays HTTP', async () => {
  const seen: Array<[string, boolean, boolean, string | null]> = [];
  await withServer((req: Request) => {
    if (req.protocol === 'HTTP/1.0') {
      const taken = takeOverSocket(req);
      seen.push([req.uri, req.isWebSocket, taken !== null, req.body === null ? null : req.body.toString()]);
    }
    if (req.uri === '/switch') return { status: 101, headers: { upgrade: 'websocket', connection: 'upgrade' } };
    return asChannel(req, { onOpen: (ch) => ch.send({ body: `ws=${ch.isWebSocket} ${req.uri}` }) });
  }, { errorLogger: () => {} }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      // A complete WebSocket handshake but for the version, then a POST whose body is
      // framed by its Content-Length, not taken for the new protocol's bytes.
      c.write(`GET /chat HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n${WS_HEADERS}\r\n` +
        `POST /up HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\n${WS_HEADERS}Content-Length: 5\r\n\r\nhello`);
      await c.waitClose();
      const rs = responsesOf(c.received);
      assert.deepEqual(rs.map((r) => [r.status, r.body.toString(), r.headers.connection]), [
        [200, 'ws=false /chat', 'keep-alive'],
        [200, 'ws=false /up', 'close'],
      ]);
      assert.ok(!c.text.includes(' 101 '), 'no protocol switch');
      assert.deepEqual(seen, [['/chat', false, false, null], ['/up', false, false, 'hello']]);
    } finally {
      c.close();
    }
    // A handler cannot switch either: a 101 to it is not an answer (RFC 9110 15.2), but a 500.
    const switched = responsesOf(await sendRaw(server.port, `GET /switch HTTP/1.0\r\nConnection: Upgrade\r\n${WS_HEADERS}\r\n`));
    assert.deepEqual(switched.map((r) => r.status), [500]);
    // The same handshake in HTTP/1.1 does switch.
    const ws = await connectRaw(server.port);
    try {
      ws.write(`GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n${WS_HEADERS}\r\n`);
      await ws.waitFor((x) => x.text.includes('\r\n\r\n'));
      assert.match(ws.text, /^HTTP\/1\.1 101 /);
    } finally {
      ws.close();
    }
  });
});

test('a 2xx to CONNECT is a tunnel (RFC 9110 9.3.6): no Content-Length, Transfer-Encoding or Connection; the body as raw bytes, then the close', async () => {
  const errors: unknown[] = [];
  const seen: string[] = [];
  await withServer((req: Request): Response => {
    seen.push(`${req.requestMethod} ${req.uri}`);
    if (req.requestMethod !== 'connect') return { body: 'plain' };
    switch (req.serverName) {
      case 'fixed': return { status: 200, headers: { 'content-length': '99', 'connection': 'close', 'x-tunnel': '1' }, body: 'tunnel bytes' };
      case 'stream': return { status: 200, body: (function* () { yield 'a'; yield 'bc'; })() };
      case 'empty': return { status: 200 };
      case 'denied': return { status: 407, headers: { 'proxy-authenticate': 'Basic' }, body: 'no' };
      default: return { status: 101 };
    }
  }, { errorLogger: (e) => errors.push(e) }, async (server) => {
    const connect = (host: string, version = '1.1', after = '') => sendRaw(server.port, `CONNECT ${host}:443 HTTP/${version}\r\nHost: ${host}:443\r\n\r\n${after}`);
    // The bytes after the head are the tunnel's: a request there is never served.
    const fixed = headAndRest(await connect('fixed', '1.1', 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'), 'CONNECT');
    assert.deepEqual([fixed.head.statusCode, fixed.upgraded, fixed.rest], [200, true, 'tunnel bytes']);
    const names = headerNames(fixed.head);
    for (const framing of ['content-length', 'transfer-encoding', 'connection']) assert.ok(!names.includes(framing), `${framing} in ${names.join(',')}`);
    assert.ok(names.includes('x-tunnel') && names.includes('date'));
    // A streamed body: raw, not chunked. HTTP/1.0: no keep-alive field either.
    const stream = headAndRest(await connect('stream'), 'CONNECT');
    assert.deepEqual([stream.head.statusCode, stream.rest, headerNames(stream.head).includes('transfer-encoding')], [200, 'abc', false]);
    const empty = headAndRest(await connect('empty', '1.0'), 'CONNECT');
    assert.deepEqual([empty.head.statusCode, empty.rest], [200, '']);
    assert.deepEqual(headerNames(empty.head).filter((n) => n === 'connection' || n === 'content-length'), []);
    // Other answers are ordinary responses that close the connection.
    const denied = responsesOf(await connect('denied'), 'GET');
    assert.deepEqual(denied.map((r) => [r.status, r.headers['content-length'], r.headers.connection, r.body.toString()]), [[407, '2', 'close', 'no']]);
    // CONNECT succeeds with a 2xx; a 101 is not an answer to it.
    assert.deepEqual(responsesOf(await connect('switch'), 'GET').map((r) => r.status), [500]);
    assert.equal(errors.length, 1);
    assert.deepEqual(seen, ['connect fixed:443', 'connect stream:443', 'connect empty:443', 'connect denied:443', 'connect switch:443']);
  });
});

test('a handler that takes a CONNECT socket over writes its own 2xx and owns the tunnel', async () => {
  await withServer((req: Request) => {
    const taken = takeOverSocket(req);
    if (taken === null) return { status: 500 };
    const { socket, head } = taken;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.write(Buffer.concat([Buffer.from('echo:'), head]));
    socket.on('data', (d: Buffer) => socket.write(d));
    socket.on('error', () => {});
    socket.resume();
    return { status: 200 }; // ignored: the exchange was handed over
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write('CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\nfirst');
      await c.waitFor((x) => x.text.endsWith('echo:first'));
      c.write('|second');
      await c.waitFor((x) => x.text.endsWith('echo:first|second'));
      assert.equal(c.text, 'HTTP/1.1 200 Connection Established\r\n\r\necho:first|second');
    } finally {
      c.close();
    }
  });
});

test('pipelining: 5,000 small requests in one write are all answered (a full output batch is written, never left waiting for a drain)', async () => {
  await withServer((req: Request) => ({ body: 'x'.repeat(100) + req.uri }), {}, async (server) => {
    for (const n of [5000]) {
      const c = await connectRaw(server.port);
      try {
        let all = '';
        for (let i = 0; i < n; i++) all += get('/' + i);
        c.write(all);
        const rs = await c.waitResponses(n, 'GET', 10_000);
        assert.equal(rs.length, n);
        assert.equal(rs[n - 1]!.body.toString(), 'x'.repeat(100) + '/' + (n - 1));
      } finally {
        c.close();
      }
    }
  });
});

test('pipelining: async answers that fill the socket after reading paused for the queue resume it on drain', async () => {
  const big = Buffer.alloc(64 * 1024, 'y');
  await withServer(async () => {
    await sleep(20);
    return { body: big };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.socket.pause();
      c.write(get('/').repeat(100)); // more than the 32 answers a connection may owe
      await sleep(300);
      c.socket.resume();
      const rs = await c.waitResponses(100, 'GET', 10_000);
      assert.equal(rs.length, 100);
      assert.ok(rs.every((r) => r.body.length === big.length));
    } finally {
      c.close();
    }
  });
});

test('a client that pipelines thousands of requests and reads nothing: the server stops reading, then sendTimeout cuts it off', async () => {
  let served = 0;
  const body = Buffer.alloc(16 * 1024, 'z');
  await withServer(() => (served++, { body }), { sendTimeout: 300 }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.socket.pause(); // never reads
      c.write(get('/').repeat(5000));
      const t0 = Date.now();
      await until(() => server.connections === 0, 6000, 'the stalled connection to be cut off');
      const ms = Date.now() - t0;
      // Kernel buffers hold a few MiB of answers; the server stopped well before 5,000.
      assert.ok(served < 2000, `served ${served} answers to a client that reads nothing`);
      assert.ok(ms < 4000, `cut off after ${ms} ms`);
    } finally {
      c.close();
    }
  });
});

test('hostile heads at the server: each gets its status and a close, nothing reaches the handler, the server serves on', async () => {
  const seen: string[] = [];
  await withServer((req: Request) => (seen.push(req.uri), { body: 'ok' }), {}, async (server) => {
    const H = 'Host: a\r\n';
    const HC = 'Host: a\r\nConnection: close\r\n';
    // The whole header section (field lines with their CRLFs) may be maxHeaderSize (16384).
    const atLimit = (extra: number) => `GET /limit HTTP/1.1\r\n${HC}X: ${'v'.repeat(16384 - HC.length - 5 + extra)}\r\n\r\n`;
    const fields = (n: number) => `GET /count HTTP/1.1\r\n${HC}` + Array.from({ length: n - 2 }, (_, i) => `X-${i}: v\r\n`).join('') + '\r\n';
    const cases: Array<[string, string, number]> = [
      ['section at the limit', atLimit(0), 200],
      ['section one byte over', atLimit(1), 431],
      ['100 fields', fields(100), 200],
      ['101 fields', fields(101), 431],
      ['200 fields', fields(200), 431],
      ['Content-Length 2^53-1 (over maxBody, never read)', `POST /big HTTP/1.1\r\n${H}Content-Length: 9007199254740991\r\n\r\nabc`, 413],
      ['Content-Length 2^53 (not exactly representable past it)', `POST /big HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 400],
      ['Content-Length 2^64', `POST /big HTTP/1.1\r\n${H}Content-Length: 18446744073709551616\r\n\r\n`, 400],
      ['chunk size 2^53', `POST /big HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n20000000000000\r\nab`, 400],
      ['bare CR in a value', `GET /cr HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400],
      ['bare CR ending a value', `GET /cr HTTP/1.1\r\n${H}X-A: ab\r\r\n\r\n`, 400],
      ['NUL in the target', `GET /a\x00b HTTP/1.1\r\n${H}\r\n`, 400],
      ['NUL in a value', `GET /nul HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, 400],
      ['userinfo in absolute-form', `GET http://user:pw@a/x HTTP/1.1\r\n${H}\r\n`, 400],
      ['userinfo in Host', 'GET /u HTTP/1.1\r\nHost: u@a\r\n\r\n', 400],
      ['Host twice, same value', `GET /h HTTP/1.1\r\n${H}${H}\r\n`, 400],
      ['Host as a list', 'GET /h HTTP/1.1\r\nHost: a, b\r\n\r\n', 400],
      ['300 trailer fields', `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n` + 'T: v\r\n'.repeat(300) + '\r\n', 431],
      ['a trailer section past maxHeaderSize', `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: ${'v'.repeat(17000)}\r\n\r\n`, 431],
    ];
    for (const [name, req, status] of cases) {
      const rs = responsesOf(await sendRaw(server.port, req));
      assert.deepEqual(rs.map((r) => r.status), [status], name);
      assert.equal(rs[0]!.headers.connection, 'close', name);
    }
    assert.deepEqual(seen, ['/limit', '/count'], 'only the heads within the limits reached the handler');
    assert.equal(responsesOf(await sendRaw(server.port, get('/after', 'Connection: close\r\n')))[0]!.body.toString(), 'ok');
  });
});

test('heads that never end: CRLFs before a request, or trailer fields, trickled past headersTimeout / requestTimeout get 408', async () => {
  await withServer(() => 'ok', { headersTimeout: 200, requestTimeout: 400 }, async (server) => {
    const trickle = async (start: string, piece: string, what: string, within: number) => {
      const c = await connectRaw(server.port);
      try {
        const t0 = Date.now();
        c.write(start);
        while (!c.ended && Date.now() - t0 < 3000) {
          c.write(piece);
          await sleep(40);
        }
        await c.waitEnd(1000);
        const ms = Date.now() - t0;
        assert.deepEqual(responsesOf(c.received).map((r) => [r.status, r.headers.connection]), [[408, 'close']], what);
        assert.ok(ms < within, `${what}: cut off after ${ms} ms`);
      } finally {
        c.close();
      }
    };
    // Empty lines before a request-line are skipped (RFC 9112 2.2), but they start the head's clock.
    await trickle('', '\r\n', 'CRLFs', 1500);
    await trickle(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n`, 'T: v\r\n', 'trailers', 2000);
  });
});

test('after the last message a connection will answer, later bytes are dropped unparsed: garbage sent while a slow handler runs queues nothing', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reqs: Request[] = [];
  await withServer(async (req: Request) => {
    reqs.push(req);
    await gate;
    return { body: 'slow' };
  }, {}, async (server) => {
    const rejected = await connectRaw(server.port);
    const closing = await connectRaw(server.port);
    try {
      // A parse error behind a request still running; a request that asked to close.
      rejected.write(get('/slow') + 'BAD\x01\r\n\r\n');
      closing.write(get('/closing', 'Connection: close\r\n'));
      await until(() => reqs.length === 2, 3000, 'both handlers to run');
      for (let i = 0; i < 200; i++) {
        rejected.write('more garbage \x01\r\n');
        closing.write(get('/after-close'));
        if (i % 20 === 0) await sleep(5); // separate reads
      }
      await sleep(100);
      const owed = reqs.map((r) => exchangeOf(r)!.conn.queued);
      assert.deepEqual(owed, [2, 1], 'answers owed: the handler\'s (and one 400); nothing per later read');
      release();
      await rejected.waitClose();
      await closing.waitClose();
      assert.deepEqual(responsesOf(rejected.received).map((r) => r.status), [200, 400]);
      assert.deepEqual(responsesOf(closing.received).map((r) => [r.status, r.headers.connection]), [[200, 'close']]);
      assert.deepEqual(reqs.map((r) => r.uri), ['/slow', '/closing']);
    } finally {
      release();
      rejected.close();
      closing.close();
    }
  });
});
