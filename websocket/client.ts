// WebSocket client: connect(url) performs the opening handshake over node:net or
// node:tls and resolves with the same connection object servers use.
import { connect as netConnect, type Socket } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { tls } from './builtins.ts';
import { buildClientRequest, parseResponseHead, verifyServerResponse, type ClientHandshakeOptions, type ResponseHeadInfo } from './handshake.ts';
import { WebSocket, type WebSocketOptions } from './websocket.ts';

export interface ConnectOptions extends ClientHandshakeOptions, Omit<WebSocketOptions, 'role' | 'deflate' | 'protocol' | 'perMessageDeflate'> {
  /** Give up (and destroy the socket) if the connection and handshake take longer than this, in ms; 0 = no limit. Default 10000. */
  timeout?: number;
  /** TLS options for wss:// (ca, cert, key, rejectUnauthorized, servername, ...). Default: Node's defaults, SNI from the URL host. */
  tls?: TlsOptions;
  /** Largest response head accepted, in bytes. Default 16384. */
  maxHeaderSize?: number;
}

/** Handshake failure: `code` is WS_HANDSHAKE_FAILED, `statusCode` the HTTP status when one arrived. */
export class HandshakeError extends Error {
  readonly code = 'WS_HANDSHAKE_FAILED';
  readonly statusCode: number | null;
  /** The response head when the server answered with something other than a valid 101. */
  readonly response: ResponseHeadInfo | null;
  constructor(message: string, statusCode: number | null = null, response: ResponseHeadInfo | null = null) {
    super(message);
    this.name = 'HandshakeError';
    this.statusCode = statusCode;
    this.response = response;
  }
}

/**
 * Open a WebSocket connection to a ws:// or wss:// URL. Resolves once the server's 101
 * has been verified; rejects with HandshakeError (bad answer, timeout) or the socket error.
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch {
      reject(new TypeError(`invalid URL ${String(url)}`));
      return;
    }
    const secure = u.protocol === 'wss:';
    if (!secure && u.protocol !== 'ws:') {
      reject(new TypeError(`unsupported protocol ${u.protocol} (ws: or wss: only)`));
      return;
    }
    let key: string;
    let request: Buffer;
    try {
      ({ key, request } = buildClientRequest(u, options));
    } catch (err) {
      reject(err);
      return;
    }
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port !== '' ? Number(u.port) : secure ? 443 : 80;
    const socket: Socket = secure
      ? tls().connect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, ...options.tls })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    const maxHeaderSize = options.maxHeaderSize ?? 16384;
    let received: Buffer = Buffer.alloc(0);
    let settled = false;

    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const limit = options.timeout ?? 10000;
    const timer = limit > 0 ? setTimeout(() => fail(new HandshakeError(`handshake timed out after ${limit} ms`)), limit) : null;
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new HandshakeError('connection closed before the handshake completed'));
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const head = parseResponseHead(received, maxHeaderSize);
      if (head === null) return;
      if (typeof head === 'string') return fail(new HandshakeError(`invalid handshake response: ${head}`));
      const verdict = verifyServerResponse(head, key, options);
      if (typeof verdict === 'string') {
        return fail(new HandshakeError(`handshake refused: ${verdict}`, head.statusCode, head));
      }
      settled = true;
      cleanup();
      socket.pause();
      const leftover = received.length > head.length ? received.subarray(head.length) : undefined;
      const perMessageDeflate = typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : undefined;
      const ws = new WebSocket(socket, { ...options, perMessageDeflate, role: 'client', deflate: verdict.deflate, protocol: verdict.protocol }, leftover);
      resolve(ws);
    };
    const cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(request);
  });
}
