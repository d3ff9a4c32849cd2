// Start-up on its own: start to ready and idle RSS for the Node floor and Switchyard (the bench
// config — a dozen providers, default features on — and zero-config), warm (the compile cache
// already filled) and cold (an empty cache directory per start). Starts are interleaved per round
// so machine drift spreads over every variant.
// Usage: node bench/startup.ts [--runs 7] [--no-cold] [--no-zero] [--bin other/switchyard.js …]
// (--bin: also start another entry point — e.g. a build of precompiled JavaScript — beside bin/switchyard.js)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installCleanup } from './lib/processes.ts';
import { num, table } from './lib/report.ts';
import { dropCacheDir, floorStart, freshCacheDir, summarize, switchyardStart, timeOneStart, type StartCommand, type StartSample } from './lib/startup.ts';
import { switchyardYaml } from './lib/systems.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const node = join(root, 'node_modules/.bin/node');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, 'no-cold': { type: 'boolean' }, 'no-zero': { type: 'boolean' }, bin: { type: 'string', multiple: true } } });
const runs = Number(values.runs);
installCleanup();

const work = join(root, 'bench/.work');
mkdirSync(work, { recursive: true });
const configFile = join(work, 'switchyard-startup.yaml');
// nothing listens on port 9 (discard): the providers are built, never called
writeFileSync(configFile, switchyardYaml(9, 18080, join(work, 'switchyard-startup-state')));
const zeroDir = mkdtempSync(join(tmpdir(), 'switchyard-zero-'));
const zeroEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: zeroDir, SWITCHYARD_AGENT_CLIS: 'off', XDG_STATE_HOME: join(zeroDir, 'state') };
const warmCache = freshCacheDir();

interface Variant { start: StartCommand; cold: boolean }
const withCache = (env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv => ({ ...env, NODE_COMPILE_CACHE: dir });
const variants: Variant[] = [
  { start: floorStart(node, root, 9), cold: false },
  { start: switchyardStart(node, root, 'Switchyard, bench config, warm cache', configFile, withCache(process.env, warmCache)), cold: false },
];
const bins: [string, string][] = [['Switchyard', join(root, 'bin/switchyard.js')], ...(values.bin ?? []).map((bin): [string, string] => [bin, resolve(bin)])];
for (const [name, bin] of bins) {
  if (name !== 'Switchyard') variants.push({ start: switchyardStart(node, root, `${name}, bench config, warm cache`, configFile, withCache(process.env, warmCache), root, bin), cold: false });
  if (values['no-zero'] !== true) variants.push({ start: switchyardStart(node, root, `${name}, zero-config, warm cache`, undefined, withCache(zeroEnv, warmCache), zeroDir, bin), cold: false });
  if (values['no-cold'] !== true) {
    variants.push({ start: switchyardStart(node, root, `${name}, bench config, cold cache`, configFile, process.env, root, bin), cold: true });
    if (values['no-zero'] !== true) variants.push({ start: switchyardStart(node, root, `${name}, zero-config, cold cache`, undefined, zeroEnv, zeroDir, bin), cold: true });
  }
}

async function once(variant: Variant, idleMs: number): Promise<StartSample> {
  if (!variant.cold) return timeOneStart(variant.start, idleMs);
  const dir = freshCacheDir();
  try {
    return await timeOneStart({ ...variant.start, env: withCache(variant.start.env ?? process.env, dir) }, idleMs);
  } finally {
    dropCacheDir(dir);
  }
}

const loadBefore = loadavg();
for (const variant of variants) await once(variant, 0); // fills the warm cache; discarded
const samples = new Map<Variant, StartSample[]>(variants.map((variant) => [variant, []]));
for (let round = 0; round < runs; round++) {
  const shift = round % variants.length;
  for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) samples.get(variant)!.push(await once(variant, 1000));
}
const loadAfter = loadavg();
dropCacheDir(warmCache);
rmSync(zeroDir, { recursive: true, force: true });

const rows = variants.map((variant) => {
  const summary = summarize(variant.start.label, samples.get(variant)!);
  const ready = summary.samples.map((sample) => sample.readyMs).sort((a, b) => a - b);
  return [summary.label, num(summary.readyMs), `${num(ready[0])}–${num(ready.at(-1))}`, num(summary.idleRssMb, 1)];
});
process.stdout.write(`${table(['start', 'start to ready ms (median)', 'range ms', 'idle RSS MB (median)'], rows)}\n\n` +
  `${runs} starts each, interleaved; load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')} before, ${loadAfter.map((value) => value.toFixed(2)).join(' ')} after.\n`);
