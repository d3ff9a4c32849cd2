// The agent-fleet soak's pure parts: `--soak D --profile agents` parsing, the outcome classifier
// (against the gateway's own OpenAI error encoders), the windows compared for drift, the warm-up
// left out of the RSS slope, the slope itself, and reading counters from Prometheus text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAnswer, type Answer } from '../../bench/clients/soak-outcome.ts';
import { parseDuration, parseOptions } from '../../bench/lib/options.ts';
import { drift, soakWindows, sumMetric, warmupMs, windowsOf } from '../../bench/lib/soak-windows.ts';
import { slope } from '../../bench/lib/stats.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import { encodeOpenAIError, encodeOpenAIStreamError } from '../../src/surfaces/openai/encode-error.ts';

describe('bench options: --soak and --profile', () => {
  it('reads durations in ms, s, m (the default unit) and h', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('10'), 600_000);
    assert.equal(parseDuration('3h'), 10_800_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.throws(() => parseDuration('3 hours'), /cannot read '3 hours'/);
  });

  it('keeps --soak D alone as it was: scenario 5 added, every system, no profile', () => {
    const options = parseOptions(['--soak', '30m'])!;
    assert.equal(options.soakMs, 1_800_000);
    assert.equal(options.soakProfile, undefined);
    assert.ok(options.scenarios.has(5));
    assert.ok(options.systems.length > 1);
  });

  it('--profile agents runs the soak alone against Switchyard ×1', () => {
    const options = parseOptions(['--soak', '2m', '--profile', 'agents'])!;
    assert.equal(options.soakMs, 120_000);
    assert.equal(options.soakProfile, 'agents');
    assert.deepEqual([...options.scenarios], []);
    assert.deepEqual(options.systems, ['switchyard']);
    assert.equal(options.partial, false);
  });

  it('refuses an unknown profile, a profile without a duration, and --only beside a profile', () => {
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'humans']), /--profile: unknown soak profile 'humans' \(known: agents\)/);
    assert.throws(() => parseOptions(['--profile', 'agents']), /needs a soak duration/);
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'agents', '--only=3']), /--only does not combine/);
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'agents', '--systems=nginx']), /must include switchyard/);
  });
});

const plain = (status: number, body: string, errorCode?: string): Answer => ({ status, streamed: false, errorCode, body, tail: '', errorEvent: undefined });
const streamed = (tail: string, errorEvent?: string): Answer => ({ status: 200, streamed: true, errorCode: undefined, body: undefined, tail, errorEvent });
const upstreamFailure = new GatewayError(ErrorCode.upstreamStatus, 'mock-soak-fallback answered 503', { status: 502, origin: 'upstream', errorClass: 'server-error', upstreamStatus: 503 });
const upstreamReset = new GatewayError(ErrorCode.upstreamReset, 'mock-soak-fallback reset the connection', { status: 502, origin: 'upstream', errorClass: 'reset' });
const internal = new GatewayError(ErrorCode.internal, 'internal error', { status: 500, origin: 'gateway' });
const eventJson = (buffer: Buffer) => buffer.toString().replace(/^data: /, '').trim();

describe('agent soak: outcome classifier', () => {
  it('a whole chat completion and a stream ending in [DONE] are answers', () => {
    assert.equal(classifyAnswer(plain(200, JSON.stringify({ object: 'chat.completion', choices: [{ index: 0 }] }))), 'ok');
    assert.equal(classifyAnswer(streamed('"stop"}]}\n\ndata: [DONE]\n\n')), 'ok');
  });

  it('an upstream failure passed on as the gateway encodes it for OpenAI callers is allowed', () => {
    for (const error of [upstreamFailure, upstreamReset]) {
      const wire = encodeOpenAIError(error);
      assert.equal(classifyAnswer(plain(wire.status, String(wire.body), error.code)), 'upstream-failure-passed-on');
      assert.equal(classifyAnswer(streamed('', eventJson(encodeOpenAIStreamError(error)))), 'upstream-failure-passed-on');
    }
  });

  it("the gateway's own 5xx, or an upstream code outside the caller's format, is an error", () => {
    const wire = encodeOpenAIError(internal);
    assert.equal(classifyAnswer(plain(wire.status, String(wire.body), internal.code)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, 'Bad Gateway', ErrorCode.upstreamStatus)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, String(encodeOpenAIError(upstreamFailure).body), undefined)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'x' } }).replace('"error":{', '"err":{'), ErrorCode.upstreamStatus)), 'gateway-5xx');
  });

  it('a truncated stream presented as success, a stray error event, a refusal and a malformed answer are errors', () => {
    assert.equal(classifyAnswer(streamed('"content":"hal')), 'truncated-stream');
    assert.equal(classifyAnswer(streamed('', eventJson(encodeOpenAIStreamError(internal)))), 'stream-error-event');
    assert.equal(classifyAnswer(plain(429, JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }))), 'unexpected-status');
    assert.equal(classifyAnswer(plain(200, '{"object":"chat.completion","choices":[{"ind')), 'malformed-answer');
    assert.equal(classifyAnswer(plain(200, JSON.stringify({ error: { message: 'x', type: 'server_error' } }))), 'malformed-answer');
  });
});

describe('agent soak: windows, warm-up, slope, drift', () => {
  it('compares the first and last 10 minutes of a long run, halves of a short one', () => {
    assert.deepEqual(soakWindows(3 * 3_600_000), { bucketMs: 60_000, buckets: 180, windowBuckets: 10 });
    assert.deepEqual(soakWindows(20 * 60_000), { bucketMs: 60_000, buckets: 20, windowBuckets: 10 });
    assert.deepEqual(soakWindows(10 * 60_000), { bucketMs: 60_000, buckets: 10, windowBuckets: 5 });
    assert.deepEqual(soakWindows(2 * 60_000), { bucketMs: 30_000, buckets: 4, windowBuckets: 2 });
    assert.throws(() => soakWindows(0), RangeError);
  });

  it('never puts a bucket in both windows, and every window is as long as the other', () => {
    for (const durationMs of [1000, 90_000, 119_999, 240_000, 601_000, 1_234_567, 10_800_000]) {
      const windows = soakWindows(durationMs);
      let first = 0;
      let last = 0;
      for (let bucket = 0; bucket < windows.buckets; bucket++) {
        const where = windowsOf(bucket, windows);
        assert.ok(!(where.first && where.last), `bucket ${bucket} of ${durationMs} ms is in both windows`);
        if (where.first) first++;
        if (where.last) last++;
      }
      assert.equal(first, windows.windowBuckets);
      assert.equal(last, windows.windowBuckets);
    }
  });

  it('leaves 20 % of the run out of the RSS slope, at most 10 minutes', () => {
    assert.equal(warmupMs(10 * 60_000), 2 * 60_000);
    assert.equal(warmupMs(3 * 3_600_000), 10 * 60_000);
  });

  it('fits a straight line exactly, and a flat one to zero', () => {
    const rising = Array.from({ length: 50 }, (_, i) => [i * 0.5, 300 + 0.01 * i * 0.5] as const);
    assert.ok(Math.abs(slope(rising) * 60 - 0.6) < 1e-9);
    assert.equal(slope(Array.from({ length: 10 }, (_, i) => [i, 7] as const)), 0);
    assert.ok(Number.isNaN(slope([[1, 2]])));
  });

  it('drift is the relative change from the first window to the last', () => {
    assert.ok(Math.abs(drift(200, 220) - 0.1) < 1e-12);
    assert.ok(Math.abs(drift(200, 180) + 0.1) < 1e-12);
    assert.ok(Number.isNaN(drift(undefined, 1)));
    assert.ok(Number.isNaN(drift(0, 1)));
  });
});

describe('agent soak: counters from Prometheus text', () => {
  const text = [
    '# HELP switchyard_upstream_attempts_total Upstream attempts by outcome.',
    '# TYPE switchyard_upstream_attempts_total counter',
    'switchyard_upstream_attempts_total{provider="mock-soak-primary",outcome="ok"} 9800',
    'switchyard_upstream_attempts_total{provider="mock-soak-primary",outcome="error"} 200',
    'switchyard_upstream_attempts_total{provider="mock-soak-fallback",outcome="ok"} 4',
    'switchyard_upstream_attempts_total_extra 5',
    'switchyard_retries_total{provider="mock-soak-primary"} 196',
    'switchyard_retries_total{provider="mock-soak-fallback"} 4',
    'switchyard_nodejs_eventloop_lag_p99_seconds 0.012',
  ].join('\n');

  it('sums the samples whose labels match, and tells a missing metric apart from zero', () => {
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { outcome: 'error' }), 200);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { provider: 'mock-soak-primary' }), 10_000);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total'), 10_004);
    assert.equal(sumMetric(text, 'switchyard_retries_total'), 200);
    assert.equal(sumMetric(text, 'switchyard_nodejs_eventloop_lag_p99_seconds'), 0.012);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { provider: 'mock-soak-fallback', outcome: 'error' }), undefined);
    assert.equal(sumMetric(text, 'switchyard_fallbacks_total'), undefined);
  });
});
