// What a caller may do (issue #15): the limits of a client key and of its team, in the shape every
// part of governance shares — the key store and the management API (which create and edit them),
// the YAML's `auth.keys` / `auth.teams` (which declare them), and the admit / commit / complete
// handlers (which enforce them). Built once per key (at config load, or when the key store reads a
// key), never per request; a key without limits has no policy at all, and costs nothing.

/** The periods a budget can run over; `total` never resets. Periods start at 00:00 UTC (weeks on Monday). */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

export interface Budget {
  /** The hard limit in USD per period: past it, requests are refused (429 `budget_exceeded`). */
  readonly usd: number;
  readonly period: BudgetPeriod;
  /**
   * The soft threshold in USD (below `usd`): once crossed, answers carry a warning header, and a
   * log line and a metric mark it; nothing is refused.
   */
  readonly softUsd?: number;
}

/** Limits of a key or a team; every field absent = unlimited. */
export interface Limits {
  /**
   * Allowed model names as the caller writes them: aliases, `provider:model`, and globs (`gpt-*`,
   * `openai:*`). Absent = every model.
   */
  readonly models?: readonly string[];
  /** Requests per minute. */
  readonly rpm?: number;
  /** Tokens (prompt + completion) per minute. */
  readonly tpm?: number;
  /** Requests in flight at once. */
  readonly maxConcurrent?: number;
  readonly budget?: Budget;
}

/** The exact-response cache as a key asks for it (the same settings a route may carry). */
export interface CacheSettings {
  readonly ttlSeconds: number;
  /** Cache entries are apart per key (never shared with another caller). */
  readonly perKey: boolean;
}

/** Where a key comes from: the YAML's `auth.keys`, or the gateway's key store (`sy-…` keys). */
export type KeySource = 'config' | 'store';

/**
 * One caller, as authenticate finds it. `id` names the key in logs, usage and headers (never the
 * secret); counters and budgets are kept per `id` (and per team name). Frozen; shared by every
 * request of the key until the key changes.
 */
export interface KeyPolicy {
  readonly id: string;
  readonly name: string;
  readonly source: KeySource;
  readonly team?: string;
  /** The key's own limits (undefined: none). */
  readonly limits?: Limits;
  /** The team's limits (undefined: no team, or a team without limits); a request must pass both. */
  readonly teamLimits?: Limits;
  readonly cache?: CacheSettings;
  /** Epoch ms after which the key is refused (401). */
  readonly expiresAt?: number;
}
