// The seam between a transport's upgrade mechanics (HTTP/1.1 Upgrade, HTTP/2 extended CONNECT) and admission.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RouteMatch } from '../../core/router.js';
import type { Transport } from '../connection/transport.js';
import type { WSContext, WSHandler } from '../types.js';

/** The transport's own handshake rules (RFC 6455 4.2.1 for HTTP/1.1, RFC 8441 4 for HTTP/2). */
export type HandshakeVerdict =
  { ok: true } | { ok: false; status: number; reason: string; headers?: Record<string, string> };

/** An upgrade request as admission sees it, whatever carried it. */
export interface UpgradeRequest {
  /** Node's request object: handed to verifyClient, the `protocols` function and wsUse middleware. */
  readonly req: IncomingMessage;
  /** The request target (path and query) as the client sent it. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Checked after the route is found, so an unknown path is a 404 whatever the headers say. */
  readonly handshake: HandshakeVerdict;
  /** The `app.ws()` route when the caller matched it already (the app chain may have rewritten the URL). */
  readonly route?: RouteMatch<WSHandler>;
  /**
   * The app's context of this request: the upgrade runs at the end of the app's middleware chain, and
   * the connection gets `ctx.ws` and the route handler `ctx` (with what middleware put in `ctx.state`).
   * `ctx.ip` (X-Forwarded-For only when the app trusts its proxy) is the default key of clientLimits; it
   * is read only then (reading the peer's address is a system call).
   */
  readonly ctx: WSContext;
}

/** How admission answers the request; exactly one of refuse() / accept() is called. */
export interface UpgradeResponder {
  /** Bytes received with the request that already belong to the WebSocket (HTTP/1.1 `head`). */
  readonly head: Buffer;
  /** Answers with an HTTP error and closes. */
  refuse(status: number, message: string, headers?: Record<string, string>): void;
  /**
   * Sends the success response (101 Switching Protocols, or 200 for RFC 8441) with the agreed
   * subprotocol and extensions, and returns the transport the connection runs on; null when the client
   * is already gone (nothing is sent then).
   */
  accept(protocol: string | undefined, extensions: string | undefined): Transport | null;
  /** `listener` runs once if the client goes away before refuse() / accept() (not after). */
  onAbort(listener: () => void): void;
  /** `listener` runs once when the underlying connection is gone, whatever answered or ended it. */
  onClosed(listener: () => void): void;
}
