// Long-poll app for bench/longpoll: `httpkit` (asChannel) or `node` (node:http), same behaviour.
// GET /poll waits; stdin `broadcast` answers every waiting poll; `count` and `mem` report.
import { createServer, type ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { runServer, asChannel, type Channel } from '../../lib/index.ts';

const which = process.argv[2] ?? 'httpkit';
const long = 300_000;
const payload = JSON.stringify({ message: 'hello, everyone' });
let broadcast: () => number;
let count: () => number;

if (which === 'httpkit') {
  const waiting = new Set<Channel>();
  const response = { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
  const server = await runServer(
    (req) => asChannel(req, { onOpen: (ch) => waiting.add(ch), onClose: (ch) => waiting.delete(ch) }),
    { ip: '127.0.0.1', port: 0, keepAliveTimeout: long, headersTimeout: long, backlog: 4096 },
  );
  broadcast = () => {
    const n = waiting.size;
    for (const ch of [...waiting]) ch.send(response);
    return n;
  };
  count = () => waiting.size;
  console.log('port ' + server.port);
} else {
  const waiting = new Set<ServerResponse>();
  const server = createServer((_req, res) => {
    waiting.add(res);
    res.on('close', () => waiting.delete(res));
  });
  server.keepAliveTimeout = long;
  server.headersTimeout = long + 1000;
  server.requestTimeout = 0;
  broadcast = () => {
    const n = waiting.size;
    for (const res of [...waiting]) {
      waiting.delete(res);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
      res.end(payload);
    }
    return n;
  };
  count = () => waiting.size;
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const a = server.address();
    console.log('port ' + (typeof a === 'object' && a !== null ? a.port : 0));
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = line.trim();
  if (cmd === 'broadcast') console.log('sent ' + broadcast());
  else if (cmd === 'count') console.log('count ' + count());
  else if (cmd === 'mem') {
    for (let i = 0; i < 4; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    const m = process.memoryUsage();
    console.log('mem ' + JSON.stringify({ rss: m.rss, heap: m.heapUsed }));
  }
});
