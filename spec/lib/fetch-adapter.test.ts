// fetchHandler called directly: Ring request -> WHATWG Request -> Response -> map,
// with a tiny Hono-style app written inline. (Over real sockets: fetch-socket.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchHandler, requestUrl } from '../../lib/fetch-adapter.ts';
import type { Response } from '../../lib/types.ts';
import { makeRequest } from './middleware-support.ts';
import { miniApp } from './fetch-support.ts';

async function drain(body: unknown): Promise<string> {
  if (body === null || body === undefined) return '';
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

test('URL from scheme, Host and target', () => {
  assert.equal(requestUrl(makeRequest({ uri: '/a/b', queryString: 'x=1', headers: { host: 'h.test:81' } })), 'http://h.test:81/a/b?x=1');
  assert.equal(requestUrl(makeRequest({ uri: '/', scheme: 'https', headers: {} })), 'https://example.test:8080/');
});

test('a Hono-style app: routing, params, JSON body, query, headers, cookies', async () => {
  const h = fetchHandler(miniApp().fetch);
  const hello = (await h(makeRequest({ uri: '/hello/Ann', queryString: 'greeting=Hi' }))) as Response;
  assert.equal(hello.status, 200);
  assert.equal(hello.headers!['content-type'], 'text/plain;charset=UTF-8');
  assert.equal(await drain(hello.body), 'Hi, Ann!');

  const echo = (await h(
    makeRequest({ requestMethod: 'post', uri: '/echo', headers: { host: 'x', 'content-type': 'application/json', 'x-trace': 't1' }, body: Buffer.from('{"n":41}') }),
  )) as Response;
  assert.equal(echo.status, 201);
  assert.deepEqual(JSON.parse(await drain(echo.body)), { n: 42, trace: 't1', url: 'http://x/echo' });

  const c = (await h(makeRequest({ uri: '/cookies' }))) as Response;
  assert.deepEqual(c.headers!['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
  assert.equal(c.status, 204);
  assert.equal(c.body, null);

  const missing = (await h(makeRequest({ uri: '/nope' }))) as Response;
  assert.equal(missing.status, 404);
});

test('streamed response bodies arrive chunk by chunk', async () => {
  const h = fetchHandler(miniApp().fetch);
  const r = (await h(makeRequest({ uri: '/stream' }))) as Response;
  const seen: string[] = [];
  for await (const c of r.body as AsyncIterable<Uint8Array>) seen.push(Buffer.from(c).toString());
  assert.deepEqual(seen, ['one,', 'two,', 'three']);
});

test('a handler that returns no Response is an error', async () => {
  const h = fetchHandler((() => 'nope') as never);
  await assert.rejects(async () => h(makeRequest()), /did not return a Response/);
});

test('extra args are passed after the Request', async () => {
  const h = fetchHandler((req, env) => new globalThis.Response(`${new URL(req.url).pathname} ${(env as { name: string }).name}`), { args: [{ name: 'env!' }] });
  assert.equal(await drain(((await h(makeRequest({ uri: '/p' }))) as Response).body), '/p env!');
});

test('a Host that cannot form a URL is a 400, the app is not called', async () => {
  let called = false;
  const h = fetchHandler(() => {
    called = true;
    return new globalThis.Response('x');
  });
  const r = (await h(makeRequest({ headers: { host: 'bad host^' } }))) as Response;
  assert.equal(r.status, 400);
  assert.equal(called, false);
});
