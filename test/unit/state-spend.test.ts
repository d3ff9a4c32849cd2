// The in-process spend store against the SpendStore suite, and its own promises: answers are
// synchronous, memory is bounded, and a budget holding a reservation is never dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalSpendStore } from '../../src/state/local-spend-store.ts';
import { spendStoreSuite } from '../suites/spend-store.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

spendStoreSuite('in-process LocalSpendStore', () => new LocalSpendStore());

const T0 = suiteEpoch();
const HOUR = 3_600_000;

test('LocalSpendStore: reserve answers a boolean, not a promise', () => {
  assert.equal(typeof new LocalSpendStore().reserve('k', T0, T0 + HOUR, 1, 10, 'r', T0), 'boolean');
});

test('LocalSpendStore: past the bound, budgets whose period ended go first', () => {
  const store = new LocalSpendStore(3);
  for (const budget of ['a', 'b']) store.settle(budget, T0, T0 + HOUR, 0, 5, 'r', T0);
  store.settle('c', T0, T0 + 2 * HOUR, 0, 5, 'r', T0);
  store.settle('d', T0 + HOUR, T0 + 2 * HOUR, 0, 5, 'r', T0 + HOUR);
  assert.equal(store.size, 2, 'a and b had ended');
  assert.equal(store.spent('c', T0, T0 + HOUR), 5);
});

test('LocalSpendStore: a budget holding a reservation is never dropped', () => {
  const store = new LocalSpendStore(2);
  assert.equal(store.reserve('held', T0, T0 + HOUR, 10, 10, 'r', T0), true);
  for (let i = 0; i < 10; i++) store.settle(`k${i}`, T0, T0 + HOUR, 0, 1, 'r', T0);
  assert.ok(store.size <= 3);
  assert.equal(store.held('held', T0, T0), 10);
  assert.equal(store.reserve('held', T0, T0 + HOUR, 1, 10, 'r2', T0), false);
});
