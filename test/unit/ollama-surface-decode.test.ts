// The Ollama surface's request side: inspect, /api/chat and /api/generate → canonical, and the
// two embeddings shapes, against fixtures shaped like what the `ollama` clients send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { SurfaceRequest } from '../../src/canonical/adapters.ts';
import type { GatewayError } from '../../src/canonical/errors.ts';
import { decodeChatRequest, decodeGenerateRequest, sniffImageType } from '../../src/surfaces/ollama/decode-request.ts';
import { embedCodec, legacyEmbeddingsCodec } from '../../src/surfaces/ollama/embeddings.ts';
import { inspectOllamaRequest } from '../../src/surfaces/ollama/inspect.ts';

const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../fixtures/ollama/${name}`, import.meta.url), 'utf8'));
const none: SurfaceRequest = { params: {}, query: '', headers: {} };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

function rejects400(action: () => unknown, param: string | undefined, message?: RegExp): void {
  assert.throws(action, (error: GatewayError) => {
    assert.equal(error.status, 400);
    if (param !== undefined) assert.equal(error.param, param);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

test('a full chat request: system, images, thinking, tool calls paired with results, tools, format, options', () => {
  const request = decodeChatRequest(fixture('chat-request.json'), none);
  assert.equal(request.model, 'qwen3:8b');
  assert.equal(request.stream, true, 'stream defaults to true');
  assert.deepEqual(request.messages, [
    { role: 'system', content: [{ type: 'text', text: 'You are a weather assistant.' }] },
    { role: 'user', content: [
      { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } },
      { type: 'text', text: 'What is in this picture, and what is the weather in Paris and Oslo?' },
    ] },
    { role: 'assistant', content: [
      { type: 'reasoning', text: 'The user wants the weather in two cities; I will call the tool twice.' },
      { type: 'tool-call', id: 'call_2_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'tool-call', id: 'call_2_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_2_0', content: '18°C and sunny' }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_2_1', content: 'service timed out' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Paris is 18°C and sunny; Oslo did not answer.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Thanks. Answer as JSON.' }] },
  ]);
  assert.deepEqual(request.tools, [{
    name: 'get_weather', description: 'Get the current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'The name of the city' } }, required: ['city'] },
  }]);
  assert.deepEqual(request.responseFormat, { type: 'json-schema', name: 'response', schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] } });
  assert.deepEqual(request.sampling, { temperature: 0.2, topP: 0.9, topK: 40, maxTokens: 256, seed: 42, presencePenalty: 0.5, frequencyPenalty: 0.25, stop: ['<|im_end|>'] });
  assert.deepEqual(request.reasoning, { includeThoughts: true });
  assert.deepEqual(request.passThrough, {
    dialect: 'ollama',
    fields: { 'options.repeat_penalty': 1.1 },
    inert: { 'options.num_ctx': 8192, keep_alive: '10m' },
  });
  assert.equal(request.toolChoice, undefined, 'Ollama has no tool_choice');
});

test('stream is true unless it is false', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.equal(decodeChatRequest({ ...base }, none).stream, true);
  assert.equal(decodeChatRequest({ ...base, stream: true }, none).stream, true);
  assert.equal(decodeChatRequest({ ...base, stream: false }, none).stream, false);
  assert.equal(inspectOllamaRequest('chat', base).stream, true);
  assert.equal(inspectOllamaRequest('chat', { ...base, stream: false }).stream, false);
  assert.equal(inspectOllamaRequest('generate', { model: 'm', prompt: 'hi' }).stream, true);
  assert.equal(inspectOllamaRequest('embed', { model: 'm', input: 'hi' }).stream, false);
});

test('format: "json" is JSON mode, an object is a schema, anything else is refused', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.deepEqual(decodeChatRequest({ ...base, format: 'json' }, none).responseFormat, { type: 'json' });
  assert.equal(decodeChatRequest({ ...base, format: '' }, none).responseFormat, undefined);
  rejects400(() => decodeChatRequest({ ...base, format: 'yaml' }, none), 'format');
});

test('think: a switch or a level', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.deepEqual(decodeChatRequest({ ...base, think: false }, none).reasoning, { includeThoughts: false });
  for (const level of ['low', 'medium', 'high']) assert.deepEqual(decodeChatRequest({ ...base, think: level }, none).reasoning, { effort: level, includeThoughts: true });
  rejects400(() => decodeChatRequest({ ...base, think: 'max' }, none), 'think');
  assert.equal(decodeChatRequest(base, none).reasoning, undefined);
});

test('tool results: explicit tool_call_id wins, a nameless result answers the oldest call, an orphan gets its own id', () => {
  const request = decodeChatRequest({
    model: 'm',
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_x', function: { name: 'a', arguments: {} } }, { function: { name: 'b', arguments: '{"k":1}' } }, { function: { name: 'a' } }] },
      { role: 'tool', content: 'B', tool_name: 'b' },
      { role: 'tool', content: 'A2', tool_call_id: 'call_1_2' },
      { role: 'tool', content: 'A1' },
      { role: 'tool', content: 'stray', tool_name: 'zzz' },
    ],
  }, none);
  const calls = request.messages[1]!.content;
  assert.deepEqual(calls.map((part) => (part.type === 'tool-call' ? [part.id, part.arguments] : undefined)), [['call_x', '{}'], ['call_1_1', '{"k":1}'], ['call_1_2', '{}']]);
  const results = request.messages.slice(2).map((message) => (message.content[0] as { toolCallId: string }).toolCallId);
  assert.deepEqual(results, ['call_1_1', 'call_1_2', 'call_x', 'call_5_result']);
});

test('images: bare base64 with the type read from its bytes, or a data URL; images in a tool result', () => {
  assert.equal(sniffImageType(PNG), 'image/png');
  assert.equal(sniffImageType('/9j/4AAQSkZJRg=='), 'image/jpeg');
  assert.equal(sniffImageType('R0lGODlhAQABAAAAACw='), 'image/gif');
  assert.equal(sniffImageType('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA'), 'image/webp');
  const request = decodeChatRequest({
    model: 'm',
    messages: [
      { role: 'user', content: '', images: ['data:image/webp;base64,UklGRg=='] },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'shot', arguments: {} } }] },
      { role: 'tool', content: 'here', tool_name: 'shot', images: [PNG] },
    ],
  }, none);
  assert.deepEqual(request.messages[0]!.content, [{ type: 'image', source: { kind: 'base64', mediaType: 'image/webp', data: 'UklGRg==' } }]);
  assert.deepEqual(request.messages[2]!.content, [{ type: 'tool-result', toolCallId: 'call_1_0', content: [{ type: 'text', text: 'here' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } }] }]);
});

test('refusals name the field: empty chat, unknown role, images where Ollama has none, bad options', () => {
  rejects400(() => decodeChatRequest({ model: 'm', messages: [] }, none), 'messages', /Ollama provider/);
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, none), 'messages[0].role');
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'system', content: 'x', images: [PNG] }] }, none), 'messages[0].images');
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x', images: [1] }] }, none), 'messages[0].images[0]');
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], options: { temperature: 'hot' } }, none), 'options.temperature');
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], options: { stop: [1] } }, none), 'options.stop');
  rejects400(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'retrieval' }] }, none), 'tools[0]');
});

test('options: num_predict below zero means no limit; stop as a string; roles are case-insensitive', () => {
  const request = decodeChatRequest({ model: 'm', messages: [{ role: 'User', content: 'x' }], options: { num_predict: -1, stop: 'END' } }, none);
  assert.equal(request.sampling.maxTokens, undefined);
  assert.deepEqual(request.sampling.stop, ['END']);
  assert.equal(request.messages[0]!.role, 'user');
  assert.equal(request.passThrough, undefined);
});

test('unknown top-level fields are passed on; keep_alive, truncate and runner options are inert', () => {
  const request = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 3, keep_alive: 0, truncate: true, options: { num_gpu: 1, mirostat: 2 } }, none);
  assert.deepEqual(request.passThrough, { dialect: 'ollama', fields: { logprobs: true, top_logprobs: 3, 'options.mirostat': 2 }, inert: { keep_alive: 0, truncate: true, 'options.num_gpu': 1 } });
  // /api/generate's fields mean nothing to Ollama's /api/chat, which ignores them
  const chat = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], suffix: 'y', raw: true }, none);
  assert.deepEqual(chat.passThrough, { dialect: 'ollama', fields: {}, inert: { suffix: 'y', raw: true } });
});

test('generate: prompt, system and images become turns; suffix is carried for an Ollama provider only', () => {
  const request = decodeGenerateRequest(fixture('generate-request.json'), none);
  assert.deepEqual(request.messages, [
    { role: 'system', content: [{ type: 'text', text: 'Complete the code.' }] },
    { role: 'user', content: [{ type: 'text', text: 'def compute_gcd(a, b):' }] },
  ]);
  assert.equal(request.stream, false);
  assert.deepEqual(request.sampling, { temperature: 0 });
  assert.deepEqual(request.passThrough, { dialect: 'ollama', fields: { suffix: '    return result' } });
  const plain = decodeGenerateRequest({ model: 'm', prompt: 'hi', images: [PNG], raw: false, suffix: '', context: [], template: '' }, none);
  assert.equal(plain.passThrough, undefined, 'default values of generate-only fields need nothing');
  assert.equal(plain.messages[0]!.content[0]!.type, 'image');
  const raw = decodeGenerateRequest({ model: 'm', prompt: '[INST] hi [/INST]', raw: true, context: [1, 2, 3], template: '{{ .Prompt }}' }, none);
  assert.deepEqual(raw.passThrough?.fields, { raw: true, context: [1, 2, 3], template: '{{ .Prompt }}' });
  rejects400(() => decodeGenerateRequest({ model: 'm', prompt: '' }, none), 'prompt', /Ollama provider/);
});

test('inspect: model required, stream a boolean, shapes checked per path', () => {
  rejects400(() => inspectOllamaRequest('chat', { messages: [] }), 'model', /^model is required$/);
  rejects400(() => inspectOllamaRequest('chat', { model: 3 }), 'model');
  rejects400(() => inspectOllamaRequest('chat', { model: 'm', stream: 'yes' }), 'stream');
  rejects400(() => inspectOllamaRequest('chat', { model: 'm', messages: {} }), 'messages');
  rejects400(() => inspectOllamaRequest('chat', { model: 'm', messages: ['hi'] }), 'messages[0]');
  rejects400(() => inspectOllamaRequest('generate', { model: 'm', prompt: 7 }), 'prompt');
  rejects400(() => inspectOllamaRequest('embed', { model: 'm' }), 'input');
  rejects400(() => inspectOllamaRequest('embeddings', { model: 'm', input: 'x' }), 'prompt');
  rejects400(() => inspectOllamaRequest('chat', [1]), undefined, /JSON object/);
  assert.deepEqual(inspectOllamaRequest('chat', { model: 'qwen3:8b' }), { model: 'qwen3:8b', stream: true });
});

test('embed: many inputs, dimensions, inert truncate and keep_alive; answers in both Ollama shapes', () => {
  const request = embedCodec.decodeRequest(fixture('embed-request.json'), none);
  assert.deepEqual(request, {
    model: 'all-minilm', inputs: ['Why is the sky blue?', 'Why is the grass green?'], dimensions: 3,
    passThrough: { dialect: 'ollama', fields: {}, inert: { truncate: false, keep_alive: '5m' } },
  });
  assert.deepEqual(embedCodec.decodeRequest({ model: 'm', input: 'one' }, none).inputs, ['one']);
  rejects400(() => embedCodec.decodeRequest({ model: 'm', input: [1, 2] }, none), 'input');
  rejects400(() => embedCodec.decodeRequest({ model: 'm', input: 'x', dimensions: -1 }, none), 'dimensions');
  const response = { model: 'all-minilm', embeddings: [[0.1, 0.2], [0.3, 0.4]], usage: { inputTokens: 8 } };
  assert.deepEqual(JSON.parse(embedCodec.encodeResponse(response, request, {})), { model: 'all-minilm', embeddings: [[0.1, 0.2], [0.3, 0.4]], prompt_eval_count: 8 });
  const legacy = legacyEmbeddingsCodec.decodeRequest({ model: 'nomic-embed-text', prompt: 'The sky is blue', options: { temperature: 0 } }, none);
  assert.deepEqual(legacy, { model: 'nomic-embed-text', inputs: ['The sky is blue'], passThrough: { dialect: 'ollama', fields: { 'options.temperature': 0 } } });
  assert.deepEqual(JSON.parse(legacyEmbeddingsCodec.encodeResponse({ model: 'x', embeddings: [[0.5, -0.5]], usage: { inputTokens: 4 } }, legacy, {})), { embedding: [0.5, -0.5] });
});
