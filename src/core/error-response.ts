// The single error path: every thrown or rejected error of a request becomes one JSON error response.
import type { ServerResponse } from 'node:http';
import { isHttpError } from './errors.js';

/** Body of every error response. */
export interface ErrorBody {
  /** The status, a message safe for the client, and the error's stable `code` when it has one. */
  error: { status: number; message: string; code?: string };
}

/** Logs what the client must not see; statuses below 500 are the client's doing and stay quiet. */
export function logError(err: unknown, where: string): void {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`[nextrush] ${where}: ${detail}\n`);
}

/**
 * Answers `err` on `res`. `unreadBody` says the request body was not read (the chain refused it first):
 * the connection then closes after the answer instead of reading the body to reuse it.
 */
export function sendError(res: ServerResponse, err: unknown, where: string, unreadBody = false): void {
  if (res.headersSent) {
    // The status line is gone; the only honest signal left is an incomplete response.
    if (!res.writableEnded) res.destroy();
    logError(err, where);
    return;
  }
  const http = isHttpError(err);
  const status = http ? err.status : 500;
  if (status >= 500) logError(err, where);
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  if (http && err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  const body: ErrorBody = {
    error: { status, message: http && err.expose ? err.message : 'Internal Server Error' },
  };
  if (http && err.code !== undefined) body.error.code = err.code;
  const payload = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  // After 413, or a refusal before the body was read, the body is still on the wire: closing is
  // cheaper than reading it (Node would drain it to reuse a keep-alive connection).
  // HTTP/2 has no Connection header (RFC 9113 §8.2.2); its stream is answered and ends on its own.
  if ((status === 413 || unreadBody) && res.req.httpVersionMajor !== 2) res.setHeader('Connection', 'close');
  res.end(payload);
}
