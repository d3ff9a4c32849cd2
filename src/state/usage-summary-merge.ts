// Sums of one usage summary computed in slices of its time range (usage-sqlite.ts runs one slice's
// GROUP BY per macrotask) and merged here into what the single statement answers: every column of
// SUMS_SQL is a COUNT or a SUM, so a group's sums are the sums of its slices' sums. A nullable SUM
// stays NULL when it was NULL in every slice; the cost sums (REAL) are added with Neumaier's
// compensation, as SQLite's SUM adds rows, so they keep the one statement's value to the last bit
// when the slices' sums are exact and differ by at most about an ulp otherwise (no reading of
// floats can do better without the rows). The rows come out in orderSql's order.
import type { UsageGroup } from './usage-store.ts';

/** One group's sums in a slice, as the statement selects them (`grp` and the SUMS_SQL aliases). */
type SliceRow = Record<string, unknown>;

/** Counts and SUMs of CASE expressions: never NULL in a group that has rows. */
const COUNTS = ['requests', 'errors', 'unpriced_requests', 'subscription_requests', 'cached_requests'] as const;
/** SUMs of INTEGER columns: NULL when every row was NULL. */
const INTEGER_SUMS = ['input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens'] as const;
/** SUMs of REAL columns. */
const REAL_SUMS = ['cost_usd', 'reported_cost_usd'] as const;

class CompensatedSum {
  sum = 0;
  compensation = 0;
  /** False while every slice's SUM was NULL. */
  present = false;

  add(value: number): void {
    if (!this.present) {
      this.sum = value;
      this.present = true;
      return;
    }
    const total = this.sum + value;
    this.compensation += Math.abs(this.sum) >= Math.abs(value) ? (this.sum - total) + value : (value - total) + this.sum;
    this.sum = total;
  }

  /** Like SQLite's SUM: the compensation is dropped once it overflowed (an infinite sum). */
  value(): number | null {
    if (!this.present) return null;
    return Number.isFinite(this.compensation) ? this.sum + this.compensation : this.sum;
  }
}

class GroupSums {
  readonly group: unknown;
  readonly counts: number[] = COUNTS.map(() => 0);
  readonly integers: (number | null)[] = INTEGER_SUMS.map(() => null);
  readonly reals: CompensatedSum[] = REAL_SUMS.map(() => new CompensatedSum());

  constructor(group: unknown) {
    this.group = group;
  }

  add(row: SliceRow): void {
    for (let i = 0; i < COUNTS.length; i++) this.counts[i]! += Number(row[COUNTS[i]!]);
    for (let i = 0; i < INTEGER_SUMS.length; i++) {
      const value = row[INTEGER_SUMS[i]!];
      if (value !== null && value !== undefined) this.integers[i] = (this.integers[i] ?? 0) + Number(value);
    }
    for (let i = 0; i < REAL_SUMS.length; i++) {
      const value = row[REAL_SUMS[i]!];
      if (value !== null && value !== undefined) this.reals[i]!.add(Number(value));
    }
  }

  row(): SliceRow {
    const row: SliceRow = { grp: this.group };
    COUNTS.forEach((name, i) => { row[name] = this.counts[i]; });
    INTEGER_SUMS.forEach((name, i) => { row[name] = this.integers[i]; });
    REAL_SUMS.forEach((name, i) => { row[name] = this.reals[i]!.value(); });
    return row;
  }
}

export class UsageSummaryMerge {
  private readonly groups = new Map<unknown, GroupSums>();

  /** Adds one slice's rows (one per group). */
  add(rows: readonly SliceRow[]): void {
    for (const row of rows) {
      let sums = this.groups.get(row.grp);
      if (sums === undefined) {
        sums = new GroupSums(row.grp);
        this.groups.set(row.grp, sums);
      }
      sums.add(row);
    }
  }

  /** The merged rows, ordered as orderSql orders them. */
  rows(groupBy: UsageGroup): SliceRow[] {
    const rows = [...this.groups.values()].map((sums) => sums.row());
    return rows.sort(groupBy === 'day' ? byGroup : byCostThenRequests);
  }
}

/** `ORDER BY cost_usd DESC NULLS LAST, requests DESC, grp`. */
function byCostThenRequests(a: SliceRow, b: SliceRow): number {
  const costA = a.cost_usd as number | null;
  const costB = b.cost_usd as number | null;
  if (costA !== costB) {
    if (costA === null) return 1;
    if (costB === null) return -1;
    if (costA > costB) return -1;
    if (costA < costB) return 1;
  }
  const requests = (b.requests as number) - (a.requests as number);
  return requests !== 0 ? requests : byGroup(a, b);
}

/** `ORDER BY grp` in SQLite's order: NULL first, then numbers, then text by its UTF-8 bytes (BINARY). */
function byGroup(a: SliceRow, b: SliceRow): number {
  return compareSqlValues(a.grp, b.grp);
}

export function compareSqlValues(a: unknown, b: unknown): number {
  const rank = (value: unknown) => (value === null || value === undefined ? 0 : typeof value === 'number' || typeof value === 'bigint' ? 1 : 2);
  const rankA = rank(a);
  const rankB = rank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (rankA === 0) return 0;
  if (rankA === 1) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  return compareCodePoints(String(a), String(b));
}

/**
 * UTF-8 byte order is code point order, which differs from JavaScript's UTF-16 order only where a
 * surrogate (a code point above U+FFFF) meets a unit from U+E000 to U+FFFF: the surrogates are
 * moved above them before comparing.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let unitA = a.charCodeAt(i);
    let unitB = b.charCodeAt(i);
    if (unitA === unitB) continue;
    if (unitA >= 0xd800 && unitB >= 0xd800) {
      unitA += unitA >= 0xe000 ? -0x800 : 0x2000;
      unitB += unitB >= 0xe000 ? -0x800 : 0x2000;
    }
    return unitA - unitB;
  }
  return a.length - b.length;
}
