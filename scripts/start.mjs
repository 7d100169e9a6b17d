// `npm start`: compiles the project when build/ is missing or older than the sources, then runs the demo server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// fileURLToPath rather than import.meta.dirname, which early Node 20 releases lack.
const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'build', 'demo', 'server.js');

/** Newest modification time among TypeScript sources and tsconfig files (0 when none). */
function newestSource(dir) {
  let newest = 0;
  let names;
  try {
    names = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const d of names) {
    const p = join(dir, d.name);
    if (d.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (d.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function needsBuild() {
  if (!existsSync(entry)) return true;
  const built = statSync(entry).mtimeMs;
  const configs = readdirSync(root)
    .filter(n => /^tsconfig.*\.json$/.test(n))
    .map(n => statSync(join(root, n)).mtimeMs);
  const newest = Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'demo')), ...configs);
  return newest > built;
}

if (needsBuild()) {
  console.log('Compiling (build/ is missing or older than the sources)…');
  // The local compiler, not a global one: the project pins its TypeScript version.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (res.status !== 0) {
    console.error('Compilation failed; fix the errors above and run `npm start` again.');
    process.exit(res.status ?? 1);
  }
}

await import(pathToFileURL(entry).href);
