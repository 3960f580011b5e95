// serveStatic behind a real server: bytes, validators and ranges as a client sees
// them, and traversal attempts sent as raw request lines (clients would normalise them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runServer, type Server } from '../../lib/server.ts';
import { serveStatic, wrapStatic } from '../../lib/static.ts';
import { GET, routes } from '../../lib/router.ts';
import { header, rawRequest, request, makeSite } from './middleware-support.ts';

const site = makeSite();
let server: Server;

before(async () => {
  const app = wrapStatic(
    routes(GET('/api/hello', () => ({ status: 200, body: 'from the app' })), GET('/assets/*', serveStatic(site.root, { prefix: '/assets', maxAge: 3600 }))),
    site.root,
  );
  server = await runServer(app, { port: 0, ip: '127.0.0.1' });
});

after(async () => {
  await server.stop();
  site.cleanup();
});

test('GET streams the file with Content-Length and headers', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/data.bin');
  assert.equal(r.status, 200);
  assert.equal(header(r, 'content-length'), '256');
  assert.ok(r.body.equals(readFileSync(join(site.root, 'data.bin'))));
  assert.equal(header(r, 'content-type'), 'application/octet-stream');
  assert.ok(header(r, 'etag'));
  assert.ok(header(r, 'last-modified'));
  const idx = await request(server.port, 'GET', '/');
  assert.equal(idx.body.toString(), '<h1>home</h1>');
  assert.match(header(idx, 'content-type')!, /^text\/html/);
  const h = await request(server.port, 'HEAD', '/hello.txt');
  assert.equal(h.status, 200);
  assert.equal(h.body.length, 0);
  assert.equal(header(h, 'etag'), header(await request(server.port, 'GET', '/hello.txt'), 'etag'));
});

// RFC 9110 section 9.3.2: HEAD carries the Content-Length a GET would.
test('HEAD of a file carries the GET Content-Length', { timeout: 5000 }, async () => {
  const h = await request(server.port, 'HEAD', '/hello.txt');
  assert.equal(header(h, 'content-length'), '12');
});

test('304 for a matching validator, 206 and 416 for ranges', { timeout: 5000 }, async () => {
  const first = await request(server.port, 'GET', '/hello.txt');
  const nm = await request(server.port, 'GET', '/hello.txt', { 'If-None-Match': header(first, 'etag')! });
  assert.equal(nm.status, 304);
  assert.equal(nm.body.length, 0);
  const ims = await request(server.port, 'GET', '/hello.txt', { 'If-Modified-Since': header(first, 'last-modified')! });
  assert.equal(ims.status, 304);
  const part = await request(server.port, 'GET', '/data.bin', { Range: 'bytes=16-31' });
  assert.equal(part.status, 206);
  assert.equal(header(part, 'content-range'), 'bytes 16-31/256');
  assert.equal(header(part, 'content-length'), '16');
  assert.deepEqual([...part.body], Array.from({ length: 16 }, (_, i) => 16 + i));
  const suffix = await request(server.port, 'GET', '/data.bin', { Range: 'bytes=-3' });
  assert.deepEqual([...suffix.body], [253, 254, 255]);
  const bad = await request(server.port, 'GET', '/data.bin', { Range: 'bytes=1000-' });
  assert.equal(bad.status, 416);
  assert.equal(header(bad, 'content-range'), 'bytes */256');
});

test('several ranges: one multipart/byteranges 206 with exact Content-Length', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/data.bin', { Range: 'bytes=250-,0-2,10-11' });
  assert.equal(r.status, 206);
  const m = /^multipart\/byteranges; boundary=(\S+)$/.exec(header(r, 'content-type')!);
  assert.ok(m, header(r, 'content-type'));
  assert.equal(Number(header(r, 'content-length')), r.body.length);
  assert.equal(header(r, 'content-range'), undefined);
  const text = r.body.toString('latin1');
  const parts = text.split(`--${m[1]}`);
  assert.equal(parts[0], '', 'no preamble');
  assert.equal(parts[parts.length - 1], '--\r\n', 'closing delimiter');
  const seen = parts.slice(1, -1).map((p) => {
    const [head, data] = p.replace(/\r\n$/, '').split('\r\n\r\n');
    return { range: /Content-Range: (.*)/.exec(head!)![1], type: /Content-Type: (.*)/.exec(head!)![1], bytes: [...Buffer.from(data!, 'latin1')] };
  });
  assert.deepEqual(seen, [
    { range: 'bytes 0-2/256', type: 'application/octet-stream', bytes: [0, 1, 2] },
    { range: 'bytes 10-11/256', type: 'application/octet-stream', bytes: [10, 11] },
    { range: 'bytes 250-255/256', type: 'application/octet-stream', bytes: [250, 251, 252, 253, 254, 255] },
  ]);
  const head = await request(server.port, 'HEAD', '/data.bin', { Range: 'bytes=0-0,5-5' });
  assert.equal(head.status, 206);
  assert.equal(head.body.length, 0);
  assert.ok(Number(header(head, 'content-length')) > 2);
});

test('several large ranges stream whole (reads past one chunk)', { timeout: 5000 }, async () => {
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  writeFileSync(join(site.root, 'big.bin'), big);
  const r = await request(server.port, 'GET', '/big.bin', { Range: 'bytes=0-99999,150000-' });
  assert.equal(r.status, 206);
  const boundary = /boundary=(\S+)/.exec(header(r, 'content-type')!)![1]!;
  const first = r.body.indexOf('\r\n\r\n') + 4;
  assert.ok(r.body.subarray(first, first + 100_000).equals(big.subarray(0, 100_000)));
  const second = r.body.indexOf('\r\n\r\n', first + 100_000) + 4;
  assert.ok(r.body.subarray(second, second + 150_000).equals(big.subarray(150_000)));
  assert.equal(r.body.subarray(second + 150_000).toString('latin1'), `\r\n--${boundary}--\r\n`);
});

test('directory redirect, mounted prefix and fall-through to the app', { timeout: 5000 }, async () => {
  const d = await request(server.port, 'GET', '/docs');
  assert.equal(d.status, 301);
  assert.equal(header(d, 'location'), '/docs/');
  assert.equal((await request(server.port, 'GET', '/docs/')).body.toString(), '<h1>docs</h1>');
  const a = await request(server.port, 'GET', '/assets/docs/sub/page.html');
  assert.equal(a.body.toString(), '<p>page</p>');
  assert.equal(header(a, 'cache-control'), 'max-age=3600');
  assert.equal((await request(server.port, 'GET', '/api/hello')).body.toString(), 'from the app');
  assert.equal((await request(server.port, 'GET', '/caf%C3%A9%20menu.txt')).body.toString(), 'menu');
});

const attacks = [
  '/../secret.txt',
  '/../../../../../../etc/passwd',
  '/docs/../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/%2E%2E/etc/passwd',
  '/.%2e/secret.txt',
  '/..%2fsecret.txt',
  '/docs%2f..%2f..%2fsecret.txt',
  '/..%5csecret.txt',
  '/..\\secret.txt',
  '/hello.txt%00.html',
  '//etc/passwd',
  '/%2fetc%2fpasswd',
  '/escape.txt',
  '/escape-dir/secret.txt',
  '/.env',
  '/assets/../secret.txt',
  '/assets/%2e%2e/secret.txt',
  '/assets/escape.txt',
  '/C:/Windows/win.ini',
];

for (const target of attacks) {
  test(`refuses ${target} on the wire`, { timeout: 5000 }, async () => {
    const r = await rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    const text = r.body.toString('latin1');
    assert.ok(!text.includes('TOP SECRET') && !text.includes('PASSWORD') && !text.includes('root:'), 'no file content leaked');
  });
}

test('a raw NUL byte in the target is refused', { timeout: 5000 }, async () => {
  const r = await rawRequest(server.port, Buffer.from('GET /hello.txt\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'));
  assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
});

test('an absolute-form target does not escape the root', { timeout: 5000 }, async () => {
  const r = await rawRequest(server.port, 'GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  assert.ok(!r.body.toString().includes('TOP SECRET'));
});
