// Client: the per-origin pools, global connection limit, and the request entry point.
import {
  ClientError, toClientError, ERR_CLIENT_CLOSED, ERR_INVALID_OPTION, ERR_TIMEOUT,
} from './errors.ts';
import { Exchange, runCallback, DEFAULT_KEEPALIVE } from './exchange.ts';
import { Pool } from './pool.ts';
import { track, type Ticking } from './timers.ts';
import type { Callback, ClientOptions, RequestOptions, Response } from './types.ts';

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
function objectId(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

/** Pool key part for TLS options: primitives by value, objects (Buffers, arrays, contexts) by identity. */
function tlsKey(o: object): string {
  let k = '';
  for (const name of Object.keys(o).sort()) {
    const v = (o as Record<string, unknown>)[name];
    if (v === undefined) continue;
    k += v !== null && (typeof v === 'object' || typeof v === 'function') ? ` ${name}#${objectId(v)}` : ` ${name}=${String(v)}`;
  }
  return k;
}

function limit(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 1)) throw new ClientError(ERR_INVALID_OPTION, `${name} must be a number >= 1`);
  return v;
}

export class Client implements Ticking {
  readonly maxConnections: number;
  readonly maxConnectionsPerHost: number;
  readonly keepalive: number;
  readonly defaults: NonNullable<ClientOptions['defaults']>;
  /** @internal */
  readonly pools: Map<string, Pool>;
  /** @internal Open connections over all pools. */
  total: number;
  /** @internal Pools waiting for a connection slot under maxConnections. */
  readonly starved: Set<Pool>;
  private ticking: boolean;

  constructor(options: ClientOptions = {}) {
    this.maxConnections = limit('maxConnections', options.maxConnections, 1024);
    this.maxConnectionsPerHost = limit('maxConnectionsPerHost', options.maxConnectionsPerHost, 64);
    const ka = options.keepalive ?? DEFAULT_KEEPALIVE;
    if (typeof ka !== 'number' || (ka < 0 && ka !== -1)) throw new ClientError(ERR_INVALID_OPTION, 'keepalive must be ms >= 0 or -1');
    this.keepalive = ka;
    this.defaults = options.defaults ?? {};
    this.pools = new Map();
    this.total = 0;
    this.starved = new Set();
    this.ticking = false;
  }

  /** Sends a request; resolves to the response map (never rejects), or to what `callback` returns. */
  request(opts: RequestOptions): Promise<Response>;
  request<T>(opts: RequestOptions, callback: Callback<T>): Promise<T | Response>;
  request<T>(opts: RequestOptions, callback?: Callback<T>): Promise<T | Response> {
    let resolve!: (r: Response) => void;
    const promise = new Promise<Response>((r) => {
      resolve = r;
    });
    const ex = new Exchange(this, opts, resolve);
    try {
      ex.prepare();
      if (ex.watchSignal()) this.dispatch(ex);
    } catch (err) {
      ex.fail(toClientError(err, ERR_INVALID_OPTION));
    }
    if (typeof callback === 'function') return promise.then((r) => runCallback(r, callback));
    return promise;
  }

  /** @internal Routes an exchange (new, retried or redirected) to its origin's pool. */
  dispatch(ex: Exchange): void {
    if (performance.now() >= ex.deadline) {
      ex.fail(new ClientError(ERR_TIMEOUT, 'request timed out'));
      return;
    }
    const url = ex.url;
    let key = url.protocol + '//' + url.host;
    if (ex.proxy !== null) key += ' via ' + ex.proxy.href;
    if (ex.insecure) key += ' insecure';
    if (ex.tls !== null) key += ' tls' + tlsKey(ex.tls);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(this, key, ex);
      this.pools.set(key, pool);
      if (!this.ticking) {
        this.ticking = true;
        track(this);
      }
    }
    pool.submit(ex);
  }

  /** @internal May `pool` open one more connection? Evicts an idle connection elsewhere when at the limit. */
  reserveSlot(pool: Pool): boolean {
    if (this.total < this.maxConnections) return true;
    for (const p of this.pools.values()) {
      if (p.evictIdle()) return this.total < this.maxConnections;
    }
    this.starved.add(pool);
    return false;
  }

  /** @internal A connection closed somewhere: let a starved pool open one. */
  wake(): void {
    while (this.starved.size > 0 && this.total < this.maxConnections) {
      const pool = this.starved.values().next().value as Pool;
      this.starved.delete(pool);
      pool.grow();
    }
  }

  tick(now: number): boolean {
    for (const [key, pool] of this.pools) {
      pool.tick(now);
      if (pool.isEmpty()) {
        this.pools.delete(key);
        this.starved.delete(pool);
      }
    }
    if (this.pools.size === 0) this.ticking = false;
    return this.ticking;
  }

  /** Closes every connection and fails queued and in-flight requests with ERR_CLIENT_CLOSED. The client stays usable. */
  close(): void {
    const err = new ClientError(ERR_CLIENT_CLOSED, 'client closed');
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.starved.clear();
    for (const pool of pools) pool.close(err);
  }
}

export function createClient(options?: ClientOptions): Client {
  return new Client(options);
}
