// The Redis/Valkey state stores against the same suites as the in-process ones, on a real server
// (SWITCHYARD_TEST_REDIS_URL; skipped without it, saying how to get one), and what only a shared
// store promises: two instances count together, the ledger's spend is counted once whatever the
// number of instances, a dead instance's slots and holds expire with their lease while a live
// one's are renewed, and a server that cannot be reached leaves each store answering in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LimitRule } from '../../src/state/interfaces.ts';
import { RedisLink } from '../../src/state/redis-link.ts';
import { RedisRateLimitCounters } from '../../src/state/redis-rate-limit-counters.ts';
import { RedisResponseCache } from '../../src/state/redis-response-cache.ts';
import { RedisSpendStore } from '../../src/state/redis-spend-store.ts';
import { connectedLink, quietLogger, redisSkip, testPrefix } from '../helpers/redis.ts';
import { rateLimitCountersSuite } from '../suites/rate-limit-counters.ts';
import { responseCacheSuite } from '../suites/response-cache.ts';
import { spendStoreSuite } from '../suites/spend-store.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const links = new WeakMap<object, RedisLink>();
const dispose = async (store: object): Promise<void> => links.get(store)?.close();

function remember<Store extends object>(store: Store, link: RedisLink): Store {
  links.set(store, link);
  return store;
}

if (redisSkip !== false) {
  test('Redis state stores', { skip: redisSkip }, () => {});
} else {
  rateLimitCountersSuite('RedisRateLimitCounters', async (now) => {
    const link = await connectedLink();
    return remember(new RedisRateLimitCounters(link, now), link);
  }, { dispose });
  spendStoreSuite('RedisSpendStore', async (now) => {
    const link = await connectedLink();
    return remember(new RedisSpendStore(link, now), link);
  }, { dispose });
  responseCacheSuite('RedisResponseCache', async () => {
    const link = await connectedLink();
    return remember(new RedisResponseCache(link), link);
  }, { dispose });

  const rpm: LimitRule = { kind: 'sliding', limit: 10, windowMs: MINUTE };
  const slots: LimitRule = { kind: 'concurrent', limit: 2, windowMs: 0 };

  test('Redis: two instances count together; each sees the other\'s count in its headers', async () => {
    const prefix = testPrefix();
    const [a, b] = [await connectedLink({ prefix }), await connectedLink({ prefix })];
    try {
      const one = new RedisRateLimitCounters(a);
      const two = new RedisRateLimitCounters(b);
      const now = suiteEpoch() + 1000;
      for (let i = 0; i < 6; i++) assert.equal(await one.reserve('k', rpm, 1, `a${i}`, now), 0);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => two.reserve('k', rpm, 1, `b${i}`, now)));
      assert.equal(answers.filter((wait) => wait === 0).length, 4);
      assert.ok(answers.filter((wait) => wait !== 0).every((wait) => wait > 0 && wait <= 2 * MINUTE), 'refusals say how long to wait');
      assert.equal(two.used('k', rpm, now), 10);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('Redis: the slots of an instance that died expire with their lease; a live instance\'s are renewed', async () => {
    const prefix = testPrefix();
    const dying = await connectedLink({ prefix, leaseMs: 300 });
    const living = await connectedLink({ prefix, leaseMs: 300 });
    const other = await connectedLink({ prefix, leaseMs: 300 });
    try {
      const now = Date.now();
      assert.equal(await new RedisRateLimitCounters(dying).reserve('p', slots, 1, 'dead', now), 0);
      const alive = new RedisRateLimitCounters(living);
      assert.equal(await alive.reserve('p', slots, 1, 'alive', now), 0);
      await dying.close(); // no settle, no more renewals
      const third = new RedisRateLimitCounters(other);
      assert.ok((await third.reserve('p', slots, 1, 'x', now)) > 0, 'both slots are held');
      await sleep(700);
      assert.equal(await third.reserve('p', slots, 1, 'x', now), 0, 'the dead instance\'s slot expired');
      assert.ok((await third.reserve('p', slots, 1, 'y', now)) > 0, 'the live instance\'s slot was renewed');
      alive.settle('p', slots, 1, 1, now, 'alive', Date.now());
      await sleep(50);
      assert.equal(await third.reserve('p', slots, 1, 'y', now), 0, 'a settled slot is freed at once');
    } finally {
      await living.close();
      await other.close();
    }
  });

  test('Redis: a budget hold of an instance that died expires; spend settles exactly across instances', async () => {
    const prefix = testPrefix();
    const dying = await connectedLink({ prefix, leaseMs: 300 });
    const living = await connectedLink({ prefix, leaseMs: 300 });
    try {
      const start = suiteEpoch();
      const now = start + 1000;
      assert.equal(await new RedisSpendStore(dying).reserve('b', start, start + DAY, 600, 1000, 'dead', now), true);
      await dying.close();
      const store = new RedisSpendStore(living);
      assert.equal(await store.reserve('b', start, start + DAY, 600, 1000, 'r1', now), false, 'the dead hold still counts');
      await sleep(700);
      assert.equal(await store.reserve('b', start, start + DAY, 600, 1000, 'r1', now), true, 'until its lease ran out');
      store.settle('b', start, start + DAY, 600, 250, 'r1', now);
      assert.equal(store.spent('b', start, now), 250);
      assert.equal(await store.reserve('b', start, start + DAY, 750, 1000, 'r2', now), true);
      assert.equal(store.held('b', start, now), 750);
    } finally {
      await living.close();
    }
  });

  test('Redis: the ledger\'s spend is counted once, whatever the number of instances reading it', async () => {
    const prefix = testPrefix();
    const [a, b] = [await connectedLink({ prefix }), await connectedLink({ prefix })];
    try {
      const start = suiteEpoch();
      const one = new RedisSpendStore(a);
      const two = new RedisSpendStore(b);
      one.record('b', start, start + DAY, 500, start);
      two.record('b', start, start + DAY, 500, start);
      two.settle('b', start, start + DAY, 0, 100, 'r', start);
      assert.equal(await two.reserve('b', start, start + DAY, 400, 1000, 'r2', start), true, '500 + 100 spent: 400 left');
      assert.equal(await one.reserve('b', start, start + DAY, 1, 1000, 'r3', start), false);
      one.record('b', start, start + DAY, 550, start);
      assert.equal(await one.reserve('b', start, start + DAY, 1, 1000, 'r3', start), false, 'a smaller record changes nothing');
      assert.equal(one.spent('b', start, start), 600);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('Redis: a server that cannot be reached leaves the stores answering in process, synchronously, counted as one outage', async () => {
  const warnings: string[] = [];
  // a port nothing listens on (the discard port on loopback)
  const link = new RedisLink({ url: 'redis://127.0.0.1:9/0', keyPrefix: testPrefix(), timeoutMs: 200, logger: { ...quietLogger, warn: (_object, message) => warnings.push(message) } });
  try {
    await link.whenConnected(300);
    for (let i = 0; i < 50 && link.outages === 0; i++) await sleep(20);
    assert.equal(link.available, false);
    const counters = new RedisRateLimitCounters(link);
    const now = suiteEpoch();
    assert.equal(counters.reserve('k', { kind: 'fixed', limit: 1, windowMs: MINUTE }, 1, 'a', now), 0);
    assert.ok((counters.reserve('k', { kind: 'fixed', limit: 1, windowMs: MINUTE }, 1, 'b', now) as number) > 0);
    const spend = new RedisSpendStore(link);
    assert.equal(spend.reserve('b', now, now + DAY, 1, 10, 'r', now), true);
    assert.equal(new RedisResponseCache(link).get('x', now), undefined);
    await sleep(300);
    assert.equal(link.outages, 1);
    assert.equal(warnings.length, 1, 'logged once per outage, however often it reconnects');
  } finally {
    await link.close();
  }
});
