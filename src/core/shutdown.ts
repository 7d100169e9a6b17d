// Graceful shutdown: stop accepting, drop idle keep-alive sockets, run close hooks, drain, then destroy.
import type { Server, ServerResponse } from 'node:http';
import { logError } from './error-response.js';
import type { CloseHook } from './types.js';

export interface ShutdownPlan {
  server: Server | undefined;
  hooks: readonly CloseHook[];
  inFlight: Set<ServerResponse>;
  timeout: number;
}

export async function shutdown({ server, hooks, inFlight, timeout }: ShutdownPlan): Promise<void> {
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
  await drain(inFlight, timeout);
  // Whatever is still open is past the deadline (or an idle socket freed by a finished response).
  server.closeAllConnections();
}

/** Resolves when no response is in flight (requests may still arrive on busy sockets), or at the deadline. */
async function drain(inFlight: Set<ServerResponse>, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>(resolve => (timer = setTimeout(resolve, timeout, 'late')));
  try {
    while (inFlight.size > 0) {
      const closed = [...inFlight].map(res => new Promise<void>(resolve => res.once('close', resolve)));
      if ((await Promise.race([deadline, Promise.race(closed)])) === 'late') return;
    }
  } finally {
    clearTimeout(timer);
  }
}
