// Every strict rule of the request parser, each input fed whole, byte by byte and split (feed()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedRequest, expectError } from './feed.ts';

const reject = (input: string, code: string, status = 400) => expectError('request', input, code, status);
const accepts = (input: string) => {
  const out = feedRequest(input);
  assert.equal(out.error, null, `unexpected error ${JSON.stringify(out.error)} for ${JSON.stringify(input)}`);
  assert.equal(out.messages.length, 1);
  return out.messages[0];
};
const GET = 'GET / HTTP/1.1\r\n';

test('Content-Length and Transfer-Encoding together are rejected, in either order', () => {
  const a = reject(`POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, 'HPE_UNEXPECTED_CONTENT_LENGTH');
  assert.equal(a.offset, 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: '.length);
  reject(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`, 'HPE_UNEXPECTED_CONTENT_LENGTH');
});

test('more than one Content-Length is rejected, equal or differing', () => {
  reject(`${GET}Content-Length: 1\r\nContent-Length: 2\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH');
  reject(`${GET}Content-Length: 1\r\nContent-Length: 1\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH');
  reject(`${GET}Content-Length: 1, 1\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH');
});

test('malformed Content-Length: signs, inner spaces, non-digits, empty, overflow past 2^53-1', () => {
  for (const v of ['+5', '-5', '5 5', '5a', '0x10', '', '1.0', '9007199254740992', '99999999999999999999']) {
    reject(`${GET}Content-Length: ${v}\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH');
  }
  const e = reject(`${GET}Content-Length: 12x\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH');
  assert.equal(e.offset, `${GET}Content-Length: 12`.length);
  // Surrounding OWS is not part of the value; the largest safe integer is fine.
  assert.equal(accepts(`${GET}Content-Length:  0 \r\n\r\n`).head.contentLength, 0);
  const big = feedRequest(`${GET}Content-Length: 9007199254740991\r\n\r\nabc`);
  assert.equal(big.error, null);
  assert.equal(big.messages.length, 0);
});

test('request Transfer-Encoding must end in chunked (400); unknown codings get 501', () => {
  reject(`${GET}Transfer-Encoding: gzip\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: chunked, gzip\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: chunked, chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: chunked, gzip, chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: identity\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`${GET}Transfer-Encoding: x-custom, chunked\r\n\r\n`, 'HPE_UNKNOWN_TRANSFER_ENCODING', 501);
  reject(`${GET}Transfer-Encoding: chunked, @\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  reject(`POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 400);
  const ok = accepts(`${GET}Transfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`);
  assert.equal(ok.head.chunked, true);
  assert.equal(ok.head.contentLength, -1);
});

test('bad chunk sizes are rejected', () => {
  const pre = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n`;
  for (const line of ['g', '', '-1', ' 5', '5 ', '0x5', '20000000000000', '5;', '5;=x', '5; a=b', '5;a=', '5;a="x', '5;a="\x01"']) {
    reject(`${pre}${line}\r\nhello\r\n0\r\n\r\n`, line.includes(';') ? 'HPE_INVALID_CHUNK_EXTENSION' : 'HPE_INVALID_CHUNK_SIZE');
  }
  const ok = accepts(`${pre}A;name=value;q="a \\" b";flag\r\n0123456789\r\n00\r\n\r\n`);
  assert.equal(ok.body, '0123456789');
  // 2^53-1 as hex parses; the body just has not arrived.
  assert.equal(feedRequest(`${pre}1fffffffffffff\r\nab`).error, null);
});

test('chunk data must be followed by CRLF', () => {
  const pre = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello`;
  const e = reject(`${pre}X\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA');
  assert.equal(e.offset, pre.length);
  reject(`${pre}\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA');
  reject(`${pre}\rX0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA');
});

test('whitespace between field name and colon is rejected', () => {
  const e = reject(`${GET}Host : x\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN');
  assert.equal(e.offset, `${GET}Host`.length);
  reject(`${GET}Host\t: x\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN');
});

test('obs-fold and whitespace before the first field line are rejected', () => {
  const e = reject(`${GET}X: a\r\n b\r\n\r\n`, 'HPE_OBS_FOLD');
  assert.equal(e.offset, `${GET}X: a\r\n`.length);
  reject(`${GET}X: a\r\n\tb\r\n\r\n`, 'HPE_OBS_FOLD');
  reject(`${GET} X: a\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN');
});

test('bare CR is rejected everywhere', () => {
  reject(`${GET}X: a\rb\r\n\r\n`, 'HPE_BARE_CR');
  reject(`${GET}X: a\r\r\n\r\n`, 'HPE_BARE_CR');
  reject(`GET / HTTP/1.1\rX: a\r\n\r\n`, 'HPE_BARE_CR');
  reject(`${GET}X: a\r\n\rX\r\n`, 'HPE_BARE_CR');
  reject(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n`, 'HPE_BARE_CR');
});

test('bare LF line endings are rejected (decision: CRLF only)', () => {
  reject(`GET / HTTP/1.1\nHost: x\r\n\r\n`, 'HPE_BARE_LF');
  reject(`${GET}Host: x\n\r\n`, 'HPE_BARE_LF');
  reject(`${GET}Host: x\r\n\n`, 'HPE_BARE_LF');
  reject(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 'HPE_BARE_LF');
  reject(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n`, 'HPE_BARE_LF');
});

test('NUL, other control bytes and DEL in field values are rejected; HTAB and obs-text are kept', () => {
  for (const c of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1f', '\x7f']) {
    const e = reject(`${GET}X: a${c}b\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE');
    assert.equal(e.offset, `${GET}X: a`.length);
  }
  assert.deepEqual(accepts(`${GET}X: a\tb\xe9\xff c\r\n\r\n`).head.rawHeaders, ['X', 'a\tb\xe9\xff c']);
});

test('non-token bytes in field names are rejected', () => {
  for (const name of ['X(', 'X@Y', 'X"', '\xc4', 'X/Y', 'X{']) reject(`${GET}${name}: v\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN');
  reject(`${GET}: v\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN');
  assert.deepEqual(accepts(`${GET}!#$%&'*+-.^_\`|~09azAZ: v\r\n\r\n`).head.rawHeaders, ["!#$%&'*+-.^_`|~09azAZ", 'v']);
});

test('non-token bytes in methods are rejected; any token is a method', () => {
  for (const m of ['G(T', 'GE@', 'G\x00T', '\xc4GET']) reject(`${m} / HTTP/1.1\r\n\r\n`, 'HPE_INVALID_METHOD');
  reject(`GET\t/ HTTP/1.1\r\n\r\n`, 'HPE_INVALID_METHOD');
  reject(` GET / HTTP/1.1\r\n\r\n`, 'HPE_INVALID_METHOD');
  assert.equal(accepts(`M-SEARCH * HTTP/1.1\r\n\r\n`).head.method, 'M-SEARCH');
  assert.equal(accepts(`get / HTTP/1.1\r\n\r\n`).head.method, 'get');
});

test('invalid versions: syntax 400, other majors 505, any 1.x accepted', () => {
  for (const v of ['HTTP/1', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.1x', 'HTTP/11.1', 'HTTP/1.10', 'HTTQ/1.1', 'HTTP/1,1']) {
    reject(`GET / ${v}\r\n\r\n`, 'HPE_INVALID_VERSION', 400);
  }
  reject(`GET / HTTP/2.0\r\n\r\n`, 'HPE_VERSION_NOT_SUPPORTED', 505);
  reject(`GET / HTTP/0.9\r\n\r\n`, 'HPE_VERSION_NOT_SUPPORTED', 505);
  reject(`GET / HTTP/9.9\r\n\r\n`, 'HPE_VERSION_NOT_SUPPORTED', 505);
  const m = accepts(`GET / HTTP/1.2\r\n\r\n`);
  assert.deepEqual([m.head.versionMajor, m.head.versionMinor, m.head.keepAlive], [1, 2, true]);
});

test('spaces and control bytes in the target are rejected', () => {
  const e = reject(`GET /a b HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  assert.equal(e.offset, 'GET /a'.length);
  reject(`GET  / HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  reject(`GET /a\tb HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  reject(`GET /a\x00 HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  reject(`GET /\x7f HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  reject(`GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n`, 'HPE_INVALID_URL');
  reject(`GET /\r\n\r\n`, 'HPE_INVALID_URL');
  for (const t of ['*', 'http://a.example/x?y#z', 'a.example:443', "/p;q=1/%20?a=b&c[]=d'"]) {
    assert.equal(accepts(`OPTIONS ${t} HTTP/1.1\r\n\r\n`).head.target, t);
  }
});

test('keep-alive from version and Connection tokens', () => {
  const ka = (input: string) => accepts(input).head.keepAlive;
  assert.equal(ka(`GET / HTTP/1.1\r\n\r\n`), true);
  assert.equal(ka(`GET / HTTP/1.1\r\nConnection: close\r\n\r\n`), false);
  assert.equal(ka(`GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n`), false);
  assert.equal(ka(`GET / HTTP/1.1\r\nConnection: x\r\nConnection: close \r\n\r\n`), false);
  assert.equal(ka(`GET / HTTP/1.1\r\nConnection: closed\r\n\r\n`), true);
  assert.equal(ka(`GET / HTTP/1.0\r\n\r\n`), false);
  assert.equal(ka(`GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`), true);
  assert.equal(ka(`GET / HTTP/1.0\r\nConnection: foo,  Keep-Alive\r\n\r\n`), true);
});

test('field values lose surrounding OWS only; names keep their case; order is kept', () => {
  const m = accepts(`${GET}B: \t x  y \t\r\nA:\r\nb:z\r\n\r\n`);
  assert.deepEqual(m.head.rawHeaders, ['B', 'x  y', 'A', '', 'b', 'z']);
});

test('empty lines before a request are ignored (RFC 9112 2.2)', () => {
  const out = feedRequest(`\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\nGET /2 HTTP/1.1\r\n\r\n`);
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => m.head.target), ['/', '/2']);
});
