// One catalogue of protocol errors: each has a stable machine code and the close code it maps to.
import { CloseCode } from './close-codes.js';

/** Every protocol error by stable code: the close code it fails the connection with, and a message. */
export const ProtocolErrors = {
  WS_ERR_UNMASKED_FRAME: { close: CloseCode.ProtocolError, message: 'client frames must be masked' },
  WS_ERR_UNEXPECTED_RSV: {
    close: CloseCode.ProtocolError,
    message: 'RSV bits set without a negotiated extension',
  },
  WS_ERR_RESERVED_OPCODE: { close: CloseCode.ProtocolError, message: 'reserved opcode' },
  WS_ERR_FRAGMENTED_CONTROL: {
    close: CloseCode.ProtocolError,
    message: 'control frames must not be fragmented',
  },
  WS_ERR_CONTROL_TOO_LONG: {
    close: CloseCode.ProtocolError,
    message: 'control frame payload over 125 bytes',
  },
  WS_ERR_UNEXPECTED_CONTINUATION: {
    close: CloseCode.ProtocolError,
    message: 'continuation frame without a message in progress',
  },
  WS_ERR_EXPECTED_CONTINUATION: {
    close: CloseCode.ProtocolError,
    message: 'new data frame while a fragmented message is in progress',
  },
  WS_ERR_INVALID_CLOSE_PAYLOAD: { close: CloseCode.ProtocolError, message: 'close frame payload of 1 byte' },
  WS_ERR_INVALID_CLOSE_CODE: {
    close: CloseCode.ProtocolError,
    message: 'close code not allowed on the wire',
  },
  WS_ERR_INVALID_UTF8: { close: CloseCode.InvalidPayload, message: 'invalid UTF-8 in text message' },
  WS_ERR_INVALID_CLOSE_REASON: { close: CloseCode.InvalidPayload, message: 'invalid UTF-8 in close reason' },
  WS_ERR_INVALID_COMPRESSED_DATA: {
    close: CloseCode.InvalidPayload,
    message: 'compressed message did not inflate',
  },
  WS_ERR_MESSAGE_TOO_BIG: { close: CloseCode.MessageTooBig, message: 'message exceeds maxMessageSize' },
  WS_ERR_TEXT_TOO_BIG: {
    close: CloseCode.MessageTooBig,
    message: 'text message longer than a JavaScript string can hold (MAX_TEXT_MESSAGE_BYTES)',
  },
  WS_ERR_INVALID_LENGTH: {
    close: CloseCode.ProtocolError,
    message: 'most significant bit of a 64-bit payload length is set',
  },
  WS_ERR_LENGTH_OVERFLOW: { close: CloseCode.MessageTooBig, message: 'frame length above 2^53 - 1' },
} as const;

/** A stable protocol error code such as `WS_ERR_INVALID_UTF8`. */
export type ProtocolErrorCode = keyof typeof ProtocolErrors;

/** A violation of RFC 6455 by the peer. The connection fails with `closeCode`. */
export class ProtocolError extends Error {
  /** Stable machine-readable code, e.g. `WS_ERR_UNMASKED_FRAME`. */
  readonly code: ProtocolErrorCode;
  /** The close code the connection fails with (1002, 1007 or 1009). */
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode) {
    super(ProtocolErrors[code].message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = ProtocolErrors[code].close;
  }
}
