// The PENDING phase: the wsUse chain runs with a real `next`, then the connection opens with its route handler.
import type { IncomingMessage } from 'node:http';
import type { Connection } from '../connection/connection.js';
import { State } from '../connection/lifecycle.js';
import { wsError } from '../errors.js';
import type { WebSocketHub } from '../hub.js';
import { onRejection } from '../settle.js';
import type { WSConnection } from '../types.js';

/**
 * Each middleware gets the socket (readyState 0: it may send and close, not join rooms), the request
 * and `next`. A middleware that closes the socket ends the chain; one that throws or rejects closes it
 * with 1011 (WS_CLOSE_MIDDLEWARE_FAILED); calling `next()` twice throws WS_ERR_NEXT_CALLED_TWICE.
 */
export function runMiddleware(
  hub: WebSocketHub,
  connection: Connection,
  req: IncomingMessage,
  handler: (socket: WSConnection) => void
): void {
  const chain = hub.middleware;
  // Without middleware the connection opens at once (open() itself checks the state).
  if (chain.length === 0) {
    connection.open(handler);
    return;
  }
  const failed = (error: unknown): void => connection.handlerFailed(error, 'WS_CLOSE_MIDDLEWARE_FAILED');
  const step = (index: number): void => {
    if (connection.state !== State.Pending) return;
    if (index === chain.length) {
      connection.open(handler);
      return;
    }
    let called = false;
    const next = (): void => {
      if (called) throw wsError('WS_ERR_NEXT_CALLED_TWICE');
      called = true;
      step(index + 1);
    };
    try {
      onRejection(chain[index](connection.socket, req, next), failed);
    } catch (error) {
      failed(error);
    }
  };
  step(0);
}
