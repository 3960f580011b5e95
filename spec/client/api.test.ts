// The promise/callback API, option validation and request serialisation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from '../../client/index.ts';
import { createClient, request, get, post, put, patch, head, options, del } from '../../client/index.ts';
import { ok, rawServer, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function echoServer(): Promise<RawServer> {
  const s = await rawServer((req, socket) => {
    socket.write(ok(JSON.stringify({ method: req.method, target: req.target, headers: req.headers, body: req.body.toString('latin1') }), 'Content-Type: application/json\r\n'));
  });
  servers.push(s);
  return s;
}

test('resolves to a response map with status, lower-case headers, set-cookie array and text body', T, async () => {
  const s = await rawServer((_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Multi: a\r\nx-multi: b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhéll'.replace('héll', 'h\u00e9ll'), 'utf8');
  });
  servers.push(s);
  const r = await get(s.url + '/');
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-multi'], 'a, b');
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r.body, 'h\u00e9ll');
  assert.equal(r.opts.url, s.url + '/');
  assert.equal(r.url, s.url + '/');
  assert.deepEqual(r.trace, []);
});

test('a single Set-Cookie is still an array', T, async () => {
  const s = await rawServer((_req, socket) => socket.write(ok('', 'Set-Cookie: only=1\r\n')));
  servers.push(s);
  const r = await get(s.url);
  assert.deepEqual(r.headers['set-cookie'], ['only=1']);
});

test('every method helper sends its method; DELETE is exported as del and delete', T, async () => {
  const s = await echoServer();
  const fns: [string, typeof get][] = [['GET', get], ['POST', post], ['PUT', put], ['PATCH', patch], ['OPTIONS', options], ['DELETE', del], ['DELETE', client.delete]];
  for (const [m, fn] of fns) {
    const r = await fn(s.url + '/m', { as: 'json' });
    assert.equal((r.body as { method: string }).method, m);
  }
  const h = await head(s.url + '/h');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  assert.equal(s.requests.at(-1)!.method, 'HEAD');
});

test('request head: Host, default User-Agent, Accept-Encoding, Content-Length for a string body, one write', T, async () => {
  const s = await echoServer();
  const r = await post(s.url + '/p?x=1#frag', { body: 'h\u00e9', headers: { 'X-A': 'b', 'X-List': ['1', '2'] } });
  assert.equal(r.status, 200);
  const req = s.requests.at(-1)!;
  assert.equal(req.target, '/p?x=1');
  assert.equal(req.headers.host, `127.0.0.1:${s.port}`);
  assert.equal(req.headers['user-agent'], 'httpkit');
  assert.equal(req.headers['accept-encoding'], 'gzip, deflate, br');
  assert.equal(req.headers['content-length'], '3');
  assert.equal(req.headers['x-a'], 'b');
  assert.equal(req.headers['x-list'], '1, 2');
  assert.equal(req.body.toString('utf8'), 'h\u00e9');
});

test('POST without a body sends Content-Length: 0; GET sends no framing', T, async () => {
  const s = await echoServer();
  await post(s.url);
  assert.equal(s.requests.at(-1)!.headers['content-length'], '0');
  await get(s.url);
  assert.equal(s.requests.at(-1)!.headers['content-length'], undefined);
  assert.equal(s.requests.at(-1)!.headers['transfer-encoding'], undefined);
});

test('queryParams, formParams (arrays repeat keys), basicAuth, oauthToken, userAgent', T, async () => {
  const s = await echoServer();
  await get(s.url + '/q?a=1', { queryParams: { b: 'x y', c: [1, 2], d: null } });
  assert.equal(s.requests.at(-1)!.target, '/q?a=1&b=x%20y&c=1&c=2');
  await post(s.url, { formParams: { name: 'a b&c', tag: ['x', 'y'] } });
  let req = s.requests.at(-1)!;
  assert.equal(req.body.toString(), 'name=a+b%26c&tag=x&tag=y');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  await get(s.url, { basicAuth: ['user', 'p\u00e4ss'] });
  assert.equal(s.requests.at(-1)!.headers.authorization, 'Basic ' + Buffer.from('user:p\u00e4ss').toString('base64'));
  await get(s.url, { basicAuth: 'u:p' });
  assert.equal(s.requests.at(-1)!.headers.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
  await get(s.url.replace('http://', 'http://us%40r:pw@'));
  req = s.requests.at(-1)!;
  assert.equal(req.headers.authorization, 'Basic ' + Buffer.from('us@r:pw').toString('base64'));
  await get(s.url, { oauthToken: 'tok123' });
  assert.equal(s.requests.at(-1)!.headers.authorization, 'Bearer tok123');
  await get(s.url, { userAgent: 'agent/1' });
  assert.equal(s.requests.at(-1)!.headers['user-agent'], 'agent/1');
  await get(s.url, { headers: { 'User-Agent': 'mine', 'Accept-Encoding': 'identity' } });
  req = s.requests.at(-1)!;
  assert.equal(req.headers['user-agent'], 'mine');
  assert.equal(req.headers['accept-encoding'], 'identity');
});

test('streamed bodies: Readable and async iterable go chunked; a caller Content-Length frames a stream', T, async () => {
  const s = await echoServer();
  await put(s.url, { body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) });
  let req = s.requests.at(-1)!;
  assert.equal(req.headers['transfer-encoding'], 'chunked');
  assert.equal(req.body.toString(), 'abcd');
  async function* gen() {
    yield 'x';
    yield new Uint8Array([121]);
  }
  await post(s.url, { body: gen() });
  assert.equal(s.requests.at(-1)!.body.toString(), 'xy');
  await post(s.url, { body: Readable.from(['12345']), headers: { 'content-length': '5' } });
  req = s.requests.at(-1)!;
  assert.equal(req.headers['content-length'], '5');
  assert.equal(req.headers['transfer-encoding'], undefined);
  assert.equal(req.body.toString(), '12345');
  const bad = await post(s.url, { body: Readable.from(['1234']), headers: { 'content-length': '5' } });
  assert.equal(bad.error?.code, 'ERR_INVALID_BODY');
});

test('multipart: in-memory parts with Content-Length; a file part streams', T, async () => {
  const s = await echoServer();
  const dir = mkdtempSync(join(tmpdir(), 'httpkit-mp-'));
  try {
    const file = join(dir, 'data.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 255]));
    const r1 = await post(s.url, { multipart: [{ name: 'a', content: 'hello' }, { name: 'b', content: Buffer.from('xyz'), filename: 'b.txt', contentType: 'text/plain' }] });
    assert.equal(r1.status, 200);
    let req = s.requests.at(-1)!;
    const boundary = /boundary=(.+)$/.exec(req.headers['content-type']!)![1]!;
    assert.ok(req.headers['content-type']!.startsWith('multipart/form-data; boundary='));
    assert.equal(req.headers['content-length'], String(req.body.length));
    assert.equal(req.body.toString('latin1'),
      `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="b"; filename="b.txt"\r\nContent-Type: text/plain\r\n\r\nxyz\r\n` +
      `--${boundary}--\r\n`);
    await post(s.url, { multipart: [{ name: 'f', content: { path: file } }] });
    req = s.requests.at(-1)!;
    const b2 = /boundary=(.+)$/.exec(req.headers['content-type']!)![1]!;
    assert.equal(req.headers['transfer-encoding'], 'chunked');
    assert.equal(req.body.toString('latin1'),
      `--${b2}\r\nContent-Disposition: form-data; name="f"; filename="data.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\x02\xff\r\n--${b2}--\r\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid input resolves with a coded error before any byte is written', T, async () => {
  const s = await echoServer();
  const cases: [Parameters<typeof request>[0], string][] = [
    [{ url: s.url, headers: { 'x-a': 'a\r\nInjected: 1' } }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, headers: { 'x-a': 'a\nb' } }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, headers: { 'x-a': 'a\0b' } }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, headers: { 'bad name': 'a' } }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, headers: { 'x\r\n': 'a' } }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, method: 'GE T' }, 'ERR_INVALID_METHOD'],
    [{ url: s.url, method: 'GET\r\n' }, 'ERR_INVALID_METHOD'],
    [{ url: s.url, method: '' }, 'ERR_INVALID_METHOD'],
    [{ url: 'not a url' }, 'ERR_INVALID_URL'],
    [{ url: 'ftp://127.0.0.1/' }, 'ERR_UNSUPPORTED_PROTOCOL'],
    [{}, 'ERR_INVALID_URL'],
    [{ url: s.url, as: 'xml' as never }, 'ERR_INVALID_OPTION'],
    [{ url: s.url, timeout: -5 }, 'ERR_INVALID_OPTION'],
    [{ url: s.url, body: 42 as never }, 'ERR_INVALID_BODY'],
    [{ url: s.url, body: 'a', formParams: { a: 1 } }, 'ERR_INVALID_BODY'],
    [{ url: s.url, userAgent: 'x\r\ny' }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, oauthToken: 'x\ny' }, 'ERR_INVALID_HEADER'],
    [{ url: s.url, queryParams: 'a=1' as never }, 'ERR_INVALID_OPTION'],
    [{ url: s.url, formParams: 5 as never }, 'ERR_INVALID_OPTION'],
    [{ url: s.url, basicAuth: ['only-user'] as never }, 'ERR_INVALID_OPTION'],
    [{ url: s.url, proxyUrl: 'https://proxy:1/' }, 'ERR_UNSUPPORTED_PROTOCOL'],
    [{ url: s.url, signal: {} as never }, 'ERR_INVALID_OPTION'],
  ];
  for (const [opts, code] of cases) {
    const r = await request(opts);
    assert.equal(r.error?.code, code, JSON.stringify(opts.headers ?? opts.method ?? opts.url));
    assert.ok(r.error instanceof Error);
    assert.equal(r.status, undefined);
  }
  const r = await (request as (o: unknown) => Promise<client.Response>)(null);
  assert.equal(r.error?.code, 'ERR_INVALID_OPTION');
  assert.equal(s.connections, 0, 'no connection was opened');
});

test('a refused connection resolves with ECONNREFUSED and no status', T, async () => {
  const s = await rawServer(() => {});
  const port = s.port;
  await s.close();
  const r = await get(`http://127.0.0.1:${port}/`);
  assert.equal(r.error?.code, 'ECONNREFUSED');
  assert.equal(r.status, undefined);
  assert.equal(r.body, undefined);
});

test('callback: the promise resolves to its return value; a throw resolves with error', T, async () => {
  const s = await echoServer();
  const v = await get(s.url, (r) => r.status! + 1);
  assert.equal(v, 201);
  const v2 = await get(s.url, {}, async (r) => `status ${r.status}`);
  assert.equal(v2, 'status 200');
  const thrown = (await get(s.url, () => {
    throw new Error('boom');
  })) as client.Response;
  assert.equal(thrown.status, 200);
  assert.equal(thrown.error?.message, 'boom');
  assert.equal(thrown.error?.code, 'ERR_CALLBACK');
  const errored = await get('http://127.0.0.1:1/', (r) => r.error?.code);
  assert.equal(errored, 'ECONNREFUSED');
});

test('as: text, buffer, json, auto (charset from Content-Type, bytes for non-text)', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/latin1') socket.write(ok(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'Content-Type: text/plain; charset=ISO-8859-1\r\n'));
    else if (req.target === '/json') socket.write(ok('{"a":[1,2]}', 'Content-Type: application/json\r\n'));
    else if (req.target === '/badjson') socket.write(ok('{nope', 'Content-Type: application/json\r\n'));
    else socket.write(ok(Buffer.from([1, 2, 3]), 'Content-Type: application/octet-stream\r\n'));
  });
  servers.push(s);
  assert.equal((await get(s.url + '/latin1')).body, 'caf\u00e9');
  assert.deepEqual((await get(s.url + '/json', { as: 'json' })).body, { a: [1, 2] });
  assert.equal((await get(s.url + '/json')).body, '{"a":[1,2]}');
  const bin = await get(s.url + '/bin');
  assert.ok(Buffer.isBuffer(bin.body));
  assert.deepEqual([...(bin.body as Buffer)], [1, 2, 3]);
  assert.equal((await get(s.url + '/bin', { as: 'text' })).body, '\x01\x02\x03');
  assert.ok(Buffer.isBuffer((await get(s.url + '/json', { as: 'buffer' })).body));
  const bad = await get(s.url + '/badjson', { as: 'json' });
  assert.equal(bad.error?.code, 'ERR_INVALID_JSON');
});

test('IPv6 literal URLs work: http://[::1]:port/', T, async (t) => {
  let s: RawServer;
  try {
    s = await rawServer((_req, socket) => socket.write(ok('v6')), '::1');
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  servers.push(s);
  const r = await get(`http://[::1]:${s.port}/six`, { as: 'text' });
  assert.equal(r.body, 'v6');
  assert.equal(s.requests[0]!.headers.host, `[::1]:${s.port}`);
});

test('maxBody: a larger Content-Length is an error; so is a larger chunked body', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/cl') socket.write(ok('x'.repeat(100)));
    else socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n' + 'y'.repeat(50) + '\r\n32\r\n' + 'y'.repeat(50) + '\r\n0\r\n\r\n');
  });
  servers.push(s);
  assert.equal((await get(s.url + '/cl', { maxBody: 99 })).error?.code, 'ERR_BODY_TOO_LARGE');
  assert.equal((await get(s.url + '/cl', { maxBody: 100, as: 'text' })).body, 'x'.repeat(100));
  assert.equal((await get(s.url + '/ch', { maxBody: 60 })).error?.code, 'ERR_BODY_TOO_LARGE');
  assert.equal((await get(s.url + '/ch', { maxBody: 100 })).status, 200);
});

test('createClient validates its options and close() fails nothing when idle', T, async () => {
  assert.throws(() => createClient({ maxConnections: 0 }), { code: 'ERR_INVALID_OPTION' });
  const c = createClient({ maxConnectionsPerHost: 2 });
  const s = await echoServer();
  const r = await c.request({ url: s.url });
  assert.equal(r.status, 200);
  c.close();
  const r2 = await get(s.url, { client: c });
  assert.equal(r2.status, 200, 'a closed client can be used again');
  c.close();
});

test('a server answering early (413) while a streamed upload is still going gets its response', T, async () => {
  const s = await rawServer(() => {}, '127.0.0.1', (socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!'));
  });
  servers.push(s);
  async function* slow() {
    for (let i = 0; i < 50; i++) {
      yield Buffer.alloc(64 * 1024, 1);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const r = await post(s.url, { body: slow(), as: 'text' });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 413);
  assert.equal(r.body, 'too big!');
});

test('junk options of every type resolve with a coded error, never throw', T, async () => {
  const s = await echoServer();
  const junk: unknown[] = [undefined, null, 0, -1, NaN, '', 'x', true, Symbol('s'), [], {}, () => 1, new Date(), Buffer.from('b'), 10n];
  const keys = ['url', 'method', 'headers', 'body', 'queryParams', 'formParams', 'multipart', 'basicAuth', 'timeout', 'as', 'tls', 'signal', 'proxyUrl', 'maxRedirects'];
  let count = 0;
  for (const key of keys) {
    for (const value of junk) {
      const opts = { url: s.url, timeout: 2000, [key]: value } as never;
      let r: client.Response;
      try {
        r = await request(opts);
      } catch (err) {
        assert.fail(`request threw for ${key}=${String(value)}: ${err}`);
      }
      count++;
      if (r.error !== undefined) assert.ok(typeof r.error.code === 'string' && r.error.code !== '', `${key}=${String(value)}`);
      else assert.equal(typeof r.status, 'number');
    }
  }
  assert.equal(count, keys.length * junk.length);
});
