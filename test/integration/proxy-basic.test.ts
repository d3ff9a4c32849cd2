// Same-dialect pass-through over real sockets: bodies, statuses and SSE bytes arrive as the
// upstream sent them, the request body goes up byte-identical except for a renamed model, routing
// (prefix, alias, exact, pattern, round-robin), provider credentials, and the model list.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAnswer, type DefaultAnswer } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { frameText, startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const DEFAULT_DELTAS = ['Hello', ' from', ' the', ' mock.'];
const DEFAULT_TEXT = DEFAULT_DELTAS.join('');

let alpha: MockUpstream;
let beta: MockUpstream;
let gateway: TestGateway;

before(async () => {
  alpha = await startMockUpstream();
  beta = await startMockUpstream();
  gateway = await startTestGateway({
    providers: [
      { name: 'alpha', baseUrl: `${alpha.url}/v1`, models: ['gpt-a', 'shared-model'], apiKeys: ['sk-alpha-provider-key-0001'] },
      { name: 'beta', baseUrl: `${beta.url}/v1`, models: ['shared-model', 'gpt-b'] },
      { name: 'keyed', baseUrl: `${alpha.url}/v1`, models: ['keyed-model'], apiKeys: ['sk-keyed-one-111111', 'sk-keyed-two-222222', 'sk-keyed-three-333333'] },
      { name: 'local', baseUrl: `${beta.url}/v1`, models: ['qwen3:*'] },
      {
        name: 'chatonly', baseUrl: `${beta.url}/v1`, models: ['chat-only-model'],
        capabilities: { chat: true, completions: false, embeddings: false, responses: false },
      },
    ],
    models: [{ name: 'fast', targets: [{ provider: 'alpha', model: 'gpt-a-2025' }] }],
  });
});

after(async () => {
  await gateway?.close();
  await alpha?.close();
  await beta?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

async function call(path: string, options: { method?: string; body?: string | object; headers?: Record<string, string> } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${gateway.url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: body === undefined ? options.headers : { 'content-type': 'application/json', ...options.headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** The request the mock received most recently, after checking that exactly one more arrived. */
async function lastRequest(mock: MockUpstream, countBefore: number): Promise<RecordedRequest> {
  await mock.waitForRequests(countBefore + 1);
  assert.equal(mock.requests.length, countBefore + 1, 'exactly one upstream request');
  return mock.requests[countBefore]!;
}

/** What the mock's default behaviour answered to request #index (it is a pure function of it). */
function mockAnswer(mock: MockUpstream, index: number): DefaultAnswer {
  const record = mock.requests[index]!;
  return defaultAnswer({
    method: record.method,
    pathname: record.path.split('?')[0]!,
    body: record.body,
    malformedBody: false,
    sequence: index,
    now: Math.floor(record.receivedAt / 1000),
    models: ['mock-gpt', 'mock-embed'],
    text: DEFAULT_TEXT,
    streamDeltas: DEFAULT_DELTAS,
  });
}

function expectedBytes(answer: DefaultAnswer): string {
  return answer.kind === 'json' ? JSON.stringify(answer.body) : answer.frames.map(frameText).join('');
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Say hello' }], ...extra });

test('non-stream chat passes through: status and body identical to the upstream answer', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/chat/completions', { body: chat('gpt-a') });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(reply.text, expectedBytes(mockAnswer(alpha, before)));
  assert.equal(reply.json().choices[0].message.content, DEFAULT_TEXT);
});

test('a non-default 2xx status and an odd body come back byte for byte', async () => {
  const body = '{ "id" : "custom",\n "object":"chat.completion", "note": "caf\\u00e9 ✓" }';
  alpha.setScript(() => ({ kind: 'raw', status: 201, body, headers: { 'content-type': 'application/json; charset=utf-8' } }));
  try {
    const reply = await call('/v1/chat/completions', { body: chat('gpt-a') });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(reply.text, body);
  } finally {
    alpha.setScript(() => ({ kind: 'default' }));
  }
});

const oddBody = (model: string) =>
  `{ "model" : ${JSON.stringify(model)},\n  "messages": [{"role":"user","content":"h\\u00e9llo \\"model\\": \\"x\\""}],` +
  ` "temperature": 0.25, "vendor_ext": {"model": "nested-stays", "top_k": 40}, "n":1 }`;

for (const [label, requested, upstream] of [
  ['provider:model', 'alpha:gpt-x', 'gpt-x'],
  ['provider/model', 'alpha/gpt-y', 'gpt-y'],
  ['alias', 'fast', 'gpt-a-2025'],
] as const) {
  test(`routed via ${label}: only the top-level model is rewritten, the rest of the body is byte-identical`, async () => {
    const before = alpha.requests.length;
    const reply = await call('/v1/chat/completions', { body: oddBody(requested) });
    assert.equal(reply.status, 200, reply.text);
    const received = await lastRequest(alpha, before);
    assert.equal(received.path, '/v1/chat/completions');
    assert.equal(received.rawBody.toString('utf8'), oddBody(upstream));
    assert.equal(received.headers['content-length'], String(received.rawBody.length));
    assert.equal(reply.headers.get('x-switchyard-provider'), 'alpha');
    assert.equal(reply.headers.get('x-switchyard-model'), upstream);
    assert.equal(reply.json().model, upstream, 'the upstream answer is passed on as sent');
  });
}

test('a model served under its own name is sent upstream untouched', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/chat/completions', { body: oddBody('gpt-a') });
  assert.equal(reply.status, 200);
  const received = await lastRequest(alpha, before);
  assert.equal(received.rawBody.toString('utf8'), oddBody('gpt-a'));
  assert.equal(reply.headers.get('x-switchyard-model'), 'gpt-a');
});

test('streaming chat arrives as SSE: role-only first delta, every delta, [DONE]', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/chat/completions', { body: chat('gpt-a', { stream: true }) });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(reply.headers.get('cache-control'), 'no-cache');
  assert.equal(reply.headers.get('x-switchyard-provider'), 'alpha');
  assert.equal(reply.headers.get('x-switchyard-model'), 'gpt-a');
  const received = await lastRequest(alpha, before);
  assert.equal(received.headers.accept, 'text/event-stream');
  assert.equal(reply.text, expectedBytes(mockAnswer(alpha, before)), 'SSE bytes pass through untouched');
  const events = parseSse(reply.text);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const deltas = chunks.slice(1).map((chunk) => chunk.choices[0]?.delta?.content).filter((content) => content !== undefined);
  assert.deepEqual(deltas, DEFAULT_DELTAS);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('x-request-id: a safe client id is kept, otherwise one is generated', async () => {
  const kept = await call('/v1/chat/completions', { body: chat('gpt-a'), headers: { 'x-request-id': 'client-req_42.a:b' } });
  assert.equal(kept.headers.get('x-request-id'), 'client-req_42.a:b');

  const generated = await call('/v1/chat/completions', { body: chat('gpt-a') });
  const id = generated.headers.get('x-request-id') ?? '';
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.doesNotMatch(id, /^req_mock/, "the upstream's own request id is not shown as ours");

  const unsafe = await call('/v1/chat/completions', { body: chat('gpt-a'), headers: { 'x-request-id': 'bad id with spaces<script>' } });
  assert.equal(unsafe.status, 200);
  assert.match(unsafe.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

  const tooLong = await call('/v1/chat/completions', { body: chat('gpt-a'), headers: { 'x-request-id': 'a'.repeat(200) } });
  assert.match(tooLong.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

  const streamed = await call('/v1/chat/completions', { body: chat('gpt-a', { stream: true }), headers: { 'x-request-id': 'stream-id-1' } });
  assert.equal(streamed.headers.get('x-request-id'), 'stream-id-1');
});

test('legacy completions pass through, stream and not', async () => {
  const before = alpha.requests.length;
  const plain = await call('/v1/completions', { body: { model: 'gpt-a', prompt: 'Say hello' } });
  assert.equal(plain.status, 200);
  const received = await lastRequest(alpha, before);
  assert.equal(received.path, '/v1/completions');
  assert.equal(plain.text, expectedBytes(mockAnswer(alpha, before)));
  assert.equal(plain.json().choices[0].text, DEFAULT_TEXT);

  const streamed = await call('/v1/completions', { body: { model: 'gpt-a', prompt: 'Say hello', stream: true } });
  assert.equal(streamed.status, 200);
  assert.equal(streamed.text, expectedBytes(mockAnswer(alpha, before + 1)));
  const events = parseSse(streamed.text);
  assert.equal(events.at(-1)!.data, '[DONE]');
});

test('embeddings pass through', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/embeddings', { body: { model: 'alpha:text-embed', input: ['one', 'two'] } });
  assert.equal(reply.status, 200);
  const received = await lastRequest(alpha, before);
  assert.equal(received.path, '/v1/embeddings');
  assert.equal(received.body.model, 'text-embed');
  assert.equal(reply.text, expectedBytes(mockAnswer(alpha, before)));
  assert.equal(reply.json().data.length, 2);
});

test('responses pass through, non-stream', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/responses', { body: { model: 'gpt-a', input: 'Say hello' } });
  assert.equal(reply.status, 200);
  const received = await lastRequest(alpha, before);
  assert.equal(received.path, '/v1/responses');
  assert.equal(reply.text, expectedBytes(mockAnswer(alpha, before)));
  assert.equal(reply.json().status, 'completed');
});

test('responses pass through, stream (named events up to response.completed)', async () => {
  const before = alpha.requests.length;
  const reply = await call('/v1/responses', { body: { model: 'gpt-a', input: 'Say hello', stream: true } });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  await lastRequest(alpha, before);
  assert.equal(reply.text, expectedBytes(mockAnswer(alpha, before)));
  const events = parseSse(reply.text);
  assert.equal(events[0]!.event, 'response.created');
  assert.equal(events.at(-1)!.event, 'response.completed');
  const text = events.filter((event) => event.event === 'response.output_text.delta').map((event) => JSON.parse(event.data).delta).join('');
  assert.equal(text, DEFAULT_TEXT);
});

test('paths without /v1 work too', async () => {
  const before = alpha.requests.length;
  const reply = await call('/chat/completions', { body: chat('gpt-a') });
  assert.equal(reply.status, 200);
  const received = await lastRequest(alpha, before);
  assert.equal(received.path, '/v1/chat/completions');
  assert.equal(reply.json().object, 'chat.completion');

  const models = await call('/models');
  assert.equal(models.status, 200);
  assert.equal(models.json().object, 'list');
});

test('GET /v1/models lists configured names and aliases with owned_by', async () => {
  const reply = await call('/v1/models');
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const list = reply.json();
  assert.equal(list.object, 'list');
  const owners = Object.fromEntries(list.data.map((model: any) => [model.id, model.owned_by]));
  assert.deepEqual(owners, {
    fast: 'switchyard',
    'gpt-a': 'alpha',
    'shared-model': 'alpha',
    'gpt-b': 'beta',
    'keyed-model': 'keyed',
    'chat-only-model': 'chatonly',
  });
  for (const model of list.data) {
    assert.equal(model.object, 'model');
    assert.equal(typeof model.created, 'number');
  }
  assert.equal(list.data[0].id, 'fast', 'aliases come first');
});

test('GET /v1/models/{id}: listed names, aliases, prefixed and pattern-routed names; unknown is 404', async () => {
  const listed = await call('/v1/models/gpt-b');
  assert.equal(listed.status, 200);
  assert.deepEqual({ ...listed.json(), created: 0 }, { id: 'gpt-b', object: 'model', created: 0, owned_by: 'beta' });

  const alias = await call('/v1/models/fast');
  assert.equal(alias.json().owned_by, 'switchyard');

  const slashed = await call('/v1/models/alpha/some-model');
  assert.equal(slashed.status, 200);
  assert.equal(slashed.json().id, 'alpha/some-model');
  assert.equal(slashed.json().owned_by, 'alpha');

  const pattern = await call('/v1/models/qwen3:8b');
  assert.equal(pattern.status, 200);
  assert.equal(pattern.json().owned_by, 'local');

  const withoutV1 = await call('/models/gpt-a');
  assert.equal(withoutV1.json().owned_by, 'alpha');

  const missing = await call('/v1/models/gpt-c');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().error.code, 'model_not_found');
});

test('provider keys go upstream as Authorization: Bearer <key>, round-robin over apiKeys', async () => {
  const before = alpha.requests.length;
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const reply = await call('/v1/chat/completions', { body: chat('keyed-model') });
    assert.equal(reply.status, 200);
    seen.push(String(alpha.requests[before + i]!.headers.authorization));
  }
  const keys = ['Bearer sk-keyed-one-111111', 'Bearer sk-keyed-two-222222', 'Bearer sk-keyed-three-333333'];
  const start = keys.indexOf(seen[0]!);
  assert.ok(start >= 0, `unexpected authorization ${seen[0]}`);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5].map((i) => keys[(start + i) % 3]));
});

test("the client's own credentials and headers are never forwarded upstream", async () => {
  const clientHeaders = {
    authorization: 'Bearer sk-client-secret-should-not-leak',
    'x-api-key': 'sk-client-x-api-key',
    'x-goog-api-key': 'sk-client-goog',
    cookie: 'session=abc',
  };
  const beforeAlpha = alpha.requests.length;
  assert.equal((await call('/v1/chat/completions', { body: chat('gpt-a'), headers: clientHeaders })).status, 200);
  const toKeyed = await lastRequest(alpha, beforeAlpha);
  assert.equal(toKeyed.headers.authorization, 'Bearer sk-alpha-provider-key-0001');

  const beforeBeta = beta.requests.length;
  assert.equal((await call('/v1/chat/completions', { body: chat('gpt-b'), headers: clientHeaders })).status, 200);
  const toKeyless = await lastRequest(beta, beforeBeta);
  assert.equal(toKeyless.headers.authorization, undefined, 'a keyless provider gets no Authorization at all');

  for (const received of [toKeyed, toKeyless]) {
    assert.equal(received.headers['x-api-key'], undefined);
    assert.equal(received.headers['x-goog-api-key'], undefined);
    assert.equal(received.headers.cookie, undefined);
    assert.doesNotMatch(JSON.stringify(received.headers), /sk-client/);
  }
});

test('a bare model served by two providers alternates between them', async () => {
  const beforeAlpha = alpha.requests.length;
  const beforeBeta = beta.requests.length;
  const providers: string[] = [];
  for (let i = 0; i < 4; i++) {
    const reply = await call('/v1/chat/completions', { body: chat('shared-model') });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-switchyard-model'), 'shared-model');
    providers.push(reply.headers.get('x-switchyard-provider')!);
  }
  assert.notEqual(providers[0], providers[1]);
  assert.deepEqual(providers.slice(2), providers.slice(0, 2));
  assert.deepEqual(new Set(providers), new Set(['alpha', 'beta']));
  assert.equal(alpha.requests.length - beforeAlpha, 2);
  assert.equal(beta.requests.length - beforeBeta, 2);
});

test("'qwen3:8b' stays a model name when qwen3 is not a provider (routed by pattern 'qwen3:*')", async () => {
  const before = beta.requests.length;
  const reply = await call('/v1/chat/completions', { body: chat('qwen3:8b') });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('x-switchyard-provider'), 'local');
  assert.equal(reply.headers.get('x-switchyard-model'), 'qwen3:8b');
  const received = await lastRequest(beta, before);
  assert.equal(received.body.model, 'qwen3:8b');
});

test('a provider without the operation capability gives 400 and sends nothing upstream', async () => {
  const before = beta.requests.length;
  const reply = await call('/v1/embeddings', { body: { model: 'chat-only-model', input: 'hello' } });
  assert.equal(reply.status, 400);
  const error = reply.json().error;
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.code, 'unsupported_operation');
  assert.equal(error.param, 'model');
  assert.match(error.message, /chat-only-model/);
  assert.equal(beta.requests.length, before);

  const chatWorks = await call('/v1/chat/completions', { body: chat('chat-only-model') });
  assert.equal(chatWorks.status, 200);
});
