// Servers for bench/server-workloads: each answers one
// workload the same way in httpkit and node:http. Prints `port <n>` once listening.
//   post1k: POST with a 1 KiB body, echoed back (the whole body read first)
//   big16k: GET answered with 16 KiB of bytes (bytes<n>: n bytes)
//   headers: GET with browser-like headers (~700 B); the answer names the user agent
//   json: GET answered with a small JSON document, serialized per request
import { createServer, type IncomingMessage } from 'node:http';
import { runServer } from '../../lib/index.ts';

const [which, workload] = [process.argv[2] ?? 'httpkit', process.argv[3] ?? 'post1k'];
const big = Buffer.alloc(workload.startsWith('bytes') ? Number(workload.slice(5)) : 16 * 1024, 'x');
const doc = () => ({ id: 42, name: 'httpkit', tags: ['http', 'server', 'ring'], nested: { ok: true, n: 3.5 } });
const text = { 'content-type': 'text/plain' };
const octets = { 'content-type': 'application/octet-stream' };
const json = { 'content-type': 'application/json' };

if (which === 'httpkit') {
  const handler =
    workload === 'post1k' ? (req: { body: Buffer | null }) => ({ status: 200, headers: octets, body: req.body ?? '' })
    : workload === 'big16k' || workload.startsWith('bytes') ? () => ({ status: 200, headers: octets, body: big })
    : workload === 'headers' ? (req: { headers: Record<string, string> }) => ({ status: 200, headers: text, body: req.headers['user-agent'] ?? '' })
    : () => ({ status: 200, headers: json, body: JSON.stringify(doc()) });
  const server = await runServer(handler as never, { ip: '127.0.0.1', port: 0 });
  console.log('port ' + server.port);
} else {
  const reply = (res: import('node:http').ServerResponse, type: string, body: string | Buffer) => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res) => {
    if (workload === 'post1k') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => reply(res, 'application/octet-stream', Buffer.concat(chunks)));
    } else if (workload === 'big16k' || workload.startsWith('bytes')) reply(res, 'application/octet-stream', big);
    else if (workload === 'headers') reply(res, 'text/plain', req.headers['user-agent'] ?? '');
    else reply(res, 'application/json', JSON.stringify(doc()));
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    console.log('port ' + (typeof a === 'object' && a !== null ? a.port : 0));
  });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
