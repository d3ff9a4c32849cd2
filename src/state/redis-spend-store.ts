// Budget spend shared by every instance through Redis/Valkey (`state.redis`). A budget's period is
// three keys (`…budget:{budget:key:<id>}:<period start>:{totals,expiries,amounts}`): the settled
// spend and the sum held, each hold's lease expiry, and each hold's amount. A hold is one script
// (check spent + held + amount ≤ limit, then hold), so budgets are exact across instances; a hold
// whose instance died expires with its lease instead of blocking the budget. A request's admission
// holds its key's and team's budgets in the same call as its rate limits (redis-limit-batches.ts).
// Keys live until a week after their period ends (400 days for `total`, renewed with each write).
//
// `spent` and `held` answer from the last values a script returned (mirrored in process). While
// the server is down, holds are taken in process against the last spend seen and settled there,
// and the spend counted meanwhile is added to the server when it returns.
import type { MaybePromise, SpendStore } from './interfaces.ts';
import { LocalSpendStore } from './local-spend-store.ts';
import { LimitsSettle, LimitsTake } from './redis-limit-calls.ts';
import type { RedisLink } from './redis-link.ts';

const DAY_MS = 86_400_000;
const MAX_VIEWS = 100_000;
const MAX_PENDING = 10_000;

/** What the server held for a budget's period, as last seen. */
interface HeldView {
  start: number;
  held: number;
}

interface PendingSpend {
  readonly budget: string;
  readonly start: number;
  readonly end: number;
  amount: number;
}

export class RedisSpendStore implements SpendStore {
  private readonly link: RedisLink;
  private readonly now: () => number;
  /** Settled spend as last seen on the server, plus holds and spend of this process while it is down. */
  private readonly local = new LocalSpendStore();
  private readonly views = new Map<string, HeldView>();
  /** Holds of this process: `budget\0start\0holder` → taken on the server (true) or in process (false). */
  private readonly holds = new Map<string, boolean>();
  private readonly pending = new Map<string, PendingSpend>();
  private readonly periodKeys = new Map<string, { start: number; keys: readonly [string, string, string] }>();

  constructor(link: RedisLink, now: () => number = Date.now) {
    this.link = link;
    this.now = now;
    link.onCatchUp(() => this.catchUp());
  }

  reserve(budget: string, periodStart: number, periodEnd: number, amount: number, limit: number, holder: string, now: number): MaybePromise<boolean> {
    if (!this.link.available) return this.reserveHere(budget, periodStart, periodEnd, amount, limit, holder, now);
    const take = new LimitsTake(holder, this.link.leaseMs, now);
    this.addTo(take, budget, periodStart, periodEnd, amount, limit, false, now);
    return take.send(this.link).then((answer) => this.answered(budget, periodStart, periodEnd, holder, now, answer, 1, answer[0] === 1) > 0, (error: unknown) => {
      this.link.failed(error);
      return this.reserveHere(budget, periodStart, periodEnd, amount, limit, holder, now);
    });
  }

  /**
   * Adds a hold of `amount` to a LIMITS_TAKE (this store's own, or a request's batch). `partial`:
   * when it does not fit, hold what is left of the budget instead (if anything).
   */
  addTo(take: LimitsTake, budget: string, periodStart: number, periodEnd: number, amount: number, limit: number, partial: boolean, now: number): void {
    take.budget(this.keys(budget, periodStart), Math.round(amount), Math.round(limit), expiry(periodEnd, now), partial);
  }

  /**
   * This budget's part of a LIMITS_TAKE answer (its three integers at `at`): spend and holds are
   * mirrored, and when `taken` (everything the call held fit) the hold is this process's to renew
   * and settle. Answers the amount held (0: refused).
   */
  answered(budget: string, periodStart: number, periodEnd: number, holder: string, now: number, answer: readonly number[], at: number, taken: boolean): number {
    const granted = answer[at]!;
    this.seen(budget, periodStart, periodEnd, answer[at + 1]!, answer[at + 2]!, now);
    if (granted > 0 && taken) {
      this.holds.set(`${budget}\0${periodStart}\0${holder}`, true);
      this.link.lease(this.keys(budget, periodStart)[1], holder);
    }
    return granted;
  }

  private reserveHere(budget: string, periodStart: number, periodEnd: number, amount: number, limit: number, holder: string, now: number): boolean {
    // the server's holds, as last seen, still count against the limit
    const view = this.views.get(budget);
    const heldElsewhere = view !== undefined && view.start === periodStart ? view.held : 0;
    if (!this.local.reserve(budget, periodStart, periodEnd, amount, limit - heldElsewhere, holder, now)) return false;
    this.holds.set(`${budget}\0${periodStart}\0${holder}`, false);
    return true;
  }

  settle(budget: string, periodStart: number, periodEnd: number, reserved: number, actual: number, holder: string, now: number): void {
    const settle = new LimitsSettle(holder);
    this.settleInto(settle, budget, periodStart, periodEnd, reserved, actual, holder, now);
    settle.send(this.link);
  }

  /**
   * Settles in process at once (the next `spent` sees it) and adds what the server must learn to
   * a LIMITS_SETTLE (this store's own, or a request's batch); while it is down, the spend is kept
   * for its return.
   */
  settleInto(settle: LimitsSettle, budget: string, periodStart: number, periodEnd: number, reserved: number, actual: number, holder: string, now: number): void {
    const id = `${budget}\0${periodStart}\0${holder}`;
    const shared = this.holds.get(id);
    this.holds.delete(id);
    if (shared === false) {
      // held in process during an outage: settled here, its spend owed to the server
      this.local.settle(budget, periodStart, periodEnd, reserved, actual, holder, now);
      if (actual !== 0) this.send(budget, periodStart, periodEnd, actual, now);
      return;
    }
    const keys = this.keys(budget, periodStart);
    if (shared === true) {
      this.link.unlease(keys[1], holder);
      const view = this.views.get(budget);
      if (view !== undefined && view.start === periodStart) view.held = Math.max(0, view.held - reserved);
    }
    this.local.settle(budget, periodStart, periodEnd, 0, actual, holder, now);
    if (!this.link.available) {
      if (actual !== 0) this.owe(budget, periodStart, periodEnd, actual);
      return;
    }
    settle.budget(keys, Math.round(actual), expiry(periodEnd, now), (spent, held) => this.seen(budget, periodStart, periodEnd, spent, held, this.now()), () => {
      if (actual !== 0) this.owe(budget, periodStart, periodEnd, actual);
    });
  }

  record(budget: string, periodStart: number, periodEnd: number, amount: number, now: number): void {
    this.local.record(budget, periodStart, periodEnd, amount, now);
    if (!this.link.available) return; // read again when the server returns (the ledger's onReturn)
    this.link.run('swyBudgetRecord', [this.keys(budget, periodStart)[0], Math.round(amount), expiry(periodEnd, now)]).then((spent) => {
      this.local.mirror(budget, periodStart, periodEnd, spent as number, this.now());
    }, (error: unknown) => this.link.failed(error));
  }

  spent(budget: string, periodStart: number, now: number): number {
    return this.local.spent(budget, periodStart, now);
  }

  held(budget: string, periodStart: number, now: number): number {
    const view = this.views.get(budget);
    return (view !== undefined && view.start === periodStart ? view.held : 0) + this.local.held(budget, periodStart, now);
  }

  /** A period's keys: totals, hold expiries, hold amounts (kept for each budget's latest period). */
  private keys(budget: string, periodStart: number): readonly [string, string, string] {
    const kept = this.periodKeys.get(budget);
    if (kept !== undefined && kept.start === periodStart) return kept.keys;
    const name = `${this.link.key('budget', budget)}:${periodStart}`;
    const keys = [`${name}:totals`, `${name}:expiries`, `${name}:amounts`] as const;
    if (kept !== undefined) {
      // a settle of the period before keeps the newer period's keys
      if (periodStart > kept.start) {
        kept.start = periodStart;
        kept.keys = keys;
      }
      return keys;
    }
    if (this.periodKeys.size >= MAX_VIEWS) this.periodKeys.clear();
    this.periodKeys.set(budget, { start: periodStart, keys });
    return keys;
  }

  private seen(budget: string, periodStart: number, periodEnd: number, spent: number, held: number, now: number): void {
    this.local.mirror(budget, periodStart, periodEnd, spent, now);
    const view = this.views.get(budget);
    if (view !== undefined) {
      if (periodStart < view.start) return;
      view.start = periodStart;
      view.held = held;
      return;
    }
    if (this.views.size >= MAX_VIEWS) this.views.clear();
    this.views.set(budget, { start: periodStart, held });
  }

  /** Adds spend counted in process to the server now, or when it returns. */
  private send(budget: string, periodStart: number, periodEnd: number, amount: number, now: number): void {
    if (!this.link.available) {
      this.owe(budget, periodStart, periodEnd, amount);
      return;
    }
    this.link.run('swyBudgetAdd', [this.keys(budget, periodStart)[0], Math.round(amount), expiry(periodEnd, now)]).catch((error: unknown) => {
      this.link.failed(error);
      this.owe(budget, periodStart, periodEnd, amount);
    });
  }

  private owe(budget: string, start: number, end: number, amount: number): void {
    const id = `${budget}\0${start}`;
    const entry = this.pending.get(id);
    if (entry !== undefined) entry.amount += amount;
    else if (this.pending.size < MAX_PENDING) this.pending.set(id, { budget, start, end, amount });
  }

  /** The server is back: the spend of the outage is added (before the ledger reads it again). */
  private catchUp(): void {
    const now = this.now();
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const entry of owed) if (entry.end > now) this.send(entry.budget, entry.start, entry.end, entry.amount, now);
  }
}

/** How long a period's keys live: until a week after it ends, at least a day; `total` 400 days from the last write. */
function expiry(periodEnd: number, now: number): number {
  if (periodEnd === Infinity) return 400 * DAY_MS;
  return Math.max(DAY_MS, periodEnd - now + 7 * DAY_MS);
}
