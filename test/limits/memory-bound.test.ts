// A million distinct client keys through the client-limit table: the heap it holds stays under the documented bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClientLimits, MAX_KEY_LENGTH } from '../../src/ws/limits/client-limits.js';

// docs/limits.md: at most 512 bytes of heap per tracked key (keys are cut to 128 characters).
const BYTES_PER_KEY = 512;
const MAX_KEYS = 10_000;
const DISTINCT = 1_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('client-limit bookkeeping under a million distinct keys', () => {
  // Long keys are cut to 128 characters; 200 000 of them already fill the table 20 times over.
  for (const [name, keyOf, distinct] of [
    [
      'IPv6 addresses',
      (i: number) => `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`,
      DISTINCT,
    ],
    ['1000-character keys', (i: number) => String(i).padEnd(1000, '-'), 200_000],
  ] as const) {
    it(`${name} (${distinct} distinct): at most maxKeys idle keys plus the ones holding connections, heap under ${BYTES_PER_KEY} bytes per key`, () => {
      const table = new ClientLimits({ maxConnections: 4, upgradesPerMinute: 30, maxKeys: MAX_KEYS });
      const before = heapAfterGc();
      // A fake clock that barely moves: no key expires by time, so only the cap keeps the table small.
      let now = 0;
      let largest = 0;
      const held = [];
      for (let i = 0; i < distinct; i++) {
        const verdict = table.admit(keyOf(i), now);
        now += 0.0001;
        assert.ok(verdict.ok);
        // One key in a thousand keeps its connection open; the others disconnect at once.
        if (i % 1000 === 0) held.push(verdict.entry);
        else table.release(verdict.entry, now);
        if (table.size > largest) largest = table.size;
      }
      const grown = heapAfterGc() - before;
      assert.ok(largest <= MAX_KEYS + held.length, `table held ${largest} keys`);
      assert.ok(
        held.every(e => table.peek(e.key) === e),
        'keys with open connections are never forgotten'
      );
      assert.ok(held.every(e => e.key.length <= MAX_KEY_LENGTH));
      assert.ok(
        grown < MAX_KEYS * BYTES_PER_KEY,
        `heap grew ${grown} bytes for ${table.size} keys (${(grown / table.size).toFixed(0)} per key)`
      );
      console.log(`# ${name}: ${table.size} keys, ${(grown / table.size).toFixed(0)} bytes per key`);
      const idle = table.size - held.length;
      for (const e of held) table.release(e, now + 3_600_000);
      assert.ok(
        held.every(e => table.peek(e.key) === undefined),
        'released with a full bucket: forgotten'
      );
      assert.equal(table.size, idle);
    });
  }
});
