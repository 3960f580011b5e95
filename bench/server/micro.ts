// The server's own cost per request, without sockets or the kernel: a Connection fed
// hello-world requests through a fake socket, as the fast read path feeds it (one
// shared read buffer, onFastRead per read). For profiling the request path:
//   node --import tsx bench/server/micro.ts [requests]      (add --cpu-prof to profile)
import { EventEmitter } from 'node:events';
import { ServerContext } from '../../lib/context.ts';
import { Connection, onFastRead } from '../../lib/connection.ts';
class FakeSocket extends EventEmitter {
  writableLength = 0; writableHighWaterMark = 16384; destroyed = false; remoteAddress = '127.0.0.1'; localAddress = '127.0.0.1';
  bytes = 0; writes = 0;
  setNoDelay() { return this; }
  write(s: string | Buffer) { this.bytes += s.length; this.writes++; return true; }
  cork() {} uncork() {} pause() { return this; } resume() { return this; } end() { return this; } destroy() { return this; }
}
const headers = { 'content-type': 'text/plain' };
const ctx = new ServerContext(() => ({ status: 200, headers, body: 'hello world' }), 'http', '127.0.0.1', {
  maxBody: 8 << 20, maxLine: 8192, maxHeaderSize: 16384, maxHeaders: 100, headersTimeout: 30000, requestTimeout: 300000,
  keepAliveTimeout: 5000, serverHeader: 'httpkit', errorLogger: console.error, warnLogger: console.warn,
} as ConstructorParameters<typeof ServerContext>[3]);
const sock = new FakeSocket();
const socket = sock as unknown as import('node:net').Socket;
new Connection(socket, ctx, true);
const req = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
const readBuffer = Buffer.alloc(64 * 1024);
req.copy(readBuffer);
const N = Number(process.argv[2] ?? 2_000_000);
for (let round = 0; round < 3; round++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) onFastRead.call(socket, req.length, readBuffer);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${ns.toFixed(0)} ns/request, writes ${sock.writes}`);
}
