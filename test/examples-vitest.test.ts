// The spec's "Unit Testing" example runs under vitest as written, and its test passes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

test('examples/unit-testing.spec.ts passes under vitest', () => {
  const vitest = resolve('node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(process.execPath, [vitest, 'run', 'examples/unit-testing.spec.ts'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /Tests\s+1 passed \(1\)/);
});
