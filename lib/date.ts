// The Date header value, formatted once per second (RFC 9110 5.6.7 IMF-fixdate).

let cached = '';
let validUntil = 0;

/** IMF-fixdate of `now` (default: the current time), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(now = Date.now()): string {
  if (now >= validUntil) {
    cached = new Date(now).toUTCString();
    validUntil = now - (now % 1000) + 1000;
  }
  return cached;
}
