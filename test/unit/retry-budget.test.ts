// The retry budget with an explicit clock: retries may add `ratio` of the requests seen over the
// last ten seconds plus a floor per second; refused retries cost nothing; old seconds are forgotten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from '../../src/state/retry-budget.ts';

const T0 = 1_800_000_000_000;

function clock(start = T0): { now: () => number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance(ms) { now += ms; } };
}

function spend(budget: RetryBudget, max = 1000): number {
  let granted = 0;
  while (granted < max && budget.tryRetry()) granted++;
  return granted;
}

test('ratio: retries up to a share of the requests seen', () => {
  const time = clock();
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 }, time.now);
  assert.equal(budget.tryRetry(), false, 'no requests, no floor: no retry');
  for (let i = 0; i < 10; i++) budget.onRequest();
  assert.equal(spend(budget), 2);
  for (let i = 0; i < 5; i++) budget.onRequest();
  assert.equal(spend(budget), 1, '15 requests allow 3 in all');
});

test('the floor allows min_per_second × 10 retries over the window even with no requests', () => {
  const time = clock();
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 2 }, time.now);
  assert.equal(spend(budget), 20);
  for (let i = 0; i < 100; i++) budget.onRequest();
  assert.equal(budget.tryRetry(), false, 'ratio 0: requests add nothing');
});

test('ratio 0 and no floor: never a retry', () => {
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 }, clock().now);
  for (let i = 0; i < 1000; i++) budget.onRequest();
  assert.equal(budget.tryRetry(), false);
});

test('refused retries cost nothing: the budget is available again as soon as requests come in', () => {
  const time = clock();
  const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 }, time.now);
  for (let i = 0; i < 4; i++) budget.onRequest();
  assert.equal(spend(budget), 2);
  for (let i = 0; i < 10; i++) assert.equal(budget.tryRetry(), false);
  budget.onRequest();
  budget.onRequest();
  assert.equal(spend(budget), 1);
});

test('the window is ten seconds: old requests and retries are forgotten second by second', () => {
  const time = clock();
  const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 }, time.now);
  for (let i = 0; i < 10; i++) budget.onRequest();
  assert.equal(spend(budget), 5);
  time.advance(5_000);
  assert.equal(budget.tryRetry(), false, 'still inside the window');
  for (let i = 0; i < 2; i++) budget.onRequest();
  assert.equal(spend(budget), 1, '12 requests → 6 retries, 5 spent');
  time.advance(5_000);
  // the first second (10 requests, 5 retries) has left the window; 2 requests and 1 retry remain
  assert.equal(budget.tryRetry(), false);
  budget.onRequest();
  budget.onRequest();
  assert.equal(spend(budget), 1);
  time.advance(60_000);
  assert.equal(budget.tryRetry(), false, 'a quiet minute later: nothing in the window');
  budget.onRequest();
  budget.onRequest();
  assert.equal(spend(budget), 1);
});

test('a clock jump longer than the window clears every bucket at once', () => {
  const time = clock();
  const budget = new RetryBudget({ ratio: 1, minPerSecond: 0 }, time.now);
  for (let i = 0; i < 10; i++) {
    budget.onRequest();
    time.advance(1_000);
  }
  time.advance(3_600_000);
  assert.equal(budget.tryRetry(), false);
});
