// asyncResponse(respond => ...): answer later through a stored `respond` callback.
import type { Response } from './types.ts';
import { kRespond, type Exchange } from './connection.ts';
import { util } from './builtins.ts';

const debug = util.debuglog('httpkit');

/** Answers the request; later calls, and calls after the client left, do nothing. */
export type Respond = (response: Response | string) => void;

class AsyncResponse {
  private readonly start: (respond: Respond) => void;

  constructor(start: (respond: Respond) => void) {
    this.start = start;
  }

  /** @internal the server calls it when the handler returned this. */
  [kRespond](ex: Exchange): void {
    const conn = ex.conn;
    const respond: Respond = (response) => {
      // Too late (the client left, or answered already): dropped, seen only with NODE_DEBUG.
      if (conn.closed) debug('asyncResponse answered after the client left; dropped');
      conn.settle(ex, response);
    };
    try {
      this.start(respond);
    } catch (err) {
      conn.fail(ex, err);
    }
  }
}

/**
 * Return this from a handler to answer later: `start(respond)` runs at once and may
 * keep `respond` to call from any callback, timer or promise.
 */
export function asyncResponse(start: (respond: Respond) => void): object {
  return new AsyncResponse(start);
}
