// One request/response pair on a connection, and the small contract the channel API
// and the WebSocket integration use to answer through it.
import { util } from './builtins.ts';
import type { Response } from './types.ts';
import type { Connection } from './connection.ts';
import type { RingRequest } from './request-map.ts';
import { reasonPhrase } from './status.ts';

/** Marks objects the server hands their exchange to instead of writing them (channels). */
export const kRespond: unique symbol = Symbol('httpkit.respond');

export const TEXT_HEADERS = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' });

// Exchange states.
export const WAITING = 0; // handler running, or a channel not answered yet
export const READY = 1; // response known, not written yet
export const WRITING = 2; // head written, body streaming
export const DONE = 3;

import type { Abortable } from './close-status.ts';
export type { CloseStatus, Abortable } from './close-status.ts';

/** One request and its response, queued in arrival order on a connection. */
export class Exchange {
  conn: Connection;
  next: Exchange | null = null;
  req: RingRequest | null = null;
  response: Response | null = null;
  state = WAITING;
  isHead: boolean;
  http10: boolean;
  /** Both sides allow another request after this one. */
  keepAlive: boolean;
  upgrade: boolean;
  /**
   * A CONNECT request: a 2xx answer opens a tunnel (RFC 9110 9.3.6), written without
   * framing headers, its body as raw tunnel bytes, then the connection closes.
   */
  connect = false;
  /** Told once if the client leaves or the server stops before this exchange is done (channels). */
  abortee: Abortable | null = null;
  /** Answer with nothing and close the connection when its turn comes. */
  silent = false;
  /** Called (on the next tick) once the exchanges before this one are answered: a pending upgrade may take the socket then. */
  onTurn: ((ex: Exchange) => void) | null = null;

  constructor(conn: Connection, isHead: boolean, http10: boolean, keepAlive: boolean, upgrade: boolean) {
    this.conn = conn;
    this.isHead = isHead;
    this.http10 = http10;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
  }

  /** Keep console.log(req) readable. */
  [util.inspect.custom](): string {
    return '[httpkit exchange]';
  }
}



/** Short text response for protocol errors and handler failures. */
export function errorResponse(status: number): Response {
  return { status, headers: TEXT_HEADERS, body: (reasonPhrase(status) ?? 'Error') + '\n' };
}
