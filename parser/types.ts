// The parser's public contract. The server (lib/), the client (client/) and the
// WebSocket handshake code are written against these types; change them only
// together with their users.

/** Fields shared by request and response heads. Set once per message. */
export interface MessageHead {
  versionMajor: number;
  versionMinor: number;
  /** Header lines in order as [name, value, name, value, ...]: names as sent, values with surrounding OWS removed. */
  rawHeaders: string[];
  /** Parsed Content-Length, or -1 when absent (or when Transfer-Encoding decides the framing). */
  contentLength: number;
  /** The body is chunked (Transfer-Encoding ends in `chunked`). */
  chunked: boolean;
  /** May the connection carry another message after this one (version + Connection tokens + framing)? */
  keepAlive: boolean;
  /**
   * Requests: `Connection: upgrade` with an `Upgrade` header in HTTP/1.1 (HTTP/1.0
   * ignores Upgrade, RFC 9110 7.8), or the CONNECT method (any version).
   * Responses: status 101 in an HTTP/1.1 exchange, or a 2xx answer to CONNECT.
   * After such a message completes the parser stops (see `Parser.upgraded`).
   */
  upgrade: boolean;
}

export interface RequestHead extends MessageHead {
  /** The method token exactly as sent (case-sensitive, e.g. `GET`). */
  method: string;
  /** The request-target exactly as sent (origin, absolute, authority or asterisk form). */
  target: string;
}

export interface ResponseHead extends MessageHead {
  statusCode: number;
  /** Reason phrase as sent (may be empty). */
  reason: string;
}

/**
 * Events of one parser. Called synchronously from `execute`. Any callback may call
 * `parser.pause()`; `execute` then returns right after that event.
 */
export interface ParserCallbacks<H extends MessageHead> {
  /** The whole header section has arrived and is valid. */
  onHead(head: H): void;
  /** Body bytes (de-chunked) as they arrive: a view into the input buffer, valid only during the call unless copied. */
  onBody(chunk: Buffer): void;
  /** The message ended. `trailers` is a rawHeaders-style array for a chunked body with trailer fields, else null. */
  onComplete(trailers: string[] | null): void;
}

/** Size limits; each overflow is its own error code. */
export interface ParserLimits {
  /** Longest request line / status line in bytes, CRLF excluded. Default 8192 (request: 414 URI Too Long). */
  maxStartLine?: number;
  /** Total bytes of the header section (all field lines), and separately of a trailer section. Default 16384 (431). */
  maxHeaderSize?: number;
  /** Most header field lines. Default 100 (431). */
  maxHeaders?: number;
  /** Longest chunk-size line (size + extensions). Default 4096 (400). */
  maxChunkLine?: number;
  /**
   * Total bytes of chunk extensions in one message, all chunks together. Default 16384
   * (413): extensions are not body bytes, so a body limit never counts them.
   */
  maxChunkExtensions?: number;
}

/** A precise parse failure: stable code, the rule it enforces, and where. */
export interface ParseErrorShape {
  /** Stable code, e.g. `HPE_INVALID_CONTENT_LENGTH`. */
  code: string;
  /** Human-readable reason naming the rule (e.g. "RFC 9112 6.3: Content-Length and Transfer-Encoding together"). */
  reason: string;
  /** Byte offset of the offending byte, counted from the first byte the parser was given (across execute calls). */
  offset: number;
  /** The HTTP status a server should answer with: 400, 413, 414, 431, 501 or 505. */
  status: number;
}
