// Passive health per (provider key, model): cooldowns as data, outlier ejection with a half-open
// probe, and the numbers the least-busy and latency strategies read. In memory, one book per
// process, outliving config reloads (entries are keyed by provider name, key fingerprint and
// model, so a changed key starts fresh). Nothing here does I/O; the clock is injectable.
import type { ErrorInfo } from '../canonical/errors.ts';
import type { CooldownSettings } from '../config/types.ts';

export type CooldownReason = 'auth' | 'not-found' | 'rate-limited' | 'ejected' | 'health-check';

export type HealthState = 'healthy' | 'cooling' | 'half-open';

/** Half-life of the decayed request/error counters shown as the recent error rate. */
const RATE_HALF_LIFE_MS = 60_000;
/** Weight of a new sample in the latency EWMA. */
const EWMA_WEIGHT = 0.2;
/** Most entries kept; beyond it the least recently used idle ones go. */
const MAX_ENTRIES = 20_000;

/**
 * How often targets left rotation, per provider: cooldowns by reason and ejections, counted when
 * one starts (not when an existing one is extended). Read by the metrics at scrape time.
 */
export class HealthCounters {
  /** provider → reason → cooldowns started (auth, not-found, rate-limited; ejections are apart). */
  readonly cooldowns = new Map<string, Map<CooldownReason, number>>();
  /** provider → ejections (failures in a row, a failed half-open probe, a failed health check). */
  readonly ejections = new Map<string, number>();

  cooled(provider: string, reason: CooldownReason): void {
    let byReason = this.cooldowns.get(provider);
    if (byReason === undefined) this.cooldowns.set(provider, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  ejected(provider: string): void {
    this.ejections.set(provider, (this.ejections.get(provider) ?? 0) + 1);
  }
}

export class TargetHealth {
  readonly provider: string;
  /** Index of the key in the provider's `api_keys` (0 when it has none). */
  readonly keyIndex: number;
  /** A short non-secret fingerprint of the key, for status pages and logs. */
  readonly keyId: string;
  readonly model: string;
  /** Epoch ms before which this entry is not picked (except by its half-open probe). */
  until = 0;
  reason: CooldownReason | undefined = undefined;
  /** The error that started the cooldown (already redacted), replayed when nothing else can answer. */
  lastError: ErrorInfo | undefined = undefined;
  lastErrorAt = 0;
  consecutiveFailures = 0;
  consecutiveRateLimits = 0;
  ejections = 0;
  /** A half-open probe is in flight: others keep away until it reports. */
  probing = false;
  inflight = 0;
  /** Peak-EWMA of the time to response headers, ms (0 = no sample yet). */
  latencyMs = 0;
  requests = 0;
  failures = 0;
  private recentRequests = 0;
  private recentFailures = 0;
  private decayedAt = 0;
  lastUsedAt = 0;
  private readonly counters: HealthCounters | undefined;

  constructor(provider: string, keyIndex: number, keyId: string, model: string, counters?: HealthCounters) {
    this.provider = provider;
    this.keyIndex = keyIndex;
    this.keyId = keyId;
    this.model = model;
    this.counters = counters;
  }

  /** Whether a request may use this entry now. A half-open entry admits one probe (claimed by `take`). */
  available(now: number): boolean {
    if (now >= this.until) return this.reason !== 'ejected' || !this.probing;
    return false;
  }

  state(now: number): HealthState {
    if (now < this.until) return 'cooling';
    return this.reason === 'ejected' ? 'half-open' : 'healthy';
  }

  /** Claims the entry for one attempt (the half-open probe, when it is one). */
  take(now: number): void {
    this.inflight++;
    this.lastUsedAt = now;
    if (this.reason === 'ejected' && now >= this.until) this.probing = true;
  }

  /**
   * The attempt is over (whatever its outcome): it no longer counts as in flight. A probe's verdict
   * comes through `succeed`/`fail`; one that ended without a verdict (its client left) frees the
   * half-open slot once nothing is in flight — not when an older attempt, started before the
   * ejection, happens to end while the probe is still out.
   */
  release(): void {
    if (this.inflight > 0) this.inflight--;
    if (this.inflight === 0) this.probing = false;
  }

  /** The target answered: any cooldown ends. */
  succeed(now: number, latencyMs: number): void {
    this.probing = false;
    this.count(now, false);
    this.consecutiveFailures = 0;
    this.consecutiveRateLimits = 0;
    this.ejections = 0;
    this.until = 0;
    this.reason = undefined;
    if (latencyMs > 0) {
      // peak EWMA: a slow sample counts at once, fast ones pull the average down gradually
      this.latencyMs = this.latencyMs === 0 || latencyMs > this.latencyMs ? latencyMs : this.latencyMs + EWMA_WEIGHT * (latencyMs - this.latencyMs);
    }
  }

  /** The attempt failed for a reason that is the target's: start or extend a cooldown. */
  fail(now: number, error: ErrorInfo, settings: CooldownSettings): void {
    this.count(now, true);
    this.lastError = error;
    this.lastErrorAt = now;
    const status = error.upstreamStatus;
    if (status === 401 || status === 403) {
      this.cool(now, settings.authMs, 'auth');
      return;
    }
    if (status === 404) {
      this.cool(now, settings.notFoundMs, 'not-found');
      return;
    }
    if (error.errorClass === 'rate-limited') {
      this.consecutiveRateLimits++;
      const backoff = settings.rateLimitMs * 2 ** Math.min(this.consecutiveRateLimits - 1, 30);
      const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoff;
      this.cool(now, Math.min(wait, settings.rateLimitMaxMs), 'rate-limited');
      return;
    }
    // 5xx, timeouts, connection failures and resets: an outlier after enough in a row, or at once
    // when its half-open probe fails
    this.consecutiveFailures++;
    if (this.probing || this.reason === 'ejected' || this.consecutiveFailures >= settings.ejectAfter) this.eject(now, settings);
    this.probing = false;
  }

  /** Taken out of rotation for a doubling time (an active health check failing does this too). */
  eject(now: number, settings: CooldownSettings, reason: CooldownReason = 'ejected'): void {
    this.ejections++;
    this.counters?.ejected(this.provider);
    this.consecutiveFailures = 0;
    const ms = Math.min(settings.ejectMs * 2 ** Math.min(this.ejections - 1, 30), settings.ejectMaxMs);
    this.until = now + ms;
    // a health-check ejection comes back through the half-open probe like any other
    this.reason = reason === 'health-check' ? 'ejected' : reason;
    this.probing = false;
  }

  /** An active health check passed: an entry ejected for failures comes back at once. */
  recover(): void {
    if (this.reason !== 'ejected') return;
    this.until = 0;
    this.reason = undefined;
    this.ejections = 0;
    this.consecutiveFailures = 0;
    this.probing = false;
  }

  private cool(now: number, ms: number, reason: CooldownReason): void {
    if (now >= this.until || this.reason !== reason) this.counters?.cooled(this.provider, reason);
    const until = now + ms;
    if (until > this.until || this.reason !== reason) this.until = until;
    this.reason = reason;
    this.probing = false;
  }

  private count(now: number, failed: boolean): void {
    this.requests++;
    if (failed) this.failures++;
    this.decay(now);
    this.recentRequests++;
    if (failed) this.recentFailures++;
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
    this.decayedAt = now;
  }

  /** Share of recent attempts that failed (decayed over about a minute). */
  errorRate(now: number): number {
    this.decay(now);
    return this.recentRequests < 0.01 ? 0 : this.recentFailures / this.recentRequests;
  }
}

export class HealthBook {
  private readonly entries = new Map<string, TargetHealth>();
  /** Keys an active health check found down: `provider\0keyId` → until (epoch ms), so entries created later start ejected too. */
  private readonly downKeys = new Map<string, number>();
  /** Cooldowns and ejections started, for metrics; outlives reloads like the entries. */
  readonly counters = new HealthCounters();
  readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /**
   * The entry for one (provider, key, model); created on first use. Call at route build time, not
   * per request. With `keep` false a new entry is not put in the book (a model name no provider
   * lists, until the provider answers it: then `keep(entry)`).
   */
  entry(provider: string, keyIndex: number, keyId: string, model: string, keep = true): TargetHealth {
    const id = entryId(provider, keyId, model);
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = new TargetHealth(provider, keyIndex, keyId, model, this.counters);
      const down = this.downKeys.size > 0 ? this.downKeys.get(`${provider}\u0000${keyId}`) : undefined;
      if (down !== undefined && down > this.now()) {
        entry.until = down;
        entry.reason = 'ejected';
      }
      if (keep) this.add(id, entry);
    }
    return entry;
  }

  /** Whether the book holds this very entry. */
  kept(entry: TargetHealth): boolean {
    return this.entries.get(entryId(entry.provider, entry.keyId, entry.model)) === entry;
  }

  /** Puts an entry made with `keep` false in the book, unless one for its (provider, key, model) is there already. */
  keep(entry: TargetHealth): void {
    const id = entryId(entry.provider, entry.keyId, entry.model);
    if (!this.entries.has(id)) this.add(id, entry);
  }

  private add(id: string, entry: TargetHealth): void {
    if (this.entries.size >= MAX_ENTRIES) this.evict();
    this.entries.set(id, entry);
  }

  /** Every entry, for the status endpoint. */
  all(): IterableIterator<TargetHealth> {
    return this.entries.values();
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
        this.entries.delete(id);
        toDrop--;
      }
    }
  }
}

function entryId(provider: string, keyId: string, model: string): string {
  return `${provider}\u0000${keyId}\u0000${model}`;
}
