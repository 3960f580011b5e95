// Response framing: every way a body can end, 1xx, and malformed or truncated responses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { createClient, head } from '../../client/index.ts';
import { rawServer, sleep, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** A server answering each request with the bytes `reply(target)` returns (written in pieces if an array). */
async function serve(reply: (target: string, socket: net.Socket) => string | Buffer | (string | Buffer)[] | null): Promise<RawServer> {
  const s = await rawServer(async (req, socket) => {
    const out = reply(req.target, socket);
    if (out === null) return;
    const parts = Array.isArray(out) ? out : [out];
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) await sleep(5);
      if (!socket.destroyed) socket.write(parts[i]!);
    }
  });
  servers.push(s);
  return s;
}

const fetchText = (url: string) => client.request({ url, as: 'text' });

test('Content-Length body, split across writes, on a reused connection', T, async () => {
  const s = await serve(() => ['HTTP/1.1 200 OK\r\nContent-', 'Length: 11\r\n\r\nhello', ' world']);
  const a = await fetchText(s.url + '/a');
  const b = await fetchText(s.url + '/b');
  assert.equal(a.body, 'hello world');
  assert.equal(b.body, 'hello world');
  assert.equal(s.connections, 1);
});

test('chunked body with trailers kept on the response', T, async () => {
  const s = await serve(() => ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n', '6;ext=1\r\n world\r\n0\r\nX-Sum: abc \r\nX-Other: 1\r\n\r\n']);
  const r = await fetchText(s.url);
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'hello world');
  assert.deepEqual(r.trailers, { 'x-sum': 'abc', 'x-other': '1' });
  const again = await fetchText(s.url);
  assert.equal(again.body, 'hello world');
  assert.equal(s.connections, 1, 'chunked responses keep the connection');
});

test('close-delimited body is read to EOF and the connection is not reused', T, async () => {
  const s = await serve((_t, socket) => {
    socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    return null;
  });
  const r = await fetchText(s.url);
  assert.equal(r.body, 'until the end');
  const r2 = await fetchText(s.url);
  assert.equal(r2.body, 'until the end');
  assert.equal(s.connections, 2);
});

test('HEAD, 204 and 304 have no body even with Content-Length, and keep the connection', T, async () => {
  const s = await serve((t) => {
    if (t === '/204') return 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n';
    if (t === '/304') return 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nContent-Encoding: gzip\r\n\r\n';
    return 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Encoding: gzip\r\n\r\n';
  });
  const h = await client.request({ url: s.url + '/h', method: 'HEAD', as: 'text' });
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  assert.equal(h.headers['content-length'], '10');
  const n = await fetchText(s.url + '/204');
  assert.equal(n.status, 204);
  assert.equal(n.body, '');
  const nm = await fetchText(s.url + '/304');
  assert.equal(nm.status, 304);
  assert.equal(nm.error, undefined, 'a 304 is never decoded');
  const h2 = await head(s.url + '/h2', { client, as: 'buffer' });
  assert.equal((h2.body as Buffer).length, 0);
  assert.equal(s.connections, 1);
});

test('1xx responses are skipped, an unexpected 100 Continue included', T, async () => {
  const s = await serve(() => [
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  ]);
  const r = await fetchText(s.url);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok');
  assert.equal(r.headers.link, undefined);
});

test('a truncated Content-Length body is an error, not a short body', T, async () => {
  const s = await serve((_t, socket) => {
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
    return null;
  });
  const r = await fetchText(s.url);
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
  assert.equal(r.status, undefined);
  assert.equal(r.body, undefined);
});

test('a truncated chunked body is an error', T, async () => {
  const s = await serve((_t, socket) => {
    socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    return null;
  });
  const r = await fetchText(s.url);
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
});

test('a connection closed mid-head is an error', T, async () => {
  const s = await serve((_t, socket) => {
    socket.end('HTTP/1.1 200 OK\r\nContent-Le');
    return null;
  });
  assert.equal((await fetchText(s.url)).error?.code, 'ERR_PREMATURE_CLOSE');
});

test('a connection closed with no response at all is an error (fresh connection: no retry)', T, async () => {
  const s = await serve((_t, socket) => {
    socket.end();
    return null;
  });
  const r = await fetchText(s.url);
  assert.equal(r.error?.code, 'ERR_PREMATURE_CLOSE');
  assert.equal(s.requests.length, 1);
});

test('garbage status line, bad version, conflicting framing and bad chunk sizes are protocol errors', T, async () => {
  const replies: Record<string, string> = {
    '/garbage': 'garbage\r\n\r\n',
    '/version': 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    '/status': 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    '/cl-te': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    '/two-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    '/bad-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello',
    '/bad-chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    '/bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    '/header-nul': 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n',
  };
  const s = await serve((t) => replies[t]!);
  for (const path of Object.keys(replies)) {
    const r = await fetchText(s.url + path);
    assert.equal(r.error?.code, 'ERR_PROTOCOL', path);
    assert.match((r.error as { parserCode?: string }).parserCode ?? '', /^HPE_/, path);
    assert.equal(r.status, undefined, path);
  }
});

test('obs-fold in a response header is unfolded to a space; values are trimmed', T, async () => {
  const s = await serve(() => ['HTTP/1.1 200 OK\r\nX-Folded: first\r\n', '   second\r\n\tthird  \r\nX-Plain:   spaced   \r\nContent-Length: 2\r\n\r\nok']);
  const r = await fetchText(s.url);
  assert.equal(r.error, undefined);
  assert.equal(r.headers['x-folded'], 'first second third');
  assert.equal(r.headers['x-plain'], 'spaced');
  assert.equal(r.body, 'ok');
  const again = await fetchText(s.url);
  assert.equal(again.body, 'ok', 'the connection stays usable after an unfolded head');
});

test('Connection: close and HTTP/1.0 responses are honoured: the next request opens a new connection', T, async () => {
  const s = await serve((t) =>
    t === '/close' ? 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na' : 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb');
  assert.equal((await fetchText(s.url + '/close')).body, 'a');
  assert.equal((await fetchText(s.url + '/close')).body, 'a');
  assert.equal((await fetchText(s.url + '/10')).body, 'b');
  assert.equal((await fetchText(s.url + '/10')).body, 'b');
  assert.equal(s.connections, 4);
});

test('HTTP/1.0 with Connection: keep-alive is reused', T, async () => {
  const s = await serve(() => 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nk');
  await fetchText(s.url);
  await fetchText(s.url);
  assert.equal(s.connections, 1);
});

test('a 101 to a plain request is an error', T, async () => {
  const s = await serve(() => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n');
  assert.equal((await fetchText(s.url)).error?.code, 'ERR_UNEXPECTED_UPGRADE');
});

test('a 101 in an HTTP/1.0 response is no switch (RFC 9110 7.8, 15.2): skipped as a 1xx, the final response follows', T, async () => {
  const s = await serve(() => 'HTTP/1.0 101 Switching Protocols\r\nUpgrade: foo\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const r = await fetchText(s.url);
  assert.deepEqual([r.error, r.status, r.body], [undefined, 200, 'ok']);
});

test('bytes after a complete response close the connection instead of reusing it', T, async () => {
  const s = await serve(() => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naEXTRA');
  assert.equal((await fetchText(s.url)).body, 'a');
  assert.equal((await fetchText(s.url)).body, 'a');
  assert.equal(s.connections, 2);
});

test('responses delivered one byte per read parse the same (chunked+trailers, 1xx, obs-fold, gzip)', T, async () => {
  const { gzipSync } = await import('node:zlib');
  const gz = gzipSync('byte by byte');
  const replies: Record<string, Buffer> = {
    '/chunked': Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n'),
    '/fold': Buffer.from('HTTP/1.1 200 OK\r\nX-F: a\r\n b\r\nContent-Length: 3\r\n\r\nxyz'),
    '/gzip': Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz]),
  };
  const s = await rawServer(async (req, socket) => {
    socket.setNoDelay(true);
    const bytes = replies[req.target]!;
    for (let i = 0; i < bytes.length; i++) {
      if (socket.destroyed) return;
      socket.write(bytes.subarray(i, i + 1));
      await sleep(1);
    }
  });
  servers.push(s);
  const a = await fetchText(s.url + '/chunked');
  assert.equal(a.body, 'abcde');
  assert.deepEqual(a.trailers, { 'x-t': '1' });
  const b = await fetchText(s.url + '/fold');
  assert.equal(b.headers['x-f'], 'a b');
  assert.equal(b.body, 'xyz');
  const c = await client.request({ url: s.url + '/gzip' });
  assert.equal(c.body, 'byte by byte');
  assert.equal(s.connections, 1);
});
