// The default bundle of state stores and how runtimes take them: health (and the stores to come)
// shared by every runtime of the process, session pins and the retry budget made per runtime with
// its config's settings — as before the stores were behind interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { buildRuntime } from '../../src/main.ts';
import { HealthBook } from '../../src/state/health.ts';
import { LocalRateLimitCounters } from '../../src/state/local-rate-limit-counters.ts';
import { LocalResponseCache } from '../../src/state/local-response-cache.ts';
import { LocalSpendStore } from '../../src/state/local-spend-store.ts';
import { LocalStateStores } from '../../src/state/local-stores.ts';
import { RetryBudget } from '../../src/state/retry-budget.ts';
import { SessionPins } from '../../src/state/sessions.ts';
import { testConfig } from '../helpers/gateway.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

const logger = pino({ level: 'silent' });

test('LocalStateStores: every store in process memory, on one clock', () => {
  const T0 = suiteEpoch();
  const stores = new LocalStateStores(() => T0);
  assert.ok(stores.health instanceof HealthBook);
  assert.equal(stores.health.now(), T0);
  assert.ok(stores.rateLimits instanceof LocalRateLimitCounters);
  assert.ok(stores.spend instanceof LocalSpendStore);
  assert.ok(stores.responses instanceof LocalResponseCache);
  assert.ok(stores.newSessions() instanceof SessionPins);
  assert.notEqual(stores.newSessions(), stores.newSessions());
  const budget = stores.newRetryBudget({ ratio: 0, minPerSecond: 1 });
  assert.ok(budget instanceof RetryBudget);
  for (let i = 0; i < 10; i++) assert.equal(budget.tryRetry(), true);
  assert.equal(budget.tryRetry(), false, 'min_per_second 1 over ten seconds of the stores\' clock');
});

test('runtimes share the health and the stores to come; pins and the retry budget are per runtime', async () => {
  const stores = new LocalStateStores();
  const config = testConfig({ providers: [{ name: 'p', baseUrl: 'http://127.0.0.1:9/v1' }] });
  const first = buildRuntime(config, logger, stores);
  const second = buildRuntime(testConfig({ providers: [{ name: 'p', baseUrl: 'http://127.0.0.1:9/v1' }], routing: { retryBudget: { ratio: 0, minPerSecond: 0 } } }), logger, stores);
  try {
    assert.equal(first.state, stores);
    assert.equal(first.health, stores.health);
    assert.equal(second.health, stores.health);
    assert.notEqual(first.sessions, second.sessions);
    assert.notEqual(first.retryBudget, second.retryBudget);
    assert.equal(second.retryBudget.tryRetry(), false, 'the second runtime\'s budget has its own config\'s settings');
    // a name the provider answered under one runtime has its kept health entry under the next
    first.router.confirm(first.router.resolve('p:m')!);
    const route = second.router.resolve('p:m')!;
    assert.equal(route.provisional, false);
    assert.equal(stores.health.kept(route.targets[0]!.keys[0]!), true);
  } finally {
    await first.destroy();
    await second.destroy();
  }
});
