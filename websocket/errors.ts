// The error value a connection reports: a stable string code plus the close code sent.

export class WebSocketError extends Error {
  /** Stable code, e.g. `WS_INVALID_OPCODE`. */
  readonly code: string;
  /** Close code sent to the peer for this failure (1002, 1007, 1009, ...). */
  readonly closeCode: number;
  constructor(code: string, closeCode: number, message: string) {
    super(message);
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = closeCode;
  }
}
