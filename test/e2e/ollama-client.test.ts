// The real `ollama` npm client pointed at the gateway (`new Ollama({ host })`), talking to an
// OpenAI-dialect upstream: every Ollama call is translated to Chat Completions or Embeddings and
// back, NDJSON streams included, tool calls arriving whole with their arguments as objects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama, type Message, type Tool } from 'ollama';
import { mockEmbedding, openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import { openaiUpstream } from '../conformance/dialects/openai-chat.ts';
import { RED_DOT_PNG, scenarioByName } from '../conformance/scenarios.ts';

const CLIENT_KEY = 'sk-e2e-ollama';
const TEXT = 'Hello from the mock.';

const chunk = (content: string) => JSON.stringify({
  id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1, model: 'err-stream-reset',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

const behaviors: Record<string, Behavior> = {
  'err-429': { kind: 'json', status: 429, body: openAiError('Rate limit reached.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '1' } },
  'err-400': { kind: 'json', status: 400, body: openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value') },
  'err-stream-reset': { kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'reset' },
};

let mock: MockUpstream;
let gateway: TestGateway;
let ollama: Ollama;

before(async () => {
  mock = await startMockUpstream({
    script: (request) => {
      const model = String(request.body?.model ?? '');
      if (model.startsWith('scenario-')) return openaiUpstream.respond(scenarioByName(openaiUpstream.scenarioOf(request)), request);
      return behaviors[model] ?? { kind: 'default' };
    },
  });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [{ name: 'openai-mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'mock-embed', 'scenario-*', 'err-*'] }],
  });
  ollama = new Ollama({ host: gateway.url, headers: { Authorization: `Bearer ${CLIENT_KEY}` } });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

const weather: Tool = {
  type: 'function',
  function: {
    name: 'get_weather', description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
  },
};
const time: Tool = {
  type: 'function',
  function: { name: 'get_time', description: 'Local time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

function lastRequest(): Record<string, any> {
  return mock.requests.at(-1)!.body as Record<string, any>;
}

test('chat, non-stream: Ollama shape from an OpenAI upstream, with options translated', async () => {
  const response = await ollama.chat({
    model: 'mock-gpt', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }],
    options: { temperature: 0.3, num_predict: 50, stop: ['END'], num_ctx: 8192 }, keep_alive: '10m',
  });
  assert.equal(response.model, 'mock-gpt');
  assert.equal(response.message.role, 'assistant');
  assert.equal(response.message.content, TEXT);
  assert.equal(response.done, true);
  assert.equal(response.done_reason, 'stop');
  assert.ok(response.prompt_eval_count > 0 && response.eval_count > 0, 'usage');
  assert.ok(!Number.isNaN(new Date(response.created_at).getTime()));
  const sent = lastRequest();
  assert.equal(mock.requests.at(-1)!.path, '/v1/chat/completions');
  assert.deepEqual(sent.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
  assert.equal(sent.temperature, 0.3);
  assert.equal(sent.max_tokens, 50);
  assert.deepEqual(sent.stop, ['END']);
  assert.equal(sent.stream, undefined);
  assert.equal(sent.keep_alive, undefined, 'keep_alive and num_ctx are inert for a remote provider');
  assert.equal(sent.num_ctx ?? sent.options, undefined);
});

test('chat, stream: text deltas add up and the last part is done', async () => {
  const stream = await ollama.chat({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
  let text = '';
  let parts = 0;
  let last;
  for await (const part of stream) {
    parts++;
    text += part.message.content;
    last = part;
  }
  assert.equal(text, TEXT);
  assert.ok(parts > 2, 'streamed in several parts');
  assert.equal(last!.done, true);
  assert.equal(last!.done_reason, 'stop');
  assert.ok(last!.eval_count > 0);
  assert.equal(lastRequest().stream, true);
  assert.deepEqual(lastRequest().stream_options, { include_usage: true });
});

test('chat, stream with tools: parallel calls arrive whole, arguments as objects', async () => {
  const stream = await ollama.chat({ model: 'scenario-parallel-tools', messages: [{ role: 'user', content: 'Weather in Paris and time in Tokyo?' }], tools: [weather, time], stream: true });
  let text = '';
  const calls: { name: string; arguments: Record<string, unknown> }[] = [];
  let last;
  for await (const part of stream) {
    text += part.message.content;
    for (const call of part.message.tool_calls ?? []) calls.push(call.function);
    last = part;
  }
  assert.equal(text, 'Checking both.');
  assert.deepEqual(calls, [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: { city: 'Tokyo' } }]);
  assert.equal(last!.done, true);
  assert.equal(last!.done_reason, 'stop');
  assert.equal(last!.prompt_eval_count, 70);
  assert.equal(last!.eval_count, 30);
  assert.deepEqual(lastRequest().tools.map((tool: { function: { name: string } }) => tool.function.name), ['get_weather', 'get_time']);
});

test('chat, non-stream with tools, then the tool results go back paired with their calls', async () => {
  const first = await ollama.chat({ model: 'scenario-tool-call', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather] });
  assert.deepEqual(first.message.tool_calls, [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
  const history: Message[] = [
    { role: 'user', content: 'Weather in Paris and Oslo?' },
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] },
    { role: 'tool', content: '18°C and sunny', tool_name: 'get_weather' },
    { role: 'tool', content: 'service timed out', tool_name: 'get_weather' },
  ];
  const second = await ollama.chat({ model: 'scenario-tool-result', messages: history, tools: [weather] });
  assert.equal(second.message.content, 'Paris is 18°C and sunny; Oslo is unknown.');
  const sent = lastRequest().messages as Record<string, any>[];
  const ids = sent[1]!.tool_calls.map((call: { id: string }) => call.id);
  assert.equal(new Set(ids).size, 2, 'each call has its own id');
  assert.deepEqual(sent.slice(2).map((message) => [message.role, message.tool_call_id, message.content]), [['tool', ids[0], '18°C and sunny'], ['tool', ids[1], 'service timed out']]);
  assert.deepEqual(JSON.parse(sent[1]!.tool_calls[1].function.arguments), { city: 'Oslo' });
});

test('chat with thinking and a JSON schema format', async () => {
  const response = await ollama.chat({ model: 'scenario-reasoning', messages: [{ role: 'user', content: 'What is 6*7?' }], think: 'high' });
  assert.equal(response.message.thinking, 'Six times seven is forty-two.');
  assert.equal(response.message.content, '42');
  assert.equal(lastRequest().reasoning_effort, 'high');
  const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
  const structured = await ollama.chat({ model: 'scenario-json-schema', messages: [{ role: 'user', content: 'Give me a person.' }], format: schema });
  assert.deepEqual(JSON.parse(structured.message.content), { name: 'Ada' });
  assert.deepEqual(lastRequest().response_format, { type: 'json_schema', json_schema: { name: 'response', schema } });
});

test('chat with an image (bytes, base64-encoded by the client) becomes an image part upstream', async () => {
  await ollama.chat({ model: 'scenario-image', messages: [{ role: 'user', content: 'What is in this image?', images: [Buffer.from(RED_DOT_PNG, 'base64')] }] });
  const content = lastRequest().messages[0].content as Record<string, any>[];
  assert.deepEqual(content.map((part) => part.type), ['image_url', 'text']);
  assert.equal(content[0]!.image_url.url, `data:image/png;base64,${RED_DOT_PNG}`);
});

test('generate, non-stream and stream: prompt and system become chat turns', async () => {
  const response = await ollama.generate({ model: 'mock-gpt', prompt: 'Say hello', system: 'Be brief.' });
  assert.equal(response.response, TEXT);
  assert.equal(response.done, true);
  assert.equal(response.done_reason, 'stop');
  assert.deepEqual(lastRequest().messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
  const stream = await ollama.generate({ model: 'mock-gpt', prompt: 'Say hello', stream: true });
  let text = '';
  let done = false;
  for await (const part of stream) {
    text += part.response;
    done = part.done;
  }
  assert.equal(text, TEXT);
  assert.equal(done, true);
});

test('generate with a suffix (fill-in-the-middle) is refused for an OpenAI provider, naming the field', async () => {
  await assert.rejects(ollama.generate({ model: 'mock-gpt', prompt: 'def add(a, b):', suffix: '    return result' }), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 400);
    assert.match(error.message, /'suffix'/);
    return true;
  });
});

test('embed (many inputs) and the older embeddings (one prompt)', async () => {
  const embedded = await ollama.embed({ model: 'mock-embed', input: ['first text', 'second text'] });
  assert.equal(embedded.model, 'mock-embed');
  assert.equal(embedded.embeddings.length, 2);
  assert.deepEqual(embedded.embeddings[0], Array.from(mockEmbedding('first text')));
  assert.ok(embedded.prompt_eval_count > 0);
  assert.deepEqual(lastRequest().input, ['first text', 'second text']);
  const legacy = await ollama.embeddings({ model: 'mock-embed', prompt: 'first text' });
  assert.deepEqual(legacy.embedding, Array.from(mockEmbedding('first text')));
});

test('list (tags), show, version and ps are answered by the gateway in Ollama shapes', async () => {
  const list = await ollama.list();
  const names = list.models.map((model) => model.name);
  assert.ok(names.includes('mock-gpt') && names.includes('mock-embed'), names.join(', '));
  const entry = list.models.find((model) => model.name === 'mock-gpt')!;
  assert.equal(entry.model, 'mock-gpt');
  assert.match(entry.digest, /^[0-9a-f]{64}$/);
  assert.equal(typeof entry.details.family, 'string');
  const shown = await ollama.show({ model: 'mock-gpt' });
  assert.ok(shown.capabilities.includes('completion'));
  assert.match(shown.modelfile, /FROM mock-gpt/);
  await assert.rejects(ollama.show({ model: 'no-such-model' }), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 404);
    assert.match(error.message, /not found/);
    return true;
  });
  const { version } = await ollama.version();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual((await ollama.ps()).models, []);
});

test('upstream errors surface as the client\'s ResponseError with the mapped status', async () => {
  await assert.rejects(ollama.chat({ model: 'err-429', messages: [{ role: 'user', content: 'hi' }] }), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 429);
    assert.match(error.message, /Rate limit reached/);
    return true;
  });
  await assert.rejects(ollama.chat({ model: 'err-400', messages: [{ role: 'user', content: 'hi' }], stream: true }), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 400);
    assert.match(error.message, /temperature/);
    return true;
  });
  await assert.rejects(ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 404);
    return true;
  });
});

test('a stream cut mid-answer ends with an error line the client raises, never a clean end', async () => {
  const stream = await ollama.chat({ model: 'err-stream-reset', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  await assert.rejects((async () => {
    for await (const part of stream) text += part.message.content;
  })(), (error: Error) => {
    assert.match(error.message, /ended the stream before it was complete|reset|closed|terminated/i);
    return true;
  });
  assert.equal(text, 'Hello');
});

test('a client without the gateway key gets an Ollama-shaped 401', async () => {
  const anonymous = new Ollama({ host: gateway.url });
  await assert.rejects(anonymous.list(), (error: Error & { status_code?: number }) => {
    assert.equal(error.status_code, 401);
    return true;
  });
});

test('an Ollama provider: models discovered from /api/tags, same-dialect calls passed through as bytes, a thinking suffix translated', async () => {
  const tags = { models: [{ name: 'qwen3:latest', model: 'qwen3:latest', modified_at: '2025-05-04T17:37:44.706015396-07:00', size: 5_225_376_047, digest: 'a'.repeat(64), details: { parent_model: '', format: 'gguf', family: 'qwen3', families: ['qwen3'], parameter_size: '8.2B', quantization_level: 'Q4_K_M' } }] };
  const line = (value: unknown) => `${JSON.stringify(value)}\n`;
  const upstream = await startMockUpstream({
    script: (request): Behavior => {
      if (request.path === '/api/tags') return { kind: 'json', status: 200, body: tags };
      if (request.path === '/api/embeddings') return { kind: 'json', status: 200, body: { embedding: [0.5, -0.25] } };
      const model = String(request.body?.model);
      if (request.body?.stream === false) {
        return { kind: 'json', status: 200, body: { model, created_at: '2025-06-12T09:30:15.123Z', message: { role: 'assistant', content: 'Hi!', thinking: 'Greeting.' }, done_reason: 'stop', done: true, prompt_eval_count: 9, eval_count: 2 } };
      }
      return {
        kind: 'chunks', contentType: 'application/x-ndjson',
        chunks: [
          line({ model, created_at: '2025-06-12T09:30:15.100Z', message: { role: 'assistant', content: 'Hi' }, done: false }),
          line({ model, created_at: '2025-06-12T09:30:15.110Z', message: { role: 'assistant', content: '!' }, done: false }),
          line({ model, created_at: '2025-06-12T09:30:15.123Z', message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true, prompt_eval_count: 9, eval_count: 2 }),
        ],
      };
    },
  });
  const local = await startTestGateway({ discover: true, providers: [{ name: 'ollama', dialect: 'ollama', baseUrl: upstream.url, discover: true }] });
  try {
    const client = new Ollama({ host: local.url });
    assert.deepEqual((await client.list()).models.map((model) => model.name).sort(), ['qwen3', 'qwen3:latest']);
    const stream = await client.chat({ model: 'qwen3', messages: [{ role: 'user', content: 'Hi' }], stream: true, keep_alive: '10m', options: { num_ctx: 8192 } });
    let text = '';
    for await (const part of stream) text += part.message.content;
    assert.equal(text, 'Hi!');
    const passed = upstream.requests.at(-1)!;
    assert.equal(passed.path, '/api/chat');
    assert.deepEqual(passed.body, { model: 'qwen3', messages: [{ role: 'user', content: 'Hi' }], stream: true, keep_alive: '10m', options: { num_ctx: 8192 } }, 'the bytes as the client sent them');
    const thought = await client.chat({ model: 'qwen3(high)', messages: [{ role: 'user', content: 'Hi' }], keep_alive: '10m' });
    assert.equal(thought.message.thinking, 'Greeting.');
    const translated = upstream.requests.at(-1)!.body;
    assert.equal(translated.model, 'qwen3');
    assert.equal(translated.think, true, 'qwen3 takes thinking as a switch');
    assert.equal(translated.keep_alive, '10m', 'keep_alive is carried for an Ollama provider');
    assert.deepEqual((await client.embeddings({ model: 'qwen3', prompt: 'sky' })).embedding, [0.5, -0.25]);
    assert.equal(upstream.requests.at(-1)!.path, '/api/embeddings', 'the older embeddings path is passed through as such');
  } finally {
    await local.close();
    await upstream.close();
  }
});
