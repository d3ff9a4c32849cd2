// Where a request goes when something is wrong: the context-overflow alias (on the provider's
// context_length_exceeded and on the gateway's own estimate), client errors that must not be
// retried, a fallback chain that crosses dialects, a failing primary that is ejected and comes back
// through its half-open probe, provider keys that are refused, and session affinity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import {
  anthropicAnswer, anthropicProvider, assertCleanOpenAIStream, assertMeta, assertOpenAIError, chat, FAST_RETRY, FAST_TIMEOUTS, messages,
  MOCK_TEXT, openaiProvider, sleep, startGatewayFor, startMocks, status,
  ONE_TARGET,
} from '../helpers/resilience.ts';

const T = { timeout: 15_000 };
const OK: Behavior = { kind: 'default' };

// --- context overflow --------------------------------------------------------------------------

const contextExceeded = (): Behavior => status(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", undefined, 'context_length_exceeded');

for (const stream of [false, true]) {
  test(`context_length_exceeded goes to the alias's on_context_overflow alias (${stream ? 'stream' : 'json'})`, T, async (t) => {
    const { small, other, large } = await startMocks(t, { small: () => contextExceeded(), other: () => OK, large: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('ps', small), openaiProvider('po', other), openaiProvider('pl', large)],
      models: [
        { name: 'a', strategy: 'fill-first', targets: [{ provider: 'ps', model: 'small' }, { provider: 'po', model: 'other' }], onContextOverflow: 'long', retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
        { name: 'long', targets: [{ provider: 'pl', model: 'large' }] },
      ],
    });
    const reply = await chat(gateway, 'a', { stream });
    if (stream) assertCleanOpenAIStream(reply, MOCK_TEXT);
    else assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
    assertMeta(reply, { provider: 'pl', model: 'large', attempts: '2', fallback: 'long' });
    assert.deepEqual([small.requests.length, other.requests.length, large.requests.length], [1, 0, 1], 'straight to the overflow alias, not to another target');
  });
}

test('context_length_exceeded without an overflow alias fails at once with the upstream\'s 400', T, async (t) => {
  const { small, other } = await startMocks(t, { small: () => contextExceeded(), other: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('ps', small), openaiProvider('po', other)],
    models: [{ name: 'a', strategy: 'fill-first', targets: [{ provider: 'ps', model: 'small' }, { provider: 'po', model: 'other' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
  });
  const reply = await chat(gateway, 'a', { stream: true });
  const error = assertOpenAIError(reply, 400, 'context_length_exceeded');
  assert.match(error.message, /maximum context length/);
  assertMeta(reply, { provider: 'ps', attempts: '1' });
  assert.deepEqual([small.requests.length, other.requests.length], [1, 0]);
});

test('a prompt estimated above a target\'s context_window skips it for the overflow alias without a request to it', T, async (t) => {
  const { small, large } = await startMocks(t, { small: () => OK, large: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('ps', small), openaiProvider('pl', large)],
    models: [
      { name: 'a', targets: [{ provider: 'ps', model: 'small', contextWindow: 10 }], onContextOverflow: 'long', retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
      { name: 'long', targets: [{ provider: 'pl', model: 'large' }] },
    ],
  });
  const long = 'word '.repeat(200);
  const reply = await chat(gateway, 'a', { messages: [{ role: 'user', content: long }], stream: true });
  assertCleanOpenAIStream(reply, MOCK_TEXT);
  assertMeta(reply, { provider: 'pl', model: 'large', attempts: '1', fallback: 'long' });
  assert.equal(small.requests.length, 0);
  assert.equal(large.requests.length, 1);

  // a short prompt still fits
  const short = await chat(gateway, 'a');
  assert.equal(short.status, 200);
  assertMeta(short, { provider: 'ps', fallback: null });
  assert.equal(small.requests.length, 1);
});

test('a prompt too long for every target, with no overflow alias: 400 from the gateway, nothing sent', T, async (t) => {
  const { small } = await startMocks(t, { small: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('ps', small)],
    models: [{ name: 'a', targets: [{ provider: 'ps', model: 'small', contextWindow: 10 }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
  });
  const reply = await chat(gateway, 'a', { messages: [{ role: 'user', content: 'word '.repeat(200) }] });
  const error = assertOpenAIError(reply, 400);
  assert.match(error.message, /context window/);
  assert.equal(small.requests.length, 0);
});

// --- client errors -----------------------------------------------------------------------------

for (const stream of [false, true]) {
  test(`a content-policy 400 is neither retried nor sent elsewhere (${stream ? 'stream' : 'json'})`, T, async (t) => {
    const refusal = status(400, 'Your request was rejected as a result of our safety system.', undefined, 'content_policy_violation');
    const { first, second } = await startMocks(t, { first: () => refusal, second: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p1', first), openaiProvider('p2', second)],
      models: [
        { name: 'a', strategy: 'fill-first', targets: [{ provider: 'p1', model: 'm' }, { provider: 'p2', model: 'm' }], fallbacks: ['b'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
        { name: 'b', targets: [{ provider: 'p2', model: 'mb' }] },
      ],
    });
    const reply = await chat(gateway, 'a', { stream });
    assertOpenAIError(reply, 400, 'content_policy_violation');
    assertMeta(reply, { provider: 'p1', attempts: '1' });
    assert.equal(first.requests.length, 1);
    assert.equal(second.requests.length, 0);

    // the target is not blamed for the request's fault: the next request goes to it again
    await chat(gateway, 'a', { stream });
    assert.equal(first.requests.length, 2);
  });
}

// --- fallback across dialects ------------------------------------------------------------------

for (const stream of [true, false]) {
  test(`fallback from a failing OpenAI target to an Anthropic one: the client gets a proper OpenAI ${stream ? 'stream' : 'answer'}`, T, async (t) => {
    const { broken, claude } = await startMocks(t, { broken: () => status(500, 'The server had an error.'), claude: (request) => anthropicAnswer(request, 'Hello from Claude.') });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('gpt', broken), anthropicProvider('claude', claude)],
      models: [
        { name: 'smart', targets: [{ provider: 'gpt', model: 'gpt-big' }], fallbacks: ['cheap'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
        { name: 'cheap', targets: [{ provider: 'claude', model: 'claude-small' }] },
      ],
    });
    const reply = await chat(gateway, 'smart', { stream });
    if (stream) {
      const events = assertCleanOpenAIStream(reply, 'Hello from Claude.');
      const first = JSON.parse(events[0]!.data);
      assert.equal(first.object, 'chat.completion.chunk');
      assert.equal(first.choices[0].delta.role, 'assistant');
      assert.ok(events.some((event) => event.data !== '[DONE]' && JSON.parse(event.data).choices?.[0]?.finish_reason === 'stop'));
    } else {
      const body = reply.json();
      assert.equal(body.object, 'chat.completion');
      assert.equal(body.choices[0].message.content, 'Hello from Claude.');
      assert.equal(body.choices[0].finish_reason, 'stop');
    }
    assertMeta(reply, { provider: 'claude', model: 'claude-small', attempts: '3', fallback: 'cheap' });
    assert.equal(broken.requests.length, 2);
    assert.equal(claude.requests.length, 1);
    const sent = claude.requests[0]!;
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.body.model, 'claude-small');
    assert.equal(sent.body.messages.length, 1);
    assert.equal(sent.body.messages[0].role, 'user');
    const content = sent.body.messages[0].content;
    assert.equal(typeof content === 'string' ? content : content.map((block: { text: string }) => block.text).join(''), 'hi');
    assert.equal(sent.body.stream === true, stream);
    assert.equal(sent.headers['x-api-key'], 'sk-ant-upstream');
  });
}

test('when the fallback fails too, its error is answered and the headers name the fallback that gave it', T, async (t) => {
  const { broken, claude } = await startMocks(t, {
    broken: () => status(500, 'The server had an error.'),
    claude: () => ({ kind: 'json', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }),
  });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('gpt', broken), anthropicProvider('claude', claude)],
    models: [
      { name: 'smart', targets: [{ provider: 'gpt', model: 'gpt-big' }], fallbacks: ['cheap'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
      { name: 'cheap', targets: [{ provider: 'claude', model: 'claude-small' }], retry: { ...FAST_RETRY, attempts: 1 } },
    ],
  });
  const reply = await chat(gateway, 'smart', { stream: true });
  const error = assertOpenAIError(reply, 429);
  assert.match(error.message, /Overloaded/);
  assertMeta(reply, { provider: 'claude', model: 'claude-small', attempts: '3', fallback: 'cheap' });
  assert.equal(broken.requests.length, 2);
  assert.equal(claude.requests.length, 1);
});

test('a fallback may name provider:model directly', T, async (t) => {
  const { broken, backup } = await startMocks(t, { broken: () => status(502, 'Bad gateway'), backup: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('pa', broken), openaiProvider('pb', backup)],
    models: [{ name: 'a', targets: [{ provider: 'pa', model: 'm' }], fallbacks: ['pb:other-model'], retry: { ...FAST_RETRY, attempts: 1 }, timeouts: FAST_TIMEOUTS }],
  });
  const reply = await chat(gateway, 'a', { stream: true });
  assertCleanOpenAIStream(reply, MOCK_TEXT);
  assertMeta(reply, { provider: 'pb', model: 'other-model', attempts: '2', fallback: 'pb:other-model' });
  assert.equal(backup.requests[0]!.body.model, 'other-model');
});

test('fallback chains that lead back to themselves end: each alias is tried once', T, async (t) => {
  const { a, b } = await startMocks(t, { a: () => status(500, 'a is down'), b: () => status(500, 'b is down') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('pa', a, { models: ['m'] }), openaiProvider('pb', b, { models: ['m'] })],
    models: [
      { name: 'x', targets: [{ provider: 'pa', model: 'm' }], fallbacks: ['y', 'x'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
      { name: 'y', targets: [{ provider: 'pb', model: 'm' }], fallbacks: ['x', 'y', 'no-such-model'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
    ],
  });
  const reply = await chat(gateway, 'x');
  const error = assertOpenAIError(reply, 502, 'upstream_error');
  assert.match(error.message, /b is down/, 'the last failure is answered');
  assertMeta(reply, { provider: 'pb', attempts: '4', fallback: 'y' });
  assert.deepEqual([a.requests.length, b.requests.length], [2, 2]);
});

// --- ejection and recovery ---------------------------------------------------------------------

test('a primary that keeps failing is ejected and avoided, probed once its ejection ends, and used again once it answers', { timeout: 20_000 }, async (t) => {
  let primaryUp = false;
  let probeDelayMs = 0;
  const { primary, secondary } = await startMocks(t, {
    primary: () => primaryUp ? (probeDelayMs > 0 ? { kind: 'delay', ms: probeDelayMs } : OK) : status(500, 'down'),
    secondary: () => OK,
  });
  const EJECT_MS = 500;
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p1', primary), openaiProvider('p2', secondary)],
    models: [{ name: 'a', strategy: 'fill-first', targets: [{ provider: 'p1', model: 'm1' }, { provider: 'p2', model: 'm2' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: EJECT_MS, ejectMaxMs: EJECT_MS } },
  });

  // two failures in a row eject the primary; the request is answered by the secondary
  const first = await chat(gateway, 'a');
  assert.equal(first.status, 200);
  assertMeta(first, { provider: 'p2', attempts: '3' });
  assert.equal(primary.requests.length, 2);
  const ejectedAt = Date.now();

  // while ejected, fill-first skips it
  for (let i = 0; i < 3; i++) assertMeta(await chat(gateway, 'a'), { provider: 'p2', attempts: '1' });
  assert.ok(Date.now() - ejectedAt < EJECT_MS, 'still inside the ejection (the machine is very slow otherwise)');
  assert.equal(primary.requests.length, 2, 'no request reaches an ejected target');

  // the ejection ends: one probe reaches it, fails, and it is ejected again
  await sleep(EJECT_MS + 50);
  const probed = await chat(gateway, 'a');
  assert.equal(probed.status, 200);
  assertMeta(probed, { provider: 'p2', attempts: '2' });
  assert.equal(primary.requests.length, 3, 'the half-open probe');
  assertMeta(await chat(gateway, 'a'), { provider: 'p2', attempts: '1' });
  assert.equal(primary.requests.length, 3, 'a failed probe ejects it again');

  // it recovers: the next probe succeeds; while the probe is in flight nobody else is let through
  primaryUp = true;
  probeDelayMs = 200; // in flight long enough to overlap, well under FAST_TIMEOUTS.firstByteMs
  await sleep(EJECT_MS + 50);
  const probe = chat(gateway, 'a');
  await primary.waitForRequests(4);
  const during = await chat(gateway, 'a');
  assertMeta(during, { provider: 'p2', attempts: '1' });
  assert.equal(primary.requests.length, 4, 'one probe at a time');
  const recovered = await probe;
  assert.equal(recovered.status, 200);
  assertMeta(recovered, { provider: 'p1', model: 'm1', attempts: '1' });

  // healthy again: fill-first sends everything back to it
  probeDelayMs = 0;
  const before = secondary.requests.length;
  for (let i = 0; i < 3; i++) assertMeta(await chat(gateway, 'a', { stream: true }), { provider: 'p1', attempts: '1' });
  assert.equal(primary.requests.length, 7);
  assert.equal(secondary.requests.length, before);
});

test('panic off: a single target whose half-open probe is out: other requests get 429 with Retry-After, not the upstream', T, async (t) => {
  let up = false;
  const { only } = await startMocks(t, { only: () => up ? { kind: 'delay', ms: 200 } : status(500, 'down') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', only)],
    models: ONE_TARGET,
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 200, ejectMaxMs: 200, panicThresholdPercent: 0 } },
  });
  assertOpenAIError(await chat(gateway, 'a'), 502);
  up = true;
  await sleep(250);
  const probe = chat(gateway, 'a');
  await only.waitForRequests(3);
  for (const reply of [await chat(gateway, 'a'), await messages(gateway, 'a')]) {
    assert.equal(reply.status, 429, reply.text);
    assert.equal(reply.headers.get('retry-after'), '1');
    assert.match(reply.text, /p\/m probing/, 'the message says why');
  }
  assert.equal(only.requests.length, 3);
  assert.equal((await probe).status, 200);
  assert.equal((await chat(gateway, 'a')).status, 200, 'recovered');
});

test('a single target whose half-open probe is out: the route is in panic, so other requests still reach it', T, async (t) => {
  let up = false;
  const { only } = await startMocks(t, { only: () => up ? { kind: 'delay', ms: 200 } : status(500, 'down') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', only)],
    models: ONE_TARGET,
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 200, ejectMaxMs: 200 } },
  });
  assertOpenAIError(await chat(gateway, 'a'), 502);
  up = true;
  await sleep(250);
  const probe = chat(gateway, 'a');
  await only.waitForRequests(3);
  const during = await Promise.all([chat(gateway, 'a'), messages(gateway, 'a')]);
  for (const reply of during) assert.equal(reply.status, 200, reply.text);
  assert.equal(only.requests.length, 5, 'sent upstream while the probe was out');
  assert.equal((await probe).status, 200);
  const [entry] = [...gateway.gateway.runtime.health.all()];
  assert.equal(entry!.state(Date.now()), 'healthy', 'the probe brought it back');
  assert.equal(entry!.ejections, 0);
});

test('a lone primary that is ejected gives way to its healthy fallback (no panic while a fallback can answer); with the fallback down too, the primary is tried again', T, async (t) => {
  let fallbackUp = true;
  const { primary, backup } = await startMocks(t, { primary: () => status(500, 'down'), backup: () => fallbackUp ? OK : status(500, 'backup down') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p1', primary), openaiProvider('p2', backup)],
    models: [
      { name: 'a', targets: [{ provider: 'p1', model: 'm1' }], fallbacks: ['b'], retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 100 } },
      { name: 'b', targets: [{ provider: 'p2', model: 'm2' }], retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 100 } },
    ],
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 20_000 } },
  });
  for (let i = 0; i < 2; i++) assertMeta(await chat(gateway, 'a'), { provider: 'p2', fallback: 'b', attempts: '2' });
  assert.equal(primary.requests.length, 2, 'two failures in a row: ejected');
  for (let i = 0; i < 3; i++) assertMeta(await chat(gateway, 'a'), { provider: 'p2', fallback: 'b', attempts: '1' });
  assert.equal(primary.requests.length, 2, 'avoided while its fallback answers');

  // the fallback fails as well and is ejected in turn: nothing healthy is left, both are tried
  fallbackUp = false;
  assertOpenAIError(await chat(gateway, 'b'), 502);
  assertOpenAIError(await chat(gateway, 'b'), 502);
  const before = { primary: primary.requests.length, backup: backup.requests.length };
  const reply = await chat(gateway, 'a');
  assertOpenAIError(reply, 502);
  assertMeta(reply, { attempts: '2', fallback: 'b' });
  assert.equal(primary.requests.length, before.primary + 1, 'the primary, in panic');
  assert.equal(backup.requests.length, before.backup + 1, 'then its fallback, in panic');
});

// --- provider keys -----------------------------------------------------------------------------

const keyOf = (request: { headers: Record<string, unknown> }): string => String(request.headers.authorization).replace(/^Bearer /, '');

test('a 401 on one key cools that key down: the request is answered with the other key, and later ones use only it', T, async (t) => {
  const { up } = await startMocks(t, { up: (request) => keyOf(request) === 'k1' ? status(401, 'Incorrect API key provided.', undefined, 'invalid_api_key') : OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up, { apiKeys: ['k1', 'k2'] })],
    models: ONE_TARGET,
  });
  const first = await chat(gateway, 'a');
  assert.equal(first.status, 200, first.text);
  assertMeta(first, { provider: 'p', attempts: '2' });
  for (let i = 0; i < 4; i++) {
    const reply = await chat(gateway, 'a', { stream: i % 2 === 1 });
    assert.equal(reply.status, 200);
    assertMeta(reply, { attempts: '1' });
  }
  assert.deepEqual(up.requests.map(keyOf), ['k1', 'k2', 'k2', 'k2', 'k2', 'k2']);
});

test('a key refused on every key: the provider\'s 401 is answered, then replayed without reaching it', T, async (t) => {
  const { up } = await startMocks(t, { up: () => status(401, 'Incorrect API key provided.', undefined, 'invalid_api_key') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up, { apiKeys: ['k1', 'k2'] })],
    models: ONE_TARGET,
  });
  const reply = await chat(gateway, 'a');
  assertOpenAIError(reply, 401, 'invalid_api_key');
  assert.deepEqual(up.requests.map(keyOf), ['k1', 'k2']);
  const again = await chat(gateway, 'a');
  assert.equal(again.status, 401);
  assert.equal(again.headers.get('x-switchyard-cooldown'), 'true');
  assert.equal(up.requests.length, 2);
});

test('keys take turns by default (round-robin)', T, async (t) => {
  const { up } = await startMocks(t, { up: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up, { apiKeys: ['k1', 'k2'] })],
    models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }] }],
  });
  for (let i = 0; i < 4; i++) assert.equal((await chat(gateway, 'a')).status, 200);
  assert.deepEqual(up.requests.map(keyOf), ['k1', 'k2', 'k1', 'k2']);
});

test('keyStrategy fill-first uses the first key until it fails, then the next', T, async (t) => {
  let k1Refused = false;
  const { up } = await startMocks(t, { up: (request) => k1Refused && keyOf(request) === 'k1' ? status(429, 'Rate limit reached.', { 'retry-after': '30' }) : OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up, { apiKeys: ['k1', 'k2'], keyStrategy: 'fill-first' })],
    models: ONE_TARGET,
  });
  for (let i = 0; i < 3; i++) assert.equal((await chat(gateway, 'a')).status, 200);
  k1Refused = true;
  const switched = await chat(gateway, 'a');
  assert.equal(switched.status, 200);
  assertMeta(switched, { attempts: '2' });
  for (let i = 0; i < 2; i++) assert.equal((await chat(gateway, 'a')).status, 200);
  assert.deepEqual(up.requests.map(keyOf), ['k1', 'k1', 'k1', 'k1', 'k2', 'k2', 'k2']);
});

// --- session affinity --------------------------------------------------------------------------

async function affinityGateway(t: Parameters<typeof startMocks>[0], scripts: { a?: () => Behavior; b?: () => Behavior } = {}) {
  const mocks = await startMocks(t, { a: scripts.a ?? (() => OK), b: scripts.b ?? (() => OK) });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('pa', mocks.a), openaiProvider('pb', mocks.b)],
    models: [{ name: 'sticky', strategy: 'round-robin', affinity: 'session', targets: [{ provider: 'pa', model: 'm' }, { provider: 'pb', model: 'm' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
  });
  return { ...mocks, gateway };
}

test('affinity: requests with the same x-session-id stay on one target; different sessions spread', T, async (t) => {
  const { gateway } = await affinityGateway(t);
  const providerOf = async (session: string): Promise<string> => {
    const reply = await chat(gateway, 'sticky', {}, { 'x-session-id': session });
    assert.equal(reply.status, 200);
    return reply.headers.get('x-switchyard-provider')!;
  };
  const pinned = await providerOf('s1');
  for (let i = 0; i < 5; i++) assert.equal(await providerOf('s1'), pinned, `request ${i} of session s1`);
  const others = new Set<string>();
  for (const session of ['s2', 's3', 's4', 's5']) {
    const provider = await providerOf(session);
    others.add(provider);
    assert.equal(await providerOf(session), provider, `session ${session} stays`);
  }
  assert.deepEqual([...others].sort(), ['pa', 'pb'], 'new sessions are spread by the strategy');
  // without a session, plain round-robin
  const plain = new Set<string>();
  for (let i = 0; i < 2; i++) plain.add((await chat(gateway, 'sticky')).headers.get('x-switchyard-provider')!);
  assert.equal(plain.size, 2);
});

test('affinity: the same prompt_cache_key in the body stays on one target', T, async (t) => {
  const { gateway } = await affinityGateway(t);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const reply = await chat(gateway, 'sticky', { prompt_cache_key: 'cache-42' });
    assert.equal(reply.status, 200);
    seen.add(reply.headers.get('x-switchyard-provider')!);
  }
  assert.equal(seen.size, 1);
  const other = new Set<string>();
  for (const key of ['cache-1', 'cache-2']) other.add((await chat(gateway, 'sticky', { prompt_cache_key: key })).headers.get('x-switchyard-provider')!);
  assert.equal(other.size, 2, 'other keys spread');
});

test('affinity: Anthropic metadata.user_id names the session', T, async (t) => {
  const { gateway } = await affinityGateway(t);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const reply = await messages(gateway, 'sticky', { metadata: { user_id: 'user_abc_session_1' }, stream: i % 2 === 0 });
    assert.equal(reply.status, 200, reply.text);
    seen.add(reply.headers.get('x-switchyard-provider')!);
  }
  assert.equal(seen.size, 1);
});

test('affinity: when the pinned target fails, the request fails over and the session moves with it', T, async (t) => {
  let failing = '';
  const { a, b, gateway } = await affinityGateway(t, {
    a: () => failing === 'pa' ? status(500, 'down') : OK,
    b: () => failing === 'pb' ? status(500, 'down') : OK,
  });
  const pinned = (await chat(gateway, 'sticky', {}, { 'x-session-id': 's1' })).headers.get('x-switchyard-provider')!;
  const other = pinned === 'pa' ? 'pb' : 'pa';
  failing = pinned;
  const moved = await chat(gateway, 'sticky', { stream: true }, { 'x-session-id': 's1' });
  assertCleanOpenAIStream(moved, MOCK_TEXT);
  assertMeta(moved, { provider: other, attempts: '3' });
  failing = '';
  const pinnedMock = pinned === 'pa' ? a : b;
  const seenByPinned = pinnedMock.requests.length;
  for (let i = 0; i < 3; i++) assertMeta(await chat(gateway, 'sticky', {}, { 'x-session-id': 's1' }), { provider: other, attempts: '1' });
  assert.equal(pinnedMock.requests.length, seenByPinned, 'the session stays where it was answered');
});

// --- strategies --------------------------------------------------------------------------------

test('weighted 3:1 over 8 requests: 6 and 2', T, async (t) => {
  const { heavy, light } = await startMocks(t, { heavy: () => OK, light: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('ph', heavy), openaiProvider('pl', light)],
    models: [{ name: 'w', strategy: 'weighted', targets: [{ provider: 'ph', model: 'm', weight: 3 }, { provider: 'pl', model: 'm', weight: 1 }] }],
  });
  for (let i = 0; i < 8; i++) assert.equal((await chat(gateway, 'w', { stream: i % 2 === 0 })).status, 200);
  assert.deepEqual([heavy.requests.length, light.requests.length], [6, 2]);
});

test('least-busy sends new requests to the target with fewer requests in flight', T, async (t) => {
  const slow = (request: { body: any }): Behavior => request.body?.messages?.[0]?.content === 'slow' ? { kind: 'delay', ms: 600 } : OK;
  const { a, b } = await startMocks(t, { a: slow, b: slow });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('pa', a), openaiProvider('pb', b)],
    models: [{ name: 'lb', strategy: 'least-busy', targets: [{ provider: 'pa', model: 'm' }, { provider: 'pb', model: 'm' }] }],
  });
  const busy = chat(gateway, 'lb', { messages: [{ role: 'user', content: 'slow' }] });
  await until(() => a.requests.length + b.requests.length === 1);
  const busyOne = a.requests.length === 1 ? 'pa' : 'pb';
  const idleOne = busyOne === 'pa' ? 'pb' : 'pa';
  for (let i = 0; i < 4; i++) assertMeta(await chat(gateway, 'lb'), { provider: idleOne });
  assertMeta(await busy, { provider: busyOne });
  // both idle again: ties are broken in turn
  const after = new Set<string>();
  for (let i = 0; i < 2; i++) after.add((await chat(gateway, 'lb')).headers.get('x-switchyard-provider')!);
  assert.equal(after.size, 2);
});

test('round-robin takes the targets in turn and skips one that is cooling down', T, async (t) => {
  const { a, b, c } = await startMocks(t, { a: () => OK, b: () => status(429, 'Rate limit reached.', { 'retry-after': '30' }), c: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('pa', a), openaiProvider('pb', b), openaiProvider('pc', c)],
    models: [{ name: 'rr', strategy: 'round-robin', targets: [{ provider: 'pa', model: 'm' }, { provider: 'pb', model: 'm' }, { provider: 'pc', model: 'm' }], retry: FAST_RETRY }],
  });
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    const reply = await chat(gateway, 'rr');
    assert.equal(reply.status, 200);
    order.push(reply.headers.get('x-switchyard-provider')!);
  }
  assert.equal(b.requests.length, 1, 'the rate-limited target is tried once, then left alone');
  assert.ok(!order.includes('pb'));
  assert.equal(order.filter((name) => name === 'pa').length, 3);
  assert.equal(order.filter((name) => name === 'pc').length, 3);
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(5);
  assert.ok(condition(), 'condition not reached');
}
