// Server for bench/cluster: `target.ts 0 <kind>` is one plain process, `target.ts N <kind>`
// runs runServer with workers: N. kind 'hello' answers a constant; 'cpu' hashes 64 KiB
// per request first (a handler that costs more than the load generator's request).
// Prints "port <n>" once listening; SIGTERM stops it.
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { runServer } from '../../lib/index.ts';

const workers = Number(process.argv[2] ?? 0);
const cpu = process.argv[3] === 'cpu';
const body = 'Hello, World!';
const block = Buffer.alloc(64 * 1024, 7);
const server = await runServer(() => ({
  status: 200,
  headers: { 'content-type': 'text/plain' },
  body: cpu ? createHash('sha256').update(block).digest('hex') : body,
}), {
  ip: '127.0.0.1',
  port: 0,
  ...(workers > 0 ? { workers } : {}),
});
if (cluster.isPrimary) {
  console.log(`port ${server.port}`);
  process.once('SIGTERM', () => void server.stop({ timeout: 500 }).then(() => process.exit(0)));
}
