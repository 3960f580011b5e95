// WebSocket channels over real sockets on 127.0.0.1: the handshake through asChannel,
// messages both ways, close codes, ping/pong, limits, stop(), timeouts, backpressure,
// and upgrades behind pipelined requests. Clients: the project's connect() and raw bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, Opcode, type WebSocket } from '../../websocket/index.ts';
import { asChannel, runServer, type Channel, type ChannelOptions, type CloseStatus, type Request, type Server, type WebSocketChannel } from '../../lib/index.ts';
import { connectRaw, get, responsesOf, sleep, withServer } from './helpers/raw.ts';
import { ACCEPT, clientFrame, closePayload, framesAfter101, headEnd, until, upgradeRequest } from './ws-support.ts';
import { makeCert } from '../helpers/tls-cert.ts';

type Closed = [CloseStatus, number | undefined, string | undefined];

/** An echo server: every message goes back with the same opcode; closes are recorded. */
async function echoServer(options: ChannelOptions = {}, fn: (server: Server, closes: Closed[], opened: Channel[]) => Promise<void>): Promise<void> {
  const closes: Closed[] = [];
  const opened: Channel[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => opened.push(ch),
    onReceive: (ch, data) => ch.send(data),
    onClose: (_ch, status, code, reason) => closes.push([status, code, reason]),
    ...options,
  }), {}, (server) => fn(server, closes, opened));
}

function url(server: Server, path = '/'): string {
  return `ws://127.0.0.1:${server.port}${path}`;
}

function collect(c: WebSocket): Array<[string | Buffer, boolean]> {
  const got: Array<[string | Buffer, boolean]> = [];
  c.onMessage = (d, bin) => got.push([bin ? Buffer.from(d) : d.toString('utf8'), bin]);
  return got;
}

function closedOf(c: WebSocket): Promise<[number, string]> {
  return new Promise((r) => (c.onClose = (code, reason) => r([code, reason])));
}

test('echo: text comes back as text, binary as binary, in order; the channel is a WebSocket', async () => {
  await echoServer({}, async (server, _closes, opened) => {
    const c = await connect(url(server));
    const got = collect(c);
    const bin = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    c.send('hello');
    c.send(bin);
    c.send('ünïcode ✓ 𝄞');
    c.send('x'.repeat(70_000));
    await until(() => got.length === 4, 3000, 'four echoes');
    assert.deepEqual(got.slice(0, 3), [['hello', false], [bin, true], ['ünïcode ✓ 𝄞', false]]);
    assert.deepEqual(got[3], ['x'.repeat(70_000), false]);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]!.isWebSocket, true);
    assert.equal(opened[0]!.isOpen, true);
    assert.equal(opened[0]!.remoteAddr, '127.0.0.1');
    c.close();
  });
});

test('onReceive gets text as a string and binary as a Buffer; fragmented messages arrive whole', async () => {
  const seen: Array<[string, string]> = [];
  await echoServer({ onReceive: (ch, d) => { seen.push([typeof d === 'string' ? 'string' : Buffer.isBuffer(d) ? 'buffer' : 'other', d.toString()]); ch.send(d); } }, async (server) => {
    const c = await connect(url(server));
    const got = collect(c);
    c.send('frag', { fin: false });
    c.send('men', { fin: false });
    c.send('ted');
    c.send(Buffer.from('ab'), { fin: false });
    c.send(Buffer.from('cd'));
    await until(() => got.length === 2, 3000, 'two echoes');
    assert.deepEqual(seen, [['string', 'fragmented'], ['buffer', 'abcd']]);
    assert.deepEqual(got, [['fragmented', false], [Buffer.from('abcd'), true]]);
    c.close();
  });
});

test('fragmented frames with a ping in between, sent as raw bytes one byte at a time', async () => {
  await echoServer({}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      const bytes = Buffer.concat([
        Buffer.from(upgradeRequest()),
        clientFrame(Opcode.TEXT, 'hel', { fin: false }),
        clientFrame(Opcode.PING, 'p!'),
        clientFrame(Opcode.CONTINUATION, 'lo'),
      ]);
      for (let i = 0; i < bytes.length; i++) {
        c.write(bytes.subarray(i, i + 1));
        if (i % 16 === 0) await sleep(0);
      }
      await c.waitFor(() => framesAfter101(c).length >= 2, 3000, 'pong and echo');
      const frames = framesAfter101(c);
      assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString(), f.fin, f.masked]), [[Opcode.PONG, 'p!', true, false], [Opcode.TEXT, 'hello', true, false]]);
    } finally {
      c.close();
    }
  });
});

test('permessage-deflate: negotiated when enabled, messages compressed both ways', async () => {
  await echoServer({ perMessageDeflate: true }, async (server, _closes, opened) => {
    const c = await connect(url(server), { perMessageDeflate: { threshold: 0 } });
    assert.ok(c.perMessageDeflate !== null, 'client sees the extension accepted');
    const got = collect(c);
    const big = 'compress me '.repeat(5000);
    c.send(big);
    c.send(Buffer.alloc(20_000, 7));
    c.send('tiny');
    await until(() => got.length === 3, 3000, 'three echoes');
    assert.deepEqual(got, [[big, false], [Buffer.alloc(20_000, 7), true], ['tiny', false]]);
    assert.equal((opened[0] as WebSocketChannel).compressed, true);
    c.close();
  });
  // The wire: RSV1 set on the server's compressed frame, and smaller than the text.
  await echoServer({ perMessageDeflate: true }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(upgradeRequest('/', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'));
      await c.waitFor((x) => x.text.includes('\r\n\r\n'), 3000, '101');
      assert.match(c.text, /sec-websocket-extensions: permessage-deflate/i);
      // A compressed message from the client: "aaaa..." deflated, final 4 bytes stripped.
      const { deflateRawSync, constants } = await import('node:zlib');
      const text = 'a'.repeat(3000);
      const z = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
      c.write(clientFrame(Opcode.TEXT, z.subarray(0, z.length - 4), { rsv: 0x40 }));
      await c.waitFor(() => framesAfter101(c).length >= 1, 3000, 'echo');
      const [f] = framesAfter101(c);
      assert.equal(f!.rsv, 4, 'RSV1: compressed');
      assert.ok(f!.payload.length < 100, `compressed payload is small (${f!.payload.length})`);
      const { inflateRawSync } = await import('node:zlib');
      const back = inflateRawSync(Buffer.concat([f!.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
      assert.equal(back.length, text.length);
      assert.ok(back === text, 'inflates to the text');
    } finally {
      c.close();
    }
  });
});

test('permessage-deflate stays off by default even when offered', async () => {
  await echoServer({}, async (server) => {
    const c = await connect(url(server), { perMessageDeflate: true });
    assert.equal(c.perMessageDeflate, null);
    c.close();
  });
});

test('handshake: 101 with the right accept key; the response is exact', async () => {
  await echoServer({}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(upgradeRequest());
      await c.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
      const head = c.text.slice(0, headEnd(c.received));
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nUpgrade: websocket\r\n/i);
      assert.match(head, /\r\nConnection: Upgrade\r\n/i);
      assert.ok(head.includes(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`));
    } finally {
      c.close();
    }
  });
});

test('handshake refused: 426 with Sec-WebSocket-Version: 13 for other versions, 400 when malformed; onClose, no onOpen', async () => {
  await echoServer({}, async (server, closes, opened) => {
    const cases: Array<[string, number]> = [
      [upgradeRequest('/', '', { version: '8' }), 426],
      [upgradeRequest('/', '', { key: 'short' }), 400],
      [`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`, 400],
      [`POST / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`, 400],
    ];
    for (const [request, status] of cases) {
      const c = await connectRaw(server.port);
      try {
        // A frame follows the request: after a refusal it must not be read as HTTP.
        c.write(request + clientFrame(Opcode.TEXT, 'GET / HTTP/1.1').toString('latin1'));
        await c.waitEnd();
        const rs = responsesOf(c.received);
        assert.equal(rs.length, 1, `exactly one response for status ${status}`);
        assert.equal(rs[0]!.status, status);
        assert.equal(rs[0]!.headers.connection, 'close');
        if (status === 426) assert.equal(rs[0]!.headers['sec-websocket-version'], '13');
      } finally {
        c.close();
      }
    }
    assert.equal(opened.length, 0);
    assert.deepEqual(closes.map((c) => c[0]), ['protocol-error', 'protocol-error', 'protocol-error', 'protocol-error']);
  });
});

test('subprotocol chosen by the selectProtocol callback; none when it returns null', async () => {
  const offers: string[][] = [];
  await echoServer({
    selectProtocol: (offered, req) => {
      offers.push(offered);
      return req.uri === '/none' ? null : offered.find((p) => p.startsWith('chat.')) ?? null;
    },
  }, async (server, _closes, opened) => {
    const c = await connect(url(server), { protocols: ['json', 'chat.v2', 'chat.v1'] });
    assert.equal(c.protocol, 'chat.v2');
    await until(() => opened.length === 1);
    assert.equal((opened[0] as WebSocketChannel).protocol, 'chat.v2');
    c.close();
    const d = await connect(url(server, '/none'), { protocols: ['chat.v1'] });
    assert.equal(d.protocol, '');
    d.close();
    assert.deepEqual(offers, [['json', 'chat.v2', 'chat.v1'], ['chat.v1']]);
  });
  await echoServer({ protocols: ['b', 'a'] }, async (server) => {
    const c = await connect(url(server), { protocols: ['a', 'b'] });
    assert.equal(c.protocol, 'a', "the client's preference among the listed ones");
    c.close();
  });
});

test('origin hook: 403 for a refused Origin, 101 for an allowed one', async () => {
  const origins: Array<string | undefined> = [];
  await echoServer({ verifyOrigin: (o) => (origins.push(o), o === 'https://good.example') }, async (server, closes) => {
    await assert.rejects(connect(url(server), { headers: { Origin: 'https://evil.example' } }), (e: { statusCode?: number }) => e.statusCode === 403);
    const c = await connect(url(server), { headers: { Origin: 'https://good.example' } });
    c.close();
    assert.deepEqual(origins, ['https://evil.example', 'https://good.example']);
    await until(() => closes.length === 2, 3000, 'both closes');
    assert.equal(closes[0]![0], 'server-close');
  });
});

test('close codes: the server closes with 4001 and a reason; the client sees both; onClose gets server-close', async () => {
  await echoServer({ onReceive: (ch, d) => ch.close(4001, `bye ${d}`) }, async (server, closes) => {
    const c = await connect(url(server));
    const closed = closedOf(c);
    c.send('now');
    assert.deepEqual(await closed, [4001, 'bye now']);
    await until(() => closes.length === 1);
    assert.deepEqual(closes, [['server-close', 4001, '']]);
  });
});

test('close codes: the client closes with 1000, 1001, 4002; onClose gets the code, reason and status', async () => {
  await echoServer({}, async (server, closes) => {
    for (const [code, reason] of [[1000, ''], [1001, 'tab closed'], [4002, 'custom']] as const) {
      const c = await connect(url(server));
      const closed = closedOf(c);
      c.close(code, reason);
      assert.deepEqual(await closed, [code, ''], 'the server echoes the code');
    }
    await until(() => closes.length === 3);
    assert.deepEqual(closes, [['normal', 1000, ''], ['going-away', 1001, 'tab closed'], ['client-close', 4002, 'custom']]);
  });
});

test('a client that vanishes without a close frame: onClose client-close with 1006; send then returns false', async () => {
  let channel: Channel | null = null;
  await echoServer({ onOpen: (ch) => (channel = ch) }, async (server, closes) => {
    const c = await connect(url(server));
    await until(() => channel !== null);
    c.terminate();
    await until(() => closes.length === 1);
    assert.deepEqual(closes, [['client-close', 1006, '']]);
    assert.equal(channel!.isOpen, false);
    assert.equal(channel!.send('late'), false);
    assert.equal(channel!.close(), false);
  });
});

test('ping/pong: client pings are answered with the same payload and reported; server pings reach the client', async () => {
  const pings: string[] = [];
  let channel: WebSocketChannel | null = null;
  await echoServer({ onPing: (_ch, d) => pings.push(d.toString()), onOpen: (ch) => (channel = ch as WebSocketChannel) }, async (server) => {
    const c = await connect(url(server));
    const pongs: string[] = [];
    const clientPings: string[] = [];
    c.onPong = (d) => pongs.push(d.toString());
    c.onPing = (d) => clientPings.push(d.toString());
    c.ping('are you there');
    await until(() => pongs.length === 1, 3000, 'pong');
    assert.deepEqual(pongs, ['are you there']);
    assert.deepEqual(pings, ['are you there']);
    await until(() => channel !== null);
    assert.equal(channel!.ping('hb-1'), true);
    await until(() => clientPings.length === 1, 3000, 'server ping');
    assert.deepEqual(clientPings, ['hb-1']);
    c.close();
  });
});

test('a message over maxMessageSize closes with 1009; the default limit is 4 MiB', async () => {
  await echoServer({ maxMessageSize: 1000 }, async (server, closes) => {
    const c = await connect(url(server));
    const got = collect(c);
    const closed = closedOf(c);
    c.send(Buffer.alloc(1000, 1));
    await until(() => got.length === 1, 3000, 'echo of 1000 bytes');
    c.send(Buffer.alloc(1001, 1));
    const [code] = await closed;
    assert.equal(code, 1009);
    await until(() => closes.length === 1);
    assert.equal(closes[0]![0], 'protocol-error');
    assert.equal(closes[0]![1], 1009);
  });
  await echoServer({}, async (server, closes) => {
    const c = await connect(url(server), { maxPayload: 8 * 1024 * 1024 });
    const got = collect(c);
    const closed = closedOf(c);
    c.send(Buffer.alloc(4 * 1024 * 1024, 2));
    await until(() => got.length === 1, 10_000, 'echo of 4 MiB');
    assert.equal((got[0]![0] as Buffer).length, 4 * 1024 * 1024);
    c.send(Buffer.alloc(4 * 1024 * 1024 + 1, 2));
    assert.equal((await closed)[0], 1009);
    await until(() => closes.length === 1);
    assert.equal(closes[0]![1], 1009);
  });
});

for (const fastRead of [true, false]) test(`server.stop() closes open WebSocket channels with 1001 Going Away and fires onClose (fastRead ${fastRead})`, async () => {
  const closes: Closed[] = [];
  const server = await runServer((req) => asChannel(req, { onClose: (_ch, s, code) => closes.push([s, code, undefined]) }), { ip: '127.0.0.1', port: 0, fastRead });
  try {
    const clients = await Promise.all([connect(url(server)), connect(url(server)), connect(url(server))]);
    const closed = clients.map(closedOf);
    await until(() => server.connections === 3);
    await server.stop({ timeout: 1000 });
    const codes = await Promise.all(closed);
    assert.deepEqual(codes.map((c) => c[0]), [1001, 1001, 1001]);
    assert.deepEqual(closes, [['going-away', 1001, undefined], ['going-away', 1001, undefined], ['going-away', 1001, undefined]]);
    assert.equal(server.connections, 0);
  } finally {
    await server.stop();
  }
});

test('server.stop() with a client that never answers the close: the socket is dropped at the stop timeout', async () => {
  const closes: Closed[] = [];
  const server = await runServer((req) => asChannel(req, { onClose: (_ch, s, code) => closes.push([s, code, undefined]) }), { ip: '127.0.0.1', port: 0 });
  const c = await connectRaw(server.port);
  try {
    c.write(upgradeRequest());
    await c.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
    const t0 = Date.now();
    await server.stop({ timeout: 200 });
    assert.ok(Date.now() - t0 < 2000);
    const frames = framesAfter101(c);
    assert.equal(frames[0]!.opcode, Opcode.CLOSE);
    assert.equal(frames[0]!.payload.readUInt16BE(0), 1001);
    assert.deepEqual(closes, [['going-away', 1001, undefined]]);
  } finally {
    c.close();
  }
});

test('idle timeout closes with 1001 and onClose status timeout, not before idleTimeout; heartbeats drop a silent client', async () => {
  await echoServer({ idleTimeout: 150 }, async (server, closes) => {
    // Taken before the handshake: the idle time counts from the connection's opening.
    const t0 = Date.now();
    const c = await connect(url(server));
    const [code] = await closedOf(c);
    const dt = Date.now() - t0;
    assert.equal(code, 1001);
    assert.ok(dt >= 145, `closed after ${dt} ms: not before the idle timeout`);
    assert.ok(dt < 1500, `closed after ${dt} ms`);
    await until(() => closes.length === 1);
    assert.deepEqual(closes[0]!.slice(0, 2), ['timeout', 1001]);
  });
  await echoServer({ heartbeatInterval: 80 }, async (server, closes) => {
    // A live client answers the pings and stays; a raw client that ignores them is dropped.
    const live = await connect(url(server));
    const mute = await connectRaw(server.port);
    try {
      mute.write(upgradeRequest());
      await mute.waitClose(3000);
      const frames = framesAfter101(mute);
      assert.equal(frames[0]!.opcode, Opcode.PING, 'the server pinged first');
      await until(() => closes.length === 1);
      assert.equal(closes[0]![0], 'timeout');
      assert.equal(live.readyState, 1, 'the client that answers pings is still open');
      live.close();
    } finally {
      mute.close();
    }
  });
});

test('idle timeout with heartbeats counts messages from the client: pongs keep it alive, not active; 1001 once idleTimeout passed without one', async () => {
  const I = 200;
  await echoServer({ heartbeatInterval: 50, idleTimeout: I, onReceive: () => {} }, async (server, closes) => {
    const t0 = Date.now();
    const quiet = await connect(url(server, '/quiet')); // answers pings, sends nothing else
    let pings = 0;
    quiet.onPing = () => pings++;
    const quietClosed = closedOf(quiet);
    const talker = await connect(url(server, '/talker'));
    const talkerClosed = closedOf(talker);
    let lastSent = Date.now();
    const chatter = setInterval(() => {
      talker.send('still here');
      lastSent = Date.now();
    }, 40);
    try {
      const [code, reason] = await quietClosed;
      const dt = Date.now() - t0;
      assert.deepEqual([code, reason], [1001, 'idle timeout']);
      assert.ok(pings >= 1, 'pinged (and answered) meanwhile');
      assert.ok(dt >= I - 5, `the quiet client closed after ${dt} ms: not before idleTimeout`);
      assert.ok(dt < 2000, `the quiet client closed after ${dt} ms`);
      // Rounded up to whole heartbeat intervals, the idle time is 200 ms: the talker's
      // messages every 40 ms keep it open past twice that.
      while (Date.now() - t0 < 2 * I) await sleep(20);
      assert.equal(talker.readyState, 1, 'a client that sends messages stays open');
    } finally {
      clearInterval(chatter);
    }
    const [code] = await talkerClosed;
    const sinceLast = Date.now() - lastSent;
    assert.equal(code, 1001);
    assert.ok(sinceLast >= I - 5, `closed ${sinceLast} ms after the last message: not before idleTimeout`);
    await until(() => closes.length === 2);
    assert.deepEqual(closes.map((c) => c.slice(0, 2)), [['timeout', 1001], ['timeout', 1001]]);
  });
});

test('backpressure: send reports the high-water mark, bufferedAmount grows, drained() resolves, nothing is lost', async () => {
  let channel: WebSocketChannel | null = null;
  await echoServer({ onOpen: (ch) => (channel = ch as WebSocketChannel), highWaterMark: 64 * 1024 }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(upgradeRequest());
      await until(() => channel !== null);
      await c.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
      const headLength = headEnd(c.received);
      c.socket.pause(); // stop reading: the server's writes pile up past the kernel buffers
      let bytes = c.received.length;
      c.socket.on('data', (d: Buffer) => (bytes += d.length));
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const count = 100; // 25 MiB: more than loopback socket buffers hold
      assert.equal(channel!.send(Buffer.alloc(10, 0x62)), true, 'a small send is under the mark');
      const results: boolean[] = [];
      for (let i = 0; i < count; i++) results.push(channel!.send(chunk));
      assert.ok(results.every((r) => r === false), 'each send over the mark reports it');
      assert.ok(channel!.bufferedAmount >= 64 * 1024);
      assert.equal(channel!.needsDrain, true);
      let drained = false;
      const d = channel!.drained().then(() => (drained = true));
      await sleep(100);
      assert.equal(drained, false, 'not drained while the client does not read');
      assert.ok(channel!.bufferedAmount > 1024 * 1024, `still buffered: ${channel!.bufferedAmount}`);
      c.socket.resume();
      await d;
      assert.ok(channel!.bufferedAmount < 64 * 1024);
      const expected = headLength + 12 + count * (chunk.length + 10);
      await until(() => bytes >= expected, 10_000, 'all frames');
      const frames = framesAfter101(c);
      assert.equal(frames.length, count + 1);
      assert.ok(frames.slice(1).every((f) => f.opcode === Opcode.BINARY && f.payload.equals(chunk)));
    } finally {
      c.close();
    }
  });
});

test('pipelined: an upgrade behind a long poll waits for its turn; the frame sent with it is echoed after the 101', async () => {
  let poll: Channel | null = null;
  const handler = (req: Request) => {
    if (req.uri === '/poll') return asChannel(req, { onOpen: (ch) => (poll = ch) });
    return asChannel(req, { onReceive: (ch, d) => ch.send(`echo:${d}`) });
  };
  await withServer(handler, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(Buffer.concat([Buffer.from(get('/poll') + upgradeRequest('/ws')), clientFrame(Opcode.TEXT, 'early bird')]));
      await until(() => poll !== null);
      await sleep(50);
      assert.equal(c.received.length, 0, 'nothing is written before the poll is answered');
      poll!.send('poll answer');
      await c.waitFor(() => framesAfter101(c).length >= 1, 3000, 'echo after 101');
      const text = c.text;
      const pollAt = text.indexOf('HTTP/1.1 200');
      const upAt = text.indexOf('HTTP/1.1 101');
      assert.ok(pollAt === 0 && upAt > pollAt, 'poll response first, then the 101');
      assert.ok(text.slice(0, upAt).endsWith('poll answer'));
      assert.deepEqual(framesAfter101(c).map((f) => f.payload.toString()), ['echo:early bird']);
    } finally {
      c.close();
    }
  });
});

test('pipelined: requests before an upgrade are answered, bytes after it are WebSocket frames, never HTTP', async () => {
  const seen: string[] = [];
  await withServer((req) => {
    seen.push(req.uri);
    if (req.isWebSocket) return asChannel(req, { onReceive: (ch, d) => ch.send(d) });
    return { body: `plain ${req.uri}` };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      // A request line inside the frames' bytes must not reach the handler.
      const after = Buffer.concat([clientFrame(Opcode.TEXT, 'one'), clientFrame(Opcode.BINARY, Buffer.from('GET /x HTTP/1.1\r\n\r\n')), clientFrame(Opcode.CLOSE, closePayload(1000))]);
      c.write(Buffer.concat([Buffer.from(get('/a') + get('/b') + upgradeRequest('/ws')), after, Buffer.from(get('/never'))]));
      await c.waitClose(3000);
      const text = c.text;
      assert.ok(text.indexOf('plain /a') < text.indexOf('plain /b') && text.indexOf('plain /b') < text.indexOf('HTTP/1.1 101'));
      const frames = framesAfter101(c);
      assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString('latin1')]), [
        [Opcode.TEXT, 'one'],
        [Opcode.BINARY, 'GET /x HTTP/1.1\r\n\r\n'],
        [Opcode.CLOSE, closePayload(1000).toString('latin1')],
      ]);
      assert.deepEqual(seen, ['/a', '/b', '/ws']);
    } finally {
      c.close();
    }
  });
});

test('an upgrade waiting its turn when the client leaves: onClose client-close, no onOpen', async () => {
  let poll: Channel | null = null;
  const wsCloses: Closed[] = [];
  let opened = 0;
  await withServer((req) => {
    if (req.uri === '/poll') return asChannel(req, { onOpen: (ch) => (poll = ch) });
    return asChannel(req, { onOpen: () => opened++, onClose: (_c, s, code) => wsCloses.push([s, code, undefined]) });
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/poll') + upgradeRequest('/ws'));
    await until(() => poll !== null);
    c.close();
    await until(() => wsCloses.length === 1);
    assert.deepEqual(wsCloses, [['client-close', 1006, undefined]]);
    assert.equal(opened, 0);
  });
});

test('messages sent before the handshake are delivered first; a close before it closes right after', async () => {
  await withServer((req) => {
    const ch = asChannel(req, {});
    ch.send('welcome');
    ch.send(Buffer.from([1, 2]));
    if (req.uri === '/bye') ch.close(4010, 'full');
    return ch;
  }, {}, async (server) => {
    const c = await connect(url(server));
    const got = collect(c);
    await until(() => got.length === 2);
    assert.deepEqual(got, [['welcome', false], [Buffer.from([1, 2]), true]]);
    c.close();
    const d = await connect(url(server, '/bye'));
    const dgot = collect(d);
    const closed = closedOf(d);
    assert.deepEqual(await closed, [4010, 'full']);
    assert.equal(dgot.length, 2);
  });
});

test('a throwing onReceive is logged and closes the channel with 1011', async () => {
  const logged: unknown[] = [];
  await withServer((req) => asChannel(req, {
    onReceive: (ch, d) => {
      if (d === 'boom') throw new Error('handler bug');
      ch.send(d);
    },
  }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const c = await connect(url(server));
    const got = collect(c);
    const closed = closedOf(c);
    c.send('boom');
    c.send('fine');
    assert.deepEqual(await closed, [1011, 'internal error']);
    assert.deepEqual(got, []);
    assert.equal(logged.length, 1);
    assert.equal((logged[0] as Error).message, 'handler bug');
  });
});

test('a plain request to a WebSocket-only handler still gets an HTTP channel', async () => {
  await withServer((req) => asChannel(req, { onOpen: (ch) => ch.send(`websocket=${ch.isWebSocket}`) }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/'));
      const [r] = await c.waitResponses(1);
      assert.equal(r!.body.toString(), 'websocket=false');
    } finally {
      c.close();
    }
  });
});

test('an async handler may return the channel after awaiting', async () => {
  await withServer(async (req) => {
    await sleep(20);
    return asChannel(req, { onReceive: (ch, d) => ch.send(`later:${d}`) });
  }, {}, async (server) => {
    const c = await connect(url(server));
    const got = collect(c);
    c.send('x');
    await until(() => got.length === 1);
    assert.deepEqual(got, [['later:x', false]]);
    c.close();
  });
});

test('wss: WebSocket channels on a TLS server (runServer tls)', async () => {
  // openssl is a required test tool (installed by .ci/run): makeCert throws without it.
  const { key, cert } = makeCert();
  const tls = { key, cert };
  const closes: Closed[] = [];
  const server = await runServer((req) => asChannel(req, {
    onReceive: (ch, d) => ch.send(d),
    onClose: (_ch, s, code, reason) => closes.push([s, code, reason]),
  }), { ip: '127.0.0.1', port: 0, tls });
  try {
    const c = await connect(`wss://127.0.0.1:${server.port}/`, { tls: { ca: cert } });
    const got = collect(c);
    c.send('secure');
    c.send(Buffer.alloc(100_000, 3));
    await until(() => got.length === 2, 5000, 'echoes');
    assert.deepEqual(got[0], ['secure', false]);
    assert.ok((got[1]![0] as Buffer).equals(Buffer.alloc(100_000, 3)));
    const closed = closedOf(c);
    c.close(4100, 'done');
    assert.deepEqual(await closed, [4100, '']);
    await until(() => closes.length === 1);
    assert.deepEqual(closes, [['client-close', 4100, 'done']]);
  } finally {
    await server.stop({ timeout: 200 });
  }
});

test('server.stop() while an upgrade waits behind a long poll: both get 503, the WebSocket channel closes going-away', async () => {
  let poll: Channel | null = null;
  const wsCloses: Closed[] = [];
  const server = await runServer((req) => {
    if (req.uri === '/poll') return asChannel(req, { onOpen: (ch) => (poll = ch) });
    return asChannel(req, { onClose: (_c, s, code) => wsCloses.push([s, code, undefined]) });
  }, { ip: '127.0.0.1', port: 0 });
  const c = await connectRaw(server.port);
  try {
    c.write(get('/poll') + upgradeRequest('/ws'));
    await until(() => poll !== null);
    await server.stop({ timeout: 500 });
    await c.waitClose();
    const rs = responsesOf(c.received);
    assert.deepEqual(rs.map((r) => r.status), [503, 503]);
    assert.deepEqual(wsCloses, [['going-away', 1006, undefined]]);
  } finally {
    c.close();
  }
});

test('server option websocket: defaults for every channel, overridden per channel', async () => {
  const closes: Closed[] = [];
  await withServer((req) => asChannel(req, {
    maxMessageSize: req.uri === '/big' ? 1000 : undefined,
    onReceive: (ch, d) => ch.send(d),
    onClose: (_ch, s, code) => closes.push([s, code, undefined]),
  }), { websocket: { maxMessageSize: 100, perMessageDeflate: true } }, async (server) => {
    const a = await connect(url(server), { perMessageDeflate: true });
    assert.ok(a.perMessageDeflate !== null, 'perMessageDeflate from the server default');
    const aClosed = closedOf(a);
    a.send(Buffer.alloc(101));
    assert.equal((await aClosed)[0], 1009, 'maxMessageSize from the server default');
    const b = await connect(url(server, '/big'));
    const got = collect(b);
    b.send(Buffer.alloc(500));
    await until(() => got.length === 1, 3000, 'echo under the channel limit');
    const bClosed = closedOf(b);
    b.send(Buffer.alloc(1001));
    assert.equal((await bClosed)[0], 1009, 'the channel option wins');
  });
});

test('drained() resolves when the backlog was waiting for compression (no socket drain event)', async () => {
  let channel: WebSocketChannel | null = null;
  await echoServer({ perMessageDeflate: true, highWaterMark: 1024, onOpen: (ch) => (channel = ch as WebSocketChannel) }, async (server) => {
    const c = await connect(url(server), { perMessageDeflate: true });
    const got = collect(c);
    await until(() => channel !== null);
    const text = 'z'.repeat(200_000);
    assert.equal(channel!.send(text), false, 'over the mark while compressing');
    assert.equal(channel!.needsDrain, true);
    await Promise.race([channel!.drained(), sleep(3000).then(() => assert.fail('drained() did not resolve'))]);
    assert.equal(channel!.needsDrain, false);
    await until(() => got.length === 1);
    assert.equal(got[0]![0], text);
    c.close();
  });
});

for (const fastRead of [true, false]) test(`binary messages kept by onReceive stay intact while later reads arrive; the request map keeps its headers after the upgrade (fastRead ${fastRead})`, async () => {
  const kept: Buffer[] = [];
  let request: Request | null = null;
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => (request = ch.request),
    // Kept as given, not copied: later reads must not change them.
    onReceive: (_ch, data) => {
      if (Buffer.isBuffer(data)) kept.push(data);
    },
  }), { fastRead }, async (server) => {
    const long = 'token-' + 'abcdefghij'.repeat(20);
    const c = await connect(url(server), { headers: { 'X-Long-Header': long } });
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const b = Buffer.alloc(1 + ((i * 37) % 3000), i & 0xff);
      b[0] = i;
      sent.push(b);
      c.send(b);
      // Bursts: several frames per read, frames split across reads.
      if (i % 25 === 24) await sleep(5);
    }
    await until(() => kept.length === sent.length, 5000, 'all binary messages');
    for (let i = 0; i < sent.length; i++) assert.ok(kept[i]!.equals(sent[i]!), `message ${i} intact`);
    const h = request!.headers;
    assert.equal(h['x-long-header'], long);
    assert.equal(h['upgrade'], 'websocket');
    assert.equal(h['sec-websocket-version'], '13');
    assert.equal(h['sec-websocket-key']!.length, 24);
    assert.equal(request!.isWebSocket, true);
    c.close();
  });
});
