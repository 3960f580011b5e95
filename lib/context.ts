// Settings and shared state of one running server, read by each of its connections.
import type { Socket } from 'node:net';
import type { ErrorLogger, Handler, WarnLogger } from './types.ts';
import { TimerWheel } from './timers.ts';
import { HeadScan, type SendLimit } from './response-writer.ts';
import type { Connection } from './connection.ts';
import type { ParserSlot } from './parser-slot.ts';
import type { WebSocketChannelSettings } from './ws-channel.ts';
import type { TrustedProxies } from './forwarded.ts';

export type { ErrorLogger, WarnLogger } from './types.ts';

export class ServerContext {
  readonly handler: Handler;
  readonly scheme: 'http' | 'https';
  port = 0;
  /** Address the server listens on, used as serverName when a request has no Host. */
  localName: string;
  readonly maxBody: number;
  readonly maxLine: number;
  readonly maxHeaderSize: number;
  readonly maxHeaders: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  /** How long a streamed response may wait on a client that reads nothing. */
  readonly sendTimeout: number;
  /** How long a closing connection keeps draining what the client still sends. */
  readonly lingerTimeout: number;
  /** `Server: ...\r\n`, or '' when disabled. */
  readonly serverLine: string;
  readonly errorLogger: ErrorLogger;
  readonly warnLogger: WarnLogger;
  readonly wheel: TimerWheel;
  readonly scan = new HeadScan();
  /** sendTimeout on the wheel, for body pumps. */
  readonly sendLimit: SendLimit;
  stopping = false;
  /** Parsers not in use: an idle keep-alive connection holds none. */
  readonly parsers: ParserSlot[] = [];
  readonly connections = new Set<Connection>();
  /** TLS only: the TCP sockets under the TLS connections, including those still in their handshake. */
  readonly rawSockets = new Set<Socket>();
  /** Called after each connection closes (stop() waits on it). */
  onConnectionClosed: () => void = noop;
  /** Server-wide defaults for WebSocket channels (`websocket` option), or null. */
  websocket: WebSocketChannelSettings | null = null;
  /** `trustedProxies` option: whose X-Forwarded-* headers count, or null (nobody's). */
  trustedProxies: TrustedProxies | null = null;

  constructor(
    handler: Handler,
    scheme: 'http' | 'https',
    localName: string,
    o: {
      maxBody: number; maxLine: number; maxHeaderSize: number; maxHeaders: number;
      headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; sendTimeout?: number;
      serverHeader: string | null; errorLogger: ErrorLogger; warnLogger: WarnLogger;
    },
  ) {
    this.handler = handler;
    this.scheme = scheme;
    this.localName = localName;
    this.maxBody = o.maxBody;
    this.maxLine = o.maxLine;
    this.maxHeaderSize = o.maxHeaderSize;
    this.maxHeaders = o.maxHeaders;
    this.headersTimeout = o.headersTimeout;
    this.requestTimeout = o.requestTimeout;
    this.keepAliveTimeout = o.keepAliveTimeout;
    this.sendTimeout = o.sendTimeout ?? 60_000;
    this.lingerTimeout = Math.min(2000, o.headersTimeout);
    this.serverLine = o.serverHeader === null || o.serverHeader === '' ? '' : 'Server: ' + o.serverHeader + '\r\n';
    this.errorLogger = o.errorLogger;
    this.warnLogger = o.warnLogger;
    const shortest = Math.min(o.headersTimeout, o.requestTimeout, o.keepAliveTimeout, this.sendTimeout);
    this.wheel = new TimerWheel(o.keepAliveTimeout, Math.max(10, Math.min(1000, Math.floor(shortest / 4))));
    this.sendLimit = { wheel: this.wheel, timeout: this.sendTimeout };
  }
}

function noop(): void {}
