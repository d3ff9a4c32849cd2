// The lifecycle's phases are data: a feature is a handler in one of them. Each test installs a
// handler where a future feature would (a budget check in admit, a rewrite in route, a cache hit
// in lookup, a header at commit, a filter on stream parts, a settlement in complete) and checks
// that the request goes through it — without any change to the dispatcher or the runner.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import { ANSWERED, PHASE_NAMES, type Phases } from '../../src/pipeline/phases.ts';
import type { RequestContext } from '../../src/pipeline/context.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { readSse } from '../helpers/sse.ts';

let mock: MockUpstream;
let gateway: TestGateway;
let compiled: Phases;

before(async () => {
  mock = await startMockUpstream();
  gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'mock-cheap'] }] });
  compiled = gateway.gateway.phases;
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

/** Installs extra handlers for one test (the compiled ones stay, in front). */
function install(extra: Partial<{ [K in keyof Phases]: Phases[K] }>): void {
  const next: Record<string, readonly unknown[]> = {};
  for (const [name, handlers] of Object.entries(compiled)) next[name] = [...handlers, ...((extra as Record<string, readonly unknown[]>)[name] ?? [])];
  gateway.gateway.phases = next as unknown as Phases;
}

function chat(body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

test('the phases are named in order, and the compiled ones are frozen arrays', () => {
  assert.deepEqual([...PHASE_NAMES], ['accept', 'authenticate', 'decode', 'admit', 'route', 'lookup', 'attempt', 'commit', 'stream', 'complete', 'error']);
  assert.ok(Object.isFrozen(compiled));
  assert.equal(compiled.accept.length, 1, 'the browser guard');
  // no client keys: only the management API's guard (admin keys, or loopback), a prefix check for other paths
  assert.equal(compiled.authenticate.length, 1, 'no client keys: the management API guard alone');
  assert.equal(compiled.admit.length + compiled.lookup.length + compiled.commit.length + compiled.stream.length, 0);
});

test('admit: one handler refuses a request over its budget, in the caller\'s dialect, before the upstream', async () => {
  install({ admit: [(context: RequestContext) => context.request.headers['x-budget-left'] === '0'
    ? new GatewayError(ErrorCode.invalidRequest, 'This key is over its budget.', { status: 429, origin: 'downstream', errorClass: 'client-error' })
    : undefined] });
  try {
    const before = mock.requests.length;
    const refused = await chat({}, { 'x-budget-left': '0' });
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { message: string } }).error.message, 'This key is over its budget.');
    const messages = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-budget-left': '0' },
      body: JSON.stringify({ model: 'mock-gpt', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(messages.status, 429);
    assert.equal(((await messages.json()) as { type: string }).type, 'error');
    assert.equal(mock.requests.length, before);
    const allowed = await chat({}, { 'x-budget-left': '5' });
    assert.equal(allowed.status, 200);
    await allowed.arrayBuffer();
  } finally {
    gateway.gateway.phases = compiled;
  }
});

test('route: a handler rewrites the name to resolve (as `model: auto` will)', async () => {
  install({ route: [(context: RequestContext) => { if (context.routeModel === 'auto') context.routeModel = 'mock-cheap'; return undefined; }] });
  try {
    const response = await chat({ model: 'auto' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-model'), 'mock-cheap');
    await response.arrayBuffer();
    assert.equal((mock.requests.at(-1)!.body as { model: string }).model, 'mock-cheap');
  } finally {
    gateway.gateway.phases = compiled;
  }
});

test('lookup: a handler answers (a cache hit) and nothing goes upstream', async () => {
  install({ lookup: [(context: RequestContext) => {
    context.response.writeHead(200, { 'content-type': 'application/json', 'x-cache': 'hit' });
    context.response.end(JSON.stringify({ cached: true }));
    return ANSWERED;
  }] });
  try {
    const before = mock.requests.length;
    const response = await chat();
    assert.equal(response.headers.get('x-cache'), 'hit');
    assert.deepEqual(await response.json(), { cached: true });
    assert.equal(mock.requests.length, before);
  } finally {
    gateway.gateway.phases = compiled;
  }
});

test('commit, stream and complete: a header on the answer, a filter on every text part, a settlement after the close', async () => {
  const settled: { model: string; status: number }[] = [];
  install({
    // a handler that needs canonical parts says so in decode (as the plugin host does)
    decode: [(context: RequestContext) => { context.translate = true; return undefined; }],
    commit: [(_context: RequestContext, headers: string[]) => { headers.push('x-ratelimit-remaining', '41'); }],
    stream: [(_context, part) => (part.type === 'text-delta' ? { ...part, delta: part.delta.toUpperCase() } : part)],
    complete: [{ requestEnded: (context: RequestContext) => { settled.push({ model: context.modelAsked, status: context.response.statusCode }); } }],
  });
  try {
    // same dialect both sides: a filtered stream is translated instead of passed through
    const response = await chat({ stream: true });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ratelimit-remaining'), '41');
    const events = await readSse(response);
    const text = events.filter((event) => event.data !== '[DONE]').map((event) => (JSON.parse(event.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
    assert.ok(text.length > 0);
    assert.equal(text, text.toUpperCase());
    const plain = await chat();
    assert.equal(plain.headers.get('x-ratelimit-remaining'), '41');
    await plain.arrayBuffer();
    for (let i = 0; i < 50 && settled.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(settled, [{ model: 'mock-gpt', status: 200 }, { model: 'mock-gpt', status: 200 }]);
  } finally {
    gateway.gateway.phases = compiled;
  }
});
