// `npm run bench:agent-clis [-- --quick] [-- --only=codex,opencode] [-- --out=bench/results/….md]`:
// the four agent-CLI benchmarks (bench/agent-clis/<cli>.ts, measured alike by harness.ts), each in a
// process of its own one after the other, then one table. A CLI missing from .tools/ is skipped
// (bash scripts/install-test-tools.sh installs them). The machine's load average is printed with
// each CLI's figures; `--calm=N` waits (up to 5 minutes) for the 1-minute load average to fall
// below N before each CLI.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { formatTable, machine, parseResult, type CliResult } from './report.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CLIS = ['claude-code', 'codex', 'gemini-cli', 'opencode'] as const;
const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, calm: { type: 'string' },
    pairs: { type: 'string' }, turns: { type: 'string' }, 'one-shot-turns': { type: 'string' },
  },
});
const only = values.only?.split(',') ?? [...CLIS];
const passed = [
  ...(values.quick ? ['--quick'] : []),
  ...(['pairs', 'turns', 'one-shot-turns'] as const).flatMap((name) => (values[name] !== undefined ? [`--${name}`, values[name]!] : [])),
];

function runOne(cli: string): Promise<{ result: CliResult | undefined; output: string }> {
  // the gateway runs inside the benchmark's process: with the V8 flags `npm start` gives it
  const child = spawn(process.execPath, ['--max-semi-space-size=16', '--no-allocation-site-pretenuring', join(here, `${cli}.ts`), ...passed], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  return new Promise((resolve) => child.once('close', () => resolve({ result: parseResult(output), output })));
}

const results: CliResult[] = [];
const skipped: string[] = [];
const started = new Date();
for (const cli of CLIS.filter((name) => only.includes(name))) {
  if (values.calm !== undefined) {
    const limit = Number(values.calm);
    const deadline = Date.now() + 300_000;
    while (loadavg()[0]! >= limit && Date.now() < deadline) {
      process.stderr.write(`[${cli}] waiting for the load average (${loadavg()[0]!.toFixed(1)}) to fall below ${limit}\n`);
      await sleep(15_000);
    }
  }
  const { result, output } = await runOne(cli);
  if (result !== undefined) results.push(result);
  else skipped.push(`${cli}: ${output.split('\n').find((line) => line.startsWith('skipped:')) ?? output.slice(-400)}`);
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const report = [
  `Agent CLI providers, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${values.quick ? 'quick' : 'full'} run`,
  `machine: ${machine()}; load average at the end ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1 / 5 / 15 min)`,
  '',
  formatTable(results),
  ...(skipped.length > 0 ? ['', `skipped: ${skipped.join('; ')}`] : []),
].join('\n');
process.stdout.write(`\n${report}\n`);
if (values.out !== undefined) writeFileSync(values.out, `\`\`\`\n${report}\n\`\`\`\n`);
