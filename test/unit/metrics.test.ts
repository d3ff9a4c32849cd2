// The metric recorders without sockets: the label cap, bucket placement on the `le` bounds, the
// exposition through prom-client parsing as strict Prometheus text, attempts attributed to the
// provider that failed, the health book's cooldown and ejection counters, and the test parser
// refusing what Prometheus would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import type { SurfaceAdapter } from '../../src/canonical/adapters.ts';
import type { ErrorInfo } from '../../src/canonical/errors.ts';
import type { CooldownSettings } from '../../src/config/types.ts';
import { GatewayMetrics } from '../../src/observability/metrics.ts';
import { BucketLayout, Buckets, CollectedMetric, LabelCap, pushHistogram } from '../../src/observability/metrics-series.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { HealthBook } from '../../src/state/health.ts';
import { parsePrometheus, sampleSum } from '../helpers/prometheus.ts';

test('a label cap admits values up to its limit, then folds new ones into "other"', () => {
  const cap = new LabelCap(3);
  assert.deepEqual(['a', 'b', '', 'c', 'd', 'a', 'e', 'c'].map((value) => cap.admit(value)), ['a', 'b', 'none', 'c', 'other', 'a', 'other', 'c']);
  assert.equal(cap.size, 3);
});

test('buckets: a value on a bound counts in that bucket (le is inclusive); exposition is cumulative, in seconds', () => {
  const buckets = new Buckets(new BucketLayout([0.001, 0.01, 0.1]));
  for (const ms of [0.5, 1, 1.5, 10, 99, 100, 5000]) buckets.observe(ms);
  assert.deepEqual([...buckets.counts], [2, 2, 2, 1]);
  const samples: { metricName?: string; labels: Record<string, string>; value: number }[] = [];
  pushHistogram(samples, 'x_seconds', { provider: 'p' }, buckets);
  assert.deepEqual(samples.map((sample) => [sample.metricName, sample.labels.le, sample.value]), [
    ['x_seconds_bucket', '0.001', 2], ['x_seconds_bucket', '0.01', 4], ['x_seconds_bucket', '0.1', 6], ['x_seconds_bucket', '+Inf', 7],
    ['x_seconds_sum', undefined, 5.212], ['x_seconds_count', undefined, 7],
  ]);
});

test('collected metrics are formatted by prom-client as valid Prometheus text, label values escaped', async () => {
  const registry = new Registry();
  new CollectedMetric({
    name: 'x_total', type: 'counter', help: 'Help with a \\ backslash.',
    collect: (samples) => samples.push({ value: 3, labels: { model: 'we"ird\\name\nline' } }),
  }).registerIn(registry);
  const families = parsePrometheus(await registry.metrics());
  assert.equal(families.get('x_total')!.type, 'counter');
  assert.equal(sampleSum(families, 'x_total', { model: 'we"ird\\name\nline' }), 3);
});

const surface = { name: 'openai-chat' } as SurfaceAdapter;

function finished(fields: Partial<RequestContext>, status = 200): RequestContext {
  const request = { url: '/v1/chat/completions', headers: {} } as IncomingMessage;
  const response = { statusCode: status, headersSent: true, writableFinished: true } as unknown as ServerResponse;
  const context = new RequestContext('id', request, response, surface);
  context.surface = surface;
  return Object.assign(context, fields);
}

test('the observer: failed attempts count against the provider that failed, the rest against the one that answered', async () => {
  const metrics = new GatewayMetrics({ ownPaths: ['/metrics'] });
  metrics.requestEnded(finished({ provider: 'b', upstreamModel: 'm2', attempts: 3, failures: ['a/m:500', 'a/m:503'], route: 'backup', usage: { inputTokens: 10, outputTokens: 4, cachedInputTokens: 6, reasoningTokens: 1 }, costUsd: 0.5 }), false);
  metrics.requestEnded(finished({ provider: 'b', upstreamModel: 'm2', attempts: 1, streamed: true, firstByteMs: 12 }), true);
  metrics.requestEnded(finished({ provider: 'a', upstreamModel: 'm', attempts: 1, failures: ['a/m:400'], error: { code: 'X' } as ErrorInfo }, 400), false);
  metrics.requestEnded(finished({ path: '/metrics' } as Partial<RequestContext>), false);
  const families = parsePrometheus(await metrics.scrape());
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'a', outcome: 'error' }), 3);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'a', outcome: 'ok' }), 0);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'b', outcome: 'ok' }), 1);
  assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'b', outcome: 'canceled' }), 1);
  assert.equal(sampleSum(families, 'switchyard_retries_total', { provider: 'b' }), 2);
  assert.equal(sampleSum(families, 'switchyard_fallbacks_total', { route: 'backup' }), 1);
  assert.equal(sampleSum(families, 'switchyard_tokens_total', { provider: 'b', model: 'm2', type: 'cached' }), 6);
  assert.equal(sampleSum(families, 'switchyard_tokens_total', { provider: 'b', model: 'm2', type: 'reasoning' }), 1);
  assert.equal(sampleSum(families, 'switchyard_cost_usd_total', { provider: 'b', model: 'm2' }), 0.5);
  assert.equal(sampleSum(families, 'switchyard_time_to_first_token_seconds_sum', { provider: 'b' }), 0.012);
  assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'a', status_class: '4xx' }), 1);
  assert.equal(sampleSum(families, 'switchyard_requests_total'), 3, 'the path of its own endpoint is not counted');
});

const settings: CooldownSettings = { authMs: 60_000, notFoundMs: 60_000, rateLimitMs: 1000, rateLimitMaxMs: 10_000, ejectAfter: 2, ejectMs: 5000, ejectMaxMs: 30_000, maxEjectionPercent: 50, panicThresholdPercent: 50, successRateThresholdPercent: 50, successRateRequestVolume: 20 };
const failure = (errorClass: ErrorInfo['errorClass'], upstreamStatus: number): ErrorInfo => ({
  code: 'SWY_ERR_TEST', status: upstreamStatus, message: 'test', origin: 'upstream', errorClass, retryable: true, fallbackAllowed: true, upstreamStatus,
});

test('the health book counts a cooldown when it starts (not when it is extended) and every ejection', () => {
  const book = new HealthBook(() => 0);
  const entry = book.entry('p', 0, 'k', 'm');
  entry.fail(0, failure('rate-limited', 429), settings);
  entry.fail(10, failure('rate-limited', 429), settings); // extends the same cooldown
  entry.fail(20, failure('client-error', 401), settings); // another reason: a new one
  entry.fail(100_000, failure('rate-limited', 429), settings); // after it ended: a new one
  assert.deepEqual([...book.counters.cooldowns.get('p')!], [['rate-limited', 2], ['auth', 1]]);
  assert.equal(book.counters.ejections.size, 0);
  const other = book.entry('q', 0, 'k', 'm');
  other.fail(0, failure('server-error', 500), settings);
  other.fail(1, failure('server-error', 500), settings);
  book.markKeyDown('q', 'k', 2, settings);
  assert.deepEqual([...book.counters.ejections.get('q')!], [['consecutive-failures', 1], ['health-check', 1]]);
  assert.equal(book.counters.cooldowns.get('q'), undefined);
});

test('the test parser refuses what a Prometheus server would', () => {
  const bad = [
    'x 1\n', // no TYPE
    '# TYPE x counter\nx{a="b} 1\n', // unterminated
    '# TYPE x counter\nx{a="\\t"} 1\n', // bad escape
    '# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n', // duplicate series
    '# TYPE x counter\nx one\n', // bad value
    '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', // +Inf differs from count
    '# TYPE x counter\nx 1', // no final newline
  ];
  for (const text of bad) assert.throws(() => parsePrometheus(text), Error, JSON.stringify(text));
  assert.equal(parsePrometheus('# HELP x A help.\n# TYPE x gauge\nx{a="1",b="2"} 2.5e3 1700000000\nx Nan\n').get('x')!.samples.length, 2);
});
