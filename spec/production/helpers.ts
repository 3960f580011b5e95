// Shared by the production tests: free ports, temp dirs, real peers (nginx,
// redis-server) started on loopback and stopped after, WebSocket message collectors.
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type WebSocket } from '../../websocket/index.ts';

export const T = { timeout: 30_000 };
export const CI = process.env.CI === 'true';

export function which(candidates: string[]): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}

export const NGINX = which(['/usr/sbin/nginx', '/usr/bin/nginx']);
export const REDIS = which(['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server']);

/** A missing peer fails the test in CI and skips it elsewhere (with the reason). */
export function requirePeer(path: string | null, what: string, t: { skip(msg: string): void }): path is string {
  if (path !== null) return true;
  if (CI) throw new Error(`${what} is required in CI`);
  t.skip(`${what} not installed`);
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

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

export interface Nginx {
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start nginx on a free loopback port with `http` (and optionally `stream`) blocks
 * made by `conf(port, dir)`; everything lives in a temp dir removed on stop.
 */
export async function startNginx(conf: (port: number, dir: string) => { http?: string; stream?: string; modules?: string }): Promise<Nginx> {
  const dir = tempDir('nginx');
  const port = await freePort();
  const c = conf(port, dir);
  writeFileSync(join(dir, 'nginx.conf'), `
${c.modules ?? ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
${c.http === undefined ? '' : `http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${c.http}
}`}
${c.stream === undefined ? '' : `stream {\n${c.stream}\n}`}
`);
  const proc = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitPort(port);
  } catch (err) {
    await stopProcess(proc, 'SIGKILL');
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${stderr} ${log} ${(err as Error).message}`);
  }
  return {
    port,
    dir,
    proc,
    async stop() {
      await stopProcess(proc, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx's stream module: built in, or as a loadable module Debian ships separately. */
export function nginxStreamModule(): string | null {
  for (const p of ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so']) {
    if (existsSync(p)) return `load_module ${p};`;
  }
  return null;
}

export interface Redis {
  port: number;
  stop(): Promise<void>;
}

/** redis-server on a free loopback port, no persistence, in a temp dir removed on stop. */
export async function startRedis(): Promise<Redis> {
  const dir = tempDir('redis');
  const port = await freePort();
  const proc = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], { stdio: 'ignore' });
  await waitPort(port);
  return {
    port,
    async stop() {
      await stopProcess(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A WebSocket client that keeps every text message, for waiting on one. */
export class WsCollector {
  readonly messages: string[] = [];
  closed: number | null = null;
  #waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.onMessage = (data) => {
      this.messages.push(data.toString('utf8'));
      for (const w of this.#waiters.splice(0)) w();
    };
    ws.onClose = (code) => {
      this.closed = code;
      for (const w of this.#waiters.splice(0)) w();
    };
  }

  static async open(url: string, options: Parameters<typeof connect>[1] = {}): Promise<WsCollector> {
    return new WsCollector(await connect(url, { timeout: 5000, ...options }));
  }

  /** Resolve with the first message matching `pred` (already received or next). */
  async waitFor(pred: (m: string) => boolean, ms = 5000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.messages.find(pred);
      if (hit !== undefined) return hit;
      if (this.closed !== null) throw new Error(`socket closed (${this.closed}) while waiting`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (this.closed === null) this.ws.terminate();
  }
}
