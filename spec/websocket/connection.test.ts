// End to end over real sockets on 127.0.0.1: our client against our node:net server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { startServer, cframe, decodeFrames, Opcode } from './helpers.ts';
import { requirePeer } from '../helpers/tools.ts';
import { haveOpenssl, makeCert } from '../helpers/tls-cert.ts';
import { connect, WebSocket, HandshakeError, CLOSED } from '../../websocket/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups) {
    await c();
  }
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function echoServer(options = {}) {
  const srv = await startServer(options, (ws) => {
    ws.onMessage = (data, isBinary) => ws.send(data, { binary: isBinary });
  });
  cleanups.push(srv.close);
  return srv;
}

test('echo of text, binary and large messages; same API on both ends', async () => {
  const srv = await echoServer();
  const c = await connect(srv.url);
  const got: [string | Buffer, boolean][] = [];
  const done = deferred<void>();
  c.onMessage = (d, bin) => {
    got.push([bin ? Buffer.from(d) : d.toString(), bin]);
    if (got.length === 3) done.resolve();
  };
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  c.send('héllo');
  c.send(Buffer.from([0, 1, 2]));
  c.send(big);
  await done.promise;
  assert.deepEqual(got[0], ['héllo', false]);
  assert.deepEqual(got[1], [Buffer.from([0, 1, 2]), true]);
  assert.ok((got[2]![0] as Buffer).equals(big));
  c.close();
});

test('fragmented send is reassembled by the peer', async () => {
  const srv = await echoServer();
  const c = await connect(srv.url);
  const msg = deferred<string>();
  c.onMessage = (d) => msg.resolve(d.toString());
  c.send('frag', { fin: false });
  c.send('men', { fin: false });
  c.send('ted');
  assert.equal(await msg.promise, 'fragmented');
  c.close();
});

test('close handshake: client closes, server echoes and closes TCP first', async () => {
  const serverClose = deferred<[number, string]>();
  const srv = await startServer({}, (ws) => {
    ws.onClose = (code, reason) => serverClose.resolve([code, reason]);
  });
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  const clientClose = deferred<[number, string]>();
  c.onClose = (code, reason) => clientClose.resolve([code, reason]);
  let clientSawEnd = false;
  c.socket.once('end', () => (clientSawEnd = true));
  c.close(4001, 'done here');
  assert.deepEqual(await serverClose.promise, [4001, 'done here']);
  assert.deepEqual(await clientClose.promise, [4001, '']);
  assert.ok(clientSawEnd, 'the client saw the server FIN (server closed TCP first)');
  assert.equal(c.readyState, CLOSED);
  assert.equal(c.send('late'), false, 'send after close is refused');
});

test('close handshake: server closes', async () => {
  const srv = await startServer({}, (ws) => ws.close(1001, 'going'));
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  const [code, reason] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  assert.deepEqual([code, reason], [1001, 'going']);
});

test('close() validates code and reason', async () => {
  const srv = await echoServer();
  const c = await connect(srv.url);
  assert.throws(() => c.close(1005), RangeError);
  assert.throws(() => c.close(1004), RangeError);
  assert.throws(() => c.close(1000, 'x'.repeat(124)), RangeError);
  assert.throws(() => c.ping(Buffer.alloc(126)), RangeError);
  c.close(1000, 'é'.repeat(61)); // 122 bytes: allowed
  await new Promise((r) => (c.onClose = r));
});

test('abrupt TCP loss reports 1006', async () => {
  const srv = await startServer({}, (ws) => ws.socket.destroy());
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  const [code] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  assert.equal(code, 1006);
});

test('ping is answered with a pong carrying the same payload', async () => {
  const srv = await echoServer();
  const c = await connect(srv.url);
  const pong = deferred<string>();
  c.onPong = (d) => pong.resolve(d.toString());
  c.ping('are you there');
  assert.equal(await pong.promise, 'are you there');
  c.close();
});

test('bytes sent right behind the request head reach the connection (leftover head)', async () => {
  const got = deferred<string>();
  const srv = await startServer({}, (ws) => (ws.onMessage = (d) => got.resolve(d.toString())));
  cleanups.push(srv.close);
  const sock = netConnect(srv.port, '127.0.0.1');
  await once(sock, 'connect');
  const req = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  sock.write(Buffer.concat([Buffer.from(req), cframe(Opcode.TEXT, 'early bird')]));
  assert.equal(await got.promise, 'early bird');
  sock.destroy();
});

test('rejected upgrade over a real socket: 426 response, then the socket closes', async () => {
  const srv = await echoServer();
  const sock = netConnect(srv.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c) => chunks.push(c));
  sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n');
  await once(sock, 'close');
  const text = Buffer.concat(chunks).toString();
  assert.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
});

test('client: non-101 answer rejects with HandshakeError carrying the status', async () => {
  const srv = await startServer({ verifyOrigin: () => false }, () => {});
  cleanups.push(srv.close);
  await assert.rejects(connect(srv.url), (err: unknown) => err instanceof HandshakeError && err.statusCode === 403);
});

test('client: handshake timeout and refused connection', async () => {
  const silent = (await import('node:net')).createServer((s) => s.resume()); // reads, never answers
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
  const port = (silent.address() as { port: number }).port;
  const t0 = Date.now();
  await assert.rejects(connect(`ws://127.0.0.1:${port}`, { timeout: 150 }), /timed out/);
  assert.ok(Date.now() - t0 < 2000);
  await assert.rejects(connect('http://127.0.0.1:1/'), /unsupported protocol/);
  silent.close();
  await assert.rejects(connect(`ws://127.0.0.1:${port}`, { timeout: 1000 }), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
});

test('subprotocol negotiated end to end', async () => {
  const srv = await startServer({ protocols: ['chat.v2'] }, (ws) => ws.send(ws.protocol));
  cleanups.push(srv.close);
  const c = await connect(srv.url, { protocols: ['chat.v1', 'chat.v2'] });
  assert.equal(c.protocol, 'chat.v2');
  const m = await new Promise<string>((r) => (c.onMessage = (d) => r(d.toString())));
  assert.equal(m, 'chat.v2');
  c.close();
});

test('permessage-deflate end to end in both directions, with and without context takeover', async () => {
  for (const policy of [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true }]) {
    const srv = await echoServer({ perMessageDeflate: { ...policy, threshold: 0 } });
    const c = await connect(srv.url, { perMessageDeflate: { threshold: 0 } });
    const wire: number[] = [];
    c.socket.on('data', (d: Buffer) => wire.push(d.length));
    const texts = ['a'.repeat(10000), 'b'.repeat(20000), 'short ✓'];
    const got: string[] = [];
    const done = deferred<void>();
    c.onMessage = (d) => {
      got.push(d.toString());
      if (got.length === texts.length) done.resolve();
    };
    for (const t of texts) c.send(t);
    await done.promise;
    assert.deepEqual(got, texts);
    assert.ok(wire.reduce((a, b) => a + b, 0) < 2000, 'replies were compressed on the wire');
    c.close();
    await new Promise((r) => (c.onClose = r));
  }
});

test('message over maxPayload closes with 1009 end to end', async () => {
  const serverErr = deferred<string>();
  const srv = await startServer({ maxPayload: 1000 }, (ws) => (ws.onError = (e) => serverErr.resolve(e.code)));
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  c.send(Buffer.alloc(1001));
  const [code] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  assert.equal(code, 1009);
  assert.equal(await serverErr.promise, 'WS_MESSAGE_TOO_BIG');
});

test('backpressure: send() reports the high-water mark, bufferedAmount drains, onDrain fires', async () => {
  let serverWs!: WebSocket;
  const ready = deferred<void>();
  const srv = await startServer({ highWaterMark: 64 * 1024 }, (ws) => {
    serverWs = ws;
    ready.resolve();
  });
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  await ready.promise;
  c.socket.pause(); // the client stops reading
  const chunk = Buffer.alloc(256 * 1024);
  let sent = 0;
  while (serverWs.send(chunk)) sent++;
  assert.ok(sent < 100, 'send() turned false while the peer was not reading');
  assert.ok(serverWs.bufferedAmount >= 64 * 1024);
  const drained = new Promise<void>((r) => (serverWs.onDrain = r));
  let received = 0;
  c.onMessage = (d) => (received += d.length);
  c.socket.resume();
  await drained;
  assert.ok(serverWs.bufferedAmount < 64 * 1024);
  c.close();
  await new Promise((r) => (c.onClose = r));
  assert.equal(received, (sent + 1) * chunk.length, 'no data lost');
});

test('idle timeout closes with 1001, not before idleTimeout', async () => {
  const srv = await startServer({ idleTimeout: 100 }, () => {});
  cleanups.push(srv.close);
  // Taken before the handshake: the idle time counts from the connection's opening.
  const t0 = Date.now();
  const c = await connect(srv.url);
  const [code, reason] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  const dt = Date.now() - t0;
  assert.deepEqual([code, reason], [1001, 'idle timeout']);
  assert.ok(dt >= 95 && dt < 1500, `closed after ${dt} ms`);
});

test('idle timeout without heartbeats counts traffic both ways, and arms no timer per connection', async () => {
  const serverSide = new Map<string, WebSocket>();
  const srv = await startServer({ idleTimeout: 120 }, (ws, target) => serverSide.set(target, ws));
  cleanups.push(srv.close);
  // Count the intervals started while five connections open (unref'd timers are not in
  // getActiveResourcesInfo()).
  const setIntervalOrig = globalThis.setInterval;
  let intervals = 0;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    intervals++;
    return setIntervalOrig(...args);
  }) as typeof setInterval;
  let clients: WebSocket[];
  try {
    clients = await Promise.all(Array.from({ length: 5 }, (_, i) => connect(`${srv.url}/${i}`)));
    while (serverSide.size < 5) await new Promise((r) => setTimeout(r, 5));
  } finally {
    globalThis.setInterval = setIntervalOrig;
  }
  assert.equal(intervals, 1, 'one interval shared by the five connections');
  for (const s of srv.sockets) assert.equal(s.timeout, undefined, 'no socket timeout');
  for (const c of clients.slice(1)) c.terminate();
  const c = clients[0]!;
  const closed = new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  // The client only listens: what the server sends keeps the connection open.
  const ws = serverSide.get('/0')!;
  let lastSent = Date.now();
  const ticker = setInterval(() => {
    ws.send('tick');
    lastSent = Date.now();
  }, 20);
  try {
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(c.readyState, 1, 'open while the server sends');
  } finally {
    clearInterval(ticker);
  }
  const [code, reason] = await closed;
  const quiet = Date.now() - lastSent;
  assert.deepEqual([code, reason], [1001, 'idle timeout']);
  assert.ok(quiet >= 115 && quiet < 1500, `closed ${quiet} ms after the last message`);
});

/** A server with 60 ms heartbeats and a client connected to it; `closed` gets the server side's close code. */
async function heartbeatPair(): Promise<{ serverWs: () => WebSocket | undefined; closed: Promise<number>; c: WebSocket }> {
  let serverWs: WebSocket | undefined;
  const closed = deferred<number>();
  const srv = await startServer({ heartbeatInterval: 60 }, (ws) => {
    serverWs = ws;
    ws.onClose = (code) => closed.resolve(code);
  });
  cleanups.push(srv.close);
  const c = await connect(srv.url);
  while (serverWs === undefined) await new Promise((r) => setTimeout(r, 5));
  return { serverWs: () => serverWs, closed: closed.promise, c };
}

test('heartbeat: pings keep a live peer open, a silent peer is dropped', async () => {
  const { serverWs, closed, c } = await heartbeatPair();
  let pings = 0;
  c.onPing = () => pings++;
  // Several intervals pass (waiting on the count, not a fixed time: the machine may be busy).
  for (let i = 0; i < 300 && pings < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pings >= 3, `client answered ${pings} pings`);
  assert.equal(serverWs()!.readyState, 1, 'still open');
  // Stop reading: pongs stop, the server gives up.
  c.socket.pause();
  assert.equal(await closed, 1006);
  c.terminate();
});

test('heartbeat: a peer that stopped reading is dropped even while this side keeps sending', async () => {
  const { serverWs, closed, c } = await heartbeatPair();
  // The client goes silent (no pongs); the server keeps writing every 15 ms, which
  // resets the socket's own timeout each time.
  c.socket.pause();
  const ticker = setInterval(() => serverWs()!.send('tick'), 15);
  const t0 = Date.now();
  const code = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 3000))]);
  clearInterval(ticker);
  assert.equal(code, 1006);
  assert.ok(Date.now() - t0 < 1000, `dropped after ${Date.now() - t0} ms (interval 60 ms)`);
  c.terminate();
});

test('wss:// with a self-signed certificate', async (t) => {
  if (!requirePeer(haveOpenssl, 'openssl', t)) return;
  const { key, cert } = makeCert();
  const srv = await startServer({}, (ws) => {
    ws.onMessage = (d, b) => ws.send(d, { binary: b });
  }, { key, cert });
  cleanups.push(() => srv.close());
  await assert.rejects(connect(`${srv.url}/`), /self[- ]signed|certificate/i);
  const c = await connect(`${srv.url}/`, { tls: { ca: cert } });
  const m = await new Promise<string>((r) => {
    c.onMessage = (d) => r(d.toString());
    c.send('over tls');
  });
  assert.equal(m, 'over tls');
  c.close();
  await new Promise((r) => (c.onClose = r));
});

test('client frames on the wire are masked, server frames are not', async () => {
  const srv = await echoServer();
  const c = await connect(srv.url);
  const serverSide = [...srv.sockets][0]!;
  const fromClient: Buffer[] = [];
  serverSide.prependListener('data', (d: Buffer) => fromClient.push(Buffer.from(d)));
  const fromServer: Buffer[] = [];
  c.socket.on('data', (d: Buffer) => fromServer.push(Buffer.from(d)));
  const got = new Promise<void>((r) => (c.onMessage = () => r()));
  c.send('mask me');
  await got;
  // Our listener runs first and copies the chunk: the receiver unmasks in place.
  const cf = decodeFrames(Buffer.concat(fromClient));
  const sf = decodeFrames(Buffer.concat(fromServer));
  assert.equal(cf[0]!.masked, true);
  assert.equal(cf[0]!.payload.toString(), 'mask me');
  assert.equal(sf[0]!.masked, false);
  c.close();
});

test('idle timeout with heartbeats: pongs keep the peer alive but not active; 1001 after the idle time', async () => {
  const srv = await startServer({ heartbeatInterval: 40, idleTimeout: 200 }, () => {});
  cleanups.push(srv.close);
  const t0 = Date.now();
  const c = await connect(srv.url);
  let pings = 0;
  c.onPing = () => pings++;
  const [code, reason] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
  const dt = Date.now() - t0;
  assert.deepEqual([code, reason], [1001, 'idle timeout']);
  assert.ok(pings >= 2, `${pings} pings answered meanwhile`);
  assert.ok(dt >= 195 && dt < 3000, `closed after ${dt} ms`);
});

test('heartbeat: a ping that left its compression queue just before a tick gets a whole interval for its pong', async () => {
  const { pbkdf2 } = await import('node:crypto');
  let serverWs: WebSocket | undefined;
  // A long interval: the ticks below are driven by hand.
  const srv = await startServer({ heartbeatInterval: 60_000, perMessageDeflate: true }, (ws) => (serverWs = ws));
  cleanups.push(srv.close);
  const c = await connect(srv.url, { perMessageDeflate: true });
  while (serverWs === undefined) await new Promise((r) => setTimeout(r, 5));
  const ws = serverWs;
  c.socket.pause(); // no pongs from here on
  // The thread pool busy: the message's compression waits, and the ping with it.
  let busy = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  for (let i = busy; i > 0; i--) pbkdf2('x', 'y', 400_000, 32, 'sha256', () => void busy--);
  ws.send('compress me '.repeat(1000));
  ws.heartbeat(); // the handshake was traffic: no ping yet
  ws.heartbeat(); // silent since the last tick: ping, queued behind the compression
  ws.heartbeat(); // the ping is still queued: no answer is due
  assert.ok(ws.bufferedAmount > 0, 'the compression is still waiting for the pool');
  while ((busy > 0 || ws.bufferedAmount > 0) && ws.readyState === 1) await new Promise((r) => setTimeout(r, 2));
  ws.heartbeat(); // the ping only just went out: the peer gets this interval to answer
  assert.equal(ws.readyState, 1, 'not dropped at the tick right after its ping went out');
  const closed = new Promise<number>((r) => (ws.onClose = r));
  ws.heartbeat(); // a whole interval without an answer
  assert.equal(await closed, 1006);
  c.terminate();
});
