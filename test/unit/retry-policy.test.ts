// The retry policy table (src/canonical/retry-policy.ts) and what hangs on it: every class has a
// row, the classifier gives the classes the table knows, GatewayError's two flags are derived from
// the row (so no producer can set them against it), an upstream's 401/403/404 is handled by its
// row whatever class its decoder gave it, and a stream that ended early is one class wherever it is
// noticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatewayError, type ErrorClass } from '../../src/canonical/errors.ts';
import { countsAgainstTarget, errorClassOf, RETRY_POLICY, retryRuleOf } from '../../src/canonical/retry-policy.ts';
import { classifyUpstreamError } from '../../src/upstream/classify.ts';
import { incompleteStreamError as fromDecoders } from '../../src/providers/common/stream-errors.ts';
import { incompleteStreamError } from '../../src/upstream/errors.ts';

const CLASSES: ErrorClass[] = ['connect-failure', 'reset', 'per-try-timeout', 'gateway-error', 'rate-limited', 'server-error', 'auth-refused', 'not-found', 'context-length', 'client-error', 'canceled', 'none'];

test('one frozen row per error class', () => {
  assert.deepEqual(Object.keys(RETRY_POLICY).sort(), [...CLASSES].sort());
  assert.ok(Object.isFrozen(RETRY_POLICY));
  for (const rule of Object.values(RETRY_POLICY)) assert.ok(Object.isFrozen(rule));
});

test('classes that answer at once record nothing against the target; those that move on do', () => {
  for (const name of CLASSES) {
    const rule = RETRY_POLICY[name];
    const movesOn = rule.anotherKey || rule.sameKey !== 'no' || rule.nextTarget || rule.fallback === 'chain';
    if (movesOn) assert.ok(countsAgainstTarget(rule), `${name} moves on, so its failure is the target's`);
    if (name === 'client-error' || name === 'context-length' || name === 'canceled') assert.equal(countsAgainstTarget(rule), false, name);
  }
});

test('the classifier gives each upstream status its class', () => {
  const classOf = (status: number, message = 'x', code?: string) => classifyUpstreamError(status, message, code, 'p', {}).errorClass;
  assert.equal(classOf(401), 'auth-refused');
  assert.equal(classOf(403), 'auth-refused');
  assert.equal(classOf(404), 'not-found');
  assert.equal(classOf(400, "This model's maximum context length is 8192 tokens"), 'context-length');
  assert.equal(classOf(400, 'x', 'context_length_exceeded'), 'context-length');
  assert.equal(classOf(400), 'client-error');
  assert.equal(classOf(422), 'client-error');
  assert.equal(classOf(408), 'per-try-timeout');
  assert.equal(classOf(429), 'rate-limited');
  assert.equal(classOf(529), 'rate-limited');
  assert.equal(classOf(500), 'server-error');
  assert.equal(classOf(503), 'server-error');
});

test("GatewayError's retryable and fallbackAllowed are its row's, for every class", () => {
  for (const errorClass of CLASSES) {
    const error = new GatewayError(ErrorCode.upstreamStatus, 'x', { status: 502, errorClass });
    const rule = RETRY_POLICY[errorClass];
    assert.equal(error.retryable, rule.sameKey !== 'no', errorClass);
    assert.equal(error.fallbackAllowed, rule.fallback !== 'none', errorClass);
  }
});

test("an upstream's 401/403/404 is a refused key or a missing model whatever class it came with; context length and cancel stay theirs", () => {
  assert.equal(errorClassOf({ errorClass: 'server-error', upstreamStatus: 401 }), 'auth-refused');
  assert.equal(errorClassOf({ errorClass: 'client-error', upstreamStatus: 403 }), 'auth-refused');
  assert.equal(errorClassOf({ errorClass: 'server-error', upstreamStatus: 404 }), 'not-found');
  assert.equal(errorClassOf({ errorClass: 'context-length', upstreamStatus: 404 }), 'context-length');
  assert.equal(errorClassOf({ errorClass: 'canceled', upstreamStatus: 401 }), 'canceled');
  assert.equal(errorClassOf({ errorClass: 'server-error', upstreamStatus: 500 }), 'server-error');
  assert.equal(retryRuleOf({ errorClass: 'rate-limited', upstreamStatus: undefined }), RETRY_POLICY['rate-limited']);
});

test('a stream that ended early is one class, with one row, whether a decoder or the exchange notices it', () => {
  const decoder = fromDecoders('[DONE]');
  const exchange = incompleteStreamError(undefined, 'p');
  assert.equal(decoder.errorClass, 'reset');
  assert.equal(exchange.errorClass, 'reset');
  assert.equal(decoder.code, exchange.code);
  assert.deepEqual([decoder.retryable, decoder.fallbackAllowed], [exchange.retryable, exchange.fallbackAllowed]);
  assert.equal(decoder.message, 'The provider ended the stream before it was complete (no [DONE]).');
  assert.equal(exchange.message, "Provider 'p' ended the stream before it was complete.");
});
