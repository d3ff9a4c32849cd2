// The RateLimitCounters contract, for any implementation: a reservation fits or takes nothing and
// says how long to wait; fixed windows reset at their boundary, sliding ones weigh the previous
// window; settling replaces the estimate by the actual count (0 gives it back) and ends a
// concurrent hold; counters are apart; and concurrent reservations never overshoot a limit.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { LimitRule, RateLimitCounters } from '../../src/state/interfaces.ts';
import { storeTest, type ManualClock, type StoreFactory, type SuiteOptions } from './state-suite.ts';

const MINUTE = 60_000;
const fixed: LimitRule = { kind: 'fixed', limit: 10, windowMs: MINUTE };
const sliding: LimitRule = { kind: 'sliding', limit: 10, windowMs: MINUTE };
const tokens: LimitRule = { kind: 'fixed', limit: 1000, windowMs: MINUTE };
const parallel: LimitRule = { kind: 'concurrent', limit: 2, windowMs: 0 };

/** Reserves one unit at a time until refused; answers how many fitted. */
async function fill(counters: RateLimitCounters, key: string, rule: LimitRule, now: number, max = 100): Promise<number> {
  let granted = 0;
  while (granted < max && (await counters.reserve(key, rule, 1, `request-${granted}`, now)) === 0) granted++;
  return granted;
}

export function rateLimitCountersSuite(name: string, create: StoreFactory<RateLimitCounters>, options: SuiteOptions<RateLimitCounters> = {}): void {
  const it = (title: string, body: (store: RateLimitCounters, clock: ManualClock) => Promise<void> | void) => storeTest(create, options, title, undefined, body);

  describe(`RateLimitCounters: ${name}`, () => {
    it('fixed window: up to the limit, then a wait until the window ends; the next window starts from zero', async (counters, clock) => {
      clock.advance(15_000);
      assert.equal(await fill(counters, 'k', fixed, clock.now()), 10);
      assert.equal(await counters.reserve('k', fixed, 1, 'late', clock.now()), 45_000, 'the window ends 45 s later');
      assert.equal(counters.used('k', fixed, clock.now()), 10);
      clock.advance(45_000);
      assert.equal(counters.used('k', fixed, clock.now()), 0);
      assert.equal(await fill(counters, 'k', fixed, clock.now()), 10);
    });

    it('a refused reservation takes nothing: a smaller one that fits is still granted', async (counters, clock) => {
      assert.equal(await counters.reserve('k', tokens, 700, 'a', clock.now()), 0);
      assert.ok((await counters.reserve('k', tokens, 400, 'b', clock.now())) > 0);
      assert.equal(counters.used('k', tokens, clock.now()), 700);
      assert.equal(await counters.reserve('k', tokens, 300, 'c', clock.now()), 0);
      assert.equal(counters.used('k', tokens, clock.now()), 1000);
    });

    it('more than the limit itself never fits: the wait is infinite', async (counters, clock) => {
      assert.equal(await counters.reserve('k', tokens, 1001, 'a', clock.now()), Infinity);
      assert.equal(counters.used('k', tokens, clock.now()), 0);
    });

    it('sliding window: the previous window counts by how much of it is still within the last minute', async (counters, clock) => {
      assert.equal(await fill(counters, 'k', sliding, clock.now()), 10);
      clock.advance(MINUTE + MINUTE / 2);
      // half of the previous window's 10 still counts
      assert.equal(counters.used('k', sliding, clock.now()), 5);
      assert.equal(await fill(counters, 'k', sliding, clock.now()), 5);
      const wait = await counters.reserve('k', sliding, 1, 'late', clock.now());
      assert.ok(wait > 0 && wait <= MINUTE / 2, `waits for the previous window to weigh less (${wait} ms)`);
      clock.advance(wait);
      assert.equal(await counters.reserve('k', sliding, 1, 'later', clock.now()), 0, 'fits after the wait it was told');
    });

    it('sliding window: no double burst across a boundary', async (counters, clock) => {
      clock.advance(MINUTE - 1_000);
      assert.equal(await fill(counters, 'k', sliding, clock.now()), 10);
      clock.advance(2_000);
      assert.equal(await fill(counters, 'k', sliding, clock.now()), 0, 'a second later, the last minute still holds 10');
    });

    it('settle: the actual count replaces the estimate; 0 gives the whole reservation back', async (counters, clock) => {
      const at = clock.now();
      assert.equal(await counters.reserve('k', tokens, 600, 'a', at), 0);
      assert.equal(await counters.reserve('k', tokens, 300, 'b', at), 0);
      clock.advance(1_000);
      counters.settle('k', tokens, 600, 250, at, 'a', clock.now());
      assert.equal(counters.used('k', tokens, clock.now()), 550);
      counters.settle('k', tokens, 300, 0, at, 'b', clock.now());
      assert.equal(counters.used('k', tokens, clock.now()), 250);
    });

    it('settle above the estimate counts the excess, and the next request waits for it', async (counters, clock) => {
      const at = clock.now();
      assert.equal(await counters.reserve('k', tokens, 100, 'a', at), 0);
      counters.settle('k', tokens, 100, 1200, at, 'a', clock.now());
      assert.equal(counters.used('k', tokens, clock.now()), 1200);
      assert.ok((await counters.reserve('k', tokens, 1, 'b', clock.now())) > 0);
    });

    it('settling a reservation whose window has passed changes nothing', async (counters, clock) => {
      const at = clock.now();
      assert.equal(await counters.reserve('k', tokens, 500, 'a', at), 0);
      clock.advance(MINUTE);
      assert.equal(await counters.reserve('k', tokens, 100, 'b', clock.now()), 0);
      counters.settle('k', tokens, 500, 0, at, 'a', clock.now());
      assert.equal(counters.used('k', tokens, clock.now()), 100);
    });

    it('sliding window: settling last window\'s reservation corrects what still counts of it', async (counters, clock) => {
      const at = clock.now();
      assert.equal(await counters.reserve('k', { ...sliding, limit: 1000 }, 800, 'a', at), 0);
      clock.advance(MINUTE + MINUTE / 2);
      counters.settle('k', { ...sliding, limit: 1000 }, 800, 200, at, 'a', clock.now());
      assert.equal(counters.used('k', { ...sliding, limit: 1000 }, clock.now()), 100, 'half of the 200 actually used');
    });

    it('concurrent: holds up to the limit until settled, whatever the window', async (counters, clock) => {
      assert.equal(await counters.reserve('k', parallel, 1, 'a', clock.now()), 0);
      assert.equal(await counters.reserve('k', parallel, 1, 'b', clock.now()), 0);
      assert.ok((await counters.reserve('k', parallel, 1, 'c', clock.now())) > 0);
      assert.equal(counters.used('k', parallel, clock.now()), 2);
      clock.advance(10 * MINUTE);
      assert.ok((await counters.reserve('k', parallel, 1, 'c', clock.now())) > 0, 'time alone frees nothing');
      counters.settle('k', parallel, 1, 1, clock.now() - 10 * MINUTE, 'a', clock.now());
      assert.equal(counters.used('k', parallel, clock.now()), 1);
      assert.equal(await counters.reserve('k', parallel, 1, 'c', clock.now()), 0);
    });

    it('counters are apart', async (counters, clock) => {
      assert.equal(await fill(counters, 'a', fixed, clock.now()), 10);
      assert.equal(await fill(counters, 'b', fixed, clock.now()), 10);
      assert.equal(counters.used('c', fixed, clock.now()), 0);
    });

    it('exact under concurrency: 100 reservations at once against a limit of 10 grant exactly 10', async (counters, clock) => {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => counters.reserve('k', fixed, 1, `r${i}`, clock.now())));
      assert.equal(answers.filter((wait) => wait === 0).length, 10);
      const holds = await Promise.all(Array.from({ length: 20 }, (_, i) => counters.reserve('p', parallel, 1, `h${i}`, clock.now())));
      assert.equal(holds.filter((wait) => wait === 0).length, 2);
    });
  });
}
