// fetchHandler behind a real server: a Hono-style app's responses as a client sees them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runServer, type Server } from '../../lib/server.ts';
import { fetchHandler } from '../../lib/fetch-adapter.ts';
import { header, request } from './middleware-support.ts';
import { miniApp } from './fetch-support.ts';

let server: Server;

before(async () => {
  server = await runServer(fetchHandler(miniApp().fetch), { port: 0, ip: '127.0.0.1' });
});

after(() => server.stop());

test('text, params and query through the adapter', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/hello/Bob?greeting=Howdy');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'Howdy, Bob!');
  assert.equal(header(r, 'content-type'), 'text/plain;charset=UTF-8');
});

test('JSON request body and the full URL from Host', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'POST', '/echo', { 'Content-Type': 'application/json', 'X-Trace': 'abc' }, '{"n":1}');
  assert.equal(r.status, 201);
  assert.deepEqual(JSON.parse(r.body.toString()), { n: 2, trace: 'abc', url: 'http://127.0.0.1/echo' });
});

test('several Set-Cookie lines stay separate', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/cookies');
  assert.equal(r.status, 204);
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
});

test('streamed and large bodies arrive whole', { timeout: 5000 }, async () => {
  assert.equal((await request(server.port, 'GET', '/stream')).body.toString(), 'one,two,three');
  const big = await request(server.port, 'GET', '/big');
  assert.equal(big.body.length, 1 << 20);
  assert.equal((await request(server.port, 'GET', '/missing')).status, 404);
});
