// Helpers for middleware that look at what a handler returned, which may be a
// response map, a plain string, a Promise of either, or an opaque value (a channel).
import type { Response } from '../types.ts';

const textHtml = 'text/html; charset=utf-8';
const textPlain = 'text/plain; charset=utf-8';

/** A plain-string handler result as the response map it stands for (200 text/html). */
export function toResponse(result: unknown): Response | null {
  if (typeof result === 'string') return { status: 200, headers: { 'content-type': textHtml }, body: result };
  if (isResponseMap(result)) return result;
  return null;
}

/** True for plain objects (response maps); false for class instances such as channels. */
export function isResponseMap(x: unknown): x is Response {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/** Applies `fn` to a handler result, synchronously when it is not a Promise. */
export function mapResult(result: unknown, fn: (value: unknown) => unknown): unknown {
  return isPromiseLike(result) ? Promise.resolve(result).then(fn) : fn(result);
}

/** A small plain-text error response (4xx/5xx from middleware). */
export function errorResponse(status: number, message: string): Response {
  return { status, headers: { 'content-type': textPlain }, body: message + '\n' };
}
