import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedRequest, feedResponse, expectError } from './feed.ts';

test('request: simple GET with headers', () => {
  const out = feedRequest('GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n');
  assert.equal(out.error, null);
  assert.equal(out.messages.length, 1);
  const { head, body } = out.messages[0];
  assert.equal(head.method, 'GET');
  assert.equal(head.target, '/a?b=c');
  assert.deepEqual(head.rawHeaders, ['Host', 'example.com', 'X-Empty', '', 'X-Pad', 'v']);
  assert.equal(head.keepAlive, true);
  assert.equal(head.contentLength, -1);
  assert.equal(body, '');
});

test('request: Content-Length body and chunked body with trailers, pipelined', () => {
  const out = feedRequest(
    'POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello' +
    'POST /y HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="q\\"v"\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n' +
    'GET /z HTTP/1.0\r\n\r\n',
  );
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.target, m.body, m.trailers]), [
    ['/x', 'hello', null],
    ['/y', 'hello world', ['X-Sum', '1']],
    ['/z', '', null],
  ]);
  assert.equal(out.messages[1].head.chunked, true);
  assert.equal(out.messages[2].head.keepAlive, false);
});

test('response: 100 Continue then a length body, then close-delimited', () => {
  const out = feedResponse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\nuntil close', { eof: true });
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.statusCode, m.body, m.head.keepAlive]), [
    [100, '', true],
    [200, 'hi', true],
    [200, 'until close', false],
  ]);
});

test('response: HEAD, 204 and 304 have no body', () => {
  assert.equal(feedResponse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { method: 'HEAD' }).messages[0].body, '');
  assert.equal(feedResponse('HTTP/1.1 204 No Content\r\n\r\n').messages.length, 1);
  assert.equal(feedResponse('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n').messages.length, 1);
});

test('request: basic rejections', () => {
  expectError('request', 'GET /a HTTP/1.1\r\nHost : x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400);
  expectError('request', 'GET /a HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH', 400);
  expectError('request', 'GET /a HTTP/2.0\r\n\r\n', 'HPE_VERSION_NOT_SUPPORTED', 505);
});
