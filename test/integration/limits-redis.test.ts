// Limits across several gateway instances sharing one real Redis server (`state.redis`;
// SWITCHYARD_TEST_REDIS_URL, skipped without it): exact request limits under 1,000 concurrent
// requests spread over 3 instances, `max_concurrent` and budgets held across instances, and a
// server that goes away mid-run (killed, then paused): requests are still served and counted,
// the outage is logged once and counted, and the counts are sent back when it returns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../../src/main.ts';
import { startYamlGateway } from '../helpers/yaml-gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { redisSkip, redisUrl, startOwnRedisServer, testPrefix } from '../helpers/redis.ts';
import { assertRpmRefusal } from '../helpers/rate-limit-refusal.ts';

const T = { timeout: 120_000 };
/** A fixed instant mid-minute: no window of the limits rolls over while a test runs. */
const NOW = Date.parse('2026-03-05T13:45:15Z');

interface Instance extends RunningGateway {
  logLines: Record<string, unknown>[];
}

async function startInstance(upstream: MockUpstream, auth: string[], state: { url: string; prefix: string; timeoutMs?: number }, prices: string[] = []): Promise<Instance> {
  const yaml = [
    'auth:', ...auth.map((line) => `  ${line}`),
    'providers:',
    '  - name: mock',
    '    type: openai',
    `    base_url: ${upstream.url}/v1`,
    '    models: [mock-gpt]',
    'storage: { enabled: false }',
    `state: { redis: "${state.url}", key_prefix: "${state.prefix}", timeout_ms: ${state.timeoutMs ?? 2000} }`,
    ...prices,
  ].join('\n') + '\n';
  return startYamlGateway(yaml, 'limits-redis.yaml', () => NOW);
}

async function startInstances(count: number, upstream: MockUpstream, auth: string[], state: { url: string; prefix: string; timeoutMs?: number }, prices: string[] = []): Promise<Instance[]> {
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) instances.push(await startInstance(upstream, auth, state, prices));
  return instances;
}

function chat(gateway: RunningGateway, key: string): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

async function metric(gateway: RunningGateway, key: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await sleep(50);
  }
}

describe('limits across instances (Redis)', { skip: redisSkip }, () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  test('1,000 concurrent requests over 3 instances on a key limited to 100 rpm: exactly 100 answered, 900 refused with the rate-limit headers', T, async () => {
    const instances = await startInstances(3, upstream, ['keys:', '  - { key: k-rpm, name: ci, rpm: 100 }'], { url: redisUrl!, prefix: testPrefix() });
    try {
      const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => chat(instances[i % 3]!, 'k-rpm').then(async (response) => ({ response, body: await response.text() }))));
      const ok = responses.filter(({ response }) => response.status === 200);
      const refused = responses.filter(({ response }) => response.status === 429);
      assert.equal(ok.length, 100);
      assert.equal(refused.length, 900);
      for (const { response, body } of refused) assertRpmRefusal(response, body, 'k-rpm');
      const remaining = ok.map(({ response }) => Number(response.headers.get('x-ratelimit-remaining-requests')));
      assert.ok(remaining.every((left) => left >= 0 && left < 100), 'each answer says what is left fleet-wide');
      assert.ok(remaining.includes(0), 'the last request admitted saw nothing left');
      for (const instance of instances) assert.equal(await metric(instance, 'k-rpm', 'switchyard_state_store_up'), 1);
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  test('max_concurrent holds across instances: the request past the limit is refused on any instance, then admitted once one ends', T, async () => {
    const instances = await startInstances(3, upstream, ['keys:', '  - { key: k-conc, name: batch, max_concurrent: 2 }'], { url: redisUrl!, prefix: testPrefix() });
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => { release = resolve; });
    const before = upstream.requests.length;
    upstream.setScript(() => ({ kind: 'hold', until: barrier, then: { kind: 'default' } }));
    try {
      const held = [chat(instances[0]!, 'k-conc'), chat(instances[1]!, 'k-conc')];
      await upstream.waitForRequests(before + 2);
      const third = await chat(instances[2]!, 'k-conc');
      assert.equal(third.status, 429);
      assert.match(JSON.parse(await third.text()).error.message, /Too many requests in flight for key 'batch' \(key-[0-9a-f]{8}\): at most 2 at once/);
      release();
      for (const response of await Promise.all(held)) {
        assert.equal(response.status, 200);
        await response.text();
      }
      upstream.setScript(() => ({ kind: 'default' }));
      await eventually(async () => {
        const again = await chat(instances[2]!, 'k-conc');
        await again.text();
        return again.status === 200;
      }, 'a slot is freed');
    } finally {
      release();
      upstream.setScript(() => ({ kind: 'default' }));
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  test('a budget spent through one instance is exhausted on the others', T, async () => {
    // $1 a token: every answer of the mock (five tokens) costs more than the budget
    const prices = ['prices:', '  mock-gpt: { input: 1000000, output: 1000000 }'];
    const instances = await startInstances(3, upstream, ['keys:', '  - { key: k-budget, name: spender, budget: { usd: 1, period: day } }'], { url: redisUrl!, prefix: testPrefix() }, prices);
    try {
      const first = await chat(instances[0]!, 'k-budget');
      assert.equal(first.status, 200);
      await first.text();
      for (const other of instances.slice(1)) {
        const refused = await chat(other, 'k-budget');
        assert.equal(refused.status, 429);
        const error = JSON.parse(await refused.text()).error;
        assert.equal(error.code, 'budget_exceeded');
        assert.match(error.message, /^Budget exceeded for key 'spender' \(key-[0-9a-f]{8}\): .* of \$1\.00 per day\. It resets at 2026-03-06T00:00:00Z\.$/);
      }
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  test('the server goes away mid-run (killed, then paused): requests are still served and counted, the outage is logged once and counted, and counts go back when it returns', T, async () => {
    const server = await startOwnRedisServer();
    const auth = ['keys:', '  - { key: k-fleet, name: fleet, rpm: 1000 }', '  - { key: k-spend, name: spender, budget: { usd: 100, period: day } }'];
    const instances = await startInstances(2, upstream, auth, { url: server.url, prefix: testPrefix(), timeoutMs: 300 });
    const [a, b] = instances as [Instance, Instance];
    const remaining = async (gateway: RunningGateway): Promise<number> => {
      const response = await chat(gateway, 'k-fleet');
      assert.equal(response.status, 200);
      await response.text();
      return Number(response.headers.get('x-ratelimit-remaining-requests'));
    };
    try {
      for (let i = 0; i < 5; i++) await remaining(a);
      assert.equal(await remaining(b), 1000 - 6, 'both instances count in the server');

      await server.kill();
      // the first requests find it gone; every one is served, from the counts each instance had
      for (let i = 0; i < 5; i++) assert.ok((await remaining(a)) <= 1000 - 6, 'from the last count it saw');
      for (let i = 0; i < 5; i++) await remaining(b);
      const budgeted = await chat(a, 'k-spend');
      assert.equal(budgeted.status, 503, 'a hard budget is refused while its spend cannot be shared (auth.on_store_failure.budgets: closed)');
      assert.match(JSON.parse(await budgeted.text()).error.message, /auth\.on_store_failure\.budgets: closed/);
      for (const instance of instances) {
        assert.equal(await metric(instance, 'k-fleet', 'switchyard_state_store_up'), 0);
        assert.equal(await metric(instance, 'k-fleet', 'switchyard_state_store_outages_total'), 1);
        assert.equal(instance.logLines.filter((line) => String(line.msg).startsWith('the shared state store (state.redis) cannot be reached')).length, 1, 'logged once per outage');
      }

      // back, empty: each instance sends what it counted meanwhile (5 + 5), then counts there again
      await server.restart();
      for (const instance of instances) await eventually(async () => (await metric(instance, 'k-fleet', 'switchyard_state_store_up')) === 1, 'the instance reconnects');
      await eventually(async () => (await remaining(a)) <= 1000 - 11, 'the outage\'s counts are in the server');
      assert.ok(a.logLines.some((line) => String(line.msg).startsWith('the shared state store (state.redis) answers again')));
      const budgetedAgain = await chat(b, 'k-spend');
      assert.equal(budgetedAgain.status, 200);
      await budgetedAgain.text();

      // paused: connected but silent; requests wait at most timeout_ms, then are served in process
      server.pause();
      for (let i = 0; i < 3; i++) await remaining(a);
      assert.equal(await metric(a, 'k-fleet', 'switchyard_state_store_up'), 0);
      assert.equal(await metric(a, 'k-fleet', 'switchyard_state_store_outages_total'), 2);
      server.resume();
      await eventually(async () => (await metric(a, 'k-fleet', 'switchyard_state_store_up')) === 1, 'the paused server answers again');
      await remaining(a);
    } finally {
      server.resume();
      await Promise.all(instances.map((instance) => instance.close()));
      await server.stop();
    }
  });
});
