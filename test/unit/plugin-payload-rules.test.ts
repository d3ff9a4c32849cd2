import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { payloadRules, PayloadRulesConfigSchema, type PayloadRulesConfig } from '../../src/plugins/builtin/payload-rules.ts';
import type { CanonicalRequest } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

function request(model: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling: {}, stream: false, ...extra };
}

async function run(config: PayloadRulesConfig, input: CanonicalRequest): Promise<CanonicalRequest> {
  assert.ok(Value.Check(PayloadRulesConfigSchema, config), 'the test config passes the schema');
  const instance = await payloadRules.setup!(config, { dir: '', log() {} });
  const result = await instance.onRequest!(fakePluginContext({ config }), input);
  return result ?? input;
}

test('defaults fill only what is absent; overrides force; snake_case maps onto sampling and reasoning', async () => {
  const config: PayloadRulesConfig = {
    rules: [{
      defaults: { temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, stop: 'END', presence_penalty: 0.1, frequency_penalty: 0.3, reasoning_effort: 'low' },
      overrides: { max_tokens: 100 },
    }],
  };
  const out = await run(config, request('m', { sampling: { temperature: 1, maxTokens: 5000 } }));
  assert.deepEqual(out.sampling, { temperature: 1, topP: 0.9, topK: 40, seed: 7, stop: ['END'], presencePenalty: 0.1, frequencyPenalty: 0.3, maxTokens: 100 });
  assert.deepEqual(out.reasoning, { effort: 'low' });
  const kept = await run(config, request('m', { reasoning: { effort: 'high', budgetTokens: 10 } }));
  assert.deepEqual(kept.reasoning, { effort: 'high', budgetTokens: 10 });
});

test('a stop list from the config is copied, never shared between requests', async () => {
  const config: PayloadRulesConfig = { rules: [{ overrides: { stop: ['a', 'b'] } }] };
  const instance = await payloadRules.setup!(config, { dir: '', log() {} });
  const first = request('m');
  instance.onRequest!(fakePluginContext(), first);
  first.sampling.stop!.push('mutated');
  const second = request('m');
  instance.onRequest!(fakePluginContext(), second);
  assert.deepEqual(second.sampling.stop, ['a', 'b']);
});

test('rules apply by exact name or glob; a rule without models applies to all; later rules win', async () => {
  const config: PayloadRulesConfig = {
    rules: [
      { overrides: { temperature: 0.5 } },
      { models: ['gpt-*', 'claude-?-haiku'], overrides: { temperature: 0.1 } },
      { models: ['exact-model'], overrides: { seed: 1 } },
    ],
  };
  assert.equal((await run(config, request('gpt-4o'))).sampling.temperature, 0.1);
  assert.equal((await run(config, request('claude-3-haiku'))).sampling.temperature, 0.1);
  assert.equal((await run(config, request('claude-3-sonnet'))).sampling.temperature, 0.5);
  assert.equal((await run(config, request('my-gpt-4o'))).sampling.temperature, 0.5, 'globs are anchored');
  assert.equal((await run(config, request('exact-model'))).sampling.seed, 1);
  assert.equal((await run(config, request('exact-model-2'))).sampling.seed, undefined);
  assert.equal((await run(config, request('gpt.4o'))).sampling.temperature, 0.5, 'a dot is literal');
});

test('caps lower larger values, leave absent ones absent, and set max_tokens when absent', async () => {
  const config: PayloadRulesConfig = { rules: [{ caps: { max_tokens: 4096, temperature: 1, top_k: 50, reasoning_effort: 'medium' } }] };
  const lowered = await run(config, request('m', { sampling: { maxTokens: 9000, temperature: 1.5, topK: 100 }, reasoning: { effort: 'xhigh' } }));
  assert.deepEqual(lowered.sampling, { maxTokens: 4096, temperature: 1, topK: 50 });
  assert.equal(lowered.reasoning!.effort, 'medium');
  const kept = await run(config, request('m', { sampling: { maxTokens: 100, temperature: 0.3, topK: 5 }, reasoning: { effort: 'low' } }));
  assert.deepEqual(kept.sampling, { maxTokens: 100, temperature: 0.3, topK: 5 });
  assert.equal(kept.reasoning!.effort, 'low');
  const absent = await run(config, request('m'));
  assert.deepEqual(absent.sampling, { maxTokens: 4096 });
  assert.equal(absent.reasoning, undefined);
});

test('within a rule caps come after overrides', async () => {
  const out = await run({ rules: [{ overrides: { max_tokens: 10000 }, caps: { max_tokens: 2000 } }] }, request('m'));
  assert.equal(out.sampling.maxTokens, 2000);
});

test('system prompt: prepend, append after the leading system messages, replace all of them', async () => {
  const base = (): CanonicalRequest => request('m', {
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'own', cacheControl: { type: 'ephemeral' } }] },
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'system', content: [{ type: 'text', text: 'late' }] },
    ],
  });
  const texts = (out: CanonicalRequest) => out.messages.map((message) => `${message.role}:${message.content.map((part) => (part.type === 'text' ? part.text : part.type)).join('+')}`);
  const prepend = await run({ rules: [{ system_prompt: { text: 'S' } }] }, base());
  assert.deepEqual(texts(prepend), ['system:S', 'system:own', 'user:q', 'system:late']);
  assert.deepEqual(prepend.messages[1]!.content[0], { type: 'text', text: 'own', cacheControl: { type: 'ephemeral' } });
  const append = await run({ rules: [{ system_prompt: { text: 'S', position: 'append' } }] }, base());
  assert.deepEqual(texts(append), ['system:own', 'system:S', 'user:q', 'system:late']);
  const replace = await run({ rules: [{ system_prompt: { text: 'S', position: 'replace' } }] }, base());
  assert.deepEqual(texts(replace), ['system:S', 'user:q']);
  const none = await run({ rules: [{ system_prompt: { text: 'S', position: 'append' } }] }, request('m'));
  assert.deepEqual(texts(none), ['system:S', 'user:hi']);
});

test('the schema refuses unknown parameters and bad values', () => {
  assert.equal(Value.Check(PayloadRulesConfigSchema, { rules: [{ defaults: { temprature: 1 } }] }), false);
  assert.equal(Value.Check(PayloadRulesConfigSchema, { rules: [{ caps: { seed: 1 } }] }), false);
  assert.equal(Value.Check(PayloadRulesConfigSchema, { rules: [{ overrides: { reasoning_effort: 'max' } }] }), false);
  assert.equal(Value.Check(PayloadRulesConfigSchema, { rules: [{ system_prompt: { text: 'x', position: 'middle' } }] }), false);
});

test('the built-in index names every built-in plugin by its own name, each with a schema and setup', async () => {
  const { builtinPlugins } = await import('../../src/plugins/builtin/index.ts');
  assert.deepEqual(Object.keys(builtinPlugins).sort(), ['content-guard', 'payload-rules', 'redact', 'webhook']);
  for (const [name, definition] of Object.entries(builtinPlugins)) {
    assert.equal(definition.name, name);
    assert.equal(typeof definition.setup, 'function');
    assert.ok(definition.configSchema);
  }
});
