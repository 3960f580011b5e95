// The fast read path for plain TCP connections. An accepted socket's handle is wrapped
// again in a net.Socket made with node's `onread` option: every read then lands in one
// shared buffer handed straight to a callback, with no Readable push, no stream state
// changes and no Buffer allocated per read. That is about a fifth of the CPU of a small
// keep-alive request, and most of the young-generation garbage of a connection burst.
//
// The price is a contract: the buffer is reused by the next read of ANY connection, so
// whatever outlives the callback must be copied (see Connection.onFastRead).
import { Socket, type Server as NetServer } from 'node:net';

/** The buffer every fast-path socket of the process reads into. Reads never nest, so one is enough. */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Called with each read: `buf` holds `nread` bytes, valid only during the call. Returning false stops reading. */
export type FastReadCallback = (this: Socket, nread: number, buf: Buffer) => boolean | void;

/** The parts of node's Socket and TCP handle this relies on. */
interface SocketInternals {
  _handle: { readStart?: unknown; readStop?: unknown; useUserBuffer?: unknown } | null;
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
 * Re-wraps `orig`, just accepted by `server` (created with `pauseOnConnect`), as a socket
 * that reads through `callback`. The new socket carries the server's connection count
 * (its destroy() decrements it, so server.close() and maxConnections work); `orig` is
 * left empty. Returns null, with `orig` untouched, when that cannot be done safely:
 * the caller then serves `orig` on the stream path.
 */
export function adoptSocket(orig: Socket, server: NetServer, callback: FastReadCallback): Socket | null {
  const o = orig as unknown as SocketInternals;
  const handle = o._handle;
  if (handle == null || o._server !== server || orig.readableFlowing !== false) return null;
  if (typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function' || typeof handle.useUserBuffer !== 'function') return null;
  if (!onreadSupported()) return null;
  o._handle = null;
  let socket: Socket;
  try {
    socket = new Socket({
      handle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: { buffer: READ_BUFFER, callback },
    } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    o._handle = handle;
    return null;
  }
  const s = socket as unknown as SocketInternals;
  s._server = server;
  s.server = server;
  o._server = null;
  o.server = null;
  return socket;
}
