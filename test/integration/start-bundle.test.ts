// The start-up bundle (scripts/build-bundle.ts) as `npm install` builds it, run as bin/switchyard.js
// runs it: it checks a config, serves, and keeps the config child's job — the serving process
// loads nothing of the YAML parser or the schema library, the child runs from the bundle too, and
// nothing loads a TypeScript source. Built into a folder of its own in the repository (the packages
// left out of the bundle are found from where it lies), removed afterwards; the tests themselves
// run from the sources.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../helpers/ports.ts';

const T = { timeout: 120_000 };
const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let out: string;

// records every module each process resolves; written when it exits
const HOOK = `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const urls = [];
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); urls.push(resolved.url); return resolved; } });
process.on('exit', () => writeFileSync(process.env.LOADED_DIR + '/' + process.pid + '.json', JSON.stringify({ argv: process.argv, urls })));
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-bundle-'));
  out = join(root, `.build-test-${process.pid}`);
  const build = spawnSync(process.execPath, [join(root, 'scripts/build-bundle.ts'), '--out', out], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  writeFileSync(join(dir, 'switchyard.yaml'), `providers:
  - name: mock
    type: openai
    base_url: http://127.0.0.1:9/v1
    api_key: sk-test-0123456789
    models: ["*"]
`);
  writeFileSync(join(dir, 'hook.mjs'), HOOK);
  mkdirSync(join(dir, 'loaded'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

/** Files of the bundle holding any module of `pkg`, from the build's metafile. */
function filesWith(pkg: string): Set<string> {
  const metafile = JSON.parse(readFileSync(join(out, 'metafile.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const files = new Set<string>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (Object.keys(output.inputs).some((input) => input.includes(`node_modules/${pkg}/`))) files.add(pathToFileURL(join(root, file)).href);
  }
  return files;
}

test('the bundle checks a config', T, () => {
  const run = spawnSync(process.execPath, [join(out, 'main.js'), 'check-config', '--config', join(dir, 'switchyard.yaml')], { encoding: 'utf8', cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /OK \(1 provider, 0 aliases\)/);
});

/** Serves `config` from the bundle until `/readyz` answers 200, then stops it (SIGTERM, drained); its stdout and stderr. */
async function serveUntilReady(config: string, env: NodeJS.ProcessEnv): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(out, 'main.js'), '--config', config, '--port', String(port), '--workers', '1'], {
    cwd: dir, env: { PATH: process.env.PATH, HOME: dir, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((response) => response.status === 200, () => false);
      if (ready) break;
      assert.ok(child.exitCode === null, `exited before it was ready:\n${output}`);
      assert.ok(Date.now() < deadline, `not ready in time:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return output;
}

test('the bundle serves; the serving process loads no YAML parser or schema library, the child runs bundled', T, async () => {
  await serveUntilReady(join(dir, 'switchyard.yaml'), { SWITCHYARD_STATE_DIR: join(dir, 'state'), NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'hook.mjs')).href}`, LOADED_DIR: join(dir, 'loaded') });
  const processes = readdirSync(join(dir, 'loaded')).map((file) => JSON.parse(readFileSync(join(dir, 'loaded', file), 'utf8')) as { argv: string[]; urls: string[] });
  const serving = processes.find((entry) => entry.argv[1] === join(out, 'main.js'));
  const configChild = processes.find((entry) => entry.argv[1] === join(out, 'load-child.js'));
  assert.ok(serving !== undefined && configChild !== undefined, `both processes recorded: ${processes.map((entry) => entry.argv[1]).join(', ')}`);
  const files = (urls: string[]) => urls.filter((url) => url.startsWith('file:'));
  const parser = new Set([...filesWith('yaml'), ...filesWith('@sinclair/typebox')]);
  assert.ok(parser.size > 0);
  assert.ok(files(serving.urls).includes(pathToFileURL(join(out, 'serve.js')).href) || files(serving.urls).some((url) => /\/serve-\w+\.js$/.test(url)), 'the gateway came from the bundle');
  assert.deepEqual(files(serving.urls).filter((url) => parser.has(url)), [], 'no file holding yaml or TypeBox');
  assert.deepEqual(files(serving.urls).filter((url) => url.endsWith('.ts')), [], 'no TypeScript source in the serving process');
  assert.ok(files(configChild.urls).some((url) => parser.has(url)), 'the child loads them from the bundle');
  // undici and pino are in the bundle: the serving process resolves none of their installed files
  // (thread-stream, pino's transport worker, stays out of it)
  assert.deepEqual(files(serving.urls).filter((url) => /\/node_modules\/(undici|pino)\//.test(url)), [], 'undici and pino from the bundle');
  assert.deepEqual(files(configChild.urls).filter((url) => url.endsWith('.ts')), [], 'no TypeScript source in the child');
});

test('the bundled pino still runs its transport in a worker thread: logging.format pretty', T, async () => {
  const config = join(dir, 'pretty.yaml');
  writeFileSync(config, `logging: { format: pretty }\n${readFileSync(join(dir, 'switchyard.yaml'), 'utf8')}`);
  const output = await serveUntilReady(config, { SWITCHYARD_STATE_DIR: join(dir, 'state-pretty') });
  // pino-pretty's line for the drain, not a JSON line
  assert.match(output, /INFO.*draining: no new connections/);
  assert.doesNotMatch(output, /"msg":"draining/);
});
