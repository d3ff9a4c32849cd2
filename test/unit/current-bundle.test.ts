// bin/current-bundle.js: the start-up bundle runs only while it was built from exactly the files
// on disk; anything else — no build, half a build, an edited, touched or deleted input — runs the
// TypeScript sources. In an installed package (under node_modules/) its inputs are not checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_FORMAT, currentBundle, type BundleManifest } from '../../bin/current-bundle.js';

/** A package folder with two source files and a bundle built from them. */
function builtPackage(under = ''): { dir: string; root: URL } {
  const dir = join(mkdtempSync(join(tmpdir(), 'switchyard-bundle-')), under);
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  mkdirSync(join(dir, '.build'));
  writeFileSync(join(dir, 'src/cli/main.ts'), 'export {};\n');
  writeFileSync(join(dir, 'src/cli/args.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, '.build/main.js'), 'export {};\n');
  const inputs = ['src/cli/args.ts', 'src/cli/main.ts'].map((path): [string, number, number] => {
    const stat = statSync(join(dir, path));
    return [path, stat.size, stat.mtimeMs];
  });
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, entry: 'main.js', inputs };
  writeFileSync(join(dir, '.build/manifest.json'), JSON.stringify(manifest));
  return { dir, root: pathToFileURL(`${dir}/`) };
}

test('a bundle built from the files on disk runs', (t) => {
  const { dir, root } = builtPackage();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(currentBundle(root), pathToFileURL(join(dir, '.build/main.js')).href);
});

test('an edited source runs the sources: a changed size, or the same size with a new modification time', (t) => {
  const { dir, root } = builtPackage();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'src/cli/args.ts'), 'export const a = 12;\n');
  assert.equal(currentBundle(root), undefined);

  const same = builtPackage();
  t.after(() => rmSync(same.dir, { recursive: true, force: true }));
  const later = new Date(statSync(join(same.dir, 'src/cli/main.ts')).mtimeMs + 2000);
  utimesSync(join(same.dir, 'src/cli/main.ts'), later, later);
  assert.equal(currentBundle(same.root), undefined);
});

test('a deleted input, no manifest, a broken one or one of another format runs the sources', (t) => {
  const deleted = builtPackage();
  t.after(() => rmSync(deleted.dir, { recursive: true, force: true }));
  rmSync(join(deleted.dir, 'src/cli/args.ts'));
  assert.equal(currentBundle(deleted.root), undefined);

  const { dir, root } = builtPackage();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = join(dir, '.build/manifest.json');
  writeFileSync(manifest, '{"format":1,"entry":"main.js","inpu');
  assert.equal(currentBundle(root), undefined, 'half a manifest');
  writeFileSync(manifest, JSON.stringify({ format: BUNDLE_FORMAT + 1, entry: 'main.js', inputs: [] }));
  assert.equal(currentBundle(root), undefined, 'another format');
  rmSync(manifest);
  assert.equal(currentBundle(root), undefined, 'no manifest (no build, or one still being written)');
  assert.equal(currentBundle(pathToFileURL(`${join(dir, 'nowhere')}/`)), undefined);
});

test('an installed package runs its bundle without checking the inputs (they cannot change under it)', (t) => {
  const { dir, root } = builtPackage('node_modules/switchyard');
  t.after(() => rmSync(join(dir, '../..'), { recursive: true, force: true }));
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'src/cli/main.ts'), later, later);
  assert.equal(currentBundle(root), pathToFileURL(join(dir, '.build/main.js')).href);
  rmSync(join(dir, '.build/manifest.json'));
  assert.equal(currentBundle(root), undefined, 'but never without a complete build');
});
