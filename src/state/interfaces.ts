// The state the gateway keeps between requests, as small interfaces: passive health, session pins
// and the retry budget (used by routing and the runner today), and the rate-limit counters, budget
// spend and response cache that governance and caching will use. The in-process implementations
// (health.ts, sessions.ts, retry-budget.ts, local-*.ts) are the default; a shared one (Redis or
// Valkey, for several instances behind a load balancer) implements the same interface and is
// chosen in the composition root (src/main.ts), so nothing in pipeline/ or routing/ changes.
//
// Two rules shape every interface here:
// - A call made for every request is synchronous in the in-process store and allocates nothing
//   beyond the record a new key needs (the same monomorphic call as a method of a concrete
//   class). Where a shared store cannot answer without a round trip, the result is
//   `MaybePromise<T>`: the in-process store returns the value, and the caller awaits only when it
//   is handed a promise.
// - Every check-and-take is one operation (reserve, then settle), so a shared store can do it as
//   one Lua script and stay exact under concurrency across instances, never check-then-write.
import type { ErrorInfo } from '../canonical/errors.ts';
import type { CooldownSettings, RetryBudgetSettings } from '../config/types.ts';

/** A value, or — from a shared store only — a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

// ---------------------------------------------------------------------------------------------
// Health

export type CooldownReason = 'auth' | 'not-found' | 'rate-limited' | 'ejected';

export type HealthState = 'healthy' | 'cooling' | 'half-open';

/**
 * What took a target out of rotation: `eject_after` failures in a row before the commit point, a
 * recent success rate at or below `success_rate_threshold_percent`, a failed half-open probe (the
 * only ejection that doubles the time), or a failed active health check.
 */
export type EjectionCause = 'consecutive-failures' | 'success-rate' | 'probe' | 'health-check';

/** Asked before an outlier detector ejects an entry: would the route keep enough targets? */
export interface EjectionGuard {
  allowsEjection(entry: HealthEntry, now: number): boolean;
}

/**
 * The health of one (provider key, model): whether it may take a request now, the attempts in
 * flight on it, its latency, and the outcomes that cool it down or eject it. Routes hold their
 * entries from the moment they are built, and the runner reads and updates them on every attempt:
 * every member is synchronous and local. Fields are read-only here; they change only through the
 * methods.
 */
export interface HealthEntry {
  readonly provider: string;
  /** Index of the key in the provider's `api_keys` (0 when it has none). */
  readonly keyIndex: number;
  /** A short non-secret fingerprint of the key, for status pages and logs. */
  readonly keyId: string;
  readonly model: string;
  /** Epoch ms before which this entry is not picked (except by its half-open probe, or in panic). */
  readonly until: number;
  readonly reason: CooldownReason | undefined;
  /** The error that started the cooldown (already redacted), replayed when nothing else can answer. */
  readonly lastError: ErrorInfo | undefined;
  readonly lastErrorAt: number;
  /** Failures in a row before the commit point. */
  readonly consecutiveFailures: number;
  /** Ejections since the target last answered. */
  readonly ejections: number;
  /** What started the current ejection (undefined when not ejected). */
  readonly ejectedBy: EjectionCause | undefined;
  /** A half-open probe is in flight. */
  readonly probing: boolean;
  /** Shared state: until when the fleet-wide probe claim (asked for here, or another instance's) keeps this process from probing. */
  readonly probeHeldUntil: number;
  /** Attempts in flight on this entry, in this process. */
  readonly inflight: number;
  /** Peak-EWMA of the time to response headers, ms (0 = no sample yet). */
  readonly latencyMs: number;
  /** Attempts that reached a verdict. */
  readonly requests: number;
  /** Failed attempts, streams broken after their commit included. */
  readonly failures: number;
  /** Streams that failed after the commit point. */
  readonly streamFailures: number;

  /** Whether a request may use this entry now (a half-open entry admits one probe). */
  available(now: number): boolean;
  /** Available, or — when the route is in panic — out of rotation only because it is ejected. */
  usable(now: number, panic: boolean): boolean;
  /** Its ejection is over and no probe is out (nor claimed elsewhere): the next attempt is the probe. */
  halfOpen(now: number): boolean;
  state(now: number): HealthState;
  /** Claims the entry for one attempt (the half-open probe, when it is one). */
  take(now: number): void;
  /** The attempt is over, whatever its outcome. */
  release(): void;
  /** The target answered (the commit point, or a 4xx that was the request's fault). */
  succeed(now: number, latencyMs: number, startedAt?: number): void;
  /** The attempt failed before the commit point for a reason that is the target's. */
  fail(now: number, error: ErrorInfo, settings: CooldownSettings, startedAt?: number, guard?: EjectionGuard): void;
  /** A stream failed after the commit point: counted apart, for the success rate only. */
  failAfterCommit(now: number, error: ErrorInfo, settings: CooldownSettings, guard?: EjectionGuard): void;
  /** An operator put it back in rotation (the management API): cooldown, ejection and probe end. */
  clear(): void;
  /** Share of recent attempts that failed. */
  errorRate(now: number): number;
  /** Share of recent attempts without an outlier failure; undefined below `minimumVolume` recent attempts. */
  successRate(now: number, minimumVolume?: number): number | undefined;
}

/**
 * How often targets left rotation, per provider, counted as it happened (read by the metrics at
 * scrape time), and how many entries are ejected now (0 in the usual case: the runner then skips
 * the panic check with one read).
 */
export interface HealthCounts {
  /** provider → reason → cooldowns started (auth, not-found, rate-limited). */
  readonly cooldowns: ReadonlyMap<string, ReadonlyMap<CooldownReason, number>>;
  /** provider → cause → ejections. */
  readonly ejections: ReadonlyMap<string, ReadonlyMap<EjectionCause, number>>;
  /** provider → ejections refused by the route's max_ejection_percent. */
  readonly ejectionsOverflow: ReadonlyMap<string, number>;
  /** provider → attempts on an ejected target, made because its route was in panic. */
  readonly panicAttempts: ReadonlyMap<string, number>;
  /** provider → streams that failed after the commit point. */
  readonly streamFailures: ReadonlyMap<string, number>;
  readonly ejectedEntries: number;
}

/**
 * Passive health per (provider key, model), one per process, outliving config reloads. The router
 * asks for its entries when it builds a route (never per request); the runner then works on the
 * entries themselves; health checks mark whole keys down and up; the status page and the metrics
 * read every entry.
 *
 * A shared implementation keeps local entries exactly like the in-process book — they are its
 * near cache, read and updated synchronously by the hot path — and shares only what another
 * instance should act on: when an entry starts or ends a cooldown or an ejection, it publishes
 * (provider, key fingerprint, model, reason, time left) — a pub/sub message, and a field of a
 * hash that expires on the server's clock for instances that connect later — and applies what other instances publish to its own entries (the same transition,
 * with the time left). Attempts in flight, latency and failure counts stay per instance. The
 * half-open probe is one across the fleet: the attempt that would be the probe first claims it
 * (`claimProbe`, `SET NX PX`), the only request that waits on the store for health. The key
 * fingerprint is the same on every instance that holds the same key, so it names the target
 * fleet-wide.
 */
export interface HealthStore {
  readonly counters: HealthCounts;
  /** The store's clock (epoch ms). */
  now(): number;
  /**
   * The entry for one (provider, key, model), created on first use. With `keep` false a new entry
   * is not put in the store (a model name no provider lists, until the provider answers it).
   */
  entry(provider: string, keyIndex: number, keyId: string, model: string, keep?: boolean): HealthEntry;
  /** Whether the store holds this very entry. */
  kept(entry: HealthEntry): boolean;
  /** The provider answered a name made with `keep` false: its (provider, key, model) is kept from now on. */
  keep(entry: HealthEntry): void;
  /** Every entry kept, for the status endpoint and the metrics. */
  all(): Iterable<HealthEntry>;
  /** An active health check failed for this key: every model on it leaves rotation. */
  markKeyDown(provider: string, keyId: string, now: number, settings: CooldownSettings): void;
  /** An active health check passed for this key: targets ejected for failures come back. */
  markKeyUp(provider: string, keyId: string): void;
  /**
   * Asked just before an attempt that would be `entry`'s half-open probe (`entry.halfOpen(now)`):
   * may it go? In process always (true, synchronously). A shared store claims the probe
   * fleet-wide for `holdMs` and answers a promise: false when another instance holds it (this
   * one then keeps away until it reports, or until `holdMs` has passed).
   */
  claimProbe(entry: HealthEntry, now: number, holdMs: number): MaybePromise<boolean>;
  /** A claim won by `claimProbe` goes unused (the request's client left meanwhile): another instance may probe. */
  releaseProbe(entry: HealthEntry): void;
  /** Entries kept. */
  readonly size: number;
  /** A shared store's counts of what it shared (absent in process). */
  readonly sharing?: HealthSharingCounts;
}

/** What a shared health store exchanged with the other instances, for the metrics. */
export interface HealthSharingCounts {
  /** Transitions this instance published. */
  readonly published: number;
  /** Transitions of other instances applied here (messages, and reads after a (re)connection). */
  readonly applied: number;
  /** Half-open probes this instance left to another one (which held the claim). */
  readonly probesYielded: number;
}

// ---------------------------------------------------------------------------------------------
// Session affinity

/** Where a session was last served: a target of its route and a key of that target's provider. */
export interface Pin {
  /** Index of the target in its route's target list. */
  readonly target: number;
  /** Index of the key in the provider's key list. */
  readonly key: number;
  /** Epoch ms when the pin lapses unless used again. */
  readonly expires: number;
}

/**
 * Session pins (`affinity: session`), keyed by route and session id, one store per runtime: a pin
 * names a target by its index in the route, which a reload may change. Read when a session's
 * request picks its target and written at its commit, both synchronously.
 *
 * A shared implementation is a bounded local LRU in front of Redis: `set` writes locally and sends
 * `SET pin PX ttl` in the background; `fetch`, which the lookup phase calls for a request of a
 * route with session affinity, reads the fleet's pin into the local copy (a promise: the request
 * waits for it), so the planner's synchronous `get` finds the pin another instance wrote. With the
 * server away, `fetch` answers undefined and the local copy decides (affinity degrades, nothing
 * fails). Instances must run the same config, since pins are indexes (a pin that does not fit the
 * route is ignored by the planner).
 */
export interface SessionStore {
  /** The pin of `id`, unless it lapsed by `now`. */
  get(id: string, now: number): Pin | undefined;
  /** Pins (or re-pins) `id` to a target and key until `expires`. */
  set(id: string, target: number, key: number, expires: number): void;
  /**
   * Pins `id` to the higher of its pin's target (unless lapsed by `now`) and `target`, until
   * `expires`, and answers that target: a value that may go up, never down (an auto alias's tier
   * of a session). A shared store raises the fleet's copy the same way, in the background, so a
   * lower value written concurrently elsewhere cannot bring it down.
   */
  raise(id: string, target: number, now: number, expires: number): number;
  /**
   * Shared stores only (absent in process, so nothing is compiled for it): reads the fleet's pin
   * of `id` into the local copy, and keeps it for `ttlMs` more (a read is a use); undefined when
   * there is nothing to wait for.
   */
  fetch?(id: string, now: number, ttlMs: number): Promise<undefined> | undefined;
  /** Pins held (in this process). */
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------
// Retry budget

/**
 * The retry budget (Finagle's): retries and fallbacks may add at most a share of the requests seen
 * recently, plus a small floor. One per runtime (its settings are the config's). Both calls are
 * made for every request and every retry, synchronously.
 *
 * A shared implementation counts locally and, once a second, adds its per-second request and retry
 * counts to the fleet's (INCRBY on per-second keys with a short expiry) and reads back the fleet's
 * totals over the window; `tryRetry` decides on the last totals read plus its own counts not yet
 * sent. The budget is a ratio, so one second of lag only blurs it; no request waits on Redis.
 */
export interface RetryBudgetStore {
  /** Counts a first attempt. */
  onRequest(): void;
  /** Spends one retry if the budget allows it. */
  tryRetry(): boolean;
}

// ---------------------------------------------------------------------------------------------
// Rate limits (not used yet: the admit phase will use them for per-key RPM, TPM and parallel limits)

/** One limit, compiled from the config at load. */
export interface LimitRule {
  /**
   * `fixed`: a count per aligned window of `windowMs`, reset at each boundary. `sliding`: the
   * current window's count plus the previous one's weighted by how much of it still lies within
   * the last `windowMs` (Cloudflare's sliding window counter: no double burst across a boundary).
   * `concurrent`: units held from `reserve` to `settle` (requests in flight); no window.
   */
  readonly kind: 'fixed' | 'sliding' | 'concurrent';
  /** Units allowed per window, or held at once. */
  readonly limit: number;
  /** Window length, ms (unused by `concurrent`). */
  readonly windowMs: number;
}

/**
 * Counters for rate limits with reserve/settle semantics: a request takes its units before it is
 * sent (1 for a request limit, the estimated tokens for a token limit) and settles them with the
 * actual count once it is done, so concurrent requests can never overshoot a limit between check
 * and count. A counter is named by its key (e.g. `rpm\0<client key id>`), used with one rule.
 * Several limits on one request are reserved in turn, and those taken are settled to 0 if a later
 * one refuses: never an overshoot; at worst a request refused while another's reservation was
 * briefly there.
 *
 * `holder` names the reservation (the request id): the in-process store has no use for it — its
 * reservations end with the process — but a shared store keys `concurrent` holds by it (a sorted
 * set scored by expiry), so the holds of an instance that died expire instead of leaking.
 *
 * A shared implementation runs each `reserve` as one Lua script (check every bucket, add if it
 * fits, PEXPIRE twice the window; hash-tagged keys so a counter's buckets share a cluster slot) and
 * returns the promise of its answer, or, to keep the request off the network, reserves leases of
 * units in bulk and grants from the local lease synchronously (exact within the lease size).
 * `settle` is sent in the background; `used` answers from the last counts the scripts returned.
 * A request's limits all together go through `LimitBatches` (one script for all of them).
 */
export interface RateLimitCounters {
  /**
   * Takes `amount` units of counter `key` under `rule` if they fit, and answers 0. If they do not,
   * takes nothing and answers the ms after which they would fit (at least 1): Infinity when
   * `amount` is more than the limit itself; for a `concurrent` limit, which frees when some
   * request ends, a hint of 1000.
   */
  reserve(key: string, rule: LimitRule, amount: number, holder: string, now: number): MaybePromise<number>;
  /**
   * The reservation of `reserved` units made at `reservedAt` counts `actual` units instead (0 gives
   * it all back: the request was never sent). A `concurrent` hold ends, whatever `actual` is.
   * Windows that have passed since `reservedAt` are not changed.
   */
  settle(key: string, rule: LimitRule, reserved: number, actual: number, reservedAt: number, holder: string, now: number): void;
  /** Units counted now under `rule`, reservations included (for `RateLimit` response headers). */
  used(key: string, rule: LimitRule, now: number): number;
}

// ---------------------------------------------------------------------------------------------
// Budget spend (not used yet: the admit phase will hold a request's estimated cost against a key's budget)

/**
 * Spend per budget and period, reserve then settle: a request holds its estimated cost before it
 * is sent (refused if settled spend + holds + the estimate exceed the limit) and settles its actual
 * cost when done (0 when it failed before any cost), so concurrent requests cannot overspend.
 * Periods are the caller's: it passes the current one's start and end (calendar-aligned or fixed),
 * and the store keeps the current period of each budget only — a new period starts from zero,
 * and settling a past period's hold changes nothing. Amounts are in the caller's unit; integers
 * (micro-dollars) keep a shared counter exact. Several budgets (key, team) are reserved in turn,
 * releasing those held if one refuses.
 *
 * `holder` names the hold (the request id): unused in-process, where holds end with the process; a
 * shared store keys holds by it with a TTL and reconciles, so a dead instance's holds expire
 * rather than block the budget (LiteLLM's leaked-reservation bug). A shared implementation runs
 * `reserve` as one Lua script over the period's spend and holds (answering a promise); `settle`
 * goes in the background; `spent` and `held` answer from the last values seen.
 */
export interface SpendStore {
  /**
   * Holds `amount` of `budget` in the period [`periodStart`, `periodEnd`) if spent + held + amount
   * stays within `limit`: answers true. Otherwise holds nothing and answers false.
   */
  reserve(budget: string, periodStart: number, periodEnd: number, amount: number, limit: number, holder: string, now: number): MaybePromise<boolean>;
  /**
   * Ends a hold of `reserved` (0 when there was none) and adds `actual` to the period's spend. A
   * period that has been replaced by a newer one is left alone.
   */
  settle(budget: string, periodStart: number, periodEnd: number, reserved: number, actual: number, holder: string, now: number): void;
  /** Spend settled in the period (0 for a period not current). */
  spent(budget: string, periodStart: number, now: number): number;
  /** Amount held by requests in flight in the period (0 for a period not current). */
  held(budget: string, periodStart: number, now: number): number;
  /**
   * The spend on record for the period, read from the usage store (the ledger) at start, on
   * reload and when a shared store returns: the period's spend becomes at least `amount`. A
   * maximum, never a sum, so N instances reading the same ledger into one shared store count it
   * once, and spend counted since the ledger was written is not lost.
   */
  record(budget: string, periodStart: number, periodEnd: number, amount: number, now: number): void;
}

// ---------------------------------------------------------------------------------------------
// A request's limits at once (a shared store)

/** A counter of `RateLimitCounters` in a batch: `amount` under `rule`. */
export interface BatchedCounter {
  readonly kind: 'counter';
  readonly key: string;
  readonly rule: LimitRule;
  readonly amount: number;
}

/**
 * A budget of `SpendStore` in a batch: `amount` held, or — when only less is left — what is left
 * (a request is refused only once its budget is spent or held by requests in flight).
 */
export interface BatchedBudget {
  readonly kind: 'budget';
  readonly budget: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly amount: number;
  readonly limit: number;
}

export type BatchedLimit = BatchedCounter | BatchedBudget;

/** A counter's settle, as `RateLimitCounters.settle`. */
export interface BatchedCounterSettle {
  readonly kind: 'counter';
  readonly key: string;
  readonly rule: LimitRule;
  readonly reserved: number;
  readonly actual: number;
  readonly reservedAt: number;
}

/** A budget's settle, as `SpendStore.settle`. */
export interface BatchedBudgetSettle {
  readonly kind: 'budget';
  readonly budget: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly reserved: number;
  readonly actual: number;
}

export type BatchedSettle = BatchedCounterSettle | BatchedBudgetSettle;

/**
 * The limits of one request (its key's and team's rates, slots and budgets) taken in one round
 * trip and settled in one message, by a shared store whose `rateLimits` and `spend` they are —
 * where reserving them one by one would cost a round trip each. Absent in process.
 */
export interface LimitBatches {
  /** Whether a batch goes to the shared store now; while not, the limits are taken one by one (in process). */
  readonly available: boolean;
  /**
   * Checks `limits` in order and takes them all, or none (atomic across instances). Answers each
   * one's outcome up to and including the first refused, none after it: a counter's wait (0:
   * fits, as `RateLimitCounters.reserve`), a budget's amount held (0: refused). Rejects when the
   * store could not be asked (the link is then down: the caller takes the limits one by one).
   */
  reserve(limits: readonly BatchedLimit[], holder: string, now: number): Promise<number[]>;
  /** Settles what a request took (as the stores' `settle`, each in turn), the server's part in one message. */
  settle(settles: readonly BatchedSettle[], holder: string, now: number): void;
}

// ---------------------------------------------------------------------------------------------
// Response cache (the lookup phase answers repeated requests from it: pipeline/response-cache.ts)

/** A whole answer as the gateway sends it. */
export interface CachedResponse {
  readonly status: number;
  /** Header names and values, alternating, as the gateway writes them. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/**
 * Exact-match response cache, bounded, with a TTL per entry. The key is the caller's digest of
 * what makes two requests the same (route, normalized body); the value is the whole answer.
 *
 * A shared implementation stores the serialized answer with `SET key PX ttl` (Redis's own
 * eviction bounds it) and answers `get` with a promise — the lookup phase awaits only then — with,
 * optionally, a small local LRU in front of it for hot keys.
 */
export interface ResponseCache {
  /** The answer stored under `key`, unless it expired by `now`. */
  get(key: string, now: number): MaybePromise<CachedResponse | undefined>;
  /** Stores an answer for `ttlMs`; one too large for the cache is not stored. */
  set(key: string, response: CachedResponse, ttlMs: number, now: number): void;
  delete(key: string): void;
  /**
   * The bounds of the config (`cache.max_bytes`, `cache.max_entry_bytes`), at start and at each
   * reload; answers past a smaller bound go at once, the least recently used first.
   */
  resize(limits: { readonly maxBytes: number; readonly maxEntryBytes: number }): void;
  /** Answers held in this process (a shared store: its local copy), for the metrics. */
  readonly size: number;
  /** Bytes held in this process (bodies and header text), for the metrics. */
  readonly bytes: number;
}

// ---------------------------------------------------------------------------------------------
// The bundle

/**
 * A shared store's connection, as the limits, the metrics and the budget ledger see it. While it
 * is not `available` (not connected yet, or an outage), its stores answer from in-process state.
 */
export interface SharedStateLink {
  /** The server answers now. */
  readonly available: boolean;
  /** Outages so far (one at start when the server could not be reached). */
  readonly outages: number;
  /** Called each time the server answers again after an outage, once the in-process counts are sent to it. */
  onReturn(listener: () => void): void;
}

/**
 * Every store the gateway uses, built once by the composition root (src/main.ts) and handed to
 * each runtime. Health, rate limits, spend and the cache outlive config reloads; session pins and
 * the retry budget are made anew for each runtime (pins are indexes into its routes; the budget's
 * settings are its config's), as they always were.
 */
export interface StateStores {
  readonly health: HealthStore;
  /** A session store for one runtime. */
  newSessions(): SessionStore;
  /** The retry budget of one runtime, with its config's settings. */
  newRetryBudget(settings: RetryBudgetSettings): RetryBudgetStore;
  readonly rateLimits: RateLimitCounters;
  readonly spend: SpendStore;
  readonly responses: ResponseCache;
  /** A request's limits in one round trip (a shared store; absent: in process). */
  readonly limitBatches?: LimitBatches;
  /** The shared store's connection (absent: everything is in process). */
  readonly shared?: SharedStateLink;
  /** Closes connections and timers (a shared store). */
  close?(): Promise<void>;
}
