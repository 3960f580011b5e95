// Hello-world server for bench/cluster: `target.ts 0` is one plain process, `target.ts N`
// runs runServer with workers: N. Prints "port <n>" once listening; SIGTERM stops it.
import cluster from 'node:cluster';
import { runServer } from '../../lib/index.ts';

const workers = Number(process.argv[2] ?? 0);
const body = 'Hello, World!';
const server = await runServer(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body }), {
  ip: '127.0.0.1',
  port: 0,
  ...(workers > 0 ? { workers } : {}),
});
if (cluster.isPrimary) {
  console.log(`port ${server.port}`);
  process.once('SIGTERM', () => void server.stop({ timeout: 500 }).then(() => process.exit(0)));
}
