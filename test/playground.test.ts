// The spec's playground script (`cd playground/ && node websocket-test.js`) runs and passes as documented.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const playground = fileURLToPath(new URL('../../playground/', import.meta.url));

test('playground/websocket-test.js echoes text and binary and exits 0', () => {
  const run = spawnSync(process.execPath, ['websocket-test.js'], {
    cwd: playground,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /received: Echo: Hello Server!/);
  assert.match(run.stdout, /received: binary 3 bytes/);
  assert.match(run.stdout, /^PASS$/m);
});
