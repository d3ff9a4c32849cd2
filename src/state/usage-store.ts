// Where request usage lasts: one row per routed request, summed per model, provider, key, surface
// or day. Two backends behind one interface — SQLite under the state directory (the default,
// shared by every worker process through WAL) and PostgreSQL — written only through the bounded,
// batched queue of usage-recorder.ts, so neither is ever on a request's path.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StorageConfig } from '../config/types.ts';

/** One finished request that reached routing. Token counts are null when the provider reported none. */
export interface UsageRow {
  /** Epoch ms when the request started. */
  time: number;
  requestId: string;
  /** The client key's id (`key-xxxxxxxx`), never the key; '' without client auth. */
  keyId: string;
  surface: string;
  modelAsked: string;
  /** The provider and model that answered (after retries and fallbacks), or the last one tried. */
  provider: string;
  model: string;
  /** The fallback or overflow route that answered, when not the one asked for. */
  fallback: string;
  status: number;
  stream: boolean;
  attempts: number;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  /** Null when the usage or the model's price is unknown; 0 for subscription usage (see `subscription`). */
  costUsd: number | null;
  durationMs: number;
  /** Answered from a subscription (an agent CLI's login): no money per token, so `costUsd` is 0 unless `prices:` names the provider. Default false. */
  subscription?: boolean;
  /** What the CLI reported the answer cost (Claude's `total_cost_usd`, an API-price estimate), kept apart from `costUsd`. */
  reportedCostUsd?: number | null;
  /** Answered from the gateway's exact-response cache: no provider was asked, so `costUsd` is 0. Default false. */
  cached?: boolean;
  /** The client key's team (`auth.teams`, the key store), '' for none. Team budgets are read back from it. */
  team?: string;
  /** What an auto alias decided (`model: auto`), as JSON (alias, tier or model, by, score, decision µs); '' for none. */
  route?: string;
}

export const USAGE_GROUPS = ['model', 'provider', 'key', 'team', 'day', 'surface'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  groupBy: UsageGroup;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

/** One group's sums, in the shape `GET /v0/usage` answers. */
export interface UsageSummary {
  /** The model (that answered, else the one asked), provider, key id, team, surface or UTC day; null for none (no client key, no team). */
  group: string | null;
  requests: number;
  /** Requests answered with a status of 400 or more. */
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** Null when no request of the group had a known price. */
  cost_usd: number | null;
  /** Requests with token usage but no known price (their cost is missing from cost_usd). */
  unpriced_requests: number;
  /** Requests answered from a subscription (agent CLIs), whose tokens cost nothing in cost_usd. */
  subscription_requests: number;
  /** The sum of what agent CLIs reported their answers cost (an API-price estimate, not money spent); null when none did. */
  reported_cost_usd: number | null;
  /** Requests answered from the exact-response cache (cost 0). */
  cached_requests: number;
}

export interface UsageStore {
  /** `sqlite` or `postgres`. */
  readonly kind: string;
  /** The file, or the database URL without its password. */
  readonly location: string;
  /** Resolves once the store can be written (file open, database reachable); rejects with why not. */
  ready(): Promise<void>;
  insert(rows: readonly UsageRow[]): Promise<void>;
  summarize(query: UsageQuery): Promise<UsageSummary[]>;
  /** Deletes at most `limit` rows older than `before` (epoch ms); resolves with how many went. */
  prune(before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

/** The state directory when `storage.path` is not set. */
export function defaultStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWITCHYARD_STATE_DIR) return env.SWITCHYARD_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'switchyard');
  return join(homedir(), '.local', 'state', 'switchyard');
}

export const USAGE_DATABASE_FILE = 'usage.db';

/** The URL with its password masked, for logs and the banner. */
export function safeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * Opens the configured store without waiting for it: a database that cannot be reached or a
 * directory that cannot be written makes its writes fail (and the recorder drop), never the start.
 */
export async function openUsageStore(config: StorageConfig, env: NodeJS.ProcessEnv = process.env): Promise<UsageStore> {
  if (config.url !== undefined) {
    const { PostgresUsageStore } = await import('./usage-postgres.ts');
    return new PostgresUsageStore(config.url);
  }
  const { SqliteUsageStore } = await import('./usage-sqlite.ts');
  return new SqliteUsageStore(join(config.path ?? defaultStateDirectory(env), USAGE_DATABASE_FILE));
}

/** Sums of a group, as both backends compute them. */
export function summaryOf(row: Record<string, unknown>): UsageSummary {
  const number = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
  const group = row.grp === null || row.grp === undefined || row.grp === '' ? null : String(row.grp);
  return {
    group,
    requests: number(row.requests),
    errors: number(row.errors),
    input_tokens: number(row.input_tokens),
    output_tokens: number(row.output_tokens),
    cached_tokens: number(row.cached_tokens),
    cache_write_tokens: number(row.cache_write_tokens),
    reasoning_tokens: number(row.reasoning_tokens),
    cost_usd: row.cost_usd === null || row.cost_usd === undefined ? null : Number(row.cost_usd),
    unpriced_requests: number(row.unpriced_requests),
    subscription_requests: number(row.subscription_requests),
    reported_cost_usd: row.reported_cost_usd === null || row.reported_cost_usd === undefined ? null : Number(row.reported_cost_usd),
    cached_requests: number(row.cached_requests),
  };
}

/** The sums both backends select, after the group expression. */
export const SUMS_SQL = `COUNT(*) AS requests,
  SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
  SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cached_tokens) AS cached_tokens,
  SUM(cache_write_tokens) AS cache_write_tokens, SUM(reasoning_tokens) AS reasoning_tokens, SUM(cost_usd) AS cost_usd,
  SUM(CASE WHEN cost_usd IS NULL AND input_tokens IS NOT NULL THEN 1 ELSE 0 END) AS unpriced_requests,
  SUM(CASE WHEN subscription THEN 1 ELSE 0 END) AS subscription_requests, SUM(reported_cost_usd) AS reported_cost_usd,
  SUM(CASE WHEN cached THEN 1 ELSE 0 END) AS cached_requests`;

/** Most expensive first, then busiest; days in order. */
export function orderSql(groupBy: UsageGroup): string {
  return groupBy === 'day' ? 'ORDER BY grp' : 'ORDER BY cost_usd DESC NULLS LAST, requests DESC, grp';
}

/** The group column; `day` needs the backend's date function. */
export function groupSql(groupBy: UsageGroup, day: string): string {
  switch (groupBy) {
    case 'model': return "CASE WHEN model = '' THEN model_asked ELSE model END";
    case 'provider': return 'provider';
    case 'key': return 'key_id';
    case 'team': return 'team';
    case 'surface': return 'surface';
    case 'day': return day;
  }
}

export const COLUMNS = [
  'time', 'request_id', 'key_id', 'surface', 'model_asked', 'provider', 'model', 'fallback', 'status', 'stream', 'attempts',
  'input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens', 'cost_usd', 'duration_ms',
  'subscription', 'reported_cost_usd', 'cached', 'team', 'route',
] as const;

/**
 * Columns added after the first release, with their SQL types per backend: a store created before
 * gets them at open (`ALTER TABLE … ADD COLUMN`), old rows reading as their defaults.
 */
export const ADDED_COLUMNS = [
  { name: 'subscription', sqlite: 'INTEGER NOT NULL DEFAULT 0', postgres: 'boolean NOT NULL DEFAULT false' },
  { name: 'reported_cost_usd', sqlite: 'REAL', postgres: 'double precision' },
  { name: 'cached', sqlite: 'INTEGER NOT NULL DEFAULT 0', postgres: 'boolean NOT NULL DEFAULT false' },
  { name: 'team', sqlite: "TEXT NOT NULL DEFAULT ''", postgres: "text NOT NULL DEFAULT ''" },
  { name: 'route', sqlite: "TEXT NOT NULL DEFAULT ''", postgres: "text NOT NULL DEFAULT ''" },
] as const;

/** A row's values in COLUMNS order (time as epoch ms, stream as a boolean). */
export function valuesOf(row: UsageRow): (string | number | boolean | null)[] {
  return [
    row.time, row.requestId, row.keyId, row.surface, row.modelAsked, row.provider, row.model, row.fallback, row.status, row.stream, row.attempts,
    row.inputTokens, row.outputTokens, row.cachedTokens, row.cacheWriteTokens, row.reasoningTokens, row.costUsd, row.durationMs,
    row.subscription ?? false, row.reportedCostUsd ?? null, row.cached ?? false, row.team ?? '', row.route ?? '',
  ];
}
