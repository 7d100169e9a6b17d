// The server side of the opening handshake (RFC 6455 4.2): request validation, accept key, raw responses.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** RFC 6455 1.3: the GUID concatenated with the client's key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Base64 of exactly 16 bytes: 22 significant characters and two padding characters. */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** True when a comma-separated header (or repeated header) contains `token`, compared case-insensitively. */
export function headerHasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  // The common case, a single token ("websocket", "Upgrade"), needs no splitting.
  if (typeof value === 'string' && value.length === token.length) return value.toLowerCase() === token;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const part of text.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** Whether the request asks for a WebSocket at all (as opposed to another protocol upgrade). */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return headerHasToken(headers.upgrade, 'websocket');
}

export type HandshakeCheck =
  { ok: true; key: string } | { ok: false; status: number; reason: string; headers?: Record<string, string> };

/**
 * Checks a client's opening handshake (RFC 6455 4.2.1). Anything wrong yields the HTTP status to answer:
 * 405 for a method other than GET, 400 for a malformed request, and 426 with `Sec-WebSocket-Version: 13`
 * for another protocol version (RFC 6455 4.4).
 */
export function checkHandshake(
  method: string | undefined,
  httpVersion: string,
  headers: IncomingHttpHeaders
): HandshakeCheck {
  // "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
  if (method !== 'GET') {
    return { ok: false, status: 405, reason: 'WebSocket handshake must use GET', headers: { Allow: 'GET' } };
  }
  if (httpVersion !== '1.1' && !atLeastHttp11(httpVersion)) {
    return { ok: false, status: 400, reason: 'WebSocket handshake requires HTTP/1.1' };
  }
  if (headers.host === undefined || headers.host === '') {
    return { ok: false, status: 400, reason: 'Missing Host header' };
  }
  if (!headerHasToken(headers.upgrade, 'websocket')) {
    return { ok: false, status: 400, reason: 'Upgrade header must be "websocket"' };
  }
  if (!headerHasToken(headers.connection, 'upgrade')) {
    return { ok: false, status: 400, reason: 'Connection header must contain "Upgrade"' };
  }
  const version = headers['sec-websocket-version'];
  if (typeof version !== 'string' || version.trim() !== '13') {
    return {
      ok: false,
      status: 426,
      reason: 'Unsupported WebSocket version; this server speaks 13',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  const key = headers['sec-websocket-key'];
  const trimmed = typeof key === 'string' ? key.trim() : '';
  if (!KEY_PATTERN.test(trimmed)) {
    return { ok: false, status: 400, reason: 'Sec-WebSocket-Key must be base64 of 16 bytes' };
  }
  return { ok: true, key: trimmed };
}

function atLeastHttp11(httpVersion: string): boolean {
  const [major, minor] = httpVersion.split('.').map(Number);
  return !(major === undefined || minor === undefined || major < 1 || (major === 1 && minor < 1));
}

/** The 101 response that completes a handshake. */
export function switchingProtocolsResponse(key: string, protocol?: string, extensions?: string): string {
  let response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
    acceptKey(key) +
    '\r\n';
  if (protocol !== undefined) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== undefined) response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  return response + '\r\n';
}

/**
 * Parses `Sec-WebSocket-Protocol` into its tokens (RFC 6455 4.1: a comma-separated list of distinct
 * tokens). Returns undefined when the header is malformed. Linear in the header's length.
 */
export function parseProtocolList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const token = part.trim();
    if (token === '') continue;
    if (!isToken(token) || seen.has(token)) return undefined;
    seen.add(token);
    out.push(token);
  }
  return out;
}

/** RFC 7230 3.2.6 token characters. */
export function isToken(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
    // separators: ( ) < > @ , ; : \ " / [ ] ? = { }
    if ('()<>@,;:\\"/[]?={}'.includes(value[i])) return false;
  }
  return value.length > 0;
}

/** The path of a request target, for origin-form (`/a?b`) and absolute-form (`http://h/a?b`) alike. */
export function requestTargetPath(url: string): string | undefined {
  if (url.startsWith('/')) {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
