// Hostile and broken clients against WebSocket channels, and application callbacks that
// fail: real sockets on 127.0.0.1, raw frames and the project's client, assertions on the
// frames the client gets and on what the application sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, Opcode, type WebSocket } from '../../websocket/index.ts';
import { asChannel, type CloseStatus, type WebSocketChannel } from '../../lib/index.ts';
import { connectRaw, sleep, withServer } from './helpers/raw.ts';
import { clientFrame, framesAfter101, headEnd, until, upgradeRequest } from './ws-support.ts';

type Closed = [CloseStatus, number, string];

/** The client's close code and reason; rejects (and drops the socket) when the close does not come in time. */
function closedOf(c: WebSocket, ms = 3000): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.terminate();
      reject(new Error('the connection was not closed in time'));
    }, ms);
    c.onClose = (code, reason) => {
      clearTimeout(timer);
      resolve([code, reason]);
    };
  });
}

test('onOpen, onReceive (sync or rejected promise) and onPing that throw: logged, closed with 1011, onClose error', async () => {
  const closes: Array<[string, ...Closed]> = [];
  const errors: string[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: () => {
      if (req.uri === '/open') throw new Error('open');
    },
    onReceive: (ch, d) => {
      if (req.uri === '/receive') throw new Error('receive');
      if (req.uri === '/async') return Promise.reject(new Error('async')) as unknown as void;
      ch.send(d);
    },
    onPing: () => {
      if (req.uri === '/ping') throw new Error('ping');
    },
    onClose: (_ch, status, code, reason) => closes.push([req.uri, status, code!, reason!]),
  }), { errorLogger: (e) => errors.push((e as Error).message) }, async (server) => {
    for (const path of ['/open', '/receive', '/async']) {
      const c = await connect(`ws://127.0.0.1:${server.port}${path}`);
      const got: string[] = [];
      c.onMessage = (d) => got.push(d.toString());
      const closed = closedOf(c);
      c.send('hello');
      assert.deepEqual(await closed, [1011, 'internal error'], path);
      assert.deepEqual(got, [], path);
    }
    // A ping: the pong goes out first (it is answered before the callback), then the close.
    const raw = await connectRaw(server.port);
    try {
      raw.write(upgradeRequest('/ping'));
      await raw.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
      raw.write(clientFrame(Opcode.PING, 'p'));
      await raw.waitFor(() => framesAfter101(raw).length === 2, 3000, 'pong and close');
      const [pong, close] = framesAfter101(raw);
      assert.equal(pong!.opcode, Opcode.PONG);
      assert.equal(pong!.payload.toString(), 'p');
      assert.equal(close!.opcode, Opcode.CLOSE);
      assert.equal(close!.payload.readUInt16BE(0), 1011);
    } finally {
      raw.close();
    }
    await until(() => closes.length === 4);
    // The client echoed the code (its reason, as onClose reports, is empty).
    assert.deepEqual(closes.slice(0, 3), [
      ['/open', 'error', 1011, ''],
      ['/receive', 'error', 1011, ''],
      ['/async', 'error', 1011, ''],
    ]);
    // The raw client never answered the close: the code sent is reported.
    assert.deepEqual(closes[3]!.slice(0, 3), ['/ping', 'error', 1011]);
    assert.deepEqual(errors, ['open', 'receive', 'async', 'ping']);
  });
});

test('an onClose that throws is logged once; the server goes on serving', async () => {
  let calls = 0;
  const errors: string[] = [];
  await withServer((req) => asChannel(req, {
    onReceive: (ch, d) => ch.send(d),
    onClose: () => {
      calls++;
      throw new Error('close handler');
    },
  }), { errorLogger: (e) => errors.push((e as Error).message) }, async (server) => {
    const a = await connect(`ws://127.0.0.1:${server.port}/`);
    const closed = closedOf(a);
    a.close(1000);
    assert.deepEqual(await closed, [1000, '']);
    await until(() => errors.length === 1);
    const b = await connect(`ws://127.0.0.1:${server.port}/`);
    const echoed = new Promise<string>((r) => (b.onMessage = (d) => r(d.toString())));
    b.send('still here');
    assert.equal(await Promise.race([echoed, until(() => false, 3000, 'the echo')]), 'still here');
    b.close();
    await until(() => calls === 2);
    assert.deepEqual(errors, ['close handler', 'close handler']);
  });
});

test('a client that reads nothing is dropped after sendTimeout (timeout, 1006); after that send, close and ping return false', async () => {
  let channel: WebSocketChannel | null = null;
  const closes: Closed[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => (channel = ch as WebSocketChannel),
    onClose: (_ch, status, code, reason) => closes.push([status, code!, reason!]),
  }), { sendTimeout: 200 }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(upgradeRequest());
      await until(() => channel !== null);
      c.socket.pause();
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const t0 = Date.now();
      // An application that ignores backpressure: 32 MiB, more than loopback buffers hold.
      for (let i = 0; i < 128; i++) channel!.send(chunk);
      assert.ok(channel!.bufferedAmount > 1024 * 1024);
      await until(() => closes.length === 1, 5000, 'the stalled client to be dropped');
      assert.ok(Date.now() - t0 >= 150, 'not before sendTimeout');
      assert.deepEqual(closes, [['timeout', 1006, '']]);
      assert.equal(channel!.bufferedAmount, 0, 'what was queued for it is released');
      assert.equal(channel!.isOpen, false);
      assert.equal(channel!.send('x'), false);
      assert.equal(channel!.send(Buffer.alloc(1), true), false);
      assert.equal(channel!.close(1000), false);
      assert.equal(channel!.ping('x'), false);
      await until(() => server.connections === 0, 3000, 'the connection to close');
    } finally {
      c.close();
    }
  });
});

test('sendTimeout counts from the last drain: a client that reads in pauses shorter than it gets everything', async () => {
  let channel: WebSocketChannel | null = null;
  const closes: Closed[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => (channel = ch as WebSocketChannel),
    onClose: (_ch, status, code, reason) => closes.push([status, code!, reason!]),
  }), { sendTimeout: 300 }, async (server) => {
    const c = await connectRaw(server.port);
    let bytes = 0;
    let burst = 0;
    let pauses = 0;
    let timer: NodeJS.Timeout | null = null;
    // Reads 4 MiB, then stops for 150 ms (under sendTimeout), again and again.
    c.socket.on('data', (d: Buffer) => {
      bytes += d.length;
      burst += d.length;
      if (burst < 4 * 1024 * 1024) return;
      burst = 0;
      pauses++;
      c.socket.pause();
      timer = setTimeout(() => c.socket.resume(), 150);
    });
    const t0 = Date.now();
    try {
      c.write(upgradeRequest());
      await until(() => channel !== null);
      const chunk = Buffer.alloc(256 * 1024, 0x62);
      const count = 128; // 32 MiB
      for (let i = 0; i < count; i++) if (!channel!.send(chunk)) await channel!.drained();
      await until(() => bytes >= count * (chunk.length + 10), 20_000, 'every message');
      assert.ok(pauses >= 6 && Date.now() - t0 >= 6 * 150, `the client did pause (${pauses} times)`);
      assert.deepEqual(closes, [], 'a client that keeps reading is never cut off');
      assert.equal(channel!.isOpen, true);
    } finally {
      if (timer !== null) clearTimeout(timer);
      c.close();
    }
  });
});

test('half-closed and vanishing clients: FIN without a close frame, or a reset mid-message: onClose once, 1006, nothing left', async () => {
  const closes: Array<[string, ...Closed]> = [];
  await withServer((req) => asChannel(req, {
    onReceive: (ch, d) => ch.send(d),
    onClose: (_ch, status, code, reason) => closes.push([req.uri, status, code!, reason!]),
  }), {}, async (server) => {
    const fin = await connectRaw(server.port);
    fin.write(upgradeRequest('/fin'));
    await fin.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
    fin.socket.end(); // FIN, no close frame
    await fin.waitClose();
    const cut = await connectRaw(server.port);
    cut.write(upgradeRequest('/cut'));
    await cut.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
    cut.write(clientFrame(Opcode.TEXT, 'partial message', { fin: false }));
    cut.socket.resetAndDestroy();
    await until(() => closes.length === 2);
    await until(() => server.connections === 0, 3000, 'both connections to close');
    assert.deepEqual(closes.sort(), [['/cut', 'client-close', 1006, ''], ['/fin', 'client-close', 1006, '']]);
  });
});

test('many WebSockets opened and dropped at once: each onClose once, no connection or heartbeat timer left', async () => {
  const closes = new Map<string, CloseStatus[]>();
  // The intervals started meanwhile (the heartbeat's is unref'd: getActiveResourcesInfo()
  // would not show it) must all be cleared once every connection closed.
  const setIntervalOrig = globalThis.setInterval;
  const clearIntervalOrig = globalThis.clearInterval;
  const running = new Set<unknown>();
  let started = 0;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = setIntervalOrig(...args);
    started++;
    running.add(t);
    return t;
  }) as typeof setInterval;
  globalThis.clearInterval = ((t: Parameters<typeof clearInterval>[0]) => {
    running.delete(t);
    clearIntervalOrig(t);
  }) as typeof clearInterval;
  try {
    await manyOpenedAndDropped(closes);
  } finally {
    globalThis.setInterval = setIntervalOrig;
    globalThis.clearInterval = clearIntervalOrig;
  }
  assert.ok(started >= 1, 'the heartbeat interval started');
  assert.equal(running.size, 0, 'every interval cleared');
});

async function manyOpenedAndDropped(closes: Map<string, CloseStatus[]>): Promise<void> {
  await withServer((req) => asChannel(req, {
    heartbeatInterval: 10_000,
    onClose: (_ch, status) => {
      const list = closes.get(req.uri) ?? [];
      list.push(status);
      closes.set(req.uri, list);
    },
  }), {}, async (server) => {
    const clients = [];
    for (let i = 0; i < 50; i++) {
      const c = await connectRaw(server.port);
      c.write(upgradeRequest(`/ws/${i}`));
      clients.push(c);
    }
    for (const c of clients) await c.waitFor((x) => headEnd(x.received) > 0, 3000, '101');
    for (const c of clients) c.close();
    await until(() => server.connections === 0, 3000, 'every connection to close');
    await until(() => closes.size === 50, 3000, 'every onClose');
    for (const [uri, list] of closes) assert.deepEqual(list, ['client-close'], uri);
  });
}

test('closeTimeout: a client that never answers our close frame is dropped then; onClose gets the code sent', async () => {
  const closes: Closed[] = [];
  await withServer((req) => asChannel(req, {
    closeTimeout: 150,
    onOpen: (ch) => void ch.close(4000, 'bye'),
    onClose: (_ch, status, code, reason) => closes.push([status, code!, reason!]),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(upgradeRequest());
      await c.waitFor(() => framesAfter101(c).length === 1, 3000, 'the close frame');
      const t0 = Date.now();
      const [frame] = framesAfter101(c);
      assert.equal(frame!.opcode, Opcode.CLOSE);
      assert.equal(frame!.payload.readUInt16BE(0), 4000);
      assert.equal(frame!.payload.subarray(2).toString(), 'bye');
      await c.waitClose(3000);
      assert.ok(Date.now() - t0 < 1000, 'dropped at closeTimeout, not later');
      await until(() => closes.length === 1);
      assert.deepEqual(closes, [['server-close', 4000, '']]);
    } finally {
      c.close();
    }
  });
});

test('heartbeats: a client silent for a whole interval is pinged once, and dropped when the next interval passes silent too, whatever the server sends; a client that sends or answers stays', async () => {
  // A ticker sends every 20 ms to every client. One raw client reads but never sends,
  // another sends a message every 30 ms and never answers pings, a third answers pings.
  const P = 100;
  const closes: Array<[string, ...Closed]> = [];
  const tickers: NodeJS.Timeout[] = [];
  const handler = (options: { heartbeatInterval?: number; idleTimeout?: number }, lastSent: number[] = []) => (req: import('../../lib/index.ts').Request) => asChannel(req, {
    ...options,
    onOpen: (ch) => void tickers.push(setInterval(() => {
      if (ch.send('tick')) lastSent[0] = Date.now();
    }, 20)),
    onClose: (_ch, status, code, reason) => closes.push([req.uri, status, code!, reason!]),
  });
  try {
    await withServer(handler({ heartbeatInterval: P }), {}, async (server) => {
      const live = await connect(`ws://127.0.0.1:${server.port}/live`); // answers pings
      let livePings = 0;
      live.onPing = () => livePings++;
      const chatty = await connectRaw(server.port);
      const mute = await connectRaw(server.port);
      let chatter: NodeJS.Timeout | null = null;
      try {
        chatty.write(upgradeRequest('/chatty'));
        await chatty.waitFor((c) => headEnd(c.received) > 0, 3000, '101');
        chatter = setInterval(() => chatty.write(clientFrame(Opcode.TEXT, 'hi')), 30);
        // Taken before the mute client's last bytes (its upgrade request): the silence starts after it.
        const t0 = Date.now();
        mute.write(upgradeRequest('/mute'));
        await mute.waitFor(() => framesAfter101(mute).some((f) => f.opcode === Opcode.PING), 3000, 'the heartbeat ping');
        const pinged = Date.now() - t0;
        await mute.waitClose(3000);
        const dropped = Date.now() - t0;
        assert.ok(pinged >= P - 5, `pinged after ${pinged} ms of silence: not before a whole interval`);
        assert.ok(dropped >= 2 * P - 5, `dropped after ${dropped} ms: not before an interval passed after the ping`);
        assert.ok(dropped < 1500, `dropped after ${dropped} ms`);
        const opcodes = framesAfter101(mute).map((f) => f.opcode);
        assert.equal(opcodes.filter((o) => o === Opcode.PING).length, 1, 'one ping, then the drop');
        assert.ok(opcodes.includes(Opcode.TEXT), 'the server kept sending meanwhile');
        await until(() => closes.length === 1);
        assert.deepEqual(closes[0], ['/mute', 'timeout', 1006, '']);
        // Heartbeats count what the client sends: the chatty one was never pinged.
        assert.ok(!framesAfter101(chatty).some((f) => f.opcode === Opcode.PING), 'a client that sends is not pinged');
        assert.ok(!chatty.closed, 'the client that sends stays');
        assert.ok(livePings >= 1, 'the quiet client was pinged');
        assert.equal(live.readyState, 1, 'the client that answers pings stays');
        live.close();
      } finally {
        if (chatter !== null) clearInterval(chatter);
        chatty.close();
        mute.close();
      }
    });
    // idleTimeout without heartbeats counts traffic both ways: the ticker keeps a client
    // that only listens open; once the ticker stops, the idle close follows, never sooner
    // than idleTimeout after the last message sent.
    closes.length = 0;
    const lastSent = [0];
    await withServer(handler({ idleTimeout: 150 }, lastSent), {}, async (server) => {
      const mute = await connectRaw(server.port);
      try {
        mute.write(upgradeRequest('/idle'));
        await sleep(400);
        assert.ok(!framesAfter101(mute).some((f) => f.opcode === Opcode.CLOSE), 'open while the server sends');
        for (const t of tickers) clearInterval(t);
        await mute.waitFor(() => framesAfter101(mute).some((f) => f.opcode === Opcode.CLOSE), 3000, 'the idle close');
        const quiet = Date.now() - lastSent[0]!;
        assert.ok(quiet >= 145, `closed ${quiet} ms after the last message: not before idleTimeout`);
        assert.ok(quiet < 1000, `closed ${quiet} ms after the last message`);
        const close = framesAfter101(mute).find((f) => f.opcode === Opcode.CLOSE)!;
        assert.equal(close.payload.readUInt16BE(0), 1001);
        assert.equal(close.payload.subarray(2).toString(), 'idle timeout');
      } finally {
        mute.close();
      }
      await until(() => closes.length === 1);
      assert.deepEqual(closes[0]!.slice(0, 3), ['/idle', 'timeout', 1001]);
    });
  } finally {
    for (const t of tickers) clearInterval(t);
  }
});

test('sends held before the handshake report the high-water mark too, and go out in order after the 101', async () => {
  let poll: import('../../lib/index.ts').Channel | null = null;
  const results: boolean[] = [];
  let held = -1;
  await withServer((req) => {
    if (!req.isWebSocket) return asChannel(req, { onOpen: (ch) => void (poll = ch) });
    const ch = asChannel(req, { highWaterMark: 1000 });
    results.push(ch.send('a'.repeat(600)));
    results.push(ch.send('b'.repeat(600)));
    held = (ch as WebSocketChannel).bufferedAmount;
    return ch;
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      // The upgrade waits behind a long poll, so its sends are held.
      c.write('GET /poll HTTP/1.1\r\nHost: x\r\n\r\n' + upgradeRequest('/ws'));
      await until(() => poll !== null && results.length === 2);
      assert.deepEqual(results, [true, false]);
      assert.equal(held, 1200);
      poll!.send('answer');
      await c.waitFor(() => framesAfter101(c).length === 2, 3000, 'the held messages');
      assert.deepEqual(framesAfter101(c).map((f) => f.payload.toString()[0]! + f.payload.length), ['a600', 'b600']);
    } finally {
      c.close();
    }
  });
});

test('a client that floods pings and reads none of the pongs is cut off by sendTimeout', async () => {
  const closes: Closed[] = [];
  await withServer((req) => asChannel(req, {
    onClose: (_ch, status, code, reason) => closes.push([status, code!, reason!]),
  }), { sendTimeout: 300 }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.socket.pause();
      c.write(upgradeRequest());
      const burst = Buffer.concat(Array.from({ length: 1000 }, () => clientFrame(Opcode.PING, Buffer.alloc(125, 1))));
      const t0 = Date.now();
      // Bounded: at most 5 s of pings, written only while the client's own buffer is small.
      while (closes.length === 0 && Date.now() - t0 < 5000) {
        if (c.socket.writableLength < 1 << 20) c.socket.write(burst);
        await sleep(2);
      }
      assert.deepEqual(closes, [['timeout', 1006, '']]);
      await until(() => server.connections === 0, 3000, 'the connection to close');
    } finally {
      c.close();
    }
  });
});
