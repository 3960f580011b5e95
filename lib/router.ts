// Ring-style router over a segment trie: static segments by Map lookup, then a
// `:param` child, then a `*` wildcard, with backtracking in that order. Matching
// walks the raw path once with indexOf and allocates only the params object.
import type { Handler, Request, Response } from './types.ts';
import { newParamMap } from './param-map.ts';

/** One route: a method (upper-case, or `*` for any), a path pattern and a handler. */
export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
}

/** A route, or a (nested) list of them, as accepted by `routes()` and `context()`. */
export type RouteSpec = Route | NotFoundRoute | readonly RouteSpec[];

/** The fallback built by `notFound(handler)`. */
export interface NotFoundRoute {
  readonly notFound: Handler;
}

/** A route for any method name (e.g. `route('PROPFIND', '/dav/*', h)`); `*` matches every method. */
export function route(method: string, path: string, handler: Handler): Route {
  if (method !== '*' && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`invalid method: ${JSON.stringify(method)}`);
  method = method === '*' ? '*' : method.toUpperCase();
  if (typeof path !== 'string' || path[0] !== '/') throw new TypeError(`route path must start with "/": ${String(path)}`);
  if (typeof handler !== 'function') throw new TypeError(`route handler for ${method} ${path} must be a function`);
  return { method, path, handler };
}

export const GET = (path: string, handler: Handler): Route => route('GET', path, handler);
export const POST = (path: string, handler: Handler): Route => route('POST', path, handler);
export const PUT = (path: string, handler: Handler): Route => route('PUT', path, handler);
export const PATCH = (path: string, handler: Handler): Route => route('PATCH', path, handler);
export const DELETE = (path: string, handler: Handler): Route => route('DELETE', path, handler);
export const HEAD = (path: string, handler: Handler): Route => route('HEAD', path, handler);
export const OPTIONS = (path: string, handler: Handler): Route => route('OPTIONS', path, handler);
/** Matches every method; a method-specific route on the same path wins over it. */
export const ANY = (path: string, handler: Handler): Route => route('*', path, handler);

/** The handler answering requests that match no route (default: a plain 404). */
export function notFound(handler: Handler): NotFoundRoute {
  if (typeof handler !== 'function') throw new TypeError('notFound handler must be a function');
  return { notFound: handler };
}

/** Prefixes every route in `specs` with `prefix` (e.g. `/api`, `/users/:id`). */
export function context(prefix: string, ...specs: RouteSpec[]): Route[] {
  if (typeof prefix !== 'string' || prefix[0] !== '/') throw new TypeError(`context prefix must start with "/": ${String(prefix)}`);
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const out: Route[] = [];
  for (const r of flatten(specs, [])) {
    if ('notFound' in r) throw new TypeError('notFound() belongs at the top level of routes(), not inside context()');
    out.push({ method: r.method, path: r.path === '/' && base !== '' ? base : base + r.path, handler: r.handler });
  }
  return out;
}

function flatten(specs: readonly RouteSpec[], out: (Route | NotFoundRoute)[]): (Route | NotFoundRoute)[] {
  for (const s of specs) {
    if (Array.isArray(s)) flatten(s, out);
    else out.push(s as Route | NotFoundRoute);
  }
  return out;
}

/** Handlers of one trie node, by method, plus the param names of each route. */
class Endpoint {
  readonly handlers = new Map<string, Handler>();
  readonly paramNames = new Map<string, readonly string[]>();
  /** `Allow` header value for 405 and automatic OPTIONS, computed once. */
  allow = '';
}

class Node {
  statics: Map<string, Node> | null = null;
  param: Node | null = null;
  wildcard: Endpoint | null = null;
  endpoint: Endpoint | null = null;
}

const EMPTY_PARAMS: readonly string[] = [];

/** Splits a pattern into segments; `:name` is a param, `*` or `*name` a trailing wildcard. */
function addRoute(root: Node, r: Route): void {
  const segments = r.path.slice(1).split('/');
  const names: string[] = [];
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg[0] === '*') {
      if (i !== segments.length - 1) throw new TypeError(`wildcard must be the last segment: ${r.path}`);
      names.push(seg.length > 1 ? seg.slice(1) : '*');
      node.wildcard ??= new Endpoint();
      register(node.wildcard, r, names);
      return;
    }
    if (seg[0] === ':') {
      const name = seg.slice(1);
      if (name === '') throw new TypeError(`empty param name in ${r.path}`);
      if (names.includes(name)) throw new TypeError(`duplicate param "${name}" in ${r.path}`);
      names.push(name);
      node = node.param ??= new Node();
    } else {
      const key = seg.includes('%') ? safeDecode(seg) ?? seg : seg;
      node.statics ??= new Map();
      let next = node.statics.get(key);
      if (next === undefined) node.statics.set(key, (next = new Node()));
      node = next;
    }
  }
  node.endpoint ??= new Endpoint();
  register(node.endpoint, r, names);
}

function register(ep: Endpoint, r: Route, names: string[]): void {
  // Keyed by the lower-case method, as requests carry it (Ring style).
  const key = r.method.toLowerCase();
  if (ep.handlers.has(key)) throw new TypeError(`duplicate route ${r.method === '*' ? 'ANY' : r.method} ${r.path}`);
  ep.handlers.set(key, r.handler);
  ep.paramNames.set(key, names.length === 0 ? EMPTY_PARAMS : names.slice());
  const methods = new Set<string>();
  for (const m of ep.handlers.keys()) {
    if (m === '*') for (const all of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) methods.add(all);
    else methods.add(m.toUpperCase());
    if (m === 'get') methods.add('HEAD');
  }
  methods.add('OPTIONS');
  ep.allow = [...methods].join(', ');
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Picks the handler for `method` (lower-case) at an endpoint: exact, then GET for HEAD, then ANY. */
function pick(ep: Endpoint, method: string): string | null {
  if (ep.handlers.has(method)) return method;
  if (method === 'head' && ep.handlers.has('get')) return 'get';
  if (ep.handlers.has('*')) return '*';
  return null;
}

/** Result of a trie walk; one per router, reset per request (the walk is synchronous). */
class Match {
  endpoint: Endpoint | null = null;
  key: string | null = null;
  /** Raw (still percent-encoded) param values in pattern order. */
  readonly values: string[] = [];
  /** Endpoints that matched the path but not the method (for 405 and OPTIONS). */
  others: Endpoint[] | null = null;

  reset(): void {
    this.endpoint = null;
    this.key = null;
    this.values.length = 0;
    this.others = null;
  }
}

/** Walks the trie from `node` for `path` starting at `start` (just after a `/`). */
function walk(node: Node, path: string, start: number, method: string, m: Match): boolean {
  const slash = path.indexOf('/', start);
  const end = slash === -1 ? path.length : slash;
  const last = slash === -1;
  if (node.statics !== null) {
    let seg = path.slice(start, end);
    if (seg.includes('%')) seg = safeDecode(seg) ?? seg;
    const next = node.statics.get(seg);
    if (next !== undefined && (last ? arrive(next.endpoint, method, m) : walk(next, path, end + 1, method, m))) return true;
  }
  if (node.param !== null && end > start) {
    m.values.push(path.slice(start, end));
    if (last ? arrive(node.param.endpoint, method, m) : walk(node.param, path, end + 1, method, m)) return true;
    m.values.pop();
  }
  if (node.wildcard !== null) {
    m.values.push(path.slice(start));
    if (arrive(node.wildcard, method, m)) return true;
    m.values.pop();
  }
  return false;
}

function arrive(ep: Endpoint | null, method: string, m: Match): boolean {
  if (ep === null) return false;
  const key = pick(ep, method);
  if (key === null) {
    (m.others ??= []).push(ep);
    return false;
  }
  m.endpoint = ep;
  m.key = key;
  return true;
}

/** `Allow` for a path matched by several endpoints: the union of their methods. */
function allowOf(eps: Endpoint[]): string {
  if (eps.length === 1) return eps[0]!.allow;
  const set = new Set<string>();
  for (const ep of eps) for (const m of ep.allow.split(', ')) set.add(m);
  return [...set].join(', ');
}

/** Options of `routes()`. */
export interface RouterOptions {
  /**
   * Answer OPTIONS requests that have no OPTIONS route with `204` and an `Allow`
   * header listing the path's methods. Default `true`.
   */
  autoOptions?: boolean;
}

const textPlain = 'text/plain; charset=utf-8';

function notFoundResponse(): Response {
  return { status: 404, headers: { 'content-type': textPlain }, body: 'Not Found' };
}

/**
 * Builds a handler from routes. Path params (`:id`, percent-decoded) land in
 * `req.params`, merged over any params already there; a `*` wildcard's rest of the
 * path lands in `req.params['*']` (or its name, for `*name`).
 * Unmatched paths get the `notFound` handler or a 404; a path that matches with
 * another method gets 405 with `Allow`; HEAD is served by GET routes.
 */
export function routes(...specs: RouteSpec[]): Handler;
export function routes(options: RouterOptions, ...specs: RouteSpec[]): Handler;
export function routes(...args: unknown[]): Handler {
  let options: RouterOptions = {};
  if (args.length > 0 && args[0] !== null && typeof args[0] === 'object' && !Array.isArray(args[0]) && !('method' in args[0]) && !('notFound' in args[0])) {
    options = args.shift() as RouterOptions;
  }
  const autoOptions = options.autoOptions ?? true;
  const root = new Node();
  let fallback: Handler | null = null;
  for (const r of flatten(args as RouteSpec[], [])) {
    if ('notFound' in r) {
      if (fallback !== null) throw new TypeError('routes() takes at most one notFound()');
      fallback = r.notFound;
    } else addRoute(root, r);
  }
  const missing = fallback;
  const m = new Match();

  return function router(req: Request): unknown {
    const uri = req.uri;
    let method = req.requestMethod;
    if (method.charCodeAt(0) < 97) method = method.toLowerCase(); // requests carry lower case; tolerate hand-made ones
    if (uri === '*' || uri[0] !== '/') {
      if (method === 'options' && uri === '*' && autoOptions) return { status: 204, headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }, body: null };
      return missing !== null ? missing(req) : notFoundResponse();
    }
    m.reset();
    if (walk(root, uri, 1, method, m)) {
      const ep = m.endpoint!;
      const names = ep.paramNames.get(m.key!)!;
      if (names.length > 0) {
        const params = newParamMap();
        const prev = req.params;
        if (prev !== undefined) for (const k in prev) params[k] = prev[k]!;
        for (let i = 0; i < names.length; i++) {
          const raw = m.values[i]!;
          const value = raw.includes('%') ? safeDecode(raw) : raw;
          if (value === null) return { status: 400, headers: { 'content-type': textPlain }, body: 'Bad Request: malformed percent-encoding in path' };
          params[names[i]!] = value;
        }
        req.params = params;
      }
      return ep.handlers.get(m.key!)!(req);
    }
    if (m.others !== null) {
      const allow = allowOf(m.others);
      if (method === 'options' && autoOptions) return { status: 204, headers: { allow }, body: null };
      return { status: 405, headers: { allow, 'content-type': textPlain }, body: 'Method Not Allowed' };
    }
    return missing !== null ? missing(req) : notFoundResponse();
  };
}
