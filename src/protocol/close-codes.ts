// Close status codes (RFC 6455 section 7.4) and the encoding / parsing of close frame payloads.

/** Close status codes by name (RFC 6455 section 7.4.1, 1012-1014 from the IANA registry). */
export const CloseCode = {
  /** The purpose of the connection was fulfilled. */
  Normal: 1000,
  /** An endpoint is going away: server shutdown or browser navigation. */
  GoingAway: 1001,
  /** The peer broke the protocol. */
  ProtocolError: 1002,
  /** A data type the endpoint cannot accept. */
  UnsupportedData: 1003,
  /** Reserved: never on the wire. Reported locally when a close frame carried no code. */
  NoStatus: 1005,
  /** Reserved: never on the wire. Reported locally when TCP closed without a close frame. */
  Abnormal: 1006,
  /** Message data not consistent with its type (e.g. invalid UTF-8 in a text message). */
  InvalidPayload: 1007,
  /** A message that violates the endpoint's policy. */
  PolicyViolation: 1008,
  /** A message too big to process. */
  MessageTooBig: 1009,
  /** Sent by a client: the server did not negotiate an extension it requires. */
  MandatoryExtension: 1010,
  /** The server hit an unexpected condition. */
  InternalError: 1011,
  /** The server is restarting. */
  ServiceRestart: 1012,
  /** The server is overloaded; try again later. */
  TryAgainLater: 1013,
  /** A gateway or proxy received an invalid response upstream. */
  BadGateway: 1014,
} as const;
/** One of the close codes in `CloseCode`. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The longest reason that fits a control frame: 125 bytes of payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 7.4.1 and 7.4.2, IANA registry):
 * 1000-1003 and 1007-1014 are defined; 1004 is reserved, 1005, 1006 and 1015 must never be sent;
 * 1016-2999 are reserved for future protocol use; 3000-4999 belong to libraries and applications.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}

/** UTF-8 encoder shared by close payload helpers. */
const utf8 = new TextEncoder();

/** Builds a close frame payload: 2-byte big-endian code followed by the UTF-8 reason. */
export function encodeClosePayload(code: number | undefined, reason = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const reasonBytes = utf8.encode(reason);
  const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
  payload.writeUInt16BE(code, 0);
  payload.set(reasonBytes, 2);
  return payload;
}
