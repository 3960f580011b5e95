// All cores: one primary process forks `workers` processes on node:cluster, which
// all serve the same port (the primary accepts and hands connections round-robin).
// The primary restarts a worker that dies and stops them all gracefully; it also
// relays pub/sub messages between workers (see lib/pubsub.ts).
import type { Worker } from 'node:cluster';
import { createServer as createNetServer } from 'node:net';
import { Server, type ServerOptions, type ServerStatus, type StopOptions } from './server.ts';
import { cluster } from './builtins.ts';
import { ServerContext } from './context.ts';
import { relayPubSub } from './pubsub.ts';

/** Message the primary sends a worker to stop it gracefully. */
const STOP = 'httpkit:stop';
/** A worker that dies sooner than this after its start counts as crashing: back off. */
const CRASH_WINDOW = 1000;
const MAX_BACKOFF = 5000;

/**
 * The primary's handle on its workers. It is a Server (port, address, status, stop())
 * so code written for one process works unchanged with `workers: n`; `connections`
 * is 0 here because connections live in the workers.
 */
export class ClusterServer extends Server {
  readonly #workers = new Set<Worker>();
  readonly #size: number;
  #state: ServerStatus = 'running';
  #stopped: Promise<void> | null = null;
  #restarts = 0;
  #backoff = 0;

  constructor(size: number, port: number, address: string) {
    super(createNetServer(), placeholderContext(), port, address);
    this.#size = size;
  }

  override get status(): ServerStatus {
    return this.#state;
  }

  override get connections(): number {
    return 0;
  }

  /** Process ids of the live workers. */
  get workerPids(): number[] {
    return [...this.#workers].map((w) => w.process.pid ?? 0);
  }

  /** Workers started again after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** @internal */
  adopt(w: Worker): void {
    this.#workers.add(w);
    const startedAt = Date.now();
    w.once('exit', () => {
      this.#workers.delete(w);
      if (this.#state !== 'running') return;
      // Replace it; a worker that dies at once is restarted more and more slowly.
      const crashed = Date.now() - startedAt < CRASH_WINDOW;
      this.#backoff = crashed ? Math.min(MAX_BACKOFF, Math.max(100, this.#backoff * 2)) : 0;
      const again = (): void => {
        if (this.#state !== 'running') return;
        this.#restarts++;
        this.adopt(cluster().fork());
      };
      if (this.#backoff === 0) again();
      else setTimeout(again, this.#backoff).unref();
    });
  }

  /** Workers it keeps running. */
  get size(): number {
    return this.#size;
  }

  /**
   * Stop every worker gracefully (each runs `server.stop(options)`, then exits);
   * workers still alive `timeout` + 5000 ms later are killed. Resolves when all exited.
   */
  override stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    this.#state = 'stopping';
    const timeout = options.timeout ?? 100;
    this.#stopped = new Promise<void>((resolve) => {
      const live = [...this.#workers];
      let left = live.length;
      const done = (): void => {
        clearTimeout(killer);
        this.#state = 'stopped';
        resolve();
      };
      const killer = setTimeout(() => {
        for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
      }, timeout + 5000);
      if (left === 0) return done();
      for (const w of live) {
        w.once('exit', () => {
          if (--left === 0) done();
        });
        if (w.isConnected()) w.send({ [STOP]: timeout });
        else w.process.kill('SIGTERM');
      }
    });
    return this.#stopped;
  }
}

function placeholderContext(): ServerContext {
  return new ServerContext(() => null, 'http', '', {
    maxBody: 1, maxLine: 1, maxHeaderSize: 1, maxHeaders: 1, headersTimeout: 1000, requestTimeout: 1000,
    keepAliveTimeout: 1000, serverHeader: null, errorLogger: () => {}, warnLogger: () => {},
  });
}

/**
 * In the primary: fork `options.workers` workers running this same program, wait
 * until all listen, and return their handle. In a worker: null (it serves itself).
 */
export async function runWorkers(options: ServerOptions): Promise<ClusterServer | null> {
  if (cluster().isWorker) return null;
  const n = options.workers!;
  if (!Number.isInteger(n) || n < 1) throw new RangeError('runServer: workers must be a positive integer');
  relayPubSub();
  // The primary owns the listening socket and shares it by the workers' listen
  // arguments: all workers (replacements too) listen with the same ones, so with
  // port 0 they share the one free port the first listen picked.
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) workers.push(cluster().fork());
  let addr: { port: number; address: string };
  try {
    [addr] = await Promise.all(workers.map(listening)) as [{ port: number; address: string }];
  } catch (err) {
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    throw err;
  }
  const server = new ClusterServer(n, addr.port, addr.address);
  for (const w of workers) server.adopt(w);
  return server;
}

function listening(w: Worker): Promise<{ port: number; address: string }> {
  return new Promise((resolve, reject) => {
    const onListening = (a: { port: number; address: string | null }): void => {
      w.off('exit', onExit);
      resolve({ port: a.port, address: a.address ?? '0.0.0.0' });
    };
    const onExit = (code: number | null, signal: string | null): void => {
      w.off('listening', onListening);
      reject(new Error(`runServer: worker ${w.process.pid} exited (${signal ?? code}) before listening`));
    };
    w.once('listening', onListening);
    w.once('exit', onExit);
  });
}

/**
 * In a worker: stop gracefully and exit when the primary says so, when SIGTERM
 * arrives, or when the primary is gone. SIGINT (a terminal's Ctrl-C reaches every
 * process of the group) is left to the primary, which stops the workers itself.
 */
export function serveAsWorker(server: Server): void {
  if (!cluster().isWorker) return;
  const exit = (timeout: number): void => {
    void server.stop({ timeout }).then(() => process.exit(0));
  };
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && STOP in m) exit(Number((m as Record<string, unknown>)[STOP]) || 100);
  });
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => exit(100));
  process.once('disconnect', () => exit(100));
}
