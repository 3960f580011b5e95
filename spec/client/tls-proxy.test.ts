// HTTPS (SNI, verification, session resumption) against a throwaway self-signed
// certificate made with openssl, and HTTP proxies (absolute-form and CONNECT tunnels).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, type RawServer, T } from './helpers.ts';
import { requirePeer } from '../helpers/tools.ts';
import { haveOpenssl, makeCert } from '../helpers/tls-cert.ts';

let cert = '';
let key = '';
const servers: { close(): unknown }[] = [];
const client = createClient();

before(() => {
  if (haveOpenssl) ({ cert, key } = makeCert());
});

after(async () => {
  client.close();
  for (const s of servers) await s.close();
});

interface TlsServer {
  port: number;
  server: tls.Server;
  servernames: (string | false | null)[];
  reused: boolean[];
  connections: number;
}

async function tlsServer(host = '127.0.0.1'): Promise<TlsServer> {
  const state: TlsServer = { port: 0, server: null as unknown as tls.Server, servernames: [], reused: [], connections: 0 };
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert, key }, (socket) => {
    state.connections++;
    sockets.add(socket);
    state.servernames.push(socket.servername);
    state.reused.push(socket.isSessionReused());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        const head = buf.slice(0, buf.indexOf('\r\n\r\n'));
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        socket.write(ok(`secure ${head.split(' ')[1]}`, 'Content-Type: text/plain\r\n'));
      }
    });
  });
  state.server = server;
  await new Promise<void>((r) => server.listen(0, host, r));
  state.port = (server.address() as net.AddressInfo).port;
  servers.push({ close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) });
  return state;
}

test('https with the test CA: SNI sent, keep-alive reuse, response read', T, async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const s = await tlsServer('localhost');
  const r = await client.request({ url: `https://localhost:${s.port}/a`, tls: { ca: cert } });
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'secure /a');
  const r2 = await client.request({ url: `https://localhost:${s.port}/b`, tls: { ca: cert } });
  assert.equal(r2.body, 'secure /b');
  assert.equal(s.connections, 1);
  assert.equal(s.servernames[0], 'localhost');
});

test('an IP literal sends no SNI and verifies against the IP SAN', T, async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const s = await tlsServer();
  const r = await client.request({ url: `https://127.0.0.1:${s.port}/ip`, tls: { ca: cert } });
  assert.equal(r.body, 'secure /ip');
  assert.equal(s.servernames[0], false);
});

test('an untrusted certificate is an error with a code; insecure skips verification', T, async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const s = await tlsServer();
  const bad = await client.request({ url: `https://127.0.0.1:${s.port}/` });
  assert.equal(bad.status, undefined);
  assert.equal(typeof bad.error?.code, 'string');
  assert.match(bad.error!.code, /SELF_SIGNED|CERT|UNABLE/);
  const mismatch = await client.request({ url: `https://127.0.0.1:${s.port}/`, tls: { ca: cert, servername: 'other.example' } });
  assert.equal(mismatch.error?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const insecure = await client.request({ url: `https://127.0.0.1:${s.port}/i`, insecure: true });
  assert.equal(insecure.body, 'secure /i');
});

test('TLS sessions are resumed on new connections', T, async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const s = await tlsServer();
  const c = createClient({ keepalive: -1 });
  const tlsOpts = { ca: cert };
  for (let i = 0; i < 3; i++) {
    const r = await c.request({ url: `https://127.0.0.1:${s.port}/${i}`, tls: tlsOpts });
    assert.equal(r.body, `secure /${i}`);
  }
  assert.equal(s.connections, 3);
  assert.equal(s.reused[0], false);
  assert.ok(s.reused.slice(1).some(Boolean), `resumed: ${s.reused}`);
  c.close();
});

/** A minimal forward proxy: absolute-form requests relayed as-is, CONNECT tunnels piped. */
async function proxyServer(requireAuth: string | null): Promise<RawServer & { seen: string[] }> {
  const seen: string[] = [];
  const s = await rawServer(() => {}, '127.0.0.1', (socket) => {
    socket.removeAllListeners('data');
    socket.once('data', (d: Buffer) => {
      const text = d.toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      seen.push(head);
      if (requireAuth !== null && !head.includes(`Proxy-Authorization: ${requireAuth}`)) {
        socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const [method, target] = head.split(' ');
      if (method === 'CONNECT') {
        const [host, port] = [target!.slice(0, target!.lastIndexOf(':')), Number(target!.slice(target!.lastIndexOf(':') + 1))];
        const up = net.connect(port, host, () => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          socket.pipe(up).pipe(socket);
        });
        up.on('error', () => socket.destroy());
      } else {
        const u = new URL(target!);
        const up = net.connect(Number(u.port), u.hostname, () => {
          up.write(d);
          socket.pipe(up).pipe(socket);
        });
        up.on('error', () => socket.destroy());
      }
    });
  });
  servers.push(s);
  return Object.assign(s, { seen });
}

test('http through a proxy: absolute-form target and Proxy-Authorization', T, async () => {
  const origin = await rawServer((req, socket) => socket.write(ok(`origin saw ${req.target}`, 'Content-Type: text/plain\r\n')));
  servers.push(origin);
  const proxy = await proxyServer('Basic ' + Buffer.from('pu:pp').toString('base64'));
  const r = await client.request({ url: `${origin.url}/via?x=1`, proxyUrl: `http://pu:pp@127.0.0.1:${proxy.port}` });
  assert.equal(r.error, undefined);
  assert.equal(r.body, `origin saw ${origin.url}/via?x=1`);
  assert.match(proxy.seen[0]!, new RegExp(`^GET ${origin.url}/via\\?x=1 HTTP/1.1`));
});

test('https through a proxy uses a CONNECT tunnel; a refused tunnel is ERR_PROXY', T, async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const s = await tlsServer();
  const proxy = await proxyServer(null);
  const r = await client.request({ url: `https://127.0.0.1:${s.port}/tunnel`, proxyUrl: proxy.url, tls: { ca: cert } });
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'secure /tunnel');
  assert.match(proxy.seen[0]!, new RegExp(`^CONNECT 127.0.0.1:${s.port} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}`));
  const strict = await proxyServer('Basic nope');
  const refused = await client.request({ url: `https://127.0.0.1:${s.port}/`, proxyUrl: strict.url, tls: { ca: cert } });
  assert.equal(refused.error?.code, 'ERR_PROXY');
});
