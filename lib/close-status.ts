// Types a channel and the exchange it answers share. Kept apart from exchange.ts so the
// public channel declarations do not reach the connection's internals.

/**
 * Why a channel closed: the client went away, the application closed it, the server is
 * stopping, or its timeout passed. WebSocket channels add their close reasons.
 */
export type CloseStatus = 'client-close' | 'server-close' | 'going-away' | 'timeout' | 'normal' | 'protocol-error' | 'error';

/** Told once when its exchange ends without being answered normally (channels, hand-overs). */
export interface Abortable {
  abort(status: CloseStatus): void;
}
