// asyncResponse(respond => ...): answer later through a stored `respond` callback.
import type { Response } from './types.ts';
import { kRespond, type Exchange } from './connection.ts';
import { WAITING } from './exchange.ts';
import { util } from './builtins.ts';

const debug = util.debuglog('httpkit');

/** Answers the request; later calls, and calls after the client left, do nothing. */
export type Respond = (response: Response | string) => void;

/** Gets `respond`; may be async. A throw or a rejection before answering is a 500 (after: only reported to errorLogger). */
export type AsyncStart = (respond: Respond) => void;

class AsyncResponse {
  private readonly start: AsyncStart;

  constructor(start: AsyncStart) {
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
      const r = this.start(respond) as unknown;
      if (r instanceof Promise) r.catch((err: unknown) => failed(ex, err));
    } catch (err) {
      failed(ex, err);
    }
  }
}

/** `start` failed: a 500 while unanswered, else (answered, or the client left) only the report. */
function failed(ex: Exchange, err: unknown): void {
  if (ex.state === WAITING) ex.conn.fail(ex, err);
  else ex.conn.ctx.errorLogger(err, ex.req ?? undefined);
}

/**
 * Return this from a handler to answer later: `start(respond)` runs at once and may
 * keep `respond` to call from any callback, timer or promise.
 */
export function asyncResponse(start: AsyncStart): object {
  return new AsyncResponse(start);
}
