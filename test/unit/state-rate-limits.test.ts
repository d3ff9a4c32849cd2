// The in-process rate-limit counters against the RateLimitCounters suite, and their own promises:
// answers are synchronous (no promise on the hot path), memory is bounded, and a counter holding a
// reservation is never dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LimitRule } from '../../src/state/interfaces.ts';
import { LocalRateLimitCounters } from '../../src/state/local-rate-limit-counters.ts';
import { rateLimitCountersSuite } from '../suites/rate-limit-counters.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

rateLimitCountersSuite('in-process LocalRateLimitCounters', () => new LocalRateLimitCounters());

const T0 = suiteEpoch();
const perMinute: LimitRule = { kind: 'sliding', limit: 5, windowMs: 60_000 };
const parallel: LimitRule = { kind: 'concurrent', limit: 1, windowMs: 0 };

test('LocalRateLimitCounters: reserve answers a number, not a promise', () => {
  const counters = new LocalRateLimitCounters();
  assert.equal(typeof counters.reserve('k', perMinute, 1, 'r', T0), 'number');
});

test('LocalRateLimitCounters: past the bound, counters whose windows have passed go first', () => {
  const counters = new LocalRateLimitCounters(4);
  for (const key of ['a', 'b', 'c']) counters.reserve(key, perMinute, 1, 'r', T0);
  counters.reserve('d', perMinute, 1, 'r', T0 + 120_000);
  assert.equal(counters.size, 4);
  counters.reserve('e', perMinute, 1, 'r', T0 + 120_000);
  assert.equal(counters.size, 2, 'a, b and c count nothing any more');
  assert.equal(counters.used('d', perMinute, T0 + 120_000), 1);
});

test('LocalRateLimitCounters: a counter holding a concurrent reservation is never dropped', () => {
  const counters = new LocalRateLimitCounters(2);
  assert.equal(counters.reserve('held', parallel, 1, 'r', T0), 0);
  for (let i = 0; i < 10; i++) counters.reserve(`k${i}`, perMinute, 1, 'r', T0);
  assert.ok(counters.size <= 3);
  assert.equal(counters.used('held', parallel, T0), 1);
  assert.ok(counters.reserve('held', parallel, 1, 'r2', T0) > 0, 'the hold still counts');
});

test('LocalRateLimitCounters: a rule whose window changed starts its counter over', () => {
  const counters = new LocalRateLimitCounters();
  for (let i = 0; i < 5; i++) counters.reserve('k', perMinute, 1, 'r', T0);
  const perHour: LimitRule = { kind: 'sliding', limit: 5, windowMs: 3_600_000 };
  assert.equal(counters.used('k', perHour, T0), 0);
  assert.equal(counters.reserve('k', perHour, 1, 'r', T0), 0);
});
