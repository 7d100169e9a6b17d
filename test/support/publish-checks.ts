// The packed tarball checked as the ecosystem checks packages: publint, arethetypeswrong over every `exports`
// entry, source and declaration maps that resolve inside the tarball, and require() from CommonJS (require(esm)).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { installed, outcome, packed, run } from './packed.js';

/** Every file in the unpacked tarball, relative to its root, with `/` separators. */
async function shipped(unpacked: string): Promise<string[]> {
  const all = await readdir(unpacked, { recursive: true, withFileTypes: true });
  return all.filter(e => e.isFile()).map(e => join(e.parentPath, e.name).slice(unpacked.length + 1));
}

const manifest = async (unpacked: string): Promise<{ exports: Record<string, unknown> }> =>
  JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

const requireEsm = (process.features as { require_module?: boolean }).require_module === true;

/** Registers the publish checks; package.test.ts calls it so they share its single `npm pack`. */
export function describePublishChecks(): void {
  describe('publish: the packed tarball', () => {
    it('publint finds no error, warning or suggestion', async () => {
      const bytes = await readFile((await packed()).tarball);
      const { messages, pkg } = await publint({
        pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
        level: 'suggestion',
        strict: true,
      });
      assert.deepEqual(
        messages.map(m => `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`),
        []
      );
    });

    it('arethetypeswrong resolves types for every entry point in `exports`', async () => {
      const { tarball, unpacked } = await packed();
      // ESM only, so "CJSResolvesToESM" (a require() resolves to ESM) is expected; attw predates require(esm),
      // which the require() test below exercises for real. Profile node16: `engines` is Node >= 20, so the
      // pre-`exports` node10 resolution (which cannot see subpaths such as ./client) never applies.
      const attw = resolve('node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
      const args = [
        attw,
        tarball,
        '--format',
        'json',
        '--profile',
        'node16',
        '--ignore-rules',
        'cjs-resolves-to-esm',
      ];
      const result = await outcome(process.execPath, args, process.cwd());
      const report = JSON.parse(result.out) as {
        analysis: { entrypoints: Record<string, unknown> };
        problems?: Record<string, { kind: string; resolutionKind?: string }[]>;
      };
      const { exports } = await manifest(unpacked);
      assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), Object.keys(exports).sort());
      const problems = Object.values(report.problems ?? {})
        .flat()
        .filter(p => p.kind !== 'CJSResolvesToESM' && p.resolutionKind !== 'node10');
      assert.deepEqual(problems, []);
      assert.equal(result.code, 0, 'attw exits 0');
    });

    it('ships a source map and a declaration map per file, pointing at sources in the tarball', async () => {
      const { unpacked } = await packed();
      const files = await shipped(unpacked);
      const built = files.filter(f => f.startsWith('dist/') && (f.endsWith('.js') || f.endsWith('.d.ts')));
      assert.ok(built.length > 20, 'dist holds the build');
      for (const f of built) {
        assert.ok(files.includes(`${f}.map`), `${f}.map ships`);
        const text = await readFile(join(unpacked, f), 'utf8');
        const name = f.slice(f.lastIndexOf('/') + 1);
        assert.ok(text.trimEnd().endsWith(`//# sourceMappingURL=${name}.map`), `${f} names its map`);
        const map = JSON.parse(await readFile(join(unpacked, `${f}.map`), 'utf8')) as {
          sources: string[];
          sourceRoot?: string;
        };
        for (const source of map.sources) {
          const target = resolve(dirname(join(unpacked, f)), map.sourceRoot ?? '', source);
          assert.ok(target.startsWith(join(unpacked, 'src')), `${f}.map points into src/: ${source}`);
          assert.ok(existsSync(target), `${f}.map points at a shipped file: ${source}`);
        }
      }
      assert.deepEqual(
        files.filter(f => /\.test\.[jt]s$/.test(f)),
        [],
        'no tests ship'
      );
    });

    if (!requireEsm) {
      console.log(
        `\n!!!!! publish: require() from CommonJS SKIPPED: Node ${process.version} has no require(esm) ` +
          '(20.19+, 22.12+ and 24 have it); .ci/run runs this file on Node 24 too.\n'
      );
    }
    it('require() from CommonJS loads the package and serves a request', { skip: !requireEsm }, async () => {
      const project = await installed(); // an ESM project, but a .cjs file is CommonJS
      await writeFile(join(project, 'main.cjs'), cjsScript);
      const { stdout } = await run(process.execPath, ['main.cjs'], { cwd: project, timeout: 30_000 });
      assert.deepEqual(JSON.parse(stdout.trim()), { status: 200, body: { required: true } });
    });
  });
}

const cjsScript = `const { createApp, WebSocketPlugin } = require('nextrush-v2');
const app = createApp();
new WebSocketPlugin({ path: '/ws' }).install(app);
app.get('/cjs', ctx => ctx.json({ required: true }));
const server = app.listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/cjs');
  console.log(JSON.stringify({ status: res.status, body: await res.json() }));
  await app.close();
});
`;
