// The one list of llhttp fixture cases the conformance runner does not hold us to, each
// with the reason. Keys are case ids as printed by the runner ("<file>: <heading>").

/** Cases of llhttp's opt-in lenient modes: a strict parser need not accept what they accept. */
export function lenientReason(file: string, type: string): string | null {
  if (/\/lenient-/.test(file)) return 'llhttp lenient-mode fixture file';
  if (type.includes('lenient')) return `llhttp lenient mode (${type})`;
  return null;
}

const OTHER_PROTOCOL = 'RTSP/ICE are not HTTP: only "HTTP/" versions are accepted (RFC 9112 2.3)';
const ANY_TOKEN_METHOD = 'any token is a method (RFC 9110 9.1); llhttp accepts only its own method list';

export const SKIPS: Record<string, string> = {
  'request/invalid.md: Invalid method': ANY_TOKEN_METHOD,
  'request/invalid.md: HTTP protocol and ANNOUNCE method': ANY_TOKEN_METHOD,
  'request/method.md: SOURCE request with ICE': OTHER_PROTOCOL,
  'request/method.md: OPTIONS request with RTSP': OTHER_PROTOCOL,
  'request/method.md: ANNOUNCE request with RTSP': OTHER_PROTOCOL,
  'response/sample.md: RTSP response': OTHER_PROTOCOL,
  'response/sample.md: ICE response': OTHER_PROTOCOL,
  'request/method.md: PRI request HTTP2':
    'the HTTP/2 preface is not special-cased: "PRI * HTTP/2.0" gets 505, and these bytes are a PRI request followed by garbage',
  'request/sample.md: No HTTP version': 'HTTP/0.9 simple requests (no version) are not supported; the request-line needs a version (RFC 9112 3)',
  'response/sample.md: HTTP version 0.9': 'only HTTP/1.x is spoken: other major versions get 505 (RFC 9110 2.5)',
  'request/content-length.md: Content-Length reset when no body is received':
    "llhttp's skipBody callback result has no request-side equivalent (responses map it to requestMethod = 'HEAD')",
};

export function skipReason(id: string, file: string, type: string): string | null {
  return lenientReason(file, type) ?? SKIPS[id] ?? null;
}
