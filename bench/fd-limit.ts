// Benches that hold thousands of sockets open need more file descriptors than the usual
// default: each connection costs one in the server and one in the load driver.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Re-run this bench script under `ulimit -n 65536` (or the hard limit) and exit with
 * its status; returns at once inside the re-run. `scriptUrl`: the caller's import.meta.url.
 */
export function rerunWithRaisedFdLimit(scriptUrl: string): void {
  if (process.env.HTTPKIT_BENCH_ULIMIT === '1') return;
  const r = spawnSync('bash', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash',
    process.execPath, ...process.execArgv, fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HTTPKIT_BENCH_ULIMIT: '1' },
  });
  process.exit(r.status ?? 1);
}
