// Client req/s with 50 requests in flight over keep-alive against one fast server:
// httpkit vs undici Pool.request vs node:http (keep-alive Agent) vs fetch, same run.
// The server (a canned-response node:net server, or nginx with SERVER=nginx) runs alone
// on one core, the clients on the other (taskset). Rounds alternate the contestants.
// Then the memory each idle pooled connection costs (JS heap + external), httpkit vs undici.
//   npm run bench -- client      (DURATION=3 s per run, ROUNDS=3, CONCURRENCY=50, SERVER=node|nginx, IDLE=1000)
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient } from '../../client/index.ts';
import { onPath } from '../../spec/helpers/tools.ts';
import { spawnUntilPort, stopProcess } from '../../spec/helpers/process.ts';
import { startNginx } from '../../spec/helpers/nginx.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 3) * 1000;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const SERVER = process.env.SERVER ?? 'node';
const SERVER_CPU = process.env.SERVER_CPU ?? '1';
const CLIENT_CPU = process.env.CLIENT_CPU ?? '0';
const ONLY = process.env.ONLY?.split(',') ?? null;
const IDLE = Number(process.env.IDLE ?? 1000);

const pin = onPath('taskset');
if (pin) execFileSync('taskset', ['-p', '-c', CLIENT_CPU, String(process.pid)], { stdio: 'ignore' });

async function startServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const prefix = pin ? ['taskset', '-c', SERVER_CPU] : [];
  if (SERVER === 'nginx') {
    const nginx = await startNginx((port) => ({
      http: `keepalive_requests 100000000;
  server { listen 127.0.0.1:${port}; default_type text/plain; location / { return 200 "hello"; } }`,
    }), { prefix, workerConnections: 1024 });
    return { port: nginx.port, stop: () => nginx.stop('SIGTERM') };
  }
  const { proc, port } = await spawnUntilPort(join(here, 'canned-server.ts'), [], { prefix });
  return { port, stop: () => stopProcess(proc, 'SIGTERM') };
}

type One = () => Promise<void>;

interface UndiciPool {
  request(opts: { path: string; method: string }): Promise<{ statusCode: number; body: { text(): Promise<string> } }>;
  close(): Promise<void>;
}

/** Keeps CONCURRENCY requests in flight for `ms`; returns requests per second and client CPU µs per request. */
async function measure(one: One, ms: number): Promise<{ rps: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  let done = 0;
  let errors = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  async function worker(): Promise<void> {
    while (performance.now() < end) {
      try {
        await one();
        done++;
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (errors > 0) throw new Error(`${errors} failed requests`);
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / ((performance.now() - start) / 1000), cpu: (cpu.user + cpu.system) / done };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap + external bytes per idle pooled connection: open `IDLE` at once, let them go idle. */
async function idleMemory(open: (n: number) => Promise<unknown>): Promise<number> {
  gc();
  const m0 = process.memoryUsage();
  await open(IDLE);
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const m1 = process.memoryUsage();
  return (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / IDLE;
}

async function main(): Promise<void> {
  const server = await startServer();
  const url = `http://127.0.0.1:${server.port}/`;
  const origin = `http://127.0.0.1:${server.port}`;

  const hk = createClient({ maxConnectionsPerHost: CONCURRENCY });
  // Loaded by name so the type check passes without the bench peers installed.
  const undiciName = 'undici';
  const { Pool } = (await import(undiciName)) as { Pool: new (origin: string, opts: object) => UndiciPool };
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  const contestants: Record<string, One> = {
    httpkit: async () => {
      const r = await hk.request({ url });
      if (r.status !== 200) throw r.error ?? new Error(`status ${r.status}`);
    },
    undici: async () => {
      const r = await pool.request({ path: '/', method: 'GET' });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
    },
    'node:http': () =>
      new Promise<void>((resolve, reject) => {
        http.get(url, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => (res.statusCode === 200 && body.length > 0 ? resolve() : reject(new Error('bad'))));
        }).on('error', reject);
      }),
    fetch: async () => {
      const r = await fetch(url);
      await r.text();
      if (r.status !== 200) throw new Error(`status ${r.status}`);
    },
  };
  const names = Object.keys(contestants).filter((n) => ONLY === null || ONLY.includes(n));
  const best: Record<string, number> = {};
  const cpuBest: Record<string, number> = {};
  try {
    for (const n of names) await measure(contestants[n]!, 500); // warm-up (JIT, connections)
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? names : [...names].reverse();
      for (const n of order) {
        const { rps, cpu } = await measure(contestants[n]!, DURATION);
        best[n] = Math.max(best[n] ?? 0, rps);
        cpuBest[n] = Math.min(cpuBest[n] ?? Infinity, cpu);
        console.log(`round ${round}  ${n.padEnd(10)} ${Math.round(rps).toString().padStart(7)} req/s  ${cpu.toFixed(1).padStart(6)} µs client CPU/req`);
      }
    }
    if (IDLE > 0) {
      const hkIdle = createClient({ maxConnectionsPerHost: IDLE, maxConnections: IDLE });
      const undiciIdle = new Pool(origin, { connections: IDLE, pipelining: 1 });
      const idle: Record<string, number> = {};
      try {
        idle.httpkit = await idleMemory((n) => Promise.all(Array.from({ length: n }, () => hkIdle.request({ url }))));
        idle.undici = await idleMemory((n) => Promise.all(Array.from({ length: n }, async () => {
          const r = await undiciIdle.request({ path: '/', method: 'GET' });
          await r.body.text();
        })));
      } finally {
        hkIdle.close();
        await undiciIdle.close();
      }
      console.log(`\nmemory per idle pooled connection (${IDLE} open): httpkit ${Math.round(idle.httpkit!)} B, undici ${Math.round(idle.undici!)} B (undici/httpkit ${(idle.undici! / idle.httpkit!).toFixed(2)}x)`);
    }
  } finally {
    hk.close();
    await pool.close();
    agent.destroy();
    await server.stop();
  }
  console.log(`\n${CONCURRENCY} in flight, keep-alive, server=${SERVER} (cpu ${SERVER_CPU}), clients on cpu ${CLIENT_CPU}, best of ${ROUNDS} x ${DURATION / 1000}s`);
  const base = best.undici;
  const cpuBase = cpuBest.undici;
  for (const n of names) {
    const ratio = base ? ` ${(best[n]! / base).toFixed(2)}x undici` : '';
    const cpuRatio = cpuBase ? ` (undici/this: ${(cpuBase / cpuBest[n]!).toFixed(2)}x)` : '';
    console.log(`${n.padEnd(10)} ${Math.round(best[n]!).toString().padStart(7)} req/s${ratio}   ${cpuBest[n]!.toFixed(1).padStart(6)} µs CPU/req${cpuRatio}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
