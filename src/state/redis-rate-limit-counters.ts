// Rate-limit counters shared by every instance through Redis/Valkey (`state.redis`): each
// reservation is one script (LIMITS_TAKE, redis-scripts.ts) that checks and counts at once, so
// limits are exact across instances — a request's admission takes all of its limits in one call
// of it (redis-limit-batches.ts), this store's `reserve` one limit. A window counter is a key per
// window (`…rate:{rpm:key:<id>}:<window start>`, expiring after two windows); a `concurrent`
// limit is a set of leases (redis-link.ts).
//
// The counts each script answers are mirrored into an in-process counter (LocalRateLimitCounters):
// `used` (for the rate-limit headers) and the wait of a refusal read it without a round trip.
// While the server is down the same in-process counters decide, synchronously, from the last
// counts seen; the counts taken meanwhile are added to the server when it returns. A slot taken in
// process during an outage is released in process.
import type { LimitRule, MaybePromise, RateLimitCounters } from './interfaces.ts';
import { LocalRateLimitCounters } from './local-rate-limit-counters.ts';
import { LimitsSettle, LimitsTake } from './redis-limit-calls.ts';
import type { RedisLink } from './redis-link.ts';

/** Counts of an outage waiting for the server, at most this many windows. */
const MAX_PENDING = 10_000;
const CONCURRENT_RETRY_MS = 1000;

/** Window keys kept, at most (one entry per counter). */
const MAX_WINDOWS = 100_000;

/** The keys of a counter's window and of the one before. */
interface WindowKeys {
  readonly start: number;
  readonly windowMs: number;
  readonly current: string;
  readonly previous: string;
}

interface PendingCount {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  amount: number;
}

export class RedisRateLimitCounters implements RateLimitCounters {
  private readonly link: RedisLink;
  private readonly now: () => number;
  /** The counts last seen on the server, and this process's own while it is down. */
  private readonly local = new LocalRateLimitCounters();
  /** Slots held on the server by every instance, as last seen, per counter. */
  private readonly slots = new Map<string, number>();
  /** Slot holds of this process: `key\0holder` → taken on the server (true) or in process (false). */
  private readonly holds = new Map<string, boolean>();
  private readonly pending = new Map<string, PendingCount>();
  private readonly windows = new Map<string, WindowKeys>();

  constructor(link: RedisLink, now: () => number = Date.now) {
    this.link = link;
    this.now = now;
    link.onCatchUp(() => this.catchUp());
  }

  reserve(key: string, rule: LimitRule, amount: number, holder: string, now: number): MaybePromise<number> {
    if (amount > rule.limit) return Infinity;
    if (!this.link.available) return this.reserveHere(key, rule, amount, holder, now);
    const take = new LimitsTake(holder, this.link.leaseMs, now);
    this.addTo(take, key, rule, amount, now);
    return take.send(this.link).then((answer) => this.answered(key, rule, amount, holder, now, answer, 1, answer[0] === 1), (error: unknown) => {
      this.link.failed(error);
      return this.reserveHere(key, rule, amount, holder, now);
    });
  }

  /** Adds the reservation of `amount` to a LIMITS_TAKE (this store's own, or a request's batch). */
  addTo(take: LimitsTake, key: string, rule: LimitRule, amount: number, now: number): void {
    if (rule.kind === 'concurrent') {
      take.slot(this.link.key('slots', key), rule.limit);
      return;
    }
    const windowMs = rule.windowMs;
    const windowStart = now - (now % windowMs);
    const window = this.window(key, windowStart, windowMs);
    take.window(window.current, window.previous, amount, rule.limit, windowMs, windowStart, rule.kind === 'sliding', 2 * windowMs);
  }

  /**
   * This counter's part of a LIMITS_TAKE answer (its three integers at `at`): the counts are
   * mirrored, and when `taken` (everything the call held fit) the slot is this process's to
   * renew. Answers the wait: 0 when it fit.
   */
  answered(key: string, rule: LimitRule, amount: number, holder: string, now: number, answer: readonly number[], at: number, taken: boolean): number {
    const refused = answer[at] !== 0;
    if (rule.kind === 'concurrent') {
      this.slots.set(key, answer[at + 1]!);
      if (refused) return CONCURRENT_RETRY_MS;
      if (taken) {
        this.holds.set(`${key}\0${holder}`, true);
        this.link.lease(this.link.key('slots', key), holder);
      }
      return 0;
    }
    this.local.mirror(key, rule, answer[at + 1]!, answer[at + 2]!, now);
    if (!refused) return 0;
    return amount > rule.limit ? Infinity : this.local.wait(key, rule, amount, now);
  }

  /** In process (the server is down): from the last counts seen; what is taken is sent later. */
  private reserveHere(key: string, rule: LimitRule, amount: number, holder: string, now: number): number {
    const wait = this.local.reserve(key, rule, amount, holder, now);
    if (wait !== 0) return wait;
    if (rule.kind === 'concurrent') this.holds.set(`${key}\0${holder}`, false);
    else this.owe(key, rule, now, amount);
    return 0;
  }

  settle(key: string, rule: LimitRule, reserved: number, actual: number, reservedAt: number, holder: string, now: number): void {
    const settle = new LimitsSettle(holder);
    this.settleInto(settle, key, rule, reserved, actual, reservedAt, holder, now);
    settle.send(this.link);
  }

  /**
   * Settles in process at once (the next `used` sees it) and adds what the server must learn to a
   * LIMITS_SETTLE (this store's own, or a request's batch); while it is down, the count is kept
   * for its return.
   */
  settleInto(settle: LimitsSettle, key: string, rule: LimitRule, reserved: number, actual: number, reservedAt: number, holder: string, now: number): void {
    if (rule.kind === 'concurrent') {
      const id = `${key}\0${holder}`;
      const shared = this.holds.get(id);
      if (shared === undefined) return;
      this.holds.delete(id);
      if (!shared) {
        this.local.settle(key, rule, reserved, actual, reservedAt, holder, now);
        return;
      }
      const set = this.link.key('slots', key);
      this.link.unlease(set, holder);
      this.slots.set(key, Math.max(0, (this.slots.get(key) ?? 1) - 1));
      // while the server is down the lease runs out by itself (no longer renewed)
      if (this.link.available) settle.slotEnd(set);
      return;
    }
    this.local.settle(key, rule, reserved, actual, reservedAt, holder, now);
    const delta = actual - reserved;
    if (delta === 0) return;
    const windowMs = rule.windowMs;
    const reservedWindow = reservedAt - (reservedAt % windowMs);
    if (reservedWindow < now - (now % windowMs) - windowMs) return; // a window that no longer counts
    if (!this.link.available) {
      this.owe(key, rule, reservedAt, delta);
      return;
    }
    const kept = this.windows.get(key);
    // the window reserved in is usually the counter's latest, or the one before
    const name = kept === undefined || kept.windowMs !== windowMs ? undefined
      : kept.start === reservedWindow ? kept.current : kept.start === reservedWindow + windowMs ? kept.previous : undefined;
    settle.windowAdd(name ?? `${this.link.key('rate', key)}:${reservedWindow}`, delta, 2 * windowMs, () => this.owe(key, rule, reservedAt, delta));
  }

  /** The keys of counter `key`'s window starting at `start` and of the one before, kept for its latest window. */
  private window(key: string, start: number, windowMs: number): WindowKeys {
    const kept = this.windows.get(key);
    if (kept !== undefined && kept.start === start && kept.windowMs === windowMs) return kept;
    const name = this.link.key('rate', key);
    const keys = { start, windowMs, current: `${name}:${start}`, previous: `${name}:${start - windowMs}` };
    if (kept !== undefined && start < kept.start) return keys;
    if (kept === undefined && this.windows.size >= MAX_WINDOWS) this.windows.clear();
    this.windows.set(key, keys);
    return keys;
  }

  used(key: string, rule: LimitRule, now: number): number {
    if (rule.kind === 'concurrent') return (this.slots.get(key) ?? 0) + this.local.used(key, rule, now);
    return this.local.used(key, rule, now);
  }

  /** Counts taken in process while the server was down, for the window holding `at`. */
  private owe(key: string, rule: LimitRule, at: number, amount: number): void {
    const windowStart = at - (at % rule.windowMs);
    const id = `${key}\0${windowStart}`;
    const entry = this.pending.get(id);
    if (entry !== undefined) entry.amount += amount;
    else if (this.pending.size < MAX_PENDING) this.pending.set(id, { key, windowStart, windowMs: rule.windowMs, amount });
  }

  /** The server is back: the counts of the outage go to the windows that still count. */
  private catchUp(): void {
    const now = this.now();
    for (const entry of this.pending.values()) {
      if (entry.amount === 0 || entry.windowStart < now - (now % entry.windowMs) - entry.windowMs) continue;
      this.link.run('swyRateAdd', [`${this.link.key('rate', entry.key)}:${entry.windowStart}`, entry.amount, 2 * entry.windowMs]).catch(() => {});
    }
    this.pending.clear();
  }
}
