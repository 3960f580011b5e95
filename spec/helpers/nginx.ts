// nginx started on a free loopback port from a generated config, everything in a temp
// dir removed on stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstExisting } from './tools.ts';
import { freePort, stopProcess, tempDir, waitPort } from './process.ts';

export const NGINX = firstExisting(['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']);

export interface Nginx {
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Stop nginx (SIGQUIT: graceful; SIGTERM: fast) and remove its dir. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface NginxOptions {
  /** Adds files to the temp dir before nginx starts. */
  prepare?: (dir: string) => void;
  /** Command words before nginx's own, e.g. a `taskset` pinning. Default: none. */
  prefix?: string[];
  /** events.worker_connections. Default 512. */
  workerConnections?: number;
}

/**
 * Start nginx on a free loopback port with `http` (and optionally `stream`) blocks
 * made by `conf(port, dir)`.
 */
export async function startNginx(
  conf: (port: number, dir: string) => { http?: string; stream?: string; modules?: string },
  options: NginxOptions = {},
): Promise<Nginx> {
  if (NGINX === null) throw new Error('nginx not installed');
  const dir = tempDir('nginx');
  options.prepare?.(dir);
  const port = await freePort();
  const c = conf(port, dir);
  writeFileSync(join(dir, 'nginx.conf'), `
${c.modules ?? ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${options.workerConnections ?? 512}; }
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
  const cmd = [...(options.prefix ?? []), NGINX, '-p', dir, '-c', join(dir, 'nginx.conf')];
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
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
    async stop(signal: NodeJS.Signals = 'SIGQUIT') {
      await stopProcess(proc, signal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx's stream module: built in, or as a loadable module Debian ships separately. */
export function nginxStreamModule(): string | null {
  const so = firstExisting(['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so']);
  return so === null ? null : `load_module ${so};`;
}
