// The Ollama surface's answer side: canonical responses and stream parts → Ollama JSON and NDJSON,
// errors in `{"error": …}`, the pass-through terminal check, and the local /api/* answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalRequest, ModelCatalog } from '../../src/canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { encodeChatResponse, encodeGenerateResponse } from '../../src/surfaces/ollama/encode-response.ts';
import { OllamaStreamEncoder } from '../../src/surfaces/ollama/encode-stream.ts';
import { encodeOllamaError, encodeOllamaStreamError } from '../../src/surfaces/ollama/encode-error.ts';
import { holdsTerminalLine, ollamaChat } from '../../src/surfaces/ollama/index.ts';
import { listTags, runningModels, showModel, version } from '../../src/surfaces/ollama/local.ts';
import { ollamaSurfaces } from '../../src/surfaces/ollama/routes.ts';

const request: CanonicalRequest = { model: 'qwen3:8b', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling: {}, stream: true };

function response(overrides: Partial<CanonicalResponse>): CanonicalResponse {
  return { id: 'r1', model: 'gpt-4o', created: 1_749_720_615, content: [], finishReason: 'stop', usage: { inputTokens: 21, outputTokens: 4, cachedInputTokens: 8 }, ...overrides };
}

test('chat answer: thinking, text and whole tool calls with object arguments; a tool-call finish is "stop"', () => {
  const body = JSON.parse(encodeChatResponse(response({
    content: [
      { type: 'reasoning', text: 'Two cities.', signature: 'sig-1' },
      { type: 'text', text: 'Checking both.' },
      { type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'tool-call', id: 'call_2', name: 'get_time', arguments: '' },
    ],
    finishReason: 'tool-calls',
  }), request));
  assert.deepEqual(body, {
    model: 'gpt-4o', created_at: '2025-06-12T09:30:15.000Z',
    message: {
      role: 'assistant', content: 'Checking both.', thinking: 'Two cities.',
      tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_time', arguments: {} } }],
    },
    done_reason: 'stop', done: true, prompt_eval_count: 21, eval_count: 4,
  });
});

test('chat answer: length, content filter and the model fallback', () => {
  assert.equal(JSON.parse(encodeChatResponse(response({ content: [{ type: 'text', text: 'Once upon a' }], finishReason: 'length' }), request)).done_reason, 'length');
  assert.equal(JSON.parse(encodeChatResponse(response({ finishReason: 'content-filter' }), request)).done_reason, 'stop');
  const body = JSON.parse(encodeChatResponse(response({ model: '' }), request));
  assert.equal(body.model, 'qwen3:8b');
  assert.deepEqual(body.message, { role: 'assistant', content: '' });
});

test('arguments that are not a JSON object are passed on as text', () => {
  const body = JSON.parse(encodeChatResponse(response({ content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '{"broken' }] }), request));
  assert.equal(body.message.tool_calls[0].function.arguments, '{"broken');
});

test('generate answer: `response`, top-level `thinking`', () => {
  const body = JSON.parse(encodeGenerateResponse(response({ content: [{ type: 'reasoning', text: 'Sky colour.' }, { type: 'text', text: 'The sky' }] }), request));
  assert.deepEqual(body, { model: 'gpt-4o', created_at: '2025-06-12T09:30:15.000Z', response: 'The sky', thinking: 'Sky colour.', done: true, done_reason: 'stop', prompt_eval_count: 21, eval_count: 4 });
});

function lines(text: string): Record<string, any>[] {
  assert.ok(text.endsWith('\n'), 'NDJSON lines end with a newline');
  return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, any>);
}

test('chat stream: a line per delta, tool calls held until their end and written whole, a final done line', () => {
  const encoder = new OllamaStreamEncoder(request, false);
  assert.equal(encoder.contentType, 'application/x-ndjson');
  const parts: StreamPart[] = [
    { type: 'response-start', id: 'r1', model: 'claude-sonnet-4-5', created: 1 },
    { type: 'reasoning-start', index: 0 },
    { type: 'reasoning-delta', index: 0, delta: 'Two ' },
    { type: 'reasoning-delta', index: 0, delta: 'cities.' },
    { type: 'reasoning-signature', index: 0, signature: 'sig-EqQB' },
    { type: 'reasoning-end', index: 0 },
    { type: 'reasoning-start', index: 1, redactedData: 'opaque' },
    { type: 'reasoning-end', index: 1 },
    { type: 'text-start', index: 2 },
    { type: 'text-delta', index: 2, delta: 'Checking' },
    { type: 'text-delta', index: 2, delta: '' },
    { type: 'text-delta', index: 2, delta: ' both.' },
    { type: 'text-end', index: 2 },
    { type: 'tool-call-start', index: 3, id: 'toolu_1', name: 'get_weather' },
    { type: 'tool-call-delta', index: 3, argumentsDelta: '{"ci' },
    { type: 'tool-call-delta', index: 3, argumentsDelta: 'ty":"Paris"}' },
    { type: 'tool-call-end', index: 3 },
    { type: 'tool-call-start', index: 4, id: 'toolu_2', name: 'get_time' },
    { type: 'tool-call-delta', index: 4, argumentsDelta: '{"city":"Tokyo"}' },
    { type: 'tool-call-end', index: 4 },
    { type: 'usage', usage: { inputTokens: 70, outputTokens: 0 } },
    { type: 'response-end', finishReason: 'tool-calls', usage: { inputTokens: 70, outputTokens: 30, reasoningTokens: 5 } },
  ];
  const outputs = parts.map((part) => encoder.encode(part));
  // nothing is written for the argument deltas: the call goes out at its end
  assert.deepEqual(outputs.map((out) => out.length > 0), [true, false, true, true, false, false, false, false, false, true, false, true, false, false, false, false, true, false, false, true, false, true]);
  const all = lines(outputs.join(''));
  for (const line of all) {
    assert.equal(line.model, 'claude-sonnet-4-5');
    assert.ok(!Number.isNaN(Date.parse(line.created_at)));
    assert.equal(line.message.role, 'assistant');
  }
  assert.deepEqual(all.slice(0, -1).map((line) => line.message), [
    { role: 'assistant', content: '' },
    { role: 'assistant', content: '', thinking: 'Two ' },
    { role: 'assistant', content: '', thinking: 'cities.' },
    { role: 'assistant', content: 'Checking' },
    { role: 'assistant', content: ' both.' },
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_time', arguments: { city: 'Tokyo' } } }] },
  ]);
  assert.ok(all.slice(0, -1).every((line) => line.done === false));
  const last = all.at(-1)!;
  assert.deepEqual(last.message, { role: 'assistant', content: '' });
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.equal(last.prompt_eval_count, 70);
  assert.equal(last.eval_count, 30);
  for (const key of ['total_duration', 'prompt_eval_duration', 'eval_duration']) assert.ok(Number.isInteger(last[key]) && last[key] > 0, `${key} > 0`);
});

test('chat stream: usage only from usage parts, and length', () => {
  const encoder = new OllamaStreamEncoder(request, false);
  encoder.encode({ type: 'response-start', id: 'r', model: '', created: 1 });
  encoder.encode({ type: 'usage', usage: { inputTokens: 12, outputTokens: 3 } });
  const last = lines(encoder.encode({ type: 'response-end', finishReason: 'length' }))[0]!;
  assert.equal(last.model, 'qwen3:8b', 'the requested model when the upstream names none');
  assert.equal(last.done_reason, 'length');
  assert.equal(last.prompt_eval_count, 12);
  assert.equal(last.eval_count, 3);
});

test('generate stream: `response` lines, top-level thinking, no tool calls', () => {
  const encoder = new OllamaStreamEncoder(request, true);
  const out = [
    encoder.encode({ type: 'response-start', id: 'r', model: 'm', created: 1 }),
    encoder.encode({ type: 'reasoning-delta', index: 0, delta: 'Hmm.' }),
    encoder.encode({ type: 'text-delta', index: 1, delta: 'The sky' }),
    encoder.encode({ type: 'tool-call-start', index: 2, id: 'c', name: 'f' }),
    encoder.encode({ type: 'tool-call-end', index: 2 }),
    encoder.encode({ type: 'response-end', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 2 } }),
  ].join('');
  const all = lines(out);
  assert.deepEqual(all.map((line) => [line.response, line.thinking, line.done]), [['', undefined, false], ['', 'Hmm.', false], ['The sky', undefined, false], ['', undefined, true]]);
  assert.equal(all.at(-1)!.done_reason, 'stop');
  assert.equal(all.at(-1)!.message, undefined);
});

const rateLimited = new GatewayError(ErrorCode.upstreamStatus, "Provider 'up' answered 429: Rate limit reached.", { status: 429, origin: 'upstream', errorClass: 'rate-limited', retryAfterSeconds: 6.2 });

test('errors: {"error": message} with the status, retry-after; in a stream, an error line', () => {
  const wire = encodeOllamaError(rateLimited);
  assert.equal(wire.status, 429);
  assert.deepEqual(JSON.parse(wire.body), { error: "Provider 'up' answered 429: Rate limit reached." });
  const headers = Object.fromEntries(wire.headers.flatMap((value, i, list) => (i % 2 === 0 ? [[value, list[i + 1]]] : [])));
  assert.equal(headers['retry-after'], '7');
  assert.equal(headers['x-switchyard-error-code'], ErrorCode.upstreamStatus);
  assert.equal(encodeOllamaStreamError(rateLimited).toString(), `{"error":"Provider 'up' answered 429: Rate limit reached."}\n`);
  const encoder = new OllamaStreamEncoder(request, false);
  assert.deepEqual(lines(encoder.encode({ type: 'error', error: rateLimited })), [{ error: "Provider 'up' answered 429: Rate limit reached." }]);
});

test('pass-through terminal: a top-level done:true or error line, never text or arguments that look like one', () => {
  const line = (value: unknown) => `${JSON.stringify(value)}\n`;
  const text = line({ model: 'm', created_at: 't', message: { role: 'assistant', content: 'say "done":true please' }, done: false });
  const args = line({ model: 'm', created_at: 't', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'finish', arguments: { done: true } } }] }, done: false });
  const done = line({ model: 'm', created_at: 't', message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true, eval_count: 3 });
  assert.equal(holdsTerminalLine(Buffer.from(text)), false);
  assert.equal(holdsTerminalLine(Buffer.from(args)), false);
  assert.equal(holdsTerminalLine(Buffer.from(text + args)), false);
  assert.equal(holdsTerminalLine(Buffer.from(text + args + done)), true);
  assert.equal(holdsTerminalLine(Buffer.from('{"model":"m","response":"","done": true}\n')), true);
  assert.equal(holdsTerminalLine(Buffer.from('{"error":"an error was encountered while running the model"}\n')), true);
  assert.equal(ollamaChat.isStreamTerminal(Buffer.from(done)), true);
  assert.equal(ollamaChat.streamFraming, 'ndjson');
});

const catalog: ModelCatalog = {
  list: () => [{ id: 'gpt-4o', ownedBy: 'openai' }, { id: 'smart', ownedBy: 'switchyard' }],
  find: (name) => (name === 'gpt-4o' || name === 'openai:gpt-4o' ? { id: name, ownedBy: 'openai' } : undefined),
};
const local = (body?: unknown): LocalRequest => ({ method: 'POST', path: '/api/show', params: {}, query: '', headers: {}, ...(body !== undefined ? { body } : {}) });

test('tags, show, version and ps in Ollama shapes', () => {
  const tags = JSON.parse(listTags(catalog, local()).body);
  assert.equal(tags.models.length, 2);
  const entry = tags.models[0];
  assert.equal(entry.name, 'gpt-4o');
  assert.equal(entry.model, 'gpt-4o');
  assert.match(entry.digest, /^[0-9a-f]{64}$/);
  assert.ok(!Number.isNaN(Date.parse(entry.modified_at)));
  assert.deepEqual(Object.keys(entry.details).sort(), ['families', 'family', 'format', 'parameter_size', 'parent_model', 'quantization_level']);
  const shown = showModel(catalog, local({ model: 'openai:gpt-4o' }));
  assert.equal(shown.status, 200);
  const info = JSON.parse(shown.body);
  assert.deepEqual(info.capabilities, ['completion', 'tools']);
  assert.match(info.modelfile, /^# Modelfile generated by Switchyard/);
  assert.equal(showModel(catalog, local({ name: 'gpt-4o' })).status, 200, 'the deprecated `name` field');
  const missing = showModel(catalog, local({ model: 'llama9' }));
  assert.equal(missing.status, 404);
  assert.deepEqual(JSON.parse(missing.body), { error: "model 'llama9' not found" });
  assert.equal(showModel(catalog, local()).status, 400);
  assert.match(JSON.parse(version(catalog, local()).body).version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(JSON.parse(runningModels(catalog, local()).body), { models: [] });
});

test('routes: the eight /api paths, errors under /api/ in Ollama shape', () => {
  assert.deepEqual(ollamaSurfaces.routes.map((route) => `${route.method} ${route.path}`), [
    'POST /api/chat', 'POST /api/generate', 'POST /api/embed', 'POST /api/embeddings', 'GET /api/tags', 'POST /api/show', 'GET /api/version', 'GET /api/ps',
  ]);
  assert.deepEqual(ollamaSurfaces.errorPrefixes.map((entry) => [entry.prefix, entry.surface.dialect]), [['/api/', 'ollama']]);
  assert.deepEqual(ollamaSurfaces.routes.filter((route) => route.surface !== undefined).map((route) => [route.surface!.wire, route.surface!.operation]), [
    ['ollama-chat', 'chat'], ['ollama-generate', 'chat'], ['ollama-embed', 'embeddings'], ['ollama-embeddings', 'embeddings'],
  ]);
});
