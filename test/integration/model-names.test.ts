// Model names are the client's to choose, and they key routes, health entries, metric series and
// usage rows: an over-long or unprintable name is refused at decode time with a 400 in the
// caller's dialect, and a `provider:name` the provider does not list leaves no state behind until
// the provider has answered it — however many distinct names fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { MODEL_NAME_MAX_BYTES } from '../../src/util/model-name.ts';

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
}

function chat(gateway: TestGateway, model: string): Promise<Response> {
  return post(`${gateway.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });
}

/** What the gateway holds per model name, from its insides and from what it publishes. */
async function footprint(gateway: TestGateway): Promise<{ health: number; routes: number; series: number; targets: number }> {
  const runtime = gateway.gateway.runtime;
  const families = parsePrometheus(await gateway.metrics.scrape());
  const requests = families.get('switchyard_requests_total')!;
  const providers = await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { targets: unknown[] }[] };
  return {
    health: runtime.health.size,
    routes: runtime.router.cachedRoutes,
    series: new Set(requests.samples.map((sample) => sample.labels.model)).size,
    targets: providers.data.reduce((sum, provider) => sum + provider.targets.length, 0),
  };
}

/** Distinct names, long and odd (spaces, punctuation, non-Latin letters), none of which the provider has. */
function oddName(i: number): string {
  const filler = ['x', 'é', '模', '-', ' ', '.', '😀'][i % 7]!;
  return `nope-${i}-${filler.repeat(40 + (i % 50))}`;
}

test('provider:name routes that only fail leave no health entry, cache slot, metric series or status target behind', { timeout: 60_000 }, async (t) => {
  const mock = await startMockUpstream({
    // the provider knows mock-gpt and, unlisted, `brand-new`; anything else is not found
    script: (request) => (request.body?.model === 'mock-gpt' || request.body?.model === 'brand-new'
      ? { kind: 'default' }
      : { kind: 'json', status: 404, body: { error: { message: 'The model does not exist', type: 'invalid_request_error', code: 'model_not_found' } } }),
  });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());

  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  const before = await footprint(gateway);

  const count = 300;
  for (let batch = 0; batch < count; batch += 30) {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, j) => chat(gateway, `main:${oddName(batch + j)}`)));
    for (const answer of answers) {
      assert.equal(answer.status, 404, 'the provider\'s own 404, passed on');
      await answer.arrayBuffer();
    }
    // names no provider serves at all are answered by the gateway, and not remembered either
    const unknown = await Promise.all(Array.from({ length: 10 }, (_, j) => chat(gateway, `unknown-${batch + j}-${'z'.repeat(300)}`)));
    for (const answer of unknown) {
      assert.equal(answer.status, 404);
      await answer.arrayBuffer();
    }
  }
  assert.equal(mock.requests.length, 1 + count, 'every provider:name request went upstream');

  const after = await footprint(gateway);
  assert.equal(after.health, before.health, 'no health entry for a name that never answered');
  assert.equal(after.routes, before.routes, 'no cached route for unknown or unanswered names');
  assert.equal(after.targets, before.targets, '/v1/providers lists no target for them');
  assert.ok(after.series <= before.series + 2, `the metric series do not grow with the names (${before.series} → ${after.series}: at most "none" and "other" added)`);

  // a name the provider answers is remembered from then on, like a listed one
  const answered = await chat(gateway, 'main:brand-new');
  assert.equal(answered.status, 200);
  await answered.arrayBuffer();
  assert.equal((await chat(gateway, 'main:brand-new')).status, 200);
  const known = await footprint(gateway);
  assert.equal(known.health, before.health + 1, 'the answered name has its health entry');
  assert.equal(known.routes, before.routes + 1, 'and its cached route');
  const providers = await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { targets: { model: string; requests: number; failures: number }[] }[] };
  const target = providers.data[0]!.targets.find((entry) => entry.model === 'brand-new');
  assert.ok(target !== undefined, 'and shows in /v1/providers');
  assert.equal(target.failures, 0);
  assert.equal(target.requests, 1, 'kept from the first answer on: the second request counted on it');
});

test('a name no provider lists but one of its patterns matches is a route like a listed one', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-*'] }] });
  t.after(() => gateway.close());
  const before = gateway.gateway.runtime.health.size;
  assert.equal((await chat(gateway, 'main:mock-two')).status, 200);
  assert.equal(gateway.gateway.runtime.health.size, before + 1);
  assert.equal(gateway.gateway.runtime.router.cachedRoutes, 1);
});

const LONG = `main:${'m'.repeat(MODEL_NAME_MAX_BYTES - 5)}`; // the whole name, prefix included, is bounded
const messages = [{ role: 'user', content: 'hi' }];

/** One request per dialect, with `model` as the name; `read` finds the error message in its error shape. */
const dialects: { name: string; send: (url: string, model: string) => Promise<Response>; read: (body: any) => string | undefined }[] = [
  { name: 'OpenAI chat', send: (url, model) => post(`${url}/v1/chat/completions`, { model, messages }), read: (body) => body.error?.param === 'model' ? body.error.message : undefined },
  { name: 'OpenAI responses', send: (url, model) => post(`${url}/v1/responses`, { model, input: 'hi' }), read: (body) => body.error?.param === 'model' ? body.error.message : undefined },
  { name: 'OpenAI embeddings', send: (url, model) => post(`${url}/v1/embeddings`, { model, input: 'hi' }), read: (body) => body.error?.param === 'model' ? body.error.message : undefined },
  { name: 'Anthropic messages', send: (url, model) => post(`${url}/v1/messages`, { model, max_tokens: 10, messages }), read: (body) => body.type === 'error' && body.error?.type === 'invalid_request_error' ? body.error.message : undefined },
  { name: 'Ollama chat', send: (url, model) => post(`${url}/api/chat`, { model, messages }), read: (body) => typeof body.error === 'string' ? body.error : undefined },
  {
    name: 'Gemini (model in the path)',
    send: (url, model) => post(`${url}/v1beta/models/${encodeURIComponent(model)}:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    read: (body) => body.error?.status === 'INVALID_ARGUMENT' ? body.error.message : undefined,
  },
];

test('an over-long or unprintable model name is a 400 in every dialect, and never goes upstream', { timeout: 30_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], bodyLimitBytes: 4 * 1024 * 1024 });
  t.after(() => gateway.close());
  const refused: [string, RegExp][] = [
    [`${LONG}x`, /at most 512 bytes/],
    [`main:${'模'.repeat(200)}`, /at most 512 bytes/], // 600 bytes in 205 characters
    [`main:${'n'.repeat(2 * 1024 * 1024)}`, /at most 512 bytes/],
    ['main:a\u0000b', /U\+0000/],
    ['main:tab\there', /U\+0009/],
    ['main:line\nbreak', /U\+000A/],
    ['main:del\u007f', /U\+007F/],
    ['main:c1\u0085', /U\+0085/],
    ['main:\u202egpt-4', /U\+202E/],
    ['main:lone\ud800', /U\+D800/],
  ];
  for (const dialect of dialects) {
    for (const [model, reason] of refused) {
      // Gemini's path carries no 2 MB name (the request line would be refused before routing), nor
      // a lone surrogate (UTF-8 has no form for it)
      if (dialect.name.startsWith('Gemini') && (model.length > 100_000 || model.includes('\ud800'))) continue;
      const response = await dialect.send(gateway.url, model);
      const body = await response.json();
      assert.equal(response.status, 400, `${dialect.name}: ${model.slice(0, 20)}`);
      const message = dialect.read(body);
      assert.ok(message !== undefined, `${dialect.name}: the dialect's own error shape, naming the model: ${JSON.stringify(body).slice(0, 300)}`);
      assert.match(message, /model/);
      assert.match(message, reason, dialect.name);
      assert.ok(message.length < 300, 'the message does not echo the name');
    }
  }
  assert.equal(mock.requests.length, 0, 'nothing was paid for upstream');
  // exactly at the bound, and non-Latin names within it, are names like any other
  for (const model of [LONG, 'main:模型', 'main:a😀b', 'main:accounts/fireworks/models/llama-v3p1-405b-instruct', 'main:arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0']) {
    const response = await chat(gateway, model);
    assert.equal(response.status, 200, model);
    await response.arrayBuffer();
  }
});

test('a session id of any length is pinned under a bounded key, and still pins', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const other = await startMockUpstream({});
  t.after(() => other.close());
  const gateway = await startTestGateway({
    providers: [{ name: 'a', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }, { name: 'b', baseUrl: `${other.url}/v1`, models: ['mock-gpt'] }],
    models: [{ name: 'sticky', affinity: 'session', targets: [{ provider: 'a', model: 'mock-gpt' }, { provider: 'b', model: 'mock-gpt' }] }],
  });
  t.after(() => gateway.close());
  const session = 's'.repeat(200_000);
  for (let i = 0; i < 4; i++) {
    const response = await post(`${gateway.url}/v1/chat/completions`, { model: 'sticky', prompt_cache_key: session, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
  assert.ok(mock.requests.length === 4 || other.requests.length === 4, 'every request went to the pinned target');
  const pins = (gateway.gateway.runtime.sessions as unknown as { pins: Map<string, unknown> }).pins;
  assert.equal(pins.size, 1);
  assert.ok([...pins.keys()][0]!.length < 100, 'the pin is keyed by a digest, not the 200 kB id');
});
