// Pipelining, limits, pause/resume, upgrade, finish(), reset(), offsets and idle state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedRequest, feedResponse, expectError } from './feed.ts';
import { RequestParser, ResponseParser, parseRequests, parseResponses, getHeader, getHeaders, DEFAULT_LIMITS } from '../../parser/index.ts';

const noop = { onHead() {}, onBody() {}, onComplete() {} };

test('pipelined requests of every framing parse in order', () => {
  const input =
    'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
    'POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' +
    'POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n' +
    'GET /4 HTTP/1.1\r\n\r\n';
  const out = feedRequest(input);
  assert.equal(out.error, null);
  assert.equal(out.consumed, input.length);
  assert.deepEqual(out.messages.map((m) => [m.head.method, m.head.target, m.body]), [
    ['GET', '/1', ''], ['POST', '/2', 'abc'], ['POST', '/3', 'de'], ['GET', '/4', ''],
  ]);
});

test('data after a message that closes the connection is an error; trailing CRLF is not', () => {
  const first = 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n';
  const e = expectError('request', `${first}\r\nGET /2 HTTP/1.1\r\n\r\n`, 'HPE_CLOSED_CONNECTION');
  assert.equal(e.offset, first.length + 2);
  const ok = feedRequest(`${first}\r\n`);
  assert.deepEqual([ok.error, ok.messages.length], [null, 1]);
  expectError('request', 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n', 'HPE_CLOSED_CONNECTION');
});

test('limit: start line (414 for requests), exact limit accepted', () => {
  const limits = { maxStartLine: 40 };
  const line = (n: number) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
  assert.equal(line(40).length, 40);
  assert.equal(feedRequest(`${line(40)}\r\n\r\n`, { limits }).messages.length, 1);
  const e = expectError('request', `${line(41)}\r\n\r\n`, 'HPE_START_LINE_TOO_LONG', 414, { limits });
  assert.ok(e.offset <= 41);
  // Reported before the line ends: no unbounded buffering.
  expectError('request', `GET /${'a'.repeat(100)}`, 'HPE_START_LINE_TOO_LONG', 414, { limits });
  expectError('response', `HTTP/1.1 200 ${'x'.repeat(100)}`, 'HPE_START_LINE_TOO_LONG', 400, { limits });
  const def = new RequestParser(noop);
  def.execute(Buffer.from(`GET /${'a'.repeat(DEFAULT_LIMITS.maxStartLine)}`));
  assert.equal(def.error?.code, 'HPE_START_LINE_TOO_LONG');
});

test('limit: header section size (431), also before the section ends', () => {
  const limits = { maxHeaderSize: 64 };
  const field = `X: ${'v'.repeat(57)}\r\n`; // 62 bytes
  assert.equal(feedRequest(`GET / HTTP/1.1\r\n${field}\r\n`, { limits }).messages.length, 1);
  expectError('request', `GET / HTTP/1.1\r\n${field}Y: zzz\r\n\r\n`, 'HPE_HEADER_OVERFLOW', 431, { limits });
  expectError('request', `GET / HTTP/1.1\r\nX: ${'v'.repeat(200)}`, 'HPE_HEADER_OVERFLOW', 431, { limits });
  // The trailer section has its own budget of the same size.
  const pre = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n`;
  assert.equal(feedRequest(`${pre}${field}\r\n`, { limits }).messages.length, 1);
  expectError('request', `${pre}${field}${field}\r\n`, 'HPE_HEADER_OVERFLOW', 431, { limits });
});

test('limit: header count (431), exact limit accepted', () => {
  const limits = { maxHeaders: 3 };
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `H${i}: v\r\n`).join('');
  assert.equal(feedRequest(`GET / HTTP/1.1\r\n${fields(3)}\r\n`, { limits }).messages[0].head.rawHeaders.length, 6);
  expectError('request', `GET / HTTP/1.1\r\n${fields(4)}\r\n`, 'HPE_TOO_MANY_HEADERS', 431, { limits });
  const e = expectError('request', `GET / HTTP/1.1\r\n${fields(DEFAULT_LIMITS.maxHeaders + 1)}\r\n`, 'HPE_TOO_MANY_HEADERS', 431);
  assert.equal(e.offset, `GET / HTTP/1.1\r\n${fields(DEFAULT_LIMITS.maxHeaders)}`.length);
});

test('limit: chunk-size line (400), also before the line ends', () => {
  const limits = { maxChunkLine: 16 };
  const pre = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n`;
  assert.equal(feedRequest(`${pre}1;abcdefghijklmn\r\nx\r\n0\r\n\r\n`, { limits }).messages[0].body, 'x');
  expectError('request', `${pre}1;abcdefghijklmno\r\nx\r\n0\r\n\r\n`, 'HPE_CHUNK_LINE_TOO_LONG', 400, { limits });
  expectError('request', `${pre}1;${'a'.repeat(100)}`, 'HPE_CHUNK_LINE_TOO_LONG', 400, { limits });
  expectError('request', `${pre}${'0'.repeat(100)}`, 'HPE_CHUNK_LINE_TOO_LONG', 400, { limits });
});

test('pause in onHead: execute returns right after the head; resume and re-feed continues', () => {
  const a = 'POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n';
  const b = 'GET /b HTTP/1.1\r\n\r\n';
  const out = feedRequest(`${a}hi${b}`, { pauseOn: 'head' });
  assert.equal(out.error, null);
  assert.deepEqual(out.pausedAt, [a.length, a.length + 2 + b.length]);
  assert.deepEqual(out.messages.map((m) => [m.head.target, m.body]), [['/a', 'hi'], ['/b', '']]);
});

test('pause in onComplete and onBody', () => {
  const a = 'GET /a HTTP/1.1\r\n\r\n';
  const b = 'POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
  const done = feedRequest(a + b, { pauseOn: 'complete' });
  assert.deepEqual(done.pausedAt, [a.length, a.length + b.length]);
  assert.equal(done.messages[1].body, 'abcde');
  const body = feedRequest(a + b, { pauseOn: 'body' });
  assert.deepEqual(body.pausedAt, [1]);
  assert.equal(body.messages[1].body, 'abcde');
});

test('paused parser consumes nothing until resume(); a pending completion runs on the next execute', () => {
  const events: string[] = [];
  const p: RequestParser = new RequestParser({
    onHead: () => { events.push('head'); p.pause(); },
    onBody: () => events.push('body'),
    onComplete: () => events.push('complete'),
  });
  const input = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  assert.equal(p.execute(input), input.length);
  assert.deepEqual(events, ['head']);
  assert.equal(p.execute(Buffer.from('GET')), 0);
  p.resume();
  assert.equal(p.execute(Buffer.alloc(0)), 0);
  assert.deepEqual(events, ['head', 'complete']);
});

test('request upgrade: stops after the message; bytes after it are not parsed; declining continues HTTP', () => {
  const head = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const out = feedRequest(`${head}\x81\x85garbage`);
  assert.deepEqual([out.error, out.upgraded, out.consumed, out.messages.length], [null, true, head.length, 1]);
  assert.equal(out.messages[0].head.upgrade, true);
  const declined = feedRequest(`${head}GET /next HTTP/1.1\r\n\r\n`, { declineUpgrade: true });
  assert.equal(declined.error, null);
  assert.equal(declined.upgrades, 1);
  assert.deepEqual(declined.messages.map((m) => m.head.target), ['/chat', '/next']);
  // Upgrade header without the Connection token is no upgrade.
  assert.equal(feedRequest('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n').upgraded, false);
  // A body is read before stopping.
  const withBody = feedRequest('POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\nhi\x00\x01');
  assert.deepEqual([withBody.upgraded, withBody.messages[0].body], [true, 'hi']);
});

test('CONNECT is an upgrade right after its head', () => {
  const head = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
  const out = feedRequest(`${head}\x16\x03\x01\x02\x00`);
  assert.deepEqual([out.upgraded, out.consumed, out.messages[0].head.target, out.messages[0].head.upgrade], [true, head.length, 'example.com:443', true]);
});

test('finish(): incomplete messages are errors; between messages it is clean', () => {
  expectError('request', 'GET / HTTP/1.1\r\nHost: a\r\n', 'HPE_INVALID_EOF_STATE', 400, { eof: true });
  expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc', 'HPE_INVALID_EOF_STATE', 400, { eof: true });
  expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', 'HPE_INVALID_EOF_STATE', 400, { eof: true });
  expectError('response', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc', 'HPE_INVALID_EOF_STATE', 400, { eof: true });
  const e = expectError('request', 'GET / HTT', 'HPE_INVALID_EOF_STATE', 400, { eof: true });
  assert.equal(e.offset, 9);
  const clean = feedRequest('GET / HTTP/1.1\r\n\r\n\r\n', { eof: true });
  assert.deepEqual([clean.error, clean.messages.length], [null, 1]);
  const resp = feedResponse('HTTP/1.1 200 OK\r\n\r\nbody', { eof: true });
  assert.deepEqual([resp.error, resp.messages[0].body], [null, 'body']);
  const p = new ResponseParser(noop);
  assert.equal(p.finish(), null);
});

test('error offsets count from the first byte ever given, across execute() calls', () => {
  const p = new RequestParser(noop);
  const first = Buffer.from('GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\nHo');
  assert.equal(p.execute(first), first.length);
  const n = p.execute(Buffer.from('st: a\r\nBad Name: b\r\n\r\n'));
  assert.equal(p.error?.code, 'HPE_INVALID_HEADER_TOKEN');
  assert.equal(p.error?.offset, first.length + 'st: a\r\nBad'.length);
  assert.ok(n < 'st: a\r\nBad Name: b\r\n\r\n'.length);
  assert.equal(p.execute(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 0, 'a failed parser consumes nothing');
});

test('reset() clears error, offsets and partial state for reuse', () => {
  const heads: string[] = [];
  const p = new RequestParser({ onHead: (h) => heads.push(h.target), onBody() {}, onComplete() {} });
  p.execute(Buffer.from('GET /a HTTP/1.1\r\nX'));
  p.reset();
  p.execute(Buffer.from('BAD\x00'));
  assert.equal(p.error?.offset, 3);
  p.reset();
  assert.equal(p.error, null);
  const input = Buffer.from('GET /b HTTP/1.1\r\n\r\n');
  assert.equal(p.execute(input), input.length);
  assert.deepEqual(heads, ['/b']);
  const r = new ResponseParser(noop);
  r.requestMethod = 'HEAD';
  r.reset();
  assert.equal(r.requestMethod, 'GET');
});

test('idle parsers keep no buffer: a split line is held only until its message completes', () => {
  const p = new RequestParser(noop);
  const internals = p as unknown as { stash: Buffer | null; rawHeaders: string[] };
  p.execute(Buffer.from('GET / HTTP/1.1\r\nHos'));
  assert.ok(internals.stash !== null, 'partial line is held while the message is incomplete');
  p.execute(Buffer.from('t: a\r\n\r\n'));
  assert.equal(internals.stash, null);
  assert.equal(internals.rawHeaders.length, 0);
});

test('parseRequests / parseResponses and header lookup helpers', () => {
  const r = parseRequests(Buffer.from('GET / HTTP/1.1\r\nSet-Thing: 1\r\nset-thing: 2\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok'));
  assert.equal(r.error, null);
  assert.equal(r.messages.length, 2);
  assert.equal(getHeader(r.messages[0].head.rawHeaders, 'SET-THING'), '1');
  assert.deepEqual(getHeaders(r.messages[0].head.rawHeaders, 'set-thing'), ['1', '2']);
  assert.equal(getHeader(r.messages[0].head.rawHeaders, 'missing'), undefined);
  assert.equal(r.messages[1].body.toString(), 'ok');
  const bad = parseRequests(Buffer.from('GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\na'));
  assert.equal(bad.error?.code, 'HPE_INVALID_EOF_STATE');
  const s = parseResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n'), 'HEAD');
  assert.deepEqual([s.error, s.messages.length, s.messages[0].body.length], [null, 1, 0]);
});

test('heads with many fields parse the same fast and slow; unbounded limits are allowed', () => {
  const fields = Array.from({ length: 300 }, (_, i) => `F${i}: v${i}\r\n`).join('');
  const out = feedRequest(`GET / HTTP/1.1\r\n${fields}\r\n`, { limits: { maxHeaders: Infinity, maxHeaderSize: Infinity } });
  assert.equal(out.error, null);
  assert.equal(out.messages[0].head.rawHeaders.length, 600);
  assert.deepEqual(out.messages[0].head.rawHeaders.slice(-2), ['F299', 'v299']);
});

test('long lines dribbled in byte by byte parse the same (names, values, targets, reasons)', () => {
  const value = 'v'.repeat(12000);
  const name = 'N'.repeat(3000);
  const target = `/${'t'.repeat(7000)}`;
  const out = feedRequest(`GET ${target} HTTP/1.1\r\n${name}: ${value}\r\n\r\n`);
  assert.equal(out.error, null);
  assert.equal(out.messages[0].head.target, target);
  assert.deepEqual(out.messages[0].head.rawHeaders, [name, value]);
  const bad = expectError('request', `GET / HTTP/1.1\r\nX: ${'v'.repeat(5000)}\x01${'v'.repeat(100)}\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE');
  assert.equal(bad.offset, 'GET / HTTP/1.1\r\nX: '.length + 5000);
  const over = expectError('request', `GET / HTTP/1.1\r\nX: ${'v'.repeat(20000)}`, 'HPE_HEADER_OVERFLOW', 431);
  assert.equal(over.offset, 'GET / HTTP/1.1\r\n'.length + DEFAULT_LIMITS.maxHeaderSize - 2);
  const reason = 'r'.repeat(6000);
  const res = feedResponse(`HTTP/1.1 200 ${reason}\r\nContent-Length: 0\r\n\r\n`);
  assert.equal(res.messages[0].head.reason, reason);
});

test('a head longer than the one before it (fields past the decode window) parses the same', () => {
  const small = 'GET /s HTTP/1.1\r\nHost: a\r\n\r\n';
  const fields = Array.from({ length: 40 }, (_, i) => `X-Field-${i}: value number ${i}\r\n`).join('');
  const big = `POST /b HTTP/1.1\r\nHost: a\r\n${fields}Content-Length: 3\r\nConnection: close\r\n\r\nxyz`;
  const out = feedRequest(small + big);
  assert.equal(out.error, null);
  assert.equal(out.messages.length, 2);
  const head = out.messages[1].head;
  assert.equal(head.rawHeaders.length, 2 * 43);
  assert.deepEqual(head.rawHeaders.slice(-4), ['Content-Length', '3', 'Connection', 'close']);
  assert.deepEqual([out.messages[1].body, head.keepAlive, head.contentLength], ['xyz', false, 3]);
  // A framing error in a late field comes before a bad byte in a later one.
  const bad = `GET /b HTTP/1.1\r\n${fields}Content-Length: x\r\nBad Name: y\r\n\r\n`;
  const e = expectError('request', small + bad, 'HPE_INVALID_CONTENT_LENGTH');
  assert.equal(e.offset, (small + bad).indexOf('Content-Length: x') + 'Content-Length: '.length);
});

test('execute(data, end) parses only data[0, end) and refuses an end outside the buffer', () => {
  const heads: string[] = [];
  const parser = new RequestParser({ onHead: (h) => heads.push(h.target), onBody: () => {}, onComplete: () => {} });
  const bytes = Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
  // The second request lies past `end`: it is not parsed (nor the first one's blank line).
  const firstEnd = bytes.indexOf('GET /b');
  assert.equal(parser.execute(bytes, firstEnd - 2), firstEnd - 2);
  assert.deepEqual(heads, []);
  assert.equal(parser.execute(Buffer.from('\r\n'), 2), 2);
  assert.deepEqual(heads, ['/a']);
  for (const bad of [-1, bytes.length + 1, Number.NaN]) assert.throws(() => parser.execute(bytes, bad), RangeError);
});
