// Static files from a directory: ETag/Last-Modified with 304s, byte ranges with
// 206/416 (several as multipart/byteranges), Content-Type from the extension, index
// files for directories, and refusal of any path that could leave the root (.., encoded dots or slashes,
// backslashes, NUL, absolute paths, symlinks pointing outside).
import { fsPromises } from './builtins.ts';
import type { Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { FileBody, Handler, Request, Response } from './types.ts';
import { mimeType } from './mime.ts';
import { byteRangesBody, parseRanges } from './static-ranges.ts';

/** Options of `serveStatic` and `wrapStatic`. */
export interface StaticOptions {
  /** URL prefix the files are mounted under, e.g. `/assets`; stripped before lookup. Default `''` (the root). */
  prefix?: string;
  /** File served for a directory URL ending in `/`, or `false` for none. Default `'index.html'`. */
  index?: string | false;
  /** Send an ETag and answer If-None-Match and If-Match. Default `true`. */
  etag?: boolean;
  /** Send Last-Modified and answer If-Modified-Since and If-Unmodified-Since. Default `true`. */
  lastModified?: boolean;
  /** `Cache-Control: max-age` in seconds, or none when undefined. Default undefined. */
  maxAge?: number;
  /** Serve names starting with `.` (`'allow'`) or answer as if missing (`'deny'`). Default `'deny'`. */
  dotfiles?: 'allow' | 'deny';
  /** Redirect a directory URL without a trailing `/` to the one with it (301). Default `true`. */
  redirectDirectories?: boolean;
  /** Answer byte Range requests with 206 / 416. Default `true`. */
  ranges?: boolean;
}

const textPlain = 'text/plain; charset=utf-8';
const BAD_PATH = 'bad-path';

function plain(status: number, message: string, headers?: Record<string, string>): Response {
  return { status, headers: { 'content-type': textPlain, ...headers }, body: message + '\n' };
}

/**
 * The path segments of `rest` (a raw URL path starting with `/`), percent-decoded,
 * or BAD_PATH when any could address something outside the root.
 */
export function safeSegments(rest: string): string[] | typeof BAD_PATH {
  if (/[\\\0]/.test(rest)) return BAD_PATH;
  const raw = rest.split('/');
  const out: string[] = [];
  for (let i = 1; i < raw.length; i++) {
    let seg = raw[i]!;
    if (seg === '') {
      if (i === raw.length - 1) break; // trailing slash: a directory URL
      return BAD_PATH; // `//`: an absolute path after the prefix
    }
    if (seg.includes('%')) {
      try {
        seg = decodeURIComponent(seg);
      } catch {
        return BAD_PATH;
      }
    }
    // Decoded `/`, `\`, NUL; `.` and `..`; drive letters.
    if (/[/\\\0]|^\.\.?$|^[A-Za-z]:/.test(seg)) return BAD_PATH;
    out.push(seg);
  }
  return out;
}

/** Strong validator from size and mtime: `"<size hex>-<mtime ms hex>"`. */
function etagOf(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** If-None-Match uses the weak comparison (W/ ignored), If-Match the strong one. */
function etagMatches(header: string, etag: string | null, weak: boolean): boolean {
  if (header.trim() === '*') return true;
  for (const part of header.split(',')) {
    let t = part.trim();
    if (weak && t.startsWith('W/')) t = t.slice(2);
    if (t === etag) return true;
  }
  return false;
}

/** An HTTP-date (RFC 9110 section 5.6.7: IMF-fixdate, RFC 850 or asctime, all GMT) in ms; NaN for other text. */
function httpDate(v: string): number {
  return / \d\d:\d\d:\d\d (GMT|\d{4})$/.test(v) ? Date.parse(v[v.length - 1] === 'T' ? v : v + ' GMT') : NaN;
}

type Outcome = Response | null; // null: no such file

/**
 * A handler serving files under `root`. Only GET and HEAD (others get 405);
 * missing files get 404; paths that try to leave the root get 400.
 */
export function serveStatic(root: string, options: StaticOptions = {}): Handler {
  const lookup = staticLookup(root, options);
  return async function staticHandler(req: Request): Promise<Response> {
    const m = req.requestMethod;
    if (m !== 'get' && m !== 'head') return plain(405, 'Method Not Allowed', { allow: 'GET, HEAD' });
    return (await lookup(req)) ?? plain(404, 'Not Found');
  };
}

/**
 * Serves a file under `root` for GET/HEAD requests that name one, and passes every
 * other request to `handler`. Paths that try to leave the root still get 400.
 */
export function wrapStatic(handler: Handler, root: string, options: StaticOptions = {}): Handler {
  const lookup = staticLookup(root, options);
  return async function staticFallthrough(req: Request): Promise<unknown> {
    const m = req.requestMethod;
    if (m !== 'get' && m !== 'head') return handler(req);
    return (await lookup(req)) ?? handler(req);
  };
}

function staticLookup(root: string, options: StaticOptions): (req: Request) => Promise<Outcome> {
  const rootDir = resolve(root);
  let realRoot: Promise<string> | null = null;
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const index = options.index ?? 'index.html';
  const useEtag = options.etag ?? true;
  const useLastModified = options.lastModified ?? true;
  const cacheControl = options.maxAge === undefined ? undefined : `max-age=${Math.max(0, Math.floor(options.maxAge))}`;
  const allowDotfiles = options.dotfiles === 'allow';
  const redirectDirs = options.redirectDirectories ?? true;
  const ranges = options.ranges ?? true;

  return async function lookup(req: Request): Promise<Outcome> {
    const uri = req.uri;
    if (uri[0] !== '/') return null;
    let rest = uri;
    if (prefix !== '') {
      if (!uri.startsWith(prefix) || (uri.length > prefix.length && uri[prefix.length] !== '/')) return null;
      rest = uri.slice(prefix.length); // '' for the mount point itself: a directory URL without its slash
    }
    const segments = safeSegments(rest);
    if (segments === BAD_PATH) return plain(400, 'Bad Request: invalid path');
    if (!allowDotfiles && segments.some((s) => s[0] === '.')) return null;
    let path = join(rootDir, ...segments);
    if (path !== rootDir && !path.startsWith(rootDir + sep)) return plain(400, 'Bad Request: invalid path');

    let st = await statOrNull(path);
    if (st === null) return null;
    // Symlinks may point anywhere: the real path must still be under the real root
    // (checked before a directory redirect too, which would reveal the target exists).
    realRoot ??= fsPromises().realpath(rootDir).catch(() => rootDir);
    let real = await insideRoot(path, realRoot);
    if (real === null) return null;
    if (st.isDirectory()) {
      if (!rest.endsWith('/')) {
        if (!redirectDirs) return null;
        return plain(301, 'Moved Permanently', { location: uri + '/' + (req.queryString !== null ? '?' + req.queryString : '') });
      }
      if (index === false) return null;
      path = join(path, index);
      st = await statOrNull(path);
      if (st === null) return null;
      real = await insideRoot(path, realRoot);
      if (real === null) return null;
    } else if (rest.endsWith('/')) return null; // `/file.txt/` is no directory (nginx: 404)
    if (!st.isFile()) return null;

    return respond(req, real, mimeType(path), st, useEtag, useLastModified, cacheControl, ranges);
  };
}

/** The real path of `path` when it lies under the real root, else null. */
async function insideRoot(path: string, realRoot: Promise<string>): Promise<string | null> {
  const [real, base] = await Promise.all([fsPromises().realpath(path).catch(() => null), realRoot]);
  return real !== null && (real === base || real.startsWith(base + sep)) ? real : null;
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsPromises().stat(path);
  } catch {
    return null;
  }
}

function respond(req: Request, path: string, contentType: string, st: Stats, useEtag: boolean, useLastModified: boolean, cacheControl: string | undefined, ranges: boolean): Response {
  const headers: Record<string, string> = { 'content-type': contentType };
  const etag = useEtag ? etagOf(st) : null;
  const mtime = Math.floor(st.mtimeMs / 1000) * 1000;
  const lastModified = useLastModified ? new Date(mtime).toUTCString() : null;
  if (etag !== null) headers.etag = etag;
  if (lastModified !== null) headers['last-modified'] = lastModified;
  if (cacheControl !== undefined) headers['cache-control'] = cacheControl;

  // Preconditions in the order of RFC 9110 section 13.2.2: If-Match, else
  // If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304). Invalid dates are ignored.
  const { 'if-match': im, 'if-unmodified-since': ius, 'if-none-match': inm, 'if-modified-since': ims } = req.headers;
  if (im !== undefined ? !etagMatches(im, etag, false) : ius !== undefined && lastModified !== null && mtime > httpDate(ius)) {
    return plain(412, 'Precondition Failed');
  }
  if (inm !== undefined ? etagMatches(inm, etag, true) : ims !== undefined && lastModified !== null && mtime <= httpDate(ims)) {
    delete headers['content-type'];
    return { status: 304, headers, body: null };
  }

  if (ranges) headers['accept-ranges'] = 'bytes';
  const rangeHeader = ranges ? req.headers.range : undefined;
  if (rangeHeader !== undefined && ifRangeHolds(req.headers['if-range'], etag, mtime)) {
    const ranges = parseRanges(rangeHeader, st.size);
    if (ranges === 'unsatisfiable') {
      return plain(416, 'Range Not Satisfiable', { 'content-range': `bytes */${st.size}` });
    }
    if (ranges !== null && ranges.length === 1) {
      const [start, end] = ranges[0]!;
      headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
      const body: FileBody = { kind: 'file', path, start, end };
      return { status: 206, headers, body };
    }
    if (ranges !== null) {
      const multi = byteRangesBody(path, ranges, st.size, headers['content-type']!);
      headers['content-type'] = multi.contentType;
      headers['content-length'] = String(multi.length);
      return { status: 206, headers, body: multi.body };
    }
  }
  const body: FileBody = { kind: 'file', path };
  return { status: 200, headers, body };
}

/** If-Range: the range applies only if the validator still matches (strong ETag or exact date). */
function ifRangeHolds(ifRange: string | undefined, etag: string | null, mtime: number): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  return v[0] === '"' || v[0] === 'W' ? v === etag : httpDate(v) === mtime;
}
