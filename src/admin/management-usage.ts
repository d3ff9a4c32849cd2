// `GET /v0/management/usage`: the sums `GET /v0/usage` answers (the same query: group_by, from,
// to), for admins — the dashboard's Usage page reads it with its session, where /v0/usage wants a
// client key — with each key's name beside its id, and `format=csv` for a spreadsheet: the rows
// and the totals the page's table shows, the same numbers, quoted as RFC 4180 says.
import type { GatewayError } from '../canonical/errors.ts';
import type { KeyStore } from '../governance/key-store.ts';
import type { LocalHandler } from '../pipeline/gateway.ts';
import { sendError, sendJson, sendWire } from '../pipeline/respond.ts';
import type { UsageRecorder } from '../state/usage-recorder.ts';
import type { UsageQuery, UsageSummary } from '../state/usage-store.ts';
import { redactText } from '../util/redact.ts';
import { parseUsageQuery, readUsage, usageUnavailable, type UsageAnswer } from './usage.ts';

const NO_STORE = ['cache-control', 'no-store'] as const;

/** The CSV's columns after `group` (and `name` for keys), in the order of the page's table. */
export const CSV_COLUMNS = [
  'requests', 'errors', 'input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens',
  'cost_usd', 'unpriced_requests', 'subscription_requests', 'reported_cost_usd', 'cached_requests',
] as const satisfies readonly (keyof UsageSummary)[];

/**
 * One CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled); text that
 * a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe.
 * Numbers are written as they are.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The usage as CSV: a header, a line per group, then a `total` line. */
export function usageCsv(usage: UsageAnswer & { data: (UsageSummary & { name?: string | null })[] }): string {
  const named = usage.group_by === 'key';
  const header = [usage.group_by, ...(named ? ['name'] : []), ...CSV_COLUMNS];
  const lines = [header.join(',')];
  for (const row of usage.data) {
    const group = row.group ?? (usage.group_by === 'key' || usage.group_by === 'team' ? '(none)' : '');
    lines.push([group, ...(named ? [row.name ?? null] : []), ...CSV_COLUMNS.map((column) => row[column])].map(csvField).join(','));
  }
  lines.push(['total', ...(named ? [null] : []), ...CSV_COLUMNS.map((column) => usage.totals[column])].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The key's name for each key id the store knows. */
function withNames(usage: UsageAnswer, store: KeyStore | undefined): UsageAnswer {
  if (usage.group_by !== 'key' || store === undefined) return usage;
  const names = new Map(store.listKeys().map((key) => [key.id, key.name]));
  return { ...usage, data: usage.data.map((row) => ({ ...row, name: row.group === null ? null : names.get(row.group) ?? null })) };
}

export function managementUsageEndpoint(recorder: UsageRecorder | undefined, store: KeyStore | undefined): LocalHandler {
  return (_gateway, context, runtime) => {
    if (recorder === undefined) {
      sendError(context, usageUnavailable('Usage recording is off (storage.enabled: false in the config).', 404), NO_STORE);
      return;
    }
    let query: UsageQuery;
    let csv: boolean;
    try {
      query = parseUsageQuery(context.query);
      csv = new URLSearchParams(context.query).get('format') === 'csv';
    } catch (error) {
      sendError(context, error as GatewayError, NO_STORE);
      return;
    }
    readUsage(recorder, query).then((read) => {
      const usage = withNames(read, store);
      if (!csv) {
        sendJson(context, 200, JSON.stringify(usage), NO_STORE);
        return;
      }
      const file = `switchyard-usage-by-${usage.group_by}-${usage.from.slice(0, 10)}-to-${usage.to.slice(0, 10)}.csv`;
      sendWire(context, {
        status: 200,
        headers: ['content-type', 'text/csv; charset=utf-8', 'content-disposition', `attachment; filename="${file}"`],
        body: usageCsv(usage),
      }, NO_STORE);
    }, (error: unknown) => {
      sendError(context, usageUnavailable(redactText(`The usage store (${recorder.store.kind}) could not be read: ${(error as Error).message}`, runtime.secrets), 503), NO_STORE);
    });
  };
}
