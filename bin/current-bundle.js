// Which code bin/switchyard.js runs: the start-up bundle that `npm install` builds into .build/
// (scripts/build-bundle.ts; docs/performance.md, "Start-up") while it is current, else the
// TypeScript sources. Plain JavaScript, like bin/switchyard.js: it runs before any TypeScript.
import { readFileSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The manifest's shape; a build of another shape is not run. */
export const BUNDLE_FORMAT = 1;

/**
 * The bundle's entry (a file URL) when `root` (the package's folder, a URL ending in '/') holds a
 * complete bundle built from exactly the files now there: every input the build recorded still
 * has its size and modification time. Undefined — the sources run — with no build, a build of
 * another format, or any input changed, moved or gone since. In an installed package (under
 * node_modules/) the sources cannot change under the build, so its inputs are not checked.
 */
export function currentBundle(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('.build/manifest.json', root), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.format !== BUNDLE_FORMAT || typeof manifest.entry !== 'string' || !Array.isArray(manifest.inputs)) return undefined;
  const folder = fileURLToPath(root);
  if (!folder.includes(`${sep}node_modules${sep}`)) {
    for (const [path, size, mtimeMs] of manifest.inputs) {
      const stat = statSync(folder + path, { throwIfNoEntry: false });
      if (stat === undefined || stat.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
    }
  }
  return new URL(`.build/${manifest.entry}`, root).href;
}
