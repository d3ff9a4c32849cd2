// Rate-limit counters in process memory, the default `RateLimitCounters` (interfaces.ts): one small
// record per counter key holding the current and previous window's counts and the units held by
// `concurrent` reservations. Exact: JavaScript runs each reserve to completion, so a check and its
// count are one step. Bounded: past `maxCounters`, counters that count nothing any more go first,
// then the oldest ones not holding a reservation; a counter holding one is never dropped (there are
// at most as many as requests in flight).
import type { LimitRule, RateLimitCounters } from './interfaces.ts';
import { dropOldestIdle } from '../util/drop-idle.ts';

const MAX_COUNTERS = 100_000;
/** The wait answered when a `concurrent` limit is full: it frees when some request ends. */
const CONCURRENT_RETRY_MS = 1000;

class Counter {
  /** Start of the current window (epoch ms, aligned to `windowMs`). */
  windowStart = 0;
  windowMs = 0;
  current = 0;
  previous = 0;
  /** Units held by `concurrent` reservations. */
  held = 0;

  /** Moves the windows to the one holding `now`; a rule whose window changed starts over. */
  roll(rule: LimitRule, now: number): void {
    const windowMs = rule.windowMs;
    if (windowMs !== this.windowMs) {
      this.windowMs = windowMs;
      this.windowStart = now - (now % windowMs);
      this.current = 0;
      this.previous = 0;
      return;
    }
    // a clock that went back stays in the window it is in
    if (now < this.windowStart + windowMs) return;
    const start = now - (now % windowMs);
    this.previous = start === this.windowStart + windowMs ? this.current : 0;
    this.current = 0;
    this.windowStart = start;
  }

  /** Units counted at `now` (already rolled). */
  used(rule: LimitRule, now: number): number {
    if (rule.kind === 'concurrent') return this.held;
    if (rule.kind === 'fixed' || this.previous === 0) return this.current;
    return this.current + this.previous * this.weight(now);
  }

  /** Share of the previous window still within the last `windowMs`. */
  private weight(now: number): number {
    return (this.windowMs - (now - this.windowStart)) / this.windowMs;
  }

  /** Ms until `amount` more would fit, when it does not now (`used` + `amount` > limit). */
  wait(rule: LimitRule, amount: number, now: number): number {
    const limit = rule.limit;
    const windowEnd = this.windowStart + this.windowMs;
    if (rule.kind === 'fixed') return windowEnd - now;
    // sliding: the previous window's weight falls linearly to 0 at the end of the current one
    let room = limit - amount - this.current;
    if (room >= 0) {
      // previous × (1 − elapsed / windowMs) ≤ room, within this window
      const elapsed = this.windowMs * (1 - room / this.previous);
      return this.windowStart + elapsed - now;
    }
    // next window: this one becomes the previous
    room = limit - amount;
    const elapsed = this.current === 0 ? 0 : this.windowMs * (1 - room / this.current);
    return windowEnd + elapsed - now;
  }
}

export class LocalRateLimitCounters implements RateLimitCounters {
  private readonly counters = new Map<string, Counter>();
  private readonly maxCounters: number;

  constructor(maxCounters = MAX_COUNTERS) {
    this.maxCounters = maxCounters;
  }

  reserve(key: string, rule: LimitRule, amount: number, _holder: string, now: number): number {
    if (amount > rule.limit) return Infinity;
    const counter = this.counter(key, rule, now);
    if (counter.used(rule, now) + amount > rule.limit) {
      return rule.kind === 'concurrent' ? CONCURRENT_RETRY_MS : Math.max(1, Math.ceil(counter.wait(rule, amount, now)));
    }
    if (rule.kind === 'concurrent') counter.held += amount;
    else counter.current += amount;
    return 0;
  }

  settle(key: string, rule: LimitRule, reserved: number, actual: number, reservedAt: number, _holder: string, now: number): void {
    const counter = this.counters.get(key);
    if (counter === undefined) return;
    if (rule.kind === 'concurrent') {
      counter.held = Math.max(0, counter.held - reserved);
      return;
    }
    const delta = actual - reserved;
    if (delta === 0) return;
    if (counter.windowMs !== rule.windowMs) return; // the rule changed since: its windows are gone
    counter.roll(rule, now);
    const windowMs = counter.windowMs;
    const reservedWindow = reservedAt - (reservedAt % windowMs);
    if (reservedWindow === counter.windowStart) counter.current = Math.max(0, counter.current + delta);
    else if (reservedWindow === counter.windowStart - windowMs) counter.previous = Math.max(0, counter.previous + delta);
  }

  used(key: string, rule: LimitRule, now: number): number {
    const counter = this.counters.get(key);
    if (counter === undefined) return 0;
    if (rule.kind !== 'concurrent') counter.roll(rule, now);
    return counter.used(rule, now);
  }

  /** Sets a window counter to what a shared store answered (its current and previous window's counts). */
  mirror(key: string, rule: LimitRule, current: number, previous: number, now: number): void {
    const counter = this.counter(key, rule, now);
    counter.current = current;
    counter.previous = previous;
  }

  /** Ms until `amount` more would fit under `rule` (at least 1), from the counts held. */
  wait(key: string, rule: LimitRule, amount: number, now: number): number {
    const counter = this.counter(key, rule, now);
    return Math.max(1, Math.ceil(counter.wait(rule, amount, now)));
  }

  /** Counters kept. */
  get size(): number {
    return this.counters.size;
  }

  private counter(key: string, rule: LimitRule, now: number): Counter {
    let counter = this.counters.get(key);
    if (counter === undefined) {
      if (this.counters.size >= this.maxCounters) this.evict(now);
      counter = new Counter();
      this.counters.set(key, counter);
    }
    if (rule.kind !== 'concurrent') counter.roll(rule, now);
    return counter;
  }

  private evict(now: number): void {
    // first every counter whose windows have both passed and that holds nothing
    for (const [key, counter] of this.counters) {
      if (counter.held === 0 && now >= counter.windowStart + 2 * counter.windowMs) this.counters.delete(key);
    }
    if (this.counters.size < this.maxCounters) return;
    // then the oldest quarter of those holding nothing (a limit briefly forgotten, never exceeded by
    // a request in flight)
    dropOldestIdle(this.counters);
  }
}
