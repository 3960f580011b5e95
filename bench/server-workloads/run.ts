// Req/s beyond hello world: httpkit vs node:http on workloads where the body, the
// response size or the request headers dominate. wrk on one core, the server alone on
// the other (taskset); interleaved rounds, best of each kept; ratios by req/s and by
// server CPU per request.
//   npm run bench -- server-workloads   (DURATION=3 s per run, ROUNDS=3, CONNECTIONS=50,
//                                        WORKLOADS=post1k,big16k,headers,json,bytes4000)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, pinned, requireWrk, startNode, wrk, LOAD_CPU, SERVER_CPU, type Target } from '../server/wrk.ts';

requireWrk('bench/server-workloads');
const here = dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.DURATION ?? 3);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = Number(process.env.CONNECTIONS ?? 50);
const workloads = (process.env.WORKLOADS ?? 'post1k,big16k,headers,json,bytes4000').split(',');
const scripts: Record<string, string> = { post1k: 'post1k.lua', headers: 'headers.lua' };
const describe: Record<string, string> = {
  post1k: 'POST 1 KiB, echoed',
  big16k: 'GET, 16 KiB answer',
  headers: 'GET, browser headers',
  json: 'GET, JSON per request',
};

console.log(`bench/server-workloads: wrk -t1 -c${connections} -d${duration}s; server on cpu ${SERVER_CPU}, wrk on cpu ${LOAD_CPU}${pinned ? '' : ' (taskset missing: not pinned)'}; ${rounds} interleaved rounds, best kept`);
for (const w of workloads) {
  const script = scripts[w] === undefined ? undefined : join(here, scripts[w]!);
  const targets: Target[] = [];
  const best: Record<string, { rps: number; cpu: number }> = {};
  try {
    for (const kind of ['httpkit', 'node']) {
      const t = await startNode(kind, join(here, 'target.ts'), [kind, w]);
      targets.push(t);
      await wrk(t.port, 1, connections, script); // warm-up
      best[kind] = { rps: 0, cpu: Infinity };
    }
    for (let r = 0; r < rounds; r++) {
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        const m = await measure(t, duration, connections, script);
        const b = best[t.name]!;
        b.rps = Math.max(b.rps, m.rps);
        b.cpu = Math.min(b.cpu, m.cpuUs);
      }
    }
  } finally {
    for (const t of targets) t.proc.kill('SIGKILL');
  }
  const h = best.httpkit!;
  const n = best.node!;
  const label = (describe[w] ?? (w.startsWith('bytes') ? `GET, ${w.slice(5)} B answer` : w)).padEnd(22);
  const fmt = (x: number) => Math.round(x).toLocaleString('en').padStart(8);
  console.log(`${label} httpkit ${fmt(h.rps)} req/s (${h.cpu.toFixed(2)} us)   node:http ${fmt(n.rps)} req/s (${n.cpu.toFixed(2)} us)   ${(h.rps / n.rps).toFixed(2)}x req/s, ${(n.cpu / h.cpu).toFixed(2)}x CPU`);
}
