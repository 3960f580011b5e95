// WebSocket benchmark: httpkit (node:net + websocket/) vs ws, same load driver for both.
//  1. echo round trips per second, 50 connections, 64-byte text and 16 KiB binary
//  2. memory per idle WebSocket connection at 10,000 connections
// Server pinned to CPU 0 and driver to CPU 1 with taskset when available.
// Echo runs at two pipeline depths: 1 (each connection waits for its echo: latency-bound,
// most of the cost is the kernel's loopback TCP path, the same for both servers) and 8
// (eight messages in flight per connection: server-bound, shows the framing cost).
// --via=server measures httpkit through the whole server (runServer + asChannel) instead
// of node:net + websocket/ alone; `npm run bench -- websocket-server` is that run.
// Memory: RSS follows the V8 heap's committed size, which moves by a few hundred bytes per
// connection from run to run; each server is measured --idle-rounds times (alternating)
// and the median is printed.
// Usage: npm run bench -- websocket [--via=net|server] [--seconds=3] [--conns=50] [--idle=10000] [--idle-rounds=3] [--depths=1,8] [--rounds=3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';
import { rerunWithRaisedFdLimit } from '../fd-limit.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const SECONDS = arg('seconds', 3);
const CONNS = arg('conns', 50);
const IDLE = arg('idle', 10000);
const DEPTHS = (process.argv.find((x) => x.startsWith('--depths='))?.split('=')[1] ?? '1,8').split(',').map(Number);
const ROUNDS = arg('rounds', 3);
const IDLE_ROUNDS = arg('idle-rounds', 3);
const VIA = process.argv.find((x) => x.startsWith('--via='))?.split('=')[1] ?? 'net';
if (VIA !== 'net' && VIA !== 'server') throw new Error(`--via=${VIA}: net or server`);
/** The server kind (bench/websocket/server.ts) that plays httpkit in this run. */
const OURS = VIA === 'server' ? 'server' : 'httpkit';

if (IDLE > 0) rerunWithRaisedFdLimit(import.meta.url);

const haveTaskset = spawnSync('taskset', ['--version']).status === 0 && cpus().length >= 2;
function nodeCmd(cpu: number, script: string, args: string[], extra: string[] = []): [string, string[]] {
  const nodeArgs = [...extra, '--import', 'tsx', join(here, script), ...args];
  return haveTaskset ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
}

interface Server {
  child: ChildProcess;
  port: number;
  lines: AsyncIterator<string>;
}

async function startServer(name: string): Promise<Server> {
  const kind = name === 'httpkit' ? OURS : name;
  const [cmd, args] = nodeCmd(0, 'server.ts', [kind], ['--expose-gc', ...(process.env.BENCH_PROF === kind ? ['--cpu-prof', '--cpu-prof-dir=.bench-out'] : [])]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = Number(String(first.value).replace('PORT ', ''));
  return { child, port, lines };
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
  const [cmd, a] = nodeCmd(1, 'driver.ts', args);
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

/** Echoes per second, and server CPU microseconds per echo (stable on a noisy machine). */
async function echo(kind: string, size: number, type: string, depth: number): Promise<{ rate: number; cpuPerEcho: number }> {
  const s = await startServer(kind);
  try {
    const cpu0 = await cpuSample(s);
    const r = await runDriver([String(s.port), 'echo', String(CONNS), String(size), type, String(SECONDS), String(depth)]);
    const cpu1 = await cpuSample(s);
    return { rate: r.echoesPerSec!, cpuPerEcho: (cpu1 - cpu0) / r.total! };
  } finally {
    await stopServer(s);
  }
}

async function idle(kind: string): Promise<{ rssPerConn: number; heapPerConn: number; conns: number }> {
  const s = await startServer(kind);
  try {
    const before = await memSample(s);
    const [cmd, a] = nodeCmd(1, 'driver.ts', [String(s.port), 'idle', String(IDLE)]);
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
console.log(`node ${process.version}, ${cpus().length} CPUs, taskset ${haveTaskset ? 'on (server cpu0, driver cpu1)' : 'off'}, ulimit -n ${spawnSync('sh', ['-c', 'ulimit -n']).stdout.toString().trim()}`);
console.log(`httpkit = ${VIA === 'server' ? 'runServer + asChannel' : 'node:net + websocket/'}; echo: ${CONNS} connections, ${SECONDS}s per run after 1s warm-up, best of ${ROUNDS} rounds (alternating order); CPU = server user+sys per echo`);

for (const depth of DEPTHS) for (const [size, type, name] of [[64, 'text', '64 B text'], [16384, 'binary', '16 KiB binary']] as const) {
  const label = `${name} d${depth}`;
  const best: Record<string, number> = { httpkit: 0, ws: 0 };
  const cpu: Record<string, number> = { httpkit: Infinity, ws: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? ['ws', 'httpkit'] : ['httpkit', 'ws']) {
      const v = await echo(kind, size, type, depth);
      best[kind] = Math.max(best[kind]!, v.rate);
      cpu[kind] = Math.min(cpu[kind]!, v.cpuPerEcho);
    }
  }
  console.log(`${label.padEnd(18)} httpkit ${fmt(best.httpkit!).padStart(9)} echoes/s   ws ${fmt(best.ws!).padStart(9)} echoes/s   ratio ${(best.httpkit! / best.ws!).toFixed(2)}x`);
  console.log(`${''.padEnd(18)} server CPU per echo: httpkit ${cpu.httpkit!.toFixed(2)} us   ws ${cpu.ws!.toFixed(2)} us   ws/httpkit ${(cpu.ws! / cpu.httpkit!).toFixed(2)}x`);
  if (size === 64) {
    // What node:net itself costs for this load: no parsing, prebuilt replies.
    const floor = await bestEcho('floor', size, type, depth);
    console.log(`${''.padEnd(18)} floor (node:net read+write, no WebSocket work): ${fmt(floor.rate)} echoes/s, ${floor.cpuPerEcho.toFixed(2)} us/echo -> best possible ws/x CPU ratio ${(cpu.ws! / floor.cpuPerEcho).toFixed(2)}x`);
    if (VIA === 'server') {
      // The same through the server's fast read path: what httpkit's WebSocket work costs on top.
      const sf = await bestEcho('server-floor', size, type, depth);
      console.log(`${''.padEnd(18)} server floor (fast read path, prebuilt replies): ${fmt(sf.rate)} echoes/s, ${sf.cpuPerEcho.toFixed(2)} us/echo -> httpkit's WebSocket work ${(cpu.httpkit! - sf.cpuPerEcho).toFixed(2)} us/echo`);
    }
  }
}

/** Best rate and lowest CPU per echo of ROUNDS runs of one server kind. */
async function bestEcho(kind: string, size: number, type: string, depth: number): Promise<{ rate: number; cpuPerEcho: number }> {
  const best = { rate: 0, cpuPerEcho: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    const v = await echo(kind, size, type, depth);
    best.rate = Math.max(best.rate, v.rate);
    best.cpuPerEcho = Math.min(best.cpuPerEcho, v.cpuPerEcho);
  }
  return best;
}

type IdleSample = { rssPerConn: number; heapPerConn: number; conns: number };
/** Per-field median of the samples. */
function median(samples: IdleSample[]): IdleSample {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { rssPerConn: mid(samples.map((s) => s.rssPerConn)), heapPerConn: mid(samples.map((s) => s.heapPerConn)), conns: Math.min(...samples.map((s) => s.conns)) };
}

if (IDLE > 0) {
  const samples: Record<string, IdleSample[]> = { ws: [], httpkit: [], raw: [] };
  for (let r = 0; r < IDLE_ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? ['ws', 'httpkit', 'raw'] : ['raw', 'httpkit', 'ws']) samples[kind]!.push(await idle(kind));
  }
  const m: Record<string, IdleSample> = {};
  for (const kind of Object.keys(samples)) m[kind] = median(samples[kind]!);
  const each = (kind: string) => samples[kind]!.map((s) => fmt(s.rssPerConn)).join('/');
  const h = m.httpkit!;
  const w = m.ws!;
  console.log(`idle x${h.conns}/${w.conns}, median of ${IDLE_ROUNDS} (httpkit ${each('httpkit')}, ws ${each('ws')} B RSS/conn)`);
  console.log(`idle x${h.conns}/${w.conns}  httpkit ${fmt(h.rssPerConn)} B RSS/conn (${fmt(h.heapPerConn)} B heap+external)   ws ${fmt(w.rssPerConn)} B RSS/conn (${fmt(w.heapPerConn)} B heap+external)   ratio ${(h.rssPerConn / w.rssPerConn).toFixed(2)}x`);
  const r = m.raw!;
  console.log(`  floor (upgraded TCP socket, no WebSocket object): ${fmt(r.rssPerConn)} B RSS/conn (${fmt(r.heapPerConn)} B heap+external); on top of it httpkit adds ${fmt(h.heapPerConn - r.heapPerConn)} B heap, ws ${fmt(w.heapPerConn - r.heapPerConn)} B`);
}
