// The exact-response cache through a real gateway against the mock upstream: a miss then a hit
// (the upstream asked once), hits rendered as streams in every dialect from a whole answer and the
// other way round, the bypass headers, per-key entries, expiry, streams that failed or were cut
// (never stored), the byte bound (least recently used out first), usage rows and metrics.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestAlias, TestGatewayOptions } from '../helpers/gateway.ts';
import type { Behavior, MockUpstream, RecordedRequest } from '../helpers/mock-upstream.ts';
import { anthropicAnswer, anthropicProvider, chunk, finishChunk, MOCK_TEXT, post, sleep, startGatewayFor, startMocks, type Reply } from '../helpers/resilience.ts';
import { parseSse } from '../helpers/sse.ts';

const T = { timeout: 30_000 };
const CACHE = { ttlSeconds: 3600, perKey: false };

function cachedAlias(name: string, cache: TestAlias['cache'] = CACHE): TestAlias {
  return { name, targets: [{ provider: 'mock', model: 'mock-gpt' }], cache };
}

async function setup(t: TestContext, options: Partial<TestGatewayOptions> = {}, script?: (request: RecordedRequest, index: number) => Behavior) {
  const { mock } = await startMocks(t, { mock: script === undefined ? {} : { script } });
  const gateway = await startGatewayFor(t, {
    providers: [{ name: 'mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }],
    models: [cachedAlias('cached'), { name: 'plain', targets: [{ provider: 'mock', model: 'mock-gpt' }] }],
    ...options,
  });
  return { mock, gateway };
}

/** Requests the upstream saw for generation (not model lists). */
const generations = (mock: MockUpstream) => mock.requests.filter((request) => request.method === 'POST').length;

const chatRequest = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'cached', messages: [{ role: 'user', content }], ...extra });

// --- the five dialects, each as a whole answer and as a stream ------------------------------------

interface Dialect {
  name: string;
  /** The request for `prompt`, streamed or not: path, body, headers. */
  request(prompt: string, stream: boolean): { path: string; body: unknown; headers?: Record<string, string> };
  /** The answer's text, from a whole answer or a stream. */
  text(reply: Reply, stream: boolean): string;
  streamType: string;
}

const sseData = (reply: Reply) => parseSse(reply.text).filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data));

const DIALECTS: Dialect[] = [
  {
    name: 'openai chat',
    request: (prompt, stream) => ({ path: '/v1/chat/completions', body: chatRequest(prompt, { stream }) }),
    text: (reply, stream) => stream ? sseData(reply).map((event) => event.choices[0]?.delta?.content ?? '').join('') : reply.json().choices[0].message.content,
    streamType: 'text/event-stream',
  },
  {
    name: 'openai responses',
    request: (prompt, stream) => ({ path: '/v1/responses', body: { model: 'cached', input: prompt, stream } }),
    text: (reply, stream) => stream
      ? sseData(reply).filter((event) => event.type === 'response.output_text.delta').map((event) => event.delta).join('')
      : reply.json().output.flatMap((item: any) => item.content ?? []).filter((part: any) => part.type === 'output_text').map((part: any) => part.text).join(''),
    streamType: 'text/event-stream',
  },
  {
    name: 'anthropic',
    request: (prompt, stream) => ({ path: '/v1/messages', body: { model: 'cached', max_tokens: 64, messages: [{ role: 'user', content: prompt }], stream }, headers: { 'anthropic-version': '2023-06-01' } }),
    text: (reply, stream) => stream
      ? sseData(reply).filter((event) => event.type === 'content_block_delta').map((event) => event.delta.text ?? '').join('')
      : reply.json().content.map((block: any) => block.text ?? '').join(''),
    streamType: 'text/event-stream',
  },
  {
    name: 'gemini',
    request: (prompt, stream) => ({ path: stream ? '/v1beta/models/cached:streamGenerateContent?alt=sse' : '/v1beta/models/cached:generateContent', body: { contents: [{ role: 'user', parts: [{ text: prompt }] }] } }),
    text: (reply, stream) => (stream ? sseData(reply) : [reply.json()]).flatMap((answer: any) => answer.candidates?.[0]?.content?.parts ?? []).map((part: any) => part.text ?? '').join(''),
    streamType: 'text/event-stream',
  },
  {
    name: 'ollama',
    request: (prompt, stream) => ({ path: '/api/chat', body: { model: 'cached', messages: [{ role: 'user', content: prompt }], stream } }),
    text: (reply, stream) => stream
      ? reply.text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line).message?.content ?? '').join('')
      : reply.json().message.content,
    streamType: 'application/x-ndjson',
  },
];

async function ask(gateway: Parameters<typeof post>[0], dialect: Dialect, prompt: string, stream: boolean, headers: Record<string, string> = {}): Promise<Reply> {
  const request = dialect.request(prompt, stream);
  return post(gateway, request.path, request.body, { ...request.headers, ...headers });
}

test('a miss, then a hit: the upstream is asked once, the answer is the same, and a route without cache says nothing', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const first = await post(gateway, '/v1/chat/completions', chatRequest('one'));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
  const second = await post(gateway, '/v1/chat/completions', chatRequest('one', { user: 'someone-else' }));
  assert.equal(second.status, 200, second.text);
  assert.equal(second.headers.get('x-switchyard-cache'), 'hit');
  assert.equal(second.headers.get('x-switchyard-provider'), 'mock');
  assert.equal(second.headers.get('x-switchyard-model'), 'mock-gpt');
  assert.equal(second.headers.get('x-switchyard-attempts'), '0');
  assert.equal(second.json().choices[0].message.content, first.json().choices[0].message.content);
  assert.equal(generations(mock), 1);
  // another question is another entry
  const other = await post(gateway, '/v1/chat/completions', chatRequest('two'));
  assert.equal(other.headers.get('x-switchyard-cache'), 'miss');
  assert.equal(generations(mock), 2);
  // a route without a cache pays nothing and says nothing
  const plain = await post(gateway, '/v1/chat/completions', { ...chatRequest('one'), model: 'plain' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('x-switchyard-cache'), null);
  assert.equal(generations(mock), 3);
});

for (const dialect of DIALECTS) {
  test(`${dialect.name}: a whole answer is served again as a stream, and a streamed one as a whole answer`, T, async (t) => {
    const { mock, gateway } = await setup(t);
    const whole = await ask(gateway, dialect, `whole first (${dialect.name})`, false);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(dialect.text(whole, false), MOCK_TEXT);
    const streamed = await ask(gateway, dialect, `whole first (${dialect.name})`, true);
    assert.equal(streamed.status, 200, streamed.text);
    assert.equal(streamed.headers.get('x-switchyard-cache'), 'hit');
    assert.ok(streamed.headers.get('content-type')!.startsWith(dialect.streamType), streamed.headers.get('content-type')!);
    assert.equal(dialect.text(streamed, true), MOCK_TEXT);
    assert.equal(generations(mock), 1);

    const streamedFirst = await ask(gateway, dialect, `stream first (${dialect.name})`, true);
    assert.equal(streamedFirst.status, 200, streamedFirst.text);
    assert.equal(streamedFirst.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(dialect.text(streamedFirst, true), MOCK_TEXT);
    const wholeAfter = await ask(gateway, dialect, `stream first (${dialect.name})`, false);
    assert.equal(wholeAfter.headers.get('x-switchyard-cache'), 'hit', wholeAfter.text);
    assert.equal(dialect.text(wholeAfter, false), MOCK_TEXT);
    const streamedAgain = await ask(gateway, dialect, `stream first (${dialect.name})`, true);
    assert.equal(streamedAgain.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(dialect.text(streamedAgain, true), MOCK_TEXT);
    assert.equal(generations(mock), 2);
  });
}

test('an Anthropic pass-through route: the forwarded bytes are read back and served as a stream or whole, and in OpenAI chat', T, async (t) => {
  const { claude } = await startMocks(t, { claude: (request: RecordedRequest) => anthropicAnswer(request) });
  const gateway = await startGatewayFor(t, {
    providers: [anthropicProvider('claude', claude)],
    models: [{ name: 'cached', targets: [{ provider: 'claude', model: 'claude-mock' }], cache: CACHE }],
  });
  const anthropic = DIALECTS.find((dialect) => dialect.name === 'anthropic')!;
  const streamed = await ask(gateway, anthropic, 'through', true);
  assert.equal(streamed.headers.get('x-switchyard-cache'), 'miss');
  assert.equal(anthropic.text(streamed, true), 'Hello from Claude.');
  const whole = await ask(gateway, anthropic, 'through', false);
  assert.equal(whole.headers.get('x-switchyard-cache'), 'hit', whole.text);
  assert.equal(anthropic.text(whole, false), 'Hello from Claude.');
  assert.equal(whole.json().usage.output_tokens, 3, 'the usage of the stored (streamed) answer');
  const openai = await post(gateway, '/v1/chat/completions', chatRequest('through', { max_tokens: 64 }));
  assert.equal(openai.headers.get('x-switchyard-cache'), 'hit', openai.text);
  assert.equal(openai.json().choices[0].message.content, 'Hello from Claude.');
  const wholeFirst = await ask(gateway, anthropic, 'whole through', false);
  assert.equal(wholeFirst.headers.get('x-switchyard-cache'), 'miss');
  const streamHit = await ask(gateway, anthropic, 'whole through', true);
  assert.equal(streamHit.headers.get('x-switchyard-cache'), 'hit');
  assert.equal(anthropic.text(streamHit, true), 'Hello from Claude.');
  assert.equal(generations(claude), 2);
});

test('one answer serves every dialect: asked in OpenAI chat, answered from the cache in Anthropic', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const first = await post(gateway, '/v1/chat/completions', chatRequest('shared', { max_tokens: 64 }));
  assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
  const second = await post(gateway, '/v1/messages', { model: 'cached', max_tokens: 64, messages: [{ role: 'user', content: 'shared' }] }, { 'anthropic-version': '2023-06-01' });
  assert.equal(second.headers.get('x-switchyard-cache'), 'hit', second.text);
  assert.equal(second.json().content[0].text, MOCK_TEXT);
  assert.equal(generations(mock), 1);
});

test('bypass: cache-control: no-cache and x-switchyard-cache: bypass skip the cache, reading and writing', T, async (t) => {
  const { mock, gateway } = await setup(t);
  const bypasses: Record<string, string>[] = [{ 'cache-control': 'no-cache' }, { 'x-switchyard-cache': 'bypass' }, { 'cache-control': 'max-age=0, no-store' }];
  for (const headers of bypasses) {
    const reply = await post(gateway, '/v1/chat/completions', chatRequest('bypassed'), headers);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-switchyard-cache'), 'bypass', JSON.stringify(headers));
  }
  assert.equal(generations(mock), 3);
  // nothing was stored by the bypasses
  const miss = await post(gateway, '/v1/chat/completions', chatRequest('bypassed'));
  assert.equal(miss.headers.get('x-switchyard-cache'), 'miss');
  const hit = await post(gateway, '/v1/chat/completions', chatRequest('bypassed'));
  assert.equal(hit.headers.get('x-switchyard-cache'), 'hit');
  const bypassAfter = await post(gateway, '/v1/chat/completions', chatRequest('bypassed'), { 'cache-control': 'no-cache' });
  assert.equal(bypassAfter.headers.get('x-switchyard-cache'), 'bypass');
  assert.equal(generations(mock), 5);
});

test('per_key: each client key has its own entries; shared routes answer every key from one', T, async (t) => {
  const { mock, gateway } = await setup(t, {
    keys: ['sk-first-key-0001', 'sk-second-key-002'],
    models: [cachedAlias('cached', { ttlSeconds: 3600, perKey: true }), { ...cachedAlias('shared'), name: 'shared' }],
  });
  const as = (key: string, model = 'cached') => post(gateway, '/v1/chat/completions', { ...chatRequest('mine'), model }, { authorization: `Bearer ${key}` });
  assert.equal((await as('sk-first-key-0001')).headers.get('x-switchyard-cache'), 'miss');
  assert.equal((await as('sk-first-key-0001')).headers.get('x-switchyard-cache'), 'hit');
  assert.equal((await as('sk-second-key-002')).headers.get('x-switchyard-cache'), 'miss');
  assert.equal((await as('sk-second-key-002')).headers.get('x-switchyard-cache'), 'hit');
  assert.equal(generations(mock), 2);
  assert.equal((await as('sk-first-key-0001', 'shared')).headers.get('x-switchyard-cache'), 'miss');
  assert.equal((await as('sk-second-key-002', 'shared')).headers.get('x-switchyard-cache'), 'hit');
  assert.equal(generations(mock), 3);
});

test('ttl: an answer older than ttl_s is not served; the top-level ttl covers routes that are not aliases, an alias may turn it off', T, async (t) => {
  const { mock, gateway } = await setup(t, {
    models: [cachedAlias('cached', { ttlSeconds: 1, perKey: false }), { name: 'off', targets: [{ provider: 'mock', model: 'mock-gpt' }], cache: { ttlSeconds: 0, perKey: false } }],
    cache: { route: { ttlSeconds: 3600, perKey: false } },
  });
  assert.equal((await post(gateway, '/v1/chat/completions', chatRequest('short'))).headers.get('x-switchyard-cache'), 'miss');
  assert.equal((await post(gateway, '/v1/chat/completions', chatRequest('short'))).headers.get('x-switchyard-cache'), 'hit');
  await sleep(1100);
  assert.equal((await post(gateway, '/v1/chat/completions', chatRequest('short'))).headers.get('x-switchyard-cache'), 'miss');
  assert.equal(generations(mock), 2);
  // a bare model name: cached by the top-level default
  assert.equal((await post(gateway, '/v1/chat/completions', { ...chatRequest('bare'), model: 'mock-gpt' })).headers.get('x-switchyard-cache'), 'miss');
  assert.equal((await post(gateway, '/v1/chat/completions', { ...chatRequest('bare'), model: 'mock-gpt' })).headers.get('x-switchyard-cache'), 'hit');
  // the alias that turned it off
  assert.equal((await post(gateway, '/v1/chat/completions', { ...chatRequest('bare'), model: 'off' })).headers.get('x-switchyard-cache'), null);
  assert.equal(generations(mock), 4);
});

test('a stream that failed or was cut is never stored, nor is an error answer', T, async (t) => {
  const broken = (request: RecordedRequest, index: number): Behavior => {
    const prompt = request.body?.messages?.[0]?.content;
    if (prompt === 'cut' && index < 2) return { kind: 'stream', events: [chunk('Hello'), chunk(' there')], thenBehavior: 'reset' };
    if (prompt === 'error event') return { kind: 'stream', events: [chunk('Hello'), JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })] };
    if (prompt === 'refused') return { kind: 'json', status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } };
    return { kind: 'default' };
  };
  const { mock, gateway } = await setup(t, {}, broken);
  for (const prompt of ['cut', 'error event']) {
    const first = await post(gateway, '/v1/chat/completions', chatRequest(prompt, { stream: true }));
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss', prompt);
    const again = await post(gateway, '/v1/chat/completions', chatRequest(prompt, { stream: true }));
    assert.equal(again.headers.get('x-switchyard-cache'), 'miss', `${prompt}: not stored`);
  }
  const refused = await post(gateway, '/v1/chat/completions', chatRequest('refused'));
  assert.equal(refused.status, 400);
  const refusedAgain = await post(gateway, '/v1/chat/completions', chatRequest('refused'));
  assert.equal(refusedAgain.status, 400);
  assert.equal(generations(mock), 6);
  // a stream the client left is not stored either
  const controller = new AbortController();
  const slow = (request: RecordedRequest): Behavior => request.body?.messages?.[0]?.content === 'left'
    ? { kind: 'stream', events: [chunk('a'), chunk('b'), chunk('c'), finishChunk(), '[DONE]'], intervalMs: 200 }
    : { kind: 'default' };
  const second = await setup(t, {}, slow);
  const response = await fetch(`${second.gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatRequest('left', { stream: true })), signal: controller.signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.closed.catch(() => {});
  await sleep(700);
  const after = await post(second.gateway, '/v1/chat/completions', chatRequest('left', { stream: true }));
  assert.equal(after.headers.get('x-switchyard-cache'), 'miss');
});

test('the byte bound: past cache.max_bytes the least recently used answers go, and the gauge stays under it', T, async (t) => {
  const maxBytes = 2048;
  const { mock, gateway } = await setup(t, { cache: { maxBytes, maxEntryBytes: 1024 } });
  for (let i = 0; i < 12; i++) {
    const reply = await post(gateway, '/v1/chat/completions', chatRequest(`question ${i}`));
    assert.equal(reply.headers.get('x-switchyard-cache'), 'miss');
  }
  const cache = gateway.gateway.runtime.state.responses;
  assert.ok(cache.bytes <= maxBytes && cache.bytes > 0, `${cache.bytes} bytes`);
  assert.ok(cache.size < 12 && cache.size >= 2, `${cache.size} entries`);
  assert.equal((await post(gateway, '/v1/chat/completions', chatRequest('question 11'))).headers.get('x-switchyard-cache'), 'hit', 'the newest stays');
  assert.equal((await post(gateway, '/v1/chat/completions', chatRequest('question 0'))).headers.get('x-switchyard-cache'), 'miss', 'the oldest went');
  assert.equal(generations(mock), 13);
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  const bytes = Number(/^switchyard_cache_bytes (\d+)/m.exec(metrics)?.[1]);
  assert.ok(bytes > 0 && bytes <= maxBytes, metrics);
});

test('usage and metrics: a hit is a row with cached: true and cost 0; hits, misses and bypasses are counted', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cache-'));
  const { gateway } = await setup(t, { storage: { path: dir }, prices: [{ model: 'mock-gpt', price: { input: 1000, output: 1000 } }] });
  await post(gateway, '/v1/chat/completions', chatRequest('priced'));
  const hit = await post(gateway, '/v1/chat/completions', chatRequest('priced'));
  assert.equal(hit.headers.get('x-switchyard-cache'), 'hit');
  await post(gateway, '/v1/chat/completions', chatRequest('priced'), { 'x-switchyard-cache': 'bypass' });
  for (let i = 0; i < 200 && (gateway.usage!.queued + gateway.usage!.written) < 3; i++) await sleep(5);
  const report = await (await fetch(`${gateway.url}/v0/usage?group_by=model`)).json() as any;
  const row = report.data.find((entry: any) => entry.group === 'mock-gpt');
  assert.equal(row.requests, 3);
  assert.equal(row.cached_requests, 1);
  assert.equal(report.totals.cached_requests, 1);
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /^switchyard_cache_hits_total 1$/m);
  assert.match(metrics, /^switchyard_cache_misses_total 1$/m);
  assert.match(metrics, /^switchyard_cache_bypasses_total 1$/m);
  const access = gateway.logs.filter((line) => line.msg === 'request' && line.model === 'cached');
  assert.deepEqual(access.map((line) => line.cache), ['miss', 'hit', 'bypass']);
  assert.equal(access[1]!.cost_usd, 0);
});

test('a key of the key store with its own cache (made through the API): no route has a cache, and its repeated request is a hit', T, async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'switchyard-cache-store-'));
  const { mock, gateway } = await setup(t, { models: [{ name: 'plain', targets: [{ provider: 'mock', model: 'mock-gpt' }] }], storage: { path: state } });
  assert.equal(gateway.gateway.phases.lookup.length, 0, 'no route nor key has a cache yet: nothing compiled');
  const created = await post(gateway, '/v0/management/keys', { name: 'cached-bot', cache: { ttl_s: 3600 } });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json().cache, { ttl_s: 3600 });
  assert.equal(gateway.gateway.phases.lookup.length, 1, 'the key with a cache compiles the lookup');
  const secret = created.json().key as string;
  const as = (key: string) => post(gateway, '/v1/chat/completions', { ...chatRequest('keyed'), model: 'plain' }, { authorization: `Bearer ${key}` });
  const first = await as(secret);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
  const second = await as(secret);
  assert.equal(second.headers.get('x-switchyard-cache'), 'hit');
  assert.equal(second.json().choices[0].message.content, first.json().choices[0].message.content);
  assert.equal(generations(mock), 1);
  // a key without a cache on the same route is not answered from it
  const other = await post(gateway, '/v0/management/keys', { name: 'uncached-bot' });
  const plain = await as(other.json().key as string);
  assert.equal(plain.headers.get('x-switchyard-cache'), null);
  assert.equal(generations(mock), 2);
  // bad cache settings are a 400 naming the field
  const bad = await post(gateway, '/v0/management/keys', { name: 'bad-cache', cache: { ttl_s: -1 } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /cache\.ttl_s/);
  // PATCH cache: null takes it away again
  const cleared = await fetch(`${gateway.url}/v0/management/keys/cached-bot`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cache: null }) });
  assert.equal(cleared.status, 200, await cleared.text());
  assert.equal(gateway.gateway.phases.lookup.length, 0);
});
