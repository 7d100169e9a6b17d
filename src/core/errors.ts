// The one catalogue of HTTP errors: HttpError plus the framework's own errors with stable codes.
import { STATUS_CODES } from 'node:http';

/** Options of `new HttpError()`: code, exposure to the client, extra headers, cause. */
export interface HttpErrorOptions {
  /** Stable machine-readable code, e.g. `ERR_NOT_FOUND`. */
  code?: string;
  /** Whether the message may be shown to the client (default: status < 500). */
  expose?: boolean;
  /** Extra response headers, e.g. `Allow` for a 405. */
  headers?: Record<string, string>;
  /** The underlying error, kept as `error.cause` (never sent to the client). */
  cause?: unknown;
}

/** An error that carries an HTTP status; messages of statuses below 500 reach the client. */
export class HttpError extends Error {
  /** HTTP status, 400-599 (anything else becomes 500). */
  readonly status: number;
  /** Whether the message is sent to the client (default: status < 500). */
  readonly expose: boolean;
  /** Stable machine-readable code, e.g. `ERR_NOT_FOUND`, sent in the error body. */
  readonly code: string | undefined;
  /** Extra response headers sent with the error response. */
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, message?: string, options: HttpErrorOptions = {}) {
    const valid = Number.isInteger(status) && status >= 400 && status <= 599;
    const code = valid ? status : 500;
    super(
      message ?? STATUS_CODES[code] ?? 'Error',
      options.cause === undefined ? {} : { cause: options.cause }
    );
    this.name = 'HttpError';
    this.status = code;
    this.expose = options.expose ?? code < 500;
    this.code = options.code;
    this.headers = options.headers;
  }
}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}

/** The framework's own errors. Codes are stable; messages are safe for clients. */
export const Errors = {
  notFound: (path: string) => new HttpError(404, `Cannot find ${path}`, { code: 'ERR_NOT_FOUND' }),
  methodNotAllowed: (method: string, allow: string) =>
    new HttpError(405, `Method ${method} not allowed`, {
      code: 'ERR_METHOD_NOT_ALLOWED',
      headers: { Allow: allow },
    }),
  badTarget: () => new HttpError(400, 'Malformed request target', { code: 'ERR_BAD_TARGET' }),
  malformedPath: () => new HttpError(400, 'Malformed URL escape in path', { code: 'ERR_MALFORMED_PATH' }),
  invalidJson: (detail: string) =>
    new HttpError(400, `Invalid JSON body: ${detail}`, { code: 'ERR_INVALID_JSON' }),
  bodyTooLarge: (limit: number) =>
    new HttpError(413, `Request body exceeds ${limit} bytes`, { code: 'ERR_BODY_TOO_LARGE' }),
  bodyAborted: () => new HttpError(400, 'Request body was aborted', { code: 'ERR_BODY_ABORTED' }),
  unsupportedEncoding: (encoding: string) =>
    new HttpError(415, `Unsupported content encoding: ${encoding}`, { code: 'ERR_UNSUPPORTED_ENCODING' }),
  nextCalledTwice: () => new Error('next() called multiple times'),
  /** A `listen()` option of the wrong type or range; thrown before any server is made. */
  invalidOption: (message: string) =>
    Object.assign(new TypeError(message), { code: 'ERR_INVALID_OPTION' as const }),
  noResponse: () =>
    new HttpError(500, 'The handler finished without sending a response', { code: 'ERR_NO_RESPONSE' }),
  serviceUnavailable: () => new HttpError(503, 'Server is shutting down', { code: 'ERR_SHUTTING_DOWN' }),
} as const;
