// One call for servers: validate the upgrade request, answer it, and return the
// connection (or write the rejection and close the socket).
import type { Duplex } from 'node:stream';
import { acceptUpgrade, type AcceptOptions, type UpgradeRequest, type UpgradeRejected } from './handshake.ts';
import { WebSocket, type WebSocketOptions } from './websocket.ts';

export interface UpgradeSocketOptions extends AcceptOptions, Omit<WebSocketOptions, 'role' | 'deflate' | 'protocol' | 'perMessageDeflate'> {}

/**
 * Complete a server-side upgrade on `socket`: on success writes the 101 head and
 * returns the open WebSocket (`head` = bytes already read after the request head);
 * on failure writes the 400/403/426 response, ends the socket and returns the rejection.
 */
export function upgradeSocket(socket: Duplex, request: UpgradeRequest, options: UpgradeSocketOptions = {}, head?: Buffer): WebSocket | UpgradeRejected {
  const result = acceptUpgrade(request, options);
  if (!result.ok) {
    socket.end(result.response);
    return result;
  }
  socket.write(result.response);
  const perMessageDeflate = typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : undefined;
  return new WebSocket(socket, { ...options, perMessageDeflate, role: 'server', deflate: result.deflate, protocol: result.protocol }, head);
}
