// Child processes and ports for tests that start real peers on loopback: a free port,
// waiting until something listens, temp dirs, starting a node script that reports its
// port, and stopping a process for sure.
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait.ts';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function waitPort(port: number, host = '127.0.0.1', ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await sleep(30);
  }
  throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
}

export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `httpkit-${name}-`));
  chmodSync(dir, 0o755); // nginx workers may run as another user
  return dir;
}

/** Stop a child process: `signal`, then SIGKILL after `grace` ms. */
export async function stopProcess(proc: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM', grace = 3000): Promise<void> {
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
    }, grace);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill(signal);
  });
}

export interface SpawnPortOptions {
  /** Command words before node's own, e.g. a `taskset` pinning. Default: none. */
  prefix?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Give up (and reject) when no port is printed in this many ms. Default 20 s. */
  timeout?: number;
}

/**
 * Run `node --import tsx <script> ...args` and resolve once it prints `port N` on stdout
 * (its stderr is passed through). Rejects if it exits or stays silent first.
 */
export function spawnUntilPort(script: string, args: string[] = [], options: SpawnPortOptions = {}): Promise<{ proc: ChildProcess; port: number }> {
  const cmd = [...(options.prefix ?? []), process.execPath, '--import', 'tsx', script, ...args];
  const proc = spawn(cmd[0]!, cmd.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} did not start: ${out}`));
    }, options.timeout ?? 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${script} exited ${code}: ${out}`));
    });
  });
}
