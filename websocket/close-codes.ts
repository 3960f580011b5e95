// Close status codes (RFC 6455 7.4) and the rules for what may travel on the wire.

/** Well-known close codes. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  /** Reported locally when the close frame carried no code; never sent. */
  NO_STATUS: 1005,
  /** Reported locally when the connection ended without a close frame; never sent. */
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  /** Reported locally on a TLS failure; never sent. */
  TLS_HANDSHAKE: 1015,
} as const;

/**
 * May this code appear in a close frame? 1000-1003 and 1007-1014 are defined by the
 * IANA registry; 3000-4999 belong to libraries and applications. 1004 is reserved and
 * 1005, 1006, 1015 are local-only, so all of those and anything else is a protocol error.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Longest close reason: a control frame payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;
