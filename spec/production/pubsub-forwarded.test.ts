// The pub/sub interface's in-process implementations, and which forwarding headers
// count from which peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from '../../lib/index.ts';
import { LocalPubSub, ClusterPubSub, processPubSub } from '../../lib/cluster.ts';
import { TrustedProxies, applyForwarded } from '../../lib/proxy.ts';

test('LocalPubSub: delivery before publish returns, per topic, unsubscribe, a throwing listener spares the others', async () => {
  const ps = new LocalPubSub();
  const got: string[] = [];
  const offA = ps.subscribe('a', (m) => got.push('a1:' + m));
  ps.subscribe('a', () => {
    throw new Error('listener bug');
  });
  const log = console.error;
  console.error = () => {};
  try {
    ps.subscribe('a', (m) => got.push('a2:' + m));
    ps.subscribe('b', (m) => got.push('b:' + m));
    ps.publish('a', 'x');
    assert.deepEqual(got, ['a1:x', 'a2:x']);
    offA();
    offA();
    ps.publish('a', 'y');
    ps.publish('c', 'nobody');
    ps.publish('b', 'z');
    assert.deepEqual(got, ['a1:x', 'a2:x', 'a2:y', 'b:z']);
  } finally {
    console.error = log;
  }
  // The same function subscribed twice is called twice.
  const twice: string[] = [];
  const f = (m: string): void => void twice.push(m);
  ps.subscribe('t', f);
  ps.subscribe('t', f);
  ps.publish('t', 'm');
  assert.deepEqual(twice, ['m', 'm']);
  await ps.close();
  ps.publish('t', 'after close');
  assert.deepEqual(twice, ['m', 'm']);
});

test('ClusterPubSub outside a worker delivers in-process; processPubSub picks by process kind', async () => {
  const ps = new ClusterPubSub();
  const got: string[] = [];
  ps.subscribe('room', (m) => got.push(m));
  ps.publish('room', 'hi');
  assert.deepEqual(got, ['hi']);
  await ps.close();
  assert.ok(processPubSub() instanceof LocalPubSub);
});

function req(remoteAddr: string, headers: Record<string, string>): Request {
  return { remoteAddr, scheme: 'http', headers } as unknown as Request;
}

test('trusted proxies: addresses, CIDR ranges, loopback, IPv4-mapped IPv6; bad entries refused', () => {
  const t = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8', 'loopback']);
  for (const a of ['10.1.2.3', '192.0.2.7', 'fd12::1', '127.0.0.1', '127.9.9.9', '::1', '::ffff:10.0.0.1']) assert.ok(t.trusts(a), a);
  for (const a of ['11.0.0.1', '192.0.2.8', 'fe80::1', '::2', '', 'nonsense']) assert.ok(!t.trusts(a), a);
  assert.throws(() => new TrustedProxies(['10.0.0.0/33']), RangeError);
  assert.throws(() => new TrustedProxies(['example.com']), RangeError);
  assert.throws(() => new TrustedProxies(['10.0.0.0/x']), RangeError);
});

test('X-Forwarded-For / -Proto: rightmost untrusted hop, proto from the nearest proxy, nothing from others', () => {
  const t = new TrustedProxies(['10.0.0.0/8']);
  const cases: [string, Record<string, string>, string, string][] = [
    ['10.0.0.1', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' }, '203.0.113.9', 'https'],
    // Client-written entries to the left of the first untrusted hop are ignored.
    ['10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.0.0.2' }, '203.0.113.9', 'http'],
    // Every hop trusted: the leftmost.
    ['10.0.0.1', { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' }, '10.0.0.3', 'http'],
    // A malformed hop stops the walk at the last good one.
    ['10.0.0.1', { 'x-forwarded-for': '203.0.113.9, garbage, 10.0.0.2' }, '10.0.0.2', 'http'],
    ['10.0.0.1', { 'x-forwarded-for': '[2001:db8::5]:443', 'x-forwarded-proto': 'HTTPS' }, '2001:db8::5', 'https'],
    ['10.0.0.1', { 'x-forwarded-for': '198.51.100.4:5555' }, '198.51.100.4', 'http'],
    ['10.0.0.1', { 'x-forwarded-proto': 'https, http' }, '10.0.0.1', 'http'],
    ['10.0.0.1', { 'x-forwarded-proto': 'gopher' }, '10.0.0.1', 'http'],
    // Not from a trusted proxy: nothing changes.
    ['203.0.113.1', { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' }, '203.0.113.1', 'http'],
  ];
  for (const [peer, headers, addr, scheme] of cases) {
    const r = req(peer, headers);
    applyForwarded(r, t);
    assert.deepEqual([r.remoteAddr, r.scheme], [addr, scheme], JSON.stringify([peer, headers]));
    assert.deepEqual(r.headers, headers, 'headers untouched');
  }
});
