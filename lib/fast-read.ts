// The fast read path for plain TCP connections. Accepted connections are wrapped in a
// net.Socket made with node's `onread` option: every read then lands in one shared
// buffer handed straight to a callback, with no Readable push, no stream state changes
// and no Buffer allocated per read. That is about a fifth of the CPU of a small
// keep-alive request, and most of the young-generation garbage of a connection burst.
//
// The price is a contract: the buffer is reused by the next read of ANY connection, so
// whatever outlives the callback must be copied (see Connection.onFastRead).
import type { Server as NetServer } from 'node:net';
import { net } from './builtins.ts';

const Socket = net.Socket;
type Socket = import('node:net').Socket;

/** The buffer every fast-path socket of the process reads into. Reads never nest, so one is enough. */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Called with each read: `buf` holds `nread` bytes, valid only during the call. Returning false stops reading. */
export type FastReadCallback = (this: Socket, nread: number, buf: Buffer) => boolean | void;

/** A listening handle, as node's net.Server drives it. */
interface ListenHandle {
  onconnection?: (err: number, clientHandle: ClientHandle | undefined) => void;
}
interface ClientHandle {
  readStart?: unknown;
  readStop?: unknown;
  useUserBuffer?: unknown;
}
/** The parts of node's net.Server and Socket this relies on. */
interface ServerInternals {
  _handle: ListenHandle | null;
  _connections: number;
}
interface SocketInternals {
  _server: NetServer | null;
  server: NetServer | null;
}

let supported: boolean | null = null;

/** Whether this node's net.Socket takes the `onread` option (checked once, on a socket without a handle). */
function onreadSupported(): boolean {
  if (supported === null) {
    try {
      const probe = new Socket({ onread: { buffer: READ_BUFFER, callback: () => true } } as ConstructorParameters<typeof Socket>[0]);
      const own = probe as unknown as Record<symbol, unknown>;
      supported = Object.getOwnPropertySymbols(probe).some((s) => s.description === 'kBuffer' && own[s] === READ_BUFFER);
      probe.destroy();
    } catch {
      supported = false;
    }
  }
  return supported;
}

/**
 * Takes over accepting on `server`, which must be listening: each new connection is
 * wrapped as a socket reading through `callback` and given to `onSocket`. The socket
 * carries the server's connection count, as node's own do (its destroy() decrements
 * it, so server.close() and maxConnections work). Accept errors, connections beyond
 * maxConnections and handles of an unexpected kind go through node's own path (the
 * server's 'connection' listener, reading as a stream). Returns false, changing
 * nothing, when this node does not allow it.
 */
export function acceptFast(server: NetServer, onSocket: (socket: Socket) => void, callback: FastReadCallback): boolean {
  const srv = server as unknown as ServerInternals;
  const listener = srv._handle;
  if (listener == null || typeof listener.onconnection !== 'function' || typeof srv._connections !== 'number') return false;
  if (!onreadSupported()) return false;
  const nodeOnConnection = listener.onconnection;
  // One closure per server. Called by the listening handle (or, in a cluster worker, by
  // node's round-robin hand-off) with each accepted connection.
  listener.onconnection = function onconnection(this: ListenHandle, err: number, clientHandle: ClientHandle | undefined): void {
    if (err !== 0 || clientHandle == null || (server.maxConnections > 0 && srv._connections >= server.maxConnections) ||
      typeof clientHandle.readStart !== 'function' || typeof clientHandle.useUserBuffer !== 'function') {
      nodeOnConnection.call(this, err, clientHandle);
      return;
    }
    const socket = new Socket({
      handle: clientHandle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: { buffer: READ_BUFFER, callback },
    } as ConstructorParameters<typeof Socket>[0]);
    srv._connections++;
    const s = socket as unknown as SocketInternals;
    s.server = server;
    s._server = server;
    onSocket(socket);
  };
  return true;
}
