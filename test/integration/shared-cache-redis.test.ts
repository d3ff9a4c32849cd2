// The response cache across instances (issue #20, "a cached answer stored by A is served by B"):
// three gateways sharing one real Redis server (`state.redis`; SWITCHYARD_TEST_REDIS_URL, skipped
// without it) behind the round-robin front. An answer that went through A is stored in Redis and
// served by B as a whole answer and by C as a stream, each saying `x-switchyard-cache: hit` and
// naming the provider that first answered; the provider was asked once. A request that opts out
// (`cache-control: no-cache`) still reaches the provider, whichever instance takes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startYamlGateway, type YamlGateway } from '../helpers/yaml-gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { connectedLink, redisSkip, redisUrl, testPrefix } from '../helpers/redis.ts';
import { startRoundRobinFront, type RoundRobinFront } from '../helpers/round-robin-front.ts';
import { parseSse } from '../helpers/sse.ts';

const T = { timeout: 60_000 };

function fleetYaml(upstream: MockUpstream, prefix: string): string {
  return [
    'providers:',
    `  - { name: mock, type: openai, base_url: "${upstream.url}/v1", models: [mock-gpt] }`,
    'models:',
    '  - { name: cached, targets: [{ provider: mock, model: mock-gpt }], cache: { ttl_s: 600 } }',
    'storage: { enabled: false }',
    `state: { redis: "${redisUrl}", key_prefix: "${prefix}", timeout_ms: 2000 }`,
  ].join('\n') + '\n';
}

interface Reply {
  status: number;
  /** Which instance answered (the front's `x-front-upstream`). */
  instance: string | null;
  cache: string | null;
  provider: string | null;
  text: string;
}

async function ask(front: RoundRobinFront, content: string, options: { stream?: boolean; headers?: Record<string, string> } = {}): Promise<Reply> {
  const response = await fetch(`${front.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ model: 'cached', stream: options.stream === true, messages: [{ role: 'user', content }] }),
  });
  const body = await response.text();
  let text: string;
  if (response.status !== 200) text = body;
  else if (options.stream === true) {
    const events = parseSse(body);
    assert.equal(events.at(-1)?.data, '[DONE]', 'the stream ends with its terminal event');
    text = events.slice(0, -1).map((event) => JSON.parse(event.data).choices?.[0]?.delta?.content ?? '').join('');
  } else text = JSON.parse(body).choices[0].message.content;
  return {
    status: response.status,
    instance: response.headers.get('x-front-upstream'),
    cache: response.headers.get('x-switchyard-cache'),
    provider: response.headers.get('x-switchyard-provider'),
    text,
  };
}

describe('the response cache across instances (Redis)', { skip: redisSkip }, () => {
  let upstream: MockUpstream;
  let instances: YamlGateway[] = [];
  let front: RoundRobinFront;
  let prefix: string;
  before(async () => {
    upstream = await startMockUpstream();
    prefix = testPrefix();
    for (let i = 0; i < 3; i++) instances.push(await startYamlGateway(fleetYaml(upstream, prefix), 'shared-cache-redis.yaml'));
    front = await startRoundRobinFront({ upstreams: instances.map((instance) => instance.url) });
  });
  after(async () => {
    await front?.close();
    await Promise.all(instances.map((instance) => instance.close()));
    instances = [];
    await upstream?.close();
  });

  const generations = () => upstream.requests.filter((request) => request.method === 'POST').length;
  const address = (instance: YamlGateway) => new URL(instance.url).host;

  test('an answer stored through A is served by B (whole) and C (streamed) from Redis; the provider is asked once', T, async () => {
    const [a, b, c] = instances as [YamlGateway, YamlGateway, YamlGateway];
    const link = await connectedLink({ prefix });
    try {
      const first = await ask(front, 'shared question');
      assert.deepEqual([first.status, first.instance, first.cache, first.provider], [200, address(a), 'miss', 'mock']);
      assert.equal(generations(), 1);
      // the answer is stored once its response has closed, in the background: wait for the key
      // rather than let B's request race it
      const deadline = Date.now() + 5000;
      while ((await link.client.keys(`${prefix}cache:*`)).length === 0) {
        assert.ok(Date.now() < deadline, 'A stored the answer in Redis');
        await sleep(20);
      }

      const second = await ask(front, 'shared question');
      assert.deepEqual([second.status, second.instance, second.cache, second.provider], [200, address(b), 'hit', 'mock']);
      assert.equal(second.text, first.text);
      const third = await ask(front, 'shared question', { stream: true });
      assert.deepEqual([third.status, third.instance, third.cache, third.provider], [200, address(c), 'hit', 'mock']);
      assert.equal(third.text, first.text);
      assert.equal(generations(), 1, 'B and C answered without asking the provider');

      // a caller that opts out reaches the provider on every instance
      for (const instance of [a, b, c]) {
        const fresh = await ask(front, 'shared question', { headers: { 'cache-control': 'no-cache' } });
        assert.deepEqual([fresh.status, fresh.instance, fresh.cache], [200, address(instance), 'bypass']);
      }
      assert.equal(generations(), 4);
      assert.deepEqual(front.stats.map((stats) => stats.failed), [0, 0, 0]);
    } finally {
      await link.close();
    }
  });
});
