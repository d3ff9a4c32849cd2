// A cached answer is stored whole and replayed as stream parts when the caller asks for a stream:
// the parts, collected again, give back the same response (the collector is the inverse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import { ResponseCollector } from '../../src/pipeline/response-collector.ts';
import { streamPartsOf } from '../../src/pipeline/response-replay.ts';

const RESPONSE: CanonicalResponse = {
  id: 'resp_1',
  model: 'model-a',
  created: 1_700_000_000,
  content: [
    { type: 'reasoning', text: 'Think.', signature: 'sig==' },
    { type: 'reasoning', text: '', redactedData: 'opaque' },
    { type: 'text', text: 'Answer.', citations: [{ url: 'https://example.com', title: 'Example' }] },
    { type: 'tool-call', id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' },
    { type: 'hosted-tool-call', id: 'ws_1', kind: 'web-search', name: 'web_search', input: { query: 'x' } },
    { type: 'hosted-tool-result', callId: 'ws_1', kind: 'web-search', results: [{ url: 'https://example.com' }] },
  ],
  finishReason: 'tool-calls',
  rawFinishReason: 'tool_use',
  usage: { inputTokens: 10, outputTokens: 5, reasoningTokens: 2 },
};

test('replayed parts collect back into the same response', () => {
  const parts = streamPartsOf(RESPONSE);
  assert.equal(parts[0]!.type, 'response-start');
  assert.equal(parts.at(-1)!.type, 'response-end');
  const collector = new ResponseCollector('');
  for (const part of parts.slice(0, -1)) collector.push(part);
  const end = parts.at(-1)!;
  assert.ok(end.type === 'response-end');
  assert.deepEqual(collector.finish(end, 'unused'), RESPONSE);
});

test('every block has its lifecycle, with its own index', () => {
  const parts = streamPartsOf({ ...RESPONSE, content: [{ type: 'text', text: '' }, { type: 'tool-call', id: 'c', name: 'n', arguments: '' }] });
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-start', 'text-end', 'tool-call-start', 'tool-call-end', 'response-end']);
  assert.deepEqual(parts.slice(1, 5).map((part) => (part as { index: number }).index), [0, 0, 1, 1]);
});
