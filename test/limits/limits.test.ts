// Unit tests of the pure limiter parts: token-bucket arithmetic, the per-connection meter, the client-key table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from '../../src/ws/limits/client-key.js';
import { ClientLimits, CONNECTIONS_RETRY_AFTER, MAX_KEY_LENGTH } from '../../src/ws/limits/client-limits.js';
import { MessageMeter, Verdict, type MessageRateSettings } from '../../src/ws/limits/message-rate.js';
import { msUntil, refilled } from '../../src/ws/limits/token-bucket.js';

describe('token bucket arithmetic', () => {
  it('refills at the rate, caps at the capacity, ignores a clock that went back', () => {
    assert.equal(refilled(0, 500, 10, 20), 5);
    assert.equal(refilled(0, 10_000, 10, 20), 20);
    assert.equal(refilled(3, -50, 10, 20), 3);
    assert.equal(refilled(-10, 1000, 10, 20), 0, 'a bucket in debt refills from its debt');
  });

  it('says how long until enough tokens', () => {
    assert.equal(msUntil(5, 1, 10), 0);
    assert.equal(msUntil(0, 1, 10), 100);
    assert.equal(msUntil(0.5, 1, 0.5), 1000);
  });
});

function settings(over: Partial<MessageRateSettings>): MessageRateSettings {
  return {
    messagesPerSecond: 0,
    bytesPerSecond: 0,
    messageBurst: 0,
    byteBurst: 0,
    policy: 'drop',
    onLimit: undefined,
    ...over,
  };
}

describe('MessageMeter', () => {
  it('admits a burst, then the sustained rate, and marks the first limited message of an episode', () => {
    const m = new MessageMeter(settings({ messagesPerSecond: 10, messageBurst: 5 }), 0);
    m.received(100, 0);
    for (let i = 0; i < 5; i++) assert.equal(m.admit(), Verdict.Admitted);
    assert.equal(m.admit(), Verdict.Messages | Verdict.First);
    assert.equal(m.admit(), Verdict.Messages, 'same episode: no First');
    m.received(10, 100); // 100 ms at 10/s = one message
    assert.equal(m.admit(), Verdict.Admitted);
    assert.equal(m.admit(), Verdict.Messages | Verdict.First, 'a new episode after an admitted message');
    m.received(10, 60_000);
    let admitted = 0;
    while (m.admit() === Verdict.Admitted) admitted++;
    assert.equal(admitted, 5, 'a long pause refills to the burst, not more');
  });

  it('charges bytes per chunk, floors the debt at one burst, limits messages while in debt', () => {
    const m = new MessageMeter(settings({ bytesPerSecond: 1000, byteBurst: 2000 }), 0);
    assert.equal(m.received(1500, 0), false);
    assert.equal(m.admit(), Verdict.Admitted);
    assert.equal(m.received(1000, 0), true, 'overspent');
    assert.equal(m.admit(), Verdict.Bytes | Verdict.First);
    assert.equal(m.received(1_000_000, 0), true);
    // Debt floored at -2000: 2 s at 1000/s brings it back to 0, and one more byte-worth admits.
    assert.equal(m.received(0, 1999), true);
    assert.equal(m.received(0, 2001), false);
    assert.equal(m.admit(), Verdict.Admitted);
  });

  it('with both budgets, either one limits', () => {
    const m = new MessageMeter(
      settings({ messagesPerSecond: 100, messageBurst: 100, bytesPerSecond: 10, byteBurst: 10 }),
      0
    );
    m.received(5, 0);
    assert.equal(m.admit(), Verdict.Admitted);
    m.received(6, 0);
    assert.equal(m.admit() & ~Verdict.First, Verdict.Bytes);
  });
});

describe('ClientLimits', () => {
  it('caps concurrent connections per key and releases them', () => {
    const t = new ClientLimits({ maxConnections: 2, upgradesPerMinute: 0, maxKeys: 100 });
    const a = t.admit('1.2.3.4', 0);
    const b = t.admit('1.2.3.4', 0);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(t.admit('1.2.3.4', 0), {
      ok: false,
      limit: 'maxConnections',
      retryAfter: CONNECTIONS_RETRY_AFTER,
    });
    assert.ok(t.admit('5.6.7.8', 0).ok, 'another key is not affected');
    t.release(a.entry, 1);
    assert.ok(t.admit('1.2.3.4', 1).ok);
  });

  it('limits upgrades per minute with a burst, and answers the seconds until the next one', () => {
    const t = new ClientLimits({ maxConnections: 0, upgradesPerMinute: 3, maxKeys: 100 });
    for (let i = 0; i < 3; i++) {
      const r = t.admit('k', 0);
      assert.ok(r.ok);
      t.release(r.entry, 0);
    }
    assert.deepEqual(t.admit('k', 0), { ok: false, limit: 'upgradesPerMinute', retryAfter: 20 });
    assert.deepEqual(t.admit('k', 15_000), { ok: false, limit: 'upgradesPerMinute', retryAfter: 5 });
    assert.ok(t.admit('k', 20_000).ok, 'one upgrade refills every 20 s');
  });

  it('forgets a key once it holds no connection and its bucket is full again', () => {
    const t = new ClientLimits({ maxConnections: 5, upgradesPerMinute: 60, maxKeys: 100 });
    const r = t.admit('a', 0);
    assert.ok(r.ok);
    t.release(r.entry, 500);
    assert.ok(t.peek('a'), 'bucket not yet full: the key still carries history');
    const again = t.admit('a', 500);
    assert.ok(again.ok);
    t.release(again.entry, 5000);
    assert.equal(t.peek('a'), undefined, 'full again after 2 s at 1/s');
    const c = new ClientLimits({ maxConnections: 1, upgradesPerMinute: 0, maxKeys: 100 });
    const e = c.admit('a', 0);
    assert.ok(e.ok);
    c.release(e.entry, 0);
    assert.equal(c.size, 0, 'with no rate, a key without connections is dropped at once');
  });

  it('remembers at most maxKeys keys without connections, the least recently seen going first', () => {
    const t = new ClientLimits({ maxConnections: 1, upgradesPerMinute: 10, maxKeys: 4 });
    const held = t.admit('held', 0);
    assert.ok(held.ok);
    const visit = (k: string) => {
      const r = t.admit(k, 0);
      assert.ok(r.ok);
      t.release(r.entry, 0);
    };
    for (const k of ['x', 'y', 'z', 'w']) visit(k);
    assert.equal(t.size, 5, 'four idle keys plus the one holding a connection');
    visit('x'); // seen again: moves to the newer generation
    visit('v');
    assert.ok(t.size <= 5);
    assert.equal(t.peek('y'), undefined, 'least recently seen: forgotten');
    assert.ok(t.peek('x'), 'seen again recently: kept');
    assert.ok(t.peek('held'), 'the key with an open connection stays');
    assert.deepEqual(t.admit('held', 0), { ok: false, limit: 'maxConnections', retryAfter: 5 });
  });

  it('a refused key keeps its history', () => {
    const t = new ClientLimits({ maxConnections: 0, upgradesPerMinute: 1, maxKeys: 10 });
    const r = t.admit('k', 0);
    assert.ok(r.ok);
    t.release(r.entry, 0);
    for (let i = 0; i < 5; i++) assert.equal(t.admit('k', i * 1000).ok, false);
    assert.deepEqual(t.admit('k', 30_000), { ok: false, limit: 'upgradesPerMinute', retryAfter: 30 });
    assert.ok(t.admit('k', 60_000).ok);
  });

  it('grows past maxKeys only while every tracked key holds a connection', () => {
    const t = new ClientLimits({ maxConnections: 1, upgradesPerMinute: 0, maxKeys: 2 });
    const entries = ['a', 'b', 'c'].map(k => t.admit(k, 0));
    assert.ok(entries.every(e => e.ok));
    assert.equal(t.size, 3);
    for (const e of entries) if (e.ok) t.release(e.entry, 0);
    assert.equal(t.size, 0);
  });

  it('cuts long keys so an entry stays small', () => {
    const t = new ClientLimits({ maxConnections: 1, upgradesPerMinute: 0, maxKeys: 10 });
    const long = 'k'.repeat(10_000);
    const r = t.admit(long, 0);
    assert.ok(r.ok);
    assert.equal(r.entry.key.length, MAX_KEY_LENGTH);
    assert.equal(t.admit(long + 'other tail', 0).ok, false, 'same first 128 characters, same key');
  });
});

describe('clientKey (the default client key)', () => {
  it('keeps IPv4 addresses and anything that is not an IP address as they are', () => {
    for (const k of ['203.0.113.7', '127.0.0.1', '', 'user-42', 'a:b', ':::']) assert.equal(clientKey(k), k);
  });

  it('maps an IPv6 address to its /64 prefix, whatever its spelling', () => {
    const cases: [string, string][] = [
      ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
      ['2001:0DB8:0001:0002:ffff:0:0:9', '2001:db8:1:2::/64'],
      ['2001:db8::1', '2001:db8:0:0::/64'],
      ['::1', '0:0:0:0::/64'],
      ['::', '0:0:0:0::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4::/64'],
      ['1:2::7:8', '1:2:0:0::/64'],
      ['1:2:3::5:6:1.2.3.4', '1:2:3:0::/64'],
      ['::1.2.3.4', '0:0:0:0::/64'],
    ];
    for (const [address, key] of cases) assert.equal(clientKey(address), key, address);
  });

  it('maps an IPv4-mapped IPv6 address to the IPv4 address', () => {
    assert.equal(clientKey('::ffff:192.0.2.5'), '192.0.2.5');
    assert.equal(clientKey('::FFFF:10.0.0.1'), '10.0.0.1');
  });
});
