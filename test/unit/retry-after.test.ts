// How long a rate-limited provider asks us to wait: Retry-After in both forms, retry-after-ms,
// and the providers' own reset headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyUpstreamError, parseDuration, retryAfterSeconds } from '../../src/upstream/classify.ts';

test('Retry-After in seconds and as an HTTP date', () => {
  assert.equal(retryAfterSeconds({ 'retry-after': '7' }), 7);
  assert.equal(retryAfterSeconds({ 'retry-after': '0' }), 0);
  const inTen = new Date(Date.now() + 10_000).toUTCString();
  const seconds = retryAfterSeconds({ 'retry-after': inTen })!;
  assert.ok(seconds > 8 && seconds <= 10, String(seconds));
  assert.equal(retryAfterSeconds({ 'retry-after': new Date(Date.now() - 60_000).toUTCString() }), 0);
  assert.equal(retryAfterSeconds({}), undefined);
});

test('retry-after-ms is used when Retry-After is absent', () => {
  assert.equal(retryAfterSeconds({ 'retry-after-ms': '1500' }), 1.5);
  assert.equal(retryAfterSeconds({ 'retry-after': '3', 'retry-after-ms': '1500' }), 3);
});

test("OpenAI's reset durations: the exhausted limit counts, else the soonest", () => {
  assert.equal(parseDuration('1s'), 1);
  assert.equal(parseDuration('6m0s'), 360);
  assert.equal(parseDuration('1h2m3.5s'), 3723.5);
  assert.equal(parseDuration('20ms'), 0.02);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(retryAfterSeconds({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '6m0s', 'x-ratelimit-remaining-tokens': '0' }), 360);
  assert.equal(retryAfterSeconds({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '6m0s' }), 2);
});

test("Anthropic's reset times (RFC 3339)", () => {
  const at = new Date(Date.now() + 30_000).toISOString();
  const seconds = retryAfterSeconds({ 'anthropic-ratelimit-requests-reset': at, 'anthropic-ratelimit-requests-remaining': '0' })!;
  assert.ok(seconds > 28 && seconds <= 30, String(seconds));
});

test('a 429 carries the wait; other statuses are classified for retry and fallback', () => {
  const limited = classifyUpstreamError(429, 'slow down', undefined, 'p', { 'x-ratelimit-reset-requests': '3s', 'x-ratelimit-remaining-requests': '0' });
  assert.equal(limited.retryAfterSeconds, 3);
  assert.equal(limited.errorClass, 'rate-limited');
  assert.equal(limited.retryable, true);
  const overloaded = classifyUpstreamError(529, 'overloaded', undefined, 'p', {});
  assert.equal(overloaded.status, 429);
  const server = classifyUpstreamError(503, 'down', undefined, 'p', {});
  assert.equal(server.status, 502);
  assert.equal(server.retryable, true);
  const unknownModel = classifyUpstreamError(404, 'no such model', undefined, 'p', {});
  assert.equal(unknownModel.retryable, false);
  assert.equal(unknownModel.fallbackAllowed, true);
  const context = classifyUpstreamError(400, 'This model\'s maximum context length is 8192 tokens', undefined, 'p', {});
  assert.equal(context.code, 'SWY_ERR_UPSTREAM_CONTEXT_LENGTH');
  const policy = classifyUpstreamError(400, 'Your request was rejected by the safety system', 'content_policy_violation', 'p', {});
  assert.equal(policy.retryable, false);
  assert.equal(policy.fallbackAllowed, false);
});
