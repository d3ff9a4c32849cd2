// `model: auto` through a real gateway (issue #19): rules first, then the complexity score; the
// tier's cheapest target; a session's tier never goes down; a failure before the first byte
// escalates one tier (visible and counted); the decision in x-switchyard-route, the access log
// and /metrics; POST /v0/route answers without asking a model; every dialect, streamed or not.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TestGatewayOptions } from '../helpers/gateway.ts';
import type { RecordedRequest } from '../helpers/mock-upstream.ts';
import { chat, messages, openaiProvider, post, startGatewayFor, startMocks, status } from '../helpers/resilience.ts';
import type { AliasConfig } from '../../src/config/types.ts';

const T = { timeout: 30_000 };

/** The auto alias as normalize.ts makes it from `strategy: auto` (its tiers as hidden aliases). */
function autoModels(): TestGatewayOptions['models'] {
  const tier = (name: string, next: string | undefined, targets: { provider: string; model: string }[]) => ({ name: `auto@${name}`, targets, strategy: 'fill-first' as const, fallbacks: next === undefined ? [] : [`auto@${next}`], hidden: true });
  return [
    {
      name: 'auto', targets: [{ provider: 'mock', model: 'strong-model' }], strategy: 'fill-first',
      auto: {
        tiers: [{ name: 'simple', route: 'auto@simple' }, { name: 'medium', route: 'auto@medium' }, { name: 'complex', route: 'auto@complex' }],
        rules: [
          { when: { regex: { source: '\\b(prove|theorem|derivation)\\b', flags: 'iu', on: 'user' } }, then: { tier: 2 } },
          { when: { headers: [['x-task', '^vision$', 'u']] }, then: { model: 'vision' } },
        ],
      },
    } as Partial<AliasConfig> as never,
    tier('simple', 'medium', [{ provider: 'mock', model: 'small-model' }]),
    tier('medium', 'complex', [{ provider: 'mock', model: 'mid-model' }]),
    tier('complex', undefined, [{ provider: 'mock', model: 'strong-model' }]),
    { name: 'vision', targets: [{ provider: 'mock', model: 'vision-model' }] },
  ] as TestGatewayOptions['models'];
}

async function setup(t: TestContext, script?: (request: RecordedRequest, index: number) => ReturnType<typeof status> | { kind: 'default' }) {
  const { mock } = await startMocks(t, { mock: script === undefined ? {} : { script } });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], models: autoModels() });
  return { mock, gateway };
}

const lastModel = (mock: { requests: RecordedRequest[] }) => mock.requests.filter((request) => request.method === 'POST').at(-1)!.body.model as string;

test('a rule picks the tier (regex on the latest user turn), and the answer says why', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const reply = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'Prove the theorem that there are infinitely many primes.' }] });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('x-switchyard-route'), 'tier=complex; by=rule:1');
  assert.equal(lastModel(mock), 'strong-model');
});

test('a rule may name a model outright (a header condition)', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const reply = await chat(gateway, 'auto', {}, { 'x-task': 'vision' });
  assert.equal(reply.headers.get('x-switchyard-route'), 'model=vision; by=rule:2');
  assert.equal(lastModel(mock), 'vision-model');
});

test('without a rule the complexity score decides: chit-chat goes to the cheapest tier', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const reply = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'hi, how are you?' }] });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('x-switchyard-route')!, /^tier=simple; by=score:0\.\d\d$/);
  assert.equal(lastModel(mock), 'small-model');
});

test('a session keeps its tier: it may move up, never down', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const session = { 'x-session-id': 'conversation-1' };
  await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'Prove the theorem.' }] }, session);
  const next = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'thanks!' }] }, session);
  assert.equal(next.headers.get('x-switchyard-route'), 'tier=complex; by=session');
  assert.equal(lastModel(mock), 'strong-model');
  const other = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'thanks!' }] }, { 'x-session-id': 'conversation-2' });
  assert.match(other.headers.get('x-switchyard-route')!, /^tier=simple/);
});

test('a failure before the first byte escalates one tier, said in the header and counted', T, async (t) => {
  const { mock, gateway } = await setup(t, (request) => (request.body?.model === 'small-model' ? status(503) : { kind: 'default' }));
  const reply = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('x-switchyard-route')!, /^tier=simple; by=score:0\.\d\d; escalated=medium$/);
  assert.equal(lastModel(mock), 'mid-model');
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_route_escalations_total\{alias="auto"\} 1/);
  assert.match(metrics, /switchyard_route_decisions_total\{alias="auto",tier="simple",by="score"\} 1/);
});

test('every dialect, streamed or not, is routed by the same decision; the tiers are not listed as models', T, async (t) => {
  const { mock, gateway } = await setup(t);
  for (const stream of [false, true]) {
    const anthropic = await messages(gateway, 'auto', { stream, messages: [{ role: 'user', content: 'Give a derivation of the quadratic formula.' }] });
    assert.equal(anthropic.status, 200, anthropic.text);
    assert.equal(anthropic.headers.get('x-switchyard-route'), 'tier=complex; by=rule:1');
    assert.equal(lastModel(mock), 'strong-model');
    const responses = await post(gateway, '/v1/responses', { model: 'auto', stream, input: 'hi there' });
    assert.equal(responses.status, 200, responses.text);
    assert.match(responses.headers.get('x-switchyard-route')!, /^tier=simple/);
  }
  const models = await (await fetch(`${gateway.url}/v1/models`)).json() as { data: { id: string }[] };
  const ids = models.data.map((model) => model.id);
  assert.ok(ids.includes('auto'));
  assert.ok(!ids.some((id) => id.startsWith('auto@')), ids.join(', '));
});

test('POST /v0/route: the decision without asking a model, in any dialect', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const before = mock.requests.length;
  const openai = await post(gateway, '/v0/route', { model: 'auto', messages: [{ role: 'user', content: 'Prove the theorem.' }] });
  assert.equal(openai.status, 200, openai.text);
  const decision = openai.json();
  assert.equal(decision.tier, 'complex');
  assert.equal(decision.by, 'rule:1');
  assert.deepEqual(decision.tiers.map((tier: { name: string }) => tier.name), ['simple', 'medium', 'complex']);
  const gemini = await post(gateway, '/v0/route?model=auto', { contents: [{ role: 'user', parts: [{ text: 'hello!' }] }] });
  assert.equal(gemini.json().dialect, 'gemini');
  assert.equal(gemini.json().tier, 'simple');
  assert.equal(typeof gemini.json().score, 'number');
  const unknown = await post(gateway, '/v0/route', { model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(unknown.status, 404);
  assert.equal(mock.requests.length, before, 'no model was asked');
});

/** An OpenAI chat answer whose text is `text`. */
const answer = (text: string) => ({ kind: 'json' as const, status: 200, body: { id: 'j', object: 'chat.completion', created: 1, model: 'judge-model', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } });

test('a judge (classifier) decides when no rule does; a timeout, an error or an answer naming no tier leaves it to the score, counted', T, async (t) => {
  let verdict: () => unknown = () => answer('Complex.');
  const { mock } = await startMocks(t, { mock: { script: (request) => (request.body?.model === 'judge-model' ? verdict() as never : { kind: 'default' }) } });
  const models = autoModels()!.map((alias) => (alias.name === 'auto' ? { ...alias, auto: { ...(alias as never as AliasConfig).auto!, classifier: { model: 'judge-model', timeoutMs: 150 } } } : alias));
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], models: models as never });
  const hello = { messages: [{ role: 'user', content: 'hello there' }] };
  const judged = await chat(gateway, 'auto', hello);
  assert.equal(judged.headers.get('x-switchyard-route'), 'tier=complex; by=judge');
  assert.equal(lastModel(mock), 'strong-model');
  const judgeRequest = mock.requests.find((request) => request.body?.model === 'judge-model')!;
  assert.match(JSON.stringify(judgeRequest.body.messages[0]), /cheapest model tier/);
  assert.match(JSON.stringify(judgeRequest.body.messages[1]), /hello there/);
  // a rule decides without asking the judge
  const asked = mock.requests.filter((request) => request.body?.model === 'judge-model').length;
  await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'prove it' }] });
  assert.equal(mock.requests.filter((request) => request.body?.model === 'judge-model').length, asked);
  verdict = () => answer('banana');
  assert.match((await chat(gateway, 'auto', hello)).headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  verdict = () => ({ kind: 'delay', ms: 1000, then: answer('complex') });
  assert.match((await chat(gateway, 'auto', hello)).headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  verdict = () => status(500);
  assert.match((await chat(gateway, 'auto', hello)).headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  for (const outcome of ['answered', 'invalid', 'timeout', 'error']) assert.match(metrics, new RegExp(`switchyard_route_judge_total\\{alias="auto",outcome="${outcome}"\\} 1`), outcome);
});

test('the decision is in the access log and in the usage record', T, async (t) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { DatabaseSync } = await import('node:sqlite');
  const { mock } = await startMocks(t, { mock: {} });
  const dir = mkdtempSync(join(tmpdir(), 'swy-auto-usage-'));
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], models: autoModels(), storage: { path: dir } });
  await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'Prove the theorem.' }] });
  await gateway.usage!.flush();
  const line = gateway.logs.find((entry) => entry['msg'] === 'request' && entry['route'] !== undefined);
  assert.deepEqual({ ...(line?.['route'] as object), us: 0 }, { alias: 'auto', tier: 'complex', by: 'rule:1', us: 0 });
  const rows = new DatabaseSync(join(dir, 'usage.db')).prepare('SELECT model_asked, route FROM usage').all() as { model_asked: string; route: string }[];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.model_asked, 'auto');
  assert.deepEqual({ ...JSON.parse(rows[0]!.route), us: 0 }, { alias: 'auto', tier: 'complex', by: 'rule:1', us: 0 });
});

test('an error answer of an auto alias says the decision too', T, async (t) => {
  const { gateway } = await setup(t, () => status(400, 'bad request upstream'));
  const reply = await chat(gateway, 'auto', { messages: [{ role: 'user', content: 'Prove the theorem.' }] });
  assert.equal(reply.status, 400);
  assert.equal(reply.headers.get('x-switchyard-route'), 'tier=complex; by=rule:1');
});

/** Tiers whose targets differ in what they can take: `qwen3:8b` takes no images (its built-in record), `small-vision` says it does. */
function capabilityModels(): TestGatewayOptions['models'] {
  const tier = (name: string, next: string | undefined, targets: { provider: string; model: string; supports?: object }[]) => ({ name: `auto@${name}`, targets, strategy: 'fill-first' as const, fallbacks: next === undefined ? [] : [`auto@${next}`], hidden: true });
  return [
    {
      name: 'auto', targets: [{ provider: 'mock', model: 'strong-model' }], strategy: 'fill-first',
      auto: { tiers: [{ name: 'simple', route: 'auto@simple' }, { name: 'medium', route: 'auto@medium' }, { name: 'complex', route: 'auto@complex' }], rules: [] },
    } as never,
    tier('simple', 'medium', [{ provider: 'mock', model: 'qwen3:8b' }, { provider: 'mock', model: 'small-vision', supports: { images: true } }]),
    tier('medium', 'complex', [{ provider: 'mock', model: 'mid-model' }]),
    tier('complex', undefined, [{ provider: 'mock', model: 'strong-model', supports: { images: true, jsonSchema: true, tools: true } }]),
  ] as TestGatewayOptions['models'];
}

const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

test('hard constraints: an image skips the target that takes none; a JSON schema goes where a schema is known to be followed; the dry run says what was dropped and why', T, async (t) => {
  const { mock } = await startMocks(t, { mock: {} });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], models: capabilityModels() });
  const hello = { messages: [{ role: 'user', content: 'hi!' }] };
  const plain = await chat(gateway, 'auto', hello);
  assert.match(plain.headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  assert.equal(lastModel(mock), 'qwen3:8b', 'a text request: the tier\'s first target');

  const image = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi! what is this?' }, { type: 'image_url', image_url: { url: PIXEL } }] }] };
  const seen = await chat(gateway, 'auto', image);
  assert.equal(seen.status, 200, seen.text);
  assert.match(seen.headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  assert.equal(lastModel(mock), 'small-vision', 'qwen3 takes no images: left out of its tier');
  const dryImage = (await post(gateway, '/v0/route', { model: 'auto', ...image })).json();
  assert.equal(dryImage.tier, 'simple');
  assert.deepEqual(dryImage.dropped, [{ tier: 'simple', target: 'mock/qwen3:8b', why: 'takes no images' }]);
  assert.equal(dryImage.needs.images, true);

  const schema = { ...hello, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { text: { type: 'string' } } } } } };
  const structured = await chat(gateway, 'auto', schema);
  assert.equal(structured.status, 200, structured.text);
  assert.match(structured.headers.get('x-switchyard-route')!, /^tier=complex; by=score:/, 'no cheaper target is known to follow a schema');
  assert.equal(lastModel(mock), 'strong-model');
  const drySchema = (await post(gateway, '/v0/route', { model: 'auto', ...schema })).json();
  assert.equal(drySchema.tier, 'complex');
  assert.equal(drySchema.preferred_tier, 'simple');
  assert.deepEqual(drySchema.dropped.map((entry: { target: string }) => entry.target), ['mock/qwen3:8b', 'mock/small-vision', 'mock/mid-model']);
  assert.match(drySchema.dropped[0].why, /^no record that it takes JSON schema/);
  const logged = gateway.logs.filter((entry) => entry['msg'] === 'request' && entry['route'] !== undefined).at(-1)!;
  assert.equal((logged['route'] as { dropped: unknown[] }).dropped.length, 3, 'the access log keeps them too');
});

test('hard constraints: the caller\'s own fields no target can carry are refused in the caller\'s dialect, with the decision and the reasons', T, async (t) => {
  const { mock } = await startMocks(t, { mock: {} });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], models: capabilityModels() });
  const before = mock.requests.length;
  const reply = await messages(gateway, 'auto', { messages: [{ role: 'user', content: 'hi!' }], mystery_option: true });
  assert.equal(reply.status, 400, reply.text);
  assert.match(reply.headers.get('x-switchyard-route')!, /^tier=simple; by=score:/);
  const error = reply.json() as { type: string; error: { type: string; message: string } };
  assert.equal(error.type, 'error');
  assert.match(error.error.message, /No target of 'auto' can take this request: simple: mock\/qwen3:8b cannot carry the request's own anthropic fields/);
  assert.equal(mock.requests.length, before, 'nothing was sent upstream');
});
