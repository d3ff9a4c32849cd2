// The real `openai` SDK pointed at the gateway: what an agent sees. Successful calls decode into
// the SDK's types, and every failure surfaces as the SDK's own error class.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIConnectionError, APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import { mockEmbedding, openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-e2e-client';
const TEXT = 'Hello from the mock.';

const chunk = (content: string) => JSON.stringify({
  id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1, model: 'err-stream-reset',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

const behaviors: Record<string, Behavior> = {
  'err-400': { kind: 'json', status: 400, body: openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value') },
  'err-429': { kind: 'json', status: 429, body: openAiError('Rate limit reached.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '1' } },
  'err-500': { kind: 'json', status: 500, body: openAiError('The server had an error while processing your request.', 'server_error') },
  'err-stream-reset': { kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'reset' },
  'err-stream-nodone': { kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'end' },
  'err-responses-reset': {
    kind: 'stream',
    events: [`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: { id: 'resp_x', object: 'response', status: 'in_progress', output: [] } })}`],
    thenBehavior: 'reset',
  },
};

let mock: MockUpstream;
let gateway: TestGateway;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({ script: (request) => behaviors[String(request.body?.model)] ?? { kind: 'default' } });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [{ name: 'mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'mock-embed', 'err-*'] }],
    models: [{ name: 'smart', targets: [{ provider: 'mock', model: 'mock-gpt' }] }],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

const messages = [{ role: 'user' as const, content: 'Say hello' }];

test('chat, non-stream', async () => {
  const completion = await client.chat.completions.create({ model: 'mock-gpt', messages });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'mock-gpt');
  assert.equal(completion.choices[0]!.message.content, TEXT);
  assert.equal(completion.choices[0]!.finish_reason, 'stop');
  assert.ok(completion.usage!.total_tokens > 0);
});

test('chat, non-stream, through an alias (with raw response headers)', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'smart', messages }).withResponse();
  assert.equal(data.choices[0]!.message.content, TEXT);
  assert.equal(response.headers.get('x-switchyard-provider'), 'mock');
  assert.equal(response.headers.get('x-switchyard-model'), 'mock-gpt');
});

test('chat, stream: deltas add up to the full text', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-gpt', messages, stream: true });
  let text = '';
  let role: string | undefined;
  let finish: string | null | undefined;
  for await (const part of stream) {
    const choice = part.choices[0];
    if (choice === undefined) continue;
    role ??= choice.delta.role;
    text += choice.delta.content ?? '';
    finish = choice.finish_reason ?? finish;
  }
  assert.equal(role, 'assistant');
  assert.equal(text, TEXT);
  assert.equal(finish, 'stop');
});

test('chat, stream with stream_options.include_usage: the last chunk carries usage', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-gpt', messages, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const part of stream) {
    text += part.choices[0]?.delta.content ?? '';
    if (part.usage) usage = part.usage;
  }
  assert.equal(text, TEXT);
  assert.ok(usage, 'usage chunk received');
  assert.equal(usage.completion_tokens, 4);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('responses, non-stream', async () => {
  const response = await client.responses.create({ model: 'mock-gpt', input: 'Say hello' });
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.output_text, TEXT);
});

test('responses, stream: text deltas, then response.completed', async () => {
  const stream = await client.responses.create({ model: 'mock-gpt', input: 'Say hello', stream: true });
  const types: string[] = [];
  let text = '';
  let completed: OpenAI.Responses.Response | undefined;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(text, TEXT);
  assert.equal(completed?.status, 'completed');
});

test("embeddings: the SDK's default base64 path decodes to the mock's floats", async () => {
  const before = mock.requests.length;
  const result = await client.embeddings.create({ model: 'mock-embed', input: ['first text', 'second'] });
  await mock.waitForRequests(before + 1);
  assert.equal(mock.requests[before]!.body.encoding_format, 'base64', 'the SDK asked for base64 and the gateway passed it on');
  assert.equal(result.data.length, 2);
  assert.deepEqual(result.data[0]!.embedding, Array.from(mockEmbedding('first text')));
  assert.deepEqual(result.data[1]!.embedding, Array.from(mockEmbedding('second')));
  assert.equal(result.model, 'mock-embed');
});

test('models.list and models.retrieve', async () => {
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['smart', 'mock-gpt', 'mock-embed']);
  const model = await client.models.retrieve('mock-embed');
  assert.equal(model.id, 'mock-embed');
  assert.equal(model.object, 'model');
  assert.equal(model.owned_by, 'mock');
  assert.equal((await client.models.retrieve('smart')).owned_by, 'switchyard');
});

test('an unknown model raises NotFoundError naming the closest model', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'mock-gtp', messages }), (error: unknown) => {
    assert.ok(error instanceof NotFoundError, String(error));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.param, 'model');
    assert.match(error.message, /'mock-gpt'/);
    assert.ok(error.requestID, 'the SDK sees x-request-id');
    return true;
  });
  await assert.rejects(client.models.retrieve('mock-gtp'), NotFoundError);
});

test('a wrong client key raises AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-not-the-key', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ model: 'mock-gpt', messages }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.code, 'invalid_api_key');
    return true;
  });
  await assert.rejects(wrong.models.list(), AuthenticationError);
});

test('a request the gateway refuses raises BadRequestError', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'mock-gpt', messages: [] }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.param, 'messages');
    return true;
  });
});

test("an upstream 400 raises BadRequestError with the upstream's own fields", async () => {
  await assert.rejects(client.chat.completions.create({ model: 'err-400', messages }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.param, 'temperature');
    assert.equal(error.code, 'invalid_value');
    return true;
  });
});

test('an upstream 429 is retried once by the gateway after its Retry-After, then raises RateLimitError (the SDK itself does not retry)', async () => {
  const before = mock.requests.length;
  await assert.rejects(client.chat.completions.create({ model: 'err-429', messages }), (error: unknown) => {
    assert.ok(error instanceof RateLimitError, String(error));
    assert.equal(error.headers?.get('retry-after'), '1');
    assert.equal(error.headers?.get('x-switchyard-attempts'), '2');
    return true;
  });
  assert.equal(mock.requests.length, before + 2);
});

test('an upstream 500 raises InternalServerError with status 502', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'err-500', messages }), (error: unknown) => {
    assert.ok(error instanceof InternalServerError, String(error));
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 502);
    assert.equal(error.type, 'server_error');
    assert.match(error.message, /The server had an error while processing your request\./);
    return true;
  });
});

async function drainChat(model: string): Promise<string> {
  const stream = await client.chat.completions.create({ model, messages, stream: true });
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
  return text;
}

test('a mid-stream upstream reset raises from the stream iterator instead of ending normally', async () => {
  let received = '';
  await assert.rejects(async () => {
    const stream = await client.chat.completions.create({ model: 'err-stream-reset', messages, stream: true });
    for await (const part of stream) received += part.choices[0]?.delta.content ?? '';
  }, (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.ok(!(error instanceof APIConnectionError), 'a well-formed error event, not a cut connection');
    assert.equal(error.code, 'upstream_reset');
    return true;
  });
  assert.equal(received, 'Hello', 'the events before the failure were delivered');
});

test('a stream truncated without [DONE] also raises', async () => {
  await assert.rejects(drainChat('err-stream-nodone'), (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.code, 'upstream_protocol_error');
    return true;
  });
});

test('a responses stream that fails mid-way raises from the iterator', async () => {
  await assert.rejects(async () => {
    const stream = await client.responses.create({ model: 'err-responses-reset', input: 'hi', stream: true });
    for await (const _event of stream) { /* drain */ }
  }, (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.ok(!(error instanceof APIConnectionError), 'a well-formed error event, not a cut connection');
    assert.equal(error.code, 'upstream_reset');
    return true;
  });
});
