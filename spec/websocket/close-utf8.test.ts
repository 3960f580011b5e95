// UTF-8 validation of text (fail-fast across fragments) and the close handshake rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feed, cframe, sframe, Opcode } from './helpers.ts';
import { utf8Continue, UTF8_ACCEPT, UTF8_REJECT, isValidCloseCode } from '../../websocket/index.ts';
import { unmaskInPlace, maskInto } from '../../websocket/frame.ts';

function closePayload(code: number, reason: string | Buffer = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

test('utf8Continue: valid text split at every byte boundary ends in ACCEPT', () => {
  const text = Buffer.from('aé✓𝄞z€\u{10FFFF}\u0800\u07ff');
  for (let cut = 0; cut <= text.length; cut++) {
    const s = utf8Continue(utf8Continue(UTF8_ACCEPT, text.subarray(0, cut)), text.subarray(cut));
    assert.equal(s, UTF8_ACCEPT, `split at ${cut}`);
  }
});

test('utf8Continue: rejects on the first impossible byte', () => {
  // [bytes, name, index of the byte that makes the sequence impossible]
  const bad: [number[], string, number][] = [
    [[0xc0, 0x80], 'overlong C0', 0],
    [[0xc1], 'overlong C1', 0],
    [[0xe0, 0x80], 'overlong E0', 1],
    [[0xed, 0xa0], 'surrogate', 1],
    [[0xf0, 0x80], 'overlong F0', 1],
    [[0xf4, 0x90], 'above U+10FFFF', 1],
    [[0xf5], 'F5 lead', 0],
    [[0xff], 'FF', 0],
    [[0x80], 'lone continuation', 0],
    [[0xe2, 0x82, 0x41], 'bad continuation', 2],
  ];
  for (const [bytes, name, at] of bad) {
    assert.equal(utf8Continue(UTF8_ACCEPT, Buffer.from(bytes)), UTF8_REJECT, name);
    // Byte by byte it fails exactly on the impossible byte, not before and not later.
    let s = UTF8_ACCEPT;
    for (let i = 0; i < bytes.length; i++) {
      s = utf8Continue(s, Buffer.from([bytes[i]!]));
      assert.equal(s === UTF8_REJECT, i >= at, `${name}: state after byte ${i}`);
      if (s === UTF8_REJECT) break;
    }
  }
  // Long valid ASCII run then a bad byte: the native fast path must still catch it.
  assert.equal(utf8Continue(UTF8_ACCEPT, Buffer.concat([Buffer.alloc(1000, 0x61), Buffer.from([0xed, 0xbf, 0xbf])])), UTF8_REJECT);
  // An incomplete sequence is not an error until the message ends.
  assert.notEqual(utf8Continue(UTF8_ACCEPT, Buffer.from([0xf0, 0x9f, 0x98])), UTF8_REJECT);
});

test('invalid UTF-8 in a single-frame text message -> 1007', async () => {
  const r = await feed(cframe(Opcode.TEXT, Buffer.from([0x68, 0xc3, 0x28])));
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
  assert.equal(r.frames[0]!.opcode, Opcode.CLOSE);
  assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1007);
});

test('fragmented text fails fast: 1007 on the first bad fragment, before FIN', async () => {
  // The final fragment never arrives; the close must already be out.
  const r = await feed([cframe(Opcode.TEXT, 'ok', { fin: false }), cframe(Opcode.CONTINUATION, Buffer.from([0xce, 0xba, 0xf4, 0x90]), { fin: false })]);
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
  assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1007);
});

test('a code point split across fragments is valid', async () => {
  const bytes = Buffer.from('κόσμε𝄞');
  const r = await feed([
    cframe(Opcode.TEXT, bytes.subarray(0, 1), { fin: false }),
    cframe(Opcode.CONTINUATION, bytes.subarray(1, 12), { fin: false }),
    cframe(Opcode.CONTINUATION, bytes.subarray(12)),
  ]);
  assert.deepEqual(r.events, [['message', 'κόσμε𝄞', false]]);
});

test('text ending inside a sequence at FIN -> 1007', async () => {
  const r = await feed([cframe(Opcode.TEXT, 'a', { fin: false }), cframe(Opcode.CONTINUATION, Buffer.from([0xe2, 0x82]))]);
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
});

test('binary messages are not UTF-8 checked', async () => {
  const r = await feed(cframe(Opcode.BINARY, Buffer.from([0xff, 0xfe])));
  assert.deepEqual(r.events, [['message', Buffer.from([0xff, 0xfe]), true]]);
});

test('isValidCloseCode follows RFC 6455 7.4', () => {
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) assert.ok(isValidCloseCode(c), `${c} valid`);
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) assert.ok(!isValidCloseCode(c), `${c} invalid`);
});

test('close frame is echoed with the same code, then the server ends TCP', async () => {
  const r = await feed(cframe(Opcode.CLOSE, closePayload(1000, 'bye')));
  assert.deepEqual(r.frames.map((f) => [f.opcode, f.payload.readUInt16BE(0)]), [[Opcode.CLOSE, 1000]]);
  assert.ok(r.ended, 'server ended TCP after echoing the close');
});

test('empty close frame is echoed empty; onClose gets 1005', async () => {
  const r = await feed(cframe(Opcode.CLOSE, Buffer.alloc(0)));
  assert.equal(r.frames.length, 1);
  assert.equal(r.frames[0]!.payload.length, 0);
});

test('close codes valid on the wire are accepted, others -> 1002', async () => {
  for (const code of [1000, 1001, 1003, 1011, 1014, 3000, 4999]) {
    const r = await feed(cframe(Opcode.CLOSE, closePayload(code)));
    assert.deepEqual(r.events, [], `code ${code}`);
    assert.equal(r.frames[0]!.payload.readUInt16BE(0), code);
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000]) {
    const r = await feed(cframe(Opcode.CLOSE, closePayload(code)));
    assert.deepEqual(r.events, [['error', 'WS_INVALID_CLOSE_CODE', 1002]], `code ${code}`);
    assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1002);
  }
});

test('1-byte close payload -> 1002', async () => {
  const r = await feed(cframe(Opcode.CLOSE, Buffer.from([0x03])));
  assert.deepEqual(r.events, [['error', 'WS_INVALID_CLOSE', 1002]]);
});

test('close reason must be UTF-8 -> 1007', async () => {
  const r = await feed(cframe(Opcode.CLOSE, closePayload(1000, Buffer.from([0xff]))));
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
});

test('data after a close frame is ignored', async () => {
  const r = await feed([cframe(Opcode.CLOSE, closePayload(1000)), cframe(Opcode.TEXT, 'late'), cframe(Opcode.PING, 'late')]);
  assert.deepEqual(r.events, []);
  assert.equal(r.frames.length, 1, 'only the close echo; no pong for the late ping');
});

test('garbage after a close frame is ignored too', async () => {
  const r = await feed([cframe(Opcode.CLOSE, closePayload(1001)), Buffer.from([0xff, 0xff, 0xff])]);
  assert.deepEqual(r.events, []);
  assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1001);
});

test('unmask/mask word loop matches the byte definition at every alignment and length', () => {
  const key = [0x12, 0x9a, 0xfe, 0x01] as const;
  const backing = Buffer.alloc(600);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + 7) & 0xff;
  for (const off of [0, 1, 2, 3, 5]) {
    for (const len of [0, 1, 3, 4, 5, 31, 32, 33, 64, 127, 128, 129, 131, 500]) {
      const buf = Buffer.from(backing.subarray(0, off + len + 3));
      const expect = Buffer.from(buf);
      for (let i = 0; i < len; i++) expect[off + i]! ^= key[i & 3];
      unmaskInPlace(buf, off, off + len, ...key);
      assert.ok(buf.equals(expect), `in place off=${off} len=${len}`);
      const dst = Buffer.alloc(len + off);
      maskInto(dst, off, backing, 0, len, ...key);
      const want = Buffer.alloc(len);
      for (let i = 0; i < len; i++) want[i] = backing[i]! ^ key[i & 3];
      assert.ok(dst.subarray(off).equals(want), `maskInto off=${off} len=${len}`);
    }
  }
});

test('a large text frame arriving in pieces is unmasked and checked as it comes, and delivered intact', async () => {
  const text = 'ab€𝄞ü'.repeat(3000); // multi-byte sequences land on every chunk boundary byte by byte
  const r = await feed(cframe(Opcode.TEXT, text));
  assert.deepEqual(r.events, [['message', text, false]]);
  // Client role: unmasked frames take the same path without unmasking.
  const c = await feed(sframe(Opcode.TEXT, text), { role: 'client' });
  assert.deepEqual(c.events, [['message', text, false]]);
});

test('invalid UTF-8 early in a large single frame fails before the frame is complete', async () => {
  const payload = Buffer.concat([Buffer.from('fine so far '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.alloc(5000, 0x61)]);
  const frame = cframe(Opcode.TEXT, payload);
  // Only the first 100 bytes arrive: the frame is far from complete.
  const r = await feed(frame.subarray(0, 100));
  assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]]);
  assert.equal(r.frames[0]!.payload.readUInt16BE(0), 1007);
});

test('a streamed text frame inside a fragmented message, with a ping between fragments', async () => {
  const second = 'é'.repeat(2000);
  const r = await feed([cframe(Opcode.TEXT, 'x', { fin: false }), cframe(Opcode.PING, 'p'), cframe(Opcode.CONTINUATION, second)]);
  assert.deepEqual(r.events, [['ping', 'p'], ['message', 'x' + second, false]]);
});
