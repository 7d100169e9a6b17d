// WebSocket upgrades as an UpgradeProtocol of the app: they run the app's middleware chain first.
import { Errors } from '../core/errors.js';
import type { Context, UpgradeProtocol } from '../core/types.js';
import type { Http2ServerRequest } from 'node:http2';
import { isWebSocketConnect, WEBSOCKET_PROTOCOL } from '../protocol/extended-connect.js';
import { isWebSocketUpgrade } from '../protocol/handshake.js';
import type { RouteMatch } from '../core/router.js';
import type { WebSocketHub } from './hub.js';
import type { WSHandler } from './types.js';
import { handleUpgrade } from './upgrade/http1.js';
import { handleExtendedConnect } from './upgrade/http2.js';

/**
 * The app calls `match` to route an upgrade request (`ctx.params` of the `app.ws()` route), runs its
 * middleware with `ctx.isWebSocket === true`, and at the end of the chain `accept`, which runs the
 * plugin's own upgrade path (origin, limit, verifyClient, 101, wsUse, route handler).
 */
export function webSocketProtocol(hub: WebSocketHub): UpgradeProtocol {
  return {
    claims: req => isWebSocketUpgrade(req.headers) || isWebSocketConnect(req.headers),
    connectProtocol: WEBSOCKET_PROTOCOL,
    match: path => {
      // The core keeps targets it cannot route as they are (`*`, a broken absolute-form URL).
      if (!path.startsWith('/')) throw Errors.badTarget();
      const route = hub.routes.find(path);
      if (route === null) {
        hub.refuse('path');
        if (hub.options.debug) hub.log('debug', 'upgrade refused', { reason: 'path', status: 404, path });
      }
      return route;
    },
    prepare: (ctx: Context) => {
      ctx.isWebSocket = true;
    },
    accept: (ctx, route, upgrade) => {
      const { socket, head } = upgrade.take();
      // The route matched for the current path (after URL rewrites): its params are the socket's.
      const matched = route as RouteMatch<WSHandler>;
      if (ctx.req.httpVersionMajor === 2)
        handleExtendedConnect(hub, ctx.req as unknown as Http2ServerRequest, ctx, matched);
      else handleUpgrade(hub, ctx.req, socket, head, ctx, matched);
    },
  };
}
