// The demo server behind `npm start`, over real sockets: index links, hello world,
// upload form, both chat rooms and the echo endpoints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runServer, type Server } from '../../lib/index.ts';
import { get, post } from '../../client/index.ts';
import { connect } from '../../websocket/index.ts';
import { demoHandler } from '../../examples/demo.ts';

let server: Server;
let base = '';

before(async () => {
  server = await runServer(demoHandler, { port: 0, ip: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server.stop({ timeout: 200 }));

test('the index page links every demo', async () => {
  const res = await get(`${base}/`, { as: 'text' });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  for (const href of ['/hello', '/polling/', '/ws-chat/', '/upload', '/echo?x=1']) {
    assert.ok((res.body as string).includes(`href="${href}"`), `index links ${href}`);
  }
});

test('hello world and the echo endpoints answer', async () => {
  const hello = await get(`${base}/hello`, { as: 'text' });
  assert.equal(hello.body, 'hello world from /hello\n');
  const echo = await post(`${base}/echo/x?y=2`, { body: 'abc', as: 'json' });
  const json = echo.body as { method: string; uri: string; query: string; bodyLength: number };
  assert.deepEqual([json.method, json.uri, json.query, json.bodyLength], ['POST', '/echo/x', 'y=2', 3]);
  const bytes = await get(`${base}/bytes/1000`, { as: 'buffer' });
  assert.equal((bytes.body as Buffer).length, 1000);
  assert.equal((await get(`${base}/status/418`)).status, 418);
});

test('the upload form receives a file', async () => {
  const form = await get(`${base}/upload`, { as: 'text' });
  assert.match(form.body as string, /enctype="multipart\/form-data"/);
  const content = Buffer.alloc(100_000, 'x');
  const res = await post(`${base}/upload`, {
    as: 'text',
    multipart: [
      { name: 'title', content: 'report' },
      { name: 'file', content, filename: 'big.txt', contentType: 'text/plain' },
    ],
  });
  assert.equal(res.status, 200, String(res.body));
  assert.match(res.body as string, /size: 100000 bytes, spilled to a temp file/);
  assert.match(res.body as string, /title: report/);
});

test('the long-polling chat answers a waiting poll when a message is posted', async () => {
  assert.equal((await get(`${base}/polling/`)).status, 200);
  const poll = get(`${base}/polling/poll?since=0`, { as: 'json', timeout: 5000 });
  await new Promise((r) => setTimeout(r, 100));
  const posted = await post(`${base}/polling/send`, { formParams: { name: 'ann', text: 'hi there' } });
  assert.ok(posted.status! < 300, `posted: ${posted.status}`);
  const res = await poll;
  assert.equal(res.status, 200);
  const messages = res.body as { name: string; text: string }[];
  assert.ok(messages.some((m) => m.name === 'ann' && m.text === 'hi there'), JSON.stringify(messages));
});

test('the WebSocket chat broadcasts to every member', async () => {
  const a = await connect(`ws://127.0.0.1:${server.port}/ws-chat/socket`);
  const b = await connect(`ws://127.0.0.1:${server.port}/ws-chat/socket`);
  const got = new Promise<string>((resolve) => {
    b.onMessage = (data) => {
      const m = JSON.parse(data.toString()) as { type: string; text: string };
      if (m.type === 'message' && m.text === 'hello room') resolve(m.text);
    };
  });
  a.send(JSON.stringify({ name: 'ann', text: 'hello room' }));
  assert.equal(await got, 'hello room');
  a.close(1000);
  b.close(1000);
});
