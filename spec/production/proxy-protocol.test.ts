// PROXY protocol v1 and v2 in front of HTTP and HTTPS, byte by byte on real sockets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import { runServer, type Server, type ServerOptions } from '../../lib/index.ts';
import { parseProxyHeader, V2_SIGNATURE } from '../../lib/proxy.ts';
import { responsesOf } from '../lib/helpers/raw.ts';
import { makeCert } from '../helpers/tls-cert.ts';
import { T } from './helpers.ts';

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop({ timeout: 50 })));
});

async function serve(options: ServerOptions): Promise<Server> {
  const s = await runServer((req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.remoteAddr} ${req.scheme}` }), {
    ip: '127.0.0.1',
    port: 0,
    ...options,
  });
  servers.push(s);
  return s;
}

/** Write `parts` (with a pause between them) and collect the bytes until the server closes. */
async function exchange(port: number, parts: (string | Buffer)[], ms = 3000): Promise<Buffer> {
  const s = net.connect(port, '127.0.0.1');
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.on('error', () => {});
  const closed = new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      s.destroy();
      resolve();
    }, ms);
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  for (const p of parts) {
    if (s.destroyed) break;
    s.write(p);
    await new Promise((r) => setTimeout(r, 5));
  }
  await closed;
  return Buffer.concat(got);
}

const GET = 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n';

function bodyOf(buf: Buffer): string {
  const rs = responsesOf(buf);
  assert.equal(rs.length, 1, `one response, got ${JSON.stringify(buf.toString('latin1'))}`);
  assert.equal(rs[0]!.status, 200);
  return rs[0]!.body.toString();
}

/** A v2 header: command 0 LOCAL / 1 PROXY, family byte, address block, TLVs. */
function v2(cmd: number, fam: number, addr: Buffer, tlvs: [number, Buffer][] = []): Buffer {
  const t = Buffer.concat(tlvs.map(([type, v]) => Buffer.concat([Buffer.from([type, v.length >> 8, v.length & 255]), v])));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(addr.length + t.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20 | cmd, fam]), len, addr, t]);
}

function v4Block(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  src.split('.').forEach((x, i) => (b[i] = +x));
  dst.split('.').forEach((x, i) => (b[4 + i] = +x));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function v6Block(src: string, dst: string, sport: number, dport: number): Buffer {
  const words = (a: string): number[] => {
    const [l, r] = a.split('::') as [string, string | undefined];
    const left = l === '' ? [] : l.split(':').map((x) => parseInt(x, 16));
    const right = r === undefined || r === '' ? [] : r.split(':').map((x) => parseInt(x, 16));
    return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  };
  const b = Buffer.alloc(36);
  words(src).forEach((w, i) => b.writeUInt16BE(w, i * 2));
  words(dst).forEach((w, i) => b.writeUInt16BE(w, 16 + i * 2));
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}

test('PROXY v1 TCP4, TCP6 and UNKNOWN set remoteAddr; the header may arrive byte by byte', T, async () => {
  const s = await serve({ proxyProtocol: 'enable' });
  assert.equal(bodyOf(await exchange(s.port, ['PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n' + GET])), '203.0.113.7 http');
  assert.equal(bodyOf(await exchange(s.port, ['PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n', GET])), '2001:db8::7 http');
  assert.equal(bodyOf(await exchange(s.port, ['PROXY UNKNOWN\r\n' + GET])), '127.0.0.1 http');
  assert.equal(bodyOf(await exchange(s.port, ['PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n' + GET])), '127.0.0.1 http');
  const header = 'PROXY TCP4 198.51.100.22 192.0.2.1 1 2\r\n';
  assert.equal(bodyOf(await exchange(s.port, [...header.split(''), GET])), '198.51.100.22 http');
});

test('PROXY v2: PROXY over TCP4 and TCP6 with TLVs, LOCAL keeps the socket address; TLVs are parsed', T, async () => {
  const s = await serve({ proxyProtocol: 'enable' });
  const alpn: [number, Buffer] = [0x01, Buffer.from('http/1.1')];
  const authority: [number, Buffer] = [0x02, Buffer.from('example.test')];
  const h4 = v2(1, 0x11, v4Block('203.0.113.9', '192.0.2.1', 40000, 80), [alpn, authority]);
  assert.equal(bodyOf(await exchange(s.port, [Buffer.concat([h4, Buffer.from(GET)])])), '203.0.113.9 http');
  const h6 = v2(1, 0x21, v6Block('2001:db8::9', '2001:db8::1', 40000, 80), [[0x05, Buffer.from('unique-id-1')]]);
  assert.equal(bodyOf(await exchange(s.port, [h6.subarray(0, 5), h6.subarray(5, 20), h6.subarray(20), GET])), '2001:db8::9 http');
  const local = v2(0, 0x00, Buffer.alloc(0));
  assert.equal(bodyOf(await exchange(s.port, [Buffer.concat([local, Buffer.from(GET)])])), '127.0.0.1 http');

  const parsed = parseProxyHeader(Buffer.concat([h4, Buffer.from(GET)]), true);
  assert.equal(parsed.kind, 'header');
  if (parsed.kind !== 'header') return;
  assert.equal(parsed.length, h4.length);
  assert.deepEqual(parsed.header.tlvs.map((t) => [t.type, t.value.toString()]), [[1, 'http/1.1'], [2, 'example.test']]);
  assert.equal(parsed.header.sourcePort, 40000);
  assert.equal(parsed.header.destinationAddress, '192.0.2.1');
  assert.equal(parsed.header.family, 'tcp4');
});

test('malformed or missing PROXY headers close the connection without a byte of HTTP', T, async () => {
  const s = await serve({ proxyProtocol: 'enable', headersTimeout: 400 });
  const bad: (string | Buffer)[] = [
    GET, // plain HTTP where a header is required
    'PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n' + GET, // a field missing
    'PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n' + GET, // v6 address under TCP4
    'PROXY TCP4 256.0.0.1 192.0.2.1 1 2\r\n' + GET, // not an address
    'PROXY TCP4 203.0.113.7 192.0.2.1 1 65536\r\n' + GET, // port out of range
    'PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n' + GET, // not a v1 protocol
    'PROXY ' + 'x'.repeat(200), // no CRLF within 107 bytes
    Buffer.concat([V2_SIGNATURE, Buffer.from([0x31, 0x11, 0, 12]), v4Block('1.2.3.4', '5.6.7.8', 1, 2)]), // version 3
    Buffer.concat([V2_SIGNATURE, Buffer.from([0x22, 0x11, 0, 12]), v4Block('1.2.3.4', '5.6.7.8', 1, 2)]), // command 2
    Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 8]), Buffer.alloc(8)]), // address block too short
    Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 15]), v4Block('1.2.3.4', '5.6.7.8', 1, 2), Buffer.from([1, 0, 9])]), // TLV overrun
  ];
  for (const b of bad) {
    const got = await exchange(s.port, [b]);
    assert.equal(got.length, 0, `no answer to ${JSON.stringify(b.toString('latin1').slice(0, 60))}: ${JSON.stringify(got.toString('latin1'))}`);
  }
  // Silence is cut off by headersTimeout, and a truncated v2 header too.
  const t0 = Date.now();
  assert.equal((await exchange(s.port, [V2_SIGNATURE.subarray(0, 8)])).length, 0);
  assert.ok(Date.now() - t0 < 2500, 'closed by the headers timeout');
  // The server is still fine afterwards.
  assert.equal(bodyOf(await exchange(s.port, ['PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n' + GET])), '10.1.2.3 http');
});

test("'optional' accepts v1, v2 and plain HTTP; 'disable' treats a PROXY line as a bad request", T, async () => {
  const s = await serve({ proxyProtocol: 'optional' });
  assert.equal(bodyOf(await exchange(s.port, [GET])), '127.0.0.1 http');
  assert.equal(bodyOf(await exchange(s.port, ['G', 'ET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'])), '127.0.0.1 http');
  assert.equal(bodyOf(await exchange(s.port, ['PROXY TCP4 203.0.113.5 192.0.2.1 1 2\r\n' + GET])), '203.0.113.5 http');
  const h = v2(1, 0x11, v4Block('203.0.113.6', '192.0.2.1', 1, 2));
  assert.equal(bodyOf(await exchange(s.port, [h, GET])), '203.0.113.6 http');
  assert.equal((await exchange(s.port, ['PROXY TCP4 nonsense\r\n' + GET])).length, 0, 'a broken header is still refused');

  const off = await serve({});
  const r = responsesOf(await exchange(off.port, ['PROXY TCP4 203.0.113.5 192.0.2.1 1 2\r\n' + GET]));
  assert.equal(r[0]!.status, 400);
});

test('PROXY header ahead of a TLS handshake: remoteAddr from the header, scheme https', T, async () => {
  const cert = makeCert();
  for (const mode of ['enable', 'optional'] as const) {
    const s = await serve({ proxyProtocol: mode, tls: { key: cert.key, cert: cert.cert } });
    for (const coalesced of [false, true]) {
      const raw = net.connect(s.port, '127.0.0.1');
      await new Promise<void>((r) => raw.once('connect', r));
      const header = `PROXY TCP4 203.0.113.${coalesced ? 21 : 20} 192.0.2.1 1 2\r\n`;
      if (!coalesced) raw.write(header);
      // Coalesced: header and ClientHello in one segment, so the server must hand the
      // bytes after the header to TLS itself.
      const carrier = coalesced ? headerFirst(raw, header) : raw;
      const body = await new Promise<string>((resolve, reject) => {
        const t = tls.connect({ socket: carrier, ca: cert.cert, servername: 'localhost' }, () => t.write(GET));
        const got: Buffer[] = [];
        t.on('data', (d: Buffer) => got.push(d));
        t.on('end', () => resolve(bodyOf(Buffer.concat(got))));
        t.on('error', reject);
      });
      assert.equal(body, `203.0.113.${coalesced ? 21 : 20} https`, `${mode}, coalesced=${coalesced}`);
    }
    if (mode === 'optional') {
      // No header at all: a plain TLS client still gets through.
      const body = await new Promise<string>((resolve, reject) => {
        const t = tls.connect({ port: s.port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' }, () => t.write(GET));
        const got: Buffer[] = [];
        t.on('data', (d: Buffer) => got.push(d));
        t.on('end', () => resolve(bodyOf(Buffer.concat(got))));
        t.on('error', reject);
      });
      assert.equal(body, '127.0.0.1 https');
    }
  }
});

/** A client-side stream over `raw` whose first write goes out with `header` in front, in one segment. */
function headerFirst(raw: net.Socket, header: string): Duplex {
  let first = true;
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      raw.write(first ? Buffer.concat([Buffer.from(header), chunk]) : chunk, cb);
      first = false;
    },
    final(cb) {
      raw.end();
      cb();
    },
  });
  raw.on('data', (c: Buffer) => d.push(c));
  raw.on('end', () => d.push(null));
  raw.on('close', () => d.destroy());
  return d;
}
