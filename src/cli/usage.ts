// `switchyard usage`: asks a running gateway's GET /v0/usage and prints the answer as an aligned
// table — what each model (provider, key, day, surface) used and cost over a time range.
import type { UsageSummary } from '../state/usage-store.ts';
import type { UsageArgs } from './args.ts';

export interface UsageReport {
  group_by: string;
  from: string;
  to: string;
  data: UsageSummary[];
  totals: Omit<UsageSummary, 'group'>;
  store?: string;
  dropped?: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Dollars with the precision the amount needs: $12.34, $0.0123, $0.000042. */
export function formatCost(value: number | null): string {
  if (value === null) return '—';
  if (value === 0) return '$0';
  if (value >= 1) return `$${value.toFixed(2)}`;
  if (value >= 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(6)}`;
}

function minute(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

const GROUP_TITLES: Record<string, string> = { model: 'MODEL', provider: 'PROVIDER', key: 'KEY', day: 'DAY (UTC)', surface: 'SURFACE' };

export function renderUsageTable(report: UsageReport): string {
  const header = [GROUP_TITLES[report.group_by] ?? report.group_by.toUpperCase(), 'REQUESTS', 'ERRORS', 'INPUT', 'CACHED', 'OUTPUT', 'REASONING', 'COST'];
  const cells = (group: string, row: Omit<UsageSummary, 'group'>): string[] => [
    group,
    integer.format(row.requests),
    integer.format(row.errors),
    integer.format(row.input_tokens),
    integer.format(row.cached_tokens),
    integer.format(row.output_tokens),
    integer.format(row.reasoning_tokens),
    formatCost(row.cost_usd) + (row.unpriced_requests > 0 ? '*' : ''),
  ];
  const none = report.group_by === 'key' ? '(no key)' : '(none)';
  const rows = report.data.map((row) => cells(row.group ?? none, row));
  const lines = [`Usage by ${report.group_by}, ${minute(report.from)} to ${minute(report.to)} UTC`, ''];
  if (rows.length === 0) {
    lines.push('No requests recorded in this range.');
    return lines.join('\n') + '\n';
  }
  const table = [header, ...rows, cells('TOTAL', report.totals)];
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  lines.push(format(header));
  for (const row of rows) lines.push(format(row));
  lines.push(widths.map((width) => '-'.repeat(width)).join('  '));
  lines.push(format(table.at(-1)!));
  if (report.totals.unpriced_requests > 0) {
    lines.push('', `* ${integer.format(report.totals.unpriced_requests)} request(s) of models with no known price are not in the cost; price them under prices: in the config.`);
  }
  const subscription = report.totals.subscription_requests ?? 0;
  if (subscription > 0) {
    const reported = report.totals.reported_cost_usd ?? null;
    lines.push('', `${integer.format(subscription)} request(s) were answered from a subscription (agent CLIs): their tokens cost $0 here${reported !== null ? `; the CLIs reported ${formatCost(reported)} at API prices` : ''}.`);
  }
  if ((report.dropped ?? 0) > 0) lines.push('', `Note: this gateway process dropped ${integer.format(report.dropped!)} usage row(s) (the store was failing or too slow); see its log.`);
  return lines.join('\n') + '\n';
}

export function usageUrl(args: UsageArgs): string {
  const params = new URLSearchParams({ group_by: args.groupBy });
  if (args.from !== undefined) params.set('from', args.from);
  if (args.to !== undefined) params.set('to', args.to);
  return `${args.url}/v0/usage?${params}`;
}

/** Prints the table (or the JSON); 1 with a reason on stderr when the gateway cannot answer. */
export async function runUsage(args: UsageArgs, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const url = usageUrl(args);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: args.key !== undefined ? { authorization: `Bearer ${args.key}` } : {},
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    stderr.write(`switchyard: cannot reach the gateway at ${args.url} (${reason}); is it running? Point --url at it.\n`);
    return 1;
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    stderr.write(`switchyard: ${args.url} answered ${response.status} with something other than JSON; is it a Switchyard gateway?\n`);
    return 1;
  }
  if (response.status !== 200) {
    const message = (body as { error?: { message?: string } }).error?.message ?? text;
    const hint = response.status === 401 ? ' Pass a client key with --key or $SWITCHYARD_KEY.' : '';
    stderr.write(`switchyard: ${response.status}: ${message}${hint}\n`);
    return 1;
  }
  stdout.write(args.json ? JSON.stringify(body, null, 2) + '\n' : renderUsageTable(body as UsageReport));
  return 0;
}
