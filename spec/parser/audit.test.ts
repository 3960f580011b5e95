// Wire-conformance audit of the request parser: cases where a verdict depends on bytes
// past a limit, Content-Length digits, and the chunk-extension budget. Every case is fed
// whole, byte by byte and in thirds (feed() asserts the three agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedRequest, feedResponse, expectError } from './feed.ts';
import { DEFAULT_LIMITS, RequestParser, ResponseParser, parseRequests } from '../../parser/index.ts';

test('a bad version decided past the start-line limit is 414 for every split, not 400 whole and 414 split', () => {
  // "GET /x HTTPxxxx...": whether this is a bad version or a space in the target is only
  // known at the next SP/CR, far past maxStartLine.
  const long = `GET /x HTTP${'x'.repeat(DEFAULT_LIMITS.maxStartLine)}\r\nHost: a\r\n\r\n`;
  const e = expectError('request', long, 'HPE_START_LINE_TOO_LONG', 414);
  assert.equal(e.offset, DEFAULT_LIMITS.maxStartLine);
  // The same with a space in the target decided past the limit.
  expectError('request', `GET /a ${'b'.repeat(100)} HTTP/1.1\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 414, { limits: { maxStartLine: 50 } });
  // Within the limit the syntax errors stand, at the byte that is wrong.
  const v = expectError('request', 'GET /x HTTPx/1.1\r\n\r\n', 'HPE_INVALID_VERSION', 400, { limits: { maxStartLine: 50 } });
  assert.equal(v.offset, 'GET /x HTTP'.length);
  expectError('request', 'GET /a b HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400, { limits: { maxStartLine: 50 } });
});

test('HTTP/2.0 right at the start-line limit: 505 or 414 the same way for every split', () => {
  // 14 bytes. The version is known to be unsupported once its last digit (index 13)
  // arrives; feed() asserts that whole, byte-by-byte and split parses agree.
  const line = 'GET / HTTP/2.0';
  for (let max = 8; max <= 16; max++) {
    const out = feedRequest(`${line}\r\n\r\n`, { limits: { maxStartLine: max } });
    assert.ok(out.error);
    assert.equal(out.error.status, max >= line.length - 1 ? 505 : 414, `maxStartLine ${max}`);
  }
});

test('Content-Length: leading zeros are digits (RFC 9110 8.6: 1*DIGIT), however many', () => {
  const zeros = '0'.repeat(30);
  const out = feedRequest(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${zeros}5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n`);
  assert.equal(out.error, null);
  assert.deepEqual(out.messages.map((m) => [m.head.contentLength, m.body]), [[5, 'hello'], [-1, '']]);
  assert.equal(feedRequest(`POST / HTTP/1.1\r\nContent-Length: ${zeros}\r\n\r\n`).messages[0]!.head.contentLength, 0);
  // Still capped by value, not by spelling.
  expectError('request', `POST / HTTP/1.1\r\nContent-Length: ${zeros}9007199254740992\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400);
  assert.equal(feedRequest(`POST / HTTP/1.1\r\nContent-Length: ${zeros}9007199254740991\r\n\r\n`).messages.length, 0);
  const bad = expectError('request', `POST / HTTP/1.1\r\nContent-Length: ${zeros}5x\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400);
  assert.equal(bad.offset, 'POST / HTTP/1.1\r\nContent-Length: '.length + zeros.length + 1);
});

test('chunk extensions have a per-message budget (maxChunkExtensions, 413): body limits never see them', () => {
  const head = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  // 1-byte chunks, each with a 1000-byte extension: 2 bytes of body, 2000 of extensions.
  const ext = ';a=' + 'x'.repeat(997);
  const body = `1${ext}\r\na\r\n1${ext}\r\nb\r\n0\r\n\r\n`;
  const ok = feedRequest(head + body, { limits: { maxChunkExtensions: 2000 } });
  assert.equal(ok.error, null);
  assert.equal(ok.messages[0]!.body, 'ab');
  const e = expectError('request', head + body, 'HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, { limits: { maxChunkExtensions: 1999 } });
  // The first extension byte past the budget: the last byte of the second extension.
  assert.equal(e.offset, head.length + `1${ext}\r\na\r\n1`.length + ext.length - 1);
  // The budget is per message: the next request starts again from zero.
  const two = feedRequest(head + body + head + body, { limits: { maxChunkExtensions: 2000 } });
  assert.deepEqual([two.error, two.messages.length], [null, 2]);
  // The default is 16 KiB; many small chunks without extensions are not affected.
  const many = '1;e=' + 'y'.repeat(1000);
  const r = parseRequests(Buffer.from(head + `${many}\r\nz\r\n`.repeat(20) + '0\r\n\r\n', 'latin1'));
  assert.equal(r.error?.code, 'HPE_CHUNK_EXTENSIONS_OVERFLOW');
  assert.equal(r.error?.status, 413);
  const plain = parseRequests(Buffer.from(head + '1\r\nz\r\n'.repeat(20_000) + '0\r\n\r\n', 'latin1'));
  assert.equal(plain.error, null);
  assert.equal(plain.messages[0]!.body.length, 20_000);
});

test('Transfer-Encoding: only parameters or a list separator may follow a coding (RFC 9112 7); empty elements are ignored', () => {
  const post = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ';
  const body = '\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
  // Junk after the token is not "chunked": a hop reading only the token would frame the body differently.
  for (const bad of ['chunked foo', 'chunked\xa0', 'chunked;', 'chunked;x', 'chunked;=1', 'chunked;x=', 'chunked;x="1', 'chunked "x"', 'gzip;q=1 chunked']) {
    const e = expectError('request', post + bad + body, 'HPE_INVALID_TRANSFER_ENCODING', 400);
    assert.ok(e.offset >= post.length && e.offset <= post.length + bad.length, bad);
  }
  for (const good of ['chunked', 'chunked ,', ', chunked', 'chunked , ,', 'gzip;level=1, chunked', 'gzip ; a = "q\\"x" , chunked']) {
    const out = feedRequest(post + good + body);
    assert.equal(out.error, null, good);
    assert.equal(out.messages[0]!.head.chunked, true, good);
    assert.equal(out.messages[0]!.body, 'abc', good);
  }
});

test('messageMethod: the method of a head being parsed, kept when a later field line fails', () => {
  const parser = new RequestParser({ onHead() {}, onBody() {}, onComplete() {} });
  assert.equal(parser.messageMethod, '');
  parser.execute(Buffer.from('HEAD /x HTT'));
  assert.equal(parser.messageMethod, '');
  parser.execute(Buffer.from('P/1.1\r\nHost: a\r\nBad Header\r\n\r\n'));
  assert.equal(parser.error?.code, 'HPE_INVALID_HEADER_TOKEN');
  assert.equal(parser.messageMethod, 'HEAD');
  parser.reset();
  assert.equal(parser.messageMethod, '', 'a reused parser forgets it');
  let seen = '';
  const p2 = new RequestParser({ onHead(h) { seen = h.method + ' ' + p2.messageMethod; }, onBody() {}, onComplete() {} });
  p2.execute(Buffer.from('HEAD / HTTP/1.1\r\n\r\n'));
  assert.equal(seen, 'HEAD ', 'onHead carries the method; the parser no longer holds it');
});

test('a method that alone passes maxStartLine is 501 (RFC 9112 3), a long target 414', () => {
  const limits = { maxStartLine: 20 };
  const method = expectError('request', `${'M'.repeat(30)} / HTTP/1.1\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 501, { limits });
  assert.equal(method.offset, 20);
  expectError('request', 'M'.repeat(100), 'HPE_START_LINE_TOO_LONG', 501, { limits }); // before the line ends
  expectError('request', `${'M'.repeat(19)}( / HTTP/1.1\r\n\r\n`, 'HPE_INVALID_METHOD', 400, { limits }); // a bad byte within the limit wins
  // The method fills the limit exactly and the SP is the first byte past it: the target is what is too long.
  expectError('request', `${'M'.repeat(20)} /abc HTTP/1.1\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 414, { limits });
  expectError('request', `GET /${'a'.repeat(40)} HTTP/1.1\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 414, { limits });
  // A status-line stays a bad response (400).
  expectError('response', `HTTP/1.1 200 ${'r'.repeat(40)}\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 400, { limits });
});

test('Upgrade in an HTTP/1.0 request is ignored (RFC 9110 7.8): an ordinary request, body framed as usual, parsing goes on', () => {
  const ws = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
  const out = feedRequest(`GET /chat HTTP/1.0\r\nHost: a\r\n${ws}\r\n`);
  assert.deepEqual([out.error, out.upgraded, out.messages.length], [null, false, 1]);
  assert.deepEqual([out.messages[0]!.head.upgrade, out.messages[0]!.head.keepAlive], [false, false]);
  // With keep-alive the bytes after it are the next request, not the new protocol.
  const body = feedRequest(`POST /u HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: a\r\n\r\n`);
  assert.deepEqual([body.error, body.upgraded], [null, false]);
  assert.deepEqual(body.messages.map((m) => [m.head.target, m.head.upgrade, m.body]), [['/u', false, 'abc'], ['/next', false, '']]);
  // The same in HTTP/1.1 is an upgrade; any 1.x above 1.0 too.
  assert.equal(feedRequest(`GET /chat HTTP/1.1\r\nHost: a\r\n${ws}\r\n`).upgraded, true);
  assert.equal(feedRequest(`GET /chat HTTP/1.2\r\nHost: a\r\n${ws}\r\n`).upgraded, true);
  // CONNECT is not an Upgrade: its tunnel starts right after the head in HTTP/1.0 too.
  const connect = 'CONNECT a:443 HTTP/1.0\r\n\r\n';
  const tunnel = feedRequest(connect + '\x16\x03\x01');
  assert.deepEqual([tunnel.error, tunnel.upgraded, tunnel.consumed, tunnel.messages[0]!.head.upgrade], [null, true, connect.length, true]);
});

test('a 101 switches protocols only in an HTTP/1.1 exchange; in HTTP/1.0 it is an unexpected 1xx and the final response follows', () => {
  const switching = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
  const final = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok';
  // Answering an HTTP/1.0 request (RFC 9110 15.2: no 1xx may be sent to it).
  const to10 = feedResponse(switching + final, { requestVersionMinor: 0 });
  assert.deepEqual([to10.error, to10.upgraded], [null, false]);
  assert.deepEqual(to10.messages.map((m) => [m.head.statusCode, m.head.upgrade, m.body]), [[101, false, ''], [200, false, 'ok']]);
  // A 101 in an HTTP/1.0 response: that server cannot have switched either.
  const from10 = feedResponse(switching.replace('HTTP/1.1', 'HTTP/1.0') + final);
  assert.deepEqual([from10.error, from10.upgraded, from10.messages.length], [null, false, 2]);
  // If it did switch after all, the next bytes fail as HTTP: never read as a response body.
  assert.equal(feedResponse(switching + '\x81\x05hello', { requestVersionMinor: 0 }).error?.status, 400);
  // In HTTP/1.1 the switch stands; a 2xx to CONNECT is a tunnel in either version.
  assert.equal(feedResponse(switching + '\x81\x05hello').upgraded, true);
  const tunnel = feedResponse('HTTP/1.0 200 Connection established\r\n\r\n\x16\x03', { method: 'CONNECT', requestVersionMinor: 0 });
  assert.deepEqual([tunnel.error, tunnel.upgraded, tunnel.messages[0]!.head.upgrade], [null, true, true]);
  // reset() restores the default.
  const p = new ResponseParser({ onHead() {}, onBody() {}, onComplete() {} });
  p.requestVersionMinor = 0;
  p.reset();
  assert.equal(p.requestVersionMinor, 1);
});
