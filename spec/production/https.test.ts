// HTTPS end to end: the demo served over node:tls with a certificate made by openssl
// at test time; our client and curl as HTTPS clients, wss:// from our WebSocket client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { runServer, type Server, type Request } from '../../lib/index.ts';
import { createClient } from '../../client/index.ts';
import { demoHandler } from '../../examples/demo.ts';
import { makeCert, type Cert } from '../helpers/tls-cert.ts';
import { requirePeer } from '../helpers/tools.ts';
import { T, which, WsCollector } from './helpers.ts';

const CURL = which(['/usr/bin/curl', '/usr/local/bin/curl']);
let cert: Cert;
let server: Server | null = null;
let base = '';
const warnings: string[] = [];
const client = createClient();

before(async () => {
  cert = makeCert();
  const handler = (req: Request): unknown =>
    req.uri === '/scheme' ? { status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.scheme} ${req.protocol}` } : demoHandler(req);
  server = await runServer(handler, { ip: '127.0.0.1', port: 0, tls: { key: cert.key, cert: cert.cert }, warnLogger: (m) => warnings.push(m) });
  base = `https://127.0.0.1:${server.port}`;
});

after(async () => {
  client.close();
  if (server !== null) await server.stop({ timeout: 100 });
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CURL!, ['-sS', '--max-time', '10', ...args], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

test('https: our client verifies the certificate, sends and streams bodies', T, async () => {
  const tls = { ca: cert.cert };
  const r = await client.request({ url: `${base}/scheme`, tls });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'https HTTP/1.1');
  const hello = await client.request({ url: `${base}/hello`, tls });
  assert.match(hello.body as string, /^hello world/);
  const body = randomBytes(3 * 1024 * 1024);
  const echo = await client.request({ url: `${base}/echo`, method: 'POST', body, tls });
  const e = JSON.parse(echo.body as string) as { bodyLength: number; bodySha256: string };
  assert.equal(e.bodyLength, body.length);
  assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));
  const streamed = await client.request({ url: `${base}/stream/500`, tls });
  assert.equal(streamed.headers['transfer-encoding'], 'chunked');
  assert.equal((streamed.body as string).split('\n').filter(Boolean).length, 500);
  assert.equal(r.error, undefined);
  // Without the CA the self-signed certificate is refused: an error value, no status.
  const other = createClient();
  const refused = await other.request({ url: `${base}/scheme`, timeout: 5000 });
  other.close();
  assert.equal(refused.status, undefined);
  assert.ok(refused.error !== undefined, 'an error value');
  assert.match(String(refused.error.message) + refused.error.code, /self[- ]signed|certificate|CERT/i);
});

test('https: curl with the CA gets the pages; without it curl refuses the certificate', T, async (t) => {
  if (!requirePeer(CURL, 'curl', t)) return;
  const ok = await curl(['--cacert', cert.certPath, '-D', '-', `${base}/scheme`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(ok.stdout, /\r\n\r\nhttps HTTP\/1\.1$/);
  const index = await curl(['--cacert', cert.certPath, `${base}/`, `${base}/polling/`]);
  assert.equal(index.code, 0, index.stderr);
  assert.match(index.stdout, /<title>httpkit demo<\/title>/);
  assert.match(index.stdout, /Long-polling chat/);
  const posted = await curl(['--cacert', cert.certPath, '-H', 'content-type: application/json', '--data', '{"name":"curl","text":"over TLS"}', `${base}/polling/send`]);
  assert.equal(posted.code, 0, posted.stderr);
  assert.equal((JSON.parse(posted.stdout) as { text: string }).text, 'over TLS');
  const refused = await curl([`${base}/scheme`]);
  assert.equal(refused.code, 60, 'curl: peer certificate cannot be authenticated');
  // curl's "unknown CA" alert fails the handshake on the server side: a warning, no crash.
  for (let i = 0; i < 100 && !warnings.includes('TLS handshake failed'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(warnings.includes('TLS handshake failed'), 'the server logged the refused handshake');
});

test('https: wss:// chat and echo from our WebSocket client (permessage-deflate over TLS)', T, async () => {
  const wss = `wss://127.0.0.1:${server!.port}`;
  const tls = { ca: cert.cert };
  const a = await WsCollector.open(`${wss}/ws-chat/socket`, { tls });
  const b = await WsCollector.open(`${wss}/ws-chat/socket`, { tls, perMessageDeflate: true });
  const echo = await WsCollector.open(`${wss}/ws`, { tls });
  try {
    await a.waitFor((m) => m.includes('"online":2'));
    a.ws.send(JSON.stringify({ name: 'ann', text: 'secure hello' }));
    for (const c of [a, b]) assert.equal((JSON.parse(await c.waitFor((m) => m.includes('secure hello'))) as { name: string }).name, 'ann');
    const big = 'x'.repeat(200_000);
    echo.ws.send(big);
    assert.equal((await echo.waitFor((m) => m.length === big.length)).length, big.length);
    await assert.rejects(WsCollector.open(`${wss}/ws`), 'no CA: the handshake fails');
  } finally {
    for (const c of [a, b, echo]) c.close();
  }
});
