// The Date header value, formatted once per second (RFC 9110 5.6.7 IMF-fixdate).

let cached = '';
let validUntil = 0;

/** Current IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(): string {
  const now = Date.now();
  if (now >= validUntil) {
    cached = new Date(now).toUTCString();
    validUntil = now - (now % 1000) + 1000;
  }
  return cached;
}
