// Against a real nginx (loopback only, config and files in a temp dir, stopped after).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createClient } from '../../client/index.ts';
import { CI, requirePeer } from '../helpers/tools.ts';
import { NGINX, startNginx, type Nginx } from '../helpers/nginx.ts';
import { T } from './helpers.ts';

let nginx: Nginx | null = null;
let port = 0;
const client = createClient();
const bigText = 'nginx gzip body line\n'.repeat(20000);

before(async () => {
  if (NGINX === null) {
    if (CI) throw new Error('nginx is required for the client nginx tests in CI (nginx-light)');
    return;
  }
  nginx = await startNginx((port, dir) => ({
    http: `
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    default_type text/plain;
    location = /hello { return 200 "conn=$connection n=$connection_requests"; }
    location = /moved { return 302 /hello; }
    location = /see-other { return 303 http://127.0.0.1:${port}/hello; }
    location = /upload { client_max_body_size 1m; return 200 "len=$content_length"; }
    location /gz/ { alias ${dir}/www/; gzip on; gzip_types text/plain; gzip_min_length 1; }
  }`,
  }), {
    prepare: (dir) => {
      mkdirSync(join(dir, 'www'), { mode: 0o755 });
      writeFileSync(join(dir, 'www', 'big.txt'), bigText);
    },
  });
  port = nginx.port;
});

after(async () => {
  client.close();
  if (nginx !== null) await nginx.stop();
});

test('nginx: keep-alive reuse over sequential requests', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const a = await client.request({ url: `http://127.0.0.1:${port}/hello` });
  const b = await client.request({ url: `http://127.0.0.1:${port}/hello` });
  assert.equal(a.status, 200);
  const [ca, cb] = [/conn=(\d+) n=(\d+)/.exec(a.body as string)!, /conn=(\d+) n=(\d+)/.exec(b.body as string)!];
  assert.equal(ca[1], cb[1], 'same connection');
  assert.equal(Number(cb[2]), Number(ca[2]) + 1);
});

test('nginx: gzip static file decoded; HEAD has no body; 404 is a response', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const r = await client.request({ url: `http://127.0.0.1:${port}/gz/big.txt` });
  assert.equal(r.headers['content-encoding'], 'gzip');
  assert.equal(r.status, 200);
  assert.ok(r.body === bigText, 'decoded body equals the file');
  const plain = await client.request({ url: `http://127.0.0.1:${port}/big.txt`, method: 'HEAD' });
  assert.equal(plain.headers['content-length'], String(bigText.length));
  assert.equal(plain.body, '');
  const missing = await client.request({ url: `http://127.0.0.1:${port}/nope` });
  assert.equal(missing.status, 404);
  assert.equal(missing.error, undefined);
});

test('nginx: redirects (relative and absolute) are followed', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const r = await client.request({ url: `http://127.0.0.1:${port}/moved`, method: 'POST', body: 'x' });
  assert.equal(r.status, 200);
  assert.equal(r.trace[0]!.status, 302);
  const s = await client.request({ url: `http://127.0.0.1:${port}/see-other`, method: 'PUT', body: 'y' });
  assert.equal(s.status, 200);
  assert.equal(s.trace[0]!.status, 303);
});

test('nginx: chunked and sized uploads', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const sized = await client.request({ url: `http://127.0.0.1:${port}/upload`, method: 'POST', body: 'abcdef' });
  assert.equal(sized.body, 'len=6');
  async function* gen() {
    yield 'abc';
    yield 'def';
  }
  const chunked = await client.request({ url: `http://127.0.0.1:${port}/upload`, method: 'POST', body: gen() });
  assert.equal(chunked.status, 200);
  const tooBig = await client.request({ url: `http://127.0.0.1:${port}/upload`, method: 'POST', body: Buffer.alloc(2 * 1024 * 1024) });
  assert.equal(tooBig.status, 413);
});

test('nginx: 50 concurrent requests, streamed and buffered', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    client.request({ url: `http://127.0.0.1:${port}/${i % 2 ? 'hello' : 'big.txt'}`, as: i % 3 === 0 ? 'stream' : 'text' })));
  for (const r of rs) {
    assert.equal(r.status, 200);
    if (typeof r.body !== 'string') {
      let n = 0;
      for await (const c of r.body as Readable) n += (c as Buffer).length;
      assert.ok(n > 0);
    }
  }
});
