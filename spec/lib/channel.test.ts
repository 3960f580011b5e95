// The channel API over real sockets: long-poll, streaming, timeouts, stop, SSE, asyncResponse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, responsesOf, sleep, withServer } from './helpers/raw.ts';
import { asChannel, asEventStream, asyncResponse, formatEvent, runServer, type Channel, type CloseStatus, type EventStream, type Request } from '../../lib/index.ts';

test('respond later from a timer', async () => {
  const closes: CloseStatus[] = [];
  await withServer((req) => asChannel(req, {
    onOpen(ch) {
      setTimeout(() => ch.send({ status: 202, headers: { 'x-later': 'yes' }, body: 'later' }), 30);
    },
    onClose: (_ch, s) => closes.push(s),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    const t0 = Date.now();
    c.write(get('/'));
    const [r] = await c.waitResponses(1);
    c.close();
    assert.ok(Date.now() - t0 >= 25);
    assert.equal(r!.status, 202);
    assert.equal(r!.headers['x-later'], 'yes');
    assert.equal(r!.body.toString(), 'later');
    assert.deepEqual(closes, ['server-close']);
  });
});

test('send after the client closed does nothing; onClose fired once with client-close', async () => {
  const closes: CloseStatus[] = [];
  let channel: Channel | null = null;
  const logged: unknown[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => (channel = ch),
    onClose: (_ch, s) => closes.push(s),
  }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/poll'));
    while (channel === null) await sleep(5);
    assert.equal(channel!.isOpen, true);
    c.close();
    const deadline = Date.now() + 2000;
    while (closes.length === 0 && Date.now() < deadline) await sleep(5);
    assert.deepEqual(closes, ['client-close']);
    assert.equal(channel!.isOpen, false);
    assert.equal(channel!.send('too late'), false);
    assert.equal(channel!.close(), false);
    await sleep(20);
    assert.deepEqual(closes, ['client-close'], 'exactly once');
    assert.deepEqual(logged, []);
  });
});

test('streaming 1,000 chunks arrives in order, chunked, ended by close()', async () => {
  await withServer((req) => asChannel(req, {
    async onOpen(ch) {
      ch.send({ status: 200, headers: { 'content-type': 'text/plain' } }, false);
      for (let i = 0; i < 1000; i++) {
        if (!ch.send(`${i}\n`, false)) await ch.drained();
        if (i % 100 === 0) await sleep(0);
      }
      ch.close();
    },
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/stream') + get('/after'));
    const rs = await c.waitResponses(2, 'GET', 5000);
    c.close();
    assert.equal(rs[0]!.headers['transfer-encoding'], 'chunked');
    const lines = rs[0]!.body.toString().trim().split('\n');
    assert.equal(lines.length, 1000);
    lines.forEach((l, i) => assert.equal(l, String(i)));
    assert.equal(rs[1]!.status, 200, 'the next pipelined request is answered after the stream ends');
  });
});

test('pipelined requests behind a long poll wait their turn', async () => {
  let poll: Channel | null = null;
  await withServer((req) => {
    if (req.uri === '/poll') return asChannel(req, { onOpen: (ch) => (poll = ch) });
    return { body: req.uri };
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/poll') + get('/a') + get('/b'));
    await sleep(50);
    assert.equal(c.received.length, 0, 'nothing is sent before the poll is answered');
    poll!.send('news');
    const rs = await c.waitResponses(3);
    c.close();
    assert.deepEqual(rs.map((r) => r.body.toString()), ['news', '/a', '/b']);
  });
});

test('timeout: an unanswered channel gets 504 (or the configured response); a stream is ended', async () => {
  const closes: CloseStatus[] = [];
  await withServer((req) => {
    if (req.uri === '/default') return asChannel(req, { timeout: 60, onClose: (_c, s) => closes.push(s) });
    if (req.uri === '/custom') return asChannel(req, { timeout: 60, timeoutResponse: { status: 200, body: '[]' } });
    return asChannel(req, {
      timeout: 80,
      onOpen: (ch) => {
        ch.send({ status: 200 }, false);
        ch.send('first', false);
      },
      onClose: (_c, s) => closes.push(s),
    });
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/default') + get('/custom') + get('/stream'));
    const rs = await c.waitResponses(3);
    c.close();
    assert.equal(rs[0]!.status, 504);
    assert.equal(rs[1]!.body.toString(), '[]');
    assert.equal(rs[2]!.body.toString(), 'first');
    assert.deepEqual(closes.sort(), ['timeout', 'timeout']);
  });
});

test('stop() while channels are open: each gets onClose, waiting polls get 503', async () => {
  const closes: CloseStatus[] = [];
  const server = await runServer((req) => asChannel(req, {
    onOpen: (ch) => {
      if (req.uri === '/stream') ch.send('part', false);
    },
    onClose: (_c, s) => closes.push(s),
  }), { ip: '127.0.0.1', port: 0 });
  const clients = await Promise.all([0, 1, 2].map(() => connectRaw(server.port)));
  clients[0]!.write(get('/poll1'));
  clients[1]!.write(get('/poll2'));
  clients[2]!.write(get('/stream'));
  await clients[2]!.waitFor((c) => c.text.includes('part'));
  await server.stop({ timeout: 500 });
  assert.deepEqual(closes, ['going-away', 'going-away', 'going-away']);
  for (const c of clients.slice(0, 2)) {
    await c.waitEnd();
    assert.equal(responsesOf(c.received)[0]!.status, 503);
  }
  await clients[2]!.waitEnd();
  const streamed = responsesOf(clients[2]!.received)[0]!;
  assert.equal(streamed.body.toString(), 'part', 'the stream was ended cleanly');
  for (const c of clients) c.close();
  assert.equal(server.status, 'stopped');
});

test('close() before any send closes the connection without a response', async () => {
  const closes: CloseStatus[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => setTimeout(() => ch.close(), 10),
    onClose: (_c, s) => closes.push(s),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/'));
    await c.waitEnd();
    c.close();
    assert.equal(c.received.length, 0);
    assert.deepEqual(closes, ['server-close']);
  });
});

test('asyncResponse: respond stored and called later; a second call and a call after the client left do nothing', async () => {
  const stored: Array<(r: unknown) => void> = [];
  await withServer((req: Request) => asyncResponse((respond) => {
    if (req.uri === '/now') {
      respond({ body: 'now' });
      respond({ body: 'twice' });
    } else stored.push(respond as (r: unknown) => void);
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/later') + get('/now'));
    while (stored.length === 0) await sleep(5);
    setTimeout(() => stored[0]!({ status: 201, body: 'later' }), 20);
    const rs = await c.waitResponses(2);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['later', 'now']);
    c.write(get('/gone'));
    while (stored.length < 2) await sleep(5);
    c.close();
    await sleep(20);
    stored[1]!('nobody is listening'); // must not throw
  });
});

test('Server-Sent Events: event-stream head, fields, multi-line data, keep-alive comments', async () => {
  let es: EventStream | null = null;
  const closes: CloseStatus[] = [];
  await withServer((req) => asEventStream(req, {
    keepAlive: 30,
    onOpen: (s) => (es = s),
    onClose: (_s, st) => closes.push(st),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/events'));
    while (es === null) await sleep(5);
    es!.send({ event: 'greet', id: '1', data: 'hello\nworld' });
    es!.send('plain');
    await sleep(80);
    es!.close();
    const [r] = await c.waitResponses(1);
    c.close();
    assert.match(r!.headers['content-type']!, /^text\/event-stream/);
    assert.equal(r!.headers['cache-control'], 'no-cache');
    const text = r!.body.toString();
    assert.ok(text.includes('event: greet\nid: 1\ndata: hello\ndata: world\n\n'));
    assert.ok(text.includes('data: plain\n\n'));
    assert.match(text, /: keep-alive\n\n/);
    assert.deepEqual(closes, ['server-close']);
  });
  assert.equal(formatEvent({ data: 'a\r\nb', retry: 1500 }), 'retry: 1500\ndata: a\ndata: b\n\n');
  assert.throws(() => formatEvent({ data: 'x', event: 'bad\nname' }));
});

test('a streaming channel to a client that does not read reports backpressure', async () => {
  let sawFull = false;
  let done = false;
  await withServer((req) => asChannel(req, {
    async onOpen(ch) {
      ch.send({ status: 200 }, false);
      const chunk = Buffer.alloc(64 * 1024, 'c');
      for (let i = 0; i < 100 && ch.isOpen; i++) {
        if (!ch.send(chunk, false)) {
          sawFull = true;
          break;
        }
      }
      done = true;
    },
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.socket.pause();
    c.write(get('/'));
    while (!done) await sleep(5);
    c.close();
    assert.equal(sawFull, true, 'send() returned false once the buffer was full');
  });
});
