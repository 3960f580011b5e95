// The request map, the response map and the basic wire rules, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sendRaw, withServer } from './helpers/raw.ts';
import type { Request } from '../../lib/index.ts';

const echoReq = (req: Request) => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ ...req, body: req.body === null ? null : req.body.toString('latin1') }),
});

test('request map: Ring keys from a GET', async () => {
  await withServer(echoReq, {}, async (server) => {
    const sentAt = process.uptime() * 1000;
    const raw = await sendRaw(server.port, 'GET /a%20b/c?x=1&y=%41 HTTP/1.1\r\nHost: example.com:8080\r\nX-Thing: A\r\nx-thing: B\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n');
    const [res] = responsesOf(raw);
    assert.equal(res!.status, 200);
    const m = JSON.parse(res!.body.toString());
    assert.equal(m.requestMethod, 'get');
    assert.equal(m.uri, '/a%20b/c');
    assert.equal(m.queryString, 'x=1&y=%41');
    assert.equal(m.protocol, 'HTTP/1.1');
    assert.equal(m.scheme, 'http');
    assert.equal(m.serverName, 'example.com');
    assert.equal(m.serverPort, server.port);
    assert.equal(m.remoteAddr, '127.0.0.1');
    assert.equal(m.headers['x-thing'], 'A, B');
    assert.equal(m.headers.cookie, 'a=1; b=2');
    assert.equal(m.headers.host, 'example.com:8080');
    assert.equal(m.body, null);
    assert.equal(m.contentType, null);
    assert.equal(m.contentLength, null);
    assert.equal(m.isWebSocket, false);
    // Monotonic ms on process.uptime()'s clock, read when the head was parsed.
    assert.ok(m.startTime >= sentAt && m.startTime <= process.uptime() * 1000, `startTime ${m.startTime} after ${sentAt}`);
  });
});

test('request map: body, content type, length and charset of a POST', async () => {
  await withServer(echoReq, {}, async (server) => {
    const raw = await sendRaw(server.port, 'POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain; charset="UTF-8"\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    const m = JSON.parse(responsesOf(raw)[0]!.body.toString());
    assert.equal(m.requestMethod, 'post');
    assert.equal(m.body, 'hello');
    assert.equal(m.contentType, 'text/plain; charset="UTF-8"');
    assert.equal(m.contentLength, 5);
    assert.equal(m.characterEncoding, 'UTF-8');
    assert.equal(m.queryString, null);
  });
});

test('response: Date on every response, Server header, Content-Length', async () => {
  await withServer(() => ({ status: 201, headers: { 'X-A': ['1', '2'], 'x-n': 7 }, body: 'héllo' }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/1') + get('/2'));
    const rs = await c.waitResponses(2);
    c.close();
    for (const r of rs) {
      assert.equal(r.status, 201);
      assert.match(r.headers.date!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      assert.equal(r.headers.server, 'httpkit');
      assert.equal(r.headers['content-length'], '6'); // UTF-8 bytes, not characters
      assert.equal(r.body.toString('utf8'), 'héllo');
      assert.equal(r.headers['x-a'], '1, 2');
      assert.equal(r.headers['x-n'], '7');
    }
    assert.equal(c.text.split('X-A: ').length - 1, 4, 'array values become repeated lines');
  });
});

test('serverHeader: null sends no Server header; a handler Date wins', async () => {
  await withServer(() => ({ headers: { Date: 'Thu, 01 Jan 1970 00:00:00 GMT' }, body: '' }), { serverHeader: null }, async (server) => {
    const raw = await sendRaw(server.port, get('/', 'Connection: close\r\n'));
    const r = responsesOf(raw)[0]!;
    assert.equal(r.headers.server, undefined);
    assert.equal(r.headers.date, 'Thu, 01 Jan 1970 00:00:00 GMT');
    assert.equal(r.headers['content-length'], '0');
  });
});

test('a plain string from the handler is 200 text/html; null is 404', async () => {
  await withServer((req) => (req.uri === '/s' ? '<p>hi</p>' : null), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/s') + get('/none'));
    const [a, b] = await c.waitResponses(2);
    c.close();
    assert.equal(a!.status, 200);
    assert.match(a!.headers['content-type']!, /^text\/html/);
    assert.equal(a!.body.toString(), '<p>hi</p>');
    assert.equal(b!.status, 404);
  });
});

test('Host: missing in HTTP/1.1 or repeated gets 400 and a close; HTTP/1.0 may omit it', async () => {
  await withServer(() => 'ok', {}, async (server) => {
    for (const req of [
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a b\r\n\r\n',
    ]) {
      const raw = await sendRaw(server.port, req);
      const r = responsesOf(raw)[0]!;
      assert.equal(r.status, 400, req);
      assert.equal(r.headers.connection, 'close');
      assert.ok(r.body.length > 0, 'short text body');
    }
    const raw = await sendRaw(server.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(responsesOf(raw)[0]!.status, 200);
  });
});

test('absolute-form target is served by its path; OPTIONS * is answered', async () => {
  await withServer((req) => ({ body: `${req.requestMethod} ${req.uri} ${req.queryString} ${req.serverName}` }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write('GET http://example.com/x/y?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n' +
      'GET http://example.org:81 HTTP/1.1\r\nHost: other\r\n\r\n' +
      'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n');
    const rs = await c.waitResponses(3);
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), ['get /x/y q=1 example.com', 'get / null example.org', 'options * null h']);
    const bad = responsesOf(await sendRaw(server.port, 'GET * HTTP/1.1\r\nHost: h\r\n\r\n'))[0]!;
    assert.equal(bad.status, 400);
  });
});

test('HTTP/1.2 is served as 1.1; HTTP/2.0 and up get 505', async () => {
  await withServer(() => 'ok', {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write('GET / HTTP/1.2\r\nHost: h\r\n\r\n' + get('/again'));
    const rs = await c.waitResponses(2);
    c.close();
    assert.ok(c.text.startsWith('HTTP/1.1 200 OK\r\n'));
    assert.equal(rs[1]!.status, 200, 'kept alive');
    for (const v of ['2.0', '3.0']) {
      const raw = await sendRaw(server.port, `GET / HTTP/${v}\r\nHost: h\r\n\r\n`);
      const r = responsesOf(raw)[0]!;
      assert.equal(r.status, 505, v);
      assert.equal(r.headers.connection, 'close');
    }
  });
});

test('keep-alive: HTTP/1.1 stays open, Connection: close closes, HTTP/1.0 closes unless asked', async () => {
  await withServer((req) => (req.uri === '/bye' ? { headers: { Connection: 'close' }, body: 'bye' } : 'ok'), {}, async (server) => {
    // 1.1 default: two requests on one socket.
    const c = await connectRaw(server.port);
    c.write(get('/1'));
    await c.waitResponses(1);
    c.write(get('/2'));
    const rs = await c.waitResponses(2);
    assert.equal(rs[1]!.headers.connection, undefined);
    assert.equal(c.closed, false);
    // The client's Connection: close.
    c.write(get('/3', 'Connection: close\r\n'));
    await c.waitEnd();
    assert.equal(responsesOf(c.received)[2]!.headers.connection, 'close');
    c.close();
    // 1.0 without keep-alive: closed after the response.
    const r10 = responsesOf(await sendRaw(server.port, 'GET / HTTP/1.0\r\n\r\n'))[0]!;
    assert.equal(r10.headers.connection, 'close');
    // 1.0 with keep-alive: stays open, says so.
    const k = await connectRaw(server.port);
    k.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [rk] = await k.waitResponses(1);
    assert.equal(rk!.headers.connection, 'keep-alive');
    k.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await k.waitResponses(2);
    assert.equal(k.closed, false);
    k.close();
    // The handler's Connection: close.
    const h = await connectRaw(server.port);
    h.write(get('/bye') + get('/never'));
    await h.waitEnd();
    const hr = responsesOf(h.received);
    assert.equal(hr.length, 1, 'nothing after a response that announced close');
    assert.equal(hr[0]!.headers.connection, 'close');
    h.close();
  });
});

test('HEAD gets the Content-Length a GET would have and no body', async () => {
  await withServer(() => ({ headers: { 'content-type': 'text/plain' }, body: 'twelve bytes' }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write('HEAD / HTTP/1.1\r\nHost: h\r\n\r\n' + get('/'));
    await c.waitFor((x) => x.text.includes('twelve bytes'));
    c.close();
    const [headPart, getPart] = c.text.split(/(?=HTTP\/1\.1 200)/).filter(Boolean);
    assert.match(headPart!, /Content-Length: 12\r\n/);
    assert.ok(headPart!.endsWith('\r\n\r\n'), 'no body after the HEAD response');
    assert.ok(getPart!.endsWith('\r\n\r\ntwelve bytes'));
  });
});

test('a HEAD handler may state the Content-Length without a body; a 1xx final answer is refused', async () => {
  const logged: unknown[] = [];
  await withServer((req) => (req.uri === '/head'
    ? { headers: { 'Content-Length': '1234' }, body: null }
    : { status: 102 }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    c.write('HEAD /head HTTP/1.1\r\nHost: h\r\n\r\n' + get('/102'));
    await c.waitFor((x) => x.text.includes('500 Internal'));
    c.close();
    assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 1234\r\n/);
    assert.equal(logged.length, 1);
  });
});

test('204 and 304 carry no body and no Content-Length or Transfer-Encoding', async () => {
  await withServer((req) => ({ status: req.uri === '/204' ? 204 : 304, headers: { 'Content-Length': '5' }, body: 'hello' }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/204') + get('/304') + get('/204'));
    await c.waitFor((x) => x.text.split('HTTP/1.1').length - 1 === 3 && x.text.endsWith('\r\n\r\n'));
    await new Promise((r) => setTimeout(r, 30));
    c.close();
    assert.doesNotMatch(c.text, /Content-Length|Transfer-Encoding|hello/i);
    assert.match(c.text, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.match(c.text, /HTTP\/1\.1 304 Not Modified\r\n/);
  });
});

test('handler errors: a throw and a rejection give 500 and reach errorLogger; the next request is served', async () => {
  const logged: Array<[unknown, unknown]> = [];
  const handler = async (req: Request) => {
    if (req.uri === '/throw') throw new Error('boom');
    if (req.uri === '/reject') return Promise.reject(new Error('nope'));
    return 'fine';
  };
  const syncThrow = (req: Request) => {
    if (req.uri === '/sync') throw new Error('sync boom');
    return handler(req);
  };
  await withServer(syncThrow, { errorLogger: (e, r) => logged.push([e, r]) }, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/sync') + get('/throw') + get('/reject') + get('/ok'));
    const rs = await c.waitResponses(4);
    c.close();
    assert.deepEqual(rs.map((r) => r.status), [500, 500, 500, 200]);
    assert.deepEqual(logged.map(([e]) => (e as Error).message), ['sync boom', 'boom', 'nope']);
    assert.equal((logged[0]![1] as Request).uri, '/sync');
  });
});

test('an errorLogger that throws: the failed requests still get 500, nothing escapes as an unhandled rejection, the next request is served', async () => {
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => void escaped.push(e);
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
  const printed: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    const handler = async (req: Request) => {
      if (req.uri === '/reject') throw new Error('nope');
      if (req.uri === '/sync') return Promise.reject(new Error('later'));
      return 'fine';
    };
    await withServer((req) => (req.uri === '/throw' ? (() => { throw new Error('sync'); })() : handler(req)), { errorLogger: () => { throw new Error('logger broke'); } }, async (server) => {
      const c = await connectRaw(server.port);
      c.write(get('/throw') + get('/reject') + get('/sync') + get('/ok'));
      const rs = await c.waitResponses(4);
      c.close();
      assert.deepEqual(rs.map((r) => r.status), [500, 500, 500, 200]);
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(escaped, []);
    // The error and the logger's failure were reported the default way instead.
    const text = printed.map((a) => a.map(String).join(' ')).join('\n');
    assert.match(text, /logger broke/);
    assert.match(text, /nope/);
  } finally {
    console.error = consoleError;
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
  }
});

test('invalid response headers or status become a 500, never a broken response', async () => {
  const logged: unknown[] = [];
  await withServer((req) => (req.uri === '/crlf'
    ? { headers: { 'X-Bad': 'a\r\nInjected: yes' }, body: 'x' }
    : req.uri === '/name' ? { headers: { 'Bad Name': 'v' } } : { status: 42 }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    for (const p of ['/crlf', '/name', '/status']) {
      const raw = await sendRaw(server.port, get(p));
      const r = responsesOf(raw)[0]!;
      assert.equal(r.status, 500, p);
      assert.doesNotMatch(raw.toString(), /Injected/);
    }
    assert.equal(logged.length, 3);
  });
});

test('a client that half-closes after its requests still gets every answer, then the close', async () => {
  await withServer(async (req) => {
    await new Promise((r) => setTimeout(r, 20));
    return { body: req.uri };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.socket.end(get('/one') + get('/two'));
    await c.waitClose();
    const rs = responsesOf(c.received);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/one', '/two']);
  });
});

test('without a Host (HTTP/1.0) serverName is the address the request came in on', async () => {
  await withServer((req) => ({ body: `${req.serverName} ${req.serverPort} ${req.protocol}` }), {}, async (server) => {
    const raw = await sendRaw(server.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(responsesOf(raw)[0]!.body.toString(), `127.0.0.1 ${server.port} HTTP/1.0`);
  });
});

test('runServer refuses bad options before listening', async () => {
  const { runServer } = await import('../../lib/index.ts');
  await assert.rejects(runServer(() => 'x', { serverHeader: 'a\r\nInjected: 1' }), RangeError);
  await assert.rejects(runServer(() => 'x', { maxBody: -1 }), RangeError);
  await assert.rejects(runServer('nope' as never), TypeError);
  await withServer(() => 'x', {}, async (server) => {
    await assert.rejects(runServer(() => 'y', { ip: '127.0.0.1', port: server.port }), { code: 'EADDRINUSE' });
  });
});

test('header names like __proto__ are plain keys, never prototype changes', async () => {
  await withServer((req) => ({
    body: JSON.stringify({
      proto: Object.getPrototypeOf(req.headers) === Object.prototype,
      own: Object.prototype.hasOwnProperty.call(req.headers, '__proto__'),
      value: Object.getOwnPropertyDescriptor(req.headers, '__proto__')?.value,
      ctor: req.headers['constructor'],
    }),
  }), {}, async (server) => {
    const raw = await sendRaw(server.port, 'GET / HTTP/1.1\r\nHost: h\r\n__proto__: x\r\nConstructor: y\r\nConnection: close\r\n\r\n');
    assert.deepEqual(JSON.parse(responsesOf(raw)[0]!.body.toString()), { proto: true, own: true, value: 'x', ctor: 'y' });
  });
});
