// A request's limits through Redis/Valkey in one round trip (`LimitBatches`): its key's and
// team's slots, rate windows and budget holds go in one LIMITS_TAKE, checked in the enforcer's
// order and taken all or none, and what it took is settled in one LIMITS_SETTLE. The stores do
// the bookkeeping (mirrors, leases, the counts of an outage) exactly as for their own calls; only
// the calls are merged — one command and one reply instead of one per limit, on both sides.
import type { BatchedLimit, BatchedSettle, LimitBatches } from './interfaces.ts';
import { LimitsSettle, LimitsTake } from './redis-limit-calls.ts';
import type { RedisLink } from './redis-link.ts';
import type { RedisRateLimitCounters } from './redis-rate-limit-counters.ts';
import type { RedisSpendStore } from './redis-spend-store.ts';

export class RedisLimitBatches implements LimitBatches {
  private readonly link: RedisLink;
  private readonly counters: RedisRateLimitCounters;
  private readonly spend: RedisSpendStore;

  constructor(link: RedisLink, counters: RedisRateLimitCounters, spend: RedisSpendStore) {
    this.link = link;
    this.counters = counters;
    this.spend = spend;
  }

  get available(): boolean {
    return this.link.available;
  }

  reserve(limits: readonly BatchedLimit[], holder: string, now: number): Promise<number[]> {
    const take = new LimitsTake(holder, this.link.leaseMs, now);
    for (const limit of limits) {
      if (limit.kind === 'counter') this.counters.addTo(take, limit.key, limit.rule, limit.amount, now);
      else this.spend.addTo(take, limit.budget, limit.periodStart, limit.periodEnd, limit.amount, limit.limit, true, now);
    }
    return take.send(this.link).then((answer) => {
      const taken = answer[0] === 1;
      const checked = Math.min(limits.length, (answer.length - 1) / 3);
      const outcomes: number[] = [];
      for (let i = 0; i < checked; i++) {
        const limit = limits[i]!;
        const at = 1 + 3 * i;
        outcomes.push(limit.kind === 'counter'
          ? this.counters.answered(limit.key, limit.rule, limit.amount, holder, now, answer, at, taken)
          : this.spend.answered(limit.budget, limit.periodStart, limit.periodEnd, holder, now, answer, at, taken));
      }
      return outcomes;
    }, (error: unknown) => {
      this.link.failed(error);
      throw error;
    });
  }

  settle(settles: readonly BatchedSettle[], holder: string, now: number): void {
    const settle = new LimitsSettle(holder);
    for (const item of settles) {
      if (item.kind === 'counter') this.counters.settleInto(settle, item.key, item.rule, item.reserved, item.actual, item.reservedAt, holder, now);
      else this.spend.settleInto(settle, item.budget, item.periodStart, item.periodEnd, item.reserved, item.actual, holder, now);
    }
    settle.send(this.link);
  }
}
