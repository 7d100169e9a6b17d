// Opening handshake (RFC 6455 4.2.1): request checks with their HTTP status, accept key, header token and protocol list parsing.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import {
  acceptKey,
  checkHandshake,
  headerHasToken,
  isToken,
  isWebSocketUpgrade,
  parseProtocolList,
  switchingProtocolsResponse,
} from '../../src/protocol/handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function headers(overrides: Record<string, string | string[] | undefined> = {}): IncomingHttpHeaders {
  const base: Record<string, string | string[] | undefined> = {
    host: 'example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
    ...overrides,
  };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return base;
}

function status(method: string | undefined, version: string, h: IncomingHttpHeaders): number {
  const r = checkHandshake(method, version, h);
  return r.ok ? 101 : r.status;
}

describe('acceptKey', () => {
  it('computes the RFC 6455 section 1.3 sample accept value', () => {
    assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  it('puts the accept value in the 101 response', () => {
    const res = switchingProtocolsResponse(KEY, 'chat');
    assert.match(res, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(res, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.match(res, /\r\nSec-WebSocket-Protocol: chat\r\n/);
    assert.ok(res.endsWith('\r\n\r\n'));
    assert.doesNotMatch(switchingProtocolsResponse(KEY), /Sec-WebSocket-Protocol/);
  });
});

describe('checkHandshake', () => {
  it('accepts a well-formed request and returns the key', () => {
    assert.deepEqual(checkHandshake('GET', '1.1', headers()), { ok: true, key: KEY });
  });
  for (const method of ['POST', 'PUT', 'HEAD', 'get', undefined]) {
    it(`answers ${String(method)} with 405 and Allow: GET`, () => {
      const r = checkHandshake(method, '1.1', headers());
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.status, 405);
      assert.deepEqual(!r.ok && r.headers, { Allow: 'GET' });
    });
  }
  for (const version of ['1.0', '0.9']) {
    it(`answers HTTP/${version} with 400`, () => assert.equal(status('GET', version, headers()), 400));
  }
  it('accepts HTTP versions above 1.1', () => assert.equal(status('GET', '2.0', headers()), 101));
  it('answers a missing or empty Host with 400', () => {
    assert.equal(status('GET', '1.1', headers({ host: undefined })), 400);
    assert.equal(status('GET', '1.1', headers({ host: '' })), 400);
  });
  it('accepts the Upgrade token case-insensitively and within a token list', () => {
    for (const upgrade of ['websocket', 'WebSocket', 'WEBSOCKET', 'h2c, websocket', ' websocket ']) {
      assert.equal(status('GET', '1.1', headers({ upgrade })), 101, upgrade);
    }
  });
  it('answers a missing or other Upgrade with 400', () => {
    for (const upgrade of [undefined, '', 'h2c', 'websocket2', 'web socket']) {
      assert.equal(status('GET', '1.1', headers({ upgrade })), 400, String(upgrade));
    }
  });
  it('accepts Connection with the upgrade token among others, in any case', () => {
    for (const connection of [
      'upgrade',
      'UPGRADE',
      'keep-alive, Upgrade',
      'Upgrade,keep-alive',
      'close ,  upgrade',
    ]) {
      assert.equal(status('GET', '1.1', headers({ connection })), 101, connection);
    }
  });
  it('answers a Connection without the upgrade token with 400', () => {
    for (const connection of [undefined, 'keep-alive', 'upgraded', 'keep-alive upgrade']) {
      assert.equal(status('GET', '1.1', headers({ connection })), 400, String(connection));
    }
  });
  it('answers a missing or malformed Sec-WebSocket-Key with 400', () => {
    const bad = [
      undefined,
      '',
      'dGhlIHNhbXBsZSBub25jZQ=', // one padding character short
      'dGhlIHNhbXBsZSBub25jZQ', // no padding
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZSE=', // 17 bytes
      'dGhlIHNhbXBsZSBub25j', // 15 bytes
      'dGhlIHNhbXBsZSBub25jZQab', // 18 bytes, no padding
      'dGhlIHNhbXBsZSBub25jZ!==', // bad character
      'dGhlIHNhbXBsZSBub25j-Q==', // URL-safe alphabet is not base64
      'dGhlIHNhbXBs ZSBub25jZQ==',
    ];
    for (const key of bad) {
      assert.equal(status('GET', '1.1', headers({ 'sec-websocket-key': key })), 400, String(key));
    }
  });
  it('accepts other keys that are base64 of 16 bytes', () => {
    for (const key of [
      Buffer.alloc(16).toString('base64'),
      Buffer.alloc(16, 0xff).toString('base64'),
      'AQIDBAUGBwgJCgsMDQ4PEA==',
    ]) {
      assert.equal(status('GET', '1.1', headers({ 'sec-websocket-key': key })), 101, key);
    }
  });
  for (const version of [undefined, '8', '14', '12', '', '13, 8']) {
    it(`answers Sec-WebSocket-Version ${JSON.stringify(version)} with 426 and Sec-WebSocket-Version: 13`, () => {
      const r = checkHandshake('GET', '1.1', headers({ 'sec-websocket-version': version }));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.status, 426);
      assert.deepEqual(!r.ok && r.headers, { 'Sec-WebSocket-Version': '13' });
    });
  }
});

describe('headerHasToken and isWebSocketUpgrade', () => {
  it('finds a token case-insensitively in a comma-separated list or repeated headers', () => {
    assert.equal(headerHasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(headerHasToken(['keep-alive', 'UPGRADE'], 'upgrade'), true);
    assert.equal(headerHasToken('  upgrade  ', 'upgrade'), true);
  });
  it('does not match substrings, other tokens or a missing header', () => {
    assert.equal(headerHasToken('upgrades', 'upgrade'), false);
    assert.equal(headerHasToken('keep-alive', 'upgrade'), false);
    assert.equal(headerHasToken('', 'upgrade'), false);
    assert.equal(headerHasToken(undefined, 'upgrade'), false);
  });
  it('recognises a WebSocket upgrade only by the Upgrade header', () => {
    assert.equal(isWebSocketUpgrade({ upgrade: 'WebSocket' }), true);
    assert.equal(isWebSocketUpgrade({ upgrade: 'h2c' }), false);
    assert.equal(isWebSocketUpgrade({}), false);
  });
});

describe('isToken', () => {
  it('accepts RFC 7230 token characters', () => {
    for (const t of ['chat', 'v2.json', "a!#$%&'*+-.^_`|~z", 'X']) assert.equal(isToken(t), true, t);
  });
  it('rejects empty strings, separators, spaces, controls and non-ASCII', () => {
    const bad = [
      '',
      'a b',
      'a,b',
      'a;b',
      'a/b',
      'a=b',
      'a"b',
      'a(b)',
      'a{b}',
      'a[b]',
      'a?b',
      'a@b',
      'a:b',
      'a\\b',
      'a<b>',
      'a\tb',
      'a\x7fb',
      'é',
    ];
    for (const t of bad) assert.equal(isToken(t), false, JSON.stringify(t));
  });
});

describe('parseProtocolList', () => {
  it('returns an empty list when the header is absent', () => {
    assert.deepEqual(parseProtocolList(undefined), []);
  });
  it('splits a comma-separated list, trimming spaces and skipping empty elements', () => {
    assert.deepEqual(parseProtocolList('chat, superchat'), ['chat', 'superchat']);
    assert.deepEqual(parseProtocolList(' a ,, b ,'), ['a', 'b']);
    assert.deepEqual(parseProtocolList(['a', 'b, c']), ['a', 'b', 'c']);
  });
  it('rejects a list with a non-token or a duplicate', () => {
    assert.equal(parseProtocolList('chat, bad token'), undefined);
    assert.equal(parseProtocolList('chat; v=1'), undefined);
    assert.equal(parseProtocolList('chat, chat'), undefined);
  });
  it('parses a header of 32 000 spaces around a token', () => {
    const spaces = ' '.repeat(16000);
    assert.deepEqual(parseProtocolList(spaces + 'chat' + spaces), ['chat']);
    assert.deepEqual(parseProtocolList(' '.repeat(32000)), []);
    assert.deepEqual(parseProtocolList(spaces + ',' + spaces + 'x'), ['x']);
    assert.equal(parseProtocolList('a' + spaces + 'b'), undefined);
  });
});
