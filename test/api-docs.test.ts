// The API reference: every public export, and every public member of an exported class or interface, has a
// doc comment (checked with the TypeScript compiler API), and TypeDoc builds the reference without a warning.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import { outcome } from './support/packed.js';

/** `Name` or `Name.member` (file:line) for each public symbol reachable from `entry` that has no doc comment. */
function undocumented(entry: string): string[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    types: ['node'],
    typeRoots: [resolve('node_modules', '@types')],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const module = source && checker.getSymbolAtLocation(source);
  assert.ok(module, `${entry} is a module`);
  const root = resolve(entry, '..');
  const ours = (d: ts.Declaration): boolean => d.getSourceFile().fileName.startsWith(root);
  const documented = (s: ts.Symbol): boolean =>
    ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '';
  const missing = new Map<ts.Declaration, string>();
  const report = (name: string, d: ts.Declaration): void => {
    const file = d.getSourceFile();
    const line = file.getLineAndCharacterOfPosition(d.getStart()).line + 1;
    if (!missing.has(d)) missing.set(d, `${name} (${relative(process.cwd(), file.fileName)}:${line})`);
  };
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const [first] = (symbol.declarations ?? []).filter(ours);
    if (!first) continue;
    if (!documented(symbol)) report(exported.name, first);
    const shapes: ts.Type[] = [];
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))
      shapes.push(checker.getDeclaredTypeOfSymbol(symbol));
    if (symbol.flags & ts.SymbolFlags.Class) shapes.push(checker.getTypeOfSymbol(symbol)); // statics
    for (const member of shapes.flatMap(t => checker.getPropertiesOfType(t))) {
      const [decl] = (member.declarations ?? []).filter(ours);
      if (!decl || member.name === 'prototype') continue;
      if (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
        continue;
      const name = (decl as ts.NamedDeclaration).name;
      if (name && ts.isPrivateIdentifier(name)) continue;
      // getDocumentationComment falls back to the comment of the interface member a class implements.
      if (!documented(member)) report(`${exported.name}.${member.name}`, decl);
    }
  }
  return [...missing.values()];
}

describe('API reference', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map(d => rm(d, { recursive: true, force: true }))));

  it('every public export and every public member of an exported class or interface has a doc comment', () => {
    assert.deepEqual(undocumented(resolve('src', 'index.ts')), []);
  });

  it('the check names what lacks a comment, and takes a class member documented on its interface', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextrush-docs-'));
    dirs.push(dir);
    await mkdir(join(dir, 'src'));
    await writeFile(
      join(dir, 'src', 'index.ts'),
      `/** Documented. */
export interface Shape {
  /** Documented. */
  area(): number;
  sides: number;
}
/** Documented. */
export class Square implements Shape {
  area() { return 1; }
  sides = 4;
  label = '';
}
export function bare(): void {}
/** Documented. */
export const ok = 1;
`
    );
    const names = undocumented(join(dir, 'src', 'index.ts')).map(m => m.slice(0, m.indexOf(' ')));
    assert.deepEqual(names.sort(), ['Shape.sides', 'Square.label', 'Square.sides', 'bare']);
  });

  it('TypeDoc builds the reference with no warning, and the guides link to pages it writes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'nextrush-api-'));
    dirs.push(out);
    const typedoc = resolve('node_modules', 'typedoc', 'bin', 'typedoc');
    const result = await outcome(
      process.execPath,
      [typedoc, '--out', out, '--logLevel', 'Warn'],
      process.cwd()
    );
    assert.deepEqual(result, { code: 0, out: '' });
    // Links into the reference from README.md (docs/api/...) and docs/*.md (api/...) must name real pages.
    const guides = [
      'README.md',
      ...(await readdir('docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`),
    ];
    const links: string[] = [];
    for (const guide of guides) {
      const text = await readFile(guide, 'utf8');
      for (const m of text.matchAll(/\]\((?:docs\/)?api\/([^)#\s]+)/g)) links.push(`${guide} -> ${m[1]}`);
    }
    assert.ok(links.length >= 5, `the guides link into the reference (${links.length} links)`);
    assert.deepEqual(
      links.filter(l => !existsSync(join(out, l.slice(l.indexOf('-> ') + 3)))),
      [],
      'every link names a generated page'
    );
  });
});
