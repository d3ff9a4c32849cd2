import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costOf, listPriceOf, PriceTable } from '../../src/observability/pricing.ts';
import { priceList, PRICE_LIST_DATE } from '../../src/observability/price-list.ts';
import type { PriceOverride, ProviderConfig } from '../../src/config/types.ts';

const close = (actual: number | undefined, expected: number) => {
  assert.ok(actual !== undefined, 'a cost');
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
};

type P = Pick<ProviderConfig, 'name' | 'dialect' | 'preset'>;
const openai: P = { name: 'openai', dialect: 'openai', preset: 'openai' };
const anthropic: P = { name: 'anthropic', dialect: 'anthropic', preset: 'anthropic' };
const openrouter: P = { name: 'openrouter', dialect: 'openai', preset: 'openrouter' };
const ollama: P = { name: 'ollama', dialect: 'ollama', preset: 'ollama' };
const lmstudio: P = { name: 'lms', dialect: 'openai', preset: 'lmstudio' };
const custom: P = { name: 'box', dialect: 'openai' };

test('the list is dated and covers the common families', () => {
  assert.match(PRICE_LIST_DATE, /^\d{4}-\d{2}-\d{2}$/);
  for (const model of ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'o3', 'o4-mini',
    'claude-opus-4.1', 'claude-sonnet-4.5', 'claude-haiku-4.5', 'claude-sonnet-4', 'claude-opus-4', 'gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite']) {
    assert.ok(priceList[model] !== undefined, model);
  }
  for (const [model, price] of Object.entries(priceList)) {
    assert.ok(price.input >= 0 && price.output >= price.input * 0.9, `${model}: output is not cheaper than input`);
    if (price.cachedInput !== undefined) assert.ok(price.cachedInput <= price.input, `${model}: cached reads cost less`);
  }
});

test('dated ids, OpenRouter names, Bedrock and Vertex ids match their family', () => {
  const same = (name: string, family: string) => assert.deepEqual(listPriceOf(name), priceList[family], `${name} → ${family}`);
  same('claude-sonnet-4-5-20250929', 'claude-sonnet-4.5');
  same('claude-sonnet-4-5', 'claude-sonnet-4.5');
  same('anthropic/claude-sonnet-4.5', 'claude-sonnet-4.5');
  same('claude-sonnet-4-5@20250929', 'claude-sonnet-4.5');
  same('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4.5');
  same('claude-haiku-4-5-20251001', 'claude-haiku-4.5');
  same('claude-opus-4-1-20250805', 'claude-opus-4.1');
  same('claude-opus-4-20250514', 'claude-opus-4');
  same('claude-3-5-haiku-latest', 'claude-3.5-haiku');
  same('gpt-4o-2024-08-06', 'gpt-4o');
  same('gpt-4o-mini-2024-07-18', 'gpt-4o-mini');
  same('gpt-5-2025-08-07', 'gpt-5');
  same('openai/gpt-4.1-mini', 'gpt-4.1-mini');
  same('GPT-4.1', 'gpt-4.1');
  same('openai/o4-mini', 'o4-mini');
  same('models/gemini-2.5-pro', 'gemini-2.5-pro');
  same('google/gemini-2.5-flash', 'gemini-2.5-flash');
  same('gemini-2.5-flash-lite-preview-09-2025', 'gemini-2.5-flash-lite');
  same('gemini-2.0-flash-001', 'gemini-2.0-flash');
  same('anthropic/claude-sonnet-4.5:thinking', 'claude-sonnet-4.5');
  // a snapshot priced on its own is not taken for its family
  assert.deepEqual(listPriceOf('gpt-4o-2024-05-13'), { input: 5, output: 15 });
  assert.deepEqual(listPriceOf('meta-llama/llama-3.3-70b-instruct:free'), { input: 0, output: 0 });
  for (const unknown of ['llama3.2', 'qwen3:8b', 'gpt-4o-audio-preview', 'my-model', 'gpt-5.3']) assert.equal(listPriceOf(unknown), undefined, unknown);
});

test('cost: uncached input, cached reads, cache writes, output and reasoning at their rates', () => {
  // gpt-4o: 2.50 in, 1.25 cached, 10 out
  close(costOf(priceList['gpt-4o']!, { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 400, reasoningTokens: 50 }), (600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6);
  // claude-sonnet-4.5: 3 in, 0.30 read, 3.75 write, 15 out
  close(costOf(priceList['claude-sonnet-4.5']!, { inputTokens: 10_000, outputTokens: 1000, cachedInputTokens: 6000, cacheWriteInputTokens: 3000 }), (1000 * 3 + 6000 * 0.3 + 3000 * 3.75 + 1000 * 15) / 1e6);
  // defaults: cached and cache writes at the input rate, reasoning at the output rate
  close(costOf({ input: 2, output: 8 }, { inputTokens: 100, outputTokens: 10, cachedInputTokens: 50, cacheWriteInputTokens: 20, reasoningTokens: 5 }), (100 * 2 + 10 * 8) / 1e6);
  // a reasoning rate of its own
  close(costOf({ input: 1, output: 4, reasoning: 2 }, { inputTokens: 0, outputTokens: 100, reasoningTokens: 60 }), (40 * 4 + 60 * 2) / 1e6);
  // counts that do not add up never go negative
  close(costOf({ input: 1, output: 1 }, { inputTokens: 10, outputTokens: 5, cachedInputTokens: 20, reasoningTokens: 50 }), (20 + 5) / 1e6);
});

test('long prompts are billed at the long-context rate for the whole request', () => {
  const pro = priceList['gemini-2.5-pro']!;
  close(costOf(pro, { inputTokens: 200_000, outputTokens: 1000 }), (200_000 * 1.25 + 1000 * 10) / 1e6);
  close(costOf(pro, { inputTokens: 200_001, outputTokens: 1000 }), (200_001 * 2.5 + 1000 * 15) / 1e6);
  close(costOf(priceList['claude-sonnet-4.5']!, { inputTokens: 300_000, outputTokens: 100, cachedInputTokens: 100_000 }), (200_000 * 6 + 100_000 * 0.6 + 100 * 22.5) / 1e6);
});

test('overrides: provider:model before model, exact before glob, in file order; local providers are free unless priced', () => {
  const overrides: PriceOverride[] = [
    { model: 'gpt-4o*', price: { input: 9, output: 9 } },
    { model: 'gpt-4o', price: { input: 1, output: 1 } },
    { model: 'anthropic/claude-sonnet-4.5', provider: 'openrouter', price: { input: 2, output: 2 } },
    { model: 'qwen3:*', provider: 'lms', price: { input: 0.5, output: 0.5 } },
    { model: 'my-finetune-*', price: { input: 4, output: 4, cachedInput: 1 } },
  ];
  const table = new PriceTable(overrides, [openai, anthropic, openrouter, ollama, lmstudio, custom]);
  assert.deepEqual(table.priceOf('openai', 'gpt-4o'), { input: 1, output: 1 }, 'an exact name beats an earlier glob');
  assert.deepEqual(table.priceOf('openai', 'gpt-4o-mini'), { input: 9, output: 9 });
  assert.deepEqual(table.priceOf('openrouter', 'anthropic/claude-sonnet-4.5'), { input: 2, output: 2 });
  assert.deepEqual(table.priceOf('anthropic', 'claude-sonnet-4-5'), priceList['claude-sonnet-4.5'], 'another provider: the list');
  assert.deepEqual(table.priceOf('lms', 'qwen3:8b'), { input: 0.5, output: 0.5 });
  assert.deepEqual(table.priceOf('lms', 'llama3.2'), { input: 0, output: 0 }, 'a local server is free');
  assert.deepEqual(table.priceOf('ollama', 'gpt-4o-mini'), { input: 9, output: 9 }, 'a price in the config applies to local servers too');
  assert.deepEqual(table.priceOf('ollama', 'claude-sonnet-4-5'), { input: 0, output: 0 }, 'a listed name on a local server is still local');
  assert.equal(table.priceOf('box', 'llama3.2'), undefined, 'unknown model, remote server: no price');
  assert.deepEqual(table.priceOf('box', 'vendor/my-finetune-7'), { input: 4, output: 4, cachedInput: 1 }, 'globs also match the part after the last /');
  close(table.cost('openai', 'gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000 }), 2);
  assert.equal(table.cost('box', 'unknown', { inputTokens: 1, outputTokens: 1 }), undefined);
  // cached lookups answer the same
  assert.deepEqual(table.priceOf('openai', 'gpt-4o'), { input: 1, output: 1 });
});

test('the lookup cache stays bounded', () => {
  const table = new PriceTable([], [custom]);
  for (let i = 0; i < 5000; i++) table.priceOf('box', `model-${i}`);
  const size = [...(table as unknown as { cache: Map<string, Map<string, unknown>> }).cache.values()].reduce((sum, models) => sum + models.size, 0);
  assert.ok(size <= 2048, `cache holds ${size}`);
});

test('media models: speech and moderation priced where a token price says what they bill; the others left out', () => {
  assert.deepEqual(listPriceOf('gpt-4o-mini-tts'), { input: 0.6, output: 12 });
  assert.deepEqual(listPriceOf('gpt-4o-mini-tts-2025-03-20'), { input: 0.6, output: 12 });
  assert.deepEqual(listPriceOf('omni-moderation-latest'), { input: 0, output: 0 });
  assert.deepEqual(listPriceOf('omni-moderation-2024-09-26'), { input: 0, output: 0 });
  // 1,000 text tokens in, 50,000 audio tokens out
  assert.equal(costOf(listPriceOf('gpt-4o-mini-tts')!, { inputTokens: 1000, outputTokens: 50_000 }), 0.0006 + 0.6);
  for (const model of ['gpt-image-1', 'dall-e-3', 'dall-e-2', 'whisper-1', 'tts-1', 'tts-1-hd', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe']) {
    assert.equal(listPriceOf(model), undefined, model);
  }
});
