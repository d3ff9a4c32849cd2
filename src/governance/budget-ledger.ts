// Budgets survive restarts: the usage store is the ledger (every answer's cost is a row, with its
// key id and team), and the spend counters start from it. At start and after a reload, each budget
// not read yet has its current period's spend summed from the store and added to the `SpendStore`
// once. While the store cannot be read, `available` is false (the enforcer then applies
// `auth.on_store_failure.budgets`) and the read is tried again every RETRY_MS.
import type { SpendStore } from '../state/interfaces.ts';
import type { UsageQuery, UsageSummary } from '../state/usage-store.ts';
import { periodEnd, periodStart } from './budget-period.ts';
import { budgetName, type SpendReadiness } from './limit-enforcer.ts';
import type { BudgetPeriod, KeyPolicy } from './policy.ts';

const RETRY_MS = 30_000;

/** What the ledger reads: the usage store's sums (UsageStore.summarize). */
export interface SpendSource {
  summarize(query: UsageQuery): Promise<UsageSummary[]>;
}

interface Wanted {
  scope: 'key' | 'team';
  id: string;
  period: BudgetPeriod;
}

export class BudgetLedger implements SpendReadiness {
  available = true;
  private readonly spend: SpendStore;
  private readonly source: SpendSource | undefined;
  private readonly now: () => number;
  /** Budgets already read, with the period read (`name\0start`). */
  private readonly read = new Set<string>();
  private retry: NodeJS.Timeout | undefined = undefined;
  private latest: readonly (KeyPolicy | undefined)[] = [];

  /** `source` undefined: no usage store (storage disabled), so spend counts from zero at each start. */
  constructor(spend: SpendStore, source: SpendSource | undefined, now: () => number = Date.now) {
    this.spend = spend;
    this.source = source;
    this.now = now;
  }

  /**
   * Reads the spend of every budget of `policies` not read yet. Resolves true when every one
   * could be read; on failure marks spend unavailable and tries again later (never rejects).
   */
  async load(policies: readonly (KeyPolicy | undefined)[]): Promise<boolean> {
    this.latest = policies;
    const wanted = budgetsOf(policies);
    if (wanted.length === 0 || this.source === undefined) return true;
    const now = this.now();
    const pending = wanted.filter((budget) => !this.read.has(`${budgetName(budget.scope, budget.id)}\0${periodStart(budget.period, now)}`));
    if (pending.length === 0) return true;
    try {
      // one query per scope and period, whatever the number of budgets
      const sums = new Map<string, Map<string, number>>();
      for (const budget of pending) {
        const query = `${budget.scope}\0${budget.period}`;
        if (sums.has(query)) continue;
        const rows = await this.source.summarize({ groupBy: budget.scope, from: periodStart(budget.period, now), to: Number.MAX_SAFE_INTEGER });
        sums.set(query, new Map(rows.filter((row) => row.group !== null).map((row) => [row.group!, row.cost_usd ?? 0])));
      }
      for (const budget of pending) {
        const start = periodStart(budget.period, now);
        const name = budgetName(budget.scope, budget.id);
        const spent = sums.get(`${budget.scope}\0${budget.period}`)!.get(budget.id) ?? 0;
        if (spent > 0) this.spend.record(name, start, periodEnd(budget.period, start), Math.round(spent * 1_000_000), now);
        this.read.add(`${name}\0${start}`);
      }
      this.available = true;
      return true;
    } catch {
      this.available = false;
      this.scheduleRetry();
      return false;
    }
  }

  /**
   * Reads every budget again (the shared store came back, and may have lost what it held): the
   * store keeps the larger of its count and the ledger's.
   */
  resync(): void {
    this.read.clear();
    void this.load(this.latest);
  }

  private scheduleRetry(): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.load(this.latest);
    }, RETRY_MS);
    this.retry.unref();
  }

  close(): void {
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
  }
}

function budgetsOf(policies: readonly (KeyPolicy | undefined)[]): Wanted[] {
  const wanted: Wanted[] = [];
  const teams = new Set<string>();
  for (const policy of policies) {
    if (policy === undefined) continue;
    const budget = policy.limits?.budget;
    if (budget !== undefined) wanted.push({ scope: 'key', id: policy.id, period: budget.period });
    const teamBudget = policy.teamLimits?.budget;
    if (teamBudget !== undefined && policy.team !== undefined && !teams.has(policy.team)) {
      teams.add(policy.team);
      wanted.push({ scope: 'team', id: policy.team, period: teamBudget.period });
    }
  }
  return wanted;
}
