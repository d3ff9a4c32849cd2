// `GET /v0/usage`: sums the usage rows (pipeline/usage-observer.ts writes them) by model,
// provider, key, surface or day over a time range.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { UsageRecorder } from '../state/usage-recorder.ts';
import { USAGE_GROUPS, type UsageGroup, type UsageQuery, type UsageSummary } from '../state/usage-store.ts';
import { roundCost } from '../observability/access-log.ts';
import { redactText } from '../util/redact.ts';
import type { LocalHandler } from '../pipeline/gateway.ts';
import { sendError, sendJson } from '../pipeline/respond.ts';

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
/** How long `GET /v0/usage` waits for this process's queued rows to be written before it reads. */
const FLUSH_WAIT_MS = 2000;

export function parseInstant(text: string, now: number): number | undefined {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'now') return now;
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  if (value === 'today') return midnight;
  if (value === 'yesterday') return midnight - DAY_MS;
  const ago = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value);
  if (ago !== null) return now - Math.round(Number(ago[1]) * UNITS[ago[2]!]!);
  const parsed = Date.parse(text.trim());
  return Number.isNaN(parsed) ? undefined : parsed;
}

function badQuery(message: string, param: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', param });
}

/** `group_by`, `from`, `to` of the query string; the last 24 hours by model when absent. */
export function parseUsageQuery(query: string, now = Date.now()): UsageQuery {
  const params = new URLSearchParams(query);
  const groupBy = (params.get('group_by') ?? 'model') as UsageGroup;
  if (!USAGE_GROUPS.includes(groupBy)) throw badQuery(`group_by must be one of ${USAGE_GROUPS.join(', ')}, not '${groupBy}'.`, 'group_by');
  const instant = (name: 'from' | 'to', fallback: number): number => {
    const text = params.get(name);
    if (text === null || text === '') return fallback;
    const value = parseInstant(text, now);
    if (value === undefined) throw badQuery(`${name} must be an ISO date or date-time (2026-11-25, 2026-11-25T08:00:00Z), epoch milliseconds, today, yesterday, now, or a duration ago such as 24h or 7d; got '${text}'.`, name);
    return value;
  };
  const from = instant('from', now - DAY_MS);
  const to = instant('to', now);
  if (to <= from) throw badQuery(`to (${new Date(to).toISOString()}) must be after from (${new Date(from).toISOString()}).`, 'to');
  return { groupBy, from, to };
}

export function totalsOf(rows: readonly UsageSummary[]): Omit<UsageSummary, 'group'> {
  const totals: Omit<UsageSummary, 'group'> = {
    requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: null, unpriced_requests: 0,
    subscription_requests: 0, reported_cost_usd: null, cached_requests: 0,
  };
  for (const row of rows) {
    totals.requests += row.requests;
    totals.errors += row.errors;
    totals.input_tokens += row.input_tokens;
    totals.output_tokens += row.output_tokens;
    totals.cached_tokens += row.cached_tokens;
    totals.cache_write_tokens += row.cache_write_tokens;
    totals.reasoning_tokens += row.reasoning_tokens;
    totals.unpriced_requests += row.unpriced_requests;
    totals.subscription_requests += row.subscription_requests;
    totals.cached_requests += row.cached_requests;
    if (row.cost_usd !== null) totals.cost_usd = (totals.cost_usd ?? 0) + row.cost_usd;
    if (row.reported_cost_usd !== null) totals.reported_cost_usd = (totals.reported_cost_usd ?? 0) + row.reported_cost_usd;
  }
  if (totals.cost_usd !== null) totals.cost_usd = roundCost(totals.cost_usd);
  if (totals.reported_cost_usd !== null) totals.reported_cost_usd = roundCost(totals.reported_cost_usd);
  return totals;
}

/** What `GET /v0/usage` answers (and the management API's usage, which adds names and CSV). */
export interface UsageAnswer {
  object: 'usage';
  group_by: UsageGroup;
  from: string;
  to: string;
  data: UsageSummary[];
  totals: Omit<UsageSummary, 'group'>;
  store: string;
  dropped: number;
}

/** The sums of `query`, after this process's queued rows were written (waiting at most FLUSH_WAIT_MS). */
export async function readUsage(recorder: UsageRecorder, query: UsageQuery): Promise<UsageAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_WAIT_MS);
  });
  try {
    await Promise.race([recorder.flush(), waited]);
  } finally {
    clearTimeout(timer);
  }
  const rows = await recorder.store.summarize(query);
  const data = rows.map((row) => ({
    ...row,
    cost_usd: row.cost_usd === null ? null : roundCost(row.cost_usd),
    reported_cost_usd: row.reported_cost_usd === null ? null : roundCost(row.reported_cost_usd),
  }));
  return {
    object: 'usage',
    group_by: query.groupBy,
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    data,
    totals: totalsOf(data),
    store: recorder.store.kind,
    dropped: recorder.dropped,
  };
}

/** The 404 (recording off) or 503 (store unreadable) of the usage endpoints. */
export function usageUnavailable(message: string, status: number): GatewayError {
  return new GatewayError(ErrorCode.usageUnavailable, message, { status, origin: 'gateway', errorClass: 'none' });
}

/** `GET /v0/usage`: answered from the store (every worker's rows), after writing this process's queue. */
export function usageEndpoint(recorder: UsageRecorder | undefined): LocalHandler {
  return (_gateway, context, runtime) => {
    if (recorder === undefined) {
      sendError(context, usageUnavailable('Usage recording is off (storage.enabled: false in the config).', 404));
      return;
    }
    let query: UsageQuery;
    try {
      query = parseUsageQuery(context.query);
    } catch (error) {
      sendError(context, error as GatewayError);
      return;
    }
    readUsage(recorder, query).then(
      (usage) => sendJson(context, 200, JSON.stringify(usage)),
      (error: unknown) => {
        sendError(context, usageUnavailable(redactText(`The usage store (${recorder.store.kind}) could not be read: ${(error as Error).message}`, runtime.secrets), 503));
      },
    );
  };
}
