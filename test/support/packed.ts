// The packed package as a user gets it: one `npm pack` of this repo per test process, unpacked, and a fresh
// project with the tarball installed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The tarball and the folder it unpacks to (`package/` as npm writes it). */
export interface Packed {
  tarball: string;
  unpacked: string;
}

const made: string[] = [];
process.once('exit', () => made.forEach(d => rmSync(d, { recursive: true, force: true })));

/** A temp folder removed when the process exits. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

let packing: Promise<Packed> | undefined;
/**
 * Runs `npm pack` (which builds through `prepack`) once per process and unpacks the tarball. Once, because
 * two packs at a time would rebuild dist/ under each other.
 */
export const packed = (): Promise<Packed> =>
  (packing ??= (async () => {
    const dir = await tempDir('nextrush-pack-');
    await run(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: process.cwd() });
    const name = (await readdir(dir)).find(f => f.endsWith('.tgz'));
    assert.ok(name, 'npm pack wrote a tarball');
    await mkdir(join(dir, 'x'));
    await run('tar', ['-xzf', join(dir, name), '-C', join(dir, 'x')]);
    return { tarball: join(dir, name), unpacked: join(dir, 'x', 'package') };
  })());

let installing: Promise<string> | undefined;
/** One fresh ESM project per process with the packed tarball installed; resolves with its folder. */
export const installed = (): Promise<string> =>
  (installing ??= (async () => {
    const { tarball } = await packed();
    const project = await tempDir('nextrush-user-');
    const manifest = { name: 'user', private: true, type: 'module' };
    await writeFile(join(project, 'package.json'), JSON.stringify(manifest));
    await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project });
    return project;
  })());

/** Runs a command and resolves with its exit code and stdout instead of rejecting on a non-zero exit. */
export const outcome = (file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> =>
  run(file, args, { cwd, timeout: 150_000, maxBuffer: 64 << 20 }).then(
    r => ({ code: 0, out: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '' })
  );
