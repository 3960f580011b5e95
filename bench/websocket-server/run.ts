// WebSocket through the whole server: runServer + asChannel echo vs ws, with the load
// driver of bench/websocket (raw TCP clients sending pre-masked frames) for both.
//  1. echo round trips per second, 50 connections, 64-byte text and 16 KiB binary
//  2. memory per idle WebSocket connection (10,000 by default)
// Server pinned to CPU 0 and driver to CPU 1 with taskset when available. On a shared
// machine the echo rate moves with the load on the driver's core; server CPU per echo
// is the steadier figure.
// Usage: npm run bench -- websocket-server [--seconds=5] [--conns=50] [--idle=10000] [--rounds=2]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const DRIVER = join(here, '..', 'websocket', 'driver.ts');
const arg = (name: string, def: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const SECONDS = arg('seconds', 5);
const CONNS = arg('conns', 50);
const IDLE = arg('idle', 10000);
const ROUNDS = arg('rounds', 2);

if (IDLE > 0 && process.env.HTTPKIT_BENCH_ULIMIT !== '1') {
  const r = spawnSync('bash', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash',
    process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HTTPKIT_BENCH_ULIMIT: '1' },
  });
  process.exit(r.status ?? 1);
}

const haveTaskset = spawnSync('taskset', ['--version']).status === 0 && cpus().length >= 2;
function nodeCmd(cpu: number, script: string, args: string[], extra: string[] = []): [string, string[]] {
  const nodeArgs = [...extra, '--import', 'tsx', script, ...args];
  return haveTaskset ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
}

interface Server {
  child: ChildProcess;
  port: number;
  lines: AsyncIterator<string>;
}

async function startServer(kind: string): Promise<Server> {
  const prof = process.env.BENCH_PROF === kind ? ['--cpu-prof', '--cpu-prof-dir=.bench-out'] : [];
  const [cmd, a] = nodeCmd(0, join(here, 'server.ts'), [kind], ['--expose-gc', ...prof]);
  const child = spawn(cmd, a, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  return { child, port: Number(String(first.value).replace('PORT ', '')), lines };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGINT');
  await exited;
}

async function memSample(s: Server): Promise<{ rss: number; heapUsed: number; external: number; connections: number }> {
  s.child.stdin!.write('mem\n');
  return JSON.parse(String((await s.lines.next()).value));
}

function runDriver(args: string[]): Promise<Record<string, number>> {
  const [cmd, a] = nodeCmd(1, DRIVER, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`driver exited ${code}`))));
  });
}

async function cpuSample(s: Server): Promise<number> {
  s.child.stdin!.write('cpu\n');
  return JSON.parse(String((await s.lines.next()).value)).cpuMicros;
}

/** Echoes per second, and server CPU microseconds per echo (steadier on a shared machine). */
async function echo(kind: string, size: number, type: string): Promise<{ rate: number; cpuPerEcho: number }> {
  const s = await startServer(kind);
  try {
    const cpu0 = await cpuSample(s);
    const r = await runDriver([String(s.port), 'echo', String(CONNS), String(size), type, String(SECONDS), '1']);
    const cpu1 = await cpuSample(s);
    // `total` counts every echo of the run (warm-up included); older drivers only report the rate.
    const total = r.total ?? r.echoesPerSec! * (SECONDS + 1);
    return { rate: r.echoesPerSec!, cpuPerEcho: (cpu1 - cpu0) / total };
  } finally {
    await stopServer(s);
  }
}

async function idle(kind: string): Promise<{ rssPerConn: number; heapPerConn: number; conns: number }> {
  const s = await startServer(kind);
  try {
    const before = await memSample(s);
    const [cmd, a] = nodeCmd(1, DRIVER, [String(s.port), 'idle', String(IDLE)]);
    const driver = spawn(cmd, a, { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await createInterface({ input: driver.stdout! })[Symbol.asyncIterator]().next();
    JSON.parse(String(line.value));
    await new Promise((r) => setTimeout(r, 1000));
    const after = await memSample(s);
    driver.stdin!.end();
    await new Promise((r) => driver.once('exit', r));
    const n = after.connections;
    return { rssPerConn: (after.rss - before.rss) / n, heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / n, conns: n };
  } finally {
    await stopServer(s);
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`node ${process.version}, ${cpus().length} CPUs, taskset ${haveTaskset ? 'on (server cpu0, driver cpu1)' : 'off'}`);
console.log(`runServer + asChannel vs ws: echo ${CONNS} connections, ${SECONDS}s per run, best of ${ROUNDS} rounds (alternating)`);

for (const [size, type, label] of [[64, 'text', '64 B text'], [16384, 'binary', '16 KiB binary']] as const) {
  const best: Record<string, number> = { httpkit: 0, ws: 0 };
  const cpu: Record<string, number> = { httpkit: Infinity, ws: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? ['ws', 'httpkit'] : ['httpkit', 'ws']) {
      const v = await echo(kind, size, type);
      best[kind] = Math.max(best[kind]!, v.rate);
      cpu[kind] = Math.min(cpu[kind]!, v.cpuPerEcho);
    }
  }
  console.log(`${label.padEnd(14)} httpkit ${fmt(best.httpkit!).padStart(9)} echoes/s   ws ${fmt(best.ws!).padStart(9)} echoes/s   ratio ${(best.httpkit! / best.ws!).toFixed(2)}x`);
  console.log(`${''.padEnd(14)} server CPU per echo: httpkit ${cpu.httpkit!.toFixed(2)} us   ws ${cpu.ws!.toFixed(2)} us   ws/httpkit ${(cpu.ws! / cpu.httpkit!).toFixed(2)}x`);
}

if (IDLE > 0) {
  const m: Record<string, { rssPerConn: number; heapPerConn: number; conns: number }> = {};
  for (const kind of ['ws', 'httpkit']) m[kind] = await idle(kind);
  const h = m.httpkit!;
  const w = m.ws!;
  console.log(`idle x${h.conns}/${w.conns}  httpkit ${fmt(h.rssPerConn)} B RSS/conn (${fmt(h.heapPerConn)} B heap+external)   ws ${fmt(w.rssPerConn)} B RSS/conn (${fmt(w.heapPerConn)} B heap+external)   ratio ${(h.rssPerConn / w.rssPerConn).toFixed(2)}x`);
}
