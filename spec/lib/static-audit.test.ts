// serveStatic against RFC 9110 sections 13-14 and nginx's answers for the same files:
// preconditions (If-Match / If-Unmodified-Since give 412, invalid dates are ignored),
// ranges on empty files, and file names used as directories. Real sockets, raw bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runServer, type Server } from '../../lib/server.ts';
import { serveStatic } from '../../lib/static.ts';
import { header, request, makeSite } from './middleware-support.ts';

const site = makeSite();
let server: Server;
let mounted: Server;
const MTIME = new Date('2026-01-01T00:00:00Z');
const LAST_MODIFIED = 'Thu, 01 Jan 2026 00:00:00 GMT';

before(async () => {
  writeFileSync(join(site.root, 'dated.txt'), 'hello world\n');
  utimesSync(join(site.root, 'dated.txt'), MTIME, MTIME);
  server = await runServer(serveStatic(site.root), { port: 0, ip: '127.0.0.1' });
  mounted = await runServer(serveStatic(site.root, { prefix: '/assets' }), { port: 0, ip: '127.0.0.1' });
});

after(async () => {
  await server.stop();
  await mounted.stop();
  site.cleanup();
});

// RFC 9110 section 13.1.1: If-Match uses the strong comparison; a failed precondition is 412.
test('If-Match: 412 unless a listed ETag matches strongly or the value is *', { timeout: 5000 }, async () => {
  const etag = header(await request(server.port, 'GET', '/dated.txt'), 'etag')!;
  const miss = await request(server.port, 'GET', '/dated.txt', { 'If-Match': '"nope"' });
  assert.equal(miss.status, 412);
  assert.ok(!miss.body.includes('hello'));
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Match': `"a", ${etag}` })).status, 200);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Match': '*' })).status, 200);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Match': `W/${etag}` })).status, 412, 'weak tags never match If-Match');
  assert.equal((await request(server.port, 'HEAD', '/dated.txt', { 'If-Match': '"nope"' })).status, 412);
  // The precondition is checked before the range (section 13.2.2).
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Match': '"nope"', Range: 'bytes=0-1' })).status, 412);
  const ok = await request(server.port, 'GET', '/dated.txt', { 'If-Match': etag, Range: 'bytes=0-1' });
  assert.equal(ok.status, 206);
  assert.equal(ok.body.toString(), 'he');
});

// RFC 9110 section 13.1.4: 412 when modified after the date; ignored with If-Match or an invalid date.
test('If-Unmodified-Since: 412 when modified since, ignored when invalid or under If-Match', { timeout: 5000 }, async () => {
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status, 412);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Unmodified-Since': LAST_MODIFIED })).status, 200);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Unmodified-Since': 'Sunday, 01-Jan-90 00:00:00 GMT' })).status, 412);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Unmodified-Since': 'garbage 2001' })).status, 200);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT', 'If-Match': '*' })).status, 200);
});

// RFC 9110 section 13.1.3: an If-Modified-Since that is not a valid HTTP-date is ignored.
test('If-Modified-Since: only HTTP-dates count (IMF-fixdate, RFC 850, asctime)', { timeout: 5000 }, async () => {
  for (const junk of ['2099', '4102444800', 'Thu, 01 Jan 2099', 'tomorrow 2099']) {
    const r = await request(server.port, 'GET', '/dated.txt', { 'If-Modified-Since': junk });
    assert.equal(r.status, 200, junk);
    assert.equal(r.body.toString(), 'hello world\n');
  }
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Modified-Since': LAST_MODIFIED })).status, 304);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Modified-Since': 'Thursday, 01-Jan-26 00:00:00 GMT' })).status, 304);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Modified-Since': 'Thu Jan  1 00:00:00 2026' })).status, 304);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { 'If-Modified-Since': 'Wed Dec 31 23:59:59 2025' })).status, 200);
  // If-Range takes an HTTP-date too: a non-date never matches.
  assert.equal((await request(server.port, 'GET', '/dated.txt', { Range: 'bytes=0-1', 'If-Range': LAST_MODIFIED })).status, 206);
  assert.equal((await request(server.port, 'GET', '/dated.txt', { Range: 'bytes=0-1', 'If-Range': '2026' })).status, 200);
});

// RFC 9110 section 14.1.1: on an empty file only a suffix range is satisfiable, and
// no 206 can carry zero bytes: the whole (empty) file, as nginx answers.
test('empty file: bytes=-N gives 200 with no body, bytes=0- gives 416', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/empty.txt', { Range: 'bytes=-5' });
  assert.equal(r.status, 200);
  assert.equal(header(r, 'content-length'), '0');
  const u = await request(server.port, 'GET', '/empty.txt', { Range: 'bytes=0-' });
  assert.equal(u.status, 416);
  assert.equal(header(u, 'content-range'), 'bytes */0');
});

// nginx answers 404: a file is not a directory.
test('a file URL with a trailing slash is not found', { timeout: 5000 }, async () => {
  assert.equal((await request(server.port, 'GET', '/hello.txt/')).status, 404);
  assert.equal((await request(server.port, 'GET', '/docs/index.html/')).status, 404);
  assert.equal((await request(server.port, 'GET', '/docs/')).body.toString(), '<h1>docs</h1>');
});

// The mount point is the root directory: without its slash it redirects like any
// other directory, so relative links in its index resolve under the prefix.
test('a prefix without its trailing slash redirects to it', { timeout: 5000 }, async () => {
  const r = await request(mounted.port, 'GET', '/assets?v=1');
  assert.equal(r.status, 301);
  assert.equal(header(r, 'location'), '/assets/?v=1');
  assert.equal((await request(mounted.port, 'GET', '/assets/')).body.toString(), '<h1>home</h1>');
  assert.equal((await request(mounted.port, 'GET', '/assets/hello.txt')).body.toString(), 'hello world\n');
  assert.equal((await request(mounted.port, 'GET', '/assetsx')).status, 404);
});

// RFC 9110 section 14.1.1: range-set = 1#range-spec. With no range at all the header is
// malformed and ignored (nginx also answers `bytes=` with the whole file).
test('a Range with an empty range-set is ignored: 200 with the whole file', { timeout: 5000 }, async () => {
  for (const range of ['bytes=', 'bytes=,', 'bytes= , ']) {
    const r = await request(server.port, 'GET', '/dated.txt', { Range: range });
    assert.equal(r.status, 200, range);
    assert.equal(r.body.toString(), 'hello world\n');
  }
  assert.equal((await request(server.port, 'GET', '/dated.txt', { Range: 'bytes=0-1,' })).status, 206);
});
