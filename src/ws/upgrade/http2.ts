// The HTTP/2 mechanics (RFC 8441): request descriptor from an extended CONNECT, `:status 200`, stream transport.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Stream } from 'node:http2';
import { checkExtendedConnect, extendedConnectResponse } from '../../protocol/extended-connect.js';
import { Http2StreamTransport } from '../connection/http2-stream.js';
import type { Transport } from '../connection/transport.js';
import type { RouteMatch } from '../../core/router.js';
import type { WebSocketHub } from '../hub.js';
import type { WSContext, WSHandler } from '../types.js';
import { admit } from './admit.js';
import type { HandshakeVerdict, UpgradeResponder } from './request.js';

const NO_HEAD = Buffer.alloc(0);

/** Answers a refused extended CONNECT with a real `:status` and a short body; the stream then ends. */
export function refuseStream(
  stream: ServerHttp2Stream,
  status: number,
  message: string,
  headers: Record<string, string> = {}
): void {
  if (stream.destroyed || stream.headersSent) return;
  const body = `${message}\n`;
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  stream.respond({
    ...lower,
    ':status': status,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  stream.end(body);
}

class Http2Responder implements UpgradeResponder {
  readonly head = NO_HEAD;
  private abortListener: (() => void) | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly key: string | undefined
  ) {}

  private settle(): void {
    const listener = this.abortListener;
    if (listener === undefined) return;
    this.abortListener = undefined;
    this.stream.removeListener('close', listener);
  }

  refuse(status: number, message: string, headers?: Record<string, string>): void {
    this.settle();
    refuseStream(this.stream, status, message, headers);
  }

  accept(protocol: string | undefined, extensions: string | undefined): Transport | null {
    this.settle();
    const stream = this.stream;
    if (stream.destroyed || stream.closed || !stream.writable) return null;
    // RFC 8441 §5: a 2xx status (200) replaces 101, and the stream then carries the WebSocket.
    stream.respond(extendedConnectResponse(this.key, protocol, extensions));
    return new Http2StreamTransport(stream);
  }

  /** The stream is the connection here: a clientLimits slot is held until it closes. */
  onClosed(listener: () => void): void {
    if (this.stream.closed) listener();
    else this.stream.once('close', listener);
  }

  /** A reset (or the whole connection going) closes the stream: the pending verdict is then abandoned. */
  onAbort(listener: () => void): void {
    this.abortListener = listener;
    this.stream.once('close', listener);
  }
}

/**
 * Handles one extended CONNECT for a WebSocket (RFC 8441 §4-5), with the same admission as an HTTP/1.1
 * upgrade (path, origin, limit, subprotocol, verifyClient, wsUse): `:status 200` or an HTTP error.
 */
export function handleExtendedConnect(
  hub: WebSocketHub,
  req: Http2ServerRequest,
  ctx: WSContext,
  route?: RouteMatch<WSHandler>
): void {
  const check = checkExtendedConnect(req.headers);
  const handshake: HandshakeVerdict = check.ok
    ? { ok: true }
    : { ok: false, status: check.status, reason: check.reason, headers: check.headers };
  admit(
    hub,
    // Node's compatibility request stands for an IncomingMessage (headers, url, method, socket).
    { req: req as unknown as IncomingMessage, url: req.url, headers: req.headers, handshake, route, ctx },
    new Http2Responder(req.stream, check.ok ? check.key : undefined)
  );
}
