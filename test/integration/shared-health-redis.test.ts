// Provider health and session pins across several gateway instances sharing one real Redis server
// (`state.redis`; SWITCHYARD_TEST_REDIS_URL, skipped without it), against scripted upstreams on
// loopback: a provider that fails through one instance is out of rotation on the others within
// 1 s, and only one half-open probe reaches it across the three; a session pinned through one
// instance keeps its target when its next request lands on another; with the server killed
// mid-run no request fails for it, each instance goes on alone, and what it learned meanwhile
// (an ejection, a pin) reaches the others once the server is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../../src/main.ts';
import type { YamlGateway } from '../helpers/yaml-gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import { metric, redisSkip, redisUrl, startInstances, startOwnRedisServer, testPrefix, within, type FleetState } from '../helpers/redis.ts';

const T = { timeout: 60_000 };
const OK: Behavior = { kind: 'default' };
const DOWN: Behavior = { kind: 'json', status: 500, body: { error: { message: 'down', type: 'server_error' } } };

interface Fleet {
  readonly instances: YamlGateway[];
  close(): Promise<void>;
}

/**
 * `count` instances of one config: `chat` tries `flaky` first (fill-first), then `steady`;
 * `sticky` spreads sessions over both (round-robin) and keeps each on its target; `lone` tries
 * `spare` (the flaky upstream's model m3) first, then `steady`. One failure ejects (`eject_s`
 * long); no panic, so an ejected target is never tried.
 */
async function startFleet(count: number, flaky: MockUpstream, steady: MockUpstream, state: FleetState, ejectSeconds = 1): Promise<Fleet> {
  const head = [
    'providers:',
    `  - { name: flaky, type: openai, base_url: "${flaky.url}/v1", models: [m1] }`,
    `  - { name: steady, type: openai, base_url: "${steady.url}/v1", models: [m2] }`,
    `  - { name: spare, type: openai, base_url: "${flaky.url}/v1", models: [m3] }`,
    'models:',
    '  - { name: chat, strategy: fill-first, retry: { attempts: 1 }, targets: [{ provider: flaky, model: m1 }, { provider: steady, model: m2 }] }',
    '  - { name: sticky, strategy: round-robin, affinity: session, retry: { attempts: 1 }, targets: [{ provider: flaky, model: m1 }, { provider: steady, model: m2 }] }',
    '  - { name: lone, strategy: fill-first, retry: { attempts: 1 }, targets: [{ provider: spare, model: m3 }, { provider: steady, model: m2 }] }',
  ];
  const instances = await startInstances(head, 'shared-health-redis.yaml', count, state, ejectSeconds);
  return { instances, close: async () => { await Promise.all(instances.map((instance) => instance.close())); } };
}

async function chat(gateway: RunningGateway, model: string, session?: string): Promise<{ status: number; provider: string | null; attempts: string | null }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session !== undefined ? { 'x-session-id': session } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return { status: response.status, provider: response.headers.get('x-switchyard-provider'), attempts: response.headers.get('x-switchyard-attempts') };
}

/** The state of a provider's one target as an instance's management API shows it. */
async function targetState(gateway: RunningGateway, provider = 'flaky'): Promise<string> {
  const view = await (await fetch(`${gateway.url}/v0/management/providers/${provider}`)).json() as { keys: { models: { state: string }[] }[] };
  return view.keys[0]!.models[0]!.state;
}

/**
 * Four sessions opened through `first`: round-robin alternates them over the two targets. Asked
 * again in the order s1, s3, s2, s4, an instance's own round-robin could not place them as
 * `first` did (s1 and s3 are on one target): only the shared pins can.
 */
async function openSessions(first: RunningGateway, prefix: string): Promise<Map<string, string>> {
  const pinned = new Map<string, string>();
  for (const n of [1, 2, 3, 4]) pinned.set(`${prefix}${n}`, (await chat(first, 'sticky', `${prefix}${n}`)).provider!);
  const [one, two, three, four] = [...pinned.values()];
  assert.ok(one === three && two === four && one !== two, `round-robin alternates: ${[...pinned.values()].join(', ')}`);
  return pinned;
}

async function assertPinned(gateway: RunningGateway, pinned: Map<string, string>, prefix: string): Promise<void> {
  for (const n of [1, 3, 2, 4]) {
    const reply = await chat(gateway, 'sticky', `${prefix}${n}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.provider, pinned.get(`${prefix}${n}`), `session ${prefix}${n} on another instance`);
  }
}



describe('provider health and session pins across instances (Redis)', { skip: redisSkip }, () => {
  let flaky: MockUpstream;
  let steady: MockUpstream;
  before(async () => {
    flaky = await startMockUpstream({ models: ['m1'] });
    steady = await startMockUpstream({ models: ['m2'] });
  });
  after(async () => {
    await flaky.close();
    await steady.close();
  });

  test('a provider that fails through A is out of rotation on B and C within 1 s; one half-open probe reaches it across the three; its answer brings it back everywhere', T, async () => {
    const fleet = await startFleet(3, flaky, steady, { url: redisUrl!, prefix: testPrefix() });
    const [a, b, c] = fleet.instances as [YamlGateway, YamlGateway, YamlGateway];
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => { release = resolve; });
    try {
      for (const instance of fleet.instances) assert.deepEqual(await chat(instance, 'chat'), { status: 200, provider: 'flaky', attempts: '1' });
      const start = flaky.requests.length;

      flaky.setScript(() => DOWN);
      assert.deepEqual(await chat(a, 'chat'), { status: 200, provider: 'steady', attempts: '2' }, 'A fails over');
      assert.equal(flaky.requests.length, start + 1);
      await within(1000, async () => (await targetState(b)) === 'ejected' && (await targetState(c)) === 'ejected', 'B and C see the ejection');
      for (const other of [b, c]) assert.deepEqual(await chat(other, 'chat'), { status: 200, provider: 'steady', attempts: '1' }, 'straight to the other target');
      assert.equal(flaky.requests.length, start + 1, 'B and C sent it nothing');
      assert.equal(await metric(a, 'switchyard_health_shared_total{direction="published"}'), 1);
      assert.equal(await metric(b, 'switchyard_health_shared_total{direction="applied"}'), 1);

      // it recovers, slowly: its probe is held until the barrier opens
      flaky.setScript(() => ({ kind: 'hold', until: barrier, then: OK }));
      await within(5000, async () => (await Promise.all(fleet.instances.map((instance) => targetState(instance)))).every((state) => state === 'half-open'), 'the ejection ends everywhere');
      let settled = 0;
      const wave = fleet.instances.flatMap((instance) => [1, 2, 3].map(() => chat(instance, 'chat').finally(() => settled++)));
      for (const reply of wave) reply.catch(() => {}); // awaited below; a failed run must not leave them unhandled
      await flaky.waitForRequests(start + 2);
      // every request but the probe is answered by the other target, without waiting for it
      await within(10_000, async () => settled === 8, 'eight of the nine answered');
      assert.equal(flaky.requests.length, start + 2, 'one probe across the three instances');
      const yielded = await Promise.all(fleet.instances.map((instance) => metric(instance, 'switchyard_health_probes_yielded_total')));
      assert.equal(yielded.reduce((sum, count) => sum! + count!, 0), 2, 'the two others each left it once to the claim\'s holder');
      release();
      const results = await Promise.all(wave);
      assert.deepEqual(results.filter((result) => result.provider === 'flaky'), [{ status: 200, provider: 'flaky', attempts: '1' }], 'the probe answered');
      assert.ok(results.every((result) => result.status === 200));
      await within(1000, async () => (await Promise.all(fleet.instances.map((instance) => targetState(instance)))).every((state) => state === 'healthy'), 'back in rotation everywhere');
      for (const instance of fleet.instances) assert.deepEqual(await chat(instance, 'chat'), { status: 200, provider: 'flaky', attempts: '1' });
    } finally {
      release();
      flaky.setScript(() => OK);
      await fleet.close();
    }
  });

  test('a session pinned through A keeps its target when its next requests land on B and C', T, async () => {
    const fleet = await startFleet(3, flaky, steady, { url: redisUrl!, prefix: testPrefix() });
    const [a, b, c] = fleet.instances as [YamlGateway, YamlGateway, YamlGateway];
    try {
      const pinned = await openSessions(a, 's');
      await assertPinned(b, pinned, 's');
      await assertPinned(c, pinned, 's');
      // a session moved by B (its target failed) is found moved by C, whose own copy still says
      // flaky: once flaky's ejection is over, C's stale pin would send it there
      const moved = [...pinned].find(([, provider]) => provider === 'flaky')![0];
      flaky.setScript(() => DOWN);
      assert.deepEqual(await chat(b, 'sticky', moved), { status: 200, provider: 'steady', attempts: '2' });
      flaky.setScript(() => OK);
      await within(5000, async () => (await targetState(c)) === 'half-open', 'the ejection ends');
      assert.deepEqual(await chat(c, 'sticky', moved), { status: 200, provider: 'steady', attempts: '1' });
    } finally {
      flaky.setScript(() => OK);
      await fleet.close();
    }
  });

  test('Redis killed mid-run: every request is answered, each instance goes on alone; once it is back, what one learned meanwhile reaches the other', T, async () => {
    const server = await startOwnRedisServer();
    const fleet = await startFleet(2, flaky, steady, { url: server.url, prefix: testPrefix(), timeoutMs: 300 }, 30);
    const [a, b] = fleet.instances as [YamlGateway, YamlGateway];
    try {
      assert.equal((await chat(a, 'sticky', 'before')).status, 200);
      await server.kill();
      // nothing waits on the dead server, nothing fails for it
      for (let i = 0; i < 4; i++) {
        for (const instance of fleet.instances) {
          assert.equal((await chat(instance, 'chat')).status, 200);
          assert.equal((await chat(instance, 'sticky', `outage-${i}`)).status, 200);
        }
      }
      for (const instance of fleet.instances) {
        await within(5000, async () => (await metric(instance, 'switchyard_state_store_up')) === 0, 'the outage is seen');
        assert.equal(await metric(instance, 'switchyard_state_store_outages_total'), 1);
        assert.equal(instance.logLines.filter((line) => String(line.msg).startsWith('the shared state store (state.redis) cannot be reached')).length, 1, 'logged once');
      }
      // meanwhile, A alone pins new sessions, and learns that spare is down
      const pinnedOnA = await openSessions(a, 'late-');
      flaky.setScript((request) => (request.body?.model === 'm3' ? DOWN : OK));
      assert.deepEqual(await chat(a, 'lone'), { status: 200, provider: 'steady', attempts: '2' });
      flaky.setScript(() => OK);
      assert.equal(await targetState(a, 'spare'), 'ejected');
      assert.equal(await targetState(b, 'spare'), 'healthy', 'B cannot know yet');

      await server.restart();
      for (const instance of fleet.instances) await within(10_000, async () => (await metric(instance, 'switchyard_state_store_up')) === 1, 'the instance reconnects');
      await within(5000, async () => (await targetState(b, 'spare')) === 'ejected', 'A\'s ejection reaches B once the server is back');
      assert.deepEqual(await chat(b, 'lone'), { status: 200, provider: 'steady', attempts: '1' });
      await assertPinned(b, pinnedOnA, 'late-');
    } finally {
      flaky.setScript(() => OK);
      await fleet.close();
      await server.stop();
    }
  });
});
