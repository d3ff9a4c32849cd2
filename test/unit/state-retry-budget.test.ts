// The in-process retry budget against the RetryBudgetStore suite (its finer points, a clock going
// back included, are in retry-budget.test.ts).
import { RetryBudget } from '../../src/state/retry-budget.ts';
import { retryBudgetStoreSuite } from '../suites/retry-budget-store.ts';

retryBudgetStoreSuite('in-process RetryBudget', (now, settings) => new RetryBudget(settings, now));
