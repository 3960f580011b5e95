// Opening handshake: server validation and response bytes, client request and checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptUpgrade, acceptKey, buildClientRequest, verifyServerResponse, parseResponseHead, type UpgradeAccepted, type UpgradeRejected } from '../../websocket/index.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const base = {
  host: 'example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': KEY,
  'sec-websocket-version': '13',
};

function req(headers: Record<string, string | undefined>, method = 'GET', httpVersion?: string) {
  return { method, headers: { ...base, ...headers } as Record<string, string>, httpVersion };
}

function accepted(r: ReturnType<typeof acceptUpgrade>): UpgradeAccepted {
  assert.ok(r.ok, `expected acceptance, got ${!r.ok ? r.status + ' ' + r.reason : ''}`);
  return r;
}
function rejected(r: ReturnType<typeof acceptUpgrade>, status: number): UpgradeRejected {
  assert.equal(r.ok, false);
  assert.equal((r as UpgradeRejected).status, status);
  return r as UpgradeRejected;
}

test('Sec-WebSocket-Accept of the RFC 6455 sample key', () => {
  assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('valid request -> exact 101 response bytes', () => {
  const r = accepted(acceptUpgrade(req({})));
  assert.equal(
    r.response.toString('latin1'),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
  );
  assert.equal(r.protocol, '');
  assert.equal(r.deflate, null);
});

test('header tokens are case-insensitive and lists are searched', () => {
  accepted(acceptUpgrade(req({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' })));
  accepted(acceptUpgrade(req({}, 'get', 'HTTP/1.1')));
});

test('header lookup may be a function', () => {
  const h: Record<string, string> = { ...base };
  const r = acceptUpgrade({ method: 'GET', headers: (n) => h[n] });
  assert.ok(r.ok);
});

test('malformed requests -> 400 with a reason and Connection: close', () => {
  const cases: [Record<string, string | undefined>, string?, string?][] = [
    [{}, 'POST'],
    [{}, 'GET', 'HTTP/1.0'],
    [{ upgrade: undefined }],
    [{ upgrade: 'h2c' }],
    [{ connection: 'keep-alive' }],
    [{ 'sec-websocket-key': undefined }],
    [{ 'sec-websocket-key': 'short' }],
    [{ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ' }],
    [{ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZR==' }], // not a canonical 16-byte encoding
    [{ 'sec-websocket-key': `${KEY}, ${KEY}` }],
    [{ 'sec-websocket-version': undefined }],
    [{ 'sec-websocket-protocol': 'chat, chat' }],
    [{ 'sec-websocket-protocol': 'ch at' }],
    [{ 'sec-websocket-extensions': 'permessage-deflate; =x' }],
    [{ 'sec-websocket-extensions': 'permessage-deflate; a="unterminated' }],
  ];
  for (const [h, method, version] of cases) {
    const headers: Record<string, string | undefined> = { ...base, ...h };
    for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
    const r = rejected(acceptUpgrade({ method: method ?? 'GET', headers: headers as Record<string, string>, httpVersion: version }), 400);
    const text = r.response.toString();
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.ok(text.endsWith(`\r\n\r\n${r.reason}`), JSON.stringify(h));
  }
});

test('other versions -> 426 with Sec-WebSocket-Version: 13', () => {
  for (const v of ['8', '7', '12', '14', '13, 8']) {
    const r = rejected(acceptUpgrade(req({ 'sec-websocket-version': v })), 426);
    assert.equal(r.headers['Sec-WebSocket-Version'], '13');
    assert.match(r.response.toString(), /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*\r\nSec-WebSocket-Version: 13\r\n/);
  }
});

test('origin hook: false -> 403', () => {
  const verifyOrigin = (o: string | undefined) => o === 'https://good.example';
  rejected(acceptUpgrade(req({ origin: 'https://evil.example' }), { verifyOrigin }), 403);
  rejected(acceptUpgrade(req({}), { verifyOrigin }), 403);
  accepted(acceptUpgrade(req({ origin: 'https://good.example' }), { verifyOrigin }));
});

test('subprotocol selection by callback and by list', () => {
  const offered: string[][] = [];
  const r = accepted(acceptUpgrade(req({ 'sec-websocket-protocol': 'v2.chat, v1.chat' }), {
    selectProtocol: (list) => {
      offered.push(list);
      return list.includes('v1.chat') ? 'v1.chat' : null;
    },
  }));
  assert.deepEqual(offered, [['v2.chat', 'v1.chat']]);
  assert.equal(r.protocol, 'v1.chat');
  assert.match(r.response.toString(), /\r\nSec-WebSocket-Protocol: v1.chat\r\n/);

  const none = accepted(acceptUpgrade(req({ 'sec-websocket-protocol': 'x' }), { selectProtocol: () => null }));
  assert.equal(none.protocol, '');
  assert.doesNotMatch(none.response.toString(), /Sec-WebSocket-Protocol/);

  const byList = accepted(acceptUpgrade(req({ 'sec-websocket-protocol': 'a, b, c' }), { protocols: ['c', 'b'] }));
  assert.equal(byList.protocol, 'b', 'first in the client order that the server speaks');

  assert.throws(() => acceptUpgrade(req({ 'sec-websocket-protocol': 'a' }), { selectProtocol: () => 'zzz' }), /did not offer/);
});

test('permessage-deflate is off unless enabled', () => {
  const h = { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' };
  const off = accepted(acceptUpgrade(req(h)));
  assert.equal(off.deflate, null);
  assert.doesNotMatch(off.response.toString(), /Extensions/);
  const on = accepted(acceptUpgrade(req(h), { perMessageDeflate: true }));
  assert.deepEqual(on.deflate, { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
  assert.match(on.response.toString(), /\r\nSec-WebSocket-Extensions: permessage-deflate\r\n/);
});

test('extra response headers are added', () => {
  const r = accepted(acceptUpgrade(req({}), { headers: { 'X-Test': '1' } }));
  assert.match(r.response.toString(), /\r\nX-Test: 1\r\n\r\n$/);
});

test('client request carries key, version, protocols, extensions and headers', () => {
  const { key, request } = buildClientRequest(new URL('ws://u:p%40ss@example.com:8080/chat?room=1'), {
    protocols: ['a', 'b'],
    perMessageDeflate: true,
    headers: { Origin: 'http://example.com' },
  });
  const text = request.toString();
  assert.match(key, /^[+/0-9A-Za-z]{21}[AQgw]==$/);
  assert.match(text, /^GET \/chat\?room=1 HTTP\/1\.1\r\nHost: example.com:8080\r\n/);
  assert.match(text, new RegExp(`\\r\\nSec-WebSocket-Key: ${key.replace(/[+/]/g, '\\$&')}\\r\\n`));
  assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Protocol: a, b\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n/);
  assert.match(text, /\r\nAuthorization: Basic dTpwQHNz\r\n/);
  assert.match(text, /\r\nOrigin: http:\/\/example.com\r\n\r\n$/);
  assert.throws(() => buildClientRequest(new URL('ws://x/'), { headers: { 'X-Bad': 'a\r\nInjected: 1' } }), /invalid header/);
  const own = buildClientRequest(new URL('ws://127.0.0.1:9/'), { headers: { host: 'virtual.example' } }).request.toString();
  assert.equal(own.match(/^host:/gim)?.length, 1, 'one Host header');
  assert.match(own, /\r\nhost: virtual.example\r\n/);
});

test('client verifies the 101: status, upgrade, accept key, protocol, extensions', () => {
  const key = KEY;
  const good = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': acceptKey(key) };
  assert.deepEqual(verifyServerResponse({ statusCode: 101, headers: good }, key), { protocol: '', deflate: null });
  assert.match(verifyServerResponse({ statusCode: 200, headers: good }, key) as string, /status 200/);
  assert.match(verifyServerResponse({ statusCode: 101, headers: { ...good, 'sec-websocket-accept': 'AAAA' } }, key) as string, /Accept/);
  assert.match(verifyServerResponse({ statusCode: 101, headers: { ...good, upgrade: 'h2c' } }, key) as string, /Upgrade/);
  assert.match(verifyServerResponse({ statusCode: 101, headers: { ...good, 'sec-websocket-protocol': 'x' } }, key, { protocols: ['y'] }) as string, /not offered/);
  assert.deepEqual(verifyServerResponse({ statusCode: 101, headers: { ...good, 'sec-websocket-protocol': 'y' } }, key, { protocols: ['y'] }), { protocol: 'y', deflate: null });
  assert.match(verifyServerResponse({ statusCode: 101, headers: { ...good, 'sec-websocket-extensions': 'permessage-deflate' } }, key) as string, /not offered/);
  assert.match(verifyServerResponse({ statusCode: 101, headers: { ...good, 'sec-websocket-extensions': 'x-foo' } }, key, { perMessageDeflate: true }) as string, /not offered/);
});

test('response head parser', () => {
  const head = parseResponseHead(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2\r\n\r\nrest'));
  assert.ok(head && typeof head === 'object');
  assert.equal(head.statusCode, 101);
  assert.equal(head.headers['x-a'], '1, 2');
  assert.equal(head.length, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2\r\n\r\n'.length);
  assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n')), null);
  assert.equal(typeof parseResponseHead(Buffer.from('HTTP/1.1 10 OK\r\n\r\n')), 'string');
  assert.equal(typeof parseResponseHead(Buffer.from('HTTP/1.1 101 OK\r\nBad Name: x\r\n\r\n')), 'string');
  assert.equal(typeof parseResponseHead(Buffer.alloc(20000, 0x61), 16384), 'string');
});
