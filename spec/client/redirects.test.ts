// Redirects: method and body rewriting per status, Location resolution, credentials
// across origins, the maxRedirects boundary and the trace of hops.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createClient } from '../../client/index.ts';
import { ok, rawServer, type RawServer, T } from './helpers.ts';

const servers: RawServer[] = [];
const client = createClient();
after(async () => {
  client.close();
  await Promise.all(servers.map((s) => s.close()));
});

function redirect(status: number, location: string | null, body = ''): string {
  return `HTTP/1.1 ${status} Moved\r\n${location === null ? '' : `Location: ${location}\r\n`}Content-Length: ${body.length}\r\n\r\n${body}`;
}

/** /r/<status>/<n> redirects to /r/<status>/<n-1> ... /final answers with an echo of the request. */
async function redirector(): Promise<RawServer> {
  const s = await rawServer((req, socket) => {
    const m = /^\/r\/(\d+)\/(\d+)/.exec(req.target);
    if (m) {
      const n = Number(m[2]);
      socket.write(redirect(Number(m[1]), n <= 1 ? '/final#frag' : `/r/${m[1]}/${n - 1}`, 'redirect body'));
      return;
    }
    socket.write(ok(JSON.stringify({ method: req.method, target: req.target, headers: req.headers, body: req.body.toString() }), 'Content-Type: application/json\r\n'));
  });
  servers.push(s);
  return s;
}

type Echo = { method: string; target: string; headers: Record<string, string>; body: string };

test('301 and 302 turn POST into GET without body, Content-Length or Content-Type', T, async () => {
  const s = await redirector();
  for (const status of [301, 302]) {
    const r = await client.request({ url: `${s.url}/r/${status}/1`, method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain', 'x-keep': '1' }, as: 'json' });
    const echo = r.body as Echo;
    assert.equal(r.status, 200);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.target, '/final', 'no fragment is sent');
    assert.equal(echo.body, '');
    assert.equal(echo.headers['content-length'], undefined);
    assert.equal(echo.headers['content-type'], undefined);
    assert.equal(echo.headers['x-keep'], '1');
    assert.deepEqual(r.trace, [{ method: 'POST', url: `${s.url}/r/${status}/1`, status }]);
    assert.equal(r.url, `${s.url}/final`);
  }
});

test('301/302 keep non-POST methods; 303 turns anything but GET/HEAD into GET', T, async () => {
  const s = await redirector();
  let r = await client.request({ url: `${s.url}/r/301/1`, method: 'PUT', body: 'x', as: 'json' });
  assert.equal((r.body as Echo).method, 'PUT');
  assert.equal((r.body as Echo).body, 'x');
  r = await client.request({ url: `${s.url}/r/303/1`, method: 'PUT', body: 'x', as: 'json' });
  assert.equal((r.body as Echo).method, 'GET');
  assert.equal((r.body as Echo).body, '');
  r = await client.request({ url: `${s.url}/r/303/1`, method: 'DELETE', as: 'json' });
  assert.equal((r.body as Echo).method, 'GET');
  r = await client.request({ url: `${s.url}/r/303/1`, method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(s.requests.at(-1)!.method, 'HEAD');
});

test('307 and 308 keep the method and the body', T, async () => {
  const s = await redirector();
  for (const status of [307, 308]) {
    const r = await client.request({ url: `${s.url}/r/${status}/2`, method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' }, as: 'json' });
    const echo = r.body as Echo;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'payload');
    assert.equal(echo.headers['content-type'], 'text/plain');
    assert.equal(r.trace.length, 2);
  }
});

test('a 307 with a streamed (unreplayable) body is returned as it is', T, async () => {
  const s = await redirector();
  const r = await client.request({ url: `${s.url}/r/307/1`, method: 'POST', body: Readable.from(['abc']), as: 'text' });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, '/final#frag');
  assert.equal(r.body, 'redirect body');
});

test('relative Location forms are resolved against the current URL', T, async () => {
  const s = await rawServer((req, socket) => {
    if (req.target === '/a/b') socket.write(redirect(302, 'c?x=1'));
    else if (req.target === '/a/c?x=1') socket.write(redirect(302, '../d'));
    else if (req.target === '/d') socket.write(redirect(302, `//127.0.0.1:${s.port}/e`));
    else socket.write(ok(req.target, 'Content-Type: text/plain\r\n'));
  });
  servers.push(s);
  const r = await client.request({ url: s.url + '/a/b' });
  assert.equal(r.body, '/e');
  assert.deepEqual(r.trace.map((h) => new URL(h.url).pathname), ['/a/b', '/a/c', '/d']);
});

test('a 3xx without Location is returned as it is', T, async () => {
  const s = await rawServer((_req, socket) => socket.write(redirect(302, null, 'no location')));
  servers.push(s);
  const r = await client.request({ url: s.url, as: 'text' });
  assert.equal(r.status, 302);
  assert.equal(r.body, 'no location');
});

test('followRedirects: false returns the 3xx', T, async () => {
  const s = await redirector();
  const r = await client.request({ url: `${s.url}/r/301/1`, followRedirects: false });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/final#frag');
});

test('maxRedirects is the number followed: exactly that many succeed, one more is an error', T, async () => {
  const s = await redirector();
  const okr = await client.request({ url: `${s.url}/r/302/3`, maxRedirects: 3 });
  assert.equal(okr.status, 200);
  assert.equal(okr.trace.length, 3);
  const bad = await client.request({ url: `${s.url}/r/302/4`, maxRedirects: 3 });
  assert.equal(bad.error?.code, 'ERR_TOO_MANY_REDIRECTS');
  assert.equal(bad.status, undefined);
  assert.equal(bad.trace.length, 3);
  const dflt = await client.request({ url: `${s.url}/r/302/10` });
  assert.equal(dflt.status, 200);
  assert.equal((await client.request({ url: `${s.url}/r/302/11` })).error?.code, 'ERR_TOO_MANY_REDIRECTS');
  const zero = await client.request({ url: `${s.url}/r/302/1`, maxRedirects: 0 });
  assert.equal(zero.error?.code, 'ERR_TOO_MANY_REDIRECTS');
});

test('Authorization and Cookie are dropped across origins and kept within one', T, async () => {
  const target = await redirector();
  const origin = await rawServer((req, socket) => {
    if (req.target === '/same') socket.write(redirect(302, '/other-path'));
    else if (req.target === '/other-path') socket.write(redirect(302, `${target.url}/landing`));
    else socket.write(ok('?'));
  });
  servers.push(origin);
  const r = await client.request({ url: origin.url + '/same', basicAuth: ['u', 'p'], headers: { cookie: 'sid=1', 'x-other': 'kept' }, as: 'json' });
  assert.equal(r.status, 200);
  assert.equal(origin.requests[1]!.headers.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
  assert.equal(origin.requests[1]!.headers.cookie, 'sid=1');
  const echo = r.body as Echo;
  assert.equal(echo.headers.authorization, undefined);
  assert.equal(echo.headers.cookie, undefined);
  assert.equal(echo.headers['x-other'], 'kept');
  assert.equal(echo.headers.host, `127.0.0.1:${target.port}`);
});

test('a Location with an unsupported scheme is an error', T, async () => {
  const s = await rawServer((_req, socket) => socket.write(redirect(302, 'ftp://example/')));
  servers.push(s);
  assert.equal((await client.request({ url: s.url })).error?.code, 'ERR_INVALID_REDIRECT');
});
