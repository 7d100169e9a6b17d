// The published package: `npm pack`, install the tarball elsewhere, import it and serve one request.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const script = `
import { createApp, HttpError, Router } from 'nextrush-v2';
const app = createApp();
app.get('/hi/:name', ctx => ctx.json({ hi: ctx.params.name, router: typeof Router, err: typeof HttpError }));
const server = app.listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/hi/pkg');
  console.log(JSON.stringify({ status: res.status, body: await res.json() }));
  await app.close();
});
`;

describe('package', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map(d => rm(d, { recursive: true, force: true }))));

  it('installs from the packed tarball and serves a request', async () => {
    const packDir = await mkdtemp(join(tmpdir(), 'nextrush-pack-'));
    const project = await mkdtemp(join(tmpdir(), 'nextrush-user-'));
    dirs.push(packDir, project);
    await run(npm, ['pack', '--silent', '--pack-destination', packDir], { cwd: process.cwd() });
    const tarball = (await readdir(packDir)).find(f => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');

    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user', private: true, type: 'module' })
    );
    await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, tarball)], {
      cwd: project,
    });
    const installed = await readdir(join(project, 'node_modules', 'nextrush-v2'));
    assert.deepEqual(installed.sort(), ['README.md', 'dist', 'package.json']);
    const nested = await readdir(join(project, 'node_modules', 'nextrush-v2', 'dist'), { recursive: true });
    assert.ok(nested.includes('index.d.ts'), 'types are shipped');
    assert.ok(!nested.some(f => f.endsWith('.test.js')), 'tests are not shipped');

    await writeFile(join(project, 'main.mjs'), script);
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: project, timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), {
      status: 200,
      body: { hi: 'pkg', router: 'function', err: 'function' },
    });
  });
});
