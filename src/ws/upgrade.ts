// The upgrade path: path -> handshake -> origin -> connection limit -> verifyClient -> 101 -> middleware -> handler.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteMatch } from '../core/router.js';
import { rejectUpgrade } from '../core/upgrade.js';
import { CloseCode } from '../protocol/close-codes.js';
import {
  checkHandshake,
  isWebSocketUpgrade,
  requestTargetPath,
  parseProtocolList,
  switchingProtocolsResponse,
} from '../protocol/handshake.js';
import { negotiateDeflate } from '../protocol/extensions.js';
import { ReadyState, WebSocketConnection } from './connection.js';
import type { WebSocketHub } from './hub.js';
import { originAllowed } from './options.js';
import { onRejection } from './settle.js';
import type { RefusalReason, WSHandler } from './types.js';

function refuse(
  hub: WebSocketHub,
  socket: Duplex,
  reason: RefusalReason,
  status: number,
  message: string,
  headers?: Record<string, string>
): true {
  hub.refuse(reason);
  if (hub.options.debug) hub.log('debug', 'upgrade refused', { reason, status, message });
  rejectUpgrade(socket, status, message, headers);
  return true;
}

function findRoute(hub: WebSocketHub, path: string): RouteMatch<WSHandler> | null | undefined {
  try {
    return hub.routes.find(path);
  } catch {
    return undefined; // a malformed %-escape in a parameter
  }
}

/** Picks the subprotocol: undefined for none, false for a malformed offer. */
function chooseProtocol(hub: WebSocketHub, req: IncomingMessage): string | undefined | false {
  const offered = parseProtocolList(req.headers['sec-websocket-protocol']);
  if (offered === undefined) return false;
  const configured = hub.options.protocols;
  if (configured === undefined || offered.length === 0) return undefined;
  if (typeof configured === 'function') {
    const picked = configured(offered, req);
    return typeof picked === 'string' && offered.includes(picked) ? picked : undefined;
  }
  return configured.find(p => offered.includes(p));
}

/**
 * Handles one HTTP upgrade request. Returns false for upgrades to other protocols (the app answers
 * those); otherwise answers it, with a 101 or an HTTP error, and returns true. Never throws.
 */
export function handleUpgrade(
  hub: WebSocketHub,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer
): boolean {
  if (!isWebSocketUpgrade(req.headers)) return false;
  if (hub.closing) return refuse(hub, socket, 'closing', 503, 'Server is shutting down');

  const url = req.url ?? '/';
  const path = requestTargetPath(url);
  if (path === undefined) return refuse(hub, socket, 'path', 400, 'Malformed request target');
  const route = findRoute(hub, path);
  if (route === undefined) return refuse(hub, socket, 'path', 400, 'Malformed path');
  if (route === null) return refuse(hub, socket, 'path', 404, 'No WebSocket endpoint at this path');

  const check = checkHandshake(req.method, req.httpVersion, req.headers);
  if (!check.ok) return refuse(hub, socket, 'handshake', check.status, check.reason, check.headers);

  const origin = req.headers.origin ?? req.headers['sec-websocket-origin'];
  if (!originAllowed(hub.options.allowOrigins, Array.isArray(origin) ? origin[0] : origin)) {
    return refuse(hub, socket, 'origin', 403, 'Origin not allowed');
  }
  // Pending upgrades count too, so concurrent handshakes cannot overshoot the limit.
  if (hub.connections.size + hub.pendingUpgrades >= hub.options.maxConnections) {
    return refuse(hub, socket, 'limit', 503, 'Too many connections');
  }
  const protocol = chooseProtocol(hub, req);
  if (protocol === false) return refuse(hub, socket, 'handshake', 400, 'Malformed Sec-WebSocket-Protocol');

  hub.pendingUpgrades++;
  socket.on('error', ignoreError);
  const upgrade: PendingUpgrade = { req, socket, head, key: check.key, handler: route.value, protocol };
  const verify = hub.options.verifyClient;
  if (verify === undefined) {
    accept(hub, upgrade);
    return true;
  }
  let verdict: unknown;
  try {
    verdict = verify(req);
  } catch (error) {
    verifyFailed(hub, upgrade, error);
    return true;
  }
  if (typeof verdict === 'boolean') verified(hub, upgrade, verdict);
  else
    Promise.resolve(verdict).then(
      ok => verified(hub, upgrade, ok === true),
      (error: unknown) => verifyFailed(hub, upgrade, error)
    );
  return true;
}

/** An upgrade that passed the synchronous checks and counts against maxConnections until settled. */
interface PendingUpgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  key: string;
  handler: WSHandler;
  protocol: string | undefined;
}

function ignoreError(): void {}

function verifyFailed(hub: WebSocketHub, upgrade: PendingUpgrade, error: unknown): void {
  hub.pendingUpgrades--;
  hub.log('error', 'verifyClient threw', { url: upgrade.req.url, error: String(error) });
  refuse(hub, upgrade.socket, 'error', 500, 'Client verification failed');
}

function verified(hub: WebSocketHub, upgrade: PendingUpgrade, ok: boolean): void {
  if (!ok) {
    hub.pendingUpgrades--;
    refuse(hub, upgrade.socket, 'verify', 401, 'Unauthorized');
    return;
  }
  accept(hub, upgrade);
}

function accept(hub: WebSocketHub, { req, socket, head, key, handler, protocol }: PendingUpgrade): void {
  hub.pendingUpgrades--;
  if (socket.destroyed || !socket.writable) return;
  if (hub.closing) {
    refuse(hub, socket, 'closing', 503, 'Server is shutting down');
    return;
  }
  socket.removeListener('error', ignoreError);
  // RFC 7692 5: accept the first acceptable permessage-deflate offer; anything else is declined.
  const deflate = hub.deflate;
  const agreed =
    deflate === undefined
      ? undefined
      : negotiateDeflate(req.headers['sec-websocket-extensions'], deflate.settings);
  socket.write(switchingProtocolsResponse(key, protocol, agreed?.header));
  const connection = new WebSocketConnection(
    socket as Socket,
    hub,
    req.url ?? '/',
    protocol ?? '',
    agreed?.header ?? '',
    head,
    agreed?.params ?? null
  );
  hub.connectionOpened(connection);
  // Guarded: reading remoteAddress costs a system call per connection.
  if (hub.options.debug) {
    hub.log('debug', 'connection opened', { url: connection.url, remote: connection.remoteAddress });
  }
  runMiddleware(hub, connection, req, handler);
}

/** Runs the wsUse chain with a real `next`, then the route handler, then starts reading. */
function runMiddleware(
  hub: WebSocketHub,
  connection: WebSocketConnection,
  req: IncomingMessage,
  handler: WSHandler
): void {
  const chain = hub.middleware;
  const failed = (error: unknown): void => {
    hub.log('error', 'WebSocket middleware threw', { url: connection.url, error: String(error) });
    if (connection.readyState === ReadyState.OPEN)
      connection.close(CloseCode.InternalError, 'Internal error');
  };
  const step = (index: number): void => {
    // A middleware that closed the socket ends the chain.
    if (connection.readyState !== ReadyState.OPEN) return;
    if (index === chain.length) {
      runHandler(connection, handler);
      connection.start();
      return;
    }
    let called = false;
    const next = (): void => {
      if (called) return;
      called = true;
      step(index + 1);
    };
    try {
      onRejection(chain[index](connection, req, next), failed);
    } catch (error) {
      failed(error);
    }
  };
  step(0);
}

function runHandler(connection: WebSocketConnection, handler: WSHandler): void {
  try {
    onRejection(handler(connection), error => connection.handlerFailed(error));
  } catch (error) {
    connection.handlerFailed(error);
  }
}
