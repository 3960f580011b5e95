// Redirect rules (RFC 9110 15.4 and the Fetch standard): which responses are followed,
// how the method and body change, and which credentials survive a change of origin.
import { isUtf8 } from 'node:buffer';
import { ClientError, ERR_INVALID_REDIRECT } from './errors.ts';

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** 301/302 turn POST into GET, 303 turns everything but GET/HEAD into GET; 307/308 keep the method. */
export function becomesGet(status: number, method: string): boolean {
  if (status === 303) return method !== 'GET' && method !== 'HEAD';
  if (status === 301 || status === 302) return method === 'POST';
  return false;
}

/** Headers that describe a request body; dropped when a redirect turns the request into a GET. */
export const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding'];

/** Credentials never sent to another origin. */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * The Location value as text. Header values are read as latin1 (one char per byte);
 * raw UTF-8 bytes in a Location (a server that did not percent-encode) are read as UTF-8,
 * as browsers do, rather than percent-encoded a second time.
 */
function locationText(location: string): string {
  if (!NON_ASCII.test(location)) return location;
  const bytes = Buffer.from(location, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : location;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The next URL: Location resolved against the current URL, fragment removed. */
export function nextUrl(location: string, base: URL): URL {
  let url: URL;
  try {
    url = new URL(locationText(location), base);
  } catch (err) {
    throw new ClientError(ERR_INVALID_REDIRECT, `invalid Location ${JSON.stringify(location)}`, err);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError(ERR_INVALID_REDIRECT, `redirect to unsupported protocol ${url.protocol}`);
  }
  url.hash = '';
  return url;
}

export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}
