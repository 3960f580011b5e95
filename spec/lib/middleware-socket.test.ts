// Params, JSON, cookies and multipart middleware behind a real server on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServer, type Server } from '../../lib/server.ts';
import { GET, POST, routes } from '../../lib/router.ts';
import { wrap } from '../../lib/middleware/wrap.ts';
import { wrapParams } from '../../lib/middleware/params.ts';
import { json, wrapJson } from '../../lib/middleware/json.ts';
import { wrapCookies } from '../../lib/middleware/cookies.ts';
import { wrapMultipart, type UploadedFile } from '../../lib/middleware/multipart.ts';
import type { Handler, Request } from '../../lib/types.ts';
import { B, header, multipartBody, rawRequest, request, requestBytes } from './middleware-support.ts';

let server: Server;
const uploads = mkdtempSync(join(tmpdir(), 'httpkit-mp-socket-'));

before(async () => {
  const app = routes(
    GET('/search', (req: Request) => json({ params: req.params, query: req.queryParams })),
    POST('/form/:id', (req: Request) => json({ params: req.params, form: req.formParams })),
    POST('/json', (req: Request) => json({ got: req.json })),
    GET('/cookies', (req: Request) => ({
      status: 200,
      body: `you are ${(req.cookies as Record<string, string>).user ?? 'nobody'}`,
      cookies: { seen: '1', session: { value: 'abc def', httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 60 } },
    })),
    POST('/upload', async (req: Request) => {
      const mp = req.multipartParams as Record<string, string | UploadedFile>;
      const f = mp.file as UploadedFile;
      const bytes = await f.bytes();
      return json({ title: mp.title, filename: f.filename, size: f.size, spilled: f.tempFile !== null, sum: bytes.reduce((a, b) => a + b, 0) });
    }),
  );
  const handler: Handler = wrap(app, wrapCookies, wrapParams, wrapJson, (h) => wrapMultipart(h, { tempDir: uploads, spillThreshold: 1024, maxFileSize: 64 * 1024 }));
  server = await runServer(handler, { port: 0, ip: '127.0.0.1' });
});

after(async () => {
  await server.stop();
  rmSync(uploads, { recursive: true, force: true });
});

const bodyJson = (r: { body: Buffer }) => JSON.parse(r.body.toString('utf8'));

test('query params over the wire', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/search?q=caf%C3%A9+au+lait&tag=a&tag=b&bad=%E0%A4%A');
  assert.equal(r.status, 200);
  const b = bodyJson(r);
  assert.deepEqual(b.query, { q: 'caf\u00e9 au lait', tag: ['a', 'b'], bad: '\ufffd%A' });
  assert.deepEqual(b.params, b.query);
});

test('urlencoded form plus path params', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'POST', '/form/7?x=1', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=Ann+Lee&id=spoof&x=2');
  const b = bodyJson(r);
  assert.deepEqual(b.form, { name: 'Ann Lee', id: 'spoof', x: '2' });
  assert.deepEqual(b.params, { x: '2', name: 'Ann Lee', id: '7' });
});

test('JSON body parsed; malformed JSON is a 400', { timeout: 5000 }, async () => {
  const ok = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json' }, '{"list":[1,2,3]}');
  assert.deepEqual(bodyJson(ok), { got: { list: [1, 2, 3] } });
  const bad = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json' }, '{"list":[1,2');
  assert.equal(bad.status, 400);
  assert.match(bad.body.toString(), /malformed JSON/);
});

test('cookies in, Set-Cookie lines out', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/cookies', { Cookie: 'user=ann; theme=dark' });
  assert.equal(r.body.toString(), 'you are ann');
  assert.deepEqual(r.headers['set-cookie'], ['seen=1', 'session=abc%20def; Max-Age=60; Path=/; HttpOnly; SameSite=Strict']);
});

test('multipart upload: fields and a spilled file, temp file gone afterwards', { timeout: 5000 }, async () => {
  const data = Buffer.alloc(5000, 3);
  const body = multipartBody([
    ['Content-Disposition: form-data; name="title"', 'My photo'],
    ['Content-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg', data],
  ]);
  const r = await request(server.port, 'POST', '/upload', { 'Content-Type': `multipart/form-data; boundary=${B}` }, body);
  assert.equal(r.status, 200);
  assert.deepEqual(bodyJson(r), { title: 'My photo', filename: 'photo.jpg', size: 5000, spilled: true, sum: 15000 });
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(readdirSync(uploads), []);
});

const badUploads: [string, string, Buffer, number][] = [
  ['missing boundary', 'multipart/form-data', multipartBody([['Content-Disposition: form-data; name="file"; filename="a"', Buffer.alloc(3000)]]), 400],
  ['truncated part', `multipart/form-data; boundary=${B}`, multipartBody([['Content-Disposition: form-data; name="file"; filename="a"', Buffer.alloc(3000)]], B, false).subarray(0, 2000), 400],
  ['oversized file', `multipart/form-data; boundary=${B}`, multipartBody([['Content-Disposition: form-data; name="file"; filename="a"', Buffer.alloc(70 * 1024)]]), 413],
];

for (const [name, ct, body, status] of badUploads) {
  test(`multipart ${name}: ${status} over the wire, no temp files`, { timeout: 5000 }, async () => {
    const r = await rawRequest(server.port, requestBytes('POST', '/upload', { 'Content-Type': ct }, body));
    assert.equal(r.status, status);
    assert.match(header(r, 'content-type')!, /^text\/plain/);
    assert.ok(r.body.toString().length > 10, 'a readable reason');
    assert.deepEqual(readdirSync(uploads), []);
  });
}
