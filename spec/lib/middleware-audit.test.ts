// Middleware against RFC 8259 and RFC 7578 with real bytes on a real socket: JSON
// bodies must be UTF-8, and Content-Disposition parameters may have spaces around `=`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runServer, type Server } from '../../lib/server.ts';
import { POST, routes } from '../../lib/router.ts';
import { json, wrapJson } from '../../lib/middleware/json.ts';
import { wrapMultipart, type UploadedFile } from '../../lib/middleware/multipart.ts';
import { parseUrlEncoded } from '../../lib/middleware/urlencoded.ts';
import { setCookie } from '../../lib/middleware/cookies.ts';
import type { Request } from '../../lib/types.ts';
import { B, request } from './middleware-support.ts';

let server: Server;

before(async () => {
  const app = routes(
    POST('/json', wrapJson((req: Request) => json({ got: req.json }))),
    POST(
      '/upload',
      wrapMultipart((req: Request) => {
        const mp = req.multipartParams as Record<string, string | UploadedFile>;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(mp)) {
          const v = mp[k]!;
          out[k] = typeof v === 'string' ? v : { filename: v.filename, size: v.size };
        }
        return json(out);
      }),
    ),
  );
  server = await runServer(app, { port: 0, ip: '127.0.0.1' });
});

after(async () => {
  await server.stop();
});

// RFC 8259 section 8.1: JSON text is UTF-8; bytes that are not UTF-8 are a malformed body.
test('JSON: invalid UTF-8 answers 400, a leading BOM is still tolerated', { timeout: 5000 }, async () => {
  const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const r = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json' }, bad);
  assert.equal(r.status, 400);
  assert.match(r.body.toString(), /malformed JSON/);
  const overlong = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
  assert.equal((await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json' }, overlong)).status, 400);
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"\u00e9"}', 'utf8')]);
  const ok = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json' }, bom);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body.toString()), { got: { a: '\u00e9' } });
});

// RFC 2183 / RFC 822: white space may surround `=` in a parameter; the quotes still delimit the value.
test('multipart: Content-Disposition parameters with spaces around =', { timeout: 5000 }, async () => {
  const body = Buffer.from(
    `--${B}\r\nContent-Disposition: form-data; name = "field"\r\n\r\nv1\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name= "doc"; filename =\t"a;b.txt"\r\n\r\nabc\r\n--${B}--\r\n`,
    'latin1',
  );
  const r = await request(server.port, 'POST', '/upload', { 'Content-Type': `multipart/form-data; boundary=${B}` }, body);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body.toString()), { field: 'v1', doc: { filename: 'a;b.txt', size: 3 } });
});

// RFC 8259 section 11 defines no charset for JSON; a body announced in another one is
// not something the server can read (RFC 9110 section 15.5.16: 415).
test('JSON: a charset other than UTF-8 answers 415, UTF-8 labels pass', { timeout: 5000 }, async () => {
  const latin1 = Buffer.from('{"a":"\u00e9"}', 'latin1');
  const r = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json; charset=ISO-8859-1' }, latin1);
  assert.equal(r.status, 415);
  assert.match(r.body.toString(), /iso-8859-1/);
  assert.equal((await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json; charset=utf-16' }, '{}')).status, 415);
  const ok = await request(server.port, 'POST', '/json', { 'Content-Type': 'application/json; charset="UTF-8"' }, '{"b":1}');
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body.toString()), { got: { b: 1 } });
});

// The header-size limit holds whether the part's header block ends or never does;
// a short unterminated block is a truncated body.
test('multipart: part headers over maxHeaderSize answer 400, terminated or not', { timeout: 5000 }, async () => {
  const ct = { 'Content-Type': `multipart/form-data; boundary=${B}` };
  const long = 'X-Pad: ' + 'a'.repeat(9000);
  const ended = `--${B}\r\nContent-Disposition: form-data; name="f"\r\n${long}\r\n\r\nv\r\n--${B}--\r\n`;
  const r1 = await request(server.port, 'POST', '/upload', ct, ended);
  assert.equal(r1.status, 400);
  assert.match(r1.body.toString(), /headers too large/);
  const r2 = await request(server.port, 'POST', '/upload', ct, `--${B}\r\nContent-Disposition: form-data; name="f"\r\n${long}`);
  assert.equal(r2.status, 400);
  assert.match(r2.body.toString(), /headers too large/);
  const r3 = await request(server.port, 'POST', '/upload', ct, `--${B}\r\nContent-Disposition: form-data; name="f"\r\n`);
  assert.equal(r3.status, 400);
  assert.match(r3.body.toString(), /truncated multipart part headers/);
  const fits = `--${B}\r\nContent-Disposition: form-data; name="f"\r\nX-Pad: ${'a'.repeat(8000)}\r\n\r\nv\r\n--${B}--\r\n`;
  assert.equal((await request(server.port, 'POST', '/upload', ct, fits)).status, 200);
});

// `a&a&a...` without any `=`: each pair used to search for `=` to the end of the text,
// so a large form cost (pairs x size). Counted on a string stand-in: the work is
// linear in the text whatever the pairs.
test('parseUrlEncoded looks for = in linear work on a form of many bare keys', () => {
  const text = 'a&'.repeat(5000) + 'z=1';
  let scanned = 0;
  const counting = {
    length: text.length,
    charCodeAt: (i: number) => text.charCodeAt(i),
    slice: (a?: number, b?: number) => text.slice(a, b),
    indexOf(sub: string, from = 0) {
      const at = text.indexOf(sub, from);
      scanned += (at === -1 ? text.length : at) - from;
      return at;
    },
  } as unknown as string;
  const map = parseUrlEncoded(counting, 'utf-8', 10_000);
  assert.equal((map.a as string[]).length, 5000);
  assert.equal(map.z, '1');
  assert.ok(scanned <= 3 * text.length, `scanned ${scanned} chars for a ${text.length}-char form`);
});

// RFC 6265bis section 4.1.3: user agents match the cookie prefixes case-insensitively,
// so `__SECURE-` / `__host-` names carry the same requirements.
test('setCookie: the __Secure- and __Host- requirements hold in any letter case', () => {
  assert.throws(() => setCookie('__SECURE-n', 'v'), /prefix requires secure/);
  assert.throws(() => setCookie('__host-n', 'v', { secure: true, path: '/a' }), /__Host-/);
  assert.throws(() => setCookie('__HOST-n', 'v', { secure: true, path: '/', domain: 'example.com' }), /__Host-/);
  assert.equal(setCookie('__HoSt-n', 'v', { secure: true, path: '/' }), '__HoSt-n=v; Path=/; Secure');
  assert.equal(setCookie('_Secure-n', 'v'), '_Secure-n=v');
});
