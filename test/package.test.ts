// The published package: `npm pack` once, install the tarball elsewhere, import it and serve one request;
// the checks of the tarball itself (publint, arethetypeswrong, maps, require()) come from support/publish-checks.ts
// and share the one pack.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { installed, outcome, run } from './support/packed.js';
import { describePublishChecks } from './support/publish-checks.js';

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

const WS_CONTEXT_CHECK = `
import type { Context, WSConnection, WSContext, WSRoomManager } from 'nextrush-v2';
export interface SpecWSContext extends Context {
  /** WebSocket connection (when request is upgraded) */
  ws?: WSConnection;
  /** Check if request is WebSocket upgrade request */
  isWebSocket: boolean;
  /** WebSocket room manager */
  wsRooms: WSRoomManager;
}
export const fromExported = (ctx: WSContext): SpecWSContext => ctx;
export const fromSpec = (ctx: SpecWSContext): WSContext => ctx;
export const fromContext = (ctx: Context): WSContext => ctx;
`;

const cjsUser = `import nextrush = require('nextrush-v2');
export const app: nextrush.Application = nextrush.createApp();
`;

describe('package', () => {
  it('installs from the packed tarball and serves a request', async () => {
    const project = await installed();
    const top = await readdir(join(project, 'node_modules', 'nextrush-v2'));
    assert.deepEqual(top.sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json', 'src']);
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

  it('ships nextrush-v2/client as its own entry point, with types', async () => {
    const project = await installed();
    const dist = join(project, 'node_modules', 'nextrush-v2', 'dist', 'client');
    const files = await readdir(dist);
    assert.ok(
      files.includes('index.js') && files.includes('index.d.ts'),
      `dist/client has ${files.join(', ')}`
    );
    await writeFile(
      join(project, 'client.mjs'),
      "import { connect, backoffDelay, RECOVERY_PROTOCOL } from 'nextrush-v2/client';\n" +
        'console.log(JSON.stringify([typeof connect, backoffDelay(0, {}, () => 0), RECOVERY_PROTOCOL]));\n'
    );
    const { stdout } = await run(process.execPath, ['client.mjs'], { cwd: project, timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), ['function', 250, 'nextrush.v1']);
  });

  it("the spec's examples, and a CommonJS user, type-check under strict against the packed package's types", async () => {
    const project = await installed();
    const examples = (await readdir('examples')).filter(f => f.endsWith('.ts'));
    assert.ok(examples.length >= 9, 'examples are present');
    await Promise.all(examples.map(f => copyFile(join('examples', f), join(project, f))));
    // require() of this ESM package, which TypeScript 5.8+ accepts under --module nodenext (require(esm)).
    await writeFile(join(project, 'main.cts'), cjsUser);
    // The vitest example also imports the test tools a user would have installed next to the package.
    await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
    for (const dep of ['vitest', 'ws', join('@types', 'ws')]) {
      await symlink(resolve('node_modules', dep), join(project, 'node_modules', dep), 'dir').catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        }
      );
    }
    // The spec's "Context Integration" declaration, verbatim, must agree with the exported WSContext.
    await writeFile(join(project, 'ws-context.ts'), WS_CONTEXT_CHECK);
    examples.push('ws-context.ts');
    const tsc = resolve('node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--typeRoots',
      resolve('node_modules', '@types'),
      '--types',
      'node',
      ...examples,
      'main.cts',
    ];
    assert.deepEqual(await outcome(process.execPath, args, project), { code: 0, out: '' });
  });

  describePublishChecks();
});
