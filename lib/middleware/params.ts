// Query-string and urlencoded-form parameters: req.queryParams, req.formParams and
// req.params (query, then form, then params already there such as path params).
import type { Handler, Request } from '../types.ts';
import { errorResponse } from './result.ts';
import { charsetOf, mediaTypeOf, newParamMap, parseUrlEncoded, TooManyParamsError, type ParamMap } from './urlencoded.ts';

/** Options of `wrapParams`. */
export interface ParamsOptions {
  /** Charset for query strings and for forms whose Content-Type names none. Default `'utf-8'`. */
  encoding?: string;
  /** Most `key=value` pairs accepted in the query and in the form, each; more gives 413. Default `1000`. */
  maxParams?: number;
}

/** Adds `queryParams`, `formParams` and merged `params` to the request. */
export interface ParamsRequest extends Request {
  queryParams: ParamMap;
  formParams: ParamMap;
  params: ParamMap;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Parses the query string and an `application/x-www-form-urlencoded` body.
 * Repeated keys become arrays; `+` is a space; malformed `%` escapes are kept as
 * text. Path params set by the router before this runs win over query and form.
 */
export function wrapParams(handler: Handler, options: ParamsOptions = {}): Handler {
  const encoding = (options.encoding ?? 'utf-8').toLowerCase();
  const maxParams = options.maxParams ?? 1000;
  return function paramsHandler(req: Request): unknown {
    let query: ParamMap;
    let form: ParamMap;
    try {
      query = req.queryString ? parseUrlEncoded(req.queryString, encoding, maxParams) : newParamMap();
      form =
        req.body !== null && req.body.length > 0 && mediaTypeOf(req.contentType ?? req.headers['content-type']) === FORM
          ? parseUrlEncoded(req.body.toString('latin1'), charsetOf(req.contentType ?? req.headers['content-type']) ?? encoding, maxParams)
          : newParamMap();
    } catch (err) {
      if (err instanceof TooManyParamsError) return errorResponse(413, `Payload Too Large: ${err.message}`);
      throw err;
    }
    const merged = newParamMap();
    for (const k in query) merged[k] = query[k]!;
    for (const k in form) merged[k] = form[k]!;
    const path = req.params;
    if (path !== undefined) for (const k in path) merged[k] = path[k]!;
    req.queryParams = query;
    req.formParams = form;
    req.params = merged;
    return handler(req);
  };
}
