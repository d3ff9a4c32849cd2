// The real `@google/genai` SDK pointed at the gateway (`httpOptions.baseUrl`), talking to an
// upstream of another dialect (the OpenAI mock): generateContent, streaming with function calls
// and thinking, countTokens, embedContent, models.list, /v1 and /v1beta, and failures as the SDK
// raises them (ApiError with the HTTP status).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type, type Content } from '@google/genai';
import { mockEmbedding, openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-e2e-google-client';
const TEXT = 'Hello from the mock.';

type Json = Record<string, any>;

const chunk = (model: string, delta: Json, finish: string | null = null) => JSON.stringify({
  id: 'chatcmpl-genai', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const usage = (model: string) => JSON.stringify({
  id: 'chatcmpl-genai', object: 'chat.completion.chunk', created: 1, model, choices: [],
  usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 5 } },
});

/** An OpenAI-compatible model that thinks, then calls two tools in parallel, arguments in pieces. */
function toolStream(request: RecordedRequest): Behavior {
  const model = String(request.body.model);
  return {
    kind: 'stream',
    events: [
      chunk(model, { role: 'assistant', content: '' }),
      chunk(model, { reasoning_content: 'Two cities, ' }),
      chunk(model, { reasoning_content: 'two calls.' }),
      chunk(model, { content: 'Checking.' }),
      chunk(model, { tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk(model, { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk(model, { tool_calls: [{ index: 1, id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{"city":"Tokyo"}' } }] }),
      chunk(model, {}, 'tool_calls'),
      usage(model),
      '[DONE]',
    ],
  };
}

const behaviors: Record<string, (request: RecordedRequest) => Behavior> = {
  'tool-model': toolStream,
  'err-400': () => ({ kind: 'json', status: 400, body: openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value') }),
  'err-429': () => ({ kind: 'json', status: 429, body: openAiError('Rate limit reached.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '3' } }),
  'err-stream-reset': (request) => ({ kind: 'stream', events: [chunk(String(request.body.model), { role: 'assistant', content: '' }), chunk(String(request.body.model), { content: 'Hel' })], thenBehavior: 'reset' }),
};

let mock: MockUpstream;
let gateway: TestGateway;
let ai: GoogleGenAI;

before(async () => {
  mock = await startMockUpstream({ script: (request) => behaviors[String(request.body?.model)]?.(request) ?? { kind: 'default' } });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [{ name: 'mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'mock-embed', 'tool-model', 'err-*'] }],
  });
  ai = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gateway.url, retryOptions: { attempts: 1 } } });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

test('generateContent: text, usage, finish reason; the client key stays at the gateway', async () => {
  const before = mock.requests.length;
  const response = await ai.models.generateContent({
    model: 'mock-gpt',
    contents: 'Say hello',
    config: { systemInstruction: 'You are terse.', temperature: 0.3, maxOutputTokens: 64, stopSequences: ['END'] },
  });
  assert.equal(response.text, TEXT);
  assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
  assert.ok((response.usageMetadata?.promptTokenCount ?? 0) > 0);
  assert.equal(response.usageMetadata?.candidatesTokenCount, 4);
  const sent = mock.requests[before]!;
  assert.equal(sent.path, '/v1/chat/completions');
  assert.deepEqual(sent.body.messages[0], { role: 'system', content: 'You are terse.' });
  assert.equal(sent.body.temperature, 0.3);
  assert.equal(sent.body.max_tokens, 64);
  assert.deepEqual(sent.body.stop, ['END']);
  assert.equal(sent.headers['x-goog-api-key'], undefined);
  assert.equal(JSON.stringify(sent.headers).includes(CLIENT_KEY), false);
});

const tools = [{
  functionDeclarations: [
    { name: 'get_weather', description: 'Current weather', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] } },
    { name: 'get_time', description: 'Local time', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
  ],
}];

test('generateContentStream: thinking, text, then two function calls whole; usage at the end', async () => {
  const before = mock.requests.length;
  const stream = await ai.models.generateContentStream({
    model: 'tool-model',
    contents: [{ role: 'user', parts: [{ text: 'Weather in Paris and time in Tokyo?' }] }],
    config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } }, thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
  });
  let thoughts = '';
  let text = '';
  const calls: { id?: string; name?: string; args?: unknown }[] = [];
  let finish: string | undefined;
  let promptTokens: number | undefined;
  let thoughtTokens: number | undefined;
  let chunks = 0;
  for await (const part of stream) {
    chunks++;
    for (const item of part.candidates?.[0]?.content?.parts ?? []) {
      if (item.thought === true) thoughts += item.text ?? '';
      else if (item.text !== undefined) text += item.text;
    }
    calls.push(...(part.functionCalls ?? []));
    finish = part.candidates?.[0]?.finishReason ?? finish;
    promptTokens = part.usageMetadata?.promptTokenCount ?? promptTokens;
    thoughtTokens = part.usageMetadata?.thoughtsTokenCount ?? thoughtTokens;
  }
  assert.ok(chunks >= 4, 'streamed as it arrived, not in one piece');
  assert.equal(thoughts, 'Two cities, two calls.');
  assert.equal(text, 'Checking.');
  assert.deepEqual(calls.map((call) => [call.id, call.name, call.args]), [['call_p', 'get_weather', { city: 'Paris' }], ['call_t', 'get_time', { city: 'Tokyo' }]]);
  assert.equal(finish, 'STOP');
  assert.equal(promptTokens, 42);
  assert.equal(thoughtTokens, 5);
  const sent = mock.requests[before]!.body;
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.equal(sent.tool_choice, 'required');
  assert.equal(sent.reasoning_effort, 'low', 'a 1024-token budget is a low effort');
  assert.deepEqual(sent.tools.map((tool: Json) => tool.function.parameters), [
    { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  ]);
});

test('a second turn: function responses find their calls; the history goes upstream with ids', async () => {
  const before = mock.requests.length;
  const history: Content[] = [
    { role: 'user', parts: [{ text: 'Weather in Paris and time in Tokyo?' }] },
    { role: 'model', parts: [{ functionCall: { id: 'call_p', name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { id: 'call_t', name: 'get_time', args: { city: 'Tokyo' } } }] },
    { role: 'user', parts: [{ functionResponse: { id: 'call_p', name: 'get_weather', response: { output: '18°C' } } }, { functionResponse: { id: 'call_t', name: 'get_time', response: { error: 'clock offline' } } }] },
  ];
  const response = await ai.models.generateContent({ model: 'mock-gpt', contents: history, config: { tools } });
  assert.equal(response.text, TEXT);
  const messages = mock.requests[before]!.body.messages as Json[];
  assert.deepEqual(messages[1].tool_calls.map((call: Json) => [call.id, call.function.name, call.function.arguments]), [['call_p', 'get_weather', '{"city":"Paris"}'], ['call_t', 'get_time', '{"city":"Tokyo"}']]);
  assert.deepEqual(messages.slice(2), [{ role: 'tool', tool_call_id: 'call_p', content: '18°C' }, { role: 'tool', tool_call_id: 'call_t', content: 'Error: clock offline' }]);
});

test('countTokens: the gateway estimates for a provider without a counting endpoint', async () => {
  const result = await ai.models.countTokens({ model: 'mock-gpt', contents: 'How many tokens is this sentence?' });
  assert.ok((result.totalTokens ?? 0) > 0);
});

test('embedContent: the SDK batches; the OpenAI upstream answers /embeddings', async () => {
  const before = mock.requests.length;
  const result = await ai.models.embedContent({ model: 'mock-embed', contents: ['first text', 'second'], config: { outputDimensionality: 8 } });
  assert.equal(result.embeddings?.length, 2);
  const close = (actual: number[] | undefined, text: string) => Array.from(mockEmbedding(text)).forEach((value, i) => assert.ok(Math.abs(actual![i]! - value) < 1e-6));
  close(result.embeddings?.[0]?.values, 'first text');
  close(result.embeddings?.[1]?.values, 'second');
  assert.deepEqual(mock.requests[before]!.body.input, ['first text', 'second']);
  assert.equal(mock.requests[before]!.body.dimensions, 8);
});

test('models.list and models.get in Gemini shape', async () => {
  const names: string[] = [];
  for await (const model of await ai.models.list()) names.push(model.name ?? '');
  assert.deepEqual(names, ['models/mock-gpt', 'models/mock-embed', 'models/tool-model']);
  const model = await ai.models.get({ model: 'mock-embed' });
  assert.equal(model.name, 'models/mock-embed');
  assert.deepEqual(model.supportedActions, ['embedContent', 'batchEmbedContents', 'countTokens']);
  await assert.rejects(ai.models.get({ model: 'no-such-model' }), (error: unknown) => error instanceof ApiError && error.status === 404);
});

test('apiVersion v1: the same surface under /v1', async () => {
  const v1 = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gateway.url, apiVersion: 'v1', retryOptions: { attempts: 1 } } });
  const response = await v1.models.generateContent({ model: 'mock-gpt', contents: 'Say hello' });
  assert.equal(response.text, TEXT);
  const names: string[] = [];
  for await (const model of await v1.models.list()) names.push(model.name ?? '');
  assert.ok(names.includes('models/mock-gpt'), 'GET /v1/models answers in Gemini shape for a Google client');
});

test('errors: upstream 400 and 429 as ApiError with the status; a wrong key is 401', async () => {
  await assert.rejects(ai.models.generateContent({ model: 'err-400', contents: 'x' }), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    const body = JSON.parse(error.message);
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(body.error.message, /Invalid value for 'temperature'/);
    return true;
  });
  await assert.rejects(ai.models.generateContent({ model: 'err-429', contents: 'x' }), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    const body = JSON.parse(error.message);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.ok(body.error.details.some((detail: Json) => detail.retryDelay === '3s'), 'RetryInfo for the SDK and Gemini CLI');
    return true;
  });
  await assert.rejects(ai.models.generateContent({ model: 'no-such-model', contents: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 404);
  const stranger = new GoogleGenAI({ apiKey: 'wrong-key', httpOptions: { baseUrl: gateway.url, retryOptions: { attempts: 1 } } });
  await assert.rejects(stranger.models.generateContent({ model: 'mock-gpt', contents: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 401);
});

test('a stream cut mid-answer ends with an error the SDK raises, never a clean end', async () => {
  const stream = await ai.models.generateContentStream({ model: 'err-stream-reset', contents: 'x' });
  let text = '';
  await assert.rejects((async () => {
    for await (const part of stream) text += part.text ?? '';
  })(), (error: unknown) => error instanceof ApiError && error.status >= 500);
  assert.equal(text, 'Hel');
});
