import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import OpenAI from 'openai';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse, readSse, readText } from '../helpers/sse.ts';

async function withMock(run: (mock: MockUpstream) => Promise<void>, options = {}): Promise<void> {
  const mock = await startMockUpstream(options);
  try {
    await run(mock);
  } finally {
    await mock.close();
  }
}

async function postJson(mock: MockUpstream, path: string, body: unknown): Promise<any> {
  return (await post(mock, path, body)).json();
}

function post(mock: MockUpstream, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: JSON.stringify(body),
    ...init,
  });
}

/** node:http, so the test sees the raw socket error codes fetch would wrap. */
function rawPost(mock: MockUpstream, path: string, body: unknown): { done: Promise<IncomingMessage>; abort: () => void } {
  const payload = JSON.stringify(body);
  const outgoing = httpRequest(`${mock.url}${path}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
  });
  const done = new Promise<IncomingMessage>((resolve, reject) => {
    outgoing.on('response', resolve);
    outgoing.on('error', reject);
  });
  outgoing.end(payload);
  return { done, abort: () => outgoing.destroy() };
}

const chatBody = { model: 'mock-gpt', messages: [{ role: 'user', content: 'Say hello' }] };

test('parseSse follows the dispatch rules', () => {
  const events = parseSse(': comment\n\nevent: a\ndata: 1\ndata:2\n\ndata: {"x":1}\r\n\r\nid: 7\n\ndata: unterminated');
  assert.deepEqual(events, [{ event: 'a', data: '1\n2' }, { data: '{"x":1}' }]);
});

test('default non-stream chat completion', () => withMock(async (mock) => {
  const response = await post(mock, '/v1/chat/completions', chatBody);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body: any = await response.json();
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, 'mock-gpt');
  assert.match(body.id, /^chatcmpl-/);
  assert.equal(typeof body.created, 'number');
  assert.deepEqual(body.choices[0].message, { role: 'assistant', content: 'Hello from the mock.', refusal: null, annotations: [] });
  assert.equal(body.choices[0].finish_reason, 'stop');
  const usage = body.usage;
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.equal(usage.completion_tokens, 4);
  assert.equal(usage.prompt_tokens_details.cached_tokens, 0);
  assert.equal(usage.completion_tokens_details.reasoning_tokens, 0);

  assert.equal(mock.requests.length, 1);
  const recorded = mock.requests[0]!;
  assert.equal(recorded.method, 'POST');
  assert.equal(recorded.path, '/v1/chat/completions');
  assert.equal(recorded.headers.authorization, 'Bearer sk-test');
  assert.deepEqual(recorded.body, chatBody);
}));

test('default chat stream: role-only first delta, usage only when asked, [DONE] last', () => withMock(async (mock) => {
  for (const includeUsage of [false, true]) {
    const body = includeUsage ? { ...chatBody, stream: true, stream_options: { include_usage: true } } : { ...chatBody, stream: true };
    const response = await post(mock, '/v1/chat/completions', body);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = await readSse(response);
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data));
    for (const chunk of chunks) assert.equal(chunk.object, 'chat.completion.chunk');
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    const text = chunks.flatMap((chunk) => chunk.choices.map((choice: any) => choice.delta.content ?? '')).join('');
    assert.equal(text, 'Hello from the mock.');
    const usageChunks = chunks.filter((chunk) => chunk.usage);
    if (includeUsage) {
      const last = chunks.at(-1);
      assert.deepEqual(last.choices, []);
      assert.equal(last.usage.completion_tokens, 4);
      assert.equal(usageChunks.length, 1);
      assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
      assert.deepEqual(chunks.at(-2).choices[0].delta, {});
    } else {
      assert.equal(usageChunks.length, 0);
      assert.ok(chunks.every((chunk) => !('usage' in chunk)));
      assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    }
  }
}));

test('the OpenAI SDK accepts every default shape', () => withMock(async (mock) => {
  const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(completion.choices[0]!.message.content, 'Streamed text here');

  const stream = await client.chat.completions.create({
    model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
  });
  let streamed = '';
  let usage;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta.content ?? '';
    usage = chunk.usage ?? usage;
  }
  assert.equal(streamed, 'Streamed text here');
  assert.equal(usage?.completion_tokens, 3);

  const legacy = await client.completions.create({ model: 'mock-gpt', prompt: 'hi' });
  assert.equal(legacy.choices[0]!.text, 'Streamed text here');

  // The SDK asks for base64 by default and decodes it: this checks the float32 LE encoding.
  const embeddings = await client.embeddings.create({ model: 'mock-embed', input: ['a', 'b', 'c'] });
  assert.equal(mock.requests.at(-1)!.body.encoding_format, 'base64');
  const floats = await client.embeddings.create({ model: 'mock-embed', input: ['a', 'b', 'c'], encoding_format: 'float' });
  assert.deepEqual(embeddings.data.map((item) => item.embedding), floats.data.map((item) => item.embedding));

  const response = await client.responses.create({ model: 'mock-gpt', input: 'hi' });
  assert.equal(response.output_text, 'Streamed text here');
  const events = [];
  for await (const event of await client.responses.create({ model: 'mock-gpt', input: 'hi', stream: true })) events.push(event.type);
  assert.equal(events.at(-1), 'response.completed');

  const models = await client.models.list();
  assert.deepEqual(models.data.map((model) => model.id), ['a', 'b']);
}, { text: 'Streamed text here', models: ['a', 'b'] }));

test('legacy completions stream', () => withMock(async (mock) => {
  const response = await post(mock, '/v1/completions', { model: 'mock-gpt', prompt: 'Say', stream: true });
  const events = await readSse(response);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data));
  assert.ok(chunks.every((chunk) => chunk.object === 'text_completion'));
  assert.equal(chunks.map((chunk) => chunk.choices[0].text).join(''), 'Hello from the mock.');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
}));

test('embeddings: one 8-float vector per input, deterministic, base64 as float32 LE', () => withMock(async (mock) => {
  const floats = await postJson(mock, '/v1/embeddings', { model: 'mock-embed', input: ['one', 'two', 'three'] });
  assert.equal(floats.object, 'list');
  assert.equal(floats.data.length, 3);
  assert.deepEqual(floats.data.map((item: any) => item.index), [0, 1, 2]);
  for (const item of floats.data) {
    assert.equal(item.object, 'embedding');
    assert.equal(item.embedding.length, 8);
  }
  assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
  assert.equal(floats.usage.total_tokens, floats.usage.prompt_tokens);

  const single = await postJson(mock, '/v1/embeddings', { model: 'mock-embed', input: 'two' });
  assert.equal(single.data.length, 1);
  assert.deepEqual(single.data[0].embedding, floats.data[1].embedding);

  const encoded = await postJson(mock, '/v1/embeddings', { model: 'mock-embed', input: ['one', 'two', 'three'], encoding_format: 'base64' });
  for (const [index, item] of encoded.data.entries()) {
    assert.equal(typeof item.embedding, 'string');
    const bytes = Buffer.from(item.embedding, 'base64');
    assert.equal(bytes.length, 32);
    const decoded = Array.from({ length: 8 }, (_, position) => bytes.readFloatLE(position * 4));
    assert.deepEqual(decoded, floats.data[index].embedding);
  }
}));

test('responses: object and stream ending with response.completed', () => withMock(async (mock) => {
  const body = await postJson(mock, '/v1/responses', { model: 'mock-gpt', input: 'hi' });
  assert.equal(body.object, 'response');
  assert.equal(body.status, 'completed');
  assert.equal(body.output[0].type, 'message');
  assert.deepEqual(body.output[0].content[0], { type: 'output_text', annotations: [], logprobs: [], text: 'Hello from the mock.' });
  assert.equal(body.usage.total_tokens, body.usage.input_tokens + body.usage.output_tokens);

  const events = await readSse(await post(mock, '/v1/responses', { model: 'mock-gpt', input: 'hi', stream: true }));
  const types = events.map((event) => event.event);
  assert.deepEqual(types, [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
  ]);
  const payloads = events.map((event) => JSON.parse(event.data));
  payloads.forEach((payload, index) => {
    assert.equal(payload.type, types[index]);
    assert.equal(payload.sequence_number, index);
  });
  const completed = payloads.at(-1).response;
  assert.equal(completed.status, 'completed');
  assert.equal(completed.usage.output_tokens, 4);
}));

test('models list and OpenAI-shaped 404', () => withMock(async (mock) => {
  const models: unknown = await (await fetch(`${mock.url}/v1/models`)).json();
  assert.deepEqual(models, {
    object: 'list',
    data: ['mock-gpt', 'mock-embed'].map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'mock' })),
  });
  const missing = await post(mock, '/v1/nope?x=1', {});
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: { message: 'Invalid URL (POST /v1/nope)', type: 'invalid_request_error', param: null, code: null },
  });
  assert.equal(mock.requests.at(-1)!.path, '/v1/nope?x=1');
}));

test('scripted json, raw, stream and delay behaviours', () => withMock(async (mock) => {
  mock.setScript((_request, index): Behavior => {
    switch (index) {
      case 0: return { kind: 'json', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: null } }, headers: { 'retry-after': '1' } };
      case 1: return { kind: 'raw', status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } };
      case 2: return { kind: 'stream', events: ['{"a":1}', 'event: custom\ndata: 2', '[DONE]'], intervalMs: 5 };
      default: return { kind: 'delay', ms: 50 };
    }
  });
  const limited = await post(mock, '/v1/chat/completions', chatBody);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.equal(((await limited.json()) as any).error.type, 'rate_limit_error');

  const raw = await post(mock, '/v1/chat/completions', chatBody);
  assert.equal(raw.status, 502);
  assert.equal(await raw.text(), '<html>bad gateway</html>');

  const streamed = await post(mock, '/v1/chat/completions', chatBody);
  assert.equal(await readText(streamed), 'data: {"a":1}\n\nevent: custom\ndata: 2\n\ndata: [DONE]\n\n');

  const delayed = await post(mock, '/v1/chat/completions', chatBody);
  assert.equal(delayed.status, 200, 'a delayed answer still arrives whole');
}));

test('reset: the client sees ECONNRESET, and the request is still recorded', () => withMock(async (mock) => {
  mock.setScript(() => ({ kind: 'reset' }));
  const { done } = rawPost(mock, '/v1/chat/completions', chatBody);
  await assert.rejects(done, (error: NodeJS.ErrnoException) => {
    assert.ok(error.code === 'ECONNRESET' || /socket hang up/.test(error.message), String(error));
    return true;
  });
  assert.equal(mock.requests.length, 1);
  assert.deepEqual(mock.requests[0]!.body, chatBody);
}));

test('stream then reset: events arrive, then the body fails', () => withMock(async (mock) => {
  mock.setScript(() => ({ kind: 'stream', events: ['{"n":1}', '{"n":2}'], thenBehavior: 'reset' }));
  const response = await post(mock, '/v1/chat/completions', { ...chatBody, stream: true });
  assert.equal(response.status, 200);
  const received: string[] = [];
  const decoder = new TextDecoder();
  await assert.rejects(async () => {
    for await (const chunk of response.body!) received.push(decoder.decode(chunk, { stream: true }));
  });
  assert.deepEqual(parseSse(received.join('')).map((event) => event.data), ['{"n":1}', '{"n":2}']);
}));

test('headers-then-stall sends headers, and socketClosed resolves when the client aborts', () => withMock(async (mock) => {
  mock.setScript(() => ({ kind: 'headers-then-stall' }));
  const { done, abort } = rawPost(mock, '/v1/chat/completions', { ...chatBody, stream: true });
  const response = await done;
  response.on('error', () => {});
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] ?? '', /^text\/event-stream/);
  assert.equal(mock.openSockets(), 1);
  const abortedAt = Date.now();
  abort();
  const closedAt = await mock.socketClosed(0);
  assert.ok(closedAt >= abortedAt - 5 && closedAt - abortedAt < 1000);
  assert.equal(mock.openSockets(), 0);
}));

test('socketClosed resolves when a fetch client aborts a no-response request', () => withMock(async (mock) => {
  mock.setScript(() => ({ kind: 'no-response' }));
  const controller = new AbortController();
  const pending = post(mock, '/v1/chat/completions', chatBody, { signal: controller.signal });
  await mock.waitForRequests(1);
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(typeof await mock.socketClosed(0), 'number');
}));

test('keep-alive reuses one socket across requests', () => withMock(async (mock) => {
  await postJson(mock, '/v1/chat/completions', chatBody);
  // undici hands the connection back to its pool a moment after the body is read.
  await new Promise((resolve) => setTimeout(resolve, 10));
  await postJson(mock, '/v1/chat/completions', chatBody);
  assert.equal(mock.requests[0]!.socketId, mock.requests[1]!.socketId);
}));

test('close() with stalled requests and pending timers resolves', { timeout: 5000 }, async () => {
  const mock = await startMockUpstream({ streamIntervalMs: 60_000 });
  mock.setScript((_request, index): Behavior =>
    index === 0 ? { kind: 'no-response' }
      : index === 1 ? { kind: 'delay', ms: 60_000 }
        : index === 2 ? { kind: 'stream', events: ['{}'], thenBehavior: 'stall' }
          : { kind: 'default' });
  const clients = [
    rawPost(mock, '/v1/chat/completions', chatBody),
    rawPost(mock, '/v1/chat/completions', chatBody),
    rawPost(mock, '/v1/chat/completions', chatBody),
    rawPost(mock, '/v1/chat/completions', { ...chatBody, stream: true }),
  ];
  for (const client of clients) client.done.then((response) => response.on('error', () => {}).resume(), () => {});
  await mock.waitForRequests(4);
  const waiting = assert.rejects(mock.waitForRequests(10, 60_000), /closed/);
  // the test's own timeout is the guard: close() must not wait on the stalled and delayed answers
  await mock.close();
  assert.equal(mock.openSockets(), 0);
  await waiting;
  await Promise.all([0, 1, 2, 3].map((index) => mock.socketClosed(index)));
});

test('waitForRequests times out with a useful message', () => withMock(async (mock) => {
  await assert.rejects(mock.waitForRequests(1, 20), /expected 1 request\(s\), got 0/);
}));
