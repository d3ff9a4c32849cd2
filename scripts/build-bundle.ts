// Bundles the `switchyard` command for start-up: `npm install` runs it (the `prepare` script), and
// bin/switchyard.js runs the bundle instead of the TypeScript sources while it is current
// (bin/current-bundle.js). One build of two entries — the CLI (src/cli/main.ts) and the config
// child (src/config/load-child.ts) — split at every dynamic import, so what each process loads,
// and when, stays as in the sources: the serving process still never loads the YAML parser or the
// schema library (they live in the chunks only the child and `check-config` import). Hundreds of
// modules become a few files for the ESM loader: start to ready and idle memory both drop
// (docs/performance.md, "Start-up").
// Usage: node scripts/build-bundle.ts [--out .build] [--optional]
// (--optional: a build that cannot run — esbuild not installed, as with `npm install --omit=dev` —
// only says so and exits 0: the sources run instead)
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Metafile, Plugin } from 'esbuild';
import { BUNDLE_FORMAT, type BundleManifest } from '../bin/current-bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, '.build') }, optional: { type: 'boolean' } } });
const out = resolve(values.out);
// the packages left out of the bundle (and Node's require in it) are found from where it lies
if (dirname(out) !== root) throw new Error(`--out ${values.out}: the bundle goes in a folder of the package's own (${root})`);

let esbuild: typeof import('esbuild');
try {
  esbuild = await import('esbuild');
} catch (error) {
  if (values.optional !== true) throw error;
  process.stderr.write(`switchyard: no start-up bundle built (${(error as Error).message.split('\n')[0]}); the TypeScript sources run instead.\n`);
  process.exit(0);
}

const posix = (path: string): string => path.split(sep).join('/');

/**
 * Each module keeps its own `import.meta.url` — its source file's, computed from where the bundle
 * lies — so files found beside a module (package.json, ui/, the plugin API, the isolated plugins'
 * worker) are found as from the sources, wherever the chunk holding it sits.
 */
function sourceUrls(outDir: string): Plugin {
  return {
    name: 'source-urls',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async (args) => {
        let contents = await readFile(args.path, 'utf8');
        const other = /import\.meta\.(?!url\b)\w+/.exec(contents);
        if (other !== null) throw new Error(`${relative(root, args.path)}: ${other[0]} is not rewritten for the bundle; use import.meta.url`);
        if (contents.includes('import.meta.url')) contents = contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(posix(relative(outDir, args.path)))}, import.meta.url).href`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * pino is bundled (a dozen files fewer for the CommonJS loader at each start), thread-stream — the
 * transport's worker thread, which runs a file of its own — is not. pino finds its own worker
 * files (multi-target transports, `pino/file`) beside its source through `__dirname`, which an
 * ES module has not: it becomes the folder of pino's installed file (found from the bundle, as
 * every package left out is).
 */
function pinoDirname(): Plugin {
  return {
    name: 'pino-dirname',
    setup(builder) {
      builder.onLoad({ filter: /[\\/]node_modules[\\/]pino[\\/].*\.js$/ }, async (args) => {
        const contents = await readFile(args.path, 'utf8');
        if (!contents.includes('__dirname')) return undefined;
        const installed = posix(args.path).split('/node_modules/').at(-1)!;
        return { contents: contents.replaceAll('__dirname', `require('node:path').dirname(require.resolve(${JSON.stringify(installed)}))`), loader: 'js' };
      });
    },
  };
}

/**
 * What the bundle was built from, as bin/current-bundle.js checks it: every source file, and the
 * package.json of every package bundled (a dependency updated without a rebuild changes its version).
 */
function inputsOf(metafile: Metafile): BundleManifest['inputs'] {
  const files = new Set<string>([join(root, 'scripts/build-bundle.ts'), join(root, 'package.json')]);
  for (const input of Object.keys(metafile.inputs)) {
    const path = resolve(root, input);
    const parts = posix(relative(root, path)).split('/');
    const last = parts.lastIndexOf('node_modules');
    if (last === -1) files.add(path);
    else files.add(join(root, ...parts.slice(0, last + (parts[last + 1]!.startsWith('@') ? 3 : 2)), 'package.json'));
  }
  return [...files].sort().map((path) => {
    const stat = statSync(path);
    return [posix(relative(root, path)), stat.size, stat.mtimeMs];
  });
}

// Built beside, then swapped in: a start never sees half a bundle.
const building = join(dirname(out), `${basename(out)}.building-${process.pid}`);
rmSync(building, { recursive: true, force: true });
mkdirSync(building, { recursive: true });
try {
  const result = await esbuild.build({
    entryPoints: { main: join(root, 'src/cli/main.ts'), 'load-child': join(root, 'src/config/load-child.ts') },
    outdir: building,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // packages that find files of their own at run time (workers, .wasm) or load optional native modules
    external: ['pino-pretty', 'thread-stream', 'wasmoon', 'pg', 'pg-native', 'ioredis'],
    // the CommonJS packages bundled (prom-client, OpenTelemetry) require Node's modules
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    // config/subprocess.ts starts the bundled child, not the TypeScript one (relative to its source file)
    define: { SWITCHYARD_BUNDLED_CHILD: JSON.stringify(posix(relative(join(root, 'src/config'), join(out, 'load-child.js')))) },
    plugins: [sourceUrls(out), pinoDirname()],
    metafile: true,
    logLevel: 'warning',
  });
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, entry: 'main.js', inputs: inputsOf(result.metafile) };
  // which module went to which file (`esbuild --analyze`'s input; the tests read it too)
  const outputs = Object.entries(result.metafile.outputs).map(([file, output]) => [posix(relative(root, join(out, relative(building, resolve(root, file))))), output]);
  writeFileSync(join(building, 'metafile.json'), JSON.stringify({ ...result.metafile, outputs: Object.fromEntries(outputs) }));
  // written last: a bundle without its manifest is never run
  writeFileSync(join(building, 'manifest.json'), JSON.stringify(manifest));
  const old = `${building}.old`;
  try {
    renameSync(out, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  renameSync(building, out);
  rmSync(old, { recursive: true, force: true });
  process.stdout.write(`switchyard: start-up bundle built in ${posix(relative(process.cwd(), out)) || '.'} (${manifest.inputs.length} inputs checked at start)\n`);
} catch (error) {
  rmSync(building, { recursive: true, force: true });
  if (values.optional !== true) throw error;
  process.stderr.write(`switchyard: no start-up bundle built (${(error as Error).message.split('\n')[0]}); the TypeScript sources run instead.\n`);
}
