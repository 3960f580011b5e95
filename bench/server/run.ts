// Hello-world req/s: httpkit vs node:http (and nginx, one worker, if installed), in one run.
// wrk on one core, each server alone on the other (taskset). Keep-alive, 50 connections,
// then pipelined at depth 16. Prints req/s and the ratios.
//   npm run bench -- server            (DURATION=5 seconds per run, ROUNDS=3, CONNECTIONS=50)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../../spec/helpers/tools.ts';
import { freePort, LOAD_CPU, measure as measureWith, pinned as pin, requireWrk, SERVER_CPU, startNode as startScript, taskset, wrk as wrkWith, type Target } from './wrk.ts';

const here = dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.DURATION ?? 5);
const connections = Number(process.env.CONNECTIONS ?? 50);

requireWrk('bench/server');
const startNode = (kind: string): Promise<Target> => startScript(kind, join(here, 'target.ts'), [kind]);
const measure = (t: Target, seconds: number, script?: string) => measureWith(t, seconds, connections, script);
const wrk = (port: number, seconds: number, script?: string) => wrkWith(port, seconds, connections, script);

async function startNginx(): Promise<Target | null> {
  if (!onPath('nginx')) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'httpkit-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir};
  scgi_temp_path ${dir};
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 'hello world'; }
  }
}
`);
  const cmd = taskset(SERVER_CPU, ['nginx', '-p', dir, '-c', conf]);
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  // Wait until it accepts.
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`], { stdio: 'ignore' });
      return { name: 'nginx', proc, port, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    } catch {
      /* not yet */
    }
  }
  proc.kill();
  rmSync(dir, { recursive: true, force: true });
  console.error('nginx did not start; skipping it');
  return null;
}

const pipeline = join(here, 'pipeline.lua');
const rounds = Number(process.env.ROUNDS ?? 3);
const results: Record<string, { keepAlive: number; pipelined: number; cpuKeepAlive: number; cpuPipelined: number }> = {};
console.log(`bench/server: wrk -t1 -c${connections} -d${duration}s, hello world; server on cpu ${SERVER_CPU}, wrk on cpu ${LOAD_CPU}${pin ? '' : ' (taskset missing: not pinned)'}`);
console.log(`${rounds} interleaved rounds, best of each kept (the machine is shared: the best run is the least disturbed)`);
// All servers start at once (idle ones cost nothing) and take turns, so a burst of
// outside load hits every one of them alike.
const targets: Target[] = [];
try {
  targets.push(await startNode('httpkit'), await startNode('node'));
  const nginx = await startNginx();
  if (nginx !== null) targets.push(nginx);
  for (const t of targets) {
    await wrk(t.port, 1); // warm-up (JIT, connection setup)
    await wrk(t.port, 1, pipeline);
    results[t.name] = { keepAlive: 0, pipelined: 0, cpuKeepAlive: Infinity, cpuPipelined: Infinity };
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const res = results[t.name]!;
      const k = await measure(t, duration);
      const p = await measure(t, duration, pipeline);
      res.keepAlive = Math.max(res.keepAlive, k.rps);
      res.pipelined = Math.max(res.pipelined, p.rps);
      res.cpuKeepAlive = Math.min(res.cpuKeepAlive, k.cpuUs);
      res.cpuPipelined = Math.min(res.cpuPipelined, p.cpuUs);
    }
  }
} finally {
  for (const t of targets) {
    t.proc.kill('SIGKILL');
    t.cleanup?.();
  }
}
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(8)} keep-alive ${Math.round(r.keepAlive).toLocaleString('en').padStart(10)} req/s (${r.cpuKeepAlive.toFixed(2)} us CPU/req)   pipelined x16 ${Math.round(r.pipelined).toLocaleString('en').padStart(11)} req/s (${r.cpuPipelined.toFixed(2)} us CPU/req)`);
}
const h = results.httpkit!;
const n = results.node!;
console.log('');
console.log(`httpkit / node:http   keep-alive ${(h.keepAlive / n.keepAlive).toFixed(2)}x   pipelined x16 ${(h.pipelined / n.pipelined).toFixed(2)}x   (targets: >= 1.5x, >= 4x)`);
console.log(`  by server CPU per request (node / httpkit; steadier on a shared machine): keep-alive ${(n.cpuKeepAlive / h.cpuKeepAlive).toFixed(2)}x   pipelined x16 ${(n.cpuPipelined / h.cpuPipelined).toFixed(2)}x`);
if (results.nginx) {
  const x = results.nginx;
  console.log(`httpkit / nginx       keep-alive ${(h.keepAlive / x.keepAlive).toFixed(2)}x   pipelined x16 ${(h.pipelined / x.pipelined).toFixed(2)}x`);
}
