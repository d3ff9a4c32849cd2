// The HealthStore contract, for any implementation: one entry per (provider, key, model), kept or
// provisional; cooldowns and ejections that take an entry out of rotation and bring it back (the
// half-open probe); keys marked down and up by health checks, entries made later included; the
// counts the metrics read. The finer points of each detector are the in-process entry's own tests
// (test/unit/health.test.ts).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorClass, ErrorInfo } from '../../src/canonical/errors.ts';
import type { CooldownSettings } from '../../src/config/types.ts';
import type { HealthEntry, HealthStore } from '../../src/state/interfaces.ts';
import { storeTest, type StoreFactory, type SuiteOptions } from './state-suite.ts';

export const cooldowns: CooldownSettings = {
  authMs: 60_000,
  notFoundMs: 120_000,
  rateLimitMs: 1_000,
  rateLimitMaxMs: 10_000,
  ejectAfter: 3,
  ejectMs: 5_000,
  ejectMaxMs: 30_000,
  maxEjectionPercent: 50,
  panicThresholdPercent: 50,
  successRateThresholdPercent: 0,
  successRateRequestVolume: 20,
};

function failure(errorClass: ErrorClass, upstreamStatus?: number, retryAfterSeconds?: number): ErrorInfo {
  return {
    code: 'SWY_ERR_TEST', status: upstreamStatus ?? 502, message: 'test failure', origin: 'upstream', errorClass,
    retryable: true, fallbackAllowed: true,
    ...(upstreamStatus !== undefined ? { upstreamStatus } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** One attempt from start to failure, as the runner makes it. */
function failOnce(entry: HealthEntry, now: number, error: ErrorInfo): void {
  entry.take(now);
  entry.release();
  entry.fail(now, error, cooldowns, now);
}

export function healthStoreSuite(name: string, create: StoreFactory<HealthStore>, options: SuiteOptions<HealthStore> = {}): void {
  const it = (title: string, body: (store: HealthStore, clock: { now: () => number; advance(ms: number): number }) => Promise<void> | void) =>
    storeTest(create, options, title, undefined, body);

  describe(`HealthStore: ${name}`, () => {
    it('one entry per (provider, key, model), found again; kept entries are counted and listed', (store) => {
      const a = store.entry('p', 0, 'key0', 'm');
      assert.equal(store.entry('p', 0, 'key0', 'm'), a);
      const b = store.entry('p', 1, 'key1', 'm');
      const c = store.entry('p', 0, 'key0', 'other');
      assert.notEqual(b, a);
      assert.notEqual(c, a);
      assert.equal(store.size, 3);
      assert.equal(store.kept(a), true);
      assert.deepEqual(new Set(store.all()), new Set([a, b, c]));
      assert.equal(a.provider, 'p');
      assert.equal(b.keyIndex, 1);
      assert.equal(b.keyId, 'key1');
      assert.equal(c.model, 'other');
    });

    it('a provisional entry is not kept until the provider answers it; then a fresh one is', (store, clock) => {
      const provisional = store.entry('p', 0, 'key0', 'unlisted', false);
      assert.equal(store.kept(provisional), false);
      assert.equal(store.size, 0);
      assert.equal([...store.all()].length, 0);
      failOnce(provisional, clock.now(), failure('rate-limited', 429));
      assert.equal(store.counters.cooldowns.size, 0, 'a provisional entry counts nothing');
      store.keep(provisional);
      assert.equal(store.size, 1);
      const kept = store.entry('p', 0, 'key0', 'unlisted');
      assert.equal(store.kept(kept), true);
      assert.equal(kept.available(clock.now()), true, 'the kept entry starts fresh');
    });

    it('a new entry is healthy, available and idle', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      assert.equal(entry.available(clock.now()), true);
      assert.equal(entry.state(clock.now()), 'healthy');
      assert.equal(entry.reason, undefined);
      assert.equal(entry.inflight, 0);
      assert.equal(entry.latencyMs, 0);
      assert.equal(store.counters.ejectedEntries, 0);
    });

    it('take and release count attempts in flight; an answer records latency and a request', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      entry.take(clock.now());
      entry.take(clock.now());
      assert.equal(entry.inflight, 2);
      entry.release();
      entry.succeed(clock.now(), 120);
      entry.release();
      assert.equal(entry.inflight, 0);
      assert.equal(entry.latencyMs, 120);
      assert.equal(entry.requests, 1);
      assert.equal(entry.failures, 0);
    });

    it('a 429 cools the entry down for its Retry-After, then it is back; the cooldown is counted', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      failOnce(entry, clock.now(), failure('rate-limited', 429, 5));
      assert.equal(entry.available(clock.now()), false);
      assert.equal(entry.state(clock.now()), 'cooling');
      assert.equal(entry.reason, 'rate-limited');
      assert.equal(entry.until, clock.now() + 5_000);
      assert.equal(entry.lastError?.upstreamStatus, 429);
      assert.equal(store.counters.cooldowns.get('p')?.get('rate-limited'), 1);
      clock.advance(5_000);
      assert.equal(entry.available(clock.now()), true);
      assert.equal(entry.state(clock.now()), 'healthy');
    });

    it('a refused key (401) cools down for the auth time', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      failOnce(entry, clock.now(), failure('client-error', 401));
      assert.equal(entry.reason, 'auth');
      assert.equal(entry.until, clock.now() + cooldowns.authMs);
      assert.equal(store.counters.cooldowns.get('p')?.get('auth'), 1);
    });

    it('eject_after failures in a row eject; the half-open probe admits one attempt, and its answer ends the ejection', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      for (let i = 0; i < cooldowns.ejectAfter; i++) failOnce(entry, clock.now(), failure('server-error', 500));
      assert.equal(entry.reason, 'ejected');
      assert.equal(entry.ejectedBy, 'consecutive-failures');
      assert.equal(entry.available(clock.now()), false);
      assert.equal(entry.usable(clock.now(), true), true, 'panic may still use an ejected entry');
      assert.equal(store.counters.ejectedEntries, 1);
      assert.equal(store.counters.ejections.get('p')?.get('consecutive-failures'), 1);
      clock.advance(cooldowns.ejectMs);
      assert.equal(entry.state(clock.now()), 'half-open');
      assert.equal(entry.available(clock.now()), true);
      entry.take(clock.now());
      assert.equal(entry.probing, true);
      assert.equal(entry.available(clock.now()), false, 'one probe at a time');
      entry.succeed(clock.now(), 50, clock.now());
      entry.release();
      assert.equal(entry.state(clock.now()), 'healthy');
      assert.equal(store.counters.ejectedEntries, 0);
    });

    it('a guard that refuses the ejection keeps the entry in and counts the overflow', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      const refuse = { allowsEjection: () => false };
      for (let i = 0; i < cooldowns.ejectAfter; i++) {
        entry.take(clock.now());
        entry.release();
        entry.fail(clock.now(), failure('server-error', 500), cooldowns, clock.now(), refuse);
      }
      assert.equal(entry.available(clock.now()), true);
      assert.equal(store.counters.ejectionsOverflow.get('p'), 1);
      assert.equal(store.counters.ejectedEntries, 0);
    });

    it('a stream broken after the commit is counted apart and does not eject', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      for (let i = 0; i < cooldowns.ejectAfter + 2; i++) entry.failAfterCommit(clock.now(), failure('reset'), cooldowns);
      assert.equal(entry.available(clock.now()), true);
      assert.equal(entry.streamFailures, cooldowns.ejectAfter + 2);
      assert.equal(store.counters.streamFailures.get('p'), cooldowns.ejectAfter + 2);
    });

    it('a key marked down takes every model on it out of rotation, entries made later too; marked up, they are back', (store, clock) => {
      const a = store.entry('p', 0, 'key0', 'a');
      const b = store.entry('p', 0, 'key0', 'b');
      const other = store.entry('p', 1, 'key1', 'a');
      store.markKeyDown('p', 'key0', clock.now(), cooldowns);
      assert.equal(a.available(clock.now()), false);
      assert.equal(b.available(clock.now()), false);
      assert.equal(a.ejectedBy, 'health-check');
      assert.equal(other.available(clock.now()), true, 'another key is not affected');
      const later = store.entry('p', 0, 'key0', 'c');
      assert.equal(later.available(clock.now()), false, 'an entry made while the key is down starts ejected');
      assert.equal(store.counters.ejectedEntries, 3);
      store.markKeyUp('p', 'key0');
      for (const entry of [a, b, later]) assert.equal(entry.available(clock.now()), true);
      assert.equal(store.counters.ejectedEntries, 0);
      assert.equal(store.entry('p', 0, 'key0', 'd').available(clock.now()), true);
    });

    it('rates: the error and success rates follow the outcomes', (store, clock) => {
      const entry = store.entry('p', 0, 'key0', 'm');
      assert.equal(entry.errorRate(clock.now()), 0);
      assert.equal(entry.successRate(clock.now()), undefined);
      entry.succeed(clock.now(), 10);
      failOnce(entry, clock.now(), failure('server-error', 500));
      assert.equal(entry.errorRate(clock.now()), 0.5);
      assert.equal(entry.successRate(clock.now()), 0.5);
      assert.equal(entry.successRate(clock.now(), 5), undefined, 'below the minimum volume');
    });

    it('the store reads its own clock', (store, clock) => {
      assert.equal(store.now(), clock.now());
      clock.advance(1234);
      assert.equal(store.now(), clock.now());
    });
  });
}
