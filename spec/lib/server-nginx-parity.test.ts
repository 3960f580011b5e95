// Hostile requests sent byte for byte to nginx and to httpkit (loopback only, nginx's
// config in a temp dir, stopped after): whatever nginx refuses, httpkit refuses too,
// with an error status and a close. Where the RFCs leave room httpkit may be stricter
// (bare LF, DEL in a value, a Content-Length past 2^53-1...), never laxer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRaw, responsesOf, withServer } from './helpers/raw.ts';
import { requirePeer } from '../helpers/tools.ts';
import { NGINX, startNginx } from '../helpers/nginx.ts';

const H = 'Host: a\r\nConnection: close\r\n';
const post = (fields: string, body = '') => `POST / HTTP/1.1\r\n${H}${fields}\r\n${body}`;
const chunked = (body: string) => post('Transfer-Encoding: chunked\r\n', body);

const VECTORS: Record<string, string> = {
  'TE then CL': post('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '0\r\n\r\n'),
  'CL then TE': post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
  'TE in HTTP/1.0': `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  'two different CL': post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'),
  'CL list': post('Content-Length: 3, 3\r\n', 'abc'),
  'CL +3': post('Content-Length: +3\r\n', 'abc'),
  'CL -1': post('Content-Length: -1\r\n'),
  'CL 1 2': post('Content-Length: 1 2\r\n', 'abc'),
  'CL 2^53': post('Content-Length: 9007199254740992\r\n'),
  'CL 2^64': post('Content-Length: 18446744073709551616\r\n'),
  'TE chunked, identity': chunked('0\r\n\r\n').replace('chunked\r\n', 'chunked, identity\r\n'),
  'TE identity': post('Transfer-Encoding: identity\r\n'),
  'TE chunked twice': post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
  'chunk size overflow': chunked('FFFFFFFFFFFFFFFFFF\r\n'),
  'chunk size 0x1': chunked('0x1\r\nx\r\n0\r\n\r\n'),
  'chunk size 2^53': chunked('20000000000000\r\nab'),
  'chunk size with SP': chunked('1 \r\nx\r\n0\r\n\r\n'),
  'chunk line bare LF': chunked('1\nx\r\n0\r\n\r\n'),
  'chunk data without CRLF': chunked('1\r\nxy0\r\n\r\n'),
  'Host twice': `GET / HTTP/1.1\r\n${H}Host: a\r\n\r\n`,
  'Host twice, different': `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`,
  'Host list': 'GET / HTTP/1.1\r\nHost: a, b\r\nConnection: close\r\n\r\n',
  'Host with a slash': 'GET / HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n',
  'Host with userinfo': 'GET / HTTP/1.1\r\nHost: u@a\r\nConnection: close\r\n\r\n',
  'Host broken IPv6': 'GET / HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n',
  'no Host in HTTP/1.1': 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n',
  'empty Host': 'GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n',
  'userinfo in absolute-form': `GET http://u:p@a/x HTTP/1.1\r\n${H}\r\n`,
  'empty authority': `GET http:///x HTTP/1.1\r\n${H}\r\n`,
  'broken IPv6 authority': `GET http://[::1/x HTTP/1.1\r\n${H}\r\n`,
  'NUL in the target': `GET /a\x00b HTTP/1.1\r\n${H}\r\n`,
  'TAB in the target': `GET /a\tb HTTP/1.1\r\n${H}\r\n`,
  'obs-text in the target': `GET /a\xe9 HTTP/1.1\r\n${H}\r\n`,
  'two SP after the method': `GET  / HTTP/1.1\r\n${H}\r\n`,
  'lower-case version': `GET / http/1.1\r\n${H}\r\n`,
  'HTTP/0.9 request-line': 'GET /\r\n\r\n',
  'NUL in a value': `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`,
  'bare CR in a value': `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`,
  'bare CR ending a value': `GET / HTTP/1.1\r\n${H}X-A: ab\r\r\n\r\n`,
  'DEL in a value': `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`,
  'VT in a value': `GET / HTTP/1.1\r\n${H}X-A: a\x0bb\r\n\r\n`,
  'obs-fold': `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`,
  'SP before the colon': `GET / HTTP/1.1\r\n${H}X-A : a\r\n\r\n`,
  'empty field name': `GET / HTTP/1.1\r\n${H}: a\r\n\r\n`,
  'field line without a colon': `GET / HTTP/1.1\r\n${H}X-A a\r\n\r\n`,
  'bare LF line ends': 'GET / HTTP/1.1\nHost: a\nConnection: close\n\n',
  '200 field lines': `GET / HTTP/1.1\r\n${H}${'X-F: v\r\n'.repeat(200)}\r\n`,
};

/** Sends `req` on a new connection; the bytes received once a whole response is in or the server closed. */
async function exchange(port: number, req: string): Promise<Buffer> {
  const c = await connectRaw(port);
  try {
    c.write(req);
    // nginx lingers after some errors (it waits for the body it refused): the response is enough.
    await c.waitFor((x) => x.ended || responsesOf(x.received, 'GET', false).length > 0, 3000, 'a response or the close');
    return c.received;
  } finally {
    c.close();
  }
}

/** The answer's status, or 0 when there was none: a close, or bytes that are not an HTTP/1.x response. */
function verdict(raw: Buffer): number {
  const rs = responsesOf(raw, 'GET', false);
  return rs.length === 0 ? 0 : rs[0]!.status;
}

test('hostile requests: whatever nginx refuses, httpkit refuses with an error status and a close', async (t) => {
  if (!requirePeer(NGINX, 'nginx', t)) return;
  const nginx = await startNginx((port) => ({
    http: `server { listen 127.0.0.1:${port}; client_max_body_size 1m; location / { return 200 "ok\\n"; } }`,
  }));
  try {
    await withServer(() => 'ok\n', {}, async (server) => {
      const stricter: string[] = [];
      for (const [name, req] of Object.entries(VECTORS)) {
        const [ours, theirs] = await Promise.all([exchange(server.port, req), exchange(nginx.port, req)]);
        const ourStatus = verdict(ours);
        const theirStatus = verdict(theirs);
        const theyRefused = theirStatus >= 400 || (theirStatus === 0 && theirs.length === 0);
        if (theyRefused) {
          assert.ok(ourStatus >= 400, `${name}: nginx answered ${theirStatus || 'nothing'}, httpkit ${ourStatus}`);
        }
        if (ourStatus >= 400) {
          assert.equal(responsesOf(ours, 'GET', false)[0]!.headers.connection, 'close', name);
          if (!theyRefused) stricter.push(name);
        } else {
          assert.equal(ourStatus, 200, `${name}: httpkit answered ${ourStatus}`);
        }
      }
      // Where nginx serves and httpkit refuses: the RFCs' strict reading (RFC 9112 2.2
      // bare LF, 5.5 CTLs in values, 9110 8.6 lengths past 2^53-1, 9112 7.1 chunk-size
      // syntax, 9112 3.2 Host syntax, 9112 6.3 a coding other than chunked last).
      t.diagnostic(`stricter than nginx on: ${stricter.join('; ')}`);
      assert.ok(stricter.includes('bare LF line ends') && stricter.includes('DEL in a value'), stricter.join('; '));
    });
  } finally {
    await nginx.stop();
  }
});
