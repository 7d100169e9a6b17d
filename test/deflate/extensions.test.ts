// Unit tests: Sec-WebSocket-Extensions parsing and permessage-deflate negotiation (RFC 7692 5, 7.1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiateDeflate, parseExtensions, type DeflateConfig } from '../../src/protocol/extensions.js';

const DEFAULT: DeflateConfig = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: undefined,
  clientMaxWindowBits: undefined,
};
const agree = (header: string | string[], config: Partial<DeflateConfig> = {}): string | undefined =>
  negotiateDeflate(header, { ...DEFAULT, ...config })?.header;

void describe('parseExtensions', () => {
  it('parses several offers, several headers, quoted values and whitespace', () => {
    const offers = parseExtensions([
      'foo; a=1 ,\tpermessage-deflate ; client_max_window_bits ; server_max_window_bits="10"',
      'x-webkit-deflate-frame',
    ]);
    assert.ok(offers);
    assert.deepEqual(
      offers.map(o => [o.name, [...o.params]]),
      [
        ['foo', [['a', '1']]],
        [
          'permessage-deflate',
          [
            ['client_max_window_bits', true],
            ['server_max_window_bits', '10'],
          ],
        ],
        ['x-webkit-deflate-frame', []],
      ]
    );
  });
  it('rejects malformed headers', () => {
    for (const bad of ['permessage-deflate;', '; a', 'a; b="1', 'a; b="x y"', 'a b', 'a;=1', 'a; b=']) {
      assert.equal(parseExtensions(bad), undefined, bad);
    }
  });
  it('keeps names like __proto__ and constructor as plain data', () => {
    const offers = parseExtensions('__proto__; constructor=1; __proto__=2; toString');
    assert.ok(offers);
    assert.equal(offers[0].name, '__proto__');
    assert.equal(offers[0].params.get('constructor'), '1');
    assert.equal(offers[0].duplicated, false);
    assert.equal(({} as Record<string, unknown>).constructor, Object);
    assert.equal(agree('permessage-deflate; __proto__'), undefined);
  });
  it('is linear: 32 000 spaces, and 5 000 offers, give the expected result', () => {
    assert.deepEqual(parseExtensions(' '.repeat(32_000)), []);
    const many = Array.from({ length: 5000 }, () => 'permessage-deflate; foo').join(', ');
    assert.equal(parseExtensions(many)?.length, 5000);
    assert.equal(agree(many + ', permessage-deflate'), 'permessage-deflate');
  });
});

void describe('negotiateDeflate', () => {
  it('accepts the plain offer and answers without parameters', () => {
    assert.equal(agree('permessage-deflate'), 'permessage-deflate');
  });
  it('accepts the first acceptable offer', () => {
    assert.equal(
      agree('permessage-deflate; bogus, permessage-deflate; server_max_window_bits=12'),
      'permessage-deflate; server_max_window_bits=12'
    );
  });
  it('declines unknown, duplicated and out-of-range parameters', () => {
    for (const offer of [
      'permessage-deflate; unknown',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; client_max_window_bits=0',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; client_no_context_takeover="true"',
    ]) {
      assert.equal(agree(offer), undefined, offer);
    }
  });
  it('declines server_max_window_bits=8 (zlib cannot compress with a 256-byte window)', () => {
    assert.equal(agree('permessage-deflate; server_max_window_bits=8'), undefined);
    assert.equal(
      agree('permessage-deflate; server_max_window_bits=8, permessage-deflate'),
      'permessage-deflate'
    );
  });
  it('accepts client_max_window_bits=8 (the server inflates with 9, which reads any 8-bit stream)', () => {
    const r = negotiateDeflate('permessage-deflate; client_max_window_bits=8', DEFAULT);
    assert.equal(r?.header, 'permessage-deflate; client_max_window_bits=8');
    assert.equal(r?.params.clientWindowBits, 8);
  });
  it('answers client_max_window_bits only when offered (RFC 7692 7.1.2.2)', () => {
    assert.equal(agree('permessage-deflate', { clientMaxWindowBits: 10 }), 'permessage-deflate');
    assert.equal(
      agree('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }),
      'permessage-deflate; client_max_window_bits=10'
    );
  });
  it('applies server settings and the lower of both server window limits', () => {
    assert.equal(
      agree('permessage-deflate; server_max_window_bits=12', {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
      }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10'
    );
  });
  it('ignores other extensions and declines malformed headers', () => {
    assert.equal(agree('x-webkit-deflate-frame'), undefined);
    assert.equal(agree('permessage-deflate; a="'), undefined);
  });
});
