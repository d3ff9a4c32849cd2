// The report: Markdown tables per scenario (printed as each completes), Switchyard's ratio to each
// baseline, the budget checklist, and the machine description.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { labels, type System, type SystemId } from './systems.ts';

export interface BudgetRow {
  line: string;
  target: string;
  measured: string;
  /** undefined: not measured in this run (scenario skipped, system unavailable). */
  pass: boolean | undefined;
}

export class Report {
  readonly sections: string[] = [];
  readonly budget: BudgetRow[] = [];
  readonly notes: string[] = [];

  add(markdown: string): void {
    this.sections.push(markdown);
    process.stdout.write(`\n${markdown}\n\n`);
  }

  check(line: string, target: string, measured: string, pass: boolean | undefined): void {
    this.budget.push({ line, target, measured, pass });
  }

  note(text: string): void {
    this.notes.push(text);
    process.stdout.write(`note: ${text}\n`);
  }

  budgetTable(): string {
    const rows = this.budget.map((row) => [
      row.pass === undefined ? '⬜ n/a' : row.pass ? '✅ PASS' : '❌ FAIL', row.line, row.target, row.measured,
    ]);
    return table(['', 'budget line', 'target', 'measured'], rows);
  }
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
