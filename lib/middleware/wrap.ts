// Middleware are handler wrappers: a function from a handler to a handler.
import type { Handler } from '../types.ts';

/** A handler wrapper, e.g. `wrapParams`, `wrapCookies` or `(h) => wrapStatic(h, 'public')`. */
export type Middleware = (handler: Handler) => Handler;

/**
 * Composes middleware around a handler. The first middleware listed is the
 * outermost: it sees the request first and the response last, so
 * `wrap(h, a, b)` is `a(b(h))` and a request flows a -> b -> h.
 */
export function wrap(handler: Handler, ...middleware: Middleware[]): Handler {
  let h = handler;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const mw = middleware[i]!;
    if (typeof mw !== 'function') throw new TypeError(`wrap(): middleware #${i + 1} is not a function`);
    h = mw(h);
    if (typeof h !== 'function') throw new TypeError(`wrap(): middleware #${i + 1} did not return a handler`);
  }
  return h;
}
