// Usage in OpenAI-wire answers passed through as bytes, in the three ways the APIs write it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passThroughUsageFrom } from '../../src/providers/openai/usage.ts';

test('chat and completions: prompt and completion tokens, cached and reasoning details', () => {
  assert.deepEqual(passThroughUsageFrom({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } }),
    { inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, reasoningTokens: 2 });
  assert.deepEqual(passThroughUsageFrom({ prompt_tokens: 7, total_tokens: 7 }), { inputTokens: 7, outputTokens: 0 }, 'embeddings');
});

test('Responses, images, transcriptions, speech: input and output tokens', () => {
  assert.deepEqual(passThroughUsageFrom({ input_tokens: 50, output_tokens: 4160, total_tokens: 4210, input_tokens_details: { text_tokens: 50, image_tokens: 0 } }), { inputTokens: 50, outputTokens: 4160 });
  assert.deepEqual(passThroughUsageFrom({ type: 'tokens', input_tokens: 120, output_tokens: 9, total_tokens: 129 }), { inputTokens: 120, outputTokens: 9 });
  assert.deepEqual(passThroughUsageFrom({ input_tokens: 100, output_tokens: 20, input_tokens_details: { cached_tokens: 60 }, output_tokens_details: { reasoning_tokens: 8 } }),
    { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60, reasoningTokens: 8 });
});

test('rerank: total tokens alone are input; a duration or an empty usage is no token usage', () => {
  assert.deepEqual(passThroughUsageFrom({ total_tokens: 37 }), { inputTokens: 37, outputTokens: 0 });
  assert.equal(passThroughUsageFrom({ type: 'duration', seconds: 12 }), undefined);
  assert.equal(passThroughUsageFrom({}), undefined);
  assert.equal(passThroughUsageFrom(null), undefined);
  assert.equal(passThroughUsageFrom([1, 2]), undefined);
});
