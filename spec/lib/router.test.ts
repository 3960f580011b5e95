// Router: matching order, params, 404/405/OPTIONS/HEAD, context, registration errors.
// Handlers are called directly with request maps (socket tests: router-socket.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY, DELETE, GET, POST, PUT, context, notFound, route, routes } from '../../lib/router.ts';
import type { Request, Response } from '../../lib/types.ts';
import { makeRequest } from './middleware-support.ts';

const call = (h: (r: Request) => unknown, method: string, uri: string, extra: Partial<Request> = {}) =>
  h(makeRequest({ requestMethod: method, uri, ...extra })) as Response & Record<string, unknown>;

const echo = (label: string) => (req: Request) => ({ status: 200, body: label, params: req.params });

test('static, param and wildcard routes match in that order', () => {
  const h = routes(
    GET('/users/new', echo('new')),
    GET('/users/:id', echo('user')),
    GET('/users/:id/posts/:post', echo('post')),
    GET('/files/*', echo('files')),
    GET('/', echo('root')),
  );
  assert.equal(call(h, 'get', '/').body, 'root');
  assert.equal(call(h, 'get', '/users/new').body, 'new');
  const u = call(h, 'get', '/users/42');
  assert.equal(u.body, 'user');
  assert.deepEqual({ ...(u.params as object) }, { id: '42' });
  assert.deepEqual({ ...(call(h, 'get', '/users/7/posts/x').params as object) }, { id: '7', post: 'x' });
  assert.deepEqual({ ...(call(h, 'get', '/files/a/b/c.txt').params as object) }, { '*': 'a/b/c.txt' });
  assert.equal(call(h, 'get', '/users').status, 404);
  assert.equal(call(h, 'get', '/users/').status, 404, 'an empty segment is not a param');
  assert.equal(call(h, 'get', '/nope/deeper').status, 404);
});

test('backtracks from a static branch that dead-ends to a param branch', () => {
  const h = routes(GET('/a/b/c', echo('static')), GET('/a/:x/d', echo('param')), GET('/a/*rest', echo('wild')));
  assert.equal(call(h, 'get', '/a/b/c').body, 'static');
  assert.equal(call(h, 'get', '/a/b/d').body, 'param');
  const w = call(h, 'get', '/a/b/e');
  assert.equal(w.body, 'wild');
  assert.deepEqual({ ...(w.params as object) }, { rest: 'b/e' });
});

test('params are percent-decoded; malformed encoding answers 400', () => {
  const h = routes(GET('/p/:name', echo('p')), GET('/caf\u00e9', echo('cafe')));
  assert.equal((call(h, 'get', '/p/a%20b%2Fc').params as Record<string, string>).name, 'a b/c');
  assert.equal((call(h, 'get', '/p/%E2%82%AC').params as Record<string, string>).name, '\u20ac');
  assert.equal((call(h, 'get', '/p/a+b').params as Record<string, string>).name, 'a+b', '+ is literal in paths');
  assert.equal(call(h, 'get', '/p/%E2%82').status, 400);
  assert.equal(call(h, 'get', '/p/%zz').status, 400);
  assert.equal(call(h, 'get', '/caf%C3%A9').body, 'cafe', 'static segments match decoded');
});

test('405 with Allow when the path matches another method; OPTIONS answered', () => {
  const h = routes(GET('/u/:id', echo('get')), PUT('/u/:id', echo('put')), POST('/u/new', echo('create')));
  const r = call(h, 'delete', '/u/1');
  assert.equal(r.status, 405);
  assert.equal(r.headers!.allow, 'GET, HEAD, PUT, OPTIONS');
  const both = call(h, 'delete', '/u/new');
  assert.equal(both.status, 405);
  assert.deepEqual(String(both.headers!.allow).split(', ').sort(), ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
  const o = call(h, 'options', '/u/1');
  assert.equal(o.status, 204);
  assert.equal(o.headers!.allow, 'GET, HEAD, PUT, OPTIONS');
  assert.equal(call(h, 'options', '/zzz').status, 404);
  const star = call(h, 'options', '*');
  assert.equal(star.status, 204);
  assert.match(String(star.headers!.allow), /GET/);
  assert.equal(call(routes({ autoOptions: false }, GET('/x', echo('x'))), 'options', '/x').status, 405);
});

test('HEAD is served by GET routes, an explicit HEAD route wins', () => {
  const h = routes(GET('/a', echo('get-a')), GET('/b', echo('get-b')), { method: 'HEAD', path: '/b', handler: echo('head-b') });
  assert.equal(call(h, 'head', '/a').body, 'get-a');
  assert.equal(call(h, 'head', '/b').body, 'head-b');
});

test('ANY matches every method; a specific route on the same path wins', () => {
  const h = routes(ANY('/x', echo('any')), DELETE('/x', echo('del')));
  assert.equal(call(h, 'patch', '/x').body, 'any');
  assert.equal(call(h, 'delete', '/x').body, 'del');
  assert.equal(call(h, 'get', '/x').body, 'any');
});

test('notFound handler and plain-string results pass through', () => {
  const h = routes(GET('/', () => 'hello'), notFound((req) => ({ status: 404, body: `no ${req.uri}` })));
  assert.equal(call(h, 'get', '/'), 'hello');
  assert.equal(call(h, 'get', '/missing').body, 'no /missing');
});

test('context prefixes nested routes and keeps params from both levels', () => {
  const h = routes(
    context('/api', GET('/', echo('api-root')), context('/users/:uid', GET('/posts/:pid', echo('post')), GET('/', echo('user')))),
  );
  assert.equal(call(h, 'get', '/api').body, 'api-root');
  assert.deepEqual({ ...(call(h, 'get', '/api/users/u1/posts/p2').params as object) }, { uid: 'u1', pid: 'p2' });
  assert.equal(call(h, 'get', '/api/users/u1').body, 'user');
});

test('path params merge over params already on the request', () => {
  const h = routes(GET('/u/:id', echo('u')));
  const r = call(h, 'get', '/u/9', { params: { id: 'old', q: '1' } });
  assert.deepEqual({ ...(r.params as object) }, { id: '9', q: '1' });
});

test('async handlers are returned as-is (the router adds no wrapping)', async () => {
  const h = routes(GET('/a', async () => ({ status: 201, body: 'later' })));
  const r = (await call(h, 'get', '/a')) as Response;
  assert.equal(r.status, 201);
});

test('registration errors are reported', () => {
  assert.throws(() => routes(GET('/a', echo('1')), GET('/a', echo('2'))), /duplicate route GET \/a/);
  assert.throws(() => GET('a', echo('x')), /must start with/);
  assert.throws(() => routes(GET('/a/*/b', echo('x'))), /wildcard must be the last/);
  assert.throws(() => routes(GET('/a/:x/:x', echo('x'))), /duplicate param/);
  assert.throws(() => routes(notFound(echo('a')), notFound(echo('b'))), /at most one notFound/);
  assert.throws(() => GET('/a', 'nope' as never), /must be a function/);
});

test('many routes: each of 2000 resolves to its own handler', () => {
  const list = [];
  for (let i = 0; i < 1000; i++) {
    list.push(GET(`/s${i}/items`, echo(`s${i}`)));
    list.push(GET(`/p${i}/:id`, echo(`p${i}`)));
  }
  const h = routes(list);
  for (let i = 0; i < 1000; i += 37) {
    assert.equal(call(h, 'get', `/s${i}/items`).body, `s${i}`);
    const p = call(h, 'get', `/p${i}/v${i}`);
    assert.equal(p.body, `p${i}`);
    assert.equal((p.params as Record<string, string>).id, `v${i}`);
  }
  assert.equal(call(h, 'get', '/s1000/items').status, 404);
});

test('route() takes custom methods; upper-case request methods are tolerated', () => {
  const h = routes(route('PROPFIND', '/dav/*', echo('dav')), GET('/g', echo('g')));
  assert.equal(call(h, 'propfind', '/dav/a/b').body, 'dav');
  assert.equal(call(h, 'GET', '/g').body, 'g');
  const r = call(h, 'get', '/dav/x');
  assert.equal(r.status, 405);
  assert.equal(r.headers!.allow, 'PROPFIND, OPTIONS');
  assert.throws(() => route('BAD METHOD', '/x', echo('x')), /invalid method/);
});

test('random raw paths never throw and always get an answer', () => {
  const h = routes(GET('/a/:x', echo('a')), GET('/a/b/*', echo('w')), GET('/', echo('root')), POST('/%7E/:y', echo('t')));
  const alphabet = ['/', '%', '2', 'F', 'e', 'E', '.', 'a', 'b', ':', '*', '\\', '\0', '%E2%82', '%zz', '~', '%7E', '\u00e9'];
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let i = 0; i < 5000; i++) {
    let uri = '/';
    const len = rand(12);
    for (let j = 0; j < len; j++) uri += alphabet[rand(alphabet.length)];
    const method = ['get', 'post', 'head', 'options', 'delete'][rand(5)]!;
    const r = call(h, method, uri);
    assert.equal(typeof r.status, 'number', `${method} ${JSON.stringify(uri)}`);
    assert.ok([200, 204, 400, 404, 405].includes(r.status!), `${method} ${JSON.stringify(uri)} -> ${r.status}`);
  }
});
