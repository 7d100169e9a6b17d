// Admission of an upgrade: path -> handshake -> origin -> connection limit -> client limits -> protocol -> verifyClient -> accept.
import type { RouteMatch } from '../../core/router.js';
import { negotiateDeflate, type DeflateAgreement } from '../../protocol/extensions.js';
import { RECOVERY_PROTOCOL } from '../recovery/wire.js';
import { parseProtocolList, requestTargetPath } from '../../protocol/handshake.js';
import { Connection } from '../connection/connection.js';
import { WsRefusals, type WsRefusalCode } from '../errors.js';
import type { WebSocketHub } from '../hub.js';
import { originAllowed } from '../options.js';
import type { RefusalReason, WSHandler } from '../types.js';
import { runMiddleware } from './middleware.js';
import { PendingUpgrade } from './pending.js';
import type { UpgradeRequest, UpgradeResponder } from './request.js';

/** Refuses with the catalogue's status and message, counting `reason` in the stats. */
export function refuse(
  hub: WebSocketHub,
  responder: UpgradeResponder,
  reason: RefusalReason,
  code: WsRefusalCode,
  override?: { status: number; message: string; headers?: Record<string, string> }
): void {
  const { status, message } = override ?? WsRefusals[code];
  hub.refuse(reason);
  if (hub.options.debug) hub.log('debug', 'upgrade refused', { reason, code, status, message });
  responder.refuse(status, message, override?.headers);
}

function findRoute(hub: WebSocketHub, path: string): RouteMatch<WSHandler> | null | undefined {
  try {
    return hub.routes.find(path);
  } catch {
    return undefined; // a malformed %-escape in a parameter
  }
}

/** Picks the subprotocol: undefined for none, false for a malformed offer. */
function chooseProtocol(hub: WebSocketHub, request: UpgradeRequest): string | undefined | false {
  const header = request.headers['sec-websocket-protocol'];
  // No offer, no subprotocol (recovery included): the common case parses nothing.
  if (header === undefined) return undefined;
  const offered = parseProtocolList(header);
  if (offered === undefined) return false;
  // A client that speaks recovery gets it when the option is on, whatever the app's own protocols.
  if (hub.recovery !== undefined && offered?.includes(RECOVERY_PROTOCOL)) return RECOVERY_PROTOCOL;
  const configured = hub.options.protocols;
  if (configured === undefined || offered.length === 0) return undefined;
  if (typeof configured === 'function') {
    const picked = configured(offered, request.req);
    return typeof picked === 'string' && offered.includes(picked) ? picked : undefined;
  }
  return configured.find(p => offered.includes(p));
}

/** Answers one WebSocket upgrade request, with a success response or an HTTP error. Never throws. */
export function admit(hub: WebSocketHub, request: UpgradeRequest, responder: UpgradeResponder): void {
  if (hub.closing) return refuse(hub, responder, 'closing', 'WS_REFUSE_SHUTTING_DOWN');
  let route = request.route;
  if (route === undefined) {
    const path = requestTargetPath(request.url);
    if (path === undefined) return refuse(hub, responder, 'path', 'WS_REFUSE_BAD_TARGET');
    const found = findRoute(hub, path);
    if (found === undefined) return refuse(hub, responder, 'path', 'WS_REFUSE_BAD_PATH');
    if (found === null) return refuse(hub, responder, 'path', 'WS_REFUSE_NO_ROUTE');
    route = found;
  }

  const check = request.handshake;
  if (!check.ok) {
    const override = { status: check.status, message: check.reason, headers: check.headers };
    return refuse(hub, responder, 'handshake', 'WS_REFUSE_BAD_HANDSHAKE', override);
  }
  const origin = request.headers.origin ?? request.headers['sec-websocket-origin'];
  if (!originAllowed(hub.options.allowOrigins, Array.isArray(origin) ? origin[0] : origin)) {
    return refuse(hub, responder, 'origin', 'WS_REFUSE_ORIGIN');
  }
  // Upgrades waiting for verifyClient and PENDING connections count too, so nothing overshoots the limit.
  if (hub.liveConnections + hub.pendingUpgrades >= hub.options.maxConnections) {
    return refuse(hub, responder, 'limit', 'WS_REFUSE_LIMIT');
  }
  const gate = hub.clientGate;
  if (gate !== undefined) {
    const verdict = gate.admit(request.req, request.ctx);
    if (!verdict.ok) {
      const reason = verdict.code === 'WS_REFUSE_CLIENT_KEY_FAILED' ? 'error' : 'clientLimit';
      return refuse(hub, responder, reason, verdict.code, {
        ...WsRefusals[verdict.code],
        headers: verdict.headers,
      });
    }
    // The client's slot is held as long as its connection exists, whatever answers or ends it.
    responder.onClosed(() => gate.release(verdict.entry));
  }
  const protocol = chooseProtocol(hub, request);
  if (protocol === false) return refuse(hub, responder, 'handshake', 'WS_REFUSE_BAD_PROTOCOL');

  const verify = hub.options.verifyClient;
  if (verify === undefined) return accept(hub, request, responder, route, protocol);
  new PendingUpgrade(hub, request, responder, route, protocol).verify(verify);
}

/** Sends the success response and runs the connection's PENDING phase (wsUse middleware). */
export function accept(
  hub: WebSocketHub,
  request: UpgradeRequest,
  responder: UpgradeResponder,
  route: RouteMatch<WSHandler>,
  protocol: string | undefined
): void {
  if (hub.closing) return refuse(hub, responder, 'closing', 'WS_REFUSE_SHUTTING_DOWN');
  // RFC 7692 5: accept the first acceptable permessage-deflate offer; anything else is declined.
  const deflate = hub.deflate;
  let agreed: DeflateAgreement | undefined;
  if (deflate !== undefined) {
    const negotiated = negotiateDeflate(request.headers['sec-websocket-extensions'], deflate.settings);
    // Connections with the same terms share one agreement object (idle memory).
    if (negotiated !== undefined) agreed = deflate.shared(negotiated);
  }
  const transport = responder.accept(protocol, agreed?.header);
  if (transport === null) return;
  const connection = new Connection(transport, hub, {
    url: request.url,
    params: route.params,
    protocol: protocol ?? '',
    extensions: agreed?.header ?? '',
    head: responder.head,
    deflate: agreed?.params ?? null,
  });
  // Guarded: reading remoteAddress costs a system call per connection.
  if (hub.options.debug) {
    hub.log('debug', 'connection opened', { url: connection.url, remote: connection.remoteAddress });
  }
  // After the 101 the context carries the connection; the route handler gets both.
  const ctx = request.ctx;
  ctx.ws = connection.socket;
  const handler = route.value;
  runMiddleware(hub, connection, request.req, socket => handler(socket, ctx));
}
