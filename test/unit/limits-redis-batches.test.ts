// A request's limits through Redis/Valkey in one round trip (RedisLimitBatches, LIMITS_TAKE and
// LIMITS_SETTLE) on a real server (SWITCHYARD_TEST_REDIS_URL; skipped without it): one command
// admits a request whatever its number of limits and one settles it; the limits are taken all or
// none, so a refusal leaves every counter as it was; a budget with less left than the estimate
// holds what is left; the limits stay exact when two instances admit concurrently; and a batch
// the server does not answer falls back to the in-process steps, its counts sent on its return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { periodStart } from '../../src/governance/budget-period.ts';
import { LimitEnforcer, LimitTicket, type Admission, type LimitRefusal, type SoftBudgetEvent } from '../../src/governance/limit-enforcer.ts';
import type { KeyPolicy } from '../../src/governance/policy.ts';
import type { LimitRule } from '../../src/state/interfaces.ts';
import { RedisLimitBatches } from '../../src/state/redis-limit-batches.ts';
import { RedisLink } from '../../src/state/redis-link.ts';
import { RedisRateLimitCounters } from '../../src/state/redis-rate-limit-counters.ts';
import { RedisSpendStore } from '../../src/state/redis-spend-store.ts';
import { connectedLink, redisSkip, startOwnRedisServer, testPrefix } from '../helpers/redis.ts';

const NOW = Date.parse('2026-03-05T13:45:15Z');
const RPM: LimitRule = { kind: 'sliding', limit: 0, windowMs: 60_000 };

interface Instance {
  link: RedisLink;
  counters: RedisRateLimitCounters;
  spend: RedisSpendStore;
  limits: LimitEnforcer;
}

async function instance(prefix: string, options: { price?: number; events?: SoftBudgetEvent[]; link?: RedisLink } = {}): Promise<Instance> {
  const link = options.link ?? await connectedLink({ prefix });
  const counters = new RedisRateLimitCounters(link);
  const spend = new RedisSpendStore(link);
  const limits = new LimitEnforcer({
    counters, spend, spendReadiness: { available: true }, sharedState: link, batches: new RedisLimitBatches(link, counters, spend),
    prices: { estimateUsd: (_model, input, output) => options.price === undefined ? undefined : (input + output) * options.price },
    defaultMaxTokens: 100,
    onStoreFailure: { rateLimits: 'open', budgets: 'closed' },
    onSoftBudget: (event) => options.events?.push(event),
  });
  return { link, counters, spend, limits };
}

function policy(limits: KeyPolicy['limits'], team?: { name: string; limits: KeyPolicy['teamLimits'] }, id = 'key-1'): KeyPolicy {
  return Object.freeze({ id, name: id, source: 'config' as const, ...(limits !== undefined ? { limits } : {}), ...(team !== undefined ? { team: team.name, teamLimits: team.limits } : {}) });
}

async function admitted(outcome: Admission | Promise<Admission>): Promise<LimitTicket> {
  assert.ok(outcome instanceof Promise, 'a shared store answers over the network');
  const admission = await outcome;
  assert.ok(admission instanceof LimitTicket, `expected a ticket, got ${(admission as LimitRefusal).error?.message}`);
  return admission;
}

async function refused(outcome: Admission | Promise<Admission>): Promise<LimitRefusal> {
  const admission = await outcome;
  assert.ok(!(admission instanceof LimitTicket), 'expected a refusal');
  return admission;
}

/** The commands the server receives that name keys under `prefix` (MONITOR), a script call as `script`. */
async function watch(link: RedisLink, prefix: string): Promise<{ commands: string[]; stop(): void }> {
  const monitor: Redis = await link.client.monitor();
  const commands: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = args[0]!.toLowerCase();
    // a script's first call on a connection is EVAL, then EVALSHA
    if (source !== 'lua' && args.some((arg) => arg.startsWith(prefix))) commands.push(name === 'eval' || name === 'evalsha' ? 'script' : name);
  });
  await sleep(50);
  return { commands, stop: () => monitor.disconnect() };
}

if (redisSkip !== false) {
  test('Redis limit batches', { skip: redisSkip }, () => {});
} else {
  test('Redis batches: a request with rpm, tpm, max_concurrent and a budget, key and team, is admitted in one command and settled in one', async () => {
    const prefix = testPrefix();
    const one = await instance(prefix, { price: 0.000001 });
    const watcher = await watch(one.link, prefix);
    try {
      const team = { name: 'ml', limits: Object.freeze({ rpm: 100, tpm: 100_000, maxConcurrent: 10 }) };
      const key = policy({ rpm: 10, tpm: 10_000, maxConcurrent: 5, budget: { usd: 10, period: 'day' } }, team);
      const ticket = await admitted(one.limits.admit(key, 'm', 50, 200, true, 'r1', NOW));
      assert.equal(ticket.tokens, 250);
      assert.equal(ticket.keyHold, 250);
      await sleep(50);
      assert.deepEqual(watcher.commands, ['script'], 'one script took the seven limits');
      assert.equal(one.counters.used('rpm\0key\0key-1', { ...RPM, limit: 10 }, NOW), 1);
      assert.equal(one.counters.used('tpm\0team\0ml', { ...RPM, limit: 100_000 }, NOW), 250);
      assert.equal(one.counters.used('concurrent\0key\0key-1', { kind: 'concurrent', limit: 5, windowMs: 0 }, NOW), 1);
      one.limits.settle(ticket, 30, 0.00003, true, NOW + 10);
      await sleep(100);
      assert.deepEqual(watcher.commands, ['script', 'script'], 'one script settled them');
      // what the settle left on the server, as another instance sees it
      const other = await instance(prefix, { price: 0.000001 });
      try {
        const next = await admitted(other.limits.admit(key, 'm', 50, 200, true, 'r2', NOW + 20));
        assert.equal(other.counters.used('tpm\0key\0key-1', { ...RPM, limit: 10_000 }, NOW + 20), 280, '30 settled + 250 reserved');
        assert.equal(other.counters.used('concurrent\0key\0key-1', { kind: 'concurrent', limit: 5, windowMs: 0 }, NOW + 20), 1, 'the first slot ended');
        assert.equal(other.spend.spent('budget\0key\0key-1', periodStart('day', NOW), NOW + 20), 30);
        other.limits.release(next, NOW + 30);
      } finally {
        await other.link.close();
      }
    } finally {
      watcher.stop();
      await one.link.close();
    }
  });

  test('Redis batches: the limits are taken all or none — a refusal by the last leaves the others as they were', async () => {
    const prefix = testPrefix();
    const one = await instance(prefix, { price: 0.001 });
    try {
      const team = { name: 'ml', limits: Object.freeze({ rpm: 2 }) };
      const a = policy({ rpm: 5, maxConcurrent: 5 }, team, 'key-a');
      const b = policy({ rpm: 5, budget: { usd: 0.5, period: 'day' } }, undefined, 'key-b');
      await admitted(one.limits.admit(a, 'm', 10, 10, true, 'r1', NOW));
      await admitted(one.limits.admit(a, 'm', 10, 10, true, 'r2', NOW));
      const byTeam = await refused(one.limits.admit(a, 'm', 10, 10, true, 'r3', NOW));
      assert.match(byTeam.error.message, /team 'ml'.*2 requests per minute/);
      assert.equal(byTeam.rate?.unit, 'requests');
      // the key's own slot and minute were never taken for the refused request
      const check = await instance(prefix);
      try {
        assert.equal(await check.counters.reserve('concurrent\0key\0key-a', { kind: 'concurrent', limit: 3, windowMs: 0 }, 1, 'probe', NOW), 0, 'two slots held, not three');
        assert.ok((await check.counters.reserve('concurrent\0key\0key-a', { kind: 'concurrent', limit: 3, windowMs: 0 }, 1, 'probe2', NOW)) > 0);
        assert.equal(await check.counters.reserve('rpm\0key\0key-a', { ...RPM, limit: 3 }, 1, 'probe', NOW), 0, 'two requests counted, not three');
        // a budget too small for anything: refused, and its rpm not counted
        await admitted(one.limits.admit(b, 'm', 250, 250, true, 'r4', NOW)); // $0.50 estimate: holds it all
        const byBudget = await refused(one.limits.admit(b, 'm', 10, 10, true, 'r5', NOW));
        assert.equal(byBudget.error.code, 'SWY_ERR_LIMIT_BUDGET_EXCEEDED');
        assert.equal(await check.counters.reserve('rpm\0key\0key-b', { ...RPM, limit: 2 }, 1, 'probe', NOW), 0, 'one request counted, not two');
      } finally {
        await check.link.close();
      }
    } finally {
      await one.link.close();
    }
  });

  test('Redis batches: a budget holds the estimate or what is left, settles the real cost, and reports the soft threshold once', async () => {
    const prefix = testPrefix();
    const events: SoftBudgetEvent[] = [];
    const one = await instance(prefix, { price: 0.001, events });
    try {
      const key = policy({ budget: { usd: 1, period: 'day', softUsd: 0.5 } });
      const start = periodStart('day', NOW);
      const first = await admitted(one.limits.admit(key, 'm', 100, 100, true, 'r1', NOW));
      assert.equal(first.keyHold, 200_000);
      assert.equal(one.spend.held('budget\0key\0key-1', start, NOW), 200_000);
      one.limits.settle(first, 300, 0.6, true, NOW);
      assert.equal(one.spend.spent('budget\0key\0key-1', start, NOW), 600_000, 'the mirror at once');
      assert.equal(events.length, 1);
      const second = await admitted(one.limits.admit(key, 'm', 1000, 1000, true, 'r2', NOW));
      assert.equal(second.keyHold, 400_000, 'a $2 estimate holds the $0.40 left');
      one.limits.settle(second, 500, 0.5, true, NOW);
      assert.equal(events.length, 1, 'once per period');
      await sleep(50);
      const third = await refused(one.limits.admit(key, 'm', 10, 10, true, 'r3', NOW));
      assert.match(third.error.message, /\$1\.10 spent of \$1\.00 per day/);
    } finally {
      await one.link.close();
    }
  });

  test('Redis batches: two instances admitting at once stay exact on every limit', async () => {
    const prefix = testPrefix();
    const [one, two] = [await instance(prefix, { price: 0.000001 }), await instance(prefix, { price: 0.000001 })];
    try {
      const key = policy({ rpm: 30, tpm: 1_000_000, maxConcurrent: 1000, budget: { usd: 100, period: 'day' } });
      const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? one : two).limits.admit(key, 'm', 10, 10, true, `r${i}`, NOW)));
      const tickets = outcomes.filter((outcome) => outcome instanceof LimitTicket);
      assert.equal(tickets.length, 30);
      // the slots and budget holds of the 70 refused requests were never taken
      const check = await instance(prefix);
      try {
        assert.equal(await check.counters.reserve('concurrent\0key\0key-1', { kind: 'concurrent', limit: 31, windowMs: 0 }, 1, 'probe', NOW), 0);
        assert.ok((await check.counters.reserve('concurrent\0key\0key-1', { kind: 'concurrent', limit: 31, windowMs: 0 }, 1, 'probe2', NOW)) > 0, '30 slots held');
        assert.equal(await check.spend.reserve('budget\0key\0key-1', periodStart('day', NOW), periodStart('day', NOW) + 86_400_000, 100_000_000 - 30 * 20, 100_000_000, 'probe', NOW), true);
        assert.equal(await check.spend.reserve('budget\0key\0key-1', periodStart('day', NOW), periodStart('day', NOW) + 86_400_000, 1, 100_000_000, 'probe2', NOW), false, '30 holds of 20 µ$');
      } finally {
        await check.link.close();
      }
    } finally {
      await one.link.close();
      await two.link.close();
    }
  });

  test('Redis batches: a batch with no answer (the server paused) is taken in process after state.timeout_ms; the counts reach the server when it answers again', async () => {
    const server = await startOwnRedisServer();
    const prefix = testPrefix();
    const link = new RedisLink({ url: server.url, keyPrefix: prefix, timeoutMs: 200, logger: { warn: () => {}, info: () => {} } });
    try {
      await link.whenConnected(5000);
      assert.ok(link.available);
      const one = await instance(prefix, { link, price: 0.000001 });
      const key = policy({ rpm: 10, tpm: 10_000, maxConcurrent: 5 });
      const spender = policy({ rpm: 10, budget: { usd: 10, period: 'day' } }, undefined, 'key-2');
      await admitted(one.limits.admit(key, 'm', 10, 10, true, 'r1', NOW));
      server.pause();
      const waiting = one.limits.admit(key, 'm', 10, 10, true, 'r2', NOW);
      assert.ok(waiting instanceof Promise, 'the server was thought up: the batch is sent');
      const ticket = await waiting;
      assert.ok(ticket instanceof LimitTicket, 'admitted in process once the batch timed out (on_store_failure.rate_limits: open)');
      assert.equal(link.available, false);
      assert.equal(one.counters.used('rpm\0key\0key-1', { ...RPM, limit: 10 }, NOW), 2, 'counted here meanwhile');
      // a key with a budget while the store is away: on_store_failure.budgets: closed
      const closed = await refused(one.limits.admit(spender, 'm', 10, 10, true, 'r3', NOW));
      assert.equal(closed.error.status, 503);
      one.limits.settle(ticket, 20, undefined, true, NOW);
      server.resume();
      for (let i = 0; i < 100 && !link.available; i++) await sleep(50);
      assert.ok(link.available, 'the paused server answers again');
      await sleep(100);
      const other = new RedisLink({ url: server.url, keyPrefix: prefix, timeoutMs: 2000, logger: { warn: () => {}, info: () => {} } });
      await other.whenConnected(5000);
      const check = await instance(prefix, { link: other });
      try {
        assert.equal(await check.counters.reserve('rpm\0key\0key-1', { ...RPM, limit: 3 }, 1, 'probe', NOW), 0, 'two requests counted on the server');
        assert.ok((await check.counters.reserve('rpm\0key\0key-1', { ...RPM, limit: 3 }, 1, 'probe2', NOW)) > 0);
      } finally {
        await check.link.close();
      }
    } finally {
      await link.close();
      await server.stop();
    }
  });
}
