// Real clients (curl, node:https over TLS) and the upgrade hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connectRaw, get, responsesOf, withServer } from './helpers/raw.ts';
import { takeOverSocket } from '../../lib/takeover.ts';
import type { Request } from '../../lib/index.ts';
import { onPath, skipWithout } from '../helpers/tools.ts';
import { haveOpenssl, makeCert } from '../helpers/tls-cert.ts';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000, maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

const haveCurl = onPath('curl');

const app = (req: Request) => {
  if (req.uri === '/echo') return { headers: { 'content-type': 'text/plain' }, body: req.body ?? '' };
  if (req.uri === '/stream') return { body: (function* () { for (let i = 0; i < 50; i++) yield `line ${i}\n`; })() };
  return { body: `${req.requestMethod} ${req.uri} ${req.scheme}` };
};

test('curl: GET, POST, keep-alive reuse, chunked stream, HEAD', { skip: skipWithout(haveCurl, 'curl') }, async () => {
  assert.ok(haveCurl, 'curl is required in CI');
  await withServer(app, {}, async (server) => {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(await run('curl', ['-sS', base + '/a']), 'get /a http');
    assert.equal(await run('curl', ['-sS', '--data-binary', 'posted body', base + '/echo']), 'posted body');
    // Two URLs in one curl run reuse the connection.
    const verbose = await run('sh', ['-c', `curl -sS -v ${base}/x ${base}/y 2>&1`]);
    assert.match(verbose, /Re-using existing connection|Reusing existing/i);
    assert.match(verbose, /get \/x http/);
    assert.match(verbose, /get \/y http/);
    const streamed = await run('curl', ['-sS', '-D', '-', base + '/stream']);
    assert.match(streamed, /transfer-encoding: chunked/i);
    assert.ok(streamed.endsWith('line 49\n'));
    const head = await run('curl', ['-sS', '-I', base + '/a']);
    assert.match(head, /^HTTP\/1.1 200 OK/);
    assert.match(head, /Content-Length: 12/i);
    // 100-continue with a body big enough for curl to ask.
    const big = 'b'.repeat(2_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'httpkit-curl-'));
    try {
      const f = join(dir, 'big');
      require_write(f, big);
      const out = await run('sh', ['-c', `curl -sS -v -H 'Expect: 100-continue' --data-binary @${f} ${base}/echo 2>&1 >/dev/null`]);
      assert.match(out, /HTTP\/1.1 100 Continue/);
      assert.match(out, /HTTP\/1.1 200 OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function require_write(path: string, data: string): void {
  execFileSync('sh', ['-c', `cat > '${path}'`], { input: data });
}

test('tls: HTTPS on node:tls with the same code path', { skip: skipWithout(haveOpenssl, 'openssl') }, async () => {
  assert.ok(haveOpenssl, 'openssl is required in CI');
  const { key, cert } = makeCert();
  const tls = { key, cert };
  await withServer(app, { tls }, async (server) => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, path: '/secure', rejectUnauthorized: false }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(`${res.statusCode} ${s}`));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, '200 get /secure https');
    if (haveCurl) assert.equal(await run('curl', ['-sSk', `https://127.0.0.1:${server.port}/c`]), 'get /c https');
  });
  // stop() is not held up by a client stuck before its TLS handshake.
  const { runServer } = await import('../../lib/index.ts');
  const server = await runServer(app, { ip: '127.0.0.1', port: 0, tls });
  const stuck = await connectRaw(server.port);
  const t0 = Date.now();
  await server.stop({ timeout: 100 });
  assert.ok(Date.now() - t0 < 1000, `stop took ${Date.now() - t0} ms`);
  await stuck.waitClose(1000);
  stuck.close();
});

test('upgrade hook: isWebSocket, takeOverSocket hands over the socket and the bytes after the head', async () => {
  await withServer((req) => {
    if (!req.isWebSocket) return 'plain';
    const taken = takeOverSocket(req);
    assert.ok(taken);
    const { socket, head } = taken;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.write('early:' + head.toString());
    socket.on('data', (d: Buffer) => socket.write('echo:' + d.toString()));
    socket.resume();
    return undefined; // ignored: the socket is gone
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n') + 'FRAME1');
    await c.waitFor((x) => x.text.includes('early:FRAME1'));
    c.write('more');
    await c.waitFor((x) => x.text.includes('echo:more'));
    assert.ok(c.text.startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
    assert.doesNotMatch(c.text, /404|plain/);
    c.close();
  });
});

test('a declined upgrade is answered normally and the connection goes on with HTTP', async () => {
  await withServer((req) => ({ body: `${req.uri} ws=${req.isWebSocket}` }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/h2c', 'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n') + get('/next'));
    const rs = await c.waitResponses(2);
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/h2c ws=false', '/next ws=false']);
  });
});

test('takeOverSocket refuses a plain request', async () => {
  await withServer((req) => ({ body: String(takeOverSocket(req)) }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/'));
    const [r] = await c.waitResponses(1);
    c.close();
    assert.equal(r!.body.toString(), 'null');
    assert.equal(responsesOf(c.received).length, 1);
  });
});

test('a taken-over socket is told when the server stops, and closed at the stop timeout', async () => {
  const { runServer } = await import('../../lib/index.ts');
  let goingAway = 0;
  const server = await runServer((req) => {
    const taken = takeOverSocket(req, () => {
      goingAway++;
      taken!.socket.write('bye');
    });
    taken!.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    taken!.socket.resume();
    return undefined;
  }, { ip: '127.0.0.1', port: 0 });
  const c = await connectRaw(server.port);
  c.write(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'));
  await c.waitFor((x) => x.text.includes('101 Switching'));
  assert.equal(server.connections, 1, 'still counted');
  await server.stop({ timeout: 100 });
  assert.equal(goingAway, 1);
  await c.waitClose(2000);
  assert.ok(c.text.endsWith('bye'));
  assert.equal(server.connections, 0);
  c.close();
});
