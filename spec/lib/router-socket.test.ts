// The router behind a real server on 127.0.0.1: what a client sees on the wire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runServer, type Server } from '../../lib/server.ts';
import { ANY, GET, POST, context, notFound, routes } from '../../lib/router.ts';
import type { Request } from '../../lib/types.ts';
import { header, rawRequest, request } from './middleware-support.ts';

let server: Server;

before(async () => {
  const app = routes(
    GET('/', () => 'Hello, world'),
    GET('/ws', () => ({ status: 426, body: 'upgrade required' })),
    POST('/users/:id', (req: Request) => ({ status: 201, headers: { 'content-type': 'text/plain' }, body: `created ${req.params!.id} with ${req.body?.length ?? 0} bytes` })),
    context('/api', GET('/items/:item', async (req: Request) => ({ status: 200, body: `item=${req.params!.item}` }))),
    ANY('/any', (req: Request) => `method ${req.requestMethod}`),
    GET('/static/*', (req: Request) => `rest=${req.params!['*']}`),
    notFound((req: Request) => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: `no route for ${req.uri}` })),
  );
  server = await runServer(app, { port: 0, ip: '127.0.0.1' });
});

after(() => server.stop());

test('a plain-string result is a 200 text/html page', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'GET', '/');
  assert.equal(r.status, 200);
  assert.match(header(r, 'content-type')!, /^text\/html/);
  assert.equal(r.body.toString(), 'Hello, world');
});

test('path params and bodies reach the handler', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'POST', '/users/a%20b', { 'content-type': 'text/plain' }, 'hello');
  assert.equal(r.status, 201);
  assert.equal(r.body.toString(), 'created a b with 5 bytes');
  const i = await request(server.port, 'GET', '/api/items/42');
  assert.equal(i.body.toString(), 'item=42');
  const w = await request(server.port, 'GET', '/static/css/site.css');
  assert.equal(w.body.toString(), 'rest=css/site.css');
  assert.equal((await request(server.port, 'GET', '/ws')).status, 426);
});

test('405 with Allow; OPTIONS lists methods; HEAD served by GET without a body', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'DELETE', '/users/1');
  assert.equal(r.status, 405);
  assert.equal(header(r, 'allow'), 'POST, OPTIONS');
  const o = await request(server.port, 'OPTIONS', '/api/items/1');
  assert.equal(o.status, 204);
  assert.equal(header(o, 'allow'), 'GET, HEAD, OPTIONS');
  const h = await rawRequest(server.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { head: true });
  assert.equal(h.status, 200);
  assert.equal(h.body.length, 0);
  const star = await request(server.port, 'OPTIONS', '*');
  assert.equal(star.status, 204);
});

test('ANY answers every method; unknown paths get the notFound handler', { timeout: 5000 }, async () => {
  assert.equal((await request(server.port, 'PATCH', '/any', {}, 'x')).body.toString(), 'method patch');
  const n = await request(server.port, 'GET', '/nowhere/at/all');
  assert.equal(n.status, 404);
  assert.equal(n.body.toString(), 'no route for /nowhere/at/all');
});

test('malformed percent-encoding in a param is a 400', { timeout: 5000 }, async () => {
  const r = await request(server.port, 'POST', '/users/%E2%82', {}, '');
  assert.equal(r.status, 400);
});
