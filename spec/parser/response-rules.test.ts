// Response framing and status-line rules, each input fed whole, byte by byte and split (feed()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedResponse, expectError } from './feed.ts';

const reject = (input: string, code: string, method?: string) => expectError('response', input, code, undefined, { method });

test('status line: code, reason, missing reason', () => {
  const out = feedResponse('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.0 599 \r\nContent-Length: 0\r\n\r\n');
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.statusCode, m.head.reason, m.head.versionMinor]), [
    [404, 'Not Found', 1],
    [200, '', 1],
    [599, '', 0],
  ]);
});

test('status line: invalid codes, versions and reason bytes are rejected', () => {
  for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 abc OK', 'HTTP/1.1 099 OK', 'HTTP/1.1  200 OK']) {
    reject(`${line}\r\n\r\n`, 'HPE_INVALID_STATUS');
  }
  reject('HTTP/1.1 200 O\x00K\r\n\r\n', 'HPE_INVALID_STATUS');
  reject('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'HPE_BARE_LF');
  reject('HTTP/1.1 200 OK\rX\r\n\r\n', 'HPE_BARE_CR');
  reject('HTTP/1.1\t200 OK\r\n\r\n', 'HPE_INVALID_VERSION');
  reject('HTTPS/1.1 200 OK\r\n\r\n', 'HPE_INVALID_VERSION');
  assert.equal(reject('HTTP/2.0 200 OK\r\n\r\n', 'HPE_VERSION_NOT_SUPPORTED').status, 505);
});

test('Content-Length body, then pipelined responses', () => {
  const out = feedResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.statusCode, m.body, m.head.keepAlive]), [
    [200, 'hello', true],
    [201, '', true],
    [200, 'abc', true],
  ]);
});

test('chunked body with extensions and trailers', () => {
  const out = feedResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n1\r\nd\r\n0;last\r\nX-Digest: 1\r\nX-Other: two \r\n\r\n');
  assert.equal(out.error, null);
  assert.equal(out.messages[0].body, 'abcd');
  assert.deepEqual(out.messages[0].trailers, ['X-Digest', '1', 'X-Other', 'two']);
  assert.equal(out.messages[0].head.chunked, true);
});

test('close-delimited bodies: no framing, or Transfer-Encoding without final chunked', () => {
  const a = feedResponse('HTTP/1.1 200 OK\r\n\r\nall of\r\nthis', { eof: true });
  assert.equal(a.error, null);
  assert.equal(a.messages[0].body, 'all of\r\nthis');
  assert.equal(a.messages[0].head.keepAlive, false);
  const b = feedResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8bdata', { eof: true });
  assert.equal(b.error, null);
  assert.equal(b.messages[0].body, '\x1f\x8bdata');
  assert.deepEqual([b.messages[0].head.chunked, b.messages[0].head.contentLength, b.messages[0].head.keepAlive], [false, -1, false]);
  // HTTP/1.0 has no transfer codings: chunked there is faulty framing, read until close.
  const old = feedResponse('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', { eof: true });
  assert.deepEqual([old.error, old.messages[0].body, old.messages[0].head.chunked], [null, '2\r\nab\r\n0\r\n\r\n', false]);
  // Without EOF the close-delimited message is still open.
  assert.equal(feedResponse('HTTP/1.1 200 OK\r\n\r\nabc').messages.length, 0);
});

test('HEAD, 1xx, 204 and 304 responses have no body whatever their framing fields say', () => {
  const head = feedResponse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { method: 'HEAD' });
  assert.equal(head.error, null);
  assert.deepEqual(head.messages.map((m) => [m.body, m.head.contentLength]), [['', 10], ['', -1]]);
  const out = feedResponse('HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nHTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.statusCode, m.body]), [[204, ''], [304, ''], [200, 'x']]);
});

test('1xx interim responses are their own messages; parsing continues with the final response', () => {
  const out = feedResponse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.statusCode, m.body]), [[100, ''], [103, ''], [200, 'ok']]);
  assert.equal(out.messages[2].head.keepAlive, false);
});

test('101 and 2xx to CONNECT stop the parser as upgraded; other answers to CONNECT do not', () => {
  const input = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello';
  const ws = feedResponse(input);
  assert.equal(ws.error, null);
  assert.equal(ws.upgraded, true);
  assert.equal(ws.consumed, input.indexOf('\x81'));
  assert.equal(ws.messages[0].head.upgrade, true);
  const tunnel = feedResponse('HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01', { method: 'CONNECT' });
  assert.deepEqual([tunnel.upgraded, tunnel.consumed, tunnel.messages.length], [true, 39, 1]);
  const denied = feedResponse('HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno', { method: 'CONNECT' });
  assert.deepEqual([denied.upgraded, denied.messages[0].body], [false, 'no']);
});

test('response framing errors: CL with TE, bad CL, bad chunk data', () => {
  reject('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH');
  reject('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH');
  reject('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH');
  reject('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_DATA');
});

test('keep-alive of responses: version, Connection, close-delimited body', () => {
  const ka = (input: string) => feedResponse(input).messages[0].head.keepAlive;
  assert.equal(ka('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), true);
  assert.equal(ka('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), false);
  assert.equal(ka('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(ka('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n'), true);
});
