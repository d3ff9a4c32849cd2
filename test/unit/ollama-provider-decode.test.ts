// The Ollama provider's answer side: /api/chat and /api/generate answers and NDJSON streams →
// canonical, upstream errors, the /api/tags model list and /api/embed answers — from fixtures
// shaped like an Ollama server's traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeOllamaResponse } from '../../src/providers/ollama/decode-response.ts';
import { OllamaStreamDecoder } from '../../src/providers/ollama/decode-stream.ts';
import { ollamaEmbeddingsCodec } from '../../src/providers/ollama/embeddings.ts';
import { decodeOllamaError } from '../../src/providers/ollama/errors.ts';
import { decodeTags } from '../../src/providers/ollama/index.ts';

const text = (name: string): string => readFileSync(new URL(`../fixtures/ollama/${name}`, import.meta.url), 'utf8');
const fixture = (name: string): any => JSON.parse(text(name));

class Collector implements PartSink {
  readonly parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

/** Feeds the bytes in pieces of `size` (0 = whole), as a socket might split them. */
function decode(bytes: string, size: number, end = true): StreamPart[] {
  const decoder = new OllamaStreamDecoder();
  const sink = new Collector();
  const buffer = Buffer.from(bytes);
  if (size === 0) decoder.push(buffer, sink);
  else for (let at = 0; at < buffer.length; at += size) decoder.push(buffer.subarray(at, at + size), sink);
  if (end) decoder.end(sink);
  return sink.parts;
}

test('chat answer with thinking and parallel tool calls: ids synthesised, finish is tool-calls, usage counted', () => {
  const response = decodeOllamaResponse(fixture('chat-response-tool-calls.json'));
  assert.equal(response.model, 'qwen3:8b');
  assert.equal(response.created, Math.floor(Date.parse('2025-06-12T09:30:15.123Z') / 1000));
  assert.match(response.id, /^ollama-/);
  assert.equal(response.content.length, 3);
  assert.deepEqual(response.content[0], { type: 'reasoning', text: 'I need the weather in Paris and the time in Tokyo.' });
  const calls = response.content.slice(1) as { type: string; id: string; name: string; arguments: string }[];
  assert.deepEqual(calls.map((call) => [call.type, call.name, JSON.parse(call.arguments)]), [['tool-call', 'get_weather', { city: 'Paris' }], ['tool-call', 'get_time', { city: 'Tokyo' }]]);
  assert.ok(calls.every((call) => /^call_[A-Za-z0-9_-]+$/.test(call.id)), 'ids fit every provider\'s pattern');
  assert.notEqual(calls[0]!.id, calls[1]!.id);
  assert.equal(response.finishReason, 'tool-calls');
  assert.equal(response.rawFinishReason, 'stop');
  assert.deepEqual(response.usage, { inputTokens: 122, outputTokens: 33 });
});

test('chat answer cut by num_predict is a length finish; ids sent by newer servers are kept', () => {
  const response = decodeOllamaResponse(fixture('chat-response-length.json'));
  assert.deepEqual(response.content, [{ type: 'text', text: 'Once upon a' }]);
  assert.equal(response.finishReason, 'length');
  assert.deepEqual(response.usage, { inputTokens: 12, outputTokens: 3 });
  const withId = decodeOllamaResponse({ model: 'm', created_at: '2025-06-12T09:30:15Z', message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_abc', function: { index: 0, name: 'f', arguments: { a: 1 } } }] }, done: true, done_reason: 'stop' });
  assert.deepEqual(withId.content, [{ type: 'tool-call', id: 'call_abc', name: 'f', arguments: '{"a":1}' }]);
  assert.equal(decodeOllamaResponse({ model: 'm', created_at: 'x', message: { role: 'assistant', content: '' }, done: true, done_reason: 'load' }).finishReason, 'other');
  assert.throws(() => decodeOllamaResponse('nope'), /malformed/);
});

test('generate answer: `response` is the text', () => {
  const response = decodeOllamaResponse(fixture('generate-response.json'));
  assert.deepEqual(response.content, [{ type: 'text', text: 'The sky is blue because of Rayleigh scattering.' }]);
  assert.equal(response.finishReason, 'stop');
  assert.deepEqual(response.usage, { inputTokens: 26, outputTokens: 290 });
});

test('chat stream: thinking and text deltas, whole tool calls as start+delta+end, the done line ends it — however the bytes are split', () => {
  const bytes = text('chat-stream-thinking-tools.ndjson');
  const reference = decode(bytes, 0);
  const shape = (parts: StreamPart[]) => parts.map((part) => {
    switch (part.type) {
      case 'response-start': return `start ${part.model}`;
      case 'reasoning-delta': case 'text-delta': return `${part.type}@${part.index} ${part.delta}`;
      case 'tool-call-start': return `tool-call-start@${part.index} ${part.name} ${/^call_/.test(part.id)}`;
      case 'tool-call-delta': return `tool-call-delta@${part.index} ${part.argumentsDelta}`;
      case 'response-end': return `end ${part.finishReason} ${part.rawFinishReason} ${part.usage?.inputTokens}/${part.usage?.outputTokens}`;
      case 'error': return `error ${part.error.message}`;
      default: return 'index' in part ? `${part.type}@${part.index}` : part.type;
    }
  });
  assert.deepEqual(shape(reference), [
    'start qwen3:8b',
    'reasoning-start@0', 'reasoning-delta@0 I need', 'reasoning-delta@0  the weather.', 'reasoning-end@0',
    'text-start@1', 'text-delta@1 Checking', 'text-delta@1  both.', 'text-end@1',
    'tool-call-start@2 get_weather true', 'tool-call-delta@2 {"city":"Paris"}', 'tool-call-end@2',
    'tool-call-start@3 get_time true', 'tool-call-delta@3 {"city":"Tokyo"}', 'tool-call-end@3',
    'end tool-calls stop 122/33',
  ]);
  for (const size of [1, 7, 64]) assert.deepEqual(shape(decode(bytes, size)), shape(reference), `split every ${size} bytes`);
});

test('generate stream: top-level thinking and response', () => {
  const parts = decode(text('generate-stream.ndjson'), 5);
  const deltas = parts.flatMap((part) => (part.type === 'reasoning-delta' || part.type === 'text-delta' ? [`${part.type}:${part.delta}`] : []));
  assert.deepEqual(deltas, ['reasoning-delta:Sky', 'reasoning-delta: colour.', 'text-delta:The', 'text-delta: sky']);
  const last = parts.at(-1)!;
  assert.equal(last.type, 'response-end');
  assert.deepEqual(last.type === 'response-end' && last.usage, { inputTokens: 26, outputTokens: 259 });
});

test('a stream without its done line ends with an error, never a clean end', () => {
  const lines = text('chat-stream-thinking-tools.ndjson').split('\n');
  const parts = decode(`${lines.slice(0, 4).join('\n')}\n`, 3);
  assert.equal(parts.filter((part) => part.type === 'response-end').length, 0);
  const last = parts.at(-1)!;
  assert.equal(last.type, 'error');
  assert.match(last.type === 'error' ? last.error.message : '', /before it was complete/);
  // a final line without its newline still counts once the upstream ends
  const unterminated = decode(lines.join('\n').trimEnd(), 0);
  assert.equal(unterminated.at(-1)!.type, 'response-end');
});

test('an error line mid-stream and a line that is not JSON become error parts; nothing follows them', () => {
  const first = text('chat-stream-thinking-tools.ndjson').split('\n')[2]!;
  const failed = decode(`${first}\n{"error":"an error was encountered while running the model: unexpected EOF"}\n${first}\n`, 0);
  assert.deepEqual(failed.map((part) => part.type), ['response-start', 'text-start', 'text-delta', 'error']);
  const error = failed.at(-1)!;
  assert.ok(error.type === 'error' && /unexpected EOF/.test(error.error.message) && error.error.status === 502);
  const malformed = decode(`${first}\nnot json\n`, 0);
  assert.equal(malformed.at(-1)!.type, 'error');
  assert.equal(malformed.filter((part) => part.type === 'error').length, 1, 'one terminal error, even after end()');
});

test('upstream errors: the Ollama message, the status classified (404 passed on, 5xx → 502, 429 with retry-after)', () => {
  const notFound = decodeOllamaError(404, Buffer.from(text('error-model-not-found.json')), {}, 'local');
  assert.equal(notFound.status, 404);
  assert.equal(notFound.message, "Provider 'local' answered 404: model \"llama9\" not found, try pulling it first");
  assert.equal(notFound.fallbackAllowed, true);
  const crashed = decodeOllamaError(500, Buffer.from('{"error":"llama runner process has terminated: exit status 2"}'), {}, 'local');
  assert.equal(crashed.status, 502);
  assert.equal(crashed.retryable, true);
  const limited = decodeOllamaError(429, Buffer.from('{"error":"too many requests"}'), { 'retry-after': '3' }, 'cloud');
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterSeconds, 3);
  const context = decodeOllamaError(400, Buffer.from('{"error":"the input length exceeds the context length"}'), {}, 'local');
  assert.equal(context.code, 'SWY_ERR_UPSTREAM_CONTEXT_LENGTH');
  assert.match(decodeOllamaError(502, Buffer.from('<html>Bad Gateway</html>'), {}, 'local').message, /Bad Gateway/);
});

test('/api/tags: names, with `:latest` models also under their bare name', () => {
  assert.deepEqual(decodeTags(fixture('tags.json')), ['llama3.2:latest', 'llama3.2', 'deepseek-r1:8b']);
  assert.deepEqual(decodeTags({}), []);
  assert.deepEqual(decodeTags({ models: [{ model: 'm:1' }, { name: 7 }, null] }), ['m:1']);
});

test('/api/embed answers: vectors in input order, prompt_eval_count as input tokens; a count mismatch is a protocol error', () => {
  const request = { model: 'all-minilm', inputs: ['Why is the sky blue?', 'Why is the grass green?'] };
  const response = ollamaEmbeddingsCodec.decodeResponse(fixture('embed-response.json'), request);
  assert.equal(response.model, 'all-minilm');
  assert.equal(response.embeddings.length, 2);
  assert.deepEqual(response.embeddings[1], [-0.0098027075, 0.06042469, 0.025257962]);
  assert.deepEqual(response.usage, { inputTokens: 8 });
  assert.throws(() => ollamaEmbeddingsCodec.decodeResponse({ model: 'm', embeddings: [[1]] }, request), /1 embeddings for 2 inputs/);
  assert.throws(() => ollamaEmbeddingsCodec.decodeResponse({ embedding: [1] }, request), /no embeddings array/);
});
