// The real `@anthropic-ai/sdk` pointed at the gateway, which translates to an OpenAI-dialect
// upstream (the mock): what an Anthropic client sees. Successful calls decode into the SDK's
// types (tool input assembled from input_json deltas by finalMessage()), and every failure
// surfaces as the SDK's own error class.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic, { APIConnectionError, APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from '@anthropic-ai/sdk';
import { openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-e2e-anthropic';
const TEXT = 'Hello from the mock.';

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null = null, usage?: Record<string, unknown>): string {
  return JSON.stringify({
    id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1_700_000_000, model,
    choices: usage === undefined ? [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] : [],
    ...(usage !== undefined ? { usage } : {}),
  });
}

const toolUsage = { prompt_tokens: 61, completion_tokens: 17, total_tokens: 78, prompt_tokens_details: { cached_tokens: 32 }, completion_tokens_details: { reasoning_tokens: 0 } };

/** OpenAI's stream for two parallel calls, arguments split into small deltas as OpenAI sends them. */
const toolStream = (model: string): string[] => [
  chunk(model, { role: 'assistant', content: null }),
  chunk(model, { content: 'Let me check.' }),
  chunk(model, { tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
  chunk(model, { tool_calls: [{ index: 0, function: { arguments: 'ty": "Par' } }] }),
  chunk(model, { tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }),
  chunk(model, { tool_calls: [{ index: 1, id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk(model, { tool_calls: [{ index: 1, function: { arguments: '{"city": "Oslo"}' } }] }),
  chunk(model, {}, 'tool_calls'),
  chunk(model, {}, null, toolUsage),
  '[DONE]',
];

const behaviors: Record<string, (body: any) => Behavior> = {
  'tool-weather': (body) => body.stream === true
    ? { kind: 'stream', events: toolStream(body.model) }
    : {
        kind: 'json', status: 200,
        body: {
          id: 'chatcmpl-e2e', object: 'chat.completion', created: 1_700_000_000, model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, logprobs: null, finish_reason: 'tool_calls' }],
          usage: toolUsage,
        },
      },
  'err-400': () => ({ kind: 'json', status: 400, body: openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value') }),
  'err-429': () => ({ kind: 'json', status: 429, body: openAiError('Rate limit reached.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '1' } }),
  'err-500': () => ({ kind: 'json', status: 500, body: openAiError('The server had an error while processing your request.', 'server_error') }),
  'err-stream-reset': (body) => ({ kind: 'stream', events: [chunk(body.model, { role: 'assistant', content: '' }), chunk(body.model, { content: 'Hel' }), chunk(body.model, { content: 'lo' })], thenBehavior: 'reset' }),
};

let mock: MockUpstream;
let gateway: TestGateway;
let client: Anthropic;

before(async () => {
  mock = await startMockUpstream({ script: (request) => behaviors[String(request.body?.model)]?.(request.body) ?? { kind: 'default' } });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [{ name: 'mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'tool-*', 'err-*'] }],
    models: [{ name: 'claude-via-gateway', targets: [{ provider: 'mock', model: 'mock-gpt' }] }],
  });
  client = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Say hello' }];

test('messages.create, non-stream: text, stop reason, usage; the OpenAI upstream got a translated body', async () => {
  const before = mock.requests.length;
  const message = await client.messages.create({ model: 'claude-via-gateway', max_tokens: 256, system: 'Be brief.', messages, stop_sequences: ['END'] });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.deepEqual(message.content, [{ type: 'text', text: TEXT }]);
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.usage.input_tokens > 0);
  assert.equal(message.usage.output_tokens, 4);
  const sent = mock.requests[before]!;
  assert.equal(sent.path, '/v1/chat/completions');
  assert.deepEqual(sent.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
  assert.deepEqual([sent.body.model, sent.body.stop, sent.body.max_tokens], ['mock-gpt', ['END'], 256]);
});

test('messages.create, non-stream tool use: tool_use block with its input object', async () => {
  const message = await client.messages.create({ model: 'tool-weather', max_tokens: 256, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], tool_choice: { type: 'any' } });
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.content, [{ type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } }]);
  assert.deepEqual(message.usage, { input_tokens: 29, cache_creation_input_tokens: 0, cache_read_input_tokens: 32, output_tokens: 17 });
  const sent = mock.requests.at(-1)!.body;
  assert.deepEqual(sent.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.input_schema } }]);
  assert.equal(sent.tool_choice, 'required');
});

test('messages.stream with tool use: finalMessage() assembles the input_json deltas; usage merged from message_delta', async () => {
  const stream = client.messages.stream({ model: 'tool-weather', max_tokens: 256, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [weatherTool] });
  const jsonDeltas: string[] = [];
  let text = '';
  stream.on('inputJson', (delta) => jsonDeltas.push(delta));
  stream.on('text', (delta) => { text += delta; });
  const message = await stream.finalMessage();
  assert.equal(text, 'Let me check.');
  assert.deepEqual(jsonDeltas, ['{"ci', 'ty": "Par', 'is"}', '{"city": "Oslo"}'], 'arguments arrive as deltas, not in one piece');
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.content, [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'call_oslo', name: 'get_weather', input: { city: 'Oslo' } },
  ]);
  assert.equal(message.usage.input_tokens, 29, 'input excludes the cached tokens, as Anthropic reports it');
  assert.equal(message.usage.cache_read_input_tokens, 32);
  assert.equal(message.usage.output_tokens, 17);
  const sent = mock.requests.at(-1)!.body;
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true }, 'usage is asked for when translating');
});

test('messages.create with stream: true: the raw events in order, and a tool result sent back', async () => {
  const stream = await client.messages.create({
    model: 'tool-weather', max_tokens: 256, stream: true, tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_paris', content: 'lookup failed', is_error: true }] },
    ],
  });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type === 'content_block_start' ? `${event.type}:${event.content_block.type}` : event.type);
  assert.equal(types[0], 'message_start');
  assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
  assert.ok(types.includes('content_block_start:tool_use'));
  const sent = mock.requests.at(-1)!.body;
  assert.deepEqual(sent.messages.slice(1), [
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_paris', content: 'Error: lookup failed' },
  ]);
});

test('messages.stream, plain text: text deltas add up, stop reason end_turn', async () => {
  const stream = client.messages.stream({ model: 'mock-gpt', max_tokens: 64, messages });
  let text = '';
  for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  const message = await stream.finalMessage();
  assert.equal(text, TEXT);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 4);
});

test('messages.countTokens: the gateway estimates for a provider without a counting endpoint', async () => {
  const { data, response } = await client.messages.countTokens({ model: 'claude-via-gateway', messages, system: 'Be brief.', tools: [weatherTool] }).withResponse();
  assert.ok(data.input_tokens > 0);
  assert.equal(response.headers.get('x-switchyard-token-count'), 'estimate');
});

test('models.list and models.retrieve answer in Anthropic\'s shape (the SDK sends anthropic-version)', async () => {
  const ids: string[] = [];
  for await (const model of client.models.list()) {
    assert.equal(model.type, 'model');
    assert.equal(typeof model.display_name, 'string');
    ids.push(model.id);
  }
  assert.deepEqual(ids, ['claude-via-gateway', 'mock-gpt']);
  const page = await client.models.list({ limit: 1 });
  assert.equal(page.data.length, 1);
  assert.equal(page.has_more, true);
  const model = await client.models.retrieve('claude-via-gateway');
  assert.equal(model.id, 'claude-via-gateway');
  await assert.rejects(client.models.retrieve('claude-nope'), NotFoundError);
  // a plain OpenAI client on the same path still gets OpenAI's list
  const plain = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  assert.equal(((await plain.json()) as { object: string }).object, 'list');
});

test('the key as a Bearer token (authToken) works too', async () => {
  const bearer = new Anthropic({ baseURL: gateway.url, authToken: CLIENT_KEY, apiKey: null, maxRetries: 0 });
  const message = await bearer.messages.create({ model: 'mock-gpt', max_tokens: 32, messages });
  assert.deepEqual(message.content, [{ type: 'text', text: TEXT }]);
});

test('a wrong key raises AuthenticationError', async () => {
  const wrong = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(wrong.messages.create({ model: 'mock-gpt', max_tokens: 32, messages }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal((error.error as any).error.type, 'authentication_error');
    return true;
  });
  await assert.rejects(wrong.models.list(), AuthenticationError);
});

test('an unknown model raises NotFoundError; a malformed request BadRequestError', async () => {
  await assert.rejects(client.messages.create({ model: 'claude-unknown', max_tokens: 32, messages }), (error: unknown) => {
    assert.ok(error instanceof NotFoundError, String(error));
    assert.equal((error.error as any).error.type, 'not_found_error');
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'mock-gpt', max_tokens: 32, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_011' } }] }] as any }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.match(error.message, /messages\.0\.content\.0\.source/);
    return true;
  });
});

test('upstream errors map to the SDK classes: 400, 429 (retry-after), 500 → 502', async () => {
  await assert.rejects(client.messages.create({ model: 'err-400', max_tokens: 32, messages }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal((error.error as any).error.type, 'invalid_request_error');
    assert.match(error.message, /Invalid value for 'temperature'/);
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'err-429', max_tokens: 32, messages }), (error: unknown) => {
    assert.ok(error instanceof RateLimitError, String(error));
    assert.equal(error.headers?.get('retry-after'), '1');
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'err-500', max_tokens: 32, messages }), (error: unknown) => {
    assert.ok(error instanceof InternalServerError, String(error));
    assert.equal(error.status, 502);
    assert.equal((error.error as any).error.type, 'api_error');
    return true;
  });
});

test('a mid-stream upstream reset raises from the stream as an APIError, after the text before it', async () => {
  let text = '';
  await assert.rejects(async () => {
    const stream = client.messages.stream({ model: 'err-stream-reset', max_tokens: 32, messages });
    stream.on('text', (delta) => { text += delta; });
    await stream.finalMessage();
  }, (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.ok(!(error instanceof APIConnectionError), 'a well-formed error event, not a cut connection');
    assert.equal((error.error as any)?.error?.type, 'api_error');
    return true;
  });
  assert.equal(text, 'Hello');
});
