// Size limits, bad input and Expect: 100-continue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sendRaw, withServer } from './helpers/raw.ts';
import type { Request } from '../../lib/index.ts';

const sizeOf = (req: Request) => ({ body: String(req.body === null ? 'null' : req.body.length) });

test('request bodies: Content-Length and chunked arrive whole; none is null', async () => {
  await withServer(sizeOf, {}, async (server) => {
    const c = await connectRaw(server.port);
    const big = 'y'.repeat(200_000);
    c.write(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
    c.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    c.write(get('/'));
    c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
    const rs = await c.waitResponses(4);
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), ['200000', '11', 'null', 'null']);
  });
});

test('maxBody: a declared length beyond it gets 413 without reading; a chunked body growing beyond it too', async () => {
  let calls = 0;
  await withServer((req) => {
    calls++;
    return sizeOf(req);
  }, { maxBody: 1000 }, async (server) => {
    const r1 = responsesOf(await sendRaw(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n'))[0]!;
    assert.equal(r1.status, 413);
    assert.equal(r1.headers.connection, 'close');
    const c = await connectRaw(server.port);
    c.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 20; i++) c.write('64\r\n' + 'z'.repeat(100) + '\r\n');
    await c.waitEnd();
    c.close();
    assert.equal(responsesOf(c.received)[0]!.status, 413);
    const ok = responsesOf(await sendRaw(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n' + 'a'.repeat(1000)))[0]!;
    assert.equal(ok.body.toString(), '1000');
    assert.equal(calls, 1, 'the handler never saw the oversized requests');
  });
});

test('414 for a long request line, 431 for big or many headers, 400 for garbage; each closes', async () => {
  await withServer(() => 'ok', { maxLine: 100, maxHeaderSize: 300, maxHeaders: 5 }, async (server) => {
    const cases: Array<[string, number]> = [
      [`GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'b'.repeat(400)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\nHost: h\r\n${'X-A: 1\r\n'.repeat(6)}\r\n`, 431],
      ['BLAH\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n', 400], // RFC 9112 6.3: chunked not final
      ['GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: frob, chunked\r\n\r\n', 501],
    ];
    for (const [req, status] of cases) {
      const raw = await sendRaw(server.port, req);
      const rs = responsesOf(raw);
      assert.equal(rs.length, 1, req.slice(0, 40));
      assert.equal(rs[0]!.status, status, req.slice(0, 40));
      assert.equal(rs[0]!.headers.connection, 'close');
      assert.match(rs[0]!.headers['content-type']!, /^text\/plain/);
      assert.ok(rs[0]!.body.length > 0 && rs[0]!.body.length < 100);
    }
    // The server still serves normally afterwards.
    assert.equal(responsesOf(await sendRaw(server.port, get('/', 'Connection: close\r\n')))[0]!.body.toString(), 'ok');
  });
});

test('a parse error after good pipelined requests is answered after them', async () => {
  await withServer((req) => ({ body: req.uri }), {}, async (server) => {
    const raw = await sendRaw(server.port, get('/a') + get('/b') + 'GET /c HTTP/1.1\r\nBad Header\r\n\r\n');
    const rs = responsesOf(raw);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 400]);
    assert.deepEqual(rs.slice(0, 2).map((r) => r.body.toString()), ['/a', '/b']);
  });
});

test('Expect: 100-continue gets 100 Continue before the body is sent', async () => {
  await withServer(sizeOf, { maxBody: 100 }, async (server) => {
    const c = await connectRaw(server.port);
    c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await c.waitFor((x) => x.text.includes('100 Continue'));
    assert.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n');
    c.write('hello');
    await c.waitFor((x) => x.text.includes('\r\n\r\n5'));
    c.close();
    // Too big: 413 at once, no 100, body never read.
    const raw = await sendRaw(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n');
    assert.ok(raw.toString().startsWith('HTTP/1.1 413 '));
    // An expectation we do not know: 417.
    const r417 = await sendRaw(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: something\r\n\r\n');
    assert.ok(r417.toString().startsWith('HTTP/1.1 417 '));
  });
});

test('heads announcing large bodies that never come do not reserve their size', async () => {
  await withServer(sizeOf, {}, async (server) => {
    const before = process.memoryUsage().arrayBuffers;
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectRaw(server.port)));
    for (const c of clients) c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8000000\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 100));
    const grown = process.memoryUsage().arrayBuffers - before;
    for (const c of clients) c.close();
    assert.ok(grown < 20_000_000, `${(grown / 1e6).toFixed(1)} MB held for 20 announced 8 MB bodies`);
  });
});

test('pipelined uploads waiting for answers hold at most about one maxBody per connection', async () => {
  const pending: Array<() => void> = [];
  let started = 0;
  await withServer((req) => new Promise((resolve) => {
    started++;
    pending.push(() => resolve({ body: String(req.body?.length ?? 0) }));
  }), { maxBody: 100_000 }, async (server) => {
    const c = await connectRaw(server.port);
    const body = 'u'.repeat(60_000);
    let all = '';
    for (let i = 0; i < 10; i++) all += `POST /${i} HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    c.write(all);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(started <= 2, `${started} uploads of 60 KB held at once with maxBody 100 KB`);
    const deadline = Date.now() + 5000;
    while (started < 10 || pending.length > 0) {
      if (Date.now() > deadline) throw new Error('stalled at ' + started);
      for (const f of pending.splice(0)) f();
      await new Promise((r) => setTimeout(r, 5));
    }
    const rs = await c.waitResponses(10, 'POST');
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), Array(10).fill('60000'));
  });
});

test('a chunked body of thousands of 1-byte chunks arrives whole (one growing buffer)', async () => {
  await withServer((req) => ({ body: `${req.body!.length} ${req.body!.subarray(0, 3)}${req.body!.subarray(-3)}` }), {}, async (server) => {
    const c = await connectRaw(server.port);
    let msg = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (let i = 0; i < 40_000; i++) msg += '1\r\n' + String.fromCharCode(97 + (i % 26)) + '\r\n';
    c.write(msg + '0\r\n\r\n');
    const [r] = await c.waitResponses(1, 'POST', 10_000);
    c.close();
    assert.equal(r!.body.toString(), `40000 abc${String.fromCharCode(97 + (39997 % 26))}${String.fromCharCode(97 + (39998 % 26))}${String.fromCharCode(97 + (39999 % 26))}`);
  });
});

test('a transfer coding other than chunked alone gets 501 and never reaches the handler', async () => {
  let calls = 0;
  await withServer((req) => {
    calls++;
    return sizeOf(req);
  }, {}, async (server) => {
    for (const te of ['gzip, chunked', 'deflate, chunked', 'x-custom,chunked']) {
      const r = responsesOf(await sendRaw(server.port, `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`))[0]!;
      assert.equal(r.status, 501, te);
      assert.equal(r.headers.connection, 'close', te);
    }
    const ok = responsesOf(await sendRaw(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n'))[0]!;
    assert.equal(ok.body.toString(), '3');
    assert.equal(calls, 1);
  });
});

test('methods are case-sensitive: a lower-case method gets 400 instead of aliasing an upper-case one', async () => {
  const seen: string[] = [];
  await withServer((req) => {
    seen.push(req.requestMethod);
    return { body: req.requestMethod };
  }, {}, async (server) => {
    for (const m of ['get', 'Post', 'dElEtE', 'm-search']) {
      const r = responsesOf(await sendRaw(server.port, `${m} / HTTP/1.1\r\nHost: h\r\n\r\n`))[0]!;
      assert.equal(r.status, 400, m);
      assert.equal(r.headers.connection, 'close', m);
    }
    const ok = responsesOf(await sendRaw(server.port, 'M-SEARCH / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'))[0]!;
    assert.equal(ok.body.toString(), 'm-search');
    assert.deepEqual(seen, ['m-search']);
  });
});
