// wrapParams, wrapJson, wrapCookies/setCookie and wrap() ordering, called directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wrapParams } from '../../lib/middleware/params.ts';
import { decodeComponent, parseUrlEncoded } from '../../lib/middleware/urlencoded.ts';
import { json, wrapJson } from '../../lib/middleware/json.ts';
import { deleteCookie, parseCookies, setCookie, wrapCookies } from '../../lib/middleware/cookies.ts';
import { wrap, type Middleware } from '../../lib/middleware/wrap.ts';
import type { Request, Response } from '../../lib/types.ts';
import { makeRequest } from './middleware-support.ts';

const capture = (req: Request) => ({ status: 200, body: 'ok', req });

test('query params: repeated keys, + as space, percent-decoding, malformed escapes kept', () => {
  const h = wrapParams(capture);
  const r = h(makeRequest({ queryString: 'a=1&b=x+y&a=2&c=%E2%82%AC&d=%zz&e=%&f&&=g&a=3' })) as { req: Request };
  const q = r.req.queryParams as Record<string, unknown>;
  assert.deepEqual(q.a, ['1', '2', '3']);
  assert.equal(q.b, 'x y');
  assert.equal(q.c, '\u20ac');
  assert.equal(q.d, '%zz');
  assert.equal(q.e, '%');
  assert.equal(q.f, '');
  assert.equal(q[''], 'g');
  assert.equal('toString' in q, false, 'no inherited keys');
});

test('__proto__ and constructor keys are plain data', () => {
  const q = parseUrlEncoded('__proto__=x&constructor=y&toString=z&hasOwnProperty=1&hasOwnProperty=2');
  assert.equal(q['__proto__'], 'x');
  assert.equal(q.constructor, 'y');
  assert.equal(q.toString, 'z');
  assert.deepEqual(q.hasOwnProperty, ['1', '2']);
  assert.deepEqual(Object.keys(q), ['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
  const c = parseCookies('__proto__=a; constructor=b');
  assert.equal(c['__proto__'], 'a');
  assert.equal(c.constructor, 'b');
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('urlencoded form body merges with query and path params (path wins, then form)', () => {
  const h = wrapParams(capture);
  const body = Buffer.from('name=Ann+Lee&tag=a&tag=b&id=form&q=form');
  const r = h(
    makeRequest({
      requestMethod: 'post',
      queryString: 'q=query&only=q',
      headers: { host: 'x', 'content-type': 'application/x-www-form-urlencoded' },
      body,
      params: { id: 'path' },
    }),
  ) as { req: Request };
  assert.deepEqual({ ...(r.req.formParams as object) }, { name: 'Ann Lee', tag: ['a', 'b'], id: 'form', q: 'form' });
  assert.deepEqual({ ...(r.req.params as object) }, { q: 'form', only: 'q', name: 'Ann Lee', tag: ['a', 'b'], id: 'path' });
});

test('form charset: iso-8859-1 bodies and raw non-ASCII bytes decode right', () => {
  const h = wrapParams(capture);
  const latin = h(
    makeRequest({ requestMethod: 'post', headers: { host: 'x', 'content-type': 'application/x-www-form-urlencoded; charset=ISO-8859-1' }, body: Buffer.from('n=%E9t%E9') }),
  ) as { req: Request };
  assert.equal((latin.req.formParams as Record<string, string>).n, '\u00e9t\u00e9');
  const raw = h(
    makeRequest({ requestMethod: 'post', headers: { host: 'x', 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('n=\u00e9t\u00e9', 'utf8') }),
  ) as { req: Request };
  assert.equal((raw.req.formParams as Record<string, string>).n, '\u00e9t\u00e9');
  assert.equal(decodeComponent('%C3%A9%C3'), '\u00e9\ufffd', 'truncated UTF-8 becomes U+FFFD, no throw');
});

test('non-form bodies are not parsed as forms', () => {
  const h = wrapParams(capture);
  const r = h(makeRequest({ requestMethod: 'post', headers: { host: 'x', 'content-type': 'text/plain' }, body: Buffer.from('a=1') })) as { req: Request };
  assert.deepEqual({ ...(r.req.formParams as object) }, {});
});

test('too many params answers 413', () => {
  const h = wrapParams(capture, { maxParams: 3 });
  const r = h(makeRequest({ queryString: 'a=1&b=2&c=3&d=4' })) as Response;
  assert.equal(r.status, 413);
  assert.equal((h(makeRequest({ queryString: 'a=1&b=2&c=3' })) as Response).status, 200);
});

test('JSON bodies: parsed for JSON types, 400 when malformed, ignored otherwise', () => {
  const h = wrapJson(capture);
  const post = (ct: string, body: string) => h(makeRequest({ requestMethod: 'post', headers: { host: 'x', 'content-type': ct }, body: Buffer.from(body) })) as Response & { req: Request };
  assert.deepEqual(post('application/json', '{"a":[1,2],"b":"\u00e9"}').req.json, { a: [1, 2], b: '\u00e9' });
  assert.deepEqual(post('application/vnd.api+json; charset=utf-8', '[true]').req.json, [true]);
  assert.deepEqual(post('application/json', '\ufeff{"bom":1}').req.json, { bom: 1 });
  const bad = post('application/json', '{"a":');
  assert.equal(bad.status, 400);
  assert.match(String(bad.body), /malformed JSON/);
  assert.equal(post('text/plain', '{"a":').status, 200);
  assert.equal(post('text/plain', '{"a":1}').req.json, undefined);
  const r = json({ ok: true }, 201, { 'x-a': '1' });
  assert.equal(r.status, 201);
  assert.equal(r.body, '{"ok":true}');
  assert.equal(r.headers!['content-type'], 'application/json; charset=utf-8');
});

test('parseCookies: quotes, decoding, first wins, junk skipped', () => {
  const c = parseCookies('a=1; b="two words"; c=%E2%82%AC; a=2; junk; =x; d=%zz; bad name=1; e=');
  assert.equal(c.a, '1');
  assert.equal(c.b, 'two words');
  assert.equal(c.c, '\u20ac');
  assert.equal(c.d, '%zz');
  assert.equal(c.e, '');
  assert.equal(c['bad name'], undefined);
  assert.deepEqual(Object.keys(c).sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(parseCookies('x=%41', { decode: false }).x, '%41');
});

test('setCookie: every attribute, encoding and validation', () => {
  const when = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
  assert.equal(
    setCookie('sid', 'a b;c', { expires: when, maxAge: 3600.7, domain: 'example.com', path: '/app', secure: true, httpOnly: true, sameSite: 'none', partitioned: true }),
    'sid=a%20b%3Bc; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=None; Partitioned',
  );
  assert.throws(() => setCookie('t', 'raw"v', { encode: false }), /invalid cookie value/);
  assert.equal(setCookie('t', 'v', { sameSite: 'lax' }), 't=v; SameSite=Lax');
  assert.throws(() => setCookie('t', 'a;b', { encode: false }), /invalid cookie value/);
  assert.throws(() => setCookie('bad name', 'v'), /invalid cookie name/);
  assert.throws(() => setCookie('a=b', 'v'), /invalid cookie name/);
  assert.throws(() => setCookie('n', 'v', { sameSite: 'None' }), /requires secure/);
  assert.throws(() => setCookie('n', 'v', { partitioned: true }), /requires secure/);
  assert.throws(() => setCookie('__Secure-n', 'v'), /prefix requires secure/);
  assert.throws(() => setCookie('__Host-n', 'v', { secure: true, path: '/a' }), /__Host-/);
  assert.equal(setCookie('__Host-n', 'v', { secure: true, path: '/' }), '__Host-n=v; Path=/; Secure');
  assert.throws(() => setCookie('n', 'v', { domain: 'exa mple.com' }), /invalid domain/);
  assert.throws(() => setCookie('n', 'v', { path: '/a;b' }), /invalid path/);
  assert.throws(() => setCookie('n', 'v', { path: '/a\r\nX: y' }), /invalid path/);
  assert.throws(() => setCookie('n', 'v', { sameSite: 'Sometimes' as never }), /invalid sameSite/);
  assert.throws(() => setCookie('n', 'v', { expires: new Date('nope') }), /invalid expires/);
  assert.equal(deleteCookie('sid', { path: '/' }), 'sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/');
});

test('setCookie with encode:false keeps a valid raw value', () => {
  assert.equal(setCookie('t', '"quoted"', { encode: false }), 't="quoted"');
  assert.throws(() => setCookie('t', 'sp ace', { encode: false }), /invalid cookie value/);
});

test('wrapCookies: req.cookies and response cookies become Set-Cookie lines', async () => {
  const h = wrapCookies(async (req: Request) => ({
    status: 200,
    headers: { 'Set-Cookie': 'pre=1' },
    body: `hi ${(req.cookies as Record<string, string>).user}`,
    cookies: { a: '1', b: { value: 'x y', httpOnly: true, path: '/' } },
  }));
  const r = (await h(makeRequest({ headers: { host: 'x', cookie: 'user=ann; other=1' } }))) as Response & { cookies?: unknown };
  assert.equal(r.body, 'hi ann');
  assert.deepEqual(r.headers!['Set-Cookie'], ['pre=1', 'a=1', 'b=x%20y; Path=/; HttpOnly']);
  assert.equal(r.cookies, undefined);
  const plain = wrapCookies(() => 'just a string');
  assert.equal(plain(makeRequest()), 'just a string');
});

test('wrap(): the first middleware listed sees the request first', async () => {
  const order: string[] = [];
  const mw = (name: string): Middleware => (h) => (req) => {
    order.push(`${name}:in`);
    const res = h(req) as Response;
    order.push(`${name}:out`);
    return res;
  };
  const h = wrap(() => {
    order.push('handler');
    return 'x';
  }, mw('a'), mw('b'));
  h(makeRequest());
  assert.deepEqual(order, ['a:in', 'b:in', 'handler', 'b:out', 'a:out']);
  assert.throws(() => wrap(() => 'x', 'nope' as never), /not a function/);
  // The Ring-style wrappers compose directly.
  const app = wrap((req: Request) => ({ status: 200, body: JSON.stringify({ p: req.params, c: req.cookies }) }), wrapCookies, wrapParams, wrapJson);
  const r = (await app(makeRequest({ queryString: 'x=1', headers: { host: 'h', cookie: 'k=v' } }))) as Response;
  assert.deepEqual(JSON.parse(String(r.body)), { p: { x: '1' }, c: { k: 'v' } });
});
