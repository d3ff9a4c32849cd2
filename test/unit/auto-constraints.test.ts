// An auto alias's hard constraints (issue #19 "hard constraints first"): the built-in capability
// records and the config's `supports:` make a record per target; a request's images, JSON schema,
// function tools, own dialect's fields and prompt size drop the targets that cannot serve it, pass
// over tiers left without one, never take a target without a record for an able one, and say what
// was dropped and why — or refuse when nothing can serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { AliasConfig, AliasTarget, ProviderConfig } from '../../src/config/types.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { needsOf, TierConstraints, type RequestNeeds, type TargetRecord } from '../../src/routing/auto/constraints.ts';
import { AutoRouter } from '../../src/routing/auto/decide.ts';
import { DEFAULT_MODEL } from '../../src/routing/auto/default-model.ts';
import { listCapabilitiesOf } from '../../src/routing/model-capabilities.ts';
import { listPriceOf } from '../../src/observability/pricing.ts';
import { targetRecordOf, tierTargetRecords } from '../../src/pipeline/auto-targets.ts';
import { routeDecisionJson } from '../../src/pipeline/route-decision.ts';

const NAMES = ['simple', 'medium', 'complex'];
const ROUTES = NAMES.map((name) => `a@${name}`);
const ALIAS = { name: 'a@simple', targets: [], strategy: 'fill-first', fallbacks: [], retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 }, affinity: 'session' } as AliasConfig;

function provider(name: string, extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return { name, dialect: 'openai', capabilities: { chat: true, completions: true, embeddings: true, responses: false }, ...extra } as ProviderConfig;
}
const openai = provider('openai', { capabilities: { chat: true, completions: true, embeddings: true, responses: true } });
const anthropic = provider('anthropic', { dialect: 'anthropic' });
const ollama = provider('local', { dialect: 'ollama' });
const claudeCli = provider('claude', { dialect: 'agent-cli', agentCli: { type: 'claude-code' } as ProviderConfig['agentCli'] });
const codexCli = provider('codex', { dialect: 'agent-cli', agentCli: { type: 'codex' } as ProviderConfig['agentCli'] });

const record = (on: ProviderConfig, model: string, extra: Partial<AliasTarget> = {}): TargetRecord => targetRecordOf(on, { provider: on.name, model, weight: 1, ...extra }, ALIAS);
const needs = (extra: Partial<RequestNeeds> = {}): RequestNeeds => ({ promptTokens: 10, images: false, jsonSchema: false, tools: false, dialect: undefined, ...extra });
const constraints = (...tiers: TargetRecord[][]) => new TierConstraints(NAMES.slice(0, tiers.length), ROUTES.slice(0, tiers.length), tiers);

test('the built-in records: looked up as prices are (vendor prefixes, snapshots, 4.5 = 4-5), an Ollama tag by its family; unknown is undefined', () => {
  for (const name of ['claude-sonnet-4-5-20250929', 'anthropic/claude-sonnet-4.5', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0']) {
    assert.deepEqual(listCapabilitiesOf(name), { images: true, tools: true, jsonSchema: true, contextWindow: 200_000 }, name);
  }
  assert.equal(listCapabilitiesOf('claude-sonnet-4-20250514')?.jsonSchema, false, 'structured outputs from the 4.1/4.5 generation on');
  assert.equal(listCapabilitiesOf('gpt-4o-2024-08-06')?.contextWindow, 128_000);
  assert.equal(listCapabilitiesOf('o3-mini')?.images, false);
  assert.deepEqual(listCapabilitiesOf('qwen3:8b'), { images: false, tools: true });
  assert.equal(listCapabilitiesOf('llama3.2-vision:11b-instruct-q4_K_M')?.images, true);
  assert.equal(listCapabilitiesOf('models/gemini-2.5-flash')?.contextWindow, 1_048_576);
  assert.equal(listCapabilitiesOf('small-model'), undefined);
  assert.equal(listCapabilitiesOf('qwen3-next:80b'), undefined, 'no family of that name');
  // the price list reads names through the same helper, as before
  assert.equal(listPriceOf('anthropic/claude-sonnet-4.5')?.input, 3);
  assert.deepEqual(listPriceOf('meta-llama/llama-3.3-70b-instruct:free'), { input: 0, output: 0 });
  assert.equal(listPriceOf('gpt-4o-2024-08-06')?.input, 2.5);
});

test('a target\'s record: the model\'s, then what its provider decides, then the config\'s supports and context_window', () => {
  assert.deepEqual(record(openai, 'gpt-5-mini'), { provider: 'openai', model: 'gpt-5-mini', contextWindow: 272_000, images: true, jsonSchema: true, tools: true, dialects: ['openai', 'openai-responses', 'openai-completions'] });
  const local = record(ollama, 'qwen3:8b');
  assert.equal(local.images, false);
  assert.equal(local.jsonSchema, true, 'a local server constrains any model to a schema');
  assert.deepEqual(local.dialects, ['ollama']);
  assert.equal(record(claudeCli, 'sonnet').tools, false, 'an agent CLI takes no tools of the caller\'s');
  assert.equal(record(claudeCli, 'sonnet').jsonSchema, false);
  assert.equal(record(codexCli, 'gpt-5').jsonSchema, true, 'Codex carries a JSON schema');
  assert.deepEqual(record(claudeCli, 'sonnet').dialects, []);
  assert.deepEqual(targetRecordOf(claudeCli, { provider: 'claude', model: 'sonnet', weight: 1 }, { ...ALIAS, unsupportedParams: 'drop' }).dialects, ['*']);
  const unknown = record(openai, 'small-model');
  assert.deepEqual([unknown.images, unknown.jsonSchema, unknown.tools, unknown.contextWindow], [undefined, undefined, undefined, undefined]);
  const declared = record(ollama, 'qwen3:8b', { supports: { images: true, tools: false }, contextWindow: 32_768 });
  assert.deepEqual([declared.images, declared.tools, declared.contextWindow], [true, false, 32_768]);
});

test('needs: images anywhere, a JSON schema (not a bare JSON object), function tools (not hosted ones), fields of the caller\'s own dialect', () => {
  const base: CanonicalRequest = { model: 'a', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling: {}, stream: false };
  assert.deepEqual(needsOf(base, 3, false), needs({ promptTokens: 3 }));
  assert.equal(needsOf({ ...base, responseFormat: { type: 'json' } }, 3, false).jsonSchema, false);
  assert.equal(needsOf({ ...base, responseFormat: { type: 'json-schema', name: 'x', schema: {} } }, 3, false).jsonSchema, true);
  assert.equal(needsOf({ ...base, hostedTools: [{ kind: 'web-search', field: 'tools.web_search', dialect: 'openai-responses', raw: {} }] }, 3, false).tools, false);
  assert.equal(needsOf({ ...base, tools: [{ name: 'f', parameters: {} }] }, 3, false).tools, true);
  assert.equal(needsOf({ ...base, passThrough: { dialect: 'anthropic', fields: {}, inert: { x: 1 } } }, 3, false).dialect, undefined, 'inert fields go anywhere');
  assert.equal(needsOf({ ...base, passThrough: { dialect: 'anthropic', fields: { top_k_extra: 1 } } }, 3, false).dialect, 'anthropic');
});

test('images: a tier whose targets take none is passed over; within the tier, the one that cannot is left out; both are said', () => {
  const tiers = constraints([record(ollama, 'qwen3:8b')], [record(ollama, 'qwen3:8b'), record(openai, 'gpt-4o-mini')], [record(openai, 'gpt-5')]);
  assert.deepEqual(tiers.constrain(0, needs()), { tier: 0, filter: undefined, dropped: [], refusal: undefined }, 'a text request: nothing to drop');
  const decided = tiers.constrain(0, needs({ images: true }));
  assert.equal(decided.tier, 1);
  assert.deepEqual(decided.dropped.map((entry) => [entry.tier, entry.target, entry.why]), [['simple', 'local/qwen3:8b', 'takes no images'], ['medium', 'local/qwen3:8b', 'takes no images']]);
  assert.equal(decided.filter!.skips('a@medium', 'local', 'qwen3:8b'), true);
  assert.equal(decided.filter!.skips('a@medium', 'openai', 'gpt-4o-mini'), false);
  assert.equal(decided.filter!.skips('a@complex', 'openai', 'gpt-5'), false);
});

test('no record is never taken for "can": a target known to serve wins over one nobody knows, in its tier and over a cheaper tier; with none known, the unknown are tried', () => {
  const mystery = record(openai, 'small-model');
  const tiers = constraints([mystery], [mystery, record(openai, 'gpt-5-mini')], [record(openai, 'gpt-5')]);
  const decided = tiers.constrain(0, needs({ jsonSchema: true }));
  assert.equal(decided.tier, 1, 'the simple tier knows of no schema support: passed over');
  assert.match(decided.dropped[0]!.why, /^no record that it takes JSON schema/);
  assert.equal(decided.filter!.skips('a@medium', 'openai', 'small-model'), true, 'left out beside a known one');
  const unknownOnly = constraints([mystery], [mystery]);
  assert.deepEqual(unknownOnly.constrain(0, needs({ tools: true, images: true })), { tier: 0, filter: undefined, dropped: [], refusal: undefined }, 'the config says nothing anywhere: tried as before');
});

test('tools: a tier of agent CLIs only is passed over for a request with tools of its own', () => {
  const router = new AutoRouter('a', { tiers: NAMES.map((name, index) => ({ name, route: ROUTES[index]! })), rules: [] }, DEFAULT_MODEL, [[record(claudeCli, 'sonnet')], [record(openai, 'gpt-5-mini')], [record(openai, 'gpt-5')]]);
  const facts = { header: () => undefined, keyId: '', team: undefined };
  const base: CanonicalRequest = { model: 'a', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi!' }] }], sampling: {}, stream: false };
  const plain = router.decide(base, facts);
  assert.equal(router.constrain(plain.tier!, plain.needs).tier, 0);
  const withTools = router.decide({ ...base, tools: [{ name: 'lookup', parameters: { type: 'object' } }] }, facts);
  assert.equal(withTools.tier, 0, 'the preferred tier');
  const constrained = router.constrain(withTools.tier!, withTools.needs);
  assert.equal(constrained.tier, 1);
  assert.deepEqual(constrained.dropped, [{ tier: 'simple', target: 'claude/sonnet', why: 'takes no tools' }]);
});

test('context windows (the config\'s or the record\'s): a tier none of whose targets takes the prompt is passed over; when none anywhere does, the planner answers as before', () => {
  const router = new AutoRouter('a', { tiers: NAMES.map((name, index) => ({ name, route: ROUTES[index]! })), rules: [] }, DEFAULT_MODEL, [
    [record(openai, 'm1', { contextWindow: 1000 })], [record(openai, 'm2', { contextWindow: 4000 })], [record(openai, 'm3')],
  ]);
  const facts = { header: () => undefined, keyId: '', team: undefined };
  const ask = (text: string) => {
    const decision = router.decide({ model: 'a', messages: [{ role: 'user', content: [{ type: 'text', text }] }], sampling: {}, stream: false }, facts);
    return router.constrain(decision.tier!, decision.needs).tier;
  };
  assert.equal(ask('hi!'), 0);
  assert.ok(ask(`hi! ${'lorem ipsum dolor sit amet. '.repeat(200)}`)! >= 1, 'about 1,400 tokens: not the simple tier');
  assert.equal(ask(`hi! ${'lorem ipsum dolor sit amet. '.repeat(1000)}`), 2, 'about 7,000 tokens: only the complex tier takes it');
  const small = constraints([record(openai, 'gpt-4o')], [record(openai, 'gpt-4o-mini')]);
  assert.deepEqual(small.constrain(0, needs({ promptTokens: 150_000 })), { tier: 0, filter: undefined, dropped: [], refusal: undefined }, 'only windows rule them out: the overflow alias or the context-length answer');
});

test('the caller\'s own dialect fields go only to a provider of that dialect; nothing able anywhere is refused with the reasons', () => {
  const tiers = constraints([record(openai, 'gpt-5-mini')], [record(anthropic, 'claude-sonnet-4-5')]);
  const decided = tiers.constrain(0, needs({ dialect: 'anthropic' }));
  assert.equal(decided.tier, 1);
  assert.equal(decided.dropped[0]!.why, 'cannot carry the request\'s own anthropic fields');
  const refused = constraints([record(ollama, 'qwen3:8b')], [record(claudeCli, 'sonnet', { supports: { images: false } })]).constrain(0, needs({ images: true }));
  assert.equal(refused.tier, undefined);
  assert.equal(refused.refusal, 'simple: local/qwen3:8b takes no images; medium: claude/sonnet takes no images');
  assert.equal(refused.dropped.length, 2);
});

test('the decision record says what was dropped and why', () => {
  const line = routeDecisionJson({ alias: 'auto', tier: 'medium', by: 'score:0.12', score: 0.12, probabilities: undefined, route: 'auto@medium', micros: 9, dropped: [{ tier: 'simple', target: 'local/qwen3:8b', why: 'takes no images' }] });
  assert.deepEqual(JSON.parse(line), { alias: 'auto', tier: 'medium', by: 'score:0.12', score: 0.12, us: 9, dropped: [{ tier: 'simple', target: 'local/qwen3:8b', why: 'takes no images' }] });
  assert.equal(JSON.parse(routeDecisionJson({ alias: 'auto', tier: 'simple', by: 'rule:1', score: undefined, probabilities: undefined, route: 'auto@simple', micros: 3 })).dropped, undefined);
});

test('config: supports: on a target, normalized; the records of a config\'s auto alias, per tier', () => {
  const { config } = parseConfigText(`providers:
  - { name: local, type: ollama, base_url: "http://127.0.0.1:11434", models: ["*"] }
  - { name: openai, type: openai, api_key: sk-test }
models:
  - name: auto
    strategy: auto
    tiers:
      - { name: simple, targets: [{ provider: local, model: "my-vision:7b", supports: { images: true, json_schema: false } }] }
      - { name: complex, targets: [{ provider: openai, model: gpt-5 }] }
`, 'test.yaml', {});
  const simple = config.models.find((alias) => alias.name === 'auto@simple')!;
  assert.deepEqual(simple.targets[0]!.supports, { images: true, jsonSchema: false });
  assert.equal(simple.affinity, 'session', 'a tier keeps its session\'s model unless the alias says affinity: none');
  const records = tierTargetRecords(config, config.models.find((alias) => alias.name === 'auto')!);
  assert.deepEqual(records.map((tier) => tier.map((target) => [target.model, target.images, target.jsonSchema, target.tools])), [[['my-vision:7b', true, false, undefined]], [['gpt-5', true, true, true]]]);
});
