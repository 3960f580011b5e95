// Bench targets run as child processes: one that prints `port <n>` and then answers
// commands line by line on stdin/stdout, and its CPU time read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LineTarget {
  proc: ChildProcess;
  port: number;
  /** Sends one command line; resolves with the next line the target prints. */
  ask(cmd: string): Promise<string>;
}

/** Spawns `cmd` (argv) and resolves once its first line (`port <n>`) came. */
export function startLineTarget(cmd: string[]): Promise<LineTarget> {
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: Array<(l: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  return next().then((first) => ({
    proc,
    port: Number(/port (\d+)/.exec(first)![1]),
    ask(c: string) {
      const p = next();
      proc.stdin!.write(c + '\n');
      return p;
    },
  }));
}

/** CPU time (user + system, in clock ticks of 10 ms) the process has used, from /proc; NaN when unreadable. */
export function cpuTicks(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}
