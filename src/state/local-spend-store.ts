// Budget spend in process memory, the default `SpendStore` (interfaces.ts): per budget, the current
// period's settled spend and the amount held by requests in flight. Exact: a reserve checks and
// holds in one step. Bounded: past `maxBudgets`, budgets whose period has ended go first, then the
// oldest ones holding nothing; a budget with a hold is never dropped (at most one per request in
// flight). Spend here is the enforcement counter of this process, not the ledger: the usage store
// keeps what was spent.
import type { SpendStore } from './interfaces.ts';
import { dropOldestIdle } from '../util/drop-idle.ts';

const MAX_BUDGETS = 100_000;

class BudgetPeriod {
  start = 0;
  end = 0;
  spent = 0;
  held = 0;

  /** Moves to the period starting at `start` if it is newer; answers whether `start` is current. */
  enter(start: number, end: number): boolean {
    if (start > this.start) {
      this.start = start;
      this.end = end;
      this.spent = 0;
      this.held = 0;
    }
    return start === this.start;
  }
}

export class LocalSpendStore implements SpendStore {
  private readonly budgets = new Map<string, BudgetPeriod>();
  private readonly maxBudgets: number;

  constructor(maxBudgets = MAX_BUDGETS) {
    this.maxBudgets = maxBudgets;
  }

  reserve(budget: string, periodStart: number, periodEnd: number, amount: number, limit: number, _holder: string, now: number): boolean {
    const period = this.period(budget, now);
    if (!period.enter(periodStart, periodEnd)) return false; // a past period: nothing may be spent in it now
    if (period.spent + period.held + amount > limit) return false;
    period.held += amount;
    return true;
  }

  settle(budget: string, periodStart: number, periodEnd: number, reserved: number, actual: number, _holder: string, now: number): void {
    const period = reserved === 0 ? this.period(budget, now) : this.budgets.get(budget);
    if (period === undefined || !period.enter(periodStart, periodEnd)) return;
    period.held = Math.max(0, period.held - reserved);
    period.spent += actual;
  }

  record(budget: string, periodStart: number, periodEnd: number, amount: number, now: number): void {
    const period = this.period(budget, now);
    if (period.enter(periodStart, periodEnd) && amount > period.spent) period.spent = amount;
  }

  /** Sets the period's settled spend to what a shared store answered (its holds are its own). */
  mirror(budget: string, periodStart: number, periodEnd: number, spent: number, now: number): void {
    const period = this.period(budget, now);
    if (period.enter(periodStart, periodEnd)) period.spent = spent;
  }

  spent(budget: string, periodStart: number, _now: number): number {
    const period = this.budgets.get(budget);
    return period !== undefined && period.start === periodStart ? period.spent : 0;
  }

  held(budget: string, periodStart: number, _now: number): number {
    const period = this.budgets.get(budget);
    return period !== undefined && period.start === periodStart ? period.held : 0;
  }

  /** Budgets kept. */
  get size(): number {
    return this.budgets.size;
  }

  private period(budget: string, now: number): BudgetPeriod {
    let period = this.budgets.get(budget);
    if (period === undefined) {
      if (this.budgets.size >= this.maxBudgets) this.evict(now);
      period = new BudgetPeriod();
      this.budgets.set(budget, period);
    }
    return period;
  }

  private evict(now: number): void {
    for (const [budget, period] of this.budgets) if (period.held === 0 && period.end <= now) this.budgets.delete(budget);
    if (this.budgets.size < this.maxBudgets) return;
    dropOldestIdle(this.budgets);
  }
}
