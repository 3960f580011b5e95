// The listening side of the PROXY protocol: a TCP server that reads each
// connection's PROXY header before handing it to HTTP (or to the TLS server, which
// then does its handshake over the rest of the bytes).
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { util } from './builtins.ts';
import type { ServerContext } from './context.ts';
import { readProxyHeader, proxyHeaderOf, applyProxyHeader, kProxyHeader } from './proxy-protocol.ts';

const debug = util.debuglog('httpkit');

/**
 * A net server in front of `onSocket` (plain HTTP) or `tlsServer` (HTTPS): each
 * connection first gives its PROXY header. Sockets waiting for one are tracked in
 * ctx.rawSockets so stop() closes them.
 */
export function proxyProtocolServer(
  ctx: ServerContext,
  mode: 'enable' | 'optional',
  onSocket: (socket: Socket) => void,
  tlsServer: NetServer | null,
): NetServer {
  return createNetServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => {
    if (ctx.stopping) {
      socket.destroy();
      return;
    }
    ctx.rawSockets.add(socket);
    socket.once('close', () => ctx.rawSockets.delete(socket));
    readProxyHeader(socket, mode, ctx.headersTimeout, (s, rest) => {
      if (ctx.stopping) return void s.destroy();
      if (tlsServer === null) {
        ctx.rawSockets.delete(s);
        if (rest.length > 0) s.unshift(rest);
        onSocket(s);
        s.resume();
        return;
      }
      // TLS reads the native handle directly: bytes already read must go through a
      // stream in front of the socket instead.
      tlsServer.emit('connection', rest.length === 0 ? s : prepend(s, rest));
    }, (reason) => debug('PROXY header rejected: %s', reason));
  });
}

/** A duplex that yields `first`, then whatever `socket` reads; writes go to `socket`. */
function prepend(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  const h = proxyHeaderOf(socket);
  if (h !== undefined) (d as unknown as Record<symbol, unknown>)[kProxyHeader] = h;
  Object.defineProperty(d, 'remoteAddress', { get: () => socket.remoteAddress, configurable: true });
  Object.defineProperty(d, 'remotePort', { get: () => socket.remotePort, configurable: true });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  socket.on('error', (e) => d.destroy(e));
  return d;
}

/** Under TLS: make the TLS socket report the client address its TCP socket got from the PROXY header. */
export function carryProxyHeader(tlsSocket: Socket): void {
  // Node links a TLS socket to what it wraps: the TCP socket, or for a JS stream
  // (the prepending duplex) through the handle's wrapper.
  const t = tlsSocket as unknown as { _parent?: object | null; _handle?: { _parentWrap?: { stream?: object } } | null };
  const raw = t._parent ?? t._handle?._parentWrap?.stream;
  if (raw === undefined || raw === null) return;
  const h = proxyHeaderOf(raw);
  if (h !== undefined && !h.local) return applyProxyHeader(tlsSocket, h);
  if (raw instanceof Duplex && !('_handle' in raw)) {
    // Over the prepending stream the TLS socket has no address of its own.
    const r = raw as unknown as Socket;
    Object.defineProperty(tlsSocket, 'remoteAddress', { get: () => r.remoteAddress, configurable: true });
    Object.defineProperty(tlsSocket, 'remotePort', { get: () => r.remotePort, configurable: true });
  }
}
