// Client errors: every failure a request can resolve with carries a stable `code`.
// System errors keep Node's code (ECONNREFUSED, ECONNRESET, ENOTFOUND, TLS codes such
// as DEPTH_ZERO_SELF_SIGNED_CERT); everything the client detects itself uses one below.

export const ERR_INVALID_URL = 'ERR_INVALID_URL';
export const ERR_UNSUPPORTED_PROTOCOL = 'ERR_UNSUPPORTED_PROTOCOL';
export const ERR_INVALID_METHOD = 'ERR_INVALID_METHOD';
export const ERR_INVALID_HEADER = 'ERR_INVALID_HEADER';
export const ERR_INVALID_OPTION = 'ERR_INVALID_OPTION';
export const ERR_INVALID_BODY = 'ERR_INVALID_BODY';
export const ERR_CONNECT_TIMEOUT = 'ERR_CONNECT_TIMEOUT';
export const ERR_IDLE_TIMEOUT = 'ERR_IDLE_TIMEOUT';
export const ERR_TIMEOUT = 'ERR_TIMEOUT';
export const ERR_ABORTED = 'ERR_ABORTED';
export const ERR_TOO_MANY_REDIRECTS = 'ERR_TOO_MANY_REDIRECTS';
export const ERR_INVALID_REDIRECT = 'ERR_INVALID_REDIRECT';
export const ERR_BODY_TOO_LARGE = 'ERR_BODY_TOO_LARGE';
export const ERR_DECOMPRESS = 'ERR_DECOMPRESS';
export const ERR_PROTOCOL = 'ERR_PROTOCOL';
export const ERR_PREMATURE_CLOSE = 'ERR_PREMATURE_CLOSE';
export const ERR_SOCKET = 'ERR_SOCKET';
export const ERR_TLS = 'ERR_TLS';
export const ERR_PROXY = 'ERR_PROXY';
export const ERR_CLIENT_CLOSED = 'ERR_CLIENT_CLOSED';
export const ERR_CALLBACK = 'ERR_CALLBACK';
export const ERR_INVALID_JSON = 'ERR_INVALID_JSON';
export const ERR_UNEXPECTED_UPGRADE = 'ERR_UNEXPECTED_UPGRADE';

/** Every error code a response's `error.code` can carry, by name. */
export const errorCodes = Object.freeze({
  ERR_INVALID_URL,
  ERR_UNSUPPORTED_PROTOCOL,
  ERR_INVALID_METHOD,
  ERR_INVALID_HEADER,
  ERR_INVALID_OPTION,
  ERR_INVALID_BODY,
  ERR_CONNECT_TIMEOUT,
  ERR_IDLE_TIMEOUT,
  ERR_TIMEOUT,
  ERR_ABORTED,
  ERR_TOO_MANY_REDIRECTS,
  ERR_INVALID_REDIRECT,
  ERR_BODY_TOO_LARGE,
  ERR_DECOMPRESS,
  ERR_PROTOCOL,
  ERR_PREMATURE_CLOSE,
  ERR_SOCKET,
  ERR_TLS,
  ERR_PROXY,
  ERR_CLIENT_CLOSED,
  ERR_CALLBACK,
  ERR_INVALID_JSON,
  ERR_UNEXPECTED_UPGRADE,
});

/** An error the client resolves a request with. `code` is always a non-empty string. */
export class ClientError extends Error {
  readonly code: string;
  /** For ERR_PROTOCOL: the parser's own code (e.g. `HPE_INVALID_STATUS`). */
  readonly parserCode: string | undefined;
  constructor(code: string, message: string, cause?: unknown, parserCode?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ClientError';
    this.code = code;
    this.parserCode = parserCode;
  }
}

/** Gives any thrown value a non-empty string `code` (system and TLS errors keep theirs). */
export function toClientError(err: unknown, fallbackCode: string): Error & { code: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return err as Error & { code: string };
    try {
      Object.defineProperty(err, 'code', { value: fallbackCode, enumerable: true, configurable: true, writable: true });
      return err as Error & { code: string };
    } catch {
      return new ClientError(fallbackCode, err.message, err);
    }
  }
  return new ClientError(fallbackCode, String(err), err);
}
