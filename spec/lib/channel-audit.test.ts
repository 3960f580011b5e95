// Hostile and broken clients against HTTP channels, asyncResponse and Server-Sent Events:
// real bytes over real sockets on 127.0.0.1, assertions on what the client and the
// application see (answers, onOpen/onClose order and status, errors, connections left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asChannel, asEventStream, asyncResponse, formatEvent, type Channel, type CloseStatus, type EventStream } from '../../lib/index.ts';
import { connectRaw, get, responsesOf, sleep, withServer } from './helpers/raw.ts';
import { until } from '../helpers/wait.ts';

test('onOpen that throws before any send: 500, onClose once with error, no later timeout; the channel is closed', async () => {
  const closes: CloseStatus[] = [];
  const errors: unknown[] = [];
  let channel: Channel | null = null;
  await withServer((req) => asChannel(req, {
    timeout: 60,
    onOpen: (ch) => {
      channel = ch;
      throw new Error('open failed');
    },
    onClose: (_ch, status) => closes.push(status),
  }), { errorLogger: (e) => errors.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/') + get('/next'));
      const rs = await c.waitResponses(2);
      assert.equal(rs[0]!.status, 500);
      assert.equal(rs[1]!.status, 500, 'the request behind it is served in turn');
      await sleep(200); // well past the channel's timeout
      assert.deepEqual(closes, ['error', 'error']);
      assert.equal(errors.length, 2);
      assert.equal((errors[0] as Error).message, 'open failed');
      assert.equal(channel!.isOpen, false);
      assert.equal(channel!.send('late'), false, 'send after the failure reports closed');
    } finally {
      c.close();
    }
  });
});

test('onOpen that throws after starting a stream: the error is logged and the stream breaks off (no last chunk)', async () => {
  const closes: CloseStatus[] = [];
  const errors: unknown[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => {
      ch.send({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'part' }, false);
      throw new Error('after send');
    },
    onClose: (_ch, status) => closes.push(status),
  }), { errorLogger: (e) => errors.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/'));
      await c.waitClose();
      assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(c.text, /\r\n4\r\npart\r\n$/, 'the chunk sent before the throw, then the close');
      assert.ok(!c.text.includes('0\r\n\r\n'), 'a broken stream is not ended as if whole');
      assert.deepEqual(closes, ['error']);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as Error).message, 'after send');
    } finally {
      c.close();
    }
  });
});

test('an event stream whose onOpen throws: logged, broken off, onClose gets error', async () => {
  const closes: CloseStatus[] = [];
  const errors: unknown[] = [];
  await withServer((req) => asEventStream(req, {
    onOpen: () => {
      throw new Error('sse open');
    },
    onClose: (_s, status) => closes.push(status),
  }), { errorLogger: (e) => errors.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/events'));
      await c.waitClose();
      assert.match(c.text, /content-type: text\/event-stream/);
      assert.ok(!c.text.endsWith('0\r\n\r\n'));
      assert.deepEqual(closes, ['error']);
      assert.deepEqual(errors.map((e) => (e as Error).message), ['sse open']);
    } finally {
      c.close();
    }
  });
});

test('HEAD to an event stream: the head alone, no body bytes, no onOpen/onClose; the connection goes on', async () => {
  const seen: string[] = [];
  await withServer((req) => {
    if (req.uri === '/plain') return 'after';
    return asEventStream(req, {
      keepAlive: 20,
      onOpen: () => seen.push('open ' + req.requestMethod),
      onClose: (_s, status) => seen.push('close ' + req.requestMethod + ' ' + status),
    });
  }, {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write('HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n' + get('/plain'));
      await c.waitFor((r) => r.text.includes('after'), 3000, 'the pipelined GET');
      await sleep(60); // a keep-alive period: nothing may follow the HEAD answer
      const text = c.text;
      const head = text.slice(0, text.indexOf('\r\n\r\n') + 4);
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /content-type: text\/event-stream/);
      assert.match(head, /cache-control: no-cache/i);
      assert.doesNotMatch(head, /content-length|transfer-encoding/i);
      assert.match(text.slice(head.length), /^HTTP\/1\.1 200 OK\r\n/, 'the next bytes are the next response');
      assert.deepEqual(seen, [], 'the application never held a stream');
    } finally {
      c.close();
    }
  });
});

test('HEAD to a streaming channel: no body bytes, onClose server-close (answered), send then reports closed', async () => {
  const closes: CloseStatus[] = [];
  const results: boolean[] = [];
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => {
      results.push(ch.send({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'x' }, false));
      results.push(ch.send('more', false));
    },
    onClose: (_ch, status) => closes.push(status),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitFor((r) => r.text.includes('\r\n\r\n'));
      await sleep(30);
      assert.ok(c.text.endsWith('\r\n\r\n'), 'nothing after the head');
      assert.deepEqual(closes, ['server-close']);
      assert.deepEqual(results, [false, false]);
    } finally {
      c.close();
    }
  });
});

test('a first streaming send with a body that is not bytes throws and leaves the channel unanswered, not hung', async () => {
  let thrown: unknown = null;
  await withServer((req) => asChannel(req, {
    onOpen: (ch) => {
      try {
        ch.send({ status: 200, body: 42 as unknown as string }, false);
      } catch (err) {
        thrown = err;
      }
      ch.send('fixed');
    },
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/'));
      const [r] = await c.waitResponses(1);
      assert.ok(thrown instanceof TypeError);
      assert.equal(r!.status, 200);
      assert.equal(r!.body.toString(), 'fixed');
    } finally {
      c.close();
    }
  });
});

test('many drained() waiters on a stalled stream share one listener and all resolve', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  let resolved = 0;
  let waiting = 0;
  try {
    await withServer((req) => asChannel(req, {
      onOpen(ch) {
        ch.send({ status: 200 }, false);
        const chunk = Buffer.alloc(256 * 1024, 'd');
        // 32 MiB, more than loopback buffers hold: the writes wait for the client.
        for (let i = 0; i < 128; i++) ch.send(chunk, false);
        for (let i = 0; i < 20; i++) {
          waiting++;
          void ch.drained().then(() => resolved++);
        }
        ch.close();
      },
    }), {}, async (server) => {
      const c = await connectRaw(server.port);
      try {
        c.socket.pause();
        c.write(get('/'));
        await until(() => waiting === 20);
        await sleep(50);
        assert.equal(resolved, 0, 'nothing drained while the client reads nothing');
        let tail = '';
        let ended = false;
        c.socket.on('data', (d: Buffer) => {
          tail = (tail + d.subarray(Math.max(0, d.length - 5)).toString('latin1')).slice(-5);
          if (tail === '0\r\n\r\n') ended = true;
        });
        c.socket.resume();
        await until(() => ended, 10_000, 'the whole stream');
        await until(() => resolved === 20, 3000, 'every waiter');
      } finally {
        c.close();
      }
    });
    await sleep(10);
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('a stream to a client that reads nothing is cut off after sendTimeout: onClose timeout (as WebSocket channels), send false, no error', async () => {
  const closes: CloseStatus[] = [];
  const errors: unknown[] = [];
  let channel: Channel | null = null;
  await withServer((req) => asChannel(req, {
    onOpen(ch) {
      channel = ch;
      ch.send({ status: 200 }, false);
      const chunk = Buffer.alloc(256 * 1024, 's');
      // Ignores backpressure on purpose, up to 32 MiB: more than loopback buffers hold.
      for (let i = 0; i < 128 && ch.isOpen; i++) ch.send(chunk, false);
    },
    onClose: (_ch, status) => closes.push(status),
  }), { sendTimeout: 200, errorLogger: (e) => errors.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.socket.pause();
      c.write(get('/'));
      await until(() => closes.length === 1, 5000, 'the cut-off');
      assert.deepEqual(closes, ['timeout']);
      assert.equal(channel!.send('x', false), false);
      assert.equal(channel!.needsDrain, false, 'nothing is held for the client any more');
      await until(() => server.connections === 0, 3000, 'the connection to close');
      assert.deepEqual(errors, []);
    } finally {
      c.close();
    }
  });
});

test('Server-Sent Events framing: CR, LF and CRLF split data; retry must be finite; Last-Event-ID reaches the stream', async () => {
  assert.equal(formatEvent({ data: 'a\rb\nc\r\nd\n\re' }), 'data: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: e\n\n');
  assert.equal(formatEvent({ data: '', retry: 2500.9 }), 'retry: 2500\ndata: \n\n');
  for (const retry of [NaN, Infinity, -Infinity]) assert.throws(() => formatEvent({ data: 'x', retry }), TypeError, String(retry));
  for (const id of ['1\r', '1\n2', 'a\0b']) assert.throws(() => formatEvent({ data: 'x', id }), TypeError, JSON.stringify(id));
  assert.throws(() => formatEvent({ data: 'x', event: 'a\rretry: 1' }), TypeError);
  let stream: EventStream | null = null;
  await withServer((req) => asEventStream(req, { keepAlive: 0, onOpen: (s) => (stream = s) }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      // A browser resuming after the event with id "é-7" sends the id's UTF-8 bytes.
      c.write(Buffer.concat([Buffer.from('GET /e HTTP/1.1\r\nHost: x\r\nLast-Event-ID: '), Buffer.from('é-7', 'utf8'), Buffer.from('\r\n\r\n')]));
      await until(() => stream !== null);
      assert.equal(stream!.lastEventId, 'é-7');
      stream!.send({ id: 'é-8', data: 'next' });
      stream!.close();
      await c.waitFor((r) => r.received.includes('0\r\n\r\n'));
      const [r] = responsesOf(c.received, 'GET', false);
      assert.equal(r!.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(r!.headers['content-length'], undefined);
      assert.ok(r!.body.includes(Buffer.from('id: é-8\ndata: next\n\n', 'utf8')));
    } finally {
      c.close();
    }
    const plain = await connectRaw(server.port);
    try {
      stream = null;
      plain.write(get('/e'));
      await until(() => stream !== null);
      assert.equal(stream!.lastEventId, '');
    } finally {
      plain.close();
    }
  });
});

test('many long polls and event streams opened and dropped at once: each onClose once, no connection or timer left', async () => {
  const closes = new Map<string, CloseStatus[]>();
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await withServer((req) => {
    const note = (status: CloseStatus): void => {
      const list = closes.get(req.uri) ?? [];
      list.push(status);
      closes.set(req.uri, list);
    };
    if (req.uri.startsWith('/sse')) return asEventStream(req, { keepAlive: 1000 + Number(req.uri.slice(5)) % 7, onClose: (_s, st) => note(st) });
    return asChannel(req, { timeout: 30_000, onClose: (_c, st) => note(st) });
  }, {}, async (server) => {
    const clients = [];
    for (let i = 0; i < 60; i++) {
      const c = await connectRaw(server.port);
      c.write(get(i % 2 === 0 ? `/poll/${i}` : `/sse/${i}`));
      clients.push(c);
    }
    await until(() => server.connections === 60);
    await sleep(30);
    for (const c of clients) c.close();
    await until(() => server.connections === 0, 3000, 'every connection to close');
    await until(() => closes.size === 60, 3000, 'every onClose');
    for (const [uri, list] of closes) assert.deepEqual(list, ['client-close'], uri);
    await sleep(20);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter <= timersBefore + 1, `keep-alive intervals released (${timersBefore} -> ${timersAfter})`);
  });
});

test('async callbacks that reject: asyncResponse start, onOpen, event stream onOpen and onClose: a 500 or a reported error, never an unhandled rejection', async () => {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown): void => void rejections.push(r);
  process.on('unhandledRejection', onRejection);
  const errors: string[] = [];
  const closes: string[] = [];
  try {
    await withServer((req) => {
      switch (req.uri) {
        case '/start':
          return asyncResponse(async () => {
            await sleep(5);
            throw new Error('start');
          });
        case '/start-after-answer':
          return asyncResponse(async (respond) => {
            respond('answered');
            throw new Error('start after answer');
          });
        case '/open':
          return asChannel(req, {
            async onOpen() {
              await sleep(5);
              throw new Error('open');
            },
            onClose: (_ch, status) => void closes.push('open ' + status),
          });
        default:
          return asEventStream(req, {
            async onOpen(s) {
              await sleep(5);
              s.close();
            },
            async onClose() {
              throw new Error('sse close');
            },
          });
      }
    }, { errorLogger: (e) => errors.push((e as Error).message) }, async (server) => {
      const c = await connectRaw(server.port);
      try {
        c.write(get('/start') + get('/start-after-answer') + get('/open') + get('/sse'));
        const rs = await c.waitResponses(4);
        assert.deepEqual(rs.map((r) => r.status), [500, 200, 500, 200]);
        assert.equal(rs[1]!.body.toString(), 'answered');
        await until(() => errors.length === 4, 3000, 'four reports');
        assert.deepEqual(errors.sort(), ['open', 'sse close', 'start', 'start after answer']);
        assert.deepEqual(closes, ['open error']);
      } finally {
        c.close();
      }
    });
    await sleep(20);
    assert.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('timeout: 0 means no timeout, as for the other timeouts (not an immediate 504)', async () => {
  const closes: CloseStatus[] = [];
  await withServer((req) => asChannel(req, {
    timeout: 0,
    onOpen: (ch) => void setTimeout(() => ch.send('late answer'), 120),
    onClose: (_ch, status) => void closes.push(status),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write(get('/'));
      const [r] = await c.waitResponses(1);
      assert.equal(r!.status, 200);
      assert.equal(r!.body.toString(), 'late answer');
      assert.deepEqual(closes, ['server-close']);
    } finally {
      c.close();
    }
  });
});

test('an event stream to an HTTP/1.0 client is close-delimited: no Transfer-Encoding or Content-Length, raw event bytes, closed at the end', async () => {
  await withServer((req) => asEventStream(req, {
    keepAlive: 0,
    onOpen: (s) => {
      s.send({ event: 'tick', id: '1', data: 'one\ntwo' });
      s.close();
    },
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    try {
      c.write('GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      await c.waitClose();
      const text = c.text;
      const head = text.slice(0, text.indexOf('\r\n\r\n') + 4);
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /content-type: text\/event-stream/);
      assert.match(head, /\r\nConnection: close\r\n/i);
      assert.doesNotMatch(head, /transfer-encoding|content-length/i);
      assert.equal(text.slice(head.length), ': stream open\n\nevent: tick\nid: 1\ndata: one\ndata: two\n\n');
    } finally {
      c.close();
    }
  });
});

test('close reasons: a client that resets mid-stream is client-close; a long poll whose connection the server times out is timeout', async () => {
  const closes: Array<[string, CloseStatus]> = [];
  await withServer((req) => asChannel(req, {
    onOpen(ch) {
      if (req.uri === '/stream') ch.send({ status: 200 }, false);
    },
    onClose: (_ch, status) => closes.push([req.uri, status]),
  }), { headersTimeout: 150, sendTimeout: 5000 }, async (server) => {
    // A stream under way, then the client leaves: its own close, not a timeout.
    const s = await connectRaw(server.port);
    s.write(get('/stream'));
    await s.waitFor((c) => c.text.includes('\r\n\r\n'));
    s.socket.resetAndDestroy();
    await until(() => closes.length === 1, 3000, 'the stream to close');
    // A long poll waiting; behind it the client starts a request head and stalls. There
    // is no room for a 408 before the poll's answer: the server cuts the connection off.
    const p = await connectRaw(server.port);
    try {
      p.write(get('/poll') + 'GET /next HTTP/1.1\r\nHo');
      await until(() => closes.length === 2, 3000, 'the poll to close');
      await p.waitClose();
    } finally {
      p.close();
    }
    assert.deepEqual(closes, [['/stream', 'client-close'], ['/poll', 'timeout']]);
  });
});
