// Hello-world req/s: httpkit vs node:http (and nginx, one worker, if installed), in one run.
// wrk on one core, each server alone on the other (taskset). Keep-alive, 50 connections,
// then pipelined at depth 16. Prints req/s and the ratios.
//   npm run bench -- server            (DURATION=5 seconds per run, ROUNDS=3, CONNECTIONS=50)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../../spec/helpers/tools.ts';
import { createServer } from 'node:net';
import { cpuTicks } from '../target-process.ts';

const here = dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.DURATION ?? 5);
const connections = Number(process.env.CONNECTIONS ?? 50);
const SERVER_CPU = process.env.SERVER_CPU ?? '0';
const LOAD_CPU = process.env.LOAD_CPU ?? '1';


if (!onPath('wrk')) {
  console.error('bench/server needs wrk (Debian: apt-get install wrk)');
  process.exit(1);
}
const pin = onPath('taskset');
const taskset = (cpu: string, cmd: string[]): string[] => (pin ? ['taskset', '-c', cpu, ...cmd] : cmd);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Target {
  name: string;
  proc: ChildProcess;
  port: number;
  cleanup?: () => void;
}

function startNode(kind: string): Promise<Target> {
  const cmd = taskset(SERVER_CPU, [process.execPath, '--import', 'tsx', join(here, 'target.ts'), kind]);
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ name: kind, proc, port: Number(m[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

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

interface Run {
  rps: number;
  /** Server CPU per request in microseconds: robust to other load on a shared machine. */
  cpuUs: number;
}

async function measure(t: Target, seconds: number, script?: string): Promise<Run> {
  const before = cpuTicks(t.proc.pid);
  const { rps, requests } = await wrk(t.port, seconds, script);
  const ticks = cpuTicks(t.proc.pid) - before;
  return { rps, cpuUs: (ticks * 10_000) / requests };
}

function wrk(port: number, seconds: number, script?: string): Promise<{ rps: number; requests: number }> {
  const args = ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  if (script) args.push('-s', script);
  args.push(`http://127.0.0.1:${port}/`);
  const cmd = taskset(LOAD_CPU, args);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', () => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: ([^\n]+)/.exec(out);
      if (errors) console.error(`  wrk reported: ${errors[0]}`);
      const n = /(\d+) requests in/.exec(out);
      if (m && n) resolve({ rps: Number(m[1]), requests: Number(n[1]) });
      else reject(new Error('wrk output without Requests/sec:\n' + out));
    });
  });
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
