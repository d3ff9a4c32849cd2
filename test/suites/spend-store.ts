// The SpendStore contract, for any implementation: a hold fits within the limit or holds nothing;
// holds count against the limit until settled; settling turns a hold into the actual spend (0
// releases it); a new period starts from zero and a past period's settle leaves it alone; budgets
// are apart; and concurrent reservations never overspend.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { SpendStore } from '../../src/state/interfaces.ts';
import { storeTest, type ManualClock, type StoreFactory, type SuiteOptions } from './state-suite.ts';

const DAY = 86_400_000;

export function spendStoreSuite(name: string, create: StoreFactory<SpendStore>, options: SuiteOptions<SpendStore> = {}): void {
  const it = (title: string, body: (store: SpendStore, clock: ManualClock, period: { start: number; end: number }) => Promise<void> | void) =>
    storeTest(create, options, title, undefined, (store, clock) => body(store, clock, { start: clock.now(), end: clock.now() + DAY }));

  describe(`SpendStore: ${name}`, () => {
    it('a hold that fits is granted; one that does not holds nothing', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key', start, end, 600, 1000, 'a', clock.now()), true);
      assert.equal(store.held('key', start, clock.now()), 600);
      assert.equal(await store.reserve('key', start, end, 500, 1000, 'b', clock.now()), false);
      assert.equal(store.held('key', start, clock.now()), 600);
      assert.equal(await store.reserve('key', start, end, 400, 1000, 'c', clock.now()), true, 'exactly up to the limit');
      assert.equal(store.spent('key', start, clock.now()), 0);
    });

    it('settling turns the hold into the actual spend and frees the rest', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key', start, end, 600, 1000, 'a', clock.now()), true);
      store.settle('key', start, end, 600, 150, 'a', clock.now());
      assert.equal(store.held('key', start, clock.now()), 0);
      assert.equal(store.spent('key', start, clock.now()), 150);
      assert.equal(await store.reserve('key', start, end, 850, 1000, 'b', clock.now()), true);
      assert.equal(await store.reserve('key', start, end, 1, 1000, 'c', clock.now()), false);
    });

    it('settling with 0 releases the hold: the request cost nothing', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key', start, end, 1000, 1000, 'a', clock.now()), true);
      store.settle('key', start, end, 1000, 0, 'a', clock.now());
      assert.equal(store.held('key', start, clock.now()), 0);
      assert.equal(store.spent('key', start, clock.now()), 0);
      assert.equal(await store.reserve('key', start, end, 1000, 1000, 'b', clock.now()), true);
    });

    it('spend recorded without a hold counts against the limit', async (store, clock, { start, end }) => {
      store.settle('key', start, end, 0, 700, 'a', clock.now());
      assert.equal(store.spent('key', start, clock.now()), 700);
      assert.equal(await store.reserve('key', start, end, 400, 1000, 'b', clock.now()), false);
    });

    it('actual spend above the estimate is counted in full; the budget is then exhausted', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key', start, end, 100, 1000, 'a', clock.now()), true);
      store.settle('key', start, end, 100, 1500, 'a', clock.now());
      assert.equal(store.spent('key', start, clock.now()), 1500);
      assert.equal(await store.reserve('key', start, end, 1, 1000, 'b', clock.now()), false);
    });

    it('a new period starts from zero; settling a past period\'s hold leaves it alone', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key', start, end, 900, 1000, 'a', clock.now()), true);
      store.settle('key', start, end, 0, 50, 'x', clock.now());
      clock.advance(DAY);
      const next = { start: end, end: end + DAY };
      assert.equal(store.spent('key', next.start, clock.now()), 0);
      assert.equal(await store.reserve('key', next.start, next.end, 1000, 1000, 'b', clock.now()), true);
      store.settle('key', start, end, 900, 900, 'a', clock.now());
      assert.equal(store.held('key', next.start, clock.now()), 1000);
      assert.equal(store.spent('key', next.start, clock.now()), 0);
    });

    it('budgets are apart', async (store, clock, { start, end }) => {
      assert.equal(await store.reserve('key-a', start, end, 1000, 1000, 'a', clock.now()), true);
      assert.equal(await store.reserve('key-b', start, end, 1000, 1000, 'b', clock.now()), true);
      assert.equal(store.held('key-c', start, clock.now()), 0);
      assert.equal(store.spent('key-c', start, clock.now()), 0);
    });

    it('exact under concurrency: 50 holds at once against room for 10 grant exactly 10', async (store, clock, { start, end }) => {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reserve('key', start, end, 100, 1000, `r${i}`, clock.now())));
      assert.equal(answers.filter(Boolean).length, 10);
      assert.equal(store.held('key', start, clock.now()), 1000);
    });
  });
}
