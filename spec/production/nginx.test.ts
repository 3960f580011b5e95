// Behind a real nginx (Debian nginx-light, config written here, loopback only):
// plain requests, forwarding headers believed only from the trusted proxy, chunked
// streaming, long-polling, WebSocket upgrade, and PROXY protocol from a stream block.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { runServer, type Server, type Request } from '../../lib/index.ts';
import { createClient } from '../../client/index.ts';
import { createChat } from '../../examples/polling/chat.ts';
import { createWsChat } from '../../examples/websocket/chat.ts';
import { NGINX, CI, T, startNginx, freePort, nginxStreamModule, WsCollector, type Nginx } from './helpers.ts';
import { requirePeer } from '../helpers/tools.ts';

const client = createClient();
let nginx: Nginx | null = null;
let trusting: Server | null = null;
let untrusting: Server | null = null;
let proxied: Server | null = null;
let streamPort = 0;
const streamModule = nginxStreamModule();
let releaseStream: () => void = () => {};

function app(): (req: Request) => unknown {
  const chat = createChat('/polling');
  const ws = createWsChat('/ws-chat');
  return (req) => {
    if (req.uri === '/who') {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr: req.remoteAddr, scheme: req.scheme, xff: req.headers['x-forwarded-for'] ?? null }) };
    }
    if (req.uri === '/stream') {
      const gate = new Promise<void>((r) => (releaseStream = r));
      async function* chunks(): AsyncGenerator<string> {
        yield 'first-chunk\n';
        await gate;
        yield 'last-chunk\n';
      }
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: chunks() };
    }
    return chat(req) ?? ws(req) ?? { status: 404, body: 'nope' };
  };
}

before(async () => {
  if (NGINX === null) {
    if (CI) throw new Error('nginx (nginx-light) is required for the production nginx tests in CI');
    return;
  }
  // nginx reaches the apps from 127.0.0.2 (proxy_bind); only that address is trusted.
  trusting = await runServer(app(), { ip: '127.0.0.1', trustedProxies: ['127.0.0.2'] });
  untrusting = await runServer(app(), { ip: '127.0.0.1' });
  proxied = await runServer(app(), { ip: '127.0.0.1', proxyProtocol: 'enable', trustedProxies: ['127.0.0.2'] });
  if (streamModule === null && CI) throw new Error('nginx stream module (libnginx-mod-stream) is required in CI');
  streamPort = await freePort();
  const common = `
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_bind 127.0.0.2;
      proxy_buffering off;
      proxy_read_timeout 60s;`;
  nginx = await startNginx((port) => ({
    modules: streamModule ?? '',
    http: `
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream trusting { server 127.0.0.1:${trusting!.port}; keepalive 4; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://trusting; proxy_set_header X-Forwarded-Proto $scheme; ${common} }
    location /as-https/ { proxy_pass http://trusting/; proxy_set_header X-Forwarded-Proto https; ${common} }
    location /untrusted/ { proxy_pass http://127.0.0.1:${untrusting!.port}/; proxy_set_header X-Forwarded-Proto https; ${common} }
  }`,
    stream: streamModule === null ? undefined : `
  server { listen 127.0.0.1:${streamPort}; proxy_pass 127.0.0.1:${proxied!.port}; proxy_protocol on; proxy_bind 127.0.0.2; }`,
  }));
});

after(async () => {
  client.close();
  if (nginx !== null) await nginx.stop();
  await Promise.all([trusting, untrusting, proxied].map((s) => s?.stop({ timeout: 50 })));
});

async function who(path: string, headers: Record<string, string> = {}, port = nginx!.port, localAddress?: string): Promise<{ addr: string; scheme: string; xff: string | null }> {
  if (localAddress !== undefined) {
    // A client from a chosen loopback address: raw request.
    const body = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
        s.write(`GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      });
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => resolve(Buffer.concat(got).toString()));
      s.on('error', reject);
    });
    return JSON.parse(body.slice(body.indexOf('\r\n\r\n') + 4)) as { addr: string; scheme: string; xff: string | null };
  }
  const r = await client.request({ url: `http://127.0.0.1:${port}${path}`, headers });
  assert.equal(r.status, 200);
  return JSON.parse(r.body as string) as { addr: string; scheme: string; xff: string | null };
}

test('nginx: plain requests; X-Forwarded-For / -Proto believed from the trusted proxy only', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  // Through nginx: the client (127.0.0.3) is the remote address, scheme from X-Forwarded-Proto.
  assert.deepEqual(await who('/who', {}, nginx!.port, '127.0.0.3'), { addr: '127.0.0.3', scheme: 'http', xff: '127.0.0.3' });
  assert.deepEqual(await who('/as-https/who', {}, nginx!.port, '127.0.0.3'), { addr: '127.0.0.3', scheme: 'https', xff: '127.0.0.3' });
  // A client-supplied X-Forwarded-For is appended to by nginx; the rightmost untrusted hop wins.
  const spoof = await who('/who', { 'x-forwarded-for': '6.6.6.6' }, nginx!.port, '127.0.0.3');
  assert.equal(spoof.addr, '127.0.0.3');
  assert.equal(spoof.xff, '6.6.6.6, 127.0.0.3');
  // Straight to the app, not from the proxy: the headers change nothing.
  assert.deepEqual(await who('/who', { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' }, trusting!.port), { addr: '127.0.0.1', scheme: 'http', xff: '6.6.6.6' });
  // Through nginx to an app that trusts nobody: nginx's own address, plain http.
  const u = await who('/untrusted/who', {}, nginx!.port, '127.0.0.3');
  assert.deepEqual(u, { addr: '127.0.0.2', scheme: 'http', xff: '127.0.0.3' });
  const missing = await client.request({ url: `http://127.0.0.1:${nginx!.port}/no-such-page` });
  assert.equal(missing.status, 404);
});

test('nginx: a chunked stream arrives piece by piece through the proxy', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const s = net.connect(nginx!.port, '127.0.0.1');
  let got = '';
  let onData: () => void = () => {};
  s.on('data', (d: Buffer) => {
    got += d.toString();
    onData();
  });
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out; got ' + JSON.stringify(got))), 5000);
      const check = (): void => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        }
      };
      onData = check;
      check();
    });
  s.write('GET /stream HTTP/1.1\r\nHost: h\r\n\r\n');
  await until(() => got.includes('first-chunk'));
  assert.match(got, /^HTTP\/1\.1 200/);
  assert.match(got, /transfer-encoding: chunked/i);
  assert.ok(!got.includes('last-chunk'), 'the second chunk is not sent yet');
  releaseStream();
  await until(() => got.includes('last-chunk') && got.endsWith('0\r\n\r\n'));
  s.destroy();
});

test('nginx: long-polling waits through the proxy and is answered by a post', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const base = `http://127.0.0.1:${nginx!.port}/polling`;
  let answered = false;
  const poll = client.request({ url: `${base}/poll?since=0`, timeout: 10_000 }).finally(() => (answered = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(answered, false, 'an empty room keeps the poll waiting');
  const sent = await client.request({ url: `${base}/send`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann', text: 'through nginx' }) });
  assert.equal(sent.status, 200);
  const r = await poll;
  assert.equal(r.status, 200);
  assert.deepEqual((JSON.parse(r.body as string) as { text: string }[]).map((m) => m.text), ['through nginx']);
});

test('nginx: WebSocket upgrade through the proxy; messages reach every socket', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const url = `ws://127.0.0.1:${nginx!.port}/ws-chat/socket`;
  const a = await WsCollector.open(url);
  const b = await WsCollector.open(url);
  try {
    await a.waitFor((m) => m.includes('"online":2'));
    a.ws.send(JSON.stringify({ name: 'ann', text: 'hello via nginx' }));
    for (const c of [a, b]) assert.equal(JSON.parse(await c.waitFor((m) => m.includes('hello via nginx'))).name, 'ann');
    b.ws.send('x'.repeat(3000) + JSON.stringify({ text: 'too' }));
    assert.equal(await new Promise((r) => setTimeout(() => r(b.closed), 500)), 1007, 'bad JSON closes with 1007 through the proxy');
  } finally {
    a.close();
    b.close();
  }
});

test('nginx stream block with proxy_protocol on: the app sees the client address', T, async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  if (streamModule === null) return t.skip('nginx has no stream module (install libnginx-mod-stream)');
  // TCP peer is nginx (127.0.0.2); the PROXY header names the client (127.0.0.3).
  const r = await who('/who', {}, streamPort, '127.0.0.3');
  assert.deepEqual(r, { addr: '127.0.0.3', scheme: 'http', xff: null });
  const r2 = await who('/who', {}, streamPort, '127.0.0.4');
  assert.equal(r2.addr, '127.0.0.4');
});
