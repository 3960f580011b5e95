// The connections to one origin (through one proxy, with one TLS setup): idle stack,
// wait queue, limits and the keep-alive life of idle sockets.
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ClientError, ERR_SOCKET, ERR_TIMEOUT, toClientError } from './errors.ts';
import { connectHost, defaultPort } from './request.ts';
import { proxyAuthorization } from './proxy.ts';
import { Connection } from './connection.ts';
import type { Exchange } from './exchange.ts';
import type { Client } from './client.ts';
import type { TlsOptions } from './types.ts';

export class Pool {
  readonly client: Client;
  readonly key: string;
  readonly https: boolean;
  readonly host: string;
  readonly port: number;
  /** host:port for CONNECT. */
  readonly authority: string;
  readonly proxy: URL | null;
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly proxyAuth: string;
  /** Plain http through a proxy: requests use the absolute-form target. */
  readonly absoluteForm: boolean;
  readonly insecure: boolean;
  readonly tls: TlsOptions | null;
  /** The last TLS session, offered on the next handshake (resumption). */
  session: Buffer | null;
  readonly conns: Connection[];
  readonly idle: Connection[];
  readonly queue: Exchange[];
  connecting: number;

  constructor(client: Client, key: string, ex: Exchange) {
    const url = ex.url;
    this.client = client;
    this.key = key;
    this.https = url.protocol === 'https:';
    this.host = connectHost(url);
    this.port = defaultPort(url);
    this.authority = (this.host.includes(':') ? '[' + this.host + ']' : this.host) + ':' + this.port;
    this.proxy = ex.proxy;
    this.proxyHost = ex.proxy !== null ? connectHost(ex.proxy) : '';
    this.proxyPort = ex.proxy !== null ? defaultPort(ex.proxy) : 0;
    this.proxyAuth = ex.proxy !== null ? proxyAuthorization(ex.proxy) : '';
    this.absoluteForm = ex.proxy !== null && !this.https;
    this.insecure = ex.insecure;
    this.tls = ex.tls;
    this.session = null;
    this.conns = [];
    this.idle = [];
    this.queue = [];
    this.connecting = 0;
  }

  tlsOptions(): tls.ConnectionOptions {
    const o: tls.ConnectionOptions = {
      host: this.host,
      port: this.port,
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: !this.insecure,
      ...(this.tls ?? {}),
    };
    if (o.servername === undefined && net.isIP(this.host) === 0) o.servername = this.host;
    if (this.session !== null && o.session === undefined) o.session = this.session;
    return o;
  }

  /** Sends `ex` on an idle connection, or queues it and opens a connection if allowed. */
  submit(ex: Exchange): void {
    ex.pool = this;
    const idle = this.idle;
    const now = idle.length > 0 ? performance.now() : 0;
    while (idle.length > 0) {
      const conn = idle.pop()!;
      if (conn.alive(now)) {
        conn.assign(ex);
        return;
      }
      conn.destroy();
    }
    this.queue.push(ex);
    this.grow();
  }

  /** Retries `ex` once on a fresh connection (its reused connection died before any response byte). */
  retry(ex: Exchange): void {
    if (this.conns.length < this.client.maxConnectionsPerHost && this.client.reserveSlot(this)) {
      const conn = this.open(ex.connectTimeout);
      if (conn !== null) {
        conn.reserved = ex;
        return;
      }
    }
    this.queue.unshift(ex);
    this.grow();
  }

  /** Opens connections while queued exchanges outnumber connections being opened. */
  grow(): void {
    while (this.queue.length > this.connecting && this.conns.length < this.client.maxConnectionsPerHost) {
      if (!this.client.reserveSlot(this)) return;
      if (this.open(this.queue[this.connecting]!.connectTimeout) === null) return;
    }
  }

  private open(connectTimeout: number): Connection | null {
    const conn = new Connection(this);
    // If it connects with nobody left to serve, it idles like any other connection.
    conn.keepaliveMs = this.client.keepalive;
    this.conns.push(conn);
    this.client.total++;
    this.connecting++;
    try {
      conn.connect(connectTimeout);
    } catch (err) {
      // Synchronous failures (bad TLS options): fail like a refused connection.
      this.connectFailed(conn, toClientError(err, ERR_SOCKET));
      conn.destroy();
      return null;
    }
    return conn;
  }

  connected(conn: Connection): void {
    conn.pending = false;
    this.connecting--;
    const reserved = conn.reserved;
    if (reserved !== null) {
      conn.reserved = null;
      conn.assign(reserved);
      return;
    }
    this.release(conn);
  }

  /** A connection could not be opened: the exchange it was opened for fails with the error. */
  connectFailed(conn: Connection, err: Error & { code: string }): void {
    const reserved = conn.reserved;
    conn.reserved = null;
    if (reserved !== null) {
      reserved.fail(err);
      return;
    }
    const ex = this.queue.shift();
    if (ex !== undefined) ex.fail(err);
  }

  /** A connection is free: it takes the next queued exchange or waits in the idle stack. */
  release(conn: Connection): void {
    const next = this.queue.shift();
    if (next !== undefined) {
      conn.assign(next);
      return;
    }
    if (this.client.starved.size > 0) {
      // Another origin waits for a slot under maxConnections: give it this one.
      conn.destroy();
      return;
    }
    conn.makeIdle(performance.now());
    this.idle.push(conn);
  }

  /** Bookkeeping for a closed connection (called once, synchronously, from Connection.destroy). */
  remove(conn: Connection): void {
    const i = this.conns.indexOf(conn);
    if (i === -1) return;
    this.conns.splice(i, 1);
    if (conn.pending) {
      conn.pending = false;
      this.connecting--;
    }
    const j = this.idle.indexOf(conn);
    if (j !== -1) this.idle.splice(j, 1);
    this.client.total--;
    this.client.wake();
    if (this.queue.length > 0) this.grow();
  }

  /** `ex` left the queue (timeout, abort): connections being opened that nobody waits for now are closed. */
  unqueue(ex: Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i !== -1) this.queue.splice(i, 1);
    const conns = this.conns;
    let unclaimed = 0;
    for (const c of conns) {
      if (c.reserved === ex) c.reserved = null;
      if (c.pending && c.reserved === null) unclaimed++;
    }
    // A connect can take up to connectTimeout (60 s): left running, it would keep the
    // process alive long after its request ended.
    for (let k = conns.length - 1; k >= 0 && unclaimed > this.queue.length; k--) {
      const c = conns[k]!;
      if (c.pending && c.reserved === null) {
        unclaimed--;
        c.destroy();
      }
    }
  }

  /** Closes one idle connection to make room elsewhere; false if none is idle. */
  evictIdle(): boolean {
    const conn = this.idle.shift();
    if (conn === undefined) return false;
    conn.destroy();
    return true;
  }

  tick(now: number): void {
    const conns = this.conns;
    for (let i = conns.length - 1; i >= 0; i--) conns[i]?.tick(now);
    const queue = this.queue;
    for (let i = queue.length - 1; i >= 0; i--) {
      const ex = queue[i];
      if (ex !== undefined && now >= ex.deadline) ex.abort(new ClientError(ERR_TIMEOUT, 'request timed out waiting for a connection'));
    }
  }

  isEmpty(): boolean {
    return this.conns.length === 0 && this.queue.length === 0;
  }

  /** Fails everything queued or in flight with `err` and closes every connection. */
  close(err: Error & { code: string }): void {
    const queue = this.queue.splice(0);
    for (const ex of queue) ex.fail(err);
    for (const conn of this.conns.slice()) {
      const reserved = conn.reserved;
      conn.reserved = null;
      if (conn.ex !== null) conn.failExchange(err, false);
      else conn.destroy();
      reserved?.fail(err);
    }
  }
}
