// wrapMultipart called directly: fields, files in memory and spilled, charsets,
// malformed bodies (400), limits (413), and temp-file cleanup in every case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapMultipart, UploadedFile, type MultipartOptions } from '../../lib/middleware/multipart.ts';
import { MultipartError, MultipartParser, boundaryOf, parseDisposition } from '../../lib/middleware/multipart-parser.ts';
import type { Request, Response } from '../../lib/types.ts';
import { B, makeRequest, multipartBody } from './middleware-support.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'httpkit-mp-test-'));
}

function post(body: Buffer, contentType = `multipart/form-data; boundary=${B}`): Request {
  return makeRequest({ requestMethod: 'post', uri: '/upload', headers: { host: 'x', 'content-type': contentType }, body });
}

async function run(body: Buffer, options: MultipartOptions, contentType?: string, inspect?: (req: Request) => unknown | Promise<unknown>) {
  let seen: Request | null = null;
  let during: unknown = null;
  const h = wrapMultipart(async (req) => {
    seen = req;
    during = inspect ? await inspect(req) : null;
    return { status: 200, body: 'ok' };
  }, options);
  const res = (await h(post(body, contentType))) as Response;
  return { res, req: seen as Request | null, during };
}

test('fields, repeated names, small files in memory, large files spilled then removed', async () => {
  const dir = tempDir();
  try {
    const big = Buffer.alloc(100_000, 7);
    const body = multipartBody([
      ['Content-Disposition: form-data; name="title"', 'Hello \u00e9'],
      ['Content-Disposition: form-data; name="tag"', 'a'],
      ['Content-Disposition: form-data; name="tag"', 'b'],
      ['Content-Disposition: form-data; name="small"; filename="s.txt"\r\nContent-Type: text/plain', 'tiny\r\n--not-the-boundary'],
      ['Content-Disposition: form-data; name="big"; filename="big.bin"\r\nContent-Type: application/octet-stream', big],
      ['Content-Disposition: form-data; name="empty"; filename=""', ''],
    ]);
    const { res, req, during } = await run(body, { tempDir: dir, spillThreshold: 1024 }, undefined, async (r) => {
      const mp = r.multipartParams as Record<string, unknown>;
      const bigFile = mp.big as UploadedFile;
      return { files: readdirSync(dir).length, exists: existsSync(bigFile.tempFile!), bytes: (await bigFile.bytes()).equals(big), small: await (mp.small as UploadedFile).text() };
    });
    assert.equal(res.status, 200);
    const mp = req!.multipartParams as Record<string, unknown>;
    assert.equal(mp.title, 'Hello \u00e9');
    assert.deepEqual(mp.tag, ['a', 'b']);
    const small = mp.small as UploadedFile;
    assert.ok(small instanceof UploadedFile);
    assert.equal(small.filename, 's.txt');
    assert.equal(small.contentType, 'text/plain');
    assert.equal(small.tempFile, null);
    assert.equal(small.size, 24);
    const bigFile = mp.big as UploadedFile;
    assert.equal(bigFile.size, 100_000);
    assert.equal(bigFile.buffer, null);
    assert.deepEqual(during, { files: 1, exists: true, bytes: true, small: 'tiny\r\n--not-the-boundary' });
    assert.equal((mp.empty as UploadedFile).size, 0);
    assert.equal((mp.empty as UploadedFile).contentType, 'application/octet-stream');
    assert.deepEqual({ ...(req!.params as object) }, { title: 'Hello \u00e9', tag: ['a', 'b'] });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(dir), [], 'temp file removed after the response');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preamble, epilogue, transport padding and quoted boundary are accepted', async () => {
  const body = Buffer.concat([
    Buffer.from('This is the preamble.\r\n'),
    multipartBody([['Content-Disposition: form-data; name="a"', '1']]).subarray(0, -2 - B.length - 4),
    Buffer.from(`--${B}--  \r\nepilogue text`),
  ]);
  const withPadding = Buffer.from(body.toString('latin1').replace(`--${B}\r\n`, `--${B}  \t\r\n`), 'latin1');
  const { res, req } = await run(withPadding, {}, `multipart/form-data; boundary="${B}"`);
  assert.equal(res.status, 200);
  assert.equal((req!.multipartParams as Record<string, string>).a, '1');
});

test('_charset_ and per-part charset decode text fields', async () => {
  const body = multipartBody([
    ['Content-Disposition: form-data; name="_charset_"', 'iso-8859-1'],
    ['Content-Disposition: form-data; name="a"', Buffer.from([0x63, 0x61, 0x66, 0xe9])],
    ['Content-Disposition: form-data; name="b"\r\nContent-Type: text/plain; charset=utf-8', 'caf\u00e9'],
  ]);
  const { req } = await run(body, {});
  const mp = req!.multipartParams as Record<string, string>;
  assert.equal(mp.a, 'caf\u00e9');
  assert.equal(mp.b, 'caf\u00e9');
});

test('filename* (RFC 8187) wins over filename; escapes in quoted names', () => {
  const d = parseDisposition(`form-data; name="f\\"q"; filename="fallback.txt"; filename*=UTF-8''%E2%82%AC+rates.txt`);
  assert.deepEqual(d, { type: 'form-data', name: 'f"q', filename: '\u20ac+rates.txt' });
  assert.throws(() => boundaryOf('multipart/form-data'), /without a boundary/);
  assert.throws(() => boundaryOf('multipart/form-data; boundary=' + 'x'.repeat(71)), /invalid multipart boundary/);
  assert.equal(boundaryOf('multipart/form-data; charset=utf-8; BOUNDARY=abc'), 'abc');
});

const malformed: [string, Buffer, string | undefined, RegExp][] = [
  ['missing boundary parameter', multipartBody([['Content-Disposition: form-data; name="a"', '1']]), 'multipart/form-data', /without a boundary/],
  ['boundary never appears', Buffer.from('just some bytes'), undefined, /does not contain its boundary/],
  ['truncated part (no closing delimiter)', multipartBody([['Content-Disposition: form-data; name="f"; filename="x"', Buffer.alloc(5000, 1)]], B, false).subarray(0, 3000), undefined, /truncated/],
  ['truncated part headers', Buffer.from(`--${B}\r\nContent-Disposition: form-data; na`), undefined, /truncated multipart part headers/],
  ['part without Content-Disposition', multipartBody([['Content-Type: text/plain', 'x']]), undefined, /without Content-Disposition/],
  ['part without a name', multipartBody([['Content-Disposition: form-data; filename="a"', 'x']]), undefined, /not form-data with a name/],
  ['garbage after the delimiter', Buffer.from(`--${B}garbage\r\n\r\n\r\n--${B}--`), undefined, /malformed multipart delimiter/],
  ['header line without a colon', multipartBody([['Content-Disposition: form-data; name="a"\r\nnonsense', 'x']]), undefined, /malformed multipart part header/],
];

for (const [name, body, ct, message] of malformed) {
  test(`malformed: ${name} -> 400, handler not called, no temp files`, async () => {
    const dir = tempDir();
    try {
      // A spilled file before the bad part must not be written either.
      const prefix = multipartBody([['Content-Disposition: form-data; name="early"; filename="e.bin"', Buffer.alloc(4096, 2)]], B, false);
      const full = body.toString('latin1').startsWith(`--${B}`) ? Buffer.concat([prefix, body]) : body;
      const { res, req } = await run(full, { tempDir: dir, spillThreshold: 16 }, ct);
      assert.equal(res.status, 400);
      assert.match(String(res.body), message);
      assert.equal(req, null);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const limits: [string, MultipartOptions, Buffer, RegExp][] = [
  ['file larger than maxFileSize', { maxFileSize: 1000 }, multipartBody([['Content-Disposition: form-data; name="f"; filename="a"', Buffer.alloc(1001)]]), /file "a" larger than 1000/],
  ['field larger than maxFieldSize', { maxFieldSize: 10 }, multipartBody([['Content-Disposition: form-data; name="t"', 'x'.repeat(11)]]), /field "t" larger than 10/],
  ['more parts than maxParts', { maxParts: 2 }, multipartBody([1, 2, 3].map((i) => [`Content-Disposition: form-data; name="p${i}"`, 'v'] as [string, string])), /more than 2 multipart parts/],
  ['body larger than maxTotalSize', { maxTotalSize: 100 }, multipartBody([['Content-Disposition: form-data; name="t"', 'x'.repeat(200)]]), /larger than 100 bytes/],
];

for (const [name, options, body, message] of limits) {
  test(`limit: ${name} -> 413, no temp files`, async () => {
    const dir = tempDir();
    try {
      const withSpill = Buffer.concat([multipartBody([['Content-Disposition: form-data; name="early"; filename="e.bin"', Buffer.alloc(50, 2)]], B, false), body]);
      const { res, req } = await run(options.maxTotalSize ? body : withSpill, { ...options, tempDir: dir, spillThreshold: 16 });
      assert.equal(res.status, 413);
      assert.match(String(res.body), message);
      assert.equal(req, null);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a failing handler still removes temp files', async () => {
  const dir = tempDir();
  try {
    const h = wrapMultipart(() => {
      throw new Error('boom');
    }, { tempDir: dir, spillThreshold: 1 });
    await assert.rejects(async () => h(post(multipartBody([['Content-Disposition: form-data; name="f"; filename="a"', 'abcdef']]))), /boom/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stream body built from an upload keeps the temp file until the stream closes', async () => {
  const dir = tempDir();
  try {
    const h = wrapMultipart((req) => ({ status: 200, body: ((req.multipartParams as Record<string, UploadedFile>).f).stream() }), { tempDir: dir, spillThreshold: 1 });
    const res = (await h(post(multipartBody([['Content-Disposition: form-data; name="f"; filename="a"', 'stream me']])))) as Response;
    assert.equal(readdirSync(dir).length, 1, 'still there while the body is unread');
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
    assert.equal(Buffer.concat(chunks).toString(), 'stream me');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('non-multipart requests pass through untouched', async () => {
  const h = wrapMultipart((req) => ({ status: 200, body: String(req.multipartParams) }));
  const res = (await h(makeRequest({ requestMethod: 'post', headers: { host: 'x', 'content-type': 'text/plain' }, body: Buffer.from('x') }))) as Response;
  assert.equal(res.body, 'undefined');
});

test('every truncation and single-byte corruption gives parts or a MultipartError, never a crash', () => {
  const body = multipartBody([
    ['Content-Disposition: form-data; name="a"', 'alpha'],
    ['Content-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream', Buffer.from([0, 13, 10, 45, 45, 255])],
    ['Content-Disposition: form-data; name="b"', ''],
  ]);
  const parseAll = (buf: Buffer): number => {
    const p = new MultipartParser(buf, B, 8192);
    let n = 0;
    while (p.next() !== null) n++;
    return n;
  };
  assert.equal(parseAll(body), 3);
  let errors = 0;
  for (let cut = 0; cut < body.length; cut++) {
    try {
      parseAll(body.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof MultipartError, `cut ${cut}: ${String(err)}`);
      assert.equal(err.status, 400);
      errors++;
    }
  }
  assert.ok(errors > body.length / 2, 'most truncations are detected');
  for (let i = 0; i < body.length; i++) {
    for (const byte of [0x00, 0x0d, 0x0a, 0x2d, 0x22]) {
      const copy = Buffer.from(body);
      copy[i] = byte;
      try {
        parseAll(copy);
      } catch (err) {
        assert.ok(err instanceof MultipartError, `byte ${i}=${byte}: ${String(err)}`);
      }
    }
  }
});
