import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_NAME_MAX_BYTES, modelNameProblem } from '../../src/util/model-name.ts';

test('real model names pass, up to the bound', () => {
  for (const name of [
    'gpt-4o', 'qwen3:8b', 'claude-sonnet-4-5(high)', 'openrouter:anthropic/claude-3.5-sonnet',
    'bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6',
    'fireworks:accounts/fireworks/models/llama-v3p1-405b-instruct', 'hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M',
    'my model', '模型', 'a😀b', '👩‍💻', 'x'.repeat(MODEL_NAME_MAX_BYTES), '模'.repeat(170),
  ]) assert.equal(modelNameProblem(name), undefined, name);
});

test('longer than the bound, in UTF-8 bytes', () => {
  assert.match(modelNameProblem('x'.repeat(MODEL_NAME_MAX_BYTES + 1))!, /is 513 bytes long; model names are at most 512 bytes/);
  assert.match(modelNameProblem('模'.repeat(171))!, /is 513 bytes long/);
  assert.match(modelNameProblem('x'.repeat(16 * 1024 * 1024))!, /is 16777216 characters long/);
});

test('characters that cannot be part of a name, with where they are', () => {
  const cases: [string, string][] = [
    ['a\u0000b', 'U+0000 at position 1'], ['\tx', 'U+0009 at position 0'], ['x\n', 'U+000A'], ['x\u001b[31m', 'U+001B'],
    ['x\u007f', 'U+007F'], ['x\u0085', 'U+0085'], ['x\u009f', 'U+009F'], ['x\u2028', 'U+2028'], ['\u202egpt', 'U+202E'],
    ['x\u2066', 'U+2066'], ['\ufeffx', 'U+FEFF'], ['x\uffff', 'U+FFFF'], ['x\ud800', 'U+D800'], ['x\udc00y', 'U+DC00'],
  ];
  for (const [name, where] of cases) {
    const problem = modelNameProblem(name);
    assert.ok(problem?.includes(where), `${JSON.stringify(name)}: ${problem}`);
  }
});
