// Content-Encoding: gzip, deflate (zlib and raw), br; error statuses decoded; corrupt,
// truncated and bomb bodies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { createClient } from '../../client/index.ts';
import { rawServer, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

const text = 'compressible text '.repeat(500);
const encoded: Record<string, Buffer> = {
  gzip: zlib.gzipSync(text),
  deflate: zlib.deflateSync(text),
  'deflate-raw': zlib.deflateRawSync(text),
  br: zlib.brotliCompressSync(text),
};

function response(status: number, coding: string, body: Buffer, chunked = false): Buffer {
  const headers = `HTTP/1.1 ${status} X\r\nContent-Type: text/plain\r\nContent-Encoding: ${coding}\r\n`;
  if (!chunked) return Buffer.concat([Buffer.from(`${headers}Content-Length: ${body.length}\r\n\r\n`), body]);
  const half = Math.floor(body.length / 2);
  return Buffer.concat([
    Buffer.from(`${headers}Transfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n`), body.subarray(0, half),
    Buffer.from(`\r\n${(body.length - half).toString(16)}\r\n`), body.subarray(half), Buffer.from('\r\n0\r\n\r\n'),
  ]);
}

async function serve(fn: (target: string) => Buffer): Promise<RawServer> {
  const s = await rawServer((req, socket) => socket.write(fn(req.target)));
  servers.push(s);
  return s;
}

test('gzip, deflate (zlib-wrapped and raw) and br bodies are decoded, with Content-Length or chunked', T, async () => {
  const s = await serve((t) => {
    const [, coding, framing] = t.split('/');
    const header = coding === 'deflate-raw' ? 'deflate' : coding!;
    return response(200, header, encoded[coding!]!, framing === 'chunked');
  });
  for (const coding of Object.keys(encoded)) {
    for (const framing of ['length', 'chunked']) {
      const r = await client.request({ url: `${s.url}/${coding}/${framing}` });
      assert.equal(r.error, undefined, `${coding} ${framing}`);
      assert.equal(r.body, text, `${coding} ${framing}`);
    }
  }
  assert.equal(s.requests[0]!.headers['accept-encoding'], 'gzip, deflate, br');
  assert.equal(s.connections, 1, 'decoded responses keep the connection');
});

test('error statuses are decoded too', T, async () => {
  const s = await serve(() => response(500, 'gzip', zlib.gzipSync('server broke')));
  const r = await client.request({ url: s.url });
  assert.equal(r.status, 500);
  assert.equal(r.body, 'server broke');
});

test('HEAD responses with Content-Encoding are not decoded', T, async () => {
  const s = await serve(() => Buffer.from('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 30\r\n\r\n'));
  const r = await client.request({ url: s.url, method: 'HEAD' });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
});

test('an empty encoded body is an empty body', T, async () => {
  const s = await serve(() => Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n'));
  const r = await client.request({ url: s.url });
  assert.equal(r.error, undefined);
  assert.equal(r.body, '');
});

test('corrupt and truncated compressed bodies are ERR_DECOMPRESS', T, async () => {
  const gz = encoded.gzip!;
  const corrupt = Buffer.from(gz);
  corrupt[20] ^= 0xff;
  corrupt[21] ^= 0xff;
  const s = await serve((t) => {
    if (t === '/corrupt') return response(200, 'gzip', corrupt);
    if (t === '/truncated') return response(200, 'gzip', gz.subarray(0, gz.length - 10));
    if (t === '/truncated-br') return response(200, 'br', encoded.br!.subarray(0, encoded.br!.length - 5));
    return response(200, 'gzip', Buffer.from('not gzip at all'));
  });
  for (const path of ['/corrupt', '/truncated', '/truncated-br', '/garbage']) {
    const r = await client.request({ url: s.url + path });
    assert.equal(r.error?.code, 'ERR_DECOMPRESS', path);
    assert.equal(r.status, undefined, path);
  }
});

test('a compression bomb stops at maxBody', T, async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 200 * 1024);
  const s = await serve(() => response(200, 'gzip', bomb));
  const before = process.memoryUsage().rss;
  const r = await client.request({ url: s.url, maxBody: 1024 * 1024 });
  assert.equal(r.error?.code, 'ERR_BODY_TOO_LARGE');
  assert.ok(process.memoryUsage().rss - before < 48 * 1024 * 1024, 'the bomb was not expanded in memory');
});

test('decompress: false sends no Accept-Encoding and returns the encoded bytes', T, async () => {
  const s = await serve(() => response(200, 'gzip', encoded.gzip!));
  const r = await client.request({ url: s.url, decompress: false, as: 'buffer' });
  assert.equal(s.requests.at(-1)!.headers['accept-encoding'], undefined);
  assert.deepEqual(r.body, encoded.gzip);
});

test('a caller Accept-Encoding is kept and the response still decoded', T, async () => {
  const s = await serve(() => response(200, 'br', encoded.br!));
  const r = await client.request({ url: s.url, headers: { 'accept-encoding': 'br' } });
  assert.equal(s.requests.at(-1)!.headers['accept-encoding'], 'br');
  assert.equal(r.body, text);
});

test('unknown codings are left as they are', T, async () => {
  const s = await serve(() => response(200, 'zstd', Buffer.from('opaque')));
  const r = await client.request({ url: s.url });
  assert.equal(r.body, 'opaque');
});

test('stacked codings are undone last-applied first, with Content-Length or chunked', T, async () => {
  const stacks: Record<string, Buffer> = {
    'gzip, br': zlib.brotliCompressSync(zlib.gzipSync(text)),
    'deflate, gzip': zlib.gzipSync(zlib.deflateSync(text)),
    'gzip, identity, gzip': zlib.gzipSync(zlib.gzipSync(text)),
  };
  const s = await serve((t) => {
    const [, name, framing] = t.split('/');
    const header = decodeURIComponent(name!);
    return response(200, header, stacks[header]!, framing === 'chunked');
  });
  for (const header of Object.keys(stacks)) {
    for (const framing of ['length', 'chunked']) {
      const r = await client.request({ url: `${s.url}/${encodeURIComponent(header)}/${framing}` });
      assert.equal(r.error, undefined, `${header} ${framing}`);
      assert.equal(r.body, text, `${header} ${framing}`);
    }
  }
});

test('a stack with a corrupt layer is ERR_DECOMPRESS; one with an unknown coding or more than five is left as it is', T, async () => {
  const corrupt = Buffer.from(zlib.brotliCompressSync(Buffer.from('not gzip inside')));
  const s = await serve((t) =>
    t === '/corrupt' ? response(200, 'gzip, br', corrupt)
      : t === '/unknown' ? response(200, 'gzip, zstd', Buffer.from('opaque'))
        : response(200, 'gzip, gzip, gzip, gzip, gzip, gzip', Buffer.from('six')));
  const bad = await client.request({ url: `${s.url}/corrupt` });
  assert.equal(bad.error?.code, 'ERR_DECOMPRESS');
  assert.equal((await client.request({ url: `${s.url}/unknown` })).body, 'opaque');
  assert.equal((await client.request({ url: `${s.url}/six` })).body, 'six');
});
