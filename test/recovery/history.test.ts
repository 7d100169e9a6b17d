// MemoryHistory (a pure data structure): dense offsets, epochs, count/age/room limits and honest byte counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTRY_OVERHEAD, MemoryHistory } from '../../src/ws/recovery/history.js';

function store(limits: Partial<{ windowMs: number; maxMessages: number; maxRooms: number }> = {}) {
  let now = 1_000;
  const h = new MemoryHistory({ windowMs: 10_000, maxMessages: 5, maxRooms: 3, ...limits }, () => now);
  const add = (room: string, text: string) => h.append(room, true, () => Buffer.from(text));
  return { h, add, tick: (ms: number) => (now += ms) };
}

void describe('MemoryHistory', () => {
  void it('gives each room its own epoch and dense offsets from 1', () => {
    const { h, add } = store();
    assert.deepEqual(h.position('a').offset, 0);
    assert.equal(add('a', 'x').offset, 1);
    assert.equal(add('a', 'y').offset, 2);
    assert.equal(add('b', 'z').offset, 1);
    assert.notEqual(h.position('a').epoch, h.position('b').epoch);
  });

  void it('replays exactly the entries after a position, in order', () => {
    const { h, add } = store();
    const start = h.position('a');
    for (const t of ['1', '2', '3', '4']) add('a', t);
    const r = h.since('a', { epoch: start.epoch, offset: 1 });
    assert.ok(r.ok);
    assert.deepEqual(
      r.entries.map(e => [e.offset, e.body.toString()]),
      [
        [2, '2'],
        [3, '3'],
        [4, '4'],
      ]
    );
    assert.deepEqual(r.position, { epoch: start.epoch, offset: 4 });
    const none = h.since('a', { epoch: start.epoch, offset: 4 });
    assert.ok(none.ok && none.entries.length === 0);
  });

  void it('answers window when more than maxMessages were missed, epoch for a foreign or future position', () => {
    const { h, add } = store({ maxMessages: 5 });
    const { epoch } = h.position('a');
    for (let i = 0; i < 8; i++) add('a', `m${i}`);
    assert.equal(h.stats().messages, 5);
    const tooFar = h.since('a', { epoch, offset: 2 }); // needs 3..8, only 4..8 are kept
    assert.deepEqual(tooFar.ok ? 'ok' : tooFar.reason, 'window');
    const justIn = h.since('a', { epoch, offset: 3 });
    assert.ok(justIn.ok && justIn.entries.length === 5);
    const other = h.since('a', { epoch: 'elsewhere', offset: 3 });
    assert.equal(other.ok ? 'ok' : other.reason, 'epoch');
    const ahead = h.since('a', { epoch, offset: 99 });
    assert.equal(ahead.ok ? 'ok' : ahead.reason, 'epoch');
    const unknown = h.since('never-seen', { epoch, offset: 0 });
    assert.equal(unknown.ok ? 'ok' : unknown.reason, 'epoch');
  });

  void it('answers window for entries older than windowMs and frees them on sweep', () => {
    const { h, add, tick } = store({ windowMs: 1000 });
    const { epoch } = h.position('a');
    add('a', 'old');
    tick(600);
    add('a', 'newer');
    tick(600); // 'old' is 1200 ms old now
    const r = h.since('a', { epoch, offset: 0 });
    assert.equal(r.ok ? 'ok' : r.reason, 'window');
    const r2 = h.since('a', { epoch, offset: 1 });
    assert.ok(r2.ok && r2.entries.length === 1);
    tick(2000);
    h.sweep();
    assert.deepEqual(h.stats(), { rooms: 0, messages: 0, bytes: 0 });
    // The swept room keeps its epoch and offsets: a late client hears "window", a new one continues.
    const late = h.since('a', { epoch, offset: 1 });
    assert.equal(late.ok ? 'ok' : late.reason, 'window');
    assert.deepEqual(h.position('a'), { epoch, offset: 2 });
  });

  void it('counts bytes of what it holds and keeps at most maxRooms streams (oldest evicted, new epoch)', () => {
    const { h, add } = store({ maxRooms: 2 });
    add('a', 'aaaa');
    add('b', 'bb');
    assert.deepEqual(h.stats(), { rooms: 2, messages: 2, bytes: 6 + 2 * ENTRY_OVERHEAD });
    const epochA = h.position('a').epoch;
    add('c', 'c'); // evicts 'a'
    assert.deepEqual(h.stats(), { rooms: 2, messages: 2, bytes: 3 + 2 * ENTRY_OVERHEAD });
    const r = h.since('a', { epoch: epochA, offset: 1 });
    assert.equal(r.ok ? 'ok' : r.reason, 'epoch');
  });

  void it('keeps exact counts over many appends (trimmed head compaction)', () => {
    const { h, add } = store({ maxMessages: 100, maxRooms: 1 });
    const { epoch } = h.position('a');
    for (let i = 1; i <= 5000; i++) add('a', String(i % 10));
    assert.deepEqual(h.stats(), { rooms: 1, messages: 100, bytes: 100 * (1 + ENTRY_OVERHEAD) });
    const r = h.since('a', { epoch, offset: 4950 });
    assert.ok(r.ok);
    assert.deepEqual(
      r.entries.map(e => e.offset),
      Array.from({ length: 50 }, (_, i) => 4951 + i)
    );
  });
});
