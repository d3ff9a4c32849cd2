// Budget periods, aligned to UTC: a day from 00:00, a week from Monday 00:00, a month from the 1st;
// `total` from the epoch and never ending.
import type { BudgetPeriod } from './policy.ts';

const DAY_MS = 86_400_000;

/** Epoch ms where the period holding `now` starts. */
export function periodStart(period: BudgetPeriod, now: number): number {
  switch (period) {
    case 'day': return now - (now % DAY_MS);
    case 'week': {
      const day = now - (now % DAY_MS);
      // 1970-01-01 was a Thursday: days since the last Monday
      const weekday = (Math.floor(day / DAY_MS) + 3) % 7;
      return day - weekday * DAY_MS;
    }
    case 'month': {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
    case 'total': return 0;
  }
}

/** Epoch ms where the period starting at `start` ends (Infinity for `total`). */
export function periodEnd(period: BudgetPeriod, start: number): number {
  switch (period) {
    case 'day': return start + DAY_MS;
    case 'week': return start + 7 * DAY_MS;
    case 'month': {
      const date = new Date(start);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
    case 'total': return Infinity;
  }
}
