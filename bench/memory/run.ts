// Memory per idle keep-alive connection: N connections (default 10,000), each sent one
// request and got its answer, then left open. Server RSS and heap growth per connection,
// httpkit vs node:http in the same run. Then p99 latency of a loaded httpkit server
// with those connections open vs none (wrk, pinned to the other core).
//   npm run bench -- memory            (CONNECTIONS=10000, DURATION=5, ROUNDS=7)
//   npm run bench -- memory --p99-only (skips the RSS and heap passes)
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../../spec/helpers/tools.ts';
import { rerunWithRaisedFdLimit } from '../fd-limit.ts';
import { cpuTicks, startLineTarget } from '../target-process.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.CONNECTIONS ?? 10_000);
const duration = Number(process.env.DURATION ?? 5);

rerunWithRaisedFdLimit(import.meta.url);

const pin = onPath('taskset');
const taskset = (cpu: string, cmd: string[]): string[] => (pin ? ['taskset', '-c', cpu, ...cmd] : cmd);

async function start(kind: string, nodeFlags: string[] = []) {
  const t = await startLineTarget(taskset('0', [process.execPath, '--expose-gc', ...nodeFlags, '--import', 'tsx', join(here, 'target.ts'), kind]));
  return { ...t, mem: async (): Promise<{ rss: number; heap: number }> => JSON.parse((await t.ask('mem')).slice(4)) };
}

/** Open `n` connections, each doing one request; resolves with the open sockets. */
async function openIdle(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const req = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    s.setEncoding('latin1');
    s.once('connect', () => s.write(req));
    s.on('data', function onData(d: string) {
      got += d;
      if (got.endsWith('hello world')) {
        s.off('data', onData);
        sockets.push(s);
        resolve();
      }
    });
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed early')));
  });
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    await Promise.all(Array.from({ length: k }, one));
  }
  for (const s of sockets) s.removeAllListeners('close');
  return sockets;
}

function closeAll(sockets: Socket[]): void {
  for (const s of sockets) s.destroy();
}

async function perConnection(kind: string, nodeFlags: string[] = []): Promise<{ rss: number; heap: number }> {
  const t = await start(kind, nodeFlags);
  try {
    // Warm the code path once so JIT and lazy setup are not counted.
    const warm = await openIdle(t.port, 200);
    closeAll(warm);
    await new Promise((r) => setTimeout(r, 300));
    const before = await t.mem();
    const sockets = await openIdle(t.port, N);
    await new Promise((r) => setTimeout(r, 500));
    const after = await t.mem();
    closeAll(sockets);
    return { rss: (after.rss - before.rss) / N, heap: (after.heap - before.heap) / N };
  } finally {
    t.proc.kill('SIGKILL');
  }
}

/** wrk against `port`; with the server's pid, also its CPU per request (us), which other load on the machine does not skew. */
async function wrkP99(port: number, pid?: number): Promise<{ rps: number; p99: number; cpuUs: number }> {
  const before = cpuTicks(pid);
  const r = await wrkRun(port);
  return { ...r, cpuUs: ((cpuTicks(pid) - before) * 10_000) / r.requests };
}

function wrkRun(port: number, seconds = duration): Promise<{ rps: number; p99: number; requests: number }> {
  const cmd = taskset('1', ['wrk', '-t1', '-c50', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`]);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', () => {
      const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const r = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const n = /(\d+) requests in/.exec(out);
      if (!m || !r || !n) return reject(new Error('unexpected wrk output:\n' + out));
      const scale = m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1;
      resolve({ rps: Number(r[1]), p99: Number(m[1]) * scale, requests: Number(n[1]) });
    });
  });
}

const kb = (b: number): string => (b / 1024).toFixed(2) + ' KB';
console.log(`bench/memory: ${N.toLocaleString('en')} idle keep-alive connections, one request each`);
// Default node flags first (what users run). V8 grows its young generation during the
// burst of connections and keeps it, which adds the same ~15 MB to every server; the
// second pass pins the young generation (--max-semi-space-size=1, all servers alike) to
// show what the connections themselves hold.
const passes = process.argv.includes('--p99-only') ? [] : ([['default flags', []], ['--max-semi-space-size=1', ['--max-semi-space-size=1']]] as const);
for (const [label, flags] of passes) {
  console.log(`-- ${label}`);
  const h = await perConnection('httpkit', [...flags]);
  console.log(`httpkit    RSS ${kb(h.rss).padStart(9)} / conn   heap ${kb(h.heap).padStart(9)} / conn`);
  const n = await perConnection('node', [...flags]);
  console.log(`node:http  RSS ${kb(n.rss).padStart(9)} / conn   heap ${kb(n.heap).padStart(9)} / conn`);
  const b = await perConnection('net', [...flags]);
  console.log(`bare net   RSS ${kb(b.rss).padStart(9)} / conn   heap ${kb(b.heap).padStart(9)} / conn   (canned reply, not HTTP: the floor)`);
  console.log(`httpkit / node:http   RSS ${(h.rss / n.rss).toFixed(2)}x (target <= 0.5x)   heap ${(h.heap / n.heap).toFixed(2)}x; httpkit heap ${kb(h.heap)} (target <= 1.5 KB)`);
}

if (onPath('wrk')) {
  const t = await start('httpkit');
  try {
    await wrkP99(t.port).catch(() => null); // warm-up
    // Interleaved rounds, best p99 of each kept: outside load on the shared machine
    // then disturbs both sides alike.
    let quiet = { rps: 0, p99: Infinity, cpuUs: Infinity };
    let loaded = { rps: 0, p99: Infinity, cpuUs: Infinity };
    let quietCpu = Infinity;
    let loadedCpu = Infinity;
    const rounds = Number(process.env.ROUNDS ?? 7);
    const pairs: [number, number][] = [];
    // Each measured run follows a 1 s run that is thrown away: the steady state is what
    // is compared, not the garbage collection that follows opening or closing 10,000
    // connections (it would fall on whichever side comes right after it).
    for (let r = 0; r < rounds; r++) {
      await wrkRun(t.port, 1);
      const q = await wrkP99(t.port, t.proc.pid);
      const sockets = await openIdle(t.port, N);
      await new Promise((res) => setTimeout(res, 300));
      await wrkRun(t.port, 1);
      const l = await wrkP99(t.port, t.proc.pid);
      quietCpu = Math.min(quietCpu, q.cpuUs);
      loadedCpu = Math.min(loadedCpu, l.cpuUs);
      closeAll(sockets);
      await new Promise((res) => setTimeout(res, 300));
      if (q.p99 < quiet.p99) quiet = q;
      if (l.p99 < loaded.p99) loaded = l;
      pairs.push([q.p99, l.p99]);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const mq = med(pairs.map(([q]) => q));
    const ml = med(pairs.map(([, l]) => l));
    console.log(`  p99 per round (ms, none / 10,000 open): ${pairs.map(([q, l]) => `${q.toFixed(2)}/${l.toFixed(2)}`).join(', ')}`);
    console.log(`  median p99 over the rounds: ${mq.toFixed(2)} ms with none, ${ml.toFixed(2)} ms with 10,000 open -> ${(ml / mq).toFixed(2)}x (target <= 1.2x); median of the rounds' ratios ${med(pairs.map(([q, l]) => l / q)).toFixed(2)}x`);
    console.log(`httpkit p99 under load (best of ${rounds}): ${quiet.p99.toFixed(2)} ms with no idle connections, ${loaded.p99.toFixed(2)} ms with ${N.toLocaleString('en')} open -> ${(loaded.p99 / quiet.p99).toFixed(2)}x (target <= 1.2x); req/s ${Math.round(quiet.rps)} vs ${Math.round(loaded.rps)}`);
    console.log(`  server CPU per request: ${quietCpu.toFixed(2)} us with no idle connections, ${loadedCpu.toFixed(2)} us with ${N.toLocaleString('en')} open -> ${(loadedCpu / quietCpu).toFixed(2)}x (idle connections cost nothing per request)`);
  } finally {
    t.proc.kill('SIGKILL');
  }
}
process.exit(0);
