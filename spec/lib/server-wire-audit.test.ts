// Wire-conformance audit of the server (RFC 9112 / RFC 9110): real bytes over real
// sockets on 127.0.0.1, assertions on what the client sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sendRaw, sleep, withServer } from './helpers/raw.ts';
import type { Request, Response } from '../../lib/index.ts';

/** Records what reached the handler, answers with the uri. */
function recorder(): { seen: Request[]; handler: (req: Request) => Response } {
  const seen: Request[] = [];
  return { seen, handler: (req) => (seen.push(req), { body: `${req.uri} ${req.serverName}` }) };
}

test('CONNECT takes only authority-form host:port (RFC 9110 9.3.6); anything else is 400 and closed', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    for (const target of ['/x', 'http://a/', 'a', 'a:', 'a:0', 'a:65536', 'a:x', ':443', '*', 'u@a:443']) {
      const rs = responsesOf(await sendRaw(server.port, `CONNECT ${target} HTTP/1.1\r\nHost: a\r\n\r\n`), 'CONNECT');
      assert.equal(rs.length, 1, target);
      assert.equal(rs[0]!.status, 400, target);
      assert.equal(rs[0]!.headers.connection, 'close', target);
    }
    assert.equal(seen.length, 0, 'no invalid CONNECT reached the handler');
    // A valid one reaches it, with the tunnel's host as serverName (RFC 9112 3.3).
    const ok = responsesOf(await sendRaw(server.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), 'POST');
    assert.equal(ok[0]!.status, 200);
    assert.equal(ok[0]!.body.toString(), 'example.com:443 example.com');
    const v6 = responsesOf(await sendRaw(server.port, 'CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n'), 'POST');
    assert.equal(v6[0]!.body.toString(), '[::1]:8443 [::1]');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.requestMethod, 'connect');
  });
});

test('205 Reset Content never carries content (RFC 9110 15.3.6): Content-Length: 0, and the next response is framed right', async () => {
  await withServer((req) => {
    if (req.uri === '/reset') return { status: 205, headers: { 'content-type': 'text/plain' }, body: 'this must not be sent' };
    if (req.uri === '/reset-stream') return { status: 205, body: (function* () { yield 'nor this'; })() };
    return { body: 'next' };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/reset') + get('/reset-stream') + get('/after'));
    const rs = await c.waitResponses(3);
    await sleep(50);
    c.close();
    assert.deepEqual(rs.map((r) => [r.status, r.headers['content-length'], r.headers['transfer-encoding'], r.body.toString()]), [
      [205, '0', undefined, ''],
      [205, '0', undefined, ''],
      [200, '4', undefined, 'next'],
    ]);
    // Nothing beyond the three responses reached the wire.
    assert.equal(responsesOf(c.received, 'GET', false).length, 3);
    assert.ok(c.text.endsWith('next'));
  });
});

test('a handler answering 101 to a request that asked for no upgrade gets a 500, not a protocol switch', async () => {
  const errors: unknown[] = [];
  await withServer((req) => (req.uri === '/switch' ? { status: 101, body: null } : { body: 'ok' }), { errorLogger: (e) => errors.push(e) }, async (server) => {
    const rs = responsesOf(await sendRaw(server.port, get('/switch') + get('/after')));
    assert.equal(rs[0]!.status, 500);
    assert.equal(rs[0]!.headers.connection, 'close');
    assert.equal(rs.length, 1, 'the connection closes after the replaced response');
    assert.ok(errors.some((e) => String(e).includes('invalid status 101')));
  });
});

test('chunk extensions cannot stream past the body limit: 413 and closed at 16 KiB of extensions', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, { maxBody: 1024 * 1024 }, async (server) => {
    const c = await connectRaw(server.port);
    c.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    // 1 body byte per 4000 extension bytes: far under maxBody, yet unbounded reading.
    const chunk = `1;x=${'e'.repeat(3990)}\r\nz\r\n`;
    for (let i = 0; i < 50 && !c.ended; i++) {
      c.write(chunk);
      await sleep(2);
    }
    await c.waitEnd();
    c.close();
    const rs = responsesOf(c.received, 'POST');
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.status, 413);
    assert.equal(rs[0]!.headers.connection, 'close');
    assert.equal(seen.length, 0);
    // Extensions within the budget are fine.
    const ok = responsesOf(await sendRaw(server.port, 'POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      `3;name="quoted \\" value";flag\r\nabc\r\n0\r\n\r\n`), 'POST');
    assert.equal(ok[0]!.status, 200);
    assert.equal(seen[0]!.body!.toString(), 'abc');
  });
});

test('Content-Length with leading zeros is a length like any other (RFC 9110 8.6)', async () => {
  await withServer((req) => ({ body: `${req.contentLength} ${req.body}` }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${'0'.repeat(20)}5\r\n\r\nhello` + get('/'));
    const rs = await c.waitResponses(2);
    c.close();
    assert.deepEqual(rs.map((r) => [r.status, r.body.toString()]), [[200, '5 hello'], [200, 'null null']]);
  });
});

test('a request line whose bad version is decided past maxLine gets 414 however the bytes arrive', async () => {
  await withServer(() => 'ok', { maxLine: 200 }, async (server) => {
    const line = `GET /x HTTP${'x'.repeat(300)}\r\nHost: a\r\n\r\n`;
    const whole = responsesOf(await sendRaw(server.port, line));
    const c = await connectRaw(server.port);
    c.write(line.slice(0, 100));
    await sleep(30);
    c.write(line.slice(100));
    await c.waitEnd();
    c.close();
    const split = responsesOf(c.received);
    assert.deepEqual([whole[0]!.status, split[0]!.status], [414, 414]);
  });
});

test('smuggling vectors (CL.TE, TE.CL, TE.TE, TE in HTTP/1.0, duplicate CL): rejected and closed; the smuggled request never runs', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
    const cases: Array<[string, number]> = [
      [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked x\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 40\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n${smuggled}`, 400],
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${smuggled}`, 400], // trailer section swallowing a request
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${smuggled}`, 501],
    ];
    for (const [req, status] of cases) {
      const rs = responsesOf(await sendRaw(server.port, Buffer.from(req, 'latin1')), 'POST');
      assert.equal(rs.length, 1, JSON.stringify(req));
      assert.equal(rs[0]!.status, status, JSON.stringify(req));
      assert.equal(rs[0]!.headers.connection, 'close', JSON.stringify(req));
    }
    assert.deepEqual(seen.map((r) => r.uri), []);
  });
});

test('Expect is a list (RFC 9110 10.1.1): empty means nothing expected, repeated 100-continue is one; any other member is 417', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    // No expectation: no 100, no 417; the body is read and served.
    for (const value of ['', ' , ']) {
      const rs = responsesOf(await sendRaw(server.port, `POST /e HTTP/1.1\r\nHost: a\r\nExpect:${value}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`), 'POST');
      assert.deepEqual(rs.map((r) => r.status), [200], JSON.stringify(value));
    }
    // 100-continue twice (one line or two): one 100 Continue before the body is sent.
    for (const lines of ['Expect: 100-continue, 100-Continue\r\n', 'Expect: 100-continue\r\nExpect: 100-continue\r\n']) {
      const c = await connectRaw(server.port);
      c.write(`POST /c HTTP/1.1\r\nHost: a\r\n${lines}Content-Length: 2\r\n\r\n`);
      await c.waitFor((x) => x.text.includes('\r\n\r\n'));
      assert.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n');
      c.write('hi');
      await c.waitFor((x) => x.text.includes('/c a'));
      c.close();
    }
    assert.equal(seen.length, 4);
    const bad = responsesOf(await sendRaw(server.port, 'POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x-other\r\nContent-Length: 2\r\n\r\n'), 'POST');
    assert.deepEqual(bad.map((r) => [r.status, r.headers.connection]), [[417, 'close']]);
    assert.equal(seen.length, 4);
  });
});

test('a Host with an empty host is invalid for an http origin (RFC 9110 4.2.1): 400 and closed, HTTP/1.1 or 1.0', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    for (const req of [
      'GET / HTTP/1.1\r\nHost:\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: \r\n\r\n',
      'GET / HTTP/1.1\r\nHost: :8080\r\n\r\n',
      'GET / HTTP/1.0\r\nHost: \r\n\r\n',
      'GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n',
    ]) {
      const rs = responsesOf(await sendRaw(server.port, req));
      assert.deepEqual(rs.map((r) => [r.status, r.headers.connection]), [[400, 'close']], JSON.stringify(req));
    }
    assert.equal(seen.length, 0);
    // Host names, IPv4, IP literals, with and without a port, still pass.
    for (const host of ['a', 'a.example:8080', '127.0.0.1', '[::1]', '[::1]:80']) {
      const rs = responsesOf(await sendRaw(server.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      assert.equal(rs[0]!.status, 200, host);
    }
  });
});

test('a 100 KB method is 501 Not Implemented (RFC 9112 3), a 100 KB target 414; both close without reading on', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    const method = responsesOf(await sendRaw(server.port, `${'A'.repeat(100_000)} / HTTP/1.1\r\nHost: a\r\n\r\n`));
    assert.deepEqual(method.map((r) => [r.status, r.headers.connection]), [[501, 'close']]);
    const target = responsesOf(await sendRaw(server.port, `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: a\r\n\r\n`));
    assert.deepEqual(target.map((r) => [r.status, r.headers.connection]), [[414, 'close']]);
    // A long extension method within the limit is served.
    const ok = responsesOf(await sendRaw(server.port, `${'X'.repeat(100)} / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`));
    assert.equal(ok[0]!.status, 200);
    assert.equal(seen.length, 1);
  });
});

test('a path with a broken percent-escape is an invalid request-target (RFC 3986 2.1): 400; the query is left as sent', async () => {
  const { seen, handler } = recorder();
  await withServer(handler, {}, async (server) => {
    for (const target of ['/a%zz', '/a%', '/a%4', '/%g0/x', 'http://h/a%2?q', '/a%41%']) {
      const rs = responsesOf(await sendRaw(server.port, `GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`));
      assert.deepEqual(rs.map((r) => [r.status, r.headers.connection]), [[400, 'close']], target);
    }
    assert.equal(seen.length, 0);
    const c = await connectRaw(server.port);
    c.write('GET /a%41%2f%2F?q=100%&r=%zz HTTP/1.1\r\nHost: h\r\n\r\n');
    await c.waitResponses(1);
    c.close();
    assert.equal(seen[0]!.uri, '/a%41%2f%2F', 'percent-encoding preserved');
    assert.equal(seen[0]!.queryString, 'q=100%&r=%zz');
  });
});

// (it uses that file's imports: test, assert, connectRaw, responsesOf, sendRaw, sleep, withServer).

test('an error answer to a HEAD request has no content (RFC 9112 6.3), whatever rejected it', async () => {
  await withServer(() => ({ body: 'never' }), { maxBody: 10, headersTimeout: 300 }, async (server) => {
    const cases: Array<[string, number]> = [
      ['HEAD / HTTP/1.1\r\n\r\n', 400], // no Host: rejected after the head
      ['HEAD / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n', 400], // a field line fails: before the head is done
      ['HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n', 413],
      ['HEAD / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n', 417],
      ['HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
      ['HEAD / HTTP/1.1\r\nHost: a\r\nX: ' + 'x'.repeat(20_000) + '\r\n\r\n', 431],
    ];
    for (const [req, status] of cases) {
      const raw = await sendRaw(server.port, req);
      const rs = responsesOf(raw, 'HEAD');
      assert.equal(rs.length, 1, req.slice(0, 60));
      assert.equal(rs[0]!.status, status, req.slice(0, 60));
      assert.equal(rs[0]!.headers.connection, 'close');
      // The head ends the bytes: nothing a client would read as another response.
      assert.ok(raw.toString('latin1').endsWith('\r\n\r\n'), JSON.stringify(raw.toString('latin1')));
      assert.ok(Number(rs[0]!.headers['content-length']) > 0, 'the length a GET would have is still stated');
    }
    // 408 for a HEAD whose head never ends.
    const c = await connectRaw(server.port);
    c.write('HEAD / HTTP/1.1\r\nHost: a\r\n');
    await c.waitEnd(3000);
    c.close();
    assert.equal(responsesOf(c.received, 'HEAD')[0]!.status, 408);
    assert.ok(c.text.endsWith('\r\n\r\n'));
    // A GET's error answer keeps its text.
    assert.ok((await sendRaw(server.port, 'GET / HTTP/1.1\r\n\r\n')).toString().endsWith('Bad Request\n'));
  });
});


test('Transfer-Encoding with empty list elements around chunked is chunked (RFC 9110 5.6.1); other codings still 501', async () => {
  await withServer((req) => ({ body: String(req.body) }), {}, async (server) => {
    for (const te of ['chunked ,', ', chunked', ' , chunked , ', 'CHUNKED,']) {
      const rs = responsesOf(await sendRaw(server.port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`), 'POST');
      assert.deepEqual(rs.map((r) => [r.status, r.body.toString()]), [[200, 'abc']], te);
    }
    for (const te of ['gzip, chunked', 'chunked;x=1', 'identity , chunked']) {
      const rs = responsesOf(await sendRaw(server.port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`), 'POST');
      assert.deepEqual(rs.map((r) => [r.status, r.headers.connection]), [[501, 'close']], te);
    }
  });
});


test('a response map whose getters throw is answered 500 and closed, not dropped without a response', async () => {
  const errors: unknown[] = [];
  await withServer((req) => {
    if (req.uri === '/getter') return { get status(): number { throw new Error('status getter'); }, body: 'x' } as never;
    if (req.uri === '/proxy') return { status: 200, headers: new Proxy({}, { ownKeys() { throw new Error('headers proxy'); } }), body: 'x' } as never;
    return { body: 'after' };
  }, { errorLogger: (e) => errors.push(e) }, async (server) => {
    for (const path of ['/getter', '/proxy']) {
      const c = await connectRaw(server.port);
      c.write(get(path) + get('/after'));
      await c.waitEnd();
      c.close();
      const rs = responsesOf(c.received);
      assert.equal(rs[0]!.status, 500, path);
      assert.equal(rs[0]!.headers.connection, 'close', path);
      assert.equal(rs.length, 1, 'the connection closes after the replaced response');
    }
    assert.deepEqual(errors.map((e) => (e as Error).message), ['status getter', 'headers proxy']);
  });
});


test('sendTimeout: a client that reads none of a streamed response is cut off; a slow reader is not', async () => {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const errors: unknown[] = [];
  let produced = 0;
  // More than loopback socket buffers hold (several MiB), so the pump has to wait for 'drain'.
  const chunks = (n: number) => (function* () {
    for (let i = 0; i < n; i++) {
      produced++;
      yield chunk;
    }
  })();
  await withServer((req) => ({ body: chunks(req.uri === '/stuck' ? 2048 : 512) }), { sendTimeout: 300, errorLogger: (e) => errors.push(e) }, async (server) => {
    // Reads nothing: the buffers fill, the pump waits for a drain that never comes.
    const stuck = await connectRaw(server.port);
    stuck.socket.pause();
    stuck.write(get('/stuck'));
    const t0 = Date.now();
    // (A paused client socket does not notice the close until it reads again.)
    while (server.connections > 0 && Date.now() - t0 < 8000) await sleep(20);
    assert.equal(server.connections, 0, 'the server closed the stalled connection');
    assert.ok(Date.now() - t0 < 6000);
    assert.ok(produced < 2048, `the producer was stopped (${produced} of 2048 chunks)`);
    stuck.socket.resume();
    await stuck.waitFor((c) => c.closed, 5000, 'the close to reach the client');
    assert.ok(!stuck.text.endsWith('0\r\n\r\n'), 'the body was cut off, not ended');
    // Reads with pauses of 100 ms (under sendTimeout): 32 MiB served whole.
    const slow = await connectRaw(server.port);
    slow.write(get('/slow', 'Connection: close\r\n'));
    const timer = setInterval(() => (slow.socket.isPaused() ? slow.socket.resume() : slow.socket.pause()), 100);
    try {
      await slow.waitFor((c) => c.closed, 30_000, 'the whole slow response');
    } finally {
      clearInterval(timer);
    }
    const text = slow.text;
    assert.ok(text.endsWith('0\r\n\r\n'), 'the chunked body ended properly');
    assert.ok(slow.received.length > 512 * chunk.length, `got ${slow.received.length} bytes`);
    assert.deepEqual(errors, [], 'a client gone quiet is not an application error');
  });
});
