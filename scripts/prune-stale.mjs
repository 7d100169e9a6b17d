// Deletes compiled files whose TypeScript source no longer exists (`node scripts/prune-stale.mjs OUT ROOT`).
// tsc never removes the output of a moved or deleted source: a stale dist/ file would ship in the tarball
// and a stale build/ test would still run. Files are removed one by one, never the whole folder, so a
// test that imports dist/ while `npm pack` rebuilds it never finds the folder missing.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const [out, root] = process.argv.slice(2);
if (!out || !root) {
  console.error('usage: node scripts/prune-stale.mjs OUT_DIR SOURCE_ROOT');
  process.exit(2);
}
const OUTPUTS = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function walk(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (OUTPUTS.test(name)) {
      const source = join(root, relative(out, path)).replace(OUTPUTS, '.ts');
      if (!existsSync(source)) rmSync(path, { force: true });
    }
  }
}
walk(out);
