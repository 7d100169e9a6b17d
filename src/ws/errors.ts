// One catalogue of the WebSocket layer's own errors and policy closes, each with a stable `code`.
import { CloseCode } from '../protocol/close-codes.js';

/** Errors thrown to the application: the base class users can test with `instanceof`, and the message. */
export const WsErrors = {
  /** A plugin option has the wrong type or range (thrown by `new WebSocketPlugin()`). */
  WS_ERR_INVALID_OPTION: { type: TypeError, message: 'invalid WebSocketPlugin option' },
  /** A method got an argument of the wrong type (app.ws path/handler, wsUse, send, wsBroadcast). */
  WS_ERR_INVALID_ARGUMENT: { type: TypeError, message: 'invalid argument' },
  /** `join('')`, or a room name that is not a string. */
  WS_ERR_INVALID_ROOM: { type: TypeError, message: 'room must be a non-empty string' },
  /** `socket.rooms` is a read-only view. */
  WS_ERR_ROOMS_READ_ONLY: { type: TypeError, message: 'socket.rooms is read-only: use join() / leave()' },
  /** `close(code)` with a code that may not be sent (RFC 6455 7.4.1). */
  WS_ERR_INVALID_CLOSE_CODE: { type: RangeError, message: 'close code may not be sent' },
  /** `close(code, reason)` with a reason that is not a string of at most 123 UTF-8 bytes (RFC 6455 5.5). */
  WS_ERR_INVALID_CLOSE_REASON: { type: RangeError, message: 'close reason too long' },
  /** `ping(data)` with more than 125 bytes (RFC 6455 5.5). */
  WS_ERR_PING_TOO_LONG: { type: RangeError, message: 'ping payload must be at most 125 bytes' },
  /** A room operation on a socket that is not OPEN (still in wsUse middleware, or closing / closed). */
  WS_ERR_NOT_OPEN: { type: Error, message: 'the socket is not open' },
  /** A wsUse middleware called `next()` a second time. */
  WS_ERR_NEXT_CALLED_TWICE: { type: Error, message: 'next() called multiple times' },
  /** `WebSocketPlugin.install()` called twice. */
  WS_ERR_ALREADY_INSTALLED: { type: Error, message: 'this plugin is already installed' },
} as const;

/** A stable code of an error the WebSocket plugin throws, e.g. `WS_ERR_NOT_OPEN`. */
export type WsErrorCode = keyof typeof WsErrors;

/** An error of the catalogue: a TypeError / RangeError / Error whose `code` names it. */
export type WsError = Error & { readonly code: WsErrorCode };

/** Builds the catalogue's error `code`, with `detail` as its message when given. */
export function wsError(code: WsErrorCode, detail?: string): WsError {
  const entry = WsErrors[code];
  const error = new entry.type(detail ?? entry.message) as Error & { code: WsErrorCode };
  error.code = code;
  return error;
}

/**
 * Why the server closes a connection on its own: the close code and reason sent to the peer and the
 * stable code written to the log line (a failed heartbeat sends no frame: TCP is destroyed).
 */
export const WsCloses = {
  /** More than `maxBackpressure` bytes waited and `backpressurePolicy` is 'close'. */
  WS_CLOSE_BACKPRESSURE: { close: CloseCode.PolicyViolation, reason: 'Backpressure limit exceeded' },
  /** A message, drain or route handler threw or rejected. */
  WS_CLOSE_HANDLER_FAILED: { close: CloseCode.InternalError, reason: 'Internal error' },
  /** A wsUse middleware threw or rejected. */
  WS_CLOSE_MIDDLEWARE_FAILED: { close: CloseCode.InternalError, reason: 'Internal error' },
  /** A text message too large for a JavaScript string (V8's limit, about 512 MiB). */
  WS_CLOSE_STRING_TOO_LONG: { close: CloseCode.MessageTooBig, reason: 'Message too big' },
  /** A peer went over `messageRate` and its policy is 'close' (RFC 6455 7.4.1: 1008, policy violation). */
  WS_CLOSE_RATE_LIMIT: { close: CloseCode.PolicyViolation, reason: 'Rate limit exceeded' },
  /** `app.close()` / `plugin.close()`. */
  WS_CLOSE_SHUTDOWN: { close: CloseCode.GoingAway, reason: 'Server shutting down' },
  /** No pong (nor any other traffic) within `pongTimeoutMs` of a ping: TCP is destroyed. */
  WS_CLOSE_PONG_TIMEOUT: { close: CloseCode.Abnormal, reason: '' },
} as const;

/** A stable code of a close the plugin initiates by policy (see `WsCloses`). */
export type WsCloseCode = keyof typeof WsCloses;

/** Why an upgrade is answered with an HTTP error instead of a 101, and the status it gets. */
export const WsRefusals = {
  WS_REFUSE_SHUTTING_DOWN: { status: 503, message: 'Server is shutting down' },
  WS_REFUSE_BAD_TARGET: { status: 400, message: 'Malformed request target' },
  WS_REFUSE_BAD_PATH: { status: 400, message: 'Malformed path' },
  WS_REFUSE_NO_ROUTE: { status: 404, message: 'No WebSocket endpoint at this path' },
  /** The transport's handshake rules failed (status and message come from the check, e.g. 426). */
  WS_REFUSE_BAD_HANDSHAKE: { status: 400, message: 'Bad WebSocket handshake' },
  WS_REFUSE_ORIGIN: { status: 403, message: 'Origin not allowed' },
  WS_REFUSE_LIMIT: { status: 503, message: 'Too many connections' },
  /** RFC 6585 4: 429 Too Many Requests, with Retry-After. */
  WS_REFUSE_CLIENT_CONNECTIONS: { status: 429, message: 'Too many connections from this client' },
  WS_REFUSE_CLIENT_RATE: { status: 429, message: 'Too many upgrades from this client' },
  /** `clientLimits.key` threw or returned something other than a string. */
  WS_REFUSE_CLIENT_KEY_FAILED: { status: 500, message: 'Client key failed' },
  WS_REFUSE_BAD_PROTOCOL: { status: 400, message: 'Malformed Sec-WebSocket-Protocol' },
  WS_REFUSE_UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  WS_REFUSE_VERIFY_FAILED: { status: 500, message: 'Client verification failed' },
  /** verifyClient did not settle within `verifyTimeoutMs`: the server could not decide in time. */
  WS_REFUSE_VERIFY_TIMEOUT: { status: 503, message: 'Client verification timed out' },
} as const;

/** A stable code of an upgrade refusal (see `WsRefusals`). */
export type WsRefusalCode = keyof typeof WsRefusals;
