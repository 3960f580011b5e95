// All cores: req/s of one plain process vs runServer({ workers: 1 }) vs
// runServer({ workers: 2 }), loaded by wrk (keep-alive, CONNECTIONS connections, one wrk
// thread), for two handlers: 'hello' (a constant; wrk costs as much as the server) and
// 'cpu' (hashes 64 KiB per request; the server is the bottleneck). The machine has 2
// cores and wrk needs one of them too, so nothing is pinned: server and load generator
// share the cores. Prints req/s per round and the ratios of the medians.
//   npm run bench -- cluster     (DURATION=5 s per run, ROUNDS=3, CONNECTIONS=50)
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { onPath } from '../../spec/helpers/tools.ts';
import { spawnUntilPort, stopProcess } from '../../spec/helpers/process.ts';

const here = dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.DURATION ?? 5);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = Number(process.env.CONNECTIONS ?? 50);

if (!onPath('wrk')) {
  console.error('bench/cluster needs wrk (Debian: apt-get install wrk)');
  process.exit(1);
}

interface Target {
  proc: ChildProcess;
  port: number;
}

function start(workers: number, kind: string): Promise<Target> {
  return spawnUntilPort(join(here, 'target.ts'), [String(workers), kind]);
}

function stop(t: Target): Promise<void> {
  return stopProcess(t.proc, 'SIGTERM', 5000);
}

function wrk(port: number, seconds: number): number {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error('cannot read wrk output:\n' + out);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  if (errors) console.log('  wrk reported: ' + errors[0]);
  return Number(m[1]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const configs: [string, number][] = [['one process', 0], ['workers: 1', 1], ['workers: 2', 2]];
console.log(`cores: ${availableParallelism()}, wrk -t1 -c${connections} -d${duration}s, ${rounds} rounds`);
for (const kind of (process.env.KINDS ?? 'hello,cpu').split(',')) {
  const results = new Map<string, number[]>(configs.map(([n]) => [n, []]));
  console.log(`\nhandler: ${kind}`);
  for (let r = 0; r < rounds; r++) {
    // Configurations interleaved per round, so machine noise spreads over all of them.
    for (const [name, workers] of configs) {
      const t = await start(workers, kind);
      try {
        wrk(t.port, 1); // warm-up
        const rps = wrk(t.port, duration);
        results.get(name)!.push(rps);
        console.log(`round ${r + 1}  ${name.padEnd(12)} ${rps.toFixed(0).padStart(8)} req/s`);
      } finally {
        await stop(t);
      }
    }
  }
  const m = new Map([...results].map(([k, v]) => [k, median(v)]));
  console.log(`median req/s (${kind}):`);
  for (const [k, v] of m) console.log(`  ${k.padEnd(12)} ${v.toFixed(0).padStart(8)}`);
  console.log(`  workers: 2 / one process = ${(m.get('workers: 2')! / m.get('one process')!).toFixed(2)}x`);
  console.log(`  workers: 2 / workers: 1   = ${(m.get('workers: 2')! / m.get('workers: 1')!).toFixed(2)}x`);
  console.log(`  workers: 1 / one process = ${(m.get('workers: 1')! / m.get('one process')!).toFixed(2)}x`);
}
