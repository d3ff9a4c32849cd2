// The report: Markdown tables per scenario (printed as each completes), Switchyard's ratio to each
// baseline, the budget checklist, and the machine description.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { currentBundle } from '../../bin/current-bundle.js';
import { labels, type System, type SystemId } from './systems.ts';

export interface BudgetRow {
  line: string;
  target: string;
  measured: string;
  /** undefined: not measured in this run (scenario skipped, system unavailable). */
  pass: boolean | undefined;
  /** Measured over part of what the line asks (an interrupted soak): the verdict holds so far only. */
  partial?: boolean;
}

export class Report {
  readonly sections: string[] = [];
  readonly budget: BudgetRow[] = [];
  readonly notes: string[] = [];
  /**
   * Set when this report is not the run's last word (a soak still running, or cut short): the
   * document says so at its top.
   */
  interruption: string | undefined = undefined;
  /** Sections and notes are printed as they come, except in a snapshot. */
  private readonly echo: boolean;

  constructor(echo = true) {
    this.echo = echo;
  }

  /** A silent copy to add an interim section to, leaving this report as it was. */
  snapshot(): Report {
    const copy = new Report(false);
    copy.sections.push(...this.sections);
    copy.budget.push(...this.budget);
    copy.notes.push(...this.notes);
    copy.interruption = this.interruption;
    return copy;
  }

  add(markdown: string): void {
    this.sections.push(markdown);
    if (this.echo) process.stdout.write(`\n${markdown}\n\n`);
  }

  check(line: string, target: string, measured: string, pass: boolean | undefined, partial = false): void {
    this.budget.push({ line, target, measured, pass, ...(partial ? { partial } : {}) });
  }

  note(text: string): void {
    this.notes.push(text);
    if (this.echo) process.stdout.write(`note: ${text}\n`);
  }

  budgetTable(): string {
    const rows = this.budget.map((row) => [verdict(row), row.line, row.target, row.measured]);
    return table(['', 'budget line', 'target', 'measured'], rows);
  }
}

function verdict(row: BudgetRow): string {
  if (row.partial === true) return row.pass === undefined ? '⏸ n/a so far' : row.pass ? '⏸ PASS so far' : '⏸ FAIL so far';
  return row.pass === undefined ? '⬜ n/a' : row.pass ? '✅ PASS' : '❌ FAIL';
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function signed(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return (value >= 0 ? '+' : '−') + num(Math.abs(value), digits);
}

export function ratio(value: number | undefined, baseline: number | undefined): number | undefined {
  // A ratio of a negative difference (a system measured faster than direct: noise) means nothing.
  if (value === undefined || baseline === undefined || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline <= 0 || value < 0) return undefined;
  return value / baseline;
}

export function times(value: number | undefined): string {
  return value === undefined ? '—' : `${num(value, value >= 10 ? 1 : 2)}×`;
}

export interface Metric {
  label: string;
  values: Partial<Record<SystemId, number>>;
}

const subjects: readonly SystemId[] = ['switchyard', 'switchyard-auto'];
const baselines: readonly SystemId[] = ['direct', 'nginx', 'portkey'];

/** Switchyard (×1 and auto) divided by each baseline, one column per metric. */
export function ratioTable(metrics: readonly Metric[], systems: readonly System[]): string {
  const present = new Set(systems.filter((system) => system.usable).map((system) => system.id));
  const rows: string[][] = [];
  for (const subject of subjects) {
    if (!present.has(subject)) continue;
    for (const baseline of baselines) {
      if (!present.has(baseline)) continue;
      const cells = metrics.map((metric) => ratio(metric.values[subject], metric.values[baseline]));
      if (cells.every((cell) => cell === undefined)) continue;
      rows.push([`${labels[subject]} ÷ ${labels[baseline]}`, ...cells.map(times)]);
    }
  }
  if (rows.length === 0) return '';
  return '\n\n' + table(['ratio', ...metrics.map((metric) => metric.label)], rows);
}

/** First line a command prints (stdout or stderr: nginx -v and wrk -v write to stderr, wrk exits 1). */
function versionLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) return 'not found';
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? '?';
}

/**
 * The commit under test, read when the run starts: `git rev-parse HEAD`, its branch, and whether
 * the work tree differed from it (bench/results aside: the run writes there itself).
 */
export function describeCommit(root: string): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git(['rev-parse', 'HEAD']);
  if (head.error !== undefined || head.status !== 0) return 'unknown (not a git checkout)';
  const branch = git(['rev-parse', '--abbrev-ref', 'HEAD']).stdout?.trim();
  const changed = (git(['status', '--porcelain', '--', '.', ':(exclude)bench/results']).stdout ?? '')
    .split('\n').filter((line) => line.trim() !== '').map((line) => line.slice(3));
  const state = changed.length === 0 ? 'clean work tree'
    : `**dirty**: ${changed.length} file(s) changed or untracked (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''})`;
  // bin/switchyard.js runs the start-up bundle while it matches the sources, else the sources (the start and idle lines differ by ~200 ms and ~13 MB)
  const code = currentBundle(pathToFileURL(`${root}/`)) !== undefined ? 'Switchyard from its start-up bundle (`.build/`, current with the sources)'
    : 'Switchyard from its TypeScript sources (no current start-up bundle: `npm install` or `npm run build` makes one)';
  return `\`${head.stdout.trim()}\`${branch === undefined || branch === '' || branch === 'HEAD' ? '' : ` (${branch})`}, ${state}; ${code}`;
}

export function describeMachine(node: string, portkeyVersion: string | undefined): string[] {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let distro = 'Linux';
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch { /* keep the default */ }
  return [
    `CPU: ${cpu}, ${os.availableParallelism()} cores available`,
    `Memory: ${num(os.totalmem() / 2 ** 30, 1)} GiB`,
    `OS: ${distro}, kernel ${os.release()}`,
    `Node: ${versionLine(node, ['--version'])} (the pinned \`node\` dev dependency; gateway, Portkey, mock and load client)`,
    `nginx: ${versionLine('nginx', ['-v']).replace(/^nginx version: /, '')}`,
    `wrk: ${versionLine('wrk', ['-v']).split(' [')[0]}`,
    `Portkey: ${portkeyVersion === undefined ? 'not installed' : `@portkey-ai/gateway ${portkeyVersion}`}`,
  ];
}
