// A headless Debian chromium driven over the Chrome DevTools Protocol through our own
// WebSocket client (websocket/ connect): launch, tabs, evaluate, screenshot, close.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, type WebSocket } from '../../websocket/index.ts';
import { tempDir, which, stopProcess } from './helpers.ts';

export const CHROMIUM = which(['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium']);

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

export class Browser {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  private constructor(
    readonly proc: ChildProcess,
    readonly ws: WebSocket,
    readonly profile: string,
  ) {
    ws.onMessage = (data) => {
      const msg = JSON.parse(data.toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      if (msg.id === undefined) return; // events are not needed here
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result ?? {});
    };
    ws.onClose = () => {
      for (const p of this.#pending.values()) p.reject(new Error('DevTools connection closed'));
      this.#pending.clear();
    };
  }

  /** Start chromium with a fresh profile and connect to its browser endpoint. */
  static async launch(): Promise<Browser> {
    const profile = tempDir('chromium');
    const proc = spawn(CHROMIUM!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${profile}`, '--window-size=1000,700', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('chromium printed no DevTools URL in 30 s: ' + err.slice(-2000))), 30_000);
      proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`chromium exited (${code}): ${err.slice(-2000)}`));
      });
    }).catch(async (e: unknown) => {
      await stopProcess(proc, 'SIGKILL');
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      throw e;
    });
    proc.stderr!.resume();
    const ws = await connect(url, { timeout: 10_000, maxPayload: 64 * 1024 * 1024 });
    return new Browser(proc, ws, profile);
  }

  /** One DevTools command (to a tab when `sessionId` is given). */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeout = 15_000): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeout);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }));
    });
  }

  /** Open a tab on `url`; returns a handle bound to its session. */
  async open(url: string): Promise<Tab> {
    const { targetId } = (await this.send('Target.createTarget', { url })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const tab = new Tab(this, targetId, sessionId);
    // A new target starts on about:blank, whose readyState is already "complete".
    await tab.waitFor(`location.href === ${JSON.stringify(new URL(url).href)} && document.readyState === "complete"`);
    return tab;
  }

  async close(): Promise<void> {
    try {
      await this.send('Browser.close', {}, undefined, 3000);
    } catch {
      // already gone or not answering: killed below
    }
    this.ws.terminate();
    await stopProcess(this.proc, 'SIGTERM', 3000);
    // Its helper processes (zygote, crashpad) are in the group it leads.
    try {
      if (this.proc.pid !== undefined) process.kill(-this.proc.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

export class Tab {
  constructor(
    readonly browser: Browser,
    readonly targetId: string,
    readonly sessionId: string,
  ) {}

  /** Evaluate an expression in the page (promises awaited); returns its value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = (await this.browser.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, this.sessionId)) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error('page threw: ' + (r.exceptionDetails.exception?.description ?? r.exceptionDetails.text));
    return r.result.value as T;
  }

  /** Wait until `expression` is truthy in the page. */
  async waitFor(expression: string, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        if (await this.eval<boolean>(`!!(${expression})`)) return;
      } catch {
        // the page may be between documents
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** PNG bytes of the visible page. */
  async screenshot(): Promise<Buffer> {
    const { data } = (await this.browser.send('Page.captureScreenshot', { format: 'png' }, this.sessionId)) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
