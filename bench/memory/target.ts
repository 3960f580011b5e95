// Server for bench/memory: `httpkit` or `node` (node:http), same hello-world reply.
// Prints `port <n>`; on each stdin line `mem` prints `mem {"rss":..,"heap":..}` after GC.
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createInterface } from 'node:readline';
import { runServer } from '../../lib/index.ts';

const which = process.argv[2] ?? 'httpkit';
const body = 'hello world';
const idle = 120_000;

if (which === 'httpkit') {
  const headers = { 'content-type': 'text/plain' };
  const server = await runServer(() => ({ status: 200, headers, body }), {
    ip: '127.0.0.1', port: 0, keepAliveTimeout: idle, headersTimeout: idle, backlog: 4096,
  });
  console.log('port ' + server.port);
} else if (which === 'net') {
  // The floor: a bare node:net server with a canned reply (not HTTP-correct).
  const reply = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const server = createNetServer((s) => s.on('data', () => s.write(reply)));
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const a = server.address();
    console.log('port ' + (typeof a === 'object' && a !== null ? a.port : 0));
  });
} else {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = idle;
  server.headersTimeout = idle + 1000;
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const a = server.address();
    console.log('port ' + (typeof a === 'object' && a !== null ? a.port : 0));
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'mem') return;
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  console.log('mem ' + JSON.stringify({ rss: m.rss, heap: m.heapUsed }));
});
