// permessage-deflate (RFC 7692): negotiation for both roles, compressed frames in and
// out, context takeover, and the decompression-bomb limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';
import { feed, cframe, Opcode } from './helpers.ts';
import { parseExtensions, acceptDeflateOffer, deflateOffer, verifyDeflateResponse, type DeflateParams } from '../../websocket/index.ts';

const DEFAULT: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** Compress one message as a peer would: raw deflate, sync flush, tail stripped. */
function compress(text: string | Buffer): Buffer {
  const out = deflateRawSync(typeof text === 'string' ? Buffer.from(text) : text, { finishFlush: zc.Z_SYNC_FLUSH });
  assert.ok(out.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff])));
  return out.subarray(0, -4);
}

function offer(h: string) {
  const o = parseExtensions(h);
  assert.ok(o);
  return o;
}

test('extension header parsing', () => {
  assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"'), [
    { name: 'permessage-deflate', params: { client_max_window_bits: true }, duplicate: false },
    { name: 'permessage-deflate', params: { server_max_window_bits: '10' }, duplicate: false },
  ]);
  assert.equal(parseExtensions('a;;b'), null);
  assert.equal(parseExtensions('a b'), null);
  assert.equal(parseExtensions('a; b="x y"'), null);
  assert.equal(parseExtensions('a; b=1; b=2')![0]!.duplicate, true);
});

test('server accepts the first acceptable offer and declines invalid ones', () => {
  const r = acceptDeflateOffer(offer('permessage-deflate; foo, permessage-deflate; server_max_window_bits=16, permessage-deflate; server_no_context_takeover; client_max_window_bits=10'), {});
  assert.ok(r);
  assert.deepEqual(r.params, { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 10 });
  assert.equal(r.header, 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10');
  assert.equal(acceptDeflateOffer(offer('x-webkit-deflate-frame'), {}), null);
  assert.equal(acceptDeflateOffer(offer('permessage-deflate; server_no_context_takeover; server_no_context_takeover'), {}), null);
  assert.equal(acceptDeflateOffer(offer('permessage-deflate; server_max_window_bits=08'), {}), null);
  assert.equal(acceptDeflateOffer(offer('permessage-deflate; server_max_window_bits'), {}), null, 'server_max_window_bits needs a value');
  assert.equal(acceptDeflateOffer(offer('permessage-deflate; client_no_context_takeover=1'), {}), null);
});

test('server policy: forced no-context-takeover and window limits', () => {
  const r = acceptDeflateOffer(offer('permessage-deflate; client_max_window_bits; server_max_window_bits=12'), {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 10,
    clientMaxWindowBits: 11,
  });
  assert.ok(r);
  assert.deepEqual(r.params, { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 });
  assert.equal(r.header, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11');
  // Without client_max_window_bits in the offer the response must not carry it.
  const r2 = acceptDeflateOffer(offer('permessage-deflate'), { clientMaxWindowBits: 11 });
  assert.ok(r2);
  assert.doesNotMatch(r2.header, /client_max_window_bits/);
});

test('client offer and response verification', () => {
  assert.equal(deflateOffer({}), 'permessage-deflate; client_max_window_bits');
  assert.equal(deflateOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12');
  const resp = (h: string) => offer(h)[0]!;
  assert.deepEqual(verifyDeflateResponse(resp('permessage-deflate; server_max_window_bits=12; client_max_window_bits=10'), {}),
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 10 });
  assert.equal(typeof verifyDeflateResponse(resp('permessage-deflate; client_max_window_bits'), {}), 'string', 'value required in a response');
  assert.equal(typeof verifyDeflateResponse(resp('permessage-deflate; server_max_window_bits=12'), { serverMaxWindowBits: 10 }), 'string');
  assert.equal(typeof verifyDeflateResponse(resp('permessage-deflate'), { serverNoContextTakeover: true }), 'string');
  assert.equal(typeof verifyDeflateResponse(resp('permessage-deflate; bogus'), {}), 'string');
});

test('compressed message is inflated (whole and byte by byte)', async () => {
  const text = 'hello hello hello hello compressed world ✓';
  const r = await feed(cframe(Opcode.TEXT, compress(text), { rsv: 0x40 }), { deflate: DEFAULT });
  assert.deepEqual(r.events, [['message', text, false]]);
});

test('compressed message split into fragments (RSV1 only on the first)', async () => {
  const payload = compress(Buffer.alloc(5000, 'abc'));
  const r = await feed([
    cframe(Opcode.BINARY, payload.subarray(0, 10), { fin: false, rsv: 0x40 }),
    cframe(Opcode.PING, 'mid'),
    cframe(Opcode.CONTINUATION, payload.subarray(10)),
  ], { deflate: DEFAULT });
  assert.deepEqual(r.events, [['ping', 'mid'], ['message', Buffer.alloc(5000, 'abc'), true]]);
});

test('RSV1 on a continuation frame -> 1002', async () => {
  const r = await feed([
    cframe(Opcode.TEXT, compress('ab'), { fin: false, rsv: 0x40 }),
    cframe(Opcode.CONTINUATION, compress('cd'), { rsv: 0x40 }),
  ], { deflate: DEFAULT });
  assert.deepEqual(r.events, [['error', 'WS_INVALID_RSV', 1002]]);
});

test('context takeover across messages (second message references the first)', async () => {
  // A peer keeping its context: compress two messages through one stream.
  const { createDeflateRaw } = await import('node:zlib');
  const d = createDeflateRaw();
  const chunks: Buffer[] = [];
  d.on('data', (c: Buffer) => chunks.push(c));
  const flushOne = (s: string) => new Promise<Buffer>((res) => {
    d.write(Buffer.from(s));
    d.flush(zc.Z_SYNC_FLUSH, () => {
      const out = Buffer.concat(chunks.splice(0));
      res(out.subarray(0, -4));
    });
  });
  const m1 = await flushOne('the quick brown fox jumps');
  const m2 = await flushOne('the quick brown fox jumps');
  d.close();
  assert.ok(m2.length < m1.length, 'second message uses the shared window');
  const r = await feed([cframe(Opcode.TEXT, m1, { rsv: 0x40 }), cframe(Opcode.TEXT, m2, { rsv: 0x40 })], { deflate: DEFAULT });
  assert.deepEqual(r.events, [['message', 'the quick brown fox jumps', false], ['message', 'the quick brown fox jumps', false]]);
});

test('invalid compressed data -> 1007', async () => {
  const r = await feed(cframe(Opcode.BINARY, Buffer.from([0xff, 0xff, 0xff, 0xff]), { rsv: 0x40 }), { deflate: DEFAULT });
  assert.deepEqual(r.events, [['error', 'WS_INVALID_COMPRESSED_DATA', 1007]]);
});

test('decompression bomb: inflating past maxPayload -> 1009', async () => {
  const bomb = compress(Buffer.alloc(10 * 1024 * 1024)); // ~10 KiB on the wire
  assert.ok(bomb.length < 20000);
  const r = await feed(cframe(Opcode.BINARY, bomb, { rsv: 0x40 }), { deflate: DEFAULT, maxPayload: 1024 * 1024 });
  assert.deepEqual(r.events, [['error', 'WS_MESSAGE_TOO_BIG', 1009]]);
  assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1009);
});

test('compressed text with invalid UTF-8 -> 1007', async () => {
  const r = await feed(cframe(Opcode.TEXT, compress(Buffer.from([0x61, 0xed, 0xa0, 0x80])), { rsv: 0x40 }), { deflate: DEFAULT });
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
});

test('outgoing messages are compressed above the threshold, plain below it', async () => {
  const { MemorySocket, decodeFrames } = await import('./helpers.ts');
  const { WebSocket } = await import('../../websocket/index.ts');
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'server', deflate: { ...DEFAULT, serverNoContextTakeover: true }, perMessageDeflate: { threshold: 100 } });
  ws.send('small');
  ws.send('x'.repeat(5000));
  ws.send(Buffer.alloc(3000, 7));
  ws.send('y'.repeat(5000), { compress: false });
  ws.ping('after');
  await new Promise((r) => setTimeout(r, 50));
  const frames = decodeFrames(sock.output());
  assert.deepEqual(frames.map((f) => [f.opcode, f.rsv]), [[1, 0], [1, 4], [2, 4], [1, 0], [Opcode.PING, 0]], 'order kept, RSV1 on compressed');
  assert.equal(inflateRawSync(Buffer.concat([frames[1]!.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zc.Z_SYNC_FLUSH }).toString(), 'x'.repeat(5000));
  // No context takeover: the second compressed message decodes on its own.
  assert.ok(inflateRawSync(Buffer.concat([frames[2]!.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zc.Z_SYNC_FLUSH }).equals(Buffer.alloc(3000, 7)));
  assert.ok(frames[1]!.payload.length < 100);
  ws.terminate();
});

test('a close arriving while a message is being compressed: data, then the close echo, then end', async () => {
  const { MemorySocket, decodeFrames } = await import('./helpers.ts');
  const { WebSocket } = await import('../../websocket/index.ts');
  const sock = new MemorySocket();
  const ws = new WebSocket(sock, { role: 'server', deflate: DEFAULT });
  ws.send('z'.repeat(50000));
  const close = Buffer.from([0x03, 0xe8]);
  sock.push(cframe(Opcode.CLOSE, close));
  for (let i = 0; i < 50 && !sock.ended; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(sock.ended, 'TCP ended after the queue was written');
  const frames = decodeFrames(sock.output());
  assert.deepEqual(frames.map((f) => [f.opcode, f.rsv]), [[Opcode.TEXT, 4], [Opcode.CLOSE, 0]]);
  assert.equal(frames[1]!.payload.readUInt16BE(0), 1000);
  ws.terminate();
});
