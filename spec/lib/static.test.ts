// serveStatic / wrapStatic called directly: headers, validators, ranges, index
// files and every refused path. (Over real sockets: static-socket.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { safeSegments, serveStatic, wrapStatic } from '../../lib/static.ts';
import { MAX_RANGES, parseRanges } from '../../lib/static-ranges.ts';
import { mimeType } from '../../lib/mime.ts';
import type { FileBody, Request, Response } from '../../lib/types.ts';
import { makeRequest, makeSite } from './middleware-support.ts';

const site = makeSite();
after(site.cleanup);
const serve = serveStatic(site.root);
const get = (uri: string, headers: Record<string, string> = {}, extra: Partial<Request> = {}) =>
  serve(makeRequest({ uri, headers: { host: 'x', ...headers }, ...extra })) as Promise<Response>;
const fileOf = (r: Response) => r.body as FileBody;

test('serves a file with type, validators and Accept-Ranges', async () => {
  const r = await get('/hello.txt');
  assert.equal(r.status, 200);
  assert.equal(r.headers!['content-type'], 'text/plain; charset=utf-8');
  assert.match(String(r.headers!.etag), /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal(r.headers!['last-modified'], new Date(Math.floor(statSync(join(site.root, 'hello.txt')).mtimeMs / 1000) * 1000).toUTCString());
  assert.equal(r.headers!['accept-ranges'], 'bytes');
  assert.deepEqual(fileOf(r), { kind: 'file', path: realpathSync(join(site.root, 'hello.txt')) });
  assert.equal((await get('/app.js')).headers!['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await get('/style.CSS')).headers!['content-type'], 'text/css; charset=utf-8');
  assert.equal((await get('/data.bin')).headers!['content-type'], 'application/octet-stream');
  assert.equal((await get('/caf%C3%A9%20menu.txt')).status, 200);
  assert.equal((await get('/inside-link.txt')).status, 200, 'symlinks inside the root are fine');
});

test('mime table', () => {
  assert.equal(mimeType('a/b.PNG'), 'image/png');
  assert.equal(mimeType('x.woff2'), 'font/woff2');
  assert.equal(mimeType('x.svg'), 'image/svg+xml; charset=utf-8');
  assert.equal(mimeType('dir.d/noext'), 'application/octet-stream');
  assert.equal(mimeType('x.constructor'), 'application/octet-stream');
});

test('conditional requests: If-None-Match and If-Modified-Since give 304', async () => {
  const first = await get('/hello.txt');
  const etag = String(first.headers!.etag);
  const lm = String(first.headers!['last-modified']);
  const a = await get('/hello.txt', { 'if-none-match': `"nope", ${etag}` });
  assert.equal(a.status, 304);
  assert.equal(a.body, null);
  assert.equal(a.headers!.etag, etag);
  assert.equal((await get('/hello.txt', { 'if-none-match': `W/${etag}` })).status, 304, 'weak comparison');
  assert.equal((await get('/hello.txt', { 'if-none-match': '*' })).status, 304);
  assert.equal((await get('/hello.txt', { 'if-none-match': '"other"' })).status, 200);
  assert.equal((await get('/hello.txt', { 'if-modified-since': lm })).status, 304);
  assert.equal((await get('/hello.txt', { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 200);
  assert.equal((await get('/hello.txt', { 'if-modified-since': 'garbage' })).status, 200);
  assert.equal((await get('/hello.txt', { 'if-none-match': '"other"', 'if-modified-since': lm })).status, 200, 'If-None-Match takes precedence');
});

test('ranges: 206 with Content-Range, 416 when unsatisfiable, ignored when malformed', async () => {
  const r = await get('/data.bin', { range: 'bytes=10-19' });
  assert.equal(r.status, 206);
  assert.equal(r.headers!['content-range'], 'bytes 10-19/256');
  assert.equal(fileOf(r).start, 10);
  assert.equal(fileOf(r).end, 19);
  assert.equal((await get('/data.bin', { range: 'bytes=-16' })).headers!['content-range'], 'bytes 240-255/256');
  assert.equal((await get('/data.bin', { range: 'bytes=250-' })).headers!['content-range'], 'bytes 250-255/256');
  assert.equal((await get('/data.bin', { range: 'bytes=250-9999' })).headers!['content-range'], 'bytes 250-255/256');
  const bad = await get('/data.bin', { range: 'bytes=256-' });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers!['content-range'], 'bytes */256');
  assert.equal((await get('/empty.txt', { range: 'bytes=0-' })).status, 416);
  assert.equal((await get('/data.bin', { range: 'bytes=-0' })).status, 416);
  assert.equal((await get('/data.bin', { range: 'bytes=5-1' })).status, 200);
  const multi = await get('/data.bin', { range: 'bytes=0-1,5-6' });
  assert.equal(multi.status, 206);
  assert.match(String(multi.headers!['content-type']), /^multipart\/byteranges; boundary=[0-9a-f]{24}$/);
  assert.equal((await get('/data.bin', { range: 'bytes=0-1,2-3' })).headers!['content-range'], 'bytes 0-3/256', 'adjacent ranges merge into one');
  assert.equal((await get('/data.bin', { range: 'items=0-1' })).status, 200);
  const etag = String((await get('/data.bin')).headers!.etag);
  assert.equal((await get('/data.bin', { range: 'bytes=0-0', 'if-range': etag })).status, 206);
  assert.equal((await get('/data.bin', { range: 'bytes=0-0', 'if-range': '"stale"' })).status, 200);
  assert.deepEqual(parseRanges('bytes=0-0', 1), [[0, 0]]);
  assert.equal(parseRanges('bytes=-', 10), null);
  assert.equal((await serveStatic(site.root, { ranges: false })(makeRequest({ uri: '/data.bin', headers: { range: 'bytes=0-1' } })) as Response).status, 200);
});

test('directories: redirect to the slash URL, then index.html', async () => {
  const r = await get('/docs', {}, { queryString: 'x=1' });
  assert.equal(r.status, 301);
  assert.equal(r.headers!.location, '/docs/?x=1');
  const d = await get('/docs/');
  assert.equal(d.status, 200);
  assert.equal(fileOf(d).path, realpathSync(join(site.root, 'docs', 'index.html')));
  assert.equal((await get('/')).status, 200);
  assert.equal((await get('/empty-dir/')).status, 404);
  assert.equal((await serveStatic(site.root, { index: false })(makeRequest({ uri: '/docs/' })) as Response).status, 404);
});

const refused: [string, number][] = [
  ['/../secret.txt', 400],
  ['/docs/../../secret.txt', 400],
  ['/%2e%2e/secret.txt', 400],
  ['/%2E%2E/secret.txt', 400],
  ['/.%2e/secret.txt', 400],
  ['/docs%2f..%2f..%2fsecret.txt', 400],
  ['/..%2fsecret.txt', 400],
  ['/..%5csecret.txt', 400],
  ['/..\\secret.txt', 400],
  ['/hello.txt%00.html', 400],
  ['/hello.txt\0', 400],
  ['//etc/passwd', 400],
  ['/%2fetc/passwd', 400],
  ['/C:/Windows/win.ini', 400],
  ['/./hello.txt', 400],
  ['/%zz', 400],
  ['/.env', 404],
  ['/escape.txt', 404],
  ['/escape-dir/secret.txt', 404],
  ['/escape-dir', 404],
  ['/escape-dir/', 404],
  ['/missing.txt', 404],
  ['/hello.txt/more', 404],
];

for (const [uri, status] of refused) {
  test(`refuses ${JSON.stringify(uri)} with ${status}`, async () => {
    const r = await get(uri);
    assert.equal(r.status, status);
    assert.equal(typeof r.body, 'string', 'no file body');
  });
}

test('safeSegments decodes ordinary names', () => {
  assert.deepEqual(safeSegments('/a%20b/c/'), ['a b', 'c']);
  assert.equal(safeSegments('/a/../b'), 'bad-path');
});

test('dotfiles: allow; cache control; prefix', async () => {
  const s = serveStatic(site.root, { dotfiles: 'allow', maxAge: 60, prefix: '/assets/' });
  const r = (await s(makeRequest({ uri: '/assets/.env' }))) as Response;
  assert.equal(r.status, 200);
  assert.equal(r.headers!['cache-control'], 'max-age=60');
  assert.equal(((await s(makeRequest({ uri: '/hello.txt' }))) as Response).status, 404, 'outside the prefix');
  assert.equal(((await s(makeRequest({ uri: '/assetsx/hello.txt' }))) as Response).status, 404);
  assert.equal(((await s(makeRequest({ uri: '/assets/hello.txt' }))) as Response).status, 200);
});

test('methods: serveStatic answers 405 to POST; wrapStatic falls through', async () => {
  const p = (await serve(makeRequest({ uri: '/hello.txt', requestMethod: 'post' }))) as Response;
  assert.equal(p.status, 405);
  assert.equal(p.headers!.allow, 'GET, HEAD');
  assert.equal(((await serve(makeRequest({ uri: '/hello.txt', requestMethod: 'head' }))) as Response).status, 200);
  const app = wrapStatic(() => ({ status: 200, body: 'app' }), site.root);
  assert.equal(((await app(makeRequest({ uri: '/hello.txt' }))) as Response).status, 200);
  assert.equal(((await app(makeRequest({ uri: '/hello.txt' }))) as Response).body !== 'app', true);
  assert.equal(((await app(makeRequest({ uri: '/api/x' }))) as Response).body, 'app');
  assert.equal(((await app(makeRequest({ uri: '/hello.txt', requestMethod: 'post' }))) as Response).body, 'app');
  assert.equal(((await app(makeRequest({ uri: '/../secret.txt' }))) as Response).status, 400, 'traversal is still refused');
});

test('random raw paths: safeSegments never throws and never yields a dangerous segment', () => {
  const alphabet = ['/', '.', '..', '%2e', '%2E', '%2f', '%5c', '\\', '%00', '\0', 'a', 'C:', '%', '%zz', '%C3%A9'];
  let seed = 777;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let i = 0; i < 20000; i++) {
    let p = '/';
    const len = rand(10);
    for (let j = 0; j < len; j++) p += alphabet[rand(alphabet.length)];
    const segs = safeSegments(p);
    if (segs === 'bad-path') continue;
    for (const s of segs) {
      assert.ok(s !== '' && s !== '.' && s !== '..', `${JSON.stringify(p)} -> ${JSON.stringify(s)}`);
      assert.ok(!/[/\\\0]/.test(s) && !/^[A-Za-z]:/.test(s), `${JSON.stringify(p)} -> ${JSON.stringify(s)}`);
    }
  }
});

test('parseRanges: lists, merging, unsatisfiable members, limits', () => {
  assert.deepEqual(parseRanges('bytes=50-59, 0-9,-5', 100), [[0, 9], [50, 59], [95, 99]]);
  assert.deepEqual(parseRanges('bytes=0-10,5-20,21-30', 100), [[0, 30]]);
  assert.deepEqual(parseRanges('bytes=0-0,500-600', 100), [[0, 0]], 'unsatisfiable members dropped');
  assert.equal(parseRanges('bytes=500-600,700-', 100), 'unsatisfiable');
  assert.deepEqual(parseRanges('BYTES = 1-2 , , 4-5', 100), [[1, 2], [4, 5]]);
  assert.equal(parseRanges('bytes=1-2,x', 100), null);
  assert.equal(parseRanges('bytes=5-1', 100), null);
  assert.equal(parseRanges('chars=1-2', 100), null);
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
  assert.equal(parseRanges(`bytes=${many}`, 1000), null, 'too many ranges: whole file');
  const overlapping = Array.from({ length: 50 }, () => '0-99').join(',');
  assert.deepEqual(parseRanges(`bytes=${overlapping}`, 1000), [[0, 99]], 'repeats merge');
});
