// The RetryBudgetStore contract, for any implementation (a shared one, run alone): retries may add
// `ratio` of the first attempts of the last ten seconds plus `min_per_second` × 10; a refused retry
// spends nothing; seconds older than the window are forgotten.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryBudgetSettings } from '../../src/config/types.ts';
import type { RetryBudgetStore } from '../../src/state/interfaces.ts';
import { storeTest, type ManualClock, type StoreFactory, type SuiteOptions } from './state-suite.ts';

function spend(budget: RetryBudgetStore, max = 1000): number {
  let granted = 0;
  while (granted < max && budget.tryRetry()) granted++;
  return granted;
}

function requests(budget: RetryBudgetStore, count: number): void {
  for (let i = 0; i < count; i++) budget.onRequest();
}

export function retryBudgetStoreSuite(name: string, create: StoreFactory<RetryBudgetStore, RetryBudgetSettings>, options: SuiteOptions<RetryBudgetStore> = {}): void {
  const it = (title: string, settings: RetryBudgetSettings, body: (store: RetryBudgetStore, clock: ManualClock) => Promise<void> | void) =>
    storeTest(create, options, title, settings, body);

  describe(`RetryBudgetStore: ${name}`, () => {
    it('retries up to the ratio of the requests seen', { ratio: 0.2, minPerSecond: 0 }, (budget) => {
      assert.equal(budget.tryRetry(), false, 'no requests and no floor: no retry');
      requests(budget, 10);
      assert.equal(spend(budget), 2);
      requests(budget, 5);
      assert.equal(spend(budget), 1, '15 requests allow 3 in all');
    });

    it('the floor allows min_per_second × 10 retries with no requests', { ratio: 0, minPerSecond: 2 }, (budget) => {
      assert.equal(spend(budget), 20);
      requests(budget, 100);
      assert.equal(budget.tryRetry(), false, 'ratio 0: requests add nothing');
    });

    it('a refused retry spends nothing', { ratio: 0.5, minPerSecond: 0 }, (budget) => {
      requests(budget, 4);
      assert.equal(spend(budget), 2);
      for (let i = 0; i < 10; i++) assert.equal(budget.tryRetry(), false);
      requests(budget, 2);
      assert.equal(spend(budget), 1, 'the refusals took nothing from what two more requests allow');
    });

    it('requests and retries older than ten seconds are forgotten', { ratio: 0.5, minPerSecond: 0 }, (budget, clock) => {
      requests(budget, 10);
      assert.equal(spend(budget), 5);
      clock.advance(5_000);
      assert.equal(budget.tryRetry(), false, 'still within the window');
      clock.advance(6_000);
      assert.equal(budget.tryRetry(), false, 'the requests went with the window');
      requests(budget, 2);
      assert.equal(spend(budget), 1, 'and so did the retries they paid for');
    });
  });
}
