// Failures before anything reached the client: rate limits (with and without Retry-After), 5xx,
// resets, silent upstreams, ejection of a target that keeps failing, the attempt cap and the retry
// budget. Each test checks what the client got, how many tries each upstream saw, and what the
// x-switchyard-* headers say; every test runs against its own gateway, so no health state leaks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import {
  assertAnthropicError, assertCleanOpenAIStream, assertMeta, assertOpenAIError, chat, FAST_RETRY, FAST_TIMEOUTS, messages,
  MOCK_TEXT, openaiProvider, startGatewayFor, startMocks, status,
  ONE_TARGET,
} from '../helpers/resilience.ts';

const T = { timeout: 15_000 };
const OK: Behavior = { kind: 'default' };

// Every test has its own mocks and gateway, so they run side by side: most of the time here is
// spent waiting for timeouts.
describe('failures before the commit point', { concurrency: 4 }, () => {
  // --- 429 ---------------------------------------------------------------------------------------

  for (const stream of [false, true]) {
    test(`429 with Retry-After: 1 is waited out, then the same target answers (${stream ? 'stream' : 'json'})`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? status(429, 'Rate limit reached.', { 'retry-after': '1' }) : OK });
      const gateway = await startGatewayFor(t, {
        providers: [openaiProvider('p', up)],
        models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 2000 }, timeouts: FAST_TIMEOUTS }],
      });
      const reply = await chat(gateway, 'a', { stream });
      if (stream) assertCleanOpenAIStream(reply, MOCK_TEXT);
      else assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
      assertMeta(reply, { provider: 'p', model: 'm', attempts: '2', fallback: null });
      assert.equal(up.requests.length, 2);
      const waited = up.requests[1]!.receivedAt - up.requests[0]!.receivedAt;
      assert.ok(waited >= 900, `the retry came ${waited} ms after the 429 that asked for 1 s`);
      assert.deepEqual(up.requests[1]!.rawBody, up.requests[0]!.rawBody, 'the same bytes are sent again');
    });
  }

  test('429 without Retry-After is retried on the same target once its rate-limit cooldown is over', T, async (t) => {
    const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? status(429, 'Rate limit reached.') : OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
      routing: { cooldowns: { ...DEFAULT_COOLDOWNS, rateLimitMs: 50 } },
    });
    const reply = await chat(gateway, 'a');
    assert.equal(reply.status, 200, reply.text);
    assertMeta(reply, { provider: 'p', attempts: '2' });
    assert.equal(up.requests.length, 2);
  });

  test('429 without Retry-After whose cooldown is longer than the back-off cap is answered at once', T, async (t) => {
    const { up } = await startMocks(t, { up: () => status(429, 'Rate limit reached.', undefined, 'rate_limit_exceeded') });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
    });
    const reply = await chat(gateway, 'a');
    const error = assertOpenAIError(reply, 429, 'rate_limit_exceeded');
    assert.equal(error.message, 'Rate limit reached.', 'the upstream answer, passed on');
    assertMeta(reply, { provider: 'p', attempts: '1' });
    assert.equal(up.requests.length, 1);
  });

  for (const stream of [false, true]) {
    test(`429 with a Retry-After above the back-off cap is answered at once, retry-after kept (${stream ? 'stream' : 'json'})`, T, async (t) => {
      const { up } = await startMocks(t, { up: () => status(429, 'Rate limit reached.', { 'retry-after': '30' }, 'rate_limit_exceeded') });
      const gateway = await startGatewayFor(t, {
        providers: [openaiProvider('p', up)],
        models: ONE_TARGET,
      });
      const started = Date.now();
      const reply = await chat(gateway, 'a', { stream });
      assert.ok(Date.now() - started < 5000, 'answered without waiting for the Retry-After');
      assertOpenAIError(reply, 429, 'rate_limit_exceeded');
      assert.equal(reply.headers.get('retry-after'), '30');
      assert.equal(up.requests.length, 1);

      // the key is cooling for 30 s: the next request is answered by the gateway, in OpenAI's shape
      const next = await chat(gateway, 'a', { stream });
      assertOpenAIError(next, 429);
      assert.ok(Number(next.headers.get('retry-after')) >= 25, `retry-after ${next.headers.get('retry-after')}`);
      assert.equal(up.requests.length, 1, 'not sent upstream while cooling');
    });
  }

  for (const retryAfter of ['1', undefined, '30']) {
    test(`two targets: a 429 ${retryAfter === undefined ? 'without Retry-After' : `with Retry-After: ${retryAfter}`} moves on to the second target at once`, T, async (t) => {
      const { first, second } = await startMocks(t, {
        first: () => status(429, 'Rate limit reached.', retryAfter === undefined ? undefined : { 'retry-after': retryAfter }),
        second: () => OK,
      });
      const gateway = await startGatewayFor(t, {
        providers: [openaiProvider('p1', first), openaiProvider('p2', second)],
        models: [{
          name: 'a', strategy: 'fill-first', targets: [{ provider: 'p1', model: 'm1' }, { provider: 'p2', model: 'm2' }],
          retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 2000 }, timeouts: FAST_TIMEOUTS,
        }],
      });
      for (const stream of [false, true]) {
        const reply = await chat(gateway, 'a', { stream });
        if (stream) assertCleanOpenAIStream(reply, MOCK_TEXT);
        else assert.equal(reply.status, 200, reply.text);
        // the first request tried p1 once; later ones skip it while it cools down
        assertMeta(reply, { provider: 'p2', model: 'm2', attempts: stream ? '1' : '2', fallback: null });
      }
      assert.equal(first.requests.length, 1, 'no second try of the rate-limited target');
      assert.equal(second.requests.length, 2);
    });
  }

  // --- 5xx ---------------------------------------------------------------------------------------

  for (const stream of [false, true]) {
    test(`500 then 200: the client gets the 200 (${stream ? 'stream' : 'json'})`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? status(500, 'The server had an error.') : OK });
      const gateway = await startGatewayFor(t, {
        providers: [openaiProvider('p', up)],
        models: ONE_TARGET,
      });
      const reply = await chat(gateway, 'a', { stream });
      if (stream) assertCleanOpenAIStream(reply, MOCK_TEXT);
      else assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
      assertMeta(reply, { provider: 'p', model: 'm', attempts: '2', fallback: null });
      assert.equal(up.requests.length, 2);
    });
  }

  test('503 on every try, panic off: 502 after retry.attempts tries; once ejected, 429 with Retry-After in the caller\'s dialect without reaching the upstream', T, async (t) => {
    const { up } = await startMocks(t, { up: () => status(503, 'The engine is currently overloaded.') });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
      routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 20_000, panicThresholdPercent: 0 } },
    });
    const failed = await chat(gateway, 'a');
    const error = assertOpenAIError(failed, 502, 'upstream_error');
    assert.match(error.message, /overloaded/);
    assertMeta(failed, { provider: 'p', model: 'm', attempts: '2' });
    assert.equal(failed.headers.get('x-switchyard-upstream-status'), '503');
    assert.equal(up.requests.length, 2);

    // two consecutive failures = eject_after: the target is out, the gateway answers by itself
    const openai = await chat(gateway, 'a');
    const cooling = assertOpenAIError(openai, 429);
    assert.equal(cooling.type, 'rate_limit_error');
    assert.match(cooling.message, /cooling down/);
    assert.ok(Number(openai.headers.get('retry-after')) >= 1 && Number(openai.headers.get('retry-after')) <= 20, `retry-after ${openai.headers.get('retry-after')}`);

    const streamed = await chat(gateway, 'a', { stream: true });
    assertOpenAIError(streamed, 429);
    assert.ok(streamed.headers.get('retry-after'));

    const anthropic = await messages(gateway, 'a');
    assertAnthropicError(anthropic, 429, 'rate_limit_error');
    assert.ok(Number(anthropic.headers.get('retry-after')) >= 1, `retry-after ${anthropic.headers.get('retry-after')}`);
    const anthropicStream = await messages(gateway, 'a', { stream: true });
    assertAnthropicError(anthropicStream, 429, 'rate_limit_error');

    assert.equal(up.requests.length, 2, 'nothing reached the ejected upstream');
  });

  test('503 on every try, one target: once ejected it is still tried (panic), the client gets the provider\'s error, and the ejection is not extended by those tries', T, async (t) => {
    const { up } = await startMocks(t, { up: () => status(503, 'The engine is currently overloaded.') });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
      routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 20_000 } },
    });
    assertOpenAIError(await chat(gateway, 'a'), 502, 'upstream_error');
    assert.equal(up.requests.length, 2);
    const [entry] = [...gateway.gateway.runtime.health.all()];
    assert.equal(entry!.reason, 'ejected', 'eject_after reached');
    const until = entry!.until;

    // the only target is ejected: tried anyway, with the route's retries, never "cooling down"
    for (const reply of [await chat(gateway, 'a'), await chat(gateway, 'a', { stream: true })]) {
      const error = assertOpenAIError(reply, 502, 'upstream_error');
      assert.match(error.message, /overloaded/);
      assertMeta(reply, { provider: 'p', model: 'm', attempts: '2' });
    }
    assertAnthropicError(await messages(gateway, 'a'), 502, 'api_error');
    assert.equal(up.requests.length, 8, 'every request reached the upstream');

    // failures of attempts made during the ejection neither extend nor double it
    assert.equal(entry!.until, until);
    assert.equal(entry!.ejections, 1);
  });

  // --- resets and silence ------------------------------------------------------------------------

  for (const stream of [false, true]) {
    test(`a reset before the response headers is retried (${stream ? 'stream' : 'json'})`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? { kind: 'reset' } : OK });
      const gateway = await startGatewayFor(t, {
        providers: [openaiProvider('p', up)],
        models: ONE_TARGET,
      });
      const reply = await chat(gateway, 'a', { stream });
      if (stream) assertCleanOpenAIStream(reply, MOCK_TEXT);
      else assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
      assertMeta(reply, { provider: 'p', attempts: '2' });
      assert.equal(up.requests.length, 2);
    });
  }

  test('a reset on every try gives 502 upstream_reset after retry.attempts tries', T, async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'reset' }) });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
    });
    assertOpenAIError(await chat(gateway, 'a', { stream: true }), 502, 'upstream_reset');
    assert.equal(up.requests.length, 2);
  });

  test('an upstream that accepts and never answers hits the first-byte timeout and is retried', T, async (t) => {
    const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? { kind: 'no-response' } : OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
    });
    const reply = await chat(gateway, 'a', { stream: true });
    assertCleanOpenAIStream(reply, MOCK_TEXT);
    assertMeta(reply, { provider: 'p', attempts: '2' });
    assert.equal(up.requests.length, 2);
  });

  test('an upstream that never answers, with nothing else to try: 504 after retry.attempts first-byte timeouts', T, async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'no-response' }) });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: ONE_TARGET,
    });
    const error = assertOpenAIError(await chat(gateway, 'a', { stream: true }), 504, 'upstream_timeout');
    assert.match(error.message, /300 ms/);
    assert.equal(up.requests.length, 2);
  });

  test('an upstream that never answers falls back to the alias\'s fallback', T, async (t) => {
    const { silent, backup } = await startMocks(t, { silent: () => ({ kind: 'no-response' }), backup: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('ps', silent), openaiProvider('pb', backup)],
      models: [
        { name: 'primary', targets: [{ provider: 'ps', model: 'm' }], fallbacks: ['backup'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
        { name: 'backup', targets: [{ provider: 'pb', model: 'mb' }] },
      ],
    });
    const reply = await chat(gateway, 'primary');
    assert.equal(reply.status, 200, reply.text);
    assertMeta(reply, { provider: 'pb', model: 'mb', attempts: '3', fallback: 'backup' });
    assert.equal(silent.requests.length, 2);
    assert.equal(backup.requests.length, 1);
    assert.equal(backup.requests[0]!.body.model, 'mb', 'the fallback target\'s model name is sent');
  });

  test('headers then silence: the idle timeout fires before the commit, the fallback answers, the client sees one clean stream', T, async (t) => {
    const { stall, backup } = await startMocks(t, { stall: () => ({ kind: 'headers-then-stall' }), backup: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('ps', stall), openaiProvider('pb', backup)],
      models: [
        { name: 'primary', targets: [{ provider: 'ps', model: 'm' }], fallbacks: ['backup'], retry: { ...FAST_RETRY, attempts: 1 }, timeouts: FAST_TIMEOUTS },
        { name: 'backup', targets: [{ provider: 'pb', model: 'mb' }] },
      ],
    });
    const reply = await chat(gateway, 'primary', { stream: true });
    const events = assertCleanOpenAIStream(reply, MOCK_TEXT);
    assert.equal(events.filter((event) => event.data !== '[DONE]' && JSON.parse(event.data).choices[0]?.delta?.role === 'assistant').length, 1, 'one stream, not two spliced');
    assertMeta(reply, { provider: 'pb', model: 'mb', attempts: '2', fallback: 'backup' });
    assert.equal(stall.requests.length, 1);
    assert.equal(backup.requests.length, 1);
  });

  // --- caps --------------------------------------------------------------------------------------

  test('routing.max_attempts caps the tries across targets and fallbacks', T, async (t) => {
    const { a, b, c } = await startMocks(t, { a: () => status(500), b: () => status(500), c: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('pa', a), openaiProvider('pb', b), openaiProvider('pc', c)],
      models: [
        { name: 'x', strategy: 'fill-first', targets: [{ provider: 'pa', model: 'm' }, { provider: 'pb', model: 'm' }], fallbacks: ['y'], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS },
        { name: 'y', targets: [{ provider: 'pc', model: 'm' }] },
      ],
      routing: { maxAttempts: 3 },
    });
    const reply = await chat(gateway, 'x');
    assertOpenAIError(reply, 502, 'upstream_error');
    assertMeta(reply, { provider: 'pb', attempts: '3' });
    assert.deepEqual([a.requests.length, b.requests.length, c.requests.length], [2, 1, 0]);
  });

  test('an exhausted retry budget: a failing request is not retried nor sent to another target, the upstream\'s error is answered', T, async (t) => {
    const { a, b } = await startMocks(t, { a: () => status(500, 'The server had an error.'), b: () => OK });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('pa', a), openaiProvider('pb', b)],
      models: [{ name: 'x', strategy: 'fill-first', targets: [{ provider: 'pa', model: 'm' }, { provider: 'pb', model: 'm' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
      routing: { retryBudget: { ratio: 0, minPerSecond: 0 } },
    });
    for (const stream of [false, true]) {
      const reply = await chat(gateway, 'x', { stream });
      const error = assertOpenAIError(reply, 502, 'upstream_error');
      assert.match(error.message, /The server had an error\./);
      assertMeta(reply, { provider: 'pa', attempts: '1' });
    }
    assert.equal(a.requests.length, 2, 'one try per request');
    assert.equal(b.requests.length, 0);
  });
});
