// A hello-world server for bench/server: `httpkit` or `node` (node:http), same reply.
// Prints `port <n>` once listening.
import { createServer } from 'node:http';
import { runServer } from '../../lib/index.ts';

const which = process.argv[2] ?? 'httpkit';
const body = 'hello world';

if (which === 'httpkit') {
  const headers = { 'content-type': 'text/plain' };
  const server = await runServer(() => ({ status: 200, headers, body }), { ip: '127.0.0.1', port: 0 });
  console.log('port ' + server.port);
} else if (which === 'httpkit-async') {
  const headers = { 'content-type': 'text/plain' };
  const server = await runServer(async () => ({ status: 200, headers, body }), { ip: '127.0.0.1', port: 0 });
  console.log('port ' + server.port);
} else {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    console.log('port ' + (typeof a === 'object' && a !== null ? a.port : 0));
  });
}

// Exit cleanly on SIGINT/SIGTERM so `node --cpu-prof` can write its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
