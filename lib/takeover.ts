// A handler takes the raw socket of an upgrade or CONNECT request away from HTTP (the
// hook WebSocket channels use too). Its own module: the published declarations then
// carry this signature and not the connection's internals.
import type { Socket } from 'node:net';
import { exchangeOf, type SocketOwner } from './connection.ts';

/**
 * Take the raw socket of an upgrade request (`req.isWebSocket`, any HTTP/1.1 request
 * whose head asked for an upgrade, or a CONNECT) away from the HTTP connection, before
 * any response was written for it. (A CONNECT answered with a plain 2xx response map
 * instead gets a tunnel head without framing fields, its body as raw bytes, then the
 * close: RFC 9110 9.3.6.) Returns the socket (paused, no HTTP listeners left but an 'error'
 * logger) and the bytes that arrived after the request head (`head`, maybe empty; the
 * caller's own copy), or null when the request is not an upgrade, is not the next to
 * answer, or the client is gone. The caller owns the socket from then on: it writes
 * the 101 (a CONNECT: the 2xx), adds its own 'error' listener and calls socket.resume(). `server.connections`
 * still counts it until it closes; `stop()` calls `onGoingAway` (so a WebSocket can
 * send its 1001 close) and destroys the socket when the stop timeout ends.
 *
 * Reading goes one of two ways:
 * - Without `onRead`, the socket is an ordinary stream: 'data' listeners, pipe() and
 *   async iteration see every byte, in Buffers the caller owns.
 * - With `onRead`, every later read is passed to `onRead(buf)` (add no 'data'
 *   listener; 'end', 'error' and 'close' still come as events). On the
 *   fast read path (plain TCP, `fastRead` on) `buf` is BORROWED: a view of a read
 *   buffer shared by all connections, valid only until onRead returns; the next read
 *   of any socket overwrites it. Copy whatever must outlive the call (a partial frame,
 *   a payload kept for later). Under TLS, PROXY protocol or `fastRead: false`, `buf`
 *   is a fresh Buffer, but relying on that is a bug. socket.pause() and resume() still
 *   stop and restart the calls. An exception thrown by onRead is logged through
 *   errorLogger and destroys the socket.
 */
export function takeOverSocket(req: object, onGoingAway?: () => void, onRead?: (buf: Buffer) => void): { socket: Socket; head: Buffer } | null {
  const ex = exchangeOf(req);
  if (ex === null) return null;
  const owner: SocketOwner = {};
  if (onRead !== undefined) owner.read = onRead;
  if (onGoingAway !== undefined) owner.abort = (status) => status === 'going-away' && onGoingAway();
  return ex.conn.detach(ex, owner);
}
