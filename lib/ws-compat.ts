// The older WebSocket names as thin wrappers over WebSocket channels:
//   (req) => ifWsRequest(req, (conn) => {
//     onMesg(conn, (msg) => sendMesg(conn, msg));
//     onClose(conn, (status) => ...);
//   }, { status: 400, body: 'WebSocket only' })
// The callback runs with the channel before the handshake (sends are held until it is
// done); the wrapper returns the channel, which the handler must return.
import { asChannel, type Channel, type ChannelOptions, type CloseStatus } from './channel.ts';
import type { Request } from './types.ts';
import { WebSocketChannel } from './ws-channel.ts';

function wsChannel(conn: Channel, fn: string): WebSocketChannel {
  if (!(conn instanceof WebSocketChannel)) throw new TypeError(`${fn}: not a WebSocket channel`);
  return conn;
}

/**
 * For a WebSocket upgrade request: make its channel (with `options`, as for asChannel:
 * maxMessageSize, perMessageDeflate, ...), pass it to `fn`, return it. For any other
 * request: return `elseValue` (called with the request when a function).
 */
export function ifWsRequest<E>(req: Request, fn: (conn: WebSocketChannel) => void, elseValue: E | ((req: Request) => E), options?: ChannelOptions): WebSocketChannel | E {
  if (!req.isWebSocket) return typeof elseValue === 'function' ? (elseValue as (req: Request) => E)(req) : elseValue;
  const ch = asChannel(req, options) as WebSocketChannel;
  fn(ch);
  return ch;
}

/** ifWsRequest without an alternative: other requests get undefined (a 404 when returned). */
export function whenWsRequest(req: Request, fn: (conn: WebSocketChannel) => void, options?: ChannelOptions): WebSocketChannel | undefined {
  return ifWsRequest(req, fn, undefined, options);
}

/** Set the channel's message handler (text as string, binary as Buffer); replaces an earlier one. */
export function onMesg(conn: Channel, fn: (msg: string | Buffer) => void): void {
  wsChannel(conn, 'onMesg').onReceive = (_ch, msg) => fn(msg);
}

/** Send a text (string) or binary (Buffer) message. False when closed or over the high-water mark. */
export function sendMesg(conn: Channel, msg: string | Buffer | Uint8Array): boolean {
  return conn.send(msg, false);
}

/** Set the channel's close handler: `fn(status, code, reason)`, once; replaces an earlier one. */
export function onClose(conn: Channel, fn: (status: CloseStatus, code: number, reason: string) => void): void {
  wsChannel(conn, 'onClose').onClose = (_ch, status, code, reason) => fn(status, code, reason);
}

/** Close with `code` (default 1000) and `reason`. */
export function closeConn(conn: Channel, code?: number, reason?: string): boolean {
  return conn.close(code, reason);
}
