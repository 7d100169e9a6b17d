// Runs every compiled test file (build/**/*.test.js) with Node's built-in test runner.
// Files are listed explicitly so helper modules in test/ folders are never mistaken for tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...collect('build/test', []), ...collect('build/src', [])].sort();
if (filter.length) files = files.filter(f => filter.some(s => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files found (did `npm run compile` run?)');
  process.exit(1);
}
// The timeout applies to each file as a whole too: the packed-package file packs, installs and runs tsc and
// arethetypeswrong, which on a loaded 2-core machine has taken over 120 s. It is a hang guard, not a speed check.
const res = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-timeout=240000', ...files],
  { stdio: 'inherit' }
);
process.exit(res.status ?? 1);
