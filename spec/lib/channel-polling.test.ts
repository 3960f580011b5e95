// The long-polling chat example: waiting polls are all answered by one message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, get, sleep, withServer } from './helpers/raw.ts';
import { createChat } from '../../examples/polling/chat.ts';

test('polling chat: three waiting polls are answered by one post; history is served at once', async () => {
  const chat = createChat('/polling');
  await withServer((req) => chat(req), {}, async (server) => {
    const page = await connectRaw(server.port);
    page.write(get('/polling/'));
    const [html] = await page.waitResponses(1);
    assert.match(html!.body.toString(), /poll\?since=/);
    page.close();
    const polls = await Promise.all([0, 1, 2].map(() => connectRaw(server.port)));
    for (const p of polls) p.write(get('/polling/poll?since=0'));
    await sleep(50);
    assert.ok(polls.every((p) => p.received.length === 0), 'polls wait');
    const body = JSON.stringify({ name: 'ann', text: 'hi all' });
    const poster = await connectRaw(server.port);
    poster.write(`POST /polling/send HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await poster.waitResponses(1, 'POST');
    for (const p of polls) {
      const [r] = await p.waitResponses(1);
      const msgs = JSON.parse(r!.body.toString());
      assert.deepEqual(msgs.map((m: { text: string }) => m.text), ['hi all']);
      p.close();
    }
    // A late poll gets the history without waiting.
    poster.write(get('/polling/poll?since=0'));
    const rs = await poster.waitResponses(2);
    assert.equal(JSON.parse(rs[1]!.body.toString())[0].name, 'ann');
    poster.close();
  });
});
