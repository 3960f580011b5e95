// What the server benches share: wrk on one core, the server alone on the other
// (taskset), server CPU per request read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { onPath } from '../../spec/helpers/tools.ts';
import { cpuTicks } from '../target-process.ts';

export const SERVER_CPU = process.env.SERVER_CPU ?? '0';
export const LOAD_CPU = process.env.LOAD_CPU ?? '1';
export const pinned = onPath('taskset');
export const taskset = (cpu: string, cmd: string[]): string[] => (pinned ? ['taskset', '-c', cpu, ...cmd] : cmd);

export function requireWrk(bench: string): void {
  if (onPath('wrk')) return;
  console.error(`${bench} needs wrk (Debian: apt-get install wrk)`);
  process.exit(1);
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface Target {
  name: string;
  proc: ChildProcess;
  port: number;
  cleanup?: () => void;
}

/** Starts a node script (argv after the script) on the server core; it prints `port <n>`. */
export function startNode(name: string, script: string, args: string[]): Promise<Target> {
  const cmd = taskset(SERVER_CPU, [process.execPath, '--import', 'tsx', script, ...args]);
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ name, proc, port: Number(m[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

export interface Run {
  rps: number;
  /** Server CPU per request in microseconds: robust to other load on a shared machine. */
  cpuUs: number;
}

export async function measure(t: Target, seconds: number, connections: number, script?: string): Promise<Run> {
  const before = cpuTicks(t.proc.pid);
  const { rps, requests } = await wrk(t.port, seconds, connections, script);
  const ticks = cpuTicks(t.proc.pid) - before;
  return { rps, cpuUs: (ticks * 10_000) / requests };
}

export function wrk(port: number, seconds: number, connections: number, script?: string): Promise<{ rps: number; requests: number }> {
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
