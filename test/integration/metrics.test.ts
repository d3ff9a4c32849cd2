// GET /metrics over real sockets: the exposition parses as Prometheus text, and each metric moves
// as it should after proxied requests — counts by status class, token totals from the mock's
// usage, latency histograms, retries and fallbacks, cooldowns and ejections, streams and requests
// in flight, pool gauges — label values stay bounded, and the endpoint asks for a client key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { LABEL_LIMIT } from '../../src/observability/metrics.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import { parsePrometheus, sampleSum, samples, type Labels, type PromFamily } from '../helpers/prometheus.ts';
import { chat, chunk, FAST_RETRY, openaiProvider, sleep, startGatewayFor, startMocks, status } from '../helpers/resilience.ts';

const T = { timeout: 30_000 };
const OK: Behavior = { kind: 'default' };

async function scrape(gateway: TestGateway, headers: Record<string, string> = {}): Promise<Map<string, PromFamily>> {
  const response = await fetch(`${gateway.url}/metrics`, { headers });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parsePrometheus(text);
}

async function value(gateway: TestGateway, name: string, labels: Labels = {}): Promise<number> {
  return sampleSum(await scrape(gateway), name, labels);
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

test('requests, latency histograms, tokens, attempts and gauges move with proxied traffic', T, async (t) => {
  const { up } = await startMocks(t, { up: () => OK });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', up, { models: ['mock-gpt'] })] });
  const before = await scrape(gateway);
  const gapsBefore = sampleSum(before, 'switchyard_stream_chunk_gap_seconds_count');
  const streamsBefore = sampleSum(before, 'switchyard_inflight_streams');

  let input = 0;
  let output = 0;
  for (let i = 0; i < 3; i++) {
    const reply = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: `question number ${i}` }] });
    assert.equal(reply.status, 200, reply.text);
    input += reply.json().usage.prompt_tokens;
    output += reply.json().usage.completion_tokens;
  }
  const streamed = await chat(gateway, 'mock-gpt', { stream: true, stream_options: { include_usage: true } });
  assert.equal(streamed.status, 200, streamed.text);
  const events = streamed.events().filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data));
  const usage = events.find((event) => event.usage !== null && event.usage !== undefined).usage;
  input += usage.prompt_tokens;
  output += usage.completion_tokens;
  assert.equal((await chat(gateway, 'no-such-model')).status, 404);
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);

  const families = await scrape(gateway);
  for (const name of families.keys()) assert.match(name, /^switchyard_/);
  const answered = { surface: 'openai-chat', provider: 'mock', model: 'mock-gpt' };
  assert.equal(sampleSum(families, 'switchyard_requests_total', { ...answered, status_class: '2xx' }), 4);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { surface: 'openai-chat', provider: 'none', model: 'none', status_class: '4xx' }), 1);
  // the gateway's own endpoints (health, the scrapes) are not counted
  assert.equal(sampleSum(families, 'switchyard_requests_total'), 5);

  const series = { surface: 'openai-chat', provider: 'mock' };
  assert.equal(sampleSum(families, 'switchyard_request_duration_seconds_count', series), 4);
  assert.equal(sampleSum(families, 'switchyard_upstream_duration_seconds_count', series), 4);
  assert.equal(sampleSum(families, 'switchyard_gateway_overhead_seconds_count', series), 4);
  assert.equal(sampleSum(families, 'switchyard_time_to_first_token_seconds_count', series), 1);
  const duration = sampleSum(families, 'switchyard_request_duration_seconds_sum', series);
  const overhead = sampleSum(families, 'switchyard_gateway_overhead_seconds_sum', series);
  assert.ok(overhead > 0 && overhead < duration, `overhead ${overhead} s within duration ${duration} s`);
  assert.equal(sampleSum(families, 'switchyard_request_duration_seconds_bucket', { ...series, le: '+Inf' }), 4);

  // every frame of the stream is one write downstream: a gap between each two
  assert.ok(sampleSum(families, 'switchyard_stream_chunk_gap_seconds_count') - gapsBefore >= events.length - 1);
  assert.equal(sampleSum(families, 'switchyard_inflight_streams'), streamsBefore);

  const tokens = { provider: 'mock', model: 'mock-gpt' };
  assert.ok(input > 0 && output > 0);
  assert.equal(sampleSum(families, 'switchyard_tokens_total', { ...tokens, type: 'input' }), input);
  assert.equal(sampleSum(families, 'switchyard_tokens_total', { ...tokens, type: 'output' }), output);
  assert.equal(sampleSum(families, 'switchyard_tokens_total', { ...tokens, type: 'cached' }), 0);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'mock', outcome: 'ok' }), 4);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'mock', outcome: 'error' }), 0);
  assert.equal(sampleSum(families, 'switchyard_retries_total', { provider: 'mock' }), 0);
  assert.equal(samples(families, 'switchyard_fallbacks_total').length, 0);

  assert.equal(sampleSum(families, 'switchyard_inflight_requests'), 1, 'only the scrape itself');
  assert.ok(sampleSum(families, 'switchyard_upstream_pool_connections', { provider: 'mock', state: 'idle' }) >= 1, 'a kept-alive connection');
  assert.equal(sampleSum(families, 'switchyard_upstream_pool_connections', { provider: 'mock', state: 'busy' }), 0);
  assert.equal(sampleSum(families, 'switchyard_upstream_queued_requests', { provider: 'mock' }), 0);
  assert.equal(sampleSum(families, 'switchyard_targets', { provider: 'mock', state: 'healthy' }), 1);
  assert.equal(sampleSum(families, 'switchyard_targets', { provider: 'mock', state: 'cooling' }), 0);

  // prom-client's process metrics, prefixed
  assert.ok(sampleSum(families, 'switchyard_process_resident_memory_bytes') > 0);
  assert.ok(families.has('switchyard_nodejs_eventloop_lag_seconds'));
  assert.ok(families.has('switchyard_nodejs_heap_size_used_bytes'));
});

test('a 500 then a 200: one failed and one good attempt, one retry', T, async (t) => {
  const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? status(500) : OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up)],
    models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: FAST_RETRY }],
  });
  const reply = await chat(gateway, 'a');
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('x-switchyard-attempts'), '2');
  const families = await scrape(gateway);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'p', outcome: 'error' }), 1);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'p', outcome: 'ok' }), 1);
  assert.equal(sampleSum(families, 'switchyard_retries_total', { provider: 'p' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'p', model: 'm', status_class: '2xx' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { status_class: '5xx' }), 0);
});

test('a fallback alias: counted by route, the failed attempt against the provider that failed', T, async (t) => {
  const { bad, good } = await startMocks(t, { bad: () => status(500), good: () => OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('bad', bad), openaiProvider('good', good)],
    models: [
      { name: 'smart', targets: [{ provider: 'bad', model: 'm' }], retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 100 }, fallbacks: ['backup'] },
      { name: 'backup', targets: [{ provider: 'good', model: 'm2' }] },
    ],
  });
  const reply = await chat(gateway, 'smart');
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('x-switchyard-fallback'), 'backup');
  const families = await scrape(gateway);
  assert.equal(sampleSum(families, 'switchyard_fallbacks_total', { route: 'backup' }), 1);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'bad', outcome: 'error' }), 1);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'bad', outcome: 'ok' }), 0);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'good', outcome: 'ok' }), 1);
  assert.equal(sampleSum(families, 'switchyard_retries_total', { provider: 'good' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'good', model: 'm2', status_class: '2xx' }), 1);
});

test('a 429 starts one cooldown (not one per failure); failures in a row eject', T, async (t) => {
  const { limited, broken } = await startMocks(t, { limited: () => status(429, 'Slow down.', { 'retry-after': '30' }), broken: () => status(503) });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('limited', limited), openaiProvider('broken', broken)],
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2 }, retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 100 } },
  });
  assert.equal((await chat(gateway, 'limited:m')).status, 429);
  // the target is cooling down now: the next request is refused by the gateway, not the provider
  assert.equal((await chat(gateway, 'limited:m')).status, 429);
  assert.equal(limited.requests.length, 1);
  let families = await scrape(gateway);
  assert.equal(sampleSum(families, 'switchyard_cooldowns_total', { provider: 'limited', reason: 'rate-limited' }), 1);
  assert.equal(sampleSum(families, 'switchyard_targets', { provider: 'limited', state: 'cooling' }), 1);
  assert.equal(sampleSum(families, 'switchyard_targets', { provider: 'limited', state: 'healthy' }), 0);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'limited', status_class: '4xx' }), 1);
  // refused without an attempt: no provider answered
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'none', status_class: '4xx' }), 1);
  assert.equal(sampleSum(families, 'switchyard_ejections_total'), 0);

  for (let i = 0; i < 2; i++) assert.equal((await chat(gateway, 'broken:m')).status, 502);
  families = await scrape(gateway);
  assert.equal(sampleSum(families, 'switchyard_ejections_total', { provider: 'broken' }), 1);
  assert.equal(sampleSum(families, 'switchyard_ejections_total', { provider: 'broken', reason: 'consecutive-failures' }), 1);
  assert.equal(sampleSum(families, 'switchyard_cooldowns_total', { provider: 'broken' }), 0);
  assert.equal(sampleSum(families, 'switchyard_targets', { provider: 'broken', state: 'cooling' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'broken', status_class: '5xx' }), 2);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'broken', outcome: 'error' }), 2);
});

test('a held stream counts as in flight until the client leaves; its attempt counts as canceled', T, async (t) => {
  const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'stall' }) });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)] });
  const streamsBefore = await value(gateway, 'switchyard_inflight_streams');
  const controller = new AbortController();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  let received = '';
  while (!received.includes('lo')) received += new TextDecoder().decode((await reader.read()).value);

  const families = await scrape(gateway);
  assert.equal(sampleSum(families, 'switchyard_inflight_streams'), streamsBefore + 1);
  assert.equal(sampleSum(families, 'switchyard_inflight_requests'), 2, 'the held stream and the scrape');
  assert.equal(sampleSum(families, 'switchyard_upstream_pool_connections', { provider: 'p', state: 'busy' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total'), 0, 'counted when it ends');

  controller.abort();
  await reader.cancel().catch(() => {});
  await eventually(async () => (await value(gateway, 'switchyard_inflight_streams')) === streamsBefore);
  const after = await scrape(gateway);
  assert.equal(sampleSum(after, 'switchyard_inflight_requests'), 1);
  assert.equal(sampleSum(after, 'switchyard_upstream_attempts_total', { provider: 'p', outcome: 'canceled' }), 1);
  assert.equal(sampleSum(after, 'switchyard_requests_total', { provider: 'p', status_class: '2xx' }), 1, 'the head had gone out with 200');
  assert.equal(sampleSum(after, 'switchyard_time_to_first_token_seconds_count', { provider: 'p' }), 1);
});

test('label values stay bounded: thousands of model names through a pattern fold into "other"', T, async (t) => {
  const { up } = await startMocks(t, { up: () => OK });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('pat', up, { models: ['pat-*'] })] });
  const total = LABEL_LIMIT * 4;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const reply = await chat(gateway, `pat-${randomUUID()}`);
      assert.equal(reply.status, 200, reply.text);
    }
  };
  await Promise.all(Array.from({ length: 25 }, worker));
  const response = await fetch(`${gateway.url}/metrics`);
  const text = await response.text();
  const families = parsePrometheus(text);
  const requests = samples(families, 'switchyard_requests_total', { provider: 'pat' });
  const models = new Set(requests.map((sample) => sample.labels.model));
  assert.equal(models.size, LABEL_LIMIT + 1, 'the cap, plus "other"');
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'pat' }), total);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'pat', model: 'other' }), total - LABEL_LIMIT);
  assert.equal(samples(families, 'switchyard_tokens_total', { provider: 'pat', type: 'input' }).length, LABEL_LIMIT + 1);
  assert.ok(text.length < 1_000_000, `exposition of ${text.length} bytes`);
});

test('/metrics needs a client key when keys are configured; Prometheus sends it as a bearer token', T, async (t) => {
  const { up } = await startMocks(t, { up: () => OK });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], keys: ['sk-scrape-key'] });
  assert.equal((await fetch(`${gateway.url}/metrics`)).status, 401);
  assert.equal((await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const families = await scrape(gateway, { authorization: 'Bearer sk-scrape-key' });
  assert.equal(sampleSum(families, 'switchyard_inflight_requests'), 1);
  // refused scrapes are the gateway's own endpoint: not counted as requests
  assert.equal(sampleSum(families, 'switchyard_requests_total'), 0);
});

test('with usage recording on, the store\'s dropped-row counter is exported', async (t) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { upstream } = await startMocks(t, { upstream: () => ({ kind: 'default' }) });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', upstream)],
    storage: { path: mkdtempSync(join(tmpdir(), 'switchyard-metrics-usage-')) },
  });
  assert.equal((await chat(gateway, 'p:m')).status, 200);
  const families = await scrape(gateway);
  assert.ok(families.has('switchyard_usage_dropped_total'), 'the counter is there');
  assert.equal(await value(gateway, 'switchyard_usage_dropped_total'), 0);
});
