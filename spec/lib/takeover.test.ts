// takeOverSocket as published by `httpkit`: a handler carries a CONNECT tunnel both ways,
// as a forward proxy does, for a raw client and for curl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { takeOverSocket, type Request } from '../../lib/index.ts';
import { connectRaw, withServer } from './helpers/raw.ts';
import { onPath, requirePeer } from '../helpers/tools.ts';

/** A handler that tunnels CONNECT to the host:port asked for (127.0.0.1 only). */
function tunnel(req: Request) {
  if (req.requestMethod !== 'connect') return { status: 405, body: 'CONNECT only' };
  const [host, port] = req.uri.split(':');
  if (host !== '127.0.0.1') return { status: 403, body: 'loopback only' };
  const taken = takeOverSocket(req);
  if (taken === null) return { status: 500 };
  const { socket, head } = taken;
  const upstream = connect(Number(port), host, () => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
    socket.resume();
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  return undefined;
}

/** An upstream that answers every chunk with `echo:` + the chunk. */
async function echoUpstream(): Promise<{ server: NetServer; port: number }> {
  const server = createServer((s: Socket) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

test('a handler takes the socket of a CONNECT and carries the tunnel both ways (bytes sent with the head included)', async () => {
  const up = await echoUpstream();
  try {
    await withServer(tunnel, {}, async (server) => {
      const c = await connectRaw(server.port);
      c.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\nfirst`);
      await c.waitFor((x) => x.text.includes('echo:first'));
      assert.match(c.text, /^HTTP\/1\.1 200 Connection Established\r\n\r\n/);
      assert.doesNotMatch(c.text, /Content-Length|Transfer-Encoding/i);
      c.write('second');
      await c.waitFor((x) => x.text.endsWith('echo:second'));
      c.socket.destroy();
    });
  } finally {
    up.server.close();
  }
});

test('curl reaches an HTTP server through an httpkit CONNECT proxy (curl -p)', async (t) => {
  if (!requirePeer(onPath('curl'), 'curl', t)) return;
  await withServer(() => ({ body: 'through the tunnel' }), {}, async (origin) => {
    await withServer(tunnel, {}, async (proxy) => {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('curl', ['-sS', '-p', '-x', `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${origin.port}/x`], { timeout: 10_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
      });
      assert.equal(out, 'through the tunnel');
    });
  });
});

test('takeOverSocket returns null for a plain request: the handler answers it as usual', async () => {
  await withServer((req) => ({ body: String(takeOverSocket(req)) }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.waitFor((x) => x.text.endsWith('null'));
    c.socket.destroy();
  });
});
