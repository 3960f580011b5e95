// Lent input: the receiver fed from one shared read buffer that the reader overwrites
// after every push (what node:net's `onread` does). Every event must still carry the
// right bytes, and nothing may keep a view of the buffer: each test scribbles over
// the whole buffer after each push and keeps the data of events that say they are not
// lent without copying it, so a missed copy shows up as wrong bytes or a protocol error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, constants as zc } from 'node:zlib';
import { cframe, Opcode, MemorySocket, decodeFrames } from './helpers.ts';
import { Receiver, PerMessageDeflate, WebSocket, type ReceiverHandler, type WebSocketError, type DeflateParams } from '../../websocket/index.ts';

type Ev = [string, string, boolean?];

/** Records events; copies data only when the receiver says it is lent. */
class Recorder implements ReceiverHandler {
  kept: Array<[string, Buffer, boolean?]> = [];
  /** Events whose data viewed the lent chunk (processed in place). */
  inPlace = 0;
  resumed = 0;
  private keep(kind: string, data: Buffer, lent: boolean, isBinary?: boolean): void {
    if (lent) this.inPlace++;
    this.kept.push([kind, lent ? Buffer.from(data) : data, isBinary]);
  }
  rxMessage(data: Buffer, isBinary: boolean, lent: boolean): void {
    this.keep('message', data, lent, isBinary);
  }
  rxPing(data: Buffer, lent: boolean): void {
    this.keep('ping', data, lent);
  }
  rxPong(data: Buffer, lent: boolean): void {
    this.keep('pong', data, lent);
  }
  rxClose(code: number, reason: string): void {
    this.kept.push(['close', Buffer.from(`${code} ${reason}`)]);
  }
  rxError(err: WebSocketError): void {
    this.kept.push(['error', Buffer.from(`${err.code} ${err.closeCode}`)]);
  }
  rxResume(): void {
    this.resumed++;
  }
  /** Read only at the end: views kept by mistake have been overwritten by then. */
  events(): Ev[] {
    return this.kept.map(([k, d, b]) => (b === undefined ? [k, d.toString('hex')] : [k, d.toString('hex'), b]));
  }
}

const DEFLATE: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

function receiver(h: Recorder, deflate = false): Receiver {
  return new Receiver(h, { isServer: true, maxPayload: 1 << 22, maxFrames: 100, deflate: deflate ? new PerMessageDeflate(DEFLATE, true) : null });
}

/**
 * Push `bytes` cut at `cuts` through one shared buffer, at a varying offset in it,
 * overwriting the whole buffer after each push. With `waitResume`, wait for rxResume
 * whenever push() reports the receiver busy (inflation); otherwise keep pushing, so
 * input queues behind the inflater.
 */
async function pushLent(rx: Receiver, h: Recorder, bytes: Buffer, cuts: number[], waitResume = false): Promise<void> {
  const shared = Buffer.alloc(bytes.length + 64);
  let prev = 0;
  let k = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut === prev) continue;
    const off = (k++ * 13) % 64;
    bytes.copy(shared, off, prev, cut);
    const more = rx.push(shared.subarray(off, off + cut - prev), true);
    shared.fill(0xa5);
    prev = cut;
    if (!more && waitResume) {
      const r = h.resumed;
      await until(() => h.resumed > r || h.kept.some((e) => e[0] === 'error'));
    }
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition reached in time');
}

/** The reference: the same bytes pushed as one chunk that nobody overwrites. */
async function reference(bytes: Buffer, deflate = false): Promise<Ev[]> {
  const h = new Recorder();
  const rx = receiver(h, deflate);
  rx.push(Buffer.from(bytes));
  if (deflate) await settle(h);
  return h.events();
}

/** Wait until no event arrives for a few ticks (inflation runs off-thread). */
async function settle(h: Recorder): Promise<void> {
  let last = -1;
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((r) => setTimeout(r, 5));
    quiet = h.kept.length === last ? quiet + 1 : 0;
    last = h.kept.length;
  }
}

/** Deterministic pseudo-random cut points. */
function randomCuts(len: number, count: number, seed: number): number[] {
  let s = seed;
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, len - 1)) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    cuts.add(1 + (s % (len - 1)));
  }
  return [...cuts].sort((a, b) => a - b);
}

const every = (len: number) => Array.from({ length: len - 1 }, (_, i) => i + 1);

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

// Whole frames of all three length forms, text with multi-byte UTF-8 (checked while a
// frame is still arriving), binary long enough for word-wise unmasking.
const SIZES = Buffer.concat([
  cframe(Opcode.TEXT, 'hello'),
  cframe(Opcode.BINARY, pattern(200, 1)),
  cframe(Opcode.TEXT, 'žluťoučký kůň ✓ '.repeat(20)),
  cframe(Opcode.BINARY, pattern(70000, 2)),
  cframe(Opcode.TEXT, ''),
  cframe(Opcode.TEXT, '€'),
]);

// A fragmented text message (a UTF-8 sequence split across fragments) with a ping
// and a pong between its frames, an empty fragment, a fragmented binary message, then
// a close frame with a reason.
const FRAGMENTED = Buffer.concat([
  cframe(Opcode.TEXT, Buffer.from('ab€'.repeat(3)).subarray(0, 7), { fin: false }),
  cframe(Opcode.PING, 'are you there'),
  cframe(Opcode.CONTINUATION, Buffer.from('ab€'.repeat(3)).subarray(7, 12), { fin: false }),
  cframe(Opcode.PONG, 'pong!'),
  cframe(Opcode.CONTINUATION, Buffer.alloc(0), { fin: false }),
  cframe(Opcode.CONTINUATION, Buffer.from('ab€'.repeat(3)).subarray(12)),
  cframe(Opcode.BINARY, pattern(150, 3), { fin: false }),
  cframe(Opcode.CONTINUATION, pattern(10, 4)),
  cframe(Opcode.CLOSE, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye ✓')])),
]);

test('lent input, whole frames of every length form: pushed whole, byte by byte, and cut at random points', async () => {
  const want = await reference(SIZES);
  assert.equal(want.length, 6);
  for (const cuts of [[], every(SIZES.length), randomCuts(SIZES.length, 40, 7), randomCuts(SIZES.length, 400, 11)]) {
    const h = new Recorder();
    await pushLent(receiver(h), h, SIZES, cuts);
    assert.deepEqual(h.events(), want, `${cuts.length} cuts`);
  }
});

test('lent input: a whole frame in one push is read in place, a message spanning pushes is copied once', async () => {
  const h = new Recorder();
  const rx = receiver(h);
  await pushLent(rx, h, SIZES, []);
  // All but the empty message viewed the lent chunk: no copy on the common path.
  assert.equal(h.inPlace, 5);
  const h2 = new Recorder();
  const one = cframe(Opcode.BINARY, pattern(1000, 5));
  await pushLent(receiver(h2), h2, one, [500]);
  assert.equal(h2.inPlace, 0, 'the payload spanning two pushes is a copy of its own');
  assert.deepEqual(h2.events(), [['message', pattern(1000, 5).toString('hex'), true]]);
});

test('lent input: fragmented messages with control frames between fragments, cut at every point', async () => {
  const want = await reference(FRAGMENTED);
  assert.deepEqual(want.map((e) => e[0]), ['ping', 'pong', 'message', 'message', 'close']);
  assert.equal(Buffer.from(want[2]![1], 'hex').toString(), 'ab€'.repeat(3));
  for (const cut of every(FRAGMENTED.length)) {
    const h = new Recorder();
    await pushLent(receiver(h), h, FRAGMENTED, [cut]);
    assert.deepEqual(h.events(), want, `cut at ${cut}`);
  }
  for (const cuts of [every(FRAGMENTED.length), randomCuts(FRAGMENTED.length, 12, 3), randomCuts(FRAGMENTED.length, 30, 5)]) {
    const h = new Recorder();
    await pushLent(receiver(h), h, FRAGMENTED, cuts);
    assert.deepEqual(h.events(), want, `${cuts.length} cuts`);
  }
});

test('lent input: invalid UTF-8 in a text frame split across pushes still fails with 1007', async () => {
  const bad = cframe(Opcode.TEXT, Buffer.concat([Buffer.from('x'.repeat(300)), Buffer.from([0xc3, 0x28]), Buffer.from('y'.repeat(50))]));
  const want = await reference(bad);
  assert.deepEqual(want, [['error', Buffer.from('WS_INVALID_UTF8 1007').toString('hex')]]);
  for (const cuts of [every(bad.length), [100], [100, 200, 305], randomCuts(bad.length, 20, 9)]) {
    const h = new Recorder();
    await pushLent(receiver(h), h, bad, cuts);
    assert.deepEqual(h.events(), want, `${cuts.length} cuts`);
  }
});

/** Compress as a peer does: raw deflate, sync flush, tail stripped. */
function compress(data: string | Buffer): Buffer {
  return deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, -4);
}

test('lent input with permessage-deflate: compressed and fragmented compressed messages, queued behind the inflater or not', async () => {
  const long = 'compress me please, compress me please ✓ '.repeat(40);
  const stream = compress(Buffer.from('first half, second half'.repeat(30)));
  const bytes = Buffer.concat([
    cframe(Opcode.TEXT, compress(long), { rsv: 0x40 }),
    cframe(Opcode.BINARY, compress(pattern(3000, 6)), { rsv: 0x40 }),
    cframe(Opcode.TEXT, stream.subarray(0, 20), { rsv: 0x40, fin: false }),
    cframe(Opcode.PING, 'mid'),
    cframe(Opcode.CONTINUATION, stream.subarray(20)),
    cframe(Opcode.TEXT, 'plain'),
  ]);
  const want = await reference(bytes, true);
  assert.deepEqual(want.map((e) => e[0]), ['message', 'message', 'ping', 'message', 'message']);
  assert.equal(Buffer.from(want[0]![1], 'hex').toString(), long);
  for (const waitResume of [false, true]) {
    for (const cuts of [[], every(bytes.length), randomCuts(bytes.length, 25, 13)]) {
      const h = new Recorder();
      await pushLent(receiver(h, true), h, bytes, cuts, waitResume);
      await settle(h);
      assert.deepEqual(h.events(), want, `${cuts.length} cuts, ${waitResume ? 'waiting for' : 'pushing past'} the inflater`);
    }
  }
});

test('lent input: a handler that throws leaves no view of the chunk behind', () => {
  const h = new Recorder();
  let throwOnce = true;
  h.rxMessage = function (this: Recorder, data: Buffer, isBinary: boolean, lent: boolean) {
    Recorder.prototype.rxMessage.call(this, data, isBinary, lent);
    if (throwOnce) {
      throwOnce = false;
      throw new Error('handler bug');
    }
  };
  const rx = receiver(h);
  const bytes = Buffer.concat([cframe(Opcode.TEXT, 'one'), cframe(Opcode.TEXT, 'two'), cframe(Opcode.BINARY, pattern(40, 8)).subarray(0, 20)]);
  const shared = Buffer.from(bytes);
  assert.throws(() => rx.push(shared, true), /handler bug/);
  shared.fill(0xa5);
  const rest = cframe(Opcode.BINARY, pattern(40, 8)).subarray(20);
  rx.push(Buffer.from(rest), true);
  assert.deepEqual(h.events(), [
    ['message', Buffer.from('one').toString('hex'), false],
    ['message', Buffer.from('two').toString('hex'), false],
    ['message', pattern(40, 8).toString('hex'), true],
  ]);
});

test('WebSocket with externalRead: no data listener, feed() from a reused buffer, callbacks get data they may keep', async () => {
  const sock = new MemorySocket();
  const kept: Array<[Buffer, boolean]> = [];
  const pings: Buffer[] = [];
  const ws = new WebSocket(sock, {
    role: 'server',
    externalRead: true,
    onMessage: (d, bin) => kept.push([d, bin]),
    onPing: (d) => pings.push(d),
  });
  assert.equal(sock.listenerCount('data'), 0);
  const bytes = Buffer.concat([
    cframe(Opcode.TEXT, 'hello ✓'),
    cframe(Opcode.BINARY, pattern(300, 9)),
    cframe(Opcode.PING, 'ping payload'),
    cframe(Opcode.TEXT, 'frag-', { fin: false }),
    cframe(Opcode.CONTINUATION, 'mented'),
  ]);
  // Bytes pushed to the socket's readable side are not read with externalRead.
  sock.push(cframe(Opcode.TEXT, 'not read'));
  const shared = Buffer.alloc(bytes.length);
  for (const [a, b] of [[0, bytes.length - 9], [bytes.length - 9, bytes.length]] as const) {
    bytes.copy(shared, 0, a, b);
    ws.feed(shared.subarray(0, b - a));
    shared.fill(0x5a);
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(kept.map(([d, bin]) => [bin ? d.toString('hex') : d.toString(), bin]), [
    ['hello ✓', false],
    [pattern(300, 9).toString('hex'), true],
    ['frag-mented', false],
  ]);
  assert.deepEqual(pings.map(String), ['ping payload']);
  const replies = decodeFrames(sock.output());
  assert.deepEqual(replies.map((f) => [f.opcode, f.payload.toString()]), [[Opcode.PONG, 'ping payload']]);
  ws.terminate();
  sock.destroy();
});
