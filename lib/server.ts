// runServer: a listening node:net (or node:tls) server feeding connections.
import type { Server as NetServer, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { net as netModule, tls as loadTls } from './builtins.ts';
import type { ErrorLogger, Handler, WarnLogger } from './types.ts';
import { ServerContext } from './context.ts';
import { Connection, onFastRead } from './connection.ts';
import { acceptFast } from './fast-read.ts';
import type { WebSocketChannelSettings } from './ws-channel.ts';
import type { ProxyProtocolMode } from './proxy-protocol.ts';

// `workers`, `proxyProtocol` and `trustedProxies` are served by the httpkit/cluster and
// httpkit/proxy entry points, imported here only when an option asks for them: a plain
// server loads and compiles none of that code.
const loadCluster = (): Promise<typeof import('./cluster.ts')> => import('./cluster.ts');
const loadProxy = (): Promise<typeof import('./proxy.ts')> => import('./proxy.ts');

/** Options of `runServer`. Every field is optional. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one (see `server.port`). Default 0. */
  port?: number;
  /** Address to listen on. Default `'0.0.0.0'`. */
  ip?: string;
  /** Largest request body in bytes; a bigger one gets 413 without being read. Default 8 MiB. */
  maxBody?: number;
  /** Longest request line in bytes; longer gets 414. Default 8192. */
  maxLine?: number;
  /** Largest header section in bytes; larger gets 431. Default 16384. */
  maxHeaderSize?: number;
  /** Most header lines; more gets 431. Default 100. */
  maxHeaders?: number;
  /** Value of the `Server` header; null sends none. Default `'httpkit'`. */
  serverHeader?: string | null;
  /** Listen backlog (pending connections the kernel queues). Default 511. */
  backlog?: number;
  /** Connections beyond this many are refused (closed on accept). Default unlimited. */
  maxConnections?: number;
  /** Ms to receive a whole request head from its first byte (and for a new connection to send one); cuts off slowloris with 408. Default 30000. */
  headersTimeout?: number;
  /** Ms to receive a whole request, head and body; then 408. Default 300000. */
  requestTimeout?: number;
  /** Ms an idle keep-alive connection stays open between requests. Default 5000. */
  keepAliveTimeout?: number;
  /** Ms a streamed or file response, answers to pipelined requests, or a WebSocket channel, may wait for a client that reads none of it (the socket buffer stays full); then the connection is closed (a channel's onClose gets 'timeout'; a WebSocket channel's with 1006). Default 60000. */
  sendTimeout?: number;
  /** Called with handler errors (then answered 500) and body stream failures. Default: console.error. */
  errorLogger?: ErrorLogger;
  /** Called with notable but non-fatal events. Default: console.warn. */
  warnLogger?: WarnLogger;
  /** Serve HTTPS on node:tls with these options (`key`, `cert`, ...). Default: plain HTTP. */
  tls?: TlsOptions;
  /** Defaults for every WebSocket channel (`maxMessageSize`, `perMessageDeflate`, `idleTimeout`, `heartbeatInterval`, ...); options given to `asChannel` override them. Default: the defaults of `WebSocketChannelSettings`. */
  websocket?: WebSocketChannelSettings;
  /** PROXY protocol (v1 and v2) ahead of each connection: `'enable'` requires it (a connection without a valid header is closed), `'optional'` accepts connections with or without, `'disable'` reads none. The header's source address becomes `remoteAddr`. Default `'disable'`. */
  proxyProtocol?: ProxyProtocolMode;
  /** Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses, CIDR ranges, or `'loopback'`); from any other peer those headers change nothing. Default none. */
  trustedProxies?: readonly string[];
  /**
   * Read plain TCP connections through node's `onread` option: each read lands in one
   * buffer shared by all connections, with no stream machinery and no Buffer per read
   * (less CPU per request, less garbage per connection). Sockets given to the
   * application (takeOverSocket) still work as streams. TLS and PROXY-protocol
   * connections always read as streams. `false` reads every connection as a stream.
   * Default true.
   */
  fastRead?: boolean;
  /** Processes serving the port on node:cluster. Above 1 the primary process forks that many workers (each calls runServer again and serves), restarts any that dies, and resolves to a handle whose stop() stops them all; see docs/production.md. Default 1 (this process serves). */
  workers?: number;
}

export type ServerStatus = 'running' | 'stopping' | 'stopped';

export interface StopOptions {
  /** Ms to let requests in flight finish before closing their connections. Default 100. */
  timeout?: number;
}

export class Server {
  /** The port listened on (the chosen one when `port: 0`). */
  readonly port: number;
  /** The address listened on. */
  readonly address: string;
  #status: ServerStatus = 'running';
  readonly #net: NetServer;
  readonly #ctx: ServerContext;
  #stopped: Promise<void> | null = null;

  /** @internal runServer makes servers. */
  constructor(net: NetServer, ctx: ServerContext, port: number, address: string) {
    this.#net = net;
    this.#ctx = ctx;
    this.port = port;
    this.address = address;
  }

  get status(): ServerStatus {
    return this.#status;
  }

  /** Open connections. */
  get connections(): number {
    return this.#ctx.connections.size;
  }

  /**
   * Stop accepting, close idle connections at once, let requests in flight finish
   * for up to `timeout` ms, then close the rest. Resolves when all are closed.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    const timeout = options.timeout ?? 100;
    const ctx = this.#ctx;
    this.#status = 'stopping';
    ctx.stopping = true;
    this.#stopped = new Promise<void>((resolve) => {
      let listening = true;
      let timer: NodeJS.Timeout | null = null;
      const check = (): void => {
        if (listening || ctx.connections.size > 0) return;
        if (timer !== null) clearTimeout(timer);
        ctx.onConnectionClosed = noop;
        ctx.wheel.stop();
        this.#status = 'stopped';
        resolve();
      };
      ctx.onConnectionClosed = check;
      this.#net.close(() => {
        listening = false;
        check();
      });
      for (const conn of [...ctx.connections]) conn.stopGracefully();
      timer = setTimeout(() => {
        for (const conn of [...ctx.connections]) conn.socket.destroy();
        // TLS sockets still in their handshake are not connections yet; they go too.
        for (const raw of [...ctx.rawSockets]) raw.destroy();
      }, timeout);
      check();
    });
    return this.#stopped;
  }
}

function noop(): void {}

function defaultErrorLogger(err: unknown, req?: unknown): void {
  const r = req as { requestMethod?: string; uri?: string } | undefined;
  console.error('httpkit: error' + (r && r.uri ? ` in ${r.requestMethod?.toUpperCase()} ${r.uri}` : '') + ':', err);
}

function defaultWarnLogger(message: string, detail?: unknown): void {
  if (detail === undefined) console.warn('httpkit: ' + message);
  else console.warn('httpkit: ' + message, detail);
}

// The loggers are called from every failure path, some of them inside promise handlers:
// a logger that throws must not turn one failed request into an unhandled rejection.
function guarded<A extends unknown[]>(name: string, log: (...args: A) => void, fallback: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      log(...args);
    } catch (thrown) {
      fallback(...args);
      console.error(`httpkit: ${name} threw:`, thrown);
    }
  };
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`runServer: ${name} must be a positive number`);
  return v;
}

/** Start a server; resolves once it listens. */
export async function runServer(handler: Handler, options: ServerOptions = {}): Promise<Server> {
  if (typeof handler !== 'function') throw new TypeError('runServer: handler must be a function');
  const clustered = options.workers !== undefined && options.workers !== 1;
  const cluster = clustered ? await loadCluster() : null;
  if (cluster !== null) {
    const primary = await cluster.runWorkers(options);
    if (primary !== null) return primary;
  }
  const proxyMode = options.proxyProtocol ?? 'disable';
  if (proxyMode !== 'disable' && proxyMode !== 'enable' && proxyMode !== 'optional') throw new RangeError("runServer: proxyProtocol must be 'disable', 'enable' or 'optional'");
  const proxy = proxyMode !== 'disable' || options.trustedProxies !== undefined ? await loadProxy() : null;
  const ip = options.ip ?? '0.0.0.0';
  const serverHeader = options.serverHeader === undefined ? 'httpkit' : options.serverHeader;
  if (serverHeader !== null && !/^[\x20-\x7e]*$/.test(serverHeader)) throw new RangeError('runServer: serverHeader must be visible ASCII');
  const tls = options.tls;
  const ctx = new ServerContext(handler, tls ? 'https' : 'http', ip, {
    maxBody: positive('maxBody', options.maxBody, 8 * 1024 * 1024),
    maxLine: positive('maxLine', options.maxLine, 8192),
    maxHeaderSize: positive('maxHeaderSize', options.maxHeaderSize, 16384),
    maxHeaders: positive('maxHeaders', options.maxHeaders, 100),
    headersTimeout: positive('headersTimeout', options.headersTimeout, 30_000),
    requestTimeout: positive('requestTimeout', options.requestTimeout, 300_000),
    keepAliveTimeout: positive('keepAliveTimeout', options.keepAliveTimeout, 5000),
    sendTimeout: positive('sendTimeout', options.sendTimeout, 60_000),
    serverHeader,
    errorLogger: options.errorLogger === undefined ? defaultErrorLogger : guarded('errorLogger', options.errorLogger, defaultErrorLogger),
    warnLogger: options.warnLogger === undefined ? defaultWarnLogger : guarded('warnLogger', options.warnLogger, defaultWarnLogger),
  });
  ctx.websocket = options.websocket ?? null;
  if (options.trustedProxies !== undefined) ctx.trustedProxies = new proxy!.TrustedProxies(options.trustedProxies);
  const onSocket = (socket: Socket): void => {
    if (ctx.stopping) {
      socket.destroy();
      return;
    }
    if (proxyMode !== 'disable' && tls) proxy!.carryProxyHeader(socket);
    new Connection(socket, ctx);
  };
  let net: NetServer;
  if (tls) {
    // A slow TLS handshake is cut off like a slow request head, unless tls says otherwise.
    net = loadTls().createServer({ handshakeTimeout: ctx.headersTimeout, ...tls, allowHalfOpen: true } as TlsOptions, onSocket as (s: Socket) => void);
    net.on('tlsClientError', (err: Error) => ctx.warnLogger('TLS handshake failed', err.message));
    // Track TCP sockets under TLS so stop() can close those stuck in a handshake.
    net.on('connection', (raw: Socket) => {
      ctx.rawSockets.add(raw);
      raw.once('close', () => ctx.rawSockets.delete(raw));
    });
  } else {
    net = netModule.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
  }
  if (proxyMode !== 'disable') net = proxy!.proxyProtocolServer(ctx, proxyMode, onSocket, tls ? net : null);
  if (options.maxConnections !== undefined) net.maxConnections = options.maxConnections;
  // Plain TCP: once listening, connections are accepted onto the fast read path.
  const fastRead = options.fastRead !== false && !tls && proxyMode === 'disable';
  const onFastSocket = (socket: Socket): void => {
    if (ctx.stopping) socket.destroy();
    else new Connection(socket, ctx, true);
  };
  return new Promise<Server>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    net.once('error', onError);
    net.listen({ port: options.port ?? 0, host: ip, backlog: options.backlog ?? 511 }, () => {
      net.off('error', onError);
      if (fastRead) acceptFast(net, onFastSocket, onFastRead);
      net.on('error', (err: Error) => ctx.errorLogger(err));
      const addr = net.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const address = typeof addr === 'object' && addr !== null ? addr.address : ip;
      ctx.port = port;
      ctx.wheel.start();
      const server = new Server(net, ctx, port, address);
      if (cluster !== null) cluster.serveAsWorker(server);
      resolve(server);
    });
  });
}
