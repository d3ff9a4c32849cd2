// Passive health per (provider key, model), after Envoy's outlier detection: cooldowns as data,
// ejection by failures in a row before the commit point or by a poor recent success rate, a
// half-open probe, and the numbers the least-busy and latency strategies read. How many targets
// of a route may be ejected at once, and when a route ignores ejection (panic), is the route's
// business (src/routing/router.ts); an `EjectionGuard` asks it. The in-process `HealthStore`
// (interfaces.ts): one book per process, outliving config reloads (entries are keyed by provider
// name, key fingerprint and model, so a changed key starts fresh). Nothing here does I/O; the
// clock is injectable. A shared book (redis-health.ts) watches the entries' transitions through a
// `HealthObserver` and applies other instances' with `adopt`; without one, nothing is called.
import type { ErrorInfo } from '../canonical/errors.ts';
import { retryRuleOf } from '../canonical/retry-policy.ts';
import type { CooldownSettings } from '../config/types.ts';
import type { CooldownReason, EjectionCause, EjectionGuard, HealthCounts, HealthEntry, HealthState, HealthStore, MaybePromise } from './interfaces.ts';

export type { CooldownReason, EjectionCause, EjectionGuard, HealthState } from './interfaces.ts';

/** Half-life of the decayed request/failure counters (error rate, success-rate detector). */
const RATE_HALF_LIFE_MS = 60_000;
/** Weight of a new sample in the latency EWMA. */
const EWMA_WEIGHT = 0.2;
/** Most entries kept; beyond it the least recently used idle ones go. */
const MAX_ENTRIES = 20_000;

/**
 * Told of the transitions a shared book passes on to other instances (redis-health.ts). Called only
 * when a cooldown or an ejection starts, is extended or ends — never per request.
 */
export interface HealthObserver {
  /**
   * The entry started or extended a cooldown or an ejection (its `reason` and `until` say which), or
   * it is back in rotation (`reason` undefined): the target answered, or an operator put it back.
   * Active health checks are each instance's own and are not reported.
   */
  changed(entry: TargetHealth, now: number): void;
  /** This process's half-open probe ended without a verdict (its client left): another may go. */
  probeEnded(entry: TargetHealth): void;
}

/** Another instance's transition of a target (shared state), as `TargetHealth.adopt` applies it. */
export interface AdoptedHealth {
  /** What took the target out; undefined: it is back in rotation. */
  readonly reason: CooldownReason | undefined;
  /** How long it stays out from now, ms. */
  readonly ms: number;
  /** An ejection's cause and length (a failed probe here doubles it). */
  readonly cause?: EjectionCause;
  readonly ejectionMs?: number;
  /** The error that took it out (redacted), replayed here as it is there. */
  readonly error?: ErrorInfo;
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * How often targets left rotation, per provider: cooldowns by reason and ejections by cause, counted
 * when one starts (not when an existing one is extended); ejections the route's max_ejection_percent
 * refused; attempts sent to an ejected target because its route was in panic; and streams that
 * failed after the commit point. Read by the metrics at scrape time.
 */
export class HealthCounters implements HealthCounts {
  /** provider → reason → cooldowns started (auth, not-found, rate-limited; ejections are apart). */
  readonly cooldowns = new Map<string, Map<CooldownReason, number>>();
  /** provider → cause → ejections. */
  readonly ejections = new Map<string, Map<EjectionCause, number>>();
  /** provider → ejections not made because the route had as many targets ejected as it may. */
  readonly ejectionsOverflow = new Map<string, number>();
  /** provider → attempts on an ejected target, made because its route was in panic. */
  readonly panicAttempts = new Map<string, number>();
  /** provider → streams that failed after the commit point (counted apart from failures before it). */
  readonly streamFailures = new Map<string, number>();
  /**
   * Entries of the book whose reason is 'ejected' now (cooling or half-open). While it is 0 — the
   * usual case — no route can be in panic, and the runner skips the check with one read.
   */
  ejectedEntries = 0;

  cooled(provider: string, reason: CooldownReason): void {
    let byReason = this.cooldowns.get(provider);
    if (byReason === undefined) this.cooldowns.set(provider, (byReason = new Map()));
    bump(byReason, reason);
  }

  ejected(provider: string, cause: EjectionCause): void {
    let byCause = this.ejections.get(provider);
    if (byCause === undefined) this.ejections.set(provider, (byCause = new Map()));
    bump(byCause, cause);
  }

  overflowed(provider: string): void {
    bump(this.ejectionsOverflow, provider);
  }

  panicked(provider: string): void {
    bump(this.panicAttempts, provider);
  }

  streamFailed(provider: string): void {
    bump(this.streamFailures, provider);
  }
}

export class TargetHealth implements HealthEntry {
  readonly provider: string;
  /** Index of the key in the provider's `api_keys` (0 when it has none). */
  readonly keyIndex: number;
  /** A short non-secret fingerprint of the key, for status pages and logs. */
  readonly keyId: string;
  readonly model: string;
  /** Epoch ms before which this entry is not picked (except by its half-open probe, or in panic). */
  until = 0;
  reason: CooldownReason | undefined = undefined;
  /** The error that started the cooldown (already redacted), replayed when nothing else can answer. */
  lastError: ErrorInfo | undefined = undefined;
  lastErrorAt = 0;
  /** Failures in a row before the commit point (5xx, timeouts, connection failures, resets). */
  consecutiveFailures = 0;
  consecutiveRateLimits = 0;
  /** Ejections since the target last answered. */
  ejections = 0;
  /** What started the current ejection (undefined when not ejected). */
  ejectedBy: EjectionCause | undefined = undefined;
  /** Epoch ms of the current ejection's start: attempts begun before it say nothing about it. */
  ejectedAt = 0;
  /** Length of the current ejection, ms; doubled only by a failed probe. */
  private ejectionMs = 0;
  /** A half-open probe is in flight: others keep away until it reports (unless the route panics). */
  probing = false;
  /**
   * Shared state: epoch ms until which the fleet-wide claim of the half-open probe — being asked
   * for by this process, or held by another instance — keeps this process from probing (0: none).
   */
  probeHeldUntil = 0;
  inflight = 0;
  /** Peak-EWMA of the time to response headers, ms (0 = no sample yet). */
  latencyMs = 0;
  /** Attempts that reached a verdict (answered or failed); a stream is counted once, at its commit. */
  requests = 0;
  /** Failed attempts, of any kind, streams broken after their commit included. */
  failures = 0;
  /** Streams that failed after the commit point. */
  streamFailures = 0;
  private recentRequests = 0;
  private recentFailures = 0;
  /** Recent failures of the outlier kind (5xx, timeouts, connection failures, resets, broken streams). */
  private recentOutliers = 0;
  private decayedAt = 0;
  lastUsedAt = 0;
  private readonly counters: HealthCounters | undefined;
  private readonly observer: HealthObserver | undefined;

  constructor(provider: string, keyIndex: number, keyId: string, model: string, counters?: HealthCounters, observer?: HealthObserver) {
    this.provider = provider;
    this.keyIndex = keyIndex;
    this.keyId = keyId;
    this.model = model;
    this.counters = counters;
    this.observer = observer;
  }

  /** Whether a request may use this entry now. A half-open entry admits one probe (claimed by `take`). */
  available(now: number): boolean {
    if (now >= this.until) return this.reason !== 'ejected' || (!this.probing && now >= this.probeHeldUntil);
    return false;
  }

  /** Its ejection is over and no probe is out (nor claimed elsewhere): the next attempt is the probe. */
  halfOpen(now: number): boolean {
    return this.reason === 'ejected' && now >= this.until && !this.probing && now >= this.probeHeldUntil;
  }

  /** Length of the current ejection, ms (0 when not ejected). */
  get ejectionLength(): number {
    return this.reason === 'ejected' ? this.ejectionMs : 0;
  }

  /** Available, or — when the route is in panic — out of rotation only because it is ejected. */
  usable(now: number, panic: boolean): boolean {
    return this.available(now) || (panic && this.reason === 'ejected');
  }

  state(now: number): HealthState {
    if (now < this.until) return 'cooling';
    return this.reason === 'ejected' ? 'half-open' : 'healthy';
  }

  /** Claims the entry for one attempt (the half-open probe, when it is one). */
  take(now: number): void {
    if (this.reason === 'ejected' && (now < this.until || this.probing || now < this.probeHeldUntil)) this.counters?.panicked(this.provider);
    else if (this.reason === 'ejected') this.probing = true;
    this.inflight++;
    this.lastUsedAt = now;
  }

  /**
   * The attempt is over (whatever its outcome): it no longer counts as in flight. A probe's verdict
   * comes through `succeed`/`fail`; one that ended without a verdict (its client left) frees the
   * half-open slot once nothing is in flight — not when an older attempt, started before the
   * ejection, happens to end while the probe is still out.
   */
  release(): void {
    if (this.inflight > 0) this.inflight--;
    if (this.inflight === 0 && this.probing) {
      this.probing = false;
      this.observer?.probeEnded(this);
    }
  }

  /**
   * The target answered (the commit point, or a 4xx that was the request's fault). An ejection
   * ends — unless the attempt began before it: a request already in flight then says nothing about
   * whether the target has recovered; the probe (or an attempt made in panic) does.
   */
  succeed(now: number, latencyMs: number, startedAt = now): void {
    this.count(now, false, false);
    this.consecutiveFailures = 0;
    this.consecutiveRateLimits = 0;
    if (this.reason !== 'ejected' || startedAt >= this.ejectedAt) {
      const was = this.reason;
      this.probing = false;
      this.ejections = 0;
      this.until = 0;
      this.setReason(undefined);
      this.ejectedBy = undefined;
      if (was !== undefined) this.observer?.changed(this, now);
    }
    if (latencyMs > 0) {
      // peak EWMA: a slow sample counts at once, fast ones pull the average down gradually
      this.latencyMs = this.latencyMs === 0 || latencyMs > this.latencyMs ? latencyMs : this.latencyMs + EWMA_WEIGHT * (latencyMs - this.latencyMs);
    }
  }

  /**
   * The attempt failed before the commit point, for a reason that is the target's: start or extend
   * a cooldown, or count towards ejection. `startedAt` is when the attempt took the entry: while an
   * ejection runs, only an attempt begun in its half-open phase (the probe) can extend it — and
   * doubles it; attempts that were already in flight, doomed with the rest, change nothing.
   */
  fail(now: number, error: ErrorInfo, settings: CooldownSettings, startedAt = now, guard?: EjectionGuard): void {
    this.lastError = error;
    this.lastErrorAt = now;
    // which cooldown, if any, is the error class's row of the retry policy
    switch (retryRuleOf(error).health) {
      case 'auth':
        this.count(now, true, false);
        this.cool(now, settings.authMs, 'auth');
        return;
      case 'not-found':
        this.count(now, true, false);
        this.cool(now, settings.notFoundMs, 'not-found');
        return;
      case 'rate-limited': {
        this.count(now, true, false);
        this.consecutiveRateLimits++;
        const backoff = settings.rateLimitMs * 2 ** Math.min(this.consecutiveRateLimits - 1, 30);
        const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoff;
        this.cool(now, Math.min(wait, settings.rateLimitMaxMs), 'rate-limited');
        return;
      }
      default:
        break;
    }
    // an outlier: 5xx, timeouts, connection failures and resets before the commit point
    this.count(now, true, true);
    if (this.reason === 'ejected') {
      // begun in the half-open phase: the probe (or an attempt made in panic then) failed
      if (startedAt >= this.until) this.eject(now, settings, 'probe');
      return;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= settings.ejectAfter) this.ejectIfAllowed(now, settings, 'consecutive-failures', guard);
    else this.checkSuccessRate(now, settings, guard);
  }

  /**
   * A stream failed after the commit point (reset, stall, malformed or cut short while the client
   * was reading it). Counted apart: it never ejects by `eject_after` nor extends an ejection, but
   * feeds the success-rate detector. The attempt was counted as a request at its commit.
   */
  failAfterCommit(now: number, error: ErrorInfo, settings: CooldownSettings, guard?: EjectionGuard): void {
    this.lastError = error;
    this.lastErrorAt = now;
    this.streamFailures++;
    this.failures++;
    this.decay(now);
    this.recentFailures++;
    this.recentOutliers++;
    this.counters?.streamFailed(this.provider);
    if (this.reason !== 'ejected') this.checkSuccessRate(now, settings, guard);
  }

  /**
   * Taken out of rotation. A fresh ejection lasts `eject_s`; a failed probe (or a health check that
   * fails again while the target is out) doubles the last length, up to `eject_max_s`.
   */
  eject(now: number, settings: CooldownSettings, cause: EjectionCause): void {
    const again = this.reason === 'ejected' && (cause === 'probe' || cause === 'health-check');
    this.ejectionMs = again ? Math.min(Math.max(this.ejectionMs, settings.ejectMs) * 2, settings.ejectMaxMs) : settings.ejectMs;
    this.ejections++;
    this.counters?.ejected(this.provider, cause);
    this.consecutiveFailures = 0;
    this.until = now + this.ejectionMs;
    this.setReason('ejected');
    this.ejectedBy = cause;
    this.ejectedAt = now;
    this.probing = false;
    this.probeHeldUntil = 0;
    if (cause !== 'health-check') this.observer?.changed(this, now);
  }

  /**
   * Another instance took this target out of rotation, or brought it back (shared state): the
   * same transition, applied here with the time left there. A cooldown or an ejection only
   * replaces a shorter one of the same kind (the later news wins otherwise, as a local failure
   * would). Not counted (the instance where it happened counts it) and not reported back.
   */
  adopt(change: AdoptedHealth, now: number): void {
    this.probeHeldUntil = 0;
    const reason = change.reason;
    if (reason === undefined) {
      if (this.reason !== undefined) this.backInRotation();
      return;
    }
    const until = now + change.ms;
    if (this.reason === reason && this.until >= until) return;
    if (change.error !== undefined) {
      this.lastError = change.error;
      this.lastErrorAt = now;
    }
    this.until = until;
    this.probing = false;
    if (reason === 'ejected') {
      this.ejectionMs = change.ejectionMs ?? change.ms;
      this.consecutiveFailures = 0;
      this.ejectedBy = change.cause ?? 'consecutive-failures';
      this.ejectedAt = now;
    } else {
      this.ejectedBy = undefined;
    }
    this.setReason(reason);
  }

  /** Starts out of rotation until `until`: its key was found down by a health check before this entry existed. */
  startEjected(until: number, now: number): void {
    this.until = until;
    this.setReason('ejected');
    this.ejectedBy = 'health-check';
    this.ejectedAt = now;
  }

  /** The entry leaves the book (evicted): it no longer counts as ejected. */
  retire(): void {
    this.setReason(undefined);
  }

  /** An active health check passed: an entry ejected for failures comes back at once. */
  recover(): void {
    if (this.reason !== 'ejected') return;
    this.until = 0;
    this.setReason(undefined);
    this.ejectedBy = undefined;
    this.ejections = 0;
    this.consecutiveFailures = 0;
    this.probing = false;
  }

  /**
   * An operator put it back (the management API's cooldown clear): in rotation at once, whatever
   * took it out — a cooldown, an ejection, a half-open probe. Its counters of requests, failures
   * and latency stay: they say what happened, not whether it may be used.
   */
  clear(): void {
    const was = this.reason;
    this.backInRotation();
    if (was !== undefined) this.observer?.changed(this, 0);
  }

  /** In rotation again, its failure streaks and ejection history forgotten. */
  private backInRotation(): void {
    this.probeHeldUntil = 0;
    this.until = 0;
    this.setReason(undefined);
    this.ejectedBy = undefined;
    this.ejections = 0;
    this.consecutiveFailures = 0;
    this.consecutiveRateLimits = 0;
    this.probing = false;
  }

  /** Share of recent attempts that failed (decayed over about a minute). */
  errorRate(now: number): number {
    this.decay(now);
    return this.recentRequests < 0.01 ? 0 : this.recentFailures / this.recentRequests;
  }

  /** Share of recent attempts without an outlier failure; undefined below `minimumVolume` recent attempts. */
  successRate(now: number, minimumVolume = 1): number | undefined {
    this.decay(now);
    if (this.recentRequests < minimumVolume || this.recentRequests < 0.01) return undefined;
    return 1 - this.recentOutliers / this.recentRequests;
  }

  /** Flapping: enough recent attempts, and too few of them succeeded. */
  private checkSuccessRate(now: number, settings: CooldownSettings, guard: EjectionGuard | undefined): void {
    if (settings.successRateThresholdPercent <= 0) return;
    const rate = this.successRate(now, settings.successRateRequestVolume);
    if (rate !== undefined && rate * 100 <= settings.successRateThresholdPercent) this.ejectIfAllowed(now, settings, 'success-rate', guard);
  }

  private ejectIfAllowed(now: number, settings: CooldownSettings, cause: EjectionCause, guard: EjectionGuard | undefined): void {
    // cooling down for a rate limit or a refused key (an attempt begun before it failed): an
    // ejection would only replace that cooldown, perhaps by a shorter one; decided once it ends
    if (this.reason !== undefined && now < this.until) return;
    if (settings.maxEjectionPercent <= 0) {
      // outlier ejection is off
      this.consecutiveFailures = 0;
      return;
    }
    if (guard !== undefined && !guard.allowsEjection(this, now)) {
      // the route has as many targets out as it may: this one stays in (Envoy's ejections_overflow)
      this.counters?.overflowed(this.provider);
      this.consecutiveFailures = 0;
      return;
    }
    this.eject(now, settings, cause);
  }

  /** Every change of `reason` goes through here, so the book's count of ejected entries stays exact. */
  private setReason(reason: CooldownReason | undefined): void {
    const counters = this.counters;
    if (counters !== undefined && (reason === 'ejected') !== (this.reason === 'ejected')) counters.ejectedEntries += reason === 'ejected' ? 1 : -1;
    this.reason = reason;
  }

  private cool(now: number, ms: number, reason: CooldownReason): void {
    if (now >= this.until || this.reason !== reason) this.counters?.cooled(this.provider, reason);
    const until = now + ms;
    if (until > this.until || this.reason !== reason) this.until = until;
    this.setReason(reason);
    this.ejectedBy = undefined;
    this.probing = false;
    this.probeHeldUntil = 0;
    this.observer?.changed(this, now);
  }

  private count(now: number, failed: boolean, outlier: boolean): void {
    this.requests++;
    if (failed) this.failures++;
    this.decay(now);
    this.recentRequests++;
    if (failed) this.recentFailures++;
    if (outlier) this.recentOutliers++;
  }

  private decay(now: number): void {
    if (this.decayedAt === 0) {
      this.decayedAt = now;
      return;
    }
    const elapsed = now - this.decayedAt;
    if (elapsed < 1000) return;
    const factor = 0.5 ** (elapsed / RATE_HALF_LIFE_MS);
    this.recentRequests *= factor;
    this.recentFailures *= factor;
    this.recentOutliers *= factor;
    this.decayedAt = now;
  }
}

export class HealthBook implements HealthStore {
  private readonly entries = new Map<string, TargetHealth>();
  /** Keys an active health check found down: `provider\0keyId` → until (epoch ms), so entries created later start ejected too. */
  private readonly downKeys = new Map<string, number>();
  /** Cooldowns and ejections started, for metrics; outlives reloads like the entries. */
  readonly counters = new HealthCounters();
  readonly now: () => number;
  /** A shared book's: told of its kept entries' transitions (none in process). */
  protected observer: HealthObserver | undefined = undefined;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /**
   * The half-open probe of `entry` may go (the runner asks just before it sends one): always, in
   * process. A shared book claims it fleet-wide first, for `holdMs` (the probe's own deadline),
   * and answers a promise; false: another instance probes, this one keeps away meanwhile.
   */
  claimProbe(_entry: HealthEntry, _now: number, _holdMs: number): MaybePromise<boolean> {
    return true;
  }

  /** A claim won by `claimProbe` goes unused: nothing to give back in process. */
  releaseProbe(_entry: HealthEntry): void {}

  /**
   * The entry for one (provider, key, model); created on first use. Call at route build time, not
   * per request. With `keep` false a new entry is not put in the book (a model name no provider
   * lists, until the provider answers it: then `keep(entry)`).
   */
  entry(provider: string, keyIndex: number, keyId: string, model: string, keep = true): TargetHealth {
    const id = entryId(provider, keyId, model);
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // an entry not kept counts nothing (cooldowns, ejections, the book's ejected count): it is
      // dropped with its request, and the book's counts must hold for its own entries only
      entry = keep ? new TargetHealth(provider, keyIndex, keyId, model, this.counters, this.observer) : new TargetHealth(provider, keyIndex, keyId, model);
      const down = this.downKeys.size > 0 ? this.downKeys.get(`${provider}\u0000${keyId}`) : undefined;
      const now = down === undefined ? 0 : this.now();
      if (down !== undefined && down > now) entry.startEjected(down, now);
      if (keep) this.add(id, entry);
    }
    return entry;
  }

  /** Whether the book holds this very entry. */
  kept(entry: HealthEntry): boolean {
    return this.entries.get(entryId(entry.provider, entry.keyId, entry.model)) === entry;
  }

  /**
   * The provider answered a model made with `keep` false: its (provider, key, model) gets an entry
   * in the book from now on — a fresh one, counted like any other; the request's own provisional
   * entry goes with the request.
   */
  keep(entry: HealthEntry): void {
    if (!this.entries.has(entryId(entry.provider, entry.keyId, entry.model))) this.entry(entry.provider, entry.keyIndex, entry.keyId, entry.model);
  }

  private add(id: string, entry: TargetHealth): void {
    if (this.entries.size >= MAX_ENTRIES) this.evict();
    this.entries.set(id, entry);
  }

  /** Every entry, for the status endpoint. */
  all(): IterableIterator<TargetHealth> {
    return this.entries.values();
  }

  /** The kept entry of (provider, key, model), if there is one. */
  find(provider: string, keyId: string, model: string): TargetHealth | undefined {
    return this.entries.get(entryId(provider, keyId, model));
  }

  /** Every entry of one provider key (health checks eject and recover them together). */
  forKey(provider: string, keyId: string): TargetHealth[] {
    const found: TargetHealth[] = [];
    for (const entry of this.entries.values()) if (entry.provider === provider && entry.keyId === keyId) found.push(entry);
    return found;
  }

  /** An active health check failed for this key: every model on it leaves rotation. */
  markKeyDown(provider: string, keyId: string, now: number, settings: CooldownSettings): void {
    let until = now + settings.ejectMs;
    for (const entry of this.forKey(provider, keyId)) {
      entry.eject(now, settings, 'health-check');
      until = Math.max(until, entry.until);
    }
    this.downKeys.set(`${provider}\u0000${keyId}`, until);
  }

  /** An active health check passed for this key: targets ejected for failures come back. */
  markKeyUp(provider: string, keyId: string): void {
    this.downKeys.delete(`${provider}\u0000${keyId}`);
    for (const entry of this.forKey(provider, keyId)) entry.recover();
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    // drop the oldest quarter of entries that are idle and not cooling
    const now = this.now();
    let toDrop = Math.max(1, this.entries.size >> 2);
    for (const [id, entry] of this.entries) {
      if (toDrop === 0) break;
      if (entry.inflight === 0 && entry.until <= now) {
        entry.retire();
        this.entries.delete(id);
        toDrop--;
      }
    }
  }
}

function entryId(provider: string, keyId: string, model: string): string {
  return `${provider}\u0000${keyId}\u0000${model}`;
}
