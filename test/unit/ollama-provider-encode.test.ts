// The Ollama provider's request side: canonical → /api/chat (and /api/generate), every row of the
// translation matrix, the think mapping, pass-through fields, and /api/embed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { ollamaEmbeddingsCodec } from '../../src/providers/ollama/embeddings.ts';
import { encodeOllamaRequest, encodeThink } from '../../src/providers/ollama/encode-request.ts';
import { ollamaProvider } from '../../src/providers/ollama/index.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const provider = { name: 'local-ollama', preset: 'ollama' };
const weather = { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const time = { name: 'get_time', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

function base(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'asked', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], sampling: {}, stream: false, ...overrides };
}

function encode(request: CanonicalRequest, model = 'qwen3:8b'): { path: string; headers: string[]; body: Record<string, any> } {
  const upstream = encodeOllamaRequest(request, model, provider);
  return { path: upstream.path, headers: upstream.headers, body: JSON.parse(upstream.body) };
}

function rejects400(action: () => unknown, param: string | undefined, message?: RegExp): void {
  assert.throws(action, (error: GatewayError) => {
    assert.equal(error.status, 400);
    if (param !== undefined) assert.equal(error.param, param);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

test('a whole conversation: system, images as base64, thinking kept as text, tool calls with object arguments, tool results named', () => {
  const { path, headers, body } = encode(base({
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Use tools.', cacheControl: { type: 'ephemeral' } }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo? And this?' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } }] },
      { role: 'assistant', content: [
        { type: 'reasoning', text: 'Two cities.', signature: 'sig-EqQBCgIYAhIM' },
        { type: 'reasoning', text: '', redactedData: 'opaque-encrypted' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool-call', id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool-call', id: 'toolu_02', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      ] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_01', content: '18°C and sunny' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_02', content: [{ type: 'text', text: 'service timed out' }], isError: true }] },
      { role: 'user', content: [{ type: 'text', text: 'Thanks.' }] },
    ],
  }));
  assert.equal(path, '/api/chat');
  assert.deepEqual(headers, ['accept', 'application/json']);
  assert.deepEqual(body, {
    model: 'qwen3:8b',
    messages: [
      { role: 'system', content: 'You are terse.\nUse tools.' },
      { role: 'user', content: 'Weather in Paris and Oslo? And this?', images: [PNG] },
      {
        role: 'assistant', content: 'Checking.', thinking: 'Two cities.',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_weather', arguments: { city: 'Oslo' } } }],
      },
      { role: 'tool', content: '18°C and sunny', tool_name: 'get_weather' },
      { role: 'tool', content: 'Error: service timed out', tool_name: 'get_weather' },
      { role: 'user', content: 'Thanks.' },
    ],
    stream: false,
  });
});

test('sampling settings become options; stream asks for NDJSON', () => {
  const { headers, body } = encode(base({
    stream: true,
    sampling: { temperature: 0.2, topP: 0.9, topK: 40, maxTokens: 64, stop: ['END'], seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25 },
  }));
  assert.deepEqual(headers, ['accept', 'application/x-ndjson']);
  assert.equal(body.stream, true);
  assert.deepEqual(body.options, { temperature: 0.2, top_p: 0.9, top_k: 40, num_predict: 64, stop: ['END'], seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25 });
});

test('tools and tool choice: auto and required send the tools, none sends none, a named tool is the only one offered', () => {
  const tools = [weather, { ...time, strict: true }];
  const names = (request: CanonicalRequest) => (encode(request).body.tools ?? []).map((tool: { function: { name: string } }) => tool.function.name);
  assert.deepEqual(encode(base({ tools })).body.tools, [
    { type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: weather.parameters } },
    { type: 'function', function: { name: 'get_time', parameters: time.parameters } },
  ]);
  assert.deepEqual(names(base({ tools, toolChoice: { type: 'auto' } })), ['get_weather', 'get_time']);
  assert.deepEqual(names(base({ tools, toolChoice: { type: 'required' } })), ['get_weather', 'get_time']);
  assert.deepEqual(names(base({ tools, toolChoice: { type: 'none' } })), []);
  assert.deepEqual(names(base({ tools, toolChoice: { type: 'tool', name: 'get_time' } })), ['get_time']);
  rejects400(() => encode(base({ tools, toolChoice: { type: 'tool', name: 'nope' } })), 'tool_choice');
});

test('JSON mode and structured output go in `format`', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
  assert.equal(encode(base({ responseFormat: { type: 'json' } })).body.format, 'json');
  assert.deepEqual(encode(base({ responseFormat: { type: 'json-schema', name: 'person', schema, strict: true } })).body.format, schema);
  assert.equal(encode(base({ responseFormat: { type: 'text' } })).body.format, undefined);
});

test('reasoning → think: levels for gpt-oss, a switch for other thinking models', () => {
  const cases: [CanonicalRequest['reasoning'], string, unknown][] = [
    [undefined, 'qwen3:8b', undefined],
    [{ includeThoughts: true }, 'qwen3:8b', true],
    [{ includeThoughts: false }, 'qwen3:8b', false],
    [{ effort: 'none', includeThoughts: false }, 'gpt-oss:20b', false],
    [{ effort: 'minimal' }, 'gpt-oss:20b', 'low'],
    [{ effort: 'low' }, 'gpt-oss:20b', 'low'],
    [{ effort: 'medium', includeThoughts: true }, 'gpt-oss:120b', 'medium'],
    [{ effort: 'high' }, 'gpt-oss:20b', 'high'],
    [{ effort: 'xhigh' }, 'gpt-oss:20b', 'high'],
    [{ effort: 'high' }, 'deepseek-r1:8b', true],
    [{ budgetTokens: 1024 }, 'gpt-oss:20b', 'low'],
    [{ budgetTokens: 2048, includeThoughts: true }, 'gpt-oss:20b', 'low'],
    [{ budgetTokens: 8192 }, 'gpt-oss:20b', 'medium'],
    [{ budgetTokens: 16_384 }, 'gpt-oss:20b', 'high'],
    [{ budgetTokens: 16_384 }, 'qwen3:8b', true],
    [{ budgetTokens: 0 }, 'qwen3:8b', false],
  ];
  for (const [reasoning, model, think] of cases) {
    assert.equal(encodeThink(reasoning, model), think, `${JSON.stringify(reasoning)} on ${model}`);
    assert.equal(encode(base(reasoning === undefined ? {} : { reasoning }), model).body.think, think);
  }
});

test('pass-through: an Ollama caller\'s fields and inert fields are merged (options into options); another dialect\'s are refused', () => {
  const { body } = encode(base({
    sampling: { temperature: 0.1 },
    passThrough: { dialect: 'ollama', fields: { 'options.repeat_penalty': 1.1, logprobs: true }, inert: { keep_alive: '10m', 'options.num_ctx': 8192 } },
  }));
  assert.deepEqual(body.options, { temperature: 0.1, repeat_penalty: 1.1, num_ctx: 8192 });
  assert.equal(body.keep_alive, '10m');
  assert.equal(body.logprobs, true);
  rejects400(() => encode(base({ passThrough: { dialect: 'openai', fields: { logit_bias: { 50256: -100 } } } })), 'logit_bias', /'logit_bias' \(openai\) cannot be expressed for an ollama provider \('local-ollama'\)/);
  // inert fields of another dialect change nothing about the answer: dropped
  assert.equal(encode(base({ passThrough: { dialect: 'gemini', fields: {}, inert: { cachedContent: 'x' } } })).body.cachedContent, undefined);
});

test('generate-only fields send a prompt back to /api/generate; a chat cannot carry them', () => {
  const upstream = encode(base({
    stream: true,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Complete the code.' }] },
      { role: 'user', content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } }, { type: 'text', text: 'def compute_gcd(a, b):' }] },
    ],
    sampling: { temperature: 0 },
    reasoning: { includeThoughts: false },
    passThrough: { dialect: 'ollama', fields: { suffix: '    return result' }, inert: { keep_alive: 0 } },
  }));
  assert.equal(upstream.path, '/api/generate');
  assert.deepEqual(upstream.body, {
    model: 'qwen3:8b', prompt: 'def compute_gcd(a, b):', system: 'Complete the code.', images: [PNG],
    options: { temperature: 0 }, think: false, stream: true, suffix: '    return result', keep_alive: 0,
  });
  const chat = encode(base({ passThrough: { dialect: 'ollama', fields: {}, inert: { suffix: 'ignored by /api/chat' } } }));
  assert.equal(chat.path, '/api/chat', 'a chat caller\'s copy of a generate field does not change the endpoint');
  rejects400(() => encode(base({
    messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }, { role: 'assistant', content: [{ type: 'text', text: 'b' }] }, { role: 'user', content: [{ type: 'text', text: 'c' }] }],
    passThrough: { dialect: 'ollama', fields: { raw: true } },
  })), 'raw', /single prompt/);
});

test('what Ollama cannot take is refused, naming the part: audio, files, URL images, arguments that are not an object', () => {
  rejects400(() => encode(base({ messages: [{ role: 'user', content: [{ type: 'audio', source: { kind: 'base64', mediaType: 'audio/wav', data: 'UklGR' }, format: 'wav' }] }] })), 'messages[0].content[0]', /text and images only/);
  rejects400(() => encode(base({ messages: [{ role: 'user', content: [{ type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBER' } }] }] })), 'messages[0].content[0]');
  rejects400(() => encode(base({ messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }] }] })), 'messages[0].content[0]', /base64/);
  rejects400(() => encode(base({ messages: [{ role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '[1,2]' }] }] })), 'messages[0].content[0].arguments');
  assert.deepEqual(encode(base({ messages: [{ role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '' }] }] })).body.messages[0].tool_calls, [{ function: { name: 'f', arguments: {} } }]);
});

test('embeddings → /api/embed with dimensions and an Ollama caller\'s extras', () => {
  const upstream = ollamaEmbeddingsCodec.encodeRequest({
    model: 'asked', inputs: ['a', 'b'], dimensions: 256,
    passThrough: { dialect: 'ollama', fields: {}, inert: { truncate: false, keep_alive: '5m' } },
  }, 'nomic-embed-text', provider);
  assert.equal(upstream.path, '/api/embed');
  assert.deepEqual(JSON.parse(upstream.body), { model: 'nomic-embed-text', input: ['a', 'b'], dimensions: 256, truncate: false, keep_alive: '5m' });
  assert.throws(() => ollamaEmbeddingsCodec.encodeRequest({ model: 'm', inputs: ['a'], passThrough: { dialect: 'openai', fields: { user: 'u' } } }, 'm', provider), /cannot be expressed/);
});

test('the adapter: pass-through paths per wire, discovery on /api/tags, media inline', () => {
  assert.equal(ollamaProvider.dialect, 'ollama');
  assert.equal(ollamaProvider.mediaUrls, 'inline');
  assert.deepEqual([...ollamaProvider.nativeWires], ['ollama-chat', 'ollama-generate', 'ollama-embed', 'ollama-embeddings']);
  const request = { params: {}, query: '', headers: {} };
  assert.deepEqual(['ollama-chat', 'ollama-generate', 'ollama-embed', 'ollama-embeddings'].map((wire) => ollamaProvider.passThroughPath(wire as never, 'm', request, true)), ['/api/chat', '/api/generate', '/api/embed', '/api/embeddings']);
  assert.equal(ollamaProvider.modelListPath, '/api/tags');
  assert.deepEqual(ollamaProvider.forwardHeaders(request), []);
});
