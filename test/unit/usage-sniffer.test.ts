// Usage read out of pass-through bytes: the object after the key, merged across events, never
// fooled by text that merely mentions the key or by a null usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageSniffer } from '../../src/streaming/usage-sniffer.ts';

const b = (text: string) => Buffer.from(text);

test('a stream: usage objects merged field by field, the latest value winning; nulls skipped', () => {
  const sniffer = new UsageSniffer('"usage"');
  sniffer.scan(b('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}\n\n'));
  sniffer.scan(b('data: {"choices":[{"delta":{"content":"the \\"usage\\": {\\"x\\":1} is text"}}],"usage":null}\n\n'));
  sniffer.scan(b('event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":42}}\n\n'));
  assert.deepEqual(sniffer.raw, { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 42 });
});

test('a body forwarded in pieces: the usage at its tail, even split across chunks', () => {
  const sniffer = new UsageSniffer('"usage"');
  const body = JSON.stringify({ id: 'x', choices: [{ message: { content: 'a'.repeat(40_000) } }], usage: { prompt_tokens: 3, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } } });
  for (let i = 0; i < body.length; i += 1000) sniffer.keep(b(body.slice(i, i + 1000)));
  sniffer.end();
  assert.deepEqual(sniffer.raw, { prompt_tokens: 3, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } });
});

test('strings with braces inside the usage object do not end it early', () => {
  const sniffer = new UsageSniffer('"usageMetadata"');
  sniffer.scan(b('data: {"usageMetadata": {"promptTokenCount": 4, "note": "a } brace", "candidatesTokenCount": 2}}\n\n'));
  assert.deepEqual(sniffer.raw, { promptTokenCount: 4, note: 'a } brace', candidatesTokenCount: 2 });
});

test('whole-line usage (Ollama): the final line is the usage', () => {
  const sniffer = new UsageSniffer('"eval_count"', true);
  sniffer.scan(b('{"message":{"content":"hi"},"done":false}\n{"done":true,"prompt_eval_count":12,"eval_count":30}\n'));
  assert.equal(sniffer.raw?.prompt_eval_count, 12);
  assert.equal(sniffer.raw?.eval_count, 30);
});

test('a usage object cut off at the end of the data is ignored, not half-read', () => {
  const sniffer = new UsageSniffer('"usage"');
  sniffer.scan(b('data: {"usage":{"prompt_tokens":3,"compl'));
  assert.equal(sniffer.raw, undefined);
});

test('a body longer than the kept tail with its usage first (rerank): the usage is read from its head', () => {
  const results = Array.from({ length: 400 }, (_, index) => ({ index, relevance_score: 1 / (index + 1), document: { text: `document ${index} `.repeat(8) } }));
  const body = JSON.stringify({ id: 'rerank-1', model: 'rerank-v1', usage: { total_tokens: 4321 }, results });
  assert.ok(body.length > 40_000);
  for (const size of [1000, 7000, 20_000]) {
    const sniffer = new UsageSniffer('"usage"');
    for (let i = 0; i < body.length; i += size) sniffer.keep(b(body.slice(i, i + size)));
    sniffer.end();
    assert.deepEqual(sniffer.raw, { total_tokens: 4321 }, `chunks of ${size}`);
  }
});

test('a usage key in the tail wins over the head, even a null one', () => {
  const schema = { tools: [{ parameters: { properties: { usage: { type: 'object' } } } }] };
  const body = JSON.stringify({ ...schema, output: 'x'.repeat(40_000), usage: null });
  const sniffer = new UsageSniffer('"usage"');
  for (let i = 0; i < body.length; i += 1000) sniffer.keep(b(body.slice(i, i + 1000)));
  sniffer.end();
  assert.equal(sniffer.raw, undefined);
});
