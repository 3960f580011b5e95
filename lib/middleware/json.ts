// JSON request bodies (req.json) and a JSON response helper.
import type { Handler, Request, Response } from '../types.ts';
import { errorResponse } from './result.ts';
import { charsetOf, mediaTypeOf } from './urlencoded.ts';

/** Options of `wrapJson`. */
export interface JsonOptions {
  /** Passed to `JSON.parse` as its reviver. Default none. */
  reviver?: (this: unknown, key: string, value: unknown) => unknown;
}

/** True for `application/json` and any `+json` media type (e.g. `application/ld+json`). */
export function isJsonType(contentType: string | null | undefined): boolean {
  const t = mediaTypeOf(contentType);
  return t === 'application/json' || (t.endsWith('+json') && t.startsWith('application/'));
}

let utf8: InstanceType<typeof globalThis.TextDecoder> | undefined;

/**
 * Parses a JSON body into `req.json` when the Content-Type is JSON; answers 400 when
 * it does not parse or is not UTF-8, 415 when its Content-Type names another charset. Other content types, and empty bodies, leave `req.json` undefined.
 */
export function wrapJson(handler: Handler, options: JsonOptions = {}): Handler {
  const reviver = options.reviver;
  return function jsonHandler(req: Request): unknown {
    const body = req.body;
    const type = req.contentType ?? req.headers['content-type'];
    if (body !== null && body.length > 0 && isJsonType(type)) {
      // JSON has no charset parameter (RFC 8259 section 11): one other than UTF-8 announces bytes we cannot read.
      const charset = charsetOf(type);
      if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') return errorResponse(415, `Unsupported Media Type: charset ${charset}`);
      try {
        // JSON text is UTF-8 (RFC 8259 section 8.1): invalid bytes are a malformed body,
        // not U+FFFD; the decoder drops a leading BOM.
        req.json = JSON.parse((utf8 ??= new TextDecoder('utf-8', { fatal: true })).decode(body), reviver);
      } catch (err) {
        return errorResponse(400, `Bad Request: malformed JSON body (${(err as Error).message})`);
      }
    }
    return handler(req);
  };
}

/** A response map with `value` as a JSON body (`application/json; charset=utf-8`). */
export function json(value: unknown, status = 200, headers: Response['headers'] = {}): Response {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}
