// Checks the import boundaries of docs/architecture.md: which module may import which.
// Run by `npm test`; exits 1 listing every import that crosses a boundary.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

/** module → modules it may import (besides itself). A surface or provider folder is its own module. */
const allowed: Record<string, string[]> = {
  canonical: [],
  util: [],
  streaming: ['util'],
  surfaces: ['canonical', 'streaming', 'util'],
  providers: ['canonical', 'streaming', 'util', 'upstream', 'config', 'providers/presets', 'providers/common'],
  routing: ['canonical', 'config', 'util', 'state'],
  upstream: ['canonical', 'util', 'config'],
  config: ['canonical', 'util', 'providers/presets'],
  observability: ['canonical', 'pipeline', 'util', 'config'],
  server: ['canonical', 'util'],
  pipeline: ['canonical', 'config', 'observability', 'routing', 'server', 'state', 'streaming', 'upstream', 'util'],
  state: ['canonical', 'util', 'config'],
  // the gateway's own endpoints (status, usage, probes): answered through the pipeline, never imported by it
  admin: ['canonical', 'config', 'observability', 'pipeline', 'routing', 'state', 'util'],
  cli: ['*'],
  main: ['*'],
};

function moduleOf(file: string): string {
  const parts = relative(src, file).split(sep);
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if ((parts[0] === 'surfaces' || parts[0] === 'providers') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0]!;
}

function family(module: string): string {
  return module.split('/')[0]!;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const violations: string[] = [];
for (const file of files(src)) {
  const from = moduleOf(file);
  const rules = allowed[family(from)] ?? [];
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2]!;
    const target = resolve(dirname(file), specifier);
    if (!target.startsWith(src)) continue;
    const to = moduleOf(target);
    if (to === from || rules.includes('*')) continue;
    if (rules.includes(to) || rules.includes(family(to))) {
      // surfaces and providers may not import other vendors' folders (presets are shared data)
      if ((family(from) === 'surfaces' || family(from) === 'providers') && family(to) === family(from) && to !== 'providers/presets' && to !== 'providers/common') {
        violations.push(`${relative(root, file)} imports ${specifier} (another ${family(from).slice(0, -1)})`);
      }
      continue;
    }
    violations.push(`${relative(root, file)} (${from}) imports ${specifier} (${to})`);
  }
}
if (violations.length > 0) {
  process.stderr.write(`Import boundary violations (see docs/architecture.md):\n  ${violations.join('\n  ')}\n`);
  process.exit(1);
}
process.stdout.write('import boundaries: ok\n');
