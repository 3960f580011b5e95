// Shared by the production tests: free ports, temp dirs, real peers (nginx,
// redis-server) started on loopback and stopped after, WebSocket message collectors.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, type WebSocket } from '../../websocket/index.ts';
import { CI, firstExisting } from '../helpers/tools.ts';
import { freePort, stopProcess, tempDir, waitPort } from '../helpers/process.ts';
import { sleep } from '../helpers/wait.ts';

export { CI, freePort, sleep, stopProcess, tempDir, waitPort };
export { NGINX, startNginx, nginxStreamModule, type Nginx } from '../helpers/nginx.ts';

export const T = { timeout: 30_000 };
export const which = firstExisting;
export const REDIS = firstExisting(['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server']);

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
