// The server side of bootstrapping WebSockets over HTTP/2 (RFC 8441 §4-5): extended CONNECT checks and the 200 answer.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { acceptKey } from './handshake.js';

/** The value of `:protocol` that asks for a WebSocket (RFC 8441 §5: "it MUST have a value of websocket"). */
export const WEBSOCKET_PROTOCOL = 'websocket';

/** Base64 of exactly 16 bytes, as in the HTTP/1.1 handshake. */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

export type ExtendedConnectCheck =
  | { ok: true; key: string | undefined }
  | { ok: false; status: number; reason: string; headers?: Record<string, string> };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a CONNECT request carries `:protocol` (an extended CONNECT, RFC 8441 §4) rather than a tunnel request. */
export function isExtendedConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && single(headers[':protocol']) !== undefined;
}

/** Whether an extended CONNECT asks for a WebSocket (as opposed to another tunnelled protocol). */
export function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  return isExtendedConnect(headers) && single(headers[':protocol']) === WEBSOCKET_PROTOCOL;
}

/**
 * Checks an extended CONNECT that asks for a WebSocket. Anything wrong yields the `:status` to answer:
 * 400 for a malformed request and 426 with `sec-websocket-version: 13` for another version (RFC 6455 4.4,
 * which RFC 8441 §5 keeps: "Sec-WebSocket-Version ... used on the CONNECT request and response header
 * fields in the same way as defined in [RFC6455]").
 */
export function checkExtendedConnect(headers: IncomingHttpHeaders): ExtendedConnectCheck {
  if (!isWebSocketConnect(headers)) {
    return { ok: false, status: 400, reason: 'Not an extended CONNECT for websocket' };
  }
  // RFC 8441 §4: "On requests that contain the :protocol pseudo-header field, the :scheme and :path
  // pseudo-header fields of the target URI MUST also be included."
  const path = single(headers[':path']);
  if (path === undefined || path === '') {
    return { ok: false, status: 400, reason: 'Extended CONNECT requires :path' };
  }
  const scheme = single(headers[':scheme']);
  // RFC 8441 §5: "The scheme of the target URI MUST be https for wss-schemed WebSockets and http for ws-schemed".
  if (scheme !== 'https' && scheme !== 'http') {
    return { ok: false, status: 400, reason: 'Extended CONNECT requires :scheme http or https' };
  }
  const version = single(headers['sec-websocket-version']);
  if (version === undefined || version.trim() !== '13') {
    return {
      ok: false,
      status: 426,
      reason: 'Unsupported WebSocket version; this server speaks 13',
      headers: { 'sec-websocket-version': '13' },
    };
  }
  // RFC 8441 §5: "Sec-WebSocket-Key and Sec-WebSocket-Accept header fields are not used"; a client may
  // still send a key (undici does, and checks the accept value), so a well-formed one is answered.
  const key = single(headers['sec-websocket-key'])?.trim();
  return { ok: true, key: key !== undefined && KEY_PATTERN.test(key) ? key : undefined };
}

/**
 * The response headers of an accepted extended CONNECT: `:status 200` (RFC 8441 §5: "a 2xx status code"
 * replaces 101), the chosen subprotocol and extensions, and the accept value when the client sent a key.
 */
export function extendedConnectResponse(
  key: string | undefined,
  protocol?: string,
  extensions?: string
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':status': 200 };
  if (key !== undefined) headers['sec-websocket-accept'] = acceptKey(key);
  if (protocol !== undefined) headers['sec-websocket-protocol'] = protocol;
  if (extensions !== undefined) headers['sec-websocket-extensions'] = extensions;
  return headers;
}
