// Against a real nginx (loopback only, config and files in a temp dir, stopped after).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createClient } from '../../client/index.ts';
import { sleep, T } from './helpers.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p)) ?? null;
let dir = '';
let port = 0;
let proc: ChildProcess | null = null;
const client = createClient();
const bigText = 'nginx gzip body line\n'.repeat(20000);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  if (NGINX === null) {
    if (process.env.CI === 'true') throw new Error('nginx is required for the client nginx tests in CI (nginx-light)');
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'httpkit-nginx-'));
  // Workers may run as an unprivileged user: the temp dir must be readable by them.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'www'), { mode: 0o755 });
  writeFileSync(join(dir, 'www', 'big.txt'), bigText);
  port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
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
  }
}
`);
  proc = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await sleep(50);
  }
  throw new Error('nginx did not start');
});

after(async () => {
  client.close();
  if (proc !== null) {
    proc.kill('SIGQUIT');
    await new Promise((r) => {
      const t = setTimeout(() => {
        proc!.kill('SIGKILL');
        r(null);
      }, 3000);
      proc!.once('exit', () => {
        clearTimeout(t);
        r(null);
      });
    });
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('nginx: keep-alive reuse over sequential requests', T, async (t) => {
  if (NGINX === null) return t.skip('nginx not installed');
  const a = await client.request({ url: `http://127.0.0.1:${port}/hello` });
  const b = await client.request({ url: `http://127.0.0.1:${port}/hello` });
  assert.equal(a.status, 200);
  const [ca, cb] = [/conn=(\d+) n=(\d+)/.exec(a.body as string)!, /conn=(\d+) n=(\d+)/.exec(b.body as string)!];
  assert.equal(ca[1], cb[1], 'same connection');
  assert.equal(Number(cb[2]), Number(ca[2]) + 1);
});

test('nginx: gzip static file decoded; HEAD has no body; 404 is a response', T, async (t) => {
  if (NGINX === null) return t.skip('nginx not installed');
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
  if (NGINX === null) return t.skip('nginx not installed');
  const r = await client.request({ url: `http://127.0.0.1:${port}/moved`, method: 'POST', body: 'x' });
  assert.equal(r.status, 200);
  assert.equal(r.trace[0]!.status, 302);
  const s = await client.request({ url: `http://127.0.0.1:${port}/see-other`, method: 'PUT', body: 'y' });
  assert.equal(s.status, 200);
  assert.equal(s.trace[0]!.status, 303);
});

test('nginx: chunked and sized uploads', T, async (t) => {
  if (NGINX === null) return t.skip('nginx not installed');
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
  if (NGINX === null) return t.skip('nginx not installed');
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
