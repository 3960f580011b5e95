// The client against the project's own server (lib/ runServer).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { runServer, type Server } from '../../lib/index.ts';
import { createClient } from '../../client/index.ts';
import { T } from './helpers.ts';

let server: Server;
let base = '';
const client = createClient();

before(async () => {
  server = await runServer((req) => {
    if (req.uri === '/echo') {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: req.requestMethod, query: req.queryString, len: req.body?.length ?? 0, body: req.body?.toString() ?? null, ua: req.headers['user-agent'] }),
      };
    }
    if (req.uri === '/stream') {
      async function* parts() {
        for (let i = 0; i < 100; i++) yield `part ${i}\n`;
      }
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: parts() };
    }
    if (req.uri === '/gzip') {
      return { status: 200, headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: gzipSync('zipped by the server') };
    }
    if (req.uri === '/redirect') return { status: 303, headers: { location: '/echo?from=redirect' } };
    return { status: 404, body: 'none' };
  }, { port: 0, ip: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  client.close();
  await server.stop();
});

test('own server: JSON round trip with query and body', T, async () => {
  const r = await client.request({ url: `${base}/echo`, method: 'POST', queryParams: { a: 'b c' }, body: 'payload', as: 'json' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { method: 'post', query: 'a=b%20c', len: 7, body: 'payload', ua: 'httpkit' });
});

test('own server: chunked upload, streamed (chunked) download, gzip, 303 redirect', T, async () => {
  const up = await client.request({ url: `${base}/echo`, method: 'PUT', body: Readable.from(['a', 'b', 'c']), as: 'json' });
  assert.equal((up.body as { body: string }).body, 'abc');
  const down = await client.request({ url: `${base}/stream` });
  assert.equal(down.body, Array.from({ length: 100 }, (_, i) => `part ${i}\n`).join(''));
  const gz = await client.request({ url: `${base}/gzip` });
  assert.equal(gz.body, 'zipped by the server');
  const red = await client.request({ url: `${base}/redirect`, method: 'POST', body: 'x', as: 'json' });
  assert.deepEqual(red.body, { method: 'get', query: 'from=redirect', len: 0, body: null, ua: 'httpkit' });
  assert.equal(red.trace[0]!.status, 303);
});

test('own server: 200 concurrent requests over a pool of 8', T, async () => {
  const c = createClient({ maxConnectionsPerHost: 8 });
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => c.request({ url: `${base}/echo?i=${i}`, as: 'json' })));
  rs.forEach((r, i) => assert.equal((r.body as { query: string }).query, `i=${i}`));
  c.close();
});
