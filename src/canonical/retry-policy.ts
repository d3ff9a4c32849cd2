// What the gateway does after a failed attempt, one row per error class: Envoy's `retry_on` as
// data. The attempt planner (src/routing/planner.ts) takes every retry and fallback decision from
// it, the health book (src/state/health.ts) its cooldowns, GatewayError its two informative flags;
// docs/routing.md and the README's summary are generated from it (scripts/gen-policy-docs.ts), so
// none of them can say something else. Beside the error classes because every layer reads it.
import type { ErrorClass, ErrorInfo } from './errors.ts';

/** Whether the key that failed is tried again, after a back-off. */
export type SameKeyRetry =
  /** never */
  | 'no'
  /** after an exponential back-off with full jitter, never shorter than `Retry-After` (a longer `Retry-After` than `max_backoff_ms` moves on) */
  | 'backoff'
  /** as `backoff`; and when every key of the target is cooling, once its cooldown ends — if that is within `max_backoff_ms` and no other target can take the request now */
  | 'backoff-or-cooldown';

/** Whether the request may leave the route that failed for another one. */
export type FallbackRule =
  /** the route's fallbacks, in order (and theirs after them) */
  | 'chain'
  /** only the route's `on_context_overflow` alias; without one the failure is answered at once */
  | 'context-overflow'
  /** no */
  | 'none';

/** What the attempt does to the health entry of its (provider key, model). */
export type HealthEffect =
  /** cooled down for `auth_s` */
  | 'auth'
  /** cooled down for `not_found_s` */
  | 'not-found'
  /** cooled down until `Retry-After`, else `rate_limit_s` doubled per consecutive 429 (capped by `rate_limit_max_s`) */
  | 'rate-limited'
  /** an outlier failure: counts towards ejection (`eject_after` in a row, the success rate) */
  | 'outlier'
  /** the target answered (the request was at fault): counted as a success */
  | 'answered'
  /** nothing */
  | 'none';

export interface RetryRule {
  /** The upstream outcomes that have this class, for the docs (docs/routing.md). */
  readonly outcomes: string;
  /** The same in a few words (the README). */
  readonly label: string;
  /** Another key of the same target, at once (within the route's `retry.attempts` tries of the target). */
  readonly anotherKey: boolean;
  /** The same key again (within `retry.attempts` too). */
  readonly sameKey: SameKeyRetry;
  /** The next target of the route (by its strategy). */
  readonly nextTarget: boolean;
  readonly fallback: FallbackRule;
  readonly health: HealthEffect;
}

function rule(row: RetryRule): RetryRule {
  return Object.freeze(row);
}

/** Moves on: another key or the same one after a back-off, then the next target, then the fallbacks. */
const TRANSIENT = { anotherKey: true, sameKey: 'backoff', nextTarget: true, fallback: 'chain', health: 'outlier' } as const;
/** Answered at once, as the provider (or the gateway) gave it. */
const FINAL = { anotherKey: false, sameKey: 'no', nextTarget: false, fallback: 'none' } as const;

/**
 * The policy, in the order the docs show it. Every failure before the commit point goes through
 * it; after the commit nothing is retried (the client has the stream), and only the `health`
 * column applies — as a stream failure, counted apart (see `TargetHealth.failAfterCommit`).
 */
export const RETRY_POLICY: Readonly<Record<ErrorClass, RetryRule>> = Object.freeze({
  'connect-failure': rule({ outcomes: 'connection refused, DNS failure, connect timeout', label: 'connection failures', ...TRANSIENT }),
  reset: rule({
    outcomes: 'the connection closed before the commit point; a stream that ended before its final event (`finish_reason`, `message_delta`, …) before it',
    label: 'resets',
    ...TRANSIENT,
  }),
  'per-try-timeout': rule({ outcomes: 'no response headers within `first_byte_ms`; silence longer than `idle_ms` before the commit point; 408', label: 'timeouts (and 408)', ...TRANSIENT }),
  'gateway-error': rule({
    outcomes: 'a malformed answer: a stream event that is not whole JSON, a frame over the 8 MiB limit, a body that cannot be read or decoded',
    label: 'malformed answers',
    ...TRANSIENT,
  }),
  'server-error': rule({ outcomes: '500, 502, 503, 504 (any 5xx); a stream whose first event is an error event', label: '5xx', ...TRANSIENT }),
  'rate-limited': rule({ outcomes: '429, 529', label: '429, 529', ...TRANSIENT, sameKey: 'backoff-or-cooldown', health: 'rate-limited' }),
  'auth-refused': rule({ outcomes: '401, 403 (the provider refused the key)', label: '401, 403', anotherKey: true, sameKey: 'no', nextTarget: true, fallback: 'chain', health: 'auth' }),
  'not-found': rule({ outcomes: '404 (model not found)', label: '404', anotherKey: false, sameKey: 'no', nextTarget: true, fallback: 'chain', health: 'not-found' }),
  'context-length': rule({
    outcomes: "context length exceeded (the provider's answer, or the gateway's estimate above every target's `context_window`)",
    label: 'context length exceeded',
    ...FINAL, fallback: 'context-overflow', health: 'answered',
  }),
  'client-error': rule({ outcomes: 'any other 4xx (bad request, content policy, …)', label: 'other 4xx (bad request, content policy)', ...FINAL, health: 'answered' }),
  canceled: rule({ outcomes: 'the client went away (everything stops at once)', label: 'the client went away', ...FINAL, health: 'none' }),
  none: rule({ outcomes: "the gateway's own answers (not an attempt's outcome)", label: "the gateway's own answers", ...FINAL, health: 'none' }),
});

/**
 * The class an error is handled as: its own, except that an upstream's 401/403 is always a refused
 * key and its 404 a missing model, whatever class its decoder gave it — an Anthropic or Gemini
 * error event at the start of a 200 stream carries the status of its error type under the class
 * `server-error`. A context-length refusal and a canceled request stay what they are.
 */
export function errorClassOf(error: Pick<ErrorInfo, 'errorClass' | 'upstreamStatus'>): ErrorClass {
  const errorClass = error.errorClass;
  if (errorClass === 'context-length' || errorClass === 'canceled') return errorClass;
  const status = error.upstreamStatus;
  if (status === 401 || status === 403) return 'auth-refused';
  if (status === 404) return 'not-found';
  return errorClass;
}

/** The row for an error (by `errorClassOf`). */
export function retryRuleOf(error: Pick<ErrorInfo, 'errorClass' | 'upstreamStatus'>): RetryRule {
  return RETRY_POLICY[errorClassOf(error)];
}

/** Whether an attempt that failed so says something about its target (a cooldown or an outlier), not only about the request. */
export function countsAgainstTarget(rule: RetryRule): boolean {
  return rule.health !== 'answered' && rule.health !== 'none';
}
