// The OpenAI converters on both sides, against fixtures shaped like OpenAI's real traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { decodeChatRequest } from '../../src/surfaces/openai/chat/decode-request.ts';
import { encodeChatResponse } from '../../src/surfaces/openai/chat/encode-response.ts';
import { ChatStreamEncoder } from '../../src/surfaces/openai/chat/encode-stream.ts';
import { decodeCompletionsRequest } from '../../src/surfaces/openai/completions/decode-request.ts';
import { encodeChatRequest, rejectForeignFields } from '../../src/providers/openai/chat-encode.ts';
import { ChatStreamDecoder, decodeChatResponse } from '../../src/providers/openai/chat-decode.ts';
import { decodeOpenAIError } from '../../src/providers/openai/errors.ts';
import { parseSse } from '../helpers/sse.ts';

const surfaceRequest = { params: {}, query: '', headers: {} };
const provider = { name: 'up', preset: undefined };

class Collector implements PartSink {
  parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

function decodeStream(text: string, chunkSize: number): StreamPart[] {
  const decoder = new ChatStreamDecoder();
  const sink = new Collector();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) decoder.push(bytes.subarray(i, i + chunkSize), sink);
  decoder.end(sink);
  return sink.parts;
}

test('chat request: every modelled field decodes, unknown fields ride along for same-dialect providers', () => {
  const request = decodeChatRequest({
    model: 'gpt-4o', stream: true, stream_options: { include_usage: true },
    messages: [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }], reasoning_details: [{ type: 'reasoning.text', text: 'hmm', signature: 'sig1' }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
    ],
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true } }],
    tool_choice: { type: 'function', function: { name: 'f' } }, parallel_tool_calls: false,
    temperature: 0.5, top_p: 0.8, max_completion_tokens: 100, stop: 'END', seed: 7,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
    reasoning_effort: 'high', user: 'u1', prompt_cache_key: 'session-9', store: false, logprobs: true,
  }, surfaceRequest);
  assert.equal(request.messages[0]!.role, 'system');
  assert.deepEqual(request.messages[1]!.content[1], { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' }, detail: 'low' });
  assert.deepEqual(request.messages[1]!.content[2], { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } });
  assert.deepEqual(request.messages[2]!.content, [
    { type: 'reasoning', text: 'hmm', signature: 'sig1' },
    { type: 'tool-call', id: 'call_1', name: 'f', arguments: '{"a":1}' },
  ]);
  assert.deepEqual(request.messages[3]!.content, [{ type: 'tool-result', toolCallId: 'call_1', content: 'ok' }]);
  assert.deepEqual(request.toolChoice, { type: 'tool', name: 'f' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.sampling, { temperature: 0.5, topP: 0.8, maxTokens: 100, seed: 7, stop: ['END'] });
  assert.deepEqual(request.responseFormat, { type: 'json-schema', name: 'x', schema: { type: 'object' }, strict: true });
  assert.deepEqual(request.reasoning, { effort: 'high', includeThoughts: true });
  assert.deepEqual(request.metadata, { user: 'u1', sessionId: 'session-9' });
  assert.deepEqual(request.passThrough, { dialect: 'openai', fields: { logprobs: true } }, 'store is inert, logprobs is carried');
  assert.deepEqual(request.surfaceHints, { includeUsage: true });
});

test('chat request: bad shapes are 400s naming the field', () => {
  assert.throws(() => decodeChatRequest({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, surfaceRequest), (error: Error & { param?: string; status?: number }) => error.status === 400 && error.param === 'messages[0].role');
  assert.throws(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'video' }] }] }, surfaceRequest), /messages\[0\]\.content\[0\]\.type/);
  assert.throws(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, surfaceRequest), /temperature/);
});

test('foreign fields are rejected with a 400 naming them; same-dialect fields are merged', () => {
  const request = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: true, n: 2 }, surfaceRequest);
  const encoded = JSON.parse(encodeChatRequest(request, 'm2', provider).body);
  assert.equal(encoded.logprobs, true);
  assert.equal(encoded.n, 2);
  assert.throws(() => rejectForeignFields({ passThrough: { dialect: 'anthropic', fields: { top_k: 5 } } }, 'openai', 'up'), (error: Error & { status?: number; param?: string }) => {
    assert.equal(error.status, 400);
    assert.equal(error.param, 'top_k');
    assert.match(error.message, /'top_k' \(anthropic\) cannot be expressed for an openai provider \('up'\)/);
    return true;
  });
});

test('provider encode: canonical → OpenAI chat body, usage always requested when streaming', () => {
  const request: CanonicalRequest = {
    model: 'alias', stream: true,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'sys' }] },
      { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/jpeg', data: 'QUJD' } }] },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'thinking', signature: 's' }, { type: 'text', text: 'calling' }, { type: 'tool-call', id: 't1', name: 'f', arguments: '{}' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 't1', content: 'boom', isError: true }] },
    ],
    tools: [{ name: 'f', parameters: { type: 'object' } }],
    toolChoice: { type: 'required' },
    sampling: { maxTokens: 50, stop: ['x'], temperature: 0 },
    reasoning: { budgetTokens: 20_000 },
    responseFormat: { type: 'json' },
  };
  const body = JSON.parse(encodeChatRequest(request, 'gpt-x', { name: 'up', preset: 'openai' }).body);
  assert.equal(body.model, 'gpt-x');
  assert.equal(body.max_completion_tokens, 50, 'the OpenAI service takes max_completion_tokens');
  assert.equal(JSON.parse(encodeChatRequest(request, 'gpt-x', provider).body).max_tokens, 50, 'compatible servers take max_tokens');
  assert.deepEqual(body.messages[1].content[1], { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } });
  assert.deepEqual(body.messages[2], { role: 'assistant', content: 'calling', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  assert.deepEqual(body.messages[3], { role: 'tool', tool_call_id: 't1', content: 'Error: boom' });
  assert.equal(body.tool_choice, 'required');
  assert.equal(body.reasoning_effort, 'high', 'a 20k budget maps to high effort');
  assert.deepEqual(body.response_format, { type: 'json_object' });
  assert.deepEqual(body.stream_options, { include_usage: true });
});

test('provider stream decode: tool-call argument deltas, parallel calls, usage after finish, any chunking', () => {
  const fixture = readFileSync(new URL('../fixtures/openai/chat-stream-tools.sse', import.meta.url), 'utf8');
  for (const size of [1, 7, 64, 100_000]) {
    const parts = decodeStream(fixture, size);
    assert.deepEqual(parts.map((part) => part.type), [
      'response-start', 'tool-call-start', 'tool-call-delta', 'tool-call-delta', 'tool-call-end',
      'tool-call-start', 'tool-call-delta', 'tool-call-end', 'usage', 'response-end',
    ], `chunk size ${size}`);
    const args = parts.filter((part) => part.type === 'tool-call-delta' && part.index === 0).map((part) => (part as { argumentsDelta: string }).argumentsDelta).join('');
    assert.equal(args, '{"city": "Paris"}');
    assert.deepEqual(parts[1], { type: 'tool-call-start', index: 0, id: 'call_Paris1', name: 'get_weather' });
    assert.deepEqual(parts.at(-1), { type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'tool_calls', usage: { inputTokens: 82, outputTokens: 40, cachedInputTokens: 64 } });
  }
});

test('provider stream decode: a stream that stops before its finish_reason ends in an error part, never a clean end', () => {
  const events = readFileSync(new URL('../fixtures/openai/chat-stream-tools.sse', import.meta.url), 'utf8').split('\n\n');
  // the tool-call deltas only: neither the finishing chunk, nor the usage chunk, nor [DONE]
  const parts = decodeStream(events.slice(0, 5).join('\n\n') + '\n\n', 50);
  assert.equal(parts.at(-1)!.type, 'error');
  assert.match((parts.at(-1) as unknown as { error: Error }).error.message, /before it was complete/);
  assert.ok(!parts.some((part) => part.type === 'response-end'));
});

test('provider stream decode: a stream that closes after its finish_reason without [DONE] is complete', () => {
  const events = readFileSync(new URL('../fixtures/openai/chat-stream-tools.sse', import.meta.url), 'utf8').split('\n\n');
  // closed after the usage chunk, and (include_usage's edge) right after the finishing chunk
  const withUsage = decodeStream(events.slice(0, 7).join('\n\n') + '\n\n', 50);
  assert.deepEqual(withUsage.at(-1), { type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'tool_calls', usage: { inputTokens: 82, outputTokens: 40, cachedInputTokens: 64 } });
  const withoutUsage = decodeStream(events.slice(0, 6).join('\n\n') + '\n\n', 50);
  assert.deepEqual(withoutUsage.at(-1), { type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'tool_calls' });
  assert.ok(!withoutUsage.some((part) => part.type === 'error'));
  assert.equal(withoutUsage.filter((part) => part.type === 'tool-call-end').length, 2);
});

test('provider stream decode: reasoning_content and reasoning_details signatures become reasoning parts', () => {
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const text = chunk({ role: 'assistant', content: '' }) + chunk({ reasoning_content: 'Let me ' }) + chunk({ reasoning_content: 'think.' })
    + chunk({ reasoning_details: [{ type: 'reasoning.text', text: '', signature: 'sig-1' }] }) + chunk({ content: '42' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
  const parts = decodeStream(text, 13);
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-signature', 'reasoning-end', 'text-start', 'text-delta', 'text-end', 'response-end']);
});

test('provider stream decode: an error event mid-stream becomes an error part', () => {
  const parts = decodeStream('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: {"error":{"message":"overloaded","type":"server_error"}}\n\n', 16);
  assert.equal(parts.at(-1)!.type, 'error');
  assert.match((parts.at(-1) as unknown as { error: Error }).error.message, /overloaded/);
});

test('surface stream encode: role-only first delta, tool call indexes, finish, usage when asked, [DONE]', () => {
  const request = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } }, surfaceRequest);
  const encoder = new ChatStreamEncoder(request);
  const parts: StreamPart[] = [
    { type: 'response-start', id: 'msg_1', model: 'claude-x', created: 5 },
    { type: 'reasoning-start', index: 0 }, { type: 'reasoning-delta', index: 0, delta: 'hm' }, { type: 'reasoning-signature', index: 0, signature: 'S' }, { type: 'reasoning-end', index: 0 },
    { type: 'text-start', index: 1 }, { type: 'text-delta', index: 1, delta: 'Hello' }, { type: 'text-end', index: 1 },
    { type: 'tool-call-start', index: 2, id: 'toolu_1', name: 'f' }, { type: 'tool-call-delta', index: 2, argumentsDelta: '{"a"' }, { type: 'tool-call-delta', index: 2, argumentsDelta: ':1}' }, { type: 'tool-call-end', index: 2 },
    { type: 'tool-call-start', index: 3, id: 'toolu_2', name: 'g' }, { type: 'tool-call-end', index: 3 },
    { type: 'response-end', finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, reasoningTokens: 2 } },
  ];
  const events = parseSse(parts.map((part) => encoder.encode(part)).join(''));
  assert.equal(events.at(-1)!.data, '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  assert.equal(chunks[0].model, 'claude-x');
  assert.equal(chunks.find((chunk) => chunk.choices[0]?.delta.reasoning_content)?.choices[0].delta.reasoning_content, 'hm');
  assert.ok(chunks.some((chunk) => chunk.choices[0]?.delta.reasoning_details?.[0]?.signature === 'S'));
  const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(calls.map((call: { index: number }) => call.index), [0, 0, 0, 1]);
  assert.equal(calls[0].id, 'toolu_1');
  const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
  assert.equal(finish.choices[0].finish_reason, 'tool_calls');
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } });
});

test('surface encode: a whole response, and provider decode of one', () => {
  const body = JSON.parse(encodeChatResponse({
    id: 'r1', model: 'm', created: 1, finishReason: 'length',
    content: [{ type: 'reasoning', text: 'r', signature: 'S' }, { type: 'text', text: 'Hi' }],
    usage: { inputTokens: 3, outputTokens: 2 },
  }));
  assert.equal(body.choices[0].message.content, 'Hi');
  assert.equal(body.choices[0].message.reasoning_content, 'r');
  assert.equal(body.choices[0].finish_reason, 'length');
  const decoded = decodeChatResponse(body);
  assert.deepEqual(decoded.content, [{ type: 'reasoning', text: 'r', signature: 'S' }, { type: 'text', text: 'Hi' }]);
  assert.equal(decoded.finishReason, 'length');
});

test('completions surface: a prompt becomes one user message; multi-prompt batches are refused', () => {
  const request = decodeCompletionsRequest({ model: 'm', prompt: 'Once', max_tokens: 5, echo: true }, surfaceRequest);
  assert.deepEqual(request.messages, [{ role: 'user', content: [{ type: 'text', text: 'Once' }] }]);
  assert.deepEqual(request.passThrough, { dialect: 'openai-completions', fields: { echo: true } });
  assert.throws(() => decodeCompletionsRequest({ model: 'm', prompt: ['a', 'b'] }, surfaceRequest), /single text prompt/);
});

test('errors: classification by status and body', () => {
  const context = decodeOpenAIError(400, Buffer.from('{"error":{"message":"This model\'s maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}'), {}, 'up');
  assert.equal(context.code, 'SWY_ERR_UPSTREAM_CONTEXT_LENGTH');
  assert.equal(context.status, 400);
  assert.equal(context.fallbackAllowed, true);
  const limited = decodeOpenAIError(429, Buffer.from('{"error":{"message":"slow down"}}'), { 'retry-after': '12' }, 'up');
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterSeconds, 12);
  assert.equal(limited.retryable, true);
  const server = decodeOpenAIError(503, Buffer.from('<html>bad gateway</html>'), {}, 'up');
  assert.equal(server.status, 502);
  assert.match(server.message, /Provider 'up' answered 503: <html>bad gateway/);
});
