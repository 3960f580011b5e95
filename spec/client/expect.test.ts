// Expect: 100-continue from the client: the body waits for 100 Continue (or a 1 s wait),
// and is never sent when a final status comes first.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { runServer } from '../../lib/index.ts';
import { createClient } from '../../client/index.ts';
import { T } from './helpers.ts';

const client = createClient();
const servers: NetServer[] = [];
after(() => {
  client.close();
  for (const s of servers) s.close();
});

/** A server that hands each connection's bytes to `onBytes` with the socket and everything read so far. */
async function netServer(onBytes: (socket: Socket, all: Buffer, conn: { id: number }) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    const conn = { id: ++connections };
    let all = Buffer.alloc(0);
    socket.on('data', (d) => {
      all = Buffer.concat([all, d]);
      onBytes(socket, all, conn);
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

const headEnd = (b: Buffer) => b.indexOf('\r\n\r\n');

test('the body waits for 100 Continue, then goes', T, async () => {
  let bodyBefore100 = -1;
  const s = await netServer((socket, all) => {
    const end = headEnd(all);
    if (end < 0) return;
    if (bodyBefore100 === -1) {
      // Head complete: wait a while, check nothing followed it, then invite the body.
      bodyBefore100 = -2;
      setTimeout(() => {
        bodyBefore100 = all.length - (end + 4);
        socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      }, 150);
      return;
    }
    const body = all.subarray(end + 4);
    if (body.length === 5) socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  const t0 = performance.now();
  const r = await client.request({ url: s.url, method: 'POST', headers: { Expect: '100-continue' }, body: 'hello', as: 'text' });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello');
  assert.equal(bodyBefore100, 0, 'no body byte before the 100');
  assert.ok(performance.now() - t0 < 900, 'sent on the 100, not after the 1 s wait');
});

test('a final status before 100 Continue: the body is never sent and the connection is not reused', T, async () => {
  const seen: string[] = [];
  const s = await netServer((socket, all, conn) => {
    const end = headEnd(all);
    if (end < 0) return;
    const head = all.subarray(0, end).toString('latin1');
    seen.push(`${conn.id}:${head.split('\r\n')[0]}:${all.length - end - 4}`);
    if (head.startsWith('POST')) socket.write('HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope');
    else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const r = await client.request({ url: s.url, method: 'POST', headers: { expect: '100-Continue' }, body: Buffer.alloc(100_000, 1), as: 'text' });
  assert.equal(r.status, 417);
  assert.equal(r.body, 'nope');
  await new Promise((res) => setTimeout(res, 100));
  const next = await client.request({ url: `${s.url}/next`, as: 'text' });
  assert.equal(next.body, 'ok');
  assert.deepEqual(seen, ['1:POST / HTTP/1.1:0', '2:GET /next HTTP/1.1:0']);
});

test('no 100 Continue within the wait: the body goes anyway (a streamed body too)', T, async () => {
  const echoAfterBody = (socket: Socket, all: Buffer) => {
    const end = headEnd(all);
    if (end < 0) return;
    const chunked = /transfer-encoding: chunked/i.test(all.subarray(0, end).toString('latin1'));
    const rest = all.subarray(end + 4).toString('latin1');
    if (chunked ? rest.endsWith('0\r\n\r\n') : rest.length === 3) socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${rest.length}\r\nConnection: close\r\n\r\n${rest}`);
  };
  const s = await netServer(echoAfterBody);
  const t0 = performance.now();
  const r = await client.request({ url: s.url, method: 'PUT', headers: { Expect: '100-continue' }, body: 'abc', as: 'text' });
  assert.equal(r.body, 'abc');
  assert.ok(performance.now() - t0 >= 900, 'waited for the 100 first');
  const streamed = await client.request({ url: s.url, method: 'PUT', headers: { Expect: '100-continue' }, body: Readable.from(['x', 'yz']), as: 'text' });
  assert.equal(streamed.body, '1\r\nx\r\n2\r\nyz\r\n0\r\n\r\n');
});

test('against the own server: 100 Continue then the body; 413 without the body read', T, async () => {
  const server = await runServer((req) => ({ status: 200, body: `got ${req.body?.length ?? 0}` }), { port: 0, ip: '127.0.0.1', maxBody: 1000 });
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    const t0 = performance.now();
    const small = await client.request({ url, method: 'POST', headers: { Expect: '100-continue' }, body: Buffer.alloc(500, 1), as: 'text' });
    assert.equal(small.body, 'got 500');
    assert.ok(performance.now() - t0 < 900, 'the server sent 100 Continue');
    const big = await client.request({ url, method: 'POST', headers: { Expect: '100-continue' }, body: Buffer.alloc(5000, 1), as: 'text' });
    assert.equal(big.status, 413);
  } finally {
    await server.stop();
  }
});
