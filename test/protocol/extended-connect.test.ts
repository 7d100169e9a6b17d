// Extended CONNECT (RFC 8441 §4-5): which requests ask for a WebSocket, the status each malformed one gets, the 200 answer.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import { acceptKey } from '../../src/protocol/handshake.js';
import {
  checkExtendedConnect,
  extendedConnectResponse,
  isExtendedConnect,
  isWebSocketConnect,
} from '../../src/protocol/extended-connect.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The request of RFC 8441 §5.1's example, with overrides (undefined removes a field). */
function request(overrides: Record<string, string | string[] | undefined> = {}): IncomingHttpHeaders {
  const base: Record<string, string | string[] | undefined> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': '/chat',
    ':authority': 'server.example.com',
    'sec-websocket-protocol': 'chat, superchat',
    'sec-websocket-extensions': 'permessage-deflate',
    'sec-websocket-version': '13',
    origin: 'http://www.example.com',
    ...overrides,
  };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return base;
}

function status(h: IncomingHttpHeaders): number {
  const r = checkExtendedConnect(h);
  return r.ok ? 200 : r.status;
}

describe('isExtendedConnect / isWebSocketConnect', () => {
  it('recognises the RFC 8441 §5.1 example as a WebSocket request', () => {
    assert.equal(isExtendedConnect(request()), true);
    assert.equal(isWebSocketConnect(request()), true);
  });
  it('a CONNECT without :protocol is a tunnel request, not an extended CONNECT', () => {
    const h = request({ ':protocol': undefined, ':path': undefined, ':scheme': undefined });
    assert.equal(isExtendedConnect(h), false);
    assert.equal(isWebSocketConnect(h), false);
  });
  it('another :protocol is an extended CONNECT but not a WebSocket', () => {
    const h = request({ ':protocol': 'webtransport' });
    assert.equal(isExtendedConnect(h), true);
    assert.equal(isWebSocketConnect(h), false);
  });
  it(':protocol is case-sensitive as written by RFC 8441 §5, and only CONNECT counts', () => {
    assert.equal(isWebSocketConnect(request({ ':protocol': 'WebSocket' })), false);
    assert.equal(isWebSocketConnect(request({ ':method': 'GET' })), false);
  });
});

describe('checkExtendedConnect', () => {
  it('accepts the RFC 8441 §5.1 example without a key', () => {
    assert.deepEqual(checkExtendedConnect(request()), { ok: true, key: undefined });
  });
  it('keeps a well-formed key (clients such as undici check the accept value) and ignores a malformed one', () => {
    assert.deepEqual(checkExtendedConnect(request({ 'sec-websocket-key': ` ${KEY} ` })), {
      ok: true,
      key: KEY,
    });
    assert.deepEqual(checkExtendedConnect(request({ 'sec-websocket-key': 'short' })), {
      ok: true,
      key: undefined,
    });
  });
  it('answers 426 with sec-websocket-version: 13 for a missing or other version', () => {
    for (const v of [undefined, '8', '12', '14', '']) {
      const r = checkExtendedConnect(request({ 'sec-websocket-version': v }));
      assert.equal(r.ok, false, `version ${String(v)}`);
      if (!r.ok) {
        assert.equal(r.status, 426);
        assert.deepEqual(r.headers, { 'sec-websocket-version': '13' });
      }
    }
  });
  it('answers 400 without :path or with a :scheme other than http/https', () => {
    assert.equal(status(request({ ':path': undefined })), 400);
    assert.equal(status(request({ ':path': '' })), 400);
    assert.equal(status(request({ ':scheme': undefined })), 400);
    assert.equal(status(request({ ':scheme': 'ws' })), 400);
    assert.equal(status(request({ ':scheme': 'http' })), 200);
  });
  it('answers 400 for requests that are not a WebSocket extended CONNECT', () => {
    assert.equal(status(request({ ':protocol': undefined })), 400);
    assert.equal(status(request({ ':protocol': 'connect-udp' })), 400);
    assert.equal(status(request({ ':method': 'GET' })), 400);
  });
});

describe('extendedConnectResponse', () => {
  it('is :status 200 with the chosen subprotocol and extensions (RFC 8441 §5.1)', () => {
    assert.deepEqual(extendedConnectResponse(undefined, 'chat', 'permessage-deflate'), {
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
    });
    assert.deepEqual(extendedConnectResponse(undefined), { ':status': 200 });
  });
  it('carries the accept value of a key the client sent', () => {
    assert.deepEqual(extendedConnectResponse(KEY), {
      ':status': 200,
      'sec-websocket-accept': acceptKey(KEY),
    });
  });
});
