// Response bodies: every kind a handler may return, framing and backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRaw, get, responsesOf, sendRaw, sleep, withServer } from './helpers/raw.ts';
import { file, type Request, type Response } from '../../lib/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'httpkit-body-'));
const filePath = join(dir, 'f.txt');
const fileData = Buffer.alloc(300_000);
for (let i = 0; i < fileData.length; i++) fileData[i] = i % 251;
writeFileSync(filePath, fileData);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function bodies(req: Request): Response {
  switch (req.uri) {
    case '/buffer': return { body: Buffer.from('buf') };
    case '/u8': return { body: new Uint8Array([104, 105]) };
    case '/big': return { body: Buffer.alloc(100_000, 'q') };
    case '/readable': return { body: Readable.from(['a', 'b', 'c']) };
    case '/async': return { body: (async function* () { yield 'x'; await sleep(1); yield Buffer.from('yz'); })() };
    case '/sync': return { body: ['1', '22', Buffer.from('333')] };
    case '/sized': return { headers: { 'Content-Length': '6' }, body: Readable.from(['abc', 'def']) };
    case '/file': return { headers: { 'content-type': 'application/octet-stream' }, body: file(filePath) };
    case '/range': return { status: 206, body: file(filePath, { start: 10, end: 19 }) };
    case '/missing': return { body: file(join(dir, 'nope')) };
    case '/null': return { body: null };
    default: return { status: 404 };
  }
}

test('body kinds: Buffer, Uint8Array, Readable, async and sync iterables, file, null', async () => {
  await withServer(bodies, {}, async (server) => {
    const c = await connectRaw(server.port);
    const paths = ['/buffer', '/u8', '/big', '/readable', '/async', '/sync', '/sized', '/file', '/range', '/missing', '/null'];
    c.write(paths.map((p) => get(p)).join(''));
    const rs = await c.waitResponses(paths.length);
    c.close();
    const by = Object.fromEntries(paths.map((p, i) => [p, rs[i]!]));
    assert.equal(by['/buffer']!.body.toString(), 'buf');
    assert.equal(by['/buffer']!.headers['content-length'], '3');
    assert.equal(by['/u8']!.body.toString(), 'hi');
    assert.equal(by['/big']!.body.length, 100_000);
    for (const p of ['/readable', '/async', '/sync']) {
      assert.equal(by[p]!.headers['transfer-encoding'], 'chunked', p);
      assert.equal(by[p]!.headers['content-length'], undefined, p);
    }
    assert.equal(by['/readable']!.body.toString(), 'abc');
    assert.equal(by['/async']!.body.toString(), 'xyz');
    assert.equal(by['/sync']!.body.toString(), '122333');
    assert.equal(by['/sized']!.headers['content-length'], '6');
    assert.equal(by['/sized']!.headers['transfer-encoding'], undefined);
    assert.equal(by['/sized']!.body.toString(), 'abcdef');
    assert.equal(by['/file']!.headers['content-length'], String(fileData.length));
    assert.ok(by['/file']!.body.equals(fileData));
    assert.equal(by['/range']!.status, 206);
    assert.ok(by['/range']!.body.equals(fileData.subarray(10, 20)));
    assert.equal(by['/missing']!.status, 404);
    assert.equal(by['/null']!.headers['content-length'], '0');
  });
});

test('HEAD of a file gets its length, no body; HTTP/1.0 streams are close-delimited', async () => {
  await withServer(bodies, {}, async (server) => {
    const c = await connectRaw(server.port);
    c.write('HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n' + get('/buffer'));
    await c.waitFor((x) => x.text.endsWith('buf'));
    c.close();
    assert.match(c.text, new RegExp(`^HTTP/1.1 200 OK\\r\\n[^]*Content-Length: ${fileData.length}\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\nHTTP/1.1 200 OK`));
    const raw = await sendRaw(server.port, 'GET /readable HTTP/1.0\r\n\r\n');
    const text = raw.toString();
    assert.doesNotMatch(text, /Transfer-Encoding|Content-Length/);
    assert.match(text, /Connection: close\r\n/);
    assert.ok(text.endsWith('\r\n\r\nabc'));
  });
});

test('a stream longer than its Content-Length breaks the connection instead of the framing', async () => {
  const logged: unknown[] = [];
  await withServer(() => ({ headers: { 'content-length': 2 }, body: ['abc'] }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const raw = await sendRaw(server.port, get('/'));
    assert.doesNotMatch(raw.toString(), /abc/);
  });
});

test('backpressure: a client that does not read slows the producer', async () => {
  let produced = 0;
  let finished = false;
  const chunk = Buffer.alloc(16 * 1024, 'p');
  const total = 4000; // 64 MB if nothing held it back
  await withServer(() => ({
    body: (function* () {
      for (let i = 0; i < total; i++) {
        produced++;
        yield chunk;
      }
      finished = true;
    })(),
  }), {}, async (server) => {
    const c = await connectRaw(server.port);
    c.socket.pause();
    c.write(get('/'));
    await sleep(300);
    const bounded = produced;
    assert.ok(bounded < 800, `produced ${bounded} chunks (${bounded * 16} KB) for a client reading nothing`);
    // Now read everything: the producer resumes and the body completes.
    let got = 0;
    c.socket.on('data', (d: Buffer) => (got += d.length));
    c.socket.resume();
    const deadline = Date.now() + 10_000;
    while (!finished || got < total * chunk.length) {
      if (Date.now() > deadline) throw new Error(`stalled: produced ${produced}, got ${got}`);
      await sleep(10);
    }
    c.close();
    assert.ok(produced === total);
  });
});

test('a client vanishing mid-response is not an error and the server keeps serving', async () => {
  const logged: unknown[] = [];
  let aborted = false;
  await withServer((req) => {
    if (req.uri !== '/stream') return 'ok';
    const body = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(8192, 'v')), 1);
      },
      destroy(err, cb) {
        aborted = true;
        cb(err);
      },
    });
    return { body };
  }, { errorLogger: (e) => logged.push(e) }, async (server) => {
    const c = await connectRaw(server.port);
    c.write(get('/stream'));
    await c.waitFor((x) => x.received.length > 20_000);
    c.close();
    await sleep(50);
    assert.equal(aborted, true, 'the body stream was destroyed');
    assert.deepEqual(logged, []);
    const raw = await sendRaw(server.port, get('/', 'Connection: close\r\n'));
    assert.equal(responsesOf(raw)[0]!.body.toString(), 'ok');
  });
});

test('a body stream that fails mid-way closes the connection and is logged', async () => {
  const logged: unknown[] = [];
  await withServer(() => ({
    body: (async function* () {
      yield 'part';
      throw new Error('disk on fire');
    })(),
  }), { errorLogger: (e) => logged.push(e) }, async (server) => {
    const raw = await sendRaw(server.port, get('/'));
    assert.doesNotMatch(raw.toString(), /0\r\n\r\n$/, 'no clean end of a broken body');
    assert.equal((logged[0] as Error).message, 'disk on fire');
  });
});
