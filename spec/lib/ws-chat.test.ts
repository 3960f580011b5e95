// The WebSocket chat example over a real server: page, broadcast, history, presence,
// origin check and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type WebSocket } from '../../websocket/index.ts';
import { createWsChat } from '../../examples/websocket/chat.ts';
import { connectRaw, get, withServer } from './helpers/raw.ts';
import { until } from './ws-support.ts';

function inbox(c: WebSocket): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  c.onMessage = (d) => got.push(JSON.parse(d.toString()));
  return got;
}

test('chat example: the page, then a message from one browser reaches every socket; newcomers get the history', async () => {
  const chat = createWsChat('/room');
  await withServer((req) => chat(req) ?? { status: 404 }, {}, async (server) => {
    const h = await connectRaw(server.port);
    try {
      h.write(get('/room/'));
      const [page] = await h.waitResponses(1);
      assert.equal(page!.status, 200);
      assert.match(page!.body.toString(), /const prefix = '\/room';/);
      assert.match(page!.body.toString(), /new WebSocket\(/);
    } finally {
      h.close();
    }
    const origin = `http://127.0.0.1:${server.port}`;
    const a = await connect(`ws://127.0.0.1:${server.port}/room/socket`, { headers: { Origin: origin }, perMessageDeflate: true });
    const aGot = inbox(a);
    const b = await connect(`ws://127.0.0.1:${server.port}/room/socket`);
    const bGot = inbox(b);
    await until(() => aGot.length === 2 && bGot.length === 1, 3000, 'presence');
    assert.deepEqual([aGot[1]!.type, aGot[1]!.online], ['presence', 2]);
    a.send(JSON.stringify({ name: 'ann', text: 'hello room' }));
    await until(() => aGot.length === 3 && bGot.length === 2, 3000, 'broadcast');
    for (const m of [aGot[2]!, bGot[1]!]) assert.deepEqual([m.type, m.name, m.text], ['message', 'ann', 'hello room']);
    const c = await connect(`ws://127.0.0.1:${server.port}/room/socket`);
    const cGot = inbox(c);
    await until(() => cGot.length >= 1, 3000, 'history');
    assert.deepEqual([cGot[0]!.name, cGot[0]!.text], ['ann', 'hello room']);
    const closed = new Promise<number>((r) => (b.onClose = (code) => r(code)));
    b.send(Buffer.from([1, 2, 3]));
    assert.equal(await closed, 1003, 'binary is refused');
    await until(() => aGot.some((m) => m.text === 'someone left'), 3000, 'leave notice');
    a.close();
    c.close();
  });
});

test('chat example: a page from another site may not open the socket (403); plain GET on the socket gets 426', async () => {
  const chat = createWsChat('/room');
  await withServer((req) => chat(req) ?? { status: 404 }, {}, async (server) => {
    await assert.rejects(connect(`ws://127.0.0.1:${server.port}/room/socket`, { headers: { Origin: 'https://evil.example' } }), (e: { statusCode?: number }) => e.statusCode === 403);
    const h = await connectRaw(server.port);
    try {
      h.write(get('/room/socket'));
      const [r] = await h.waitResponses(1);
      assert.equal(r!.status, 426);
    } finally {
      h.close();
    }
  });
});
