// Dispatches HTTP upgrade requests to the plugins' handlers; unclaimed ones get a real HTTP error.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { logError } from './error-response.js';
import type { UpgradeHandler } from './types.js';

/** Writes a minimal HTTP error on a raw socket and closes it; a silent client cannot keep it open. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {}
): void {
  socket.on('error', () => {});
  if (socket.destroyed) return;
  const body = `${message}\n`;
  let extra = '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** Node's default header-pair limit (server.maxHeadersCount); header lines past it are silently dropped. */
const NODE_MAX_HEADER_PAIRS = 1000;

export function createUpgradeListener(
  handlers: readonly UpgradeHandler[],
  isClosing: () => boolean,
  maxHeaderPairs: () => number | null = () => null
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if (isClosing()) return rejectUpgrade(socket, 503, 'Server is shutting down');
    // At the limit, Node may have dropped header lines (Upgrade among them): judge no truncated request.
    if (req.rawHeaders.length / 2 >= (maxHeaderPairs() || NODE_MAX_HEADER_PAIRS)) {
      return rejectUpgrade(socket, 431, 'Too many header fields');
    }
    for (const handler of handlers) {
      let claimed: boolean;
      try {
        claimed = handler(req, socket, head);
      } catch (err) {
        logError(err, `upgrade handler failed for ${req.url ?? ''}`);
        return rejectUpgrade(socket, 500, 'Internal Server Error');
      }
      if (claimed) return;
    }
    rejectUpgrade(socket, 404, 'No upgrade handler for this path');
  };
}
