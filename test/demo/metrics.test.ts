// Tests for the demo's rate sampling and Prometheus text output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prometheusText, RateSampler, type WsStats } from '../../demo/metrics.js';

function stats(over: Partial<WsStats> = {}): WsStats {
  return {
    connections: 0,
    rooms: 0,
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    connectionsOpened: 0,
    connectionsRefused: {},
    ...over,
  };
}

describe('demo RateSampler', () => {
  it('reports zero for the first reading, then deltas per second', () => {
    const sampler = new RateSampler();
    const first = sampler.sample(stats({ messagesSent: 100, messagesReceived: 50, connections: 3 }), 2, 1000);
    assert.deepEqual(first, {
      at: 1000,
      connections: 3,
      rooms: 2,
      messagesInPerSec: 0,
      messagesOutPerSec: 0,
    });
    const second = sampler.sample(stats({ messagesSent: 130, messagesReceived: 55 }), 1, 3000);
    assert.equal(second.messagesOutPerSec, 15);
    assert.equal(second.messagesInPerSec, 2.5);
  });

  it('treats counters that go backwards as a restart, not a negative rate', () => {
    const sampler = new RateSampler();
    sampler.sample(stats({ messagesSent: 100 }), 0, 0);
    assert.equal(sampler.sample(stats({ messagesSent: 4 }), 0, 1000).messagesOutPerSec, 0);
  });

  it('keeps only the newest samples', () => {
    const sampler = new RateSampler(3);
    for (let i = 0; i < 5; i++) sampler.sample(stats(), 0, i * 1000);
    assert.deepEqual(
      sampler.history().map(s => s.at),
      [2000, 3000, 4000]
    );
  });
});

describe('demo prometheusText', () => {
  it('writes HELP and TYPE lines and one sample per metric', () => {
    const text = prometheusText(
      stats({ connections: 3, rooms: 2, messagesSent: 7, connectionsRefused: { 'origin "x"\n': 2 } })
    );
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.includes('# TYPE websocket_connections_active gauge'));
    assert.ok(lines.includes('websocket_connections_active 3'));
    assert.ok(lines.includes('websocket_rooms_total 2'));
    assert.ok(lines.includes('# TYPE websocket_messages_sent_total counter'));
    assert.ok(lines.includes('websocket_messages_sent_total 7'));
    assert.ok(lines.includes('websocket_connections_refused_total{reason="origin \\"x\\"\\n"} 2'));
    // Every sample line belongs to a metric announced by a TYPE line just before it.
    const typed = new Set(lines.filter(l => l.startsWith('# TYPE ')).map(l => l.split(' ')[2]));
    for (const line of lines.filter(l => !l.startsWith('#'))) {
      assert.ok(typed.has(line.split(/[{ ]/)[0]), line);
    }
  });
  it('reports the abuse-limit counters: limited, dropped, refused by limit, tracked keys', () => {
    const lines = prometheusText(
      stats({
        limits: {
          messagesLimited: 40,
          connectionsLimited: 2,
          upgradesRefused: { maxConnections: 3, upgradesPerMinute: 5 },
          trackedKeys: 9,
        },
      })
    ).split('\n');
    for (const line of [
      'websocket_messages_limited_total 40',
      'websocket_connections_limited_total 2',
      'websocket_client_keys_tracked 9',
      '# TYPE websocket_upgrades_limited_total counter',
      'websocket_upgrades_limited_total{limit="maxConnections"} 3',
      'websocket_upgrades_limited_total{limit="upgradesPerMinute"} 5',
    ]) {
      assert.ok(lines.includes(line), line);
    }
  });
});
