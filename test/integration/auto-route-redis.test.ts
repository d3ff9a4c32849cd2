// `model: auto` sessions across several gateway instances sharing one real Redis server
// (`state.redis`; SWITCHYARD_TEST_REDIS_URL, skipped without it), issue #19 item 6 with #20's
// shared state: within a session the tier may move up, never down — also when the next request
// lands on another instance — and the session keeps its tier's model (a tier's session pin) there
// too; with the server killed mid-run no request fails, each instance keeps its own sessions, and
// the tiers it kept meanwhile reach the others once the server is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../../src/main.ts';
import type { YamlGateway } from '../helpers/yaml-gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import { metric, redisSkip, redisUrl, startInstances, startOwnRedisServer, testPrefix, within, type FleetState } from '../helpers/redis.ts';

const T = { timeout: 60_000 };
const OK: Behavior = { kind: 'default' };
const DOWN: Behavior = { kind: 'json', status: 500, body: { error: { message: 'down', type: 'server_error' } } };
const PROOF = 'Prove the theorem that there are infinitely many primes.';
const THANKS = 'thanks!';

/**
 * `count` instances of one config: an auto alias of three tiers (a rule sends proofs to
 * `complex`); `complex` has two targets, `strong-a` first. One failure ejects for `ejectSeconds`.
 */
async function startFleet(count: number, upstream: MockUpstream, state: FleetState, ejectSeconds = 1): Promise<YamlGateway[]> {
  const head = [
    'providers:',
    `  - { name: up, type: openai, base_url: "${upstream.url}/v1", models: [small, mid, strong-a, strong-b] }`,
    'models:',
    '  - name: auto',
    '    strategy: auto',
    '    retry: { attempts: 1 }',
    '    tiers:',
    '      - { name: simple, targets: [{ provider: up, model: small }] }',
    '      - { name: medium, targets: [{ provider: up, model: mid }] }',
    '      - { name: complex, targets: [{ provider: up, model: strong-a }, { provider: up, model: strong-b }] }',
    '    rules:',
    '      - { when: { regex: "(?i)\\\\b(prove|theorem)\\\\b" }, then: { tier: complex } }',
  ];
  return startInstances(head, 'auto-route-redis.yaml', count, state, ejectSeconds);
}

interface Routed { status: number; route: string | null; model: string }

async function ask(gateway: RunningGateway, content: string, session?: string): Promise<Routed> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session !== undefined ? { 'x-session-id': session } : {}) },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content }] }),
  });
  const body = await response.json() as { model?: string };
  return { status: response.status, route: response.headers.get('x-switchyard-route'), model: body.model ?? '' };
}



async function closeAll(instances: readonly YamlGateway[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.close()));
}

describe('auto-routing sessions across instances (Redis)', { skip: redisSkip }, () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream({ models: ['small', 'mid', 'strong-a', 'strong-b'] });
  });
  after(async () => {
    await upstream.close();
  });

  test('a session that reached complex through A stays complex on B and C; another session is decided afresh', T, async () => {
    const fleet = await startFleet(3, upstream, { url: redisUrl!, prefix: testPrefix() });
    const [a, b, c] = fleet as [YamlGateway, YamlGateway, YamlGateway];
    try {
      assert.match((await ask(b, THANKS, 'fresh')).route!, /^tier=simple; by=score:/, 'chit-chat is simple');
      assert.deepEqual(await ask(a, PROOF, 'conversation'), { status: 200, route: 'tier=complex; by=rule:1', model: 'strong-a' });
      for (const other of [b, c, a]) {
        assert.deepEqual(await ask(other, THANKS, 'conversation'), { status: 200, route: 'tier=complex; by=session', model: 'strong-a' }, 'never down, on any instance');
      }
      // the session that was simple on B may move up on C, and then stays up on A
      assert.equal((await ask(c, PROOF, 'fresh')).route, 'tier=complex; by=rule:1');
      assert.equal((await ask(a, THANKS, 'fresh')).route, 'tier=complex; by=session');
      assert.match((await ask(c, THANKS, 'another')).route!, /^tier=simple; by=score:/);
    } finally {
      await closeAll(fleet);
    }
  });

  test('the session keeps its tier\'s model on another instance: the pin of the tier is shared too', T, async () => {
    const fleet = await startFleet(3, upstream, { url: redisUrl!, prefix: testPrefix() });
    const [a, b, c] = fleet as [YamlGateway, YamlGateway, YamlGateway];
    try {
      // strong-a fails through A: the session is served, and pinned, by strong-b
      upstream.setScript((request) => (request.body?.model === 'strong-a' ? DOWN : OK));
      assert.deepEqual(await ask(a, PROOF, 'pinned'), { status: 200, route: 'tier=complex; by=rule:1', model: 'strong-b' });
      upstream.setScript(() => OK);
      // strong-a is fine again (its ejection is over: fill-first would take it), and C never saw it fail
      await sleep(1100);
      assert.equal((await ask(c, PROOF, 'unpinned')).model, 'strong-a', 'without a pin, the tier\'s first target');
      for (const other of [c, b]) assert.deepEqual(await ask(other, THANKS, 'pinned'), { status: 200, route: 'tier=complex; by=session', model: 'strong-b' });
    } finally {
      upstream.setScript(() => OK);
      await closeAll(fleet);
    }
  });

  test('Redis killed mid-run: every request is answered, each instance keeps its own sessions\' tiers; once it is back, the tiers kept meanwhile reach the other', T, async () => {
    const server = await startOwnRedisServer();
    const fleet = await startFleet(2, upstream, { url: server.url, prefix: testPrefix(), timeoutMs: 300 }, 30);
    const [a, b] = fleet as [YamlGateway, YamlGateway];
    try {
      assert.equal((await ask(a, PROOF, 'before')).route, 'tier=complex; by=rule:1');
      await server.kill();
      for (let i = 0; i < 3; i++) {
        for (const instance of fleet) {
          const reply = await ask(instance, THANKS, `outage-${i}`);
          assert.equal(reply.status, 200);
          assert.match(reply.route!, /^tier=simple/);
        }
      }
      for (const instance of fleet) await within(5000, async () => (await metric(instance, 'switchyard_state_store_up')) === 0, 'the outage is seen');
      // A alone: its session goes up and stays up there; B cannot know yet
      assert.equal((await ask(a, PROOF, 'late')).route, 'tier=complex; by=rule:1');
      assert.equal((await ask(a, THANKS, 'late')).route, 'tier=complex; by=session');
      assert.equal((await ask(a, THANKS, 'before')).route, 'tier=complex; by=session', 'a tier A kept before the outage');

      await server.restart();
      for (const instance of fleet) await within(10_000, async () => (await metric(instance, 'switchyard_state_store_up')) === 1, 'the instance reconnects');
      await within(5000, async () => (await ask(b, THANKS, 'late')).route === 'tier=complex; by=session', 'A\'s tier reaches B once the server is back');
    } finally {
      await closeAll(fleet);
      await server.stop();
    }
  });
});
