// Graceful shutdown: stop accepting, drop idle keep-alive sockets, run close hooks, drain, then destroy.
import type { Server } from 'node:http';
import { logError } from './error-response.js';
import type { SessionTracker } from './http2.js';
import type { CloseHook } from './types.js';

/** A response (or an upgrade socket still in the middleware chain) that emits 'close' once, when done. */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
  destroy(): unknown;
}

/**
 * What is in flight. One 'close' listener per item for its whole life, and one waiter list for drain:
 * waiting costs nothing per item and per pass (a listener per item per pass was O(N²) and tripped
 * MaxListenersExceededWarning).
 */
export class InFlight {
  private readonly items = new Set<Closable>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.items.size;
  }

  add(item: Closable): void {
    this.items.add(item);
    item.once('close', () => this.delete(item));
  }

  /** Stops tracking `item` (its owner changed, e.g. an upgrade socket handed to a protocol). */
  delete(item: Closable): void {
    if (!this.items.delete(item) || this.items.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.items.size === 0) return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  destroyAll(): void {
    for (const item of this.items) item.destroy();
  }
}

export interface ShutdownPlan {
  server: Server | undefined;
  hooks: readonly CloseHook[];
  inFlight: InFlight;
  timeout: number;
  /** The HTTP/2 sessions of the server, when it speaks HTTP/2. */
  sessions?: SessionTracker | undefined;
}

export async function shutdown({ server, hooks, inFlight, timeout, sessions }: ShutdownPlan): Promise<void> {
  if (server) {
    server.close(() => {});
    server.closeIdleConnections();
  }
  for (const hook of hooks) {
    try {
      await hook();
    } catch (err) {
      logError(err, 'close hook failed');
    }
  }
  if (!server) return;
  // HTTP/2: the WebSockets got 1001 in the hooks; now GOAWAY, and each session ends with its last stream.
  const goaway = sessions?.closeAll(timeout);
  await drain(inFlight, timeout);
  // Whatever is still open is past the deadline (or an idle socket freed by a finished response).
  inFlight.destroyAll();
  await goaway;
  // An HTTP/2 server has no closeAllConnections(); its HTTP/1.1 sockets end with their last response.
  if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
}

/** Resolves when no response is in flight (requests may still arrive on busy sockets), or at the deadline. */
async function drain(inFlight: InFlight, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>(resolve => (timer = setTimeout(resolve, timeout)));
  try {
    await Promise.race([deadline, inFlight.idle()]);
  } finally {
    clearTimeout(timer);
  }
}
