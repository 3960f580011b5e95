// Frame parsing rules (RFC 6455 5): every sequence is fed whole and byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feed, cframe, sframe, Opcode, MASK } from './helpers.ts';

const CLOSE = Opcode.CLOSE;

function closeCodeOf(frames: { opcode: number; payload: Buffer }[]): number | null {
  const c = frames.find((f) => f.opcode === CLOSE);
  return c && c.payload.length >= 2 ? c.payload.readUInt16BE(0) : null;
}

test('payload lengths: 7-bit, 16-bit and 64-bit forms at their edges', async () => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(n);
    for (let i = 0; i < n; i++) payload[i] = (i * 7) & 0xff;
    const r = await feed(cframe(Opcode.BINARY, payload));
    assert.equal(r.events.length, 1, `one event for ${n} bytes`);
    const [kind, data, bin] = r.events[0]!;
    assert.equal(kind, 'message');
    assert.equal(bin, true);
    assert.ok(Buffer.isBuffer(data) && data.equals(payload), `payload of ${n} bytes intact`);
  }
});

test('text message delivered as UTF-8 bytes with isBinary false', async () => {
  const r = await feed(cframe(Opcode.TEXT, 'héllo wörld ✓ 𝄞'));
  assert.deepEqual(r.events, [['message', 'héllo wörld ✓ 𝄞', false]]);
});

test('several frames in one chunk are all delivered in order', async () => {
  const r = await feed([cframe(Opcode.TEXT, 'a'), cframe(Opcode.BINARY, Buffer.from([1, 2])), cframe(Opcode.TEXT, 'c')]);
  assert.deepEqual(r.events, [['message', 'a', false], ['message', Buffer.from([1, 2]), true], ['message', 'c', false]]);
});

test('server rejects unmasked client frames with 1002', async () => {
  const r = await feed(sframe(Opcode.TEXT, 'hi'));
  assert.deepEqual(r.events, [['error', 'WS_MASK', 1002]]);
  assert.equal(closeCodeOf(r.frames), 1002);
  assert.ok(r.ended, 'TCP closed after the close frame');
});

test('client rejects masked server frames with 1002', async () => {
  const r = await feed(cframe(Opcode.TEXT, 'hi'), { role: 'client' });
  assert.deepEqual(r.events, [['error', 'WS_MASK', 1002]]);
  assert.equal(closeCodeOf(r.frames), 1002);
  assert.ok(r.frames[0]!.masked, 'client close frame is masked');
});

test('client accepts unmasked frames', async () => {
  const r = await feed(sframe(Opcode.TEXT, 'hi'), { role: 'client' });
  assert.deepEqual(r.events, [['message', 'hi', false]]);
});

test('fragmented message with ping and pong interleaved', async () => {
  const r = await feed([
    cframe(Opcode.TEXT, 'Hel', { fin: false }),
    cframe(Opcode.PING, 'p1'),
    cframe(Opcode.CONTINUATION, 'lo ', { fin: false }),
    cframe(Opcode.PONG, 'unsolicited'),
    cframe(Opcode.CONTINUATION, 'world'),
  ]);
  assert.deepEqual(r.events, [['ping', 'p1'], ['pong', 'unsolicited'], ['message', 'Hello world', false]]);
  // The ping is answered with the same payload; the unsolicited pong gets no answer.
  assert.deepEqual(r.frames.map((f) => [f.opcode, f.payload.toString()]), [[Opcode.PONG, 'p1']]);
  assert.equal(r.frames[0]!.masked, false);
});

test('fragmented binary message with empty fragments', async () => {
  const r = await feed([
    cframe(Opcode.BINARY, Buffer.alloc(0), { fin: false }),
    cframe(Opcode.CONTINUATION, Buffer.from([1]), { fin: false }),
    cframe(Opcode.CONTINUATION, Buffer.alloc(0), { fin: false }),
    cframe(Opcode.CONTINUATION, Buffer.from([2, 3])),
  ]);
  assert.deepEqual(r.events, [['message', Buffer.from([1, 2, 3]), true]]);
});

test('continuation without a message in progress -> 1002', async () => {
  const r = await feed(cframe(Opcode.CONTINUATION, 'x'));
  assert.deepEqual(r.events, [['error', 'WS_UNEXPECTED_CONTINUATION', 1002]]);
  assert.equal(closeCodeOf(r.frames), 1002);
});

test('new data frame while a fragmented message is open -> 1002', async () => {
  const r = await feed([cframe(Opcode.TEXT, 'a', { fin: false }), cframe(Opcode.TEXT, 'b')]);
  assert.deepEqual(r.events, [['error', 'WS_EXPECTED_CONTINUATION', 1002]]);
});

test('reserved opcodes 3-7 and 0xB-0xF -> 1002', async () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const r = await feed(cframe(op, 'x'));
    assert.deepEqual(r.events, [['error', 'WS_INVALID_OPCODE', 1002]], `opcode ${op}`);
    assert.equal(closeCodeOf(r.frames), 1002);
  }
});

test('RSV bits without a negotiated extension -> 1002', async () => {
  for (const rsv of [0x40, 0x20, 0x10]) {
    const r = await feed(cframe(Opcode.TEXT, 'x', { rsv }));
    assert.deepEqual(r.events, [['error', 'WS_INVALID_RSV', 1002]], `rsv ${rsv}`);
  }
});

test('RSV1 on a control frame -> 1002 even with deflate negotiated', async () => {
  const deflate = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const r = await feed(cframe(Opcode.PING, 'x', { rsv: 0x40 }), { deflate });
  assert.deepEqual(r.events, [['error', 'WS_INVALID_RSV', 1002]]);
});

test('control frame over 125 bytes -> 1002', async () => {
  const r = await feed(cframe(Opcode.PING, Buffer.alloc(126)));
  assert.deepEqual(r.events, [['error', 'WS_CONTROL_TOO_LONG', 1002]]);
  const ok = await feed(cframe(Opcode.PING, Buffer.alloc(125, 0x61)));
  assert.deepEqual(ok.events, [['ping', 'a'.repeat(125)]]);
  assert.equal(ok.frames[0]!.payload.length, 125);
});

test('fragmented control frame -> 1002', async () => {
  const r = await feed(cframe(Opcode.PING, 'x', { fin: false }));
  assert.deepEqual(r.events, [['error', 'WS_FRAGMENTED_CONTROL', 1002]]);
});

test('non-minimal length encodings -> 1002', async () => {
  // 16-bit form carrying 5, and 64-bit form carrying 200.
  const h16 = Buffer.from([0x82, 0x80 | 126, 0, 5]);
  const r16 = await feed(Buffer.concat([h16, MASK, Buffer.alloc(5)]));
  assert.deepEqual(r16.events, [['error', 'WS_NON_MINIMAL_LENGTH', 1002]]);
  const h64 = Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 200]);
  const r64 = await feed(Buffer.concat([h64, MASK, Buffer.alloc(200)]));
  assert.deepEqual(r64.events, [['error', 'WS_NON_MINIMAL_LENGTH', 1002]]);
});

test('64-bit length with the most significant bit set -> 1002', async () => {
  const h = Buffer.from([0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
  const r = await feed(Buffer.concat([h, MASK]));
  assert.deepEqual(r.events, [['error', 'WS_INVALID_LENGTH', 1002]]);
});

test('message over maxPayload -> 1009, detected from the header before the payload arrives', async () => {
  const header = Buffer.from([0x82, 0x80 | 126, 0x04, 0x01]); // 1025 bytes announced, none sent
  const r = await feed(Buffer.concat([header, MASK]), { maxPayload: 1024 });
  assert.deepEqual(r.events, [['error', 'WS_MESSAGE_TOO_BIG', 1009]]);
  assert.equal(closeCodeOf(r.frames), 1009);
  const ok = await feed(cframe(Opcode.BINARY, Buffer.alloc(1024)), { maxPayload: 1024 });
  assert.equal(ok.events[0]![0], 'message');
});

test('fragments adding up past maxPayload -> 1009', async () => {
  const r = await feed([
    cframe(Opcode.BINARY, Buffer.alloc(600), { fin: false }),
    cframe(Opcode.CONTINUATION, Buffer.alloc(600)),
  ], { maxPayload: 1000 });
  assert.deepEqual(r.events, [['error', 'WS_MESSAGE_TOO_BIG', 1009]]);
});

test('default maxPayload is 4 MiB', async () => {
  const header = Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0x40, 0, 1]); // 4 MiB + 1
  const r = await feed(Buffer.concat([header, MASK]));
  assert.deepEqual(r.events, [['error', 'WS_MESSAGE_TOO_BIG', 1009]]);
});

test('more frames per message than maxFrames -> 1009', async () => {
  const frames = [cframe(Opcode.TEXT, 'a', { fin: false })];
  for (let i = 0; i < 4; i++) frames.push(cframe(Opcode.CONTINUATION, 'b', { fin: false }));
  frames.push(cframe(Opcode.CONTINUATION, 'c'));
  const r = await feed(frames, { maxFrames: 5 });
  assert.deepEqual(r.events, [['error', 'WS_TOO_MANY_FRAMES', 1009]]);
  const ok = await feed(frames, { maxFrames: 6 });
  assert.deepEqual(ok.events, [['message', 'abbbbc', false]]);
});

test('a partial frame stays pending and nothing is delivered', async () => {
  const whole = cframe(Opcode.TEXT, 'hello');
  const r = await feed(whole.subarray(0, whole.length - 1));
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.frames, []);
});

test('random bytes never throw: each input ends in messages, an error close, or waiting', async () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let round = 0; round < 150; round++) {
    // Half well-formed frames with random flags, half noise.
    const parts: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      if (rand() < 0.5) {
        const op = [0, 1, 2, 3, 8, 9, 10, 11][Math.floor(rand() * 8)]!;
        const payload = Buffer.from(Array.from({ length: Math.floor(rand() * 140) }, () => Math.floor(rand() * 256)));
        parts.push(cframe(op, payload, { fin: rand() < 0.7, rsv: rand() < 0.1 ? 0x40 : 0 }));
      } else {
        parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 256))));
      }
    }
    const r = await feed(parts);
    const errors = r.events.filter((e) => e[0] === 'error');
    assert.ok(errors.length <= 1, 'at most one failure');
    if (errors.length === 1) {
      assert.equal(r.events.at(-1)![0], 'error', 'nothing is delivered after a failure');
      assert.ok([1002, 1007, 1009].includes(errors[0]![2] as number));
    }
  }
});

test('short text frames: a byte over 0x7f at any position and key phase is still UTF-8 checked', async () => {
  for (let len = 1; len <= 9; len++) {
    for (let at = 0; at < len; at++) {
      const bad = Buffer.alloc(len, 'a');
      bad[at] = 0xff;
      const r = await feed(cframe(Opcode.TEXT, bad));
      assert.deepEqual(r.events, [['error', 'WS_INVALID_UTF8', 1007]], `0xff at ${at} of ${len}`);
      assert.equal(closeCodeOf(r.frames), 1007);
    }
    const good = 'é'.padStart(len, 'a');
    const r = await feed(cframe(Opcode.TEXT, good));
    assert.deepEqual(r.events, [['message', good, false]], `valid ${len}-char text`);
  }
  // The longest ASCII-scanned length and the first one checked the usual way.
  for (const len of [127, 128]) {
    const bad = Buffer.alloc(len, 'z');
    bad[len - 1] = 0x80;
    assert.deepEqual((await feed(cframe(Opcode.TEXT, bad))).events, [['error', 'WS_INVALID_UTF8', 1007]]);
    assert.deepEqual((await feed(cframe(Opcode.TEXT, 'q'.repeat(len)))).events, [['message', 'q'.repeat(len), false]]);
  }
});
