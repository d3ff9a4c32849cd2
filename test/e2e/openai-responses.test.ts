// The real `openai` SDK's Responses client pointed at the gateway, talking to an OpenAI Chat
// Completions upstream (the mock, with the Responses capability off): every request is
// translated Responses → chat and every answer chat → Responses, streams event by event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import { openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const CLIENT_KEY = 'sk-e2e-responses';
const TEXT = 'Hello from the mock.';
type Json = Record<string, any>;

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

function chunk(model: string, delta: Json, finish: string | null = null, usage?: Json): string {
  return JSON.stringify({ id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage } : {}) });
}

const toolUsage = { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 5 } };

/** Two parallel calls, arguments in pieces, reasoning first: what a chat upstream streams. */
function toolStream(model: string): Behavior {
  return {
    kind: 'stream',
    events: [
      chunk(model, { role: 'assistant', content: '' }),
      chunk(model, { reasoning_content: 'The user wants ' }),
      chunk(model, { reasoning_content: 'two cities.' }),
      chunk(model, { tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk(model, { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk(model, { tool_calls: [{ index: 1, id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }),
      chunk(model, { tool_calls: [{ index: 1, function: { arguments: 'ty":"Oslo"}' } }] }),
      chunk(model, {}, 'tool_calls'),
      chunk(model, {}, null, toolUsage),
      '[DONE]',
    ],
  };
}

function toolJson(model: string): Behavior {
  return {
    kind: 'json', status: 200, body: {
      id: 'chatcmpl-e2e-tools', object: 'chat.completion', created: 1_700_000_000, model,
      choices: [{
        index: 0, logprobs: null, finish_reason: 'tool_calls',
        message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      }],
      usage: toolUsage,
    },
  };
}

function script(request: RecordedRequest): Behavior {
  const model = String(request.body?.model);
  if (model === 'tools') return request.body?.stream === true ? toolStream(model) : toolJson(model);
  if (model === 'err-429') return { kind: 'json', status: 429, body: openAiError('Rate limit reached.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '3' } };
  if (model === 'cut') return { kind: 'stream', events: [chunk(model, { role: 'assistant', content: '' }), chunk(model, { content: 'Hel' })], thenBehavior: 'end' };
  return { kind: 'default' };
}

let mock: MockUpstream;
let gateway: TestGateway;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({ script });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [{
      name: 'chatonly', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'tools', 'err-*', 'cut'],
      capabilities: { chat: true, completions: false, embeddings: false, responses: false },
    }],
    models: [{ name: 'strict-gpt', targets: [{ provider: 'chatonly', model: 'mock-gpt' }], unsupportedTools: 'reject' }],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

function lastUpstreamBody(): Json {
  const request = mock.requests.at(-1)!;
  assert.equal(request.path, '/v1/chat/completions', 'translated to chat completions');
  return request.body as Json;
}

test('non-stream text: instructions and input become system and user messages', async () => {
  const response = await client.responses.create({ model: 'mock-gpt', instructions: 'Be terse.', input: 'Say hello', max_output_tokens: 50, temperature: 0.3 });
  assert.equal(response.object, 'response');
  assert.match(response.id, /^resp_/);
  assert.equal(response.status, 'completed');
  assert.equal(response.output_text, TEXT);
  assert.equal(response.instructions, 'Be terse.');
  assert.equal(response.max_output_tokens, 50);
  assert.ok(response.usage!.input_tokens > 0);
  assert.equal(response.usage!.total_tokens, response.usage!.input_tokens + response.usage!.output_tokens);
  const body = lastUpstreamBody();
  assert.deepEqual(body.messages, [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Say hello' }]);
  assert.equal(body.max_tokens, 50);
  assert.equal(body.temperature, 0.3);
  assert.equal(body.stream, undefined);
});

test('stream text: the SDK stream helper reaches response.completed', async () => {
  const stream = client.responses.stream({ model: 'mock-gpt', input: [{ role: 'user', content: 'Say hello' }] });
  const types: string[] = [];
  let text = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  const final = await stream.finalResponse();
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
  assert.equal(text, TEXT);
  assert.equal(final.output_text, TEXT);
  assert.equal(final.status, 'completed');
  assert.ok(final.usage!.output_tokens > 0, 'usage carried (the gateway asked for include_usage)');
  const body = lastUpstreamBody();
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
});

test('non-stream function tools: function_call items with call ids, and the chat tools the upstream got', async () => {
  const response = await client.responses.create({ model: 'tools', input: 'Weather in Paris?', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false });
  const call = response.output.find((item) => item.type === 'function_call');
  assert.ok(call !== undefined && call.type === 'function_call');
  assert.equal(call.call_id, 'call_paris');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
  assert.equal(response.status, 'completed');
  assert.equal(response.usage!.input_tokens_details.cached_tokens, 10);
  assert.equal(response.usage!.output_tokens_details.reasoning_tokens, 5);
  const body = lastUpstreamBody();
  assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.parameters, strict: true } }]);
  assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
  assert.equal(body.parallel_tool_calls, false);
});

test('stream function tools: reasoning summary, parallel calls with argument deltas, response.completed', async () => {
  const stream = client.responses.stream({ model: 'tools', input: 'Weather in Paris and Oslo?', tools: [weatherTool], reasoning: { effort: 'low', summary: 'auto' } });
  const argumentDeltas: string[] = [];
  let summary = '';
  const types: string[] = [];
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.function_call_arguments.delta') argumentDeltas.push(event.delta);
    if (event.type === 'response.reasoning_summary_text.delta') summary += event.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(summary, 'The user wants two cities.');
  assert.ok(argumentDeltas.length >= 4, `arguments arrive as deltas: ${JSON.stringify(argumentDeltas)}`);
  const calls = final.output.filter((item) => item.type === 'function_call');
  assert.deepEqual(calls.map((call) => [call.call_id, call.name, JSON.parse(call.arguments)]), [['call_paris', 'get_weather', { city: 'Paris' }], ['call_oslo', 'get_weather', { city: 'Oslo' }]]);
  const reasoning = final.output.find((item) => item.type === 'reasoning');
  assert.ok(reasoning !== undefined && reasoning.type === 'reasoning');
  assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: 'The user wants two cities.' }]);
  assert.equal(final.usage!.input_tokens, 50);
  assert.equal(final.usage!.output_tokens_details.reasoning_tokens, 5);
  const body = lastUpstreamBody();
  assert.equal(body.reasoning_effort, 'low');
});

test('tool results go back as chat tool messages after the assistant tool_calls', async () => {
  await client.responses.create({
    model: 'mock-gpt',
    tools: [weatherTool],
    input: [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_paris', output: '18°C and sunny' },
    ],
  });
  const body = lastUpstreamBody();
  assert.deepEqual(body.messages, [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_paris', content: '18°C and sunny' },
  ]);
});

test('images (data URL and URL) and structured output reach the chat upstream', async () => {
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
  await client.responses.create({
    model: 'mock-gpt',
    input: [{ role: 'user', content: [
      { type: 'input_text', text: 'Describe.' },
      { type: 'input_image', image_url: `data:image/png;base64,${png}`, detail: 'low' },
      { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' },
    ] }],
    text: { format: { type: 'json_schema', name: 'description', schema: { type: 'object', properties: { text: { type: 'string' } } }, strict: true } },
  });
  const body = lastUpstreamBody();
  assert.deepEqual(body.messages[0].content, [
    { type: 'text', text: 'Describe.' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'low' } },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'auto' } },
  ]);
  assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'description', schema: { type: 'object', properties: { text: { type: 'string' } } }, strict: true } });
});

test('previous_response_id is refused with a 400 that says why', async () => {
  await assert.rejects(client.responses.create({ model: 'mock-gpt', input: 'Go on', previous_response_id: 'resp_abc' }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.param, 'previous_response_id');
    assert.match(error.message, /stateless|no conversation state/);
    return true;
  });
});

test('a hosted tool (web_search) a chat model cannot run is dropped, and the answer says so in x-switchyard-dropped', async () => {
  const seen = mock.requests.length;
  const { data, response } = await client.responses.create({ model: 'mock-gpt', input: 'News?', tools: [{ type: 'web_search' }] }).withResponse();
  assert.equal(data.status, 'completed');
  assert.equal(response.headers.get('x-switchyard-dropped'), 'tools.web_search');
  const sent = mock.requests[seen]!.body as Json;
  assert.equal(sent.tools, undefined, 'no tool reaches the upstream');
  assert.equal(sent.web_search_options, undefined, 'not a search model');
});

test('with unsupported_tools: reject on the alias, the hosted tool is refused with a 400 naming it', async () => {
  const seen = mock.requests.length;
  await assert.rejects(client.responses.create({ model: 'strict-gpt', input: 'News?', tools: [{ type: 'web_search' }] }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError, String(error));
    assert.match(error.message, /tools\.web_search.*unsupported_tools/);
    assert.equal(error.param, 'tools.web_search');
    return true;
  });
  assert.equal(mock.requests.length, seen, 'nothing reached the upstream');
});

test('an upstream 429 raises RateLimitError', async () => {
  await assert.rejects(client.responses.create({ model: 'err-429', input: 'Again' }), (error: unknown) => {
    assert.ok(error instanceof RateLimitError, String(error));
    assert.match(error.message, /Rate limit reached/);
    return true;
  });
});

test('a stream cut before its end raises an error, never a clean end', async () => {
  const stream = await client.responses.create({ model: 'cut', input: 'Hi', stream: true });
  const types: string[] = [];
  await assert.rejects(async () => {
    for await (const event of stream) types.push(event.type);
  }, (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    return true;
  });
  assert.ok(types.includes('response.output_text.delta'), 'the text before the cut was delivered');
  assert.ok(!types.includes('response.completed'));
});

test('a Codex-shaped request (raw) streams through response.completed', async () => {
  const body = {
    model: 'tools',
    instructions: 'You are Codex, a coding agent.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions>workspace-write</permissions>' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context>cwd=/repo</environment_context>' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the weather in Paris?' }] },
    ],
    tools: [{ type: 'function', name: 'get_weather', description: 'weather', strict: false, parameters: weatherTool.parameters }],
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    stream: true,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '0199a7c4-session',
  };
  const response = await fetch(`${gateway.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, 'openai-beta': 'responses=experimental' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = parseSse(await response.text());
  const parsed = events.map((event) => JSON.parse(event.data) as Json);
  events.forEach((event, i) => assert.equal(event.event, parsed[i]!.type, 'the event name repeats the type'));
  parsed.forEach((event, i) => assert.equal(event.sequence_number, i, 'sequence numbers count from 0'));
  const completed = parsed.at(-1)!;
  assert.equal(completed.type, 'response.completed');
  assert.equal(completed.response.usage.input_tokens, 50);
  const done = parsed.filter((event) => event.type === 'response.output_item.done').map((event) => event.item.type);
  assert.deepEqual(done, ['reasoning', 'function_call', 'function_call']);
  const upstream = lastUpstreamBody();
  assert.deepEqual(upstream.messages.map((message: Json) => message.role), ['system', 'system', 'user', 'user']);
  assert.equal(upstream.messages[0].content, 'You are Codex, a coding agent.');
  assert.equal(upstream.reasoning_effort, 'medium');
  assert.equal(upstream.parallel_tool_calls, false);
  assert.equal(upstream.store, undefined, 'store is inert when translating');
  assert.equal(upstream.include, undefined);
});
