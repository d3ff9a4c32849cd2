// The message one instance sends the others about a target's health (shared state): what goes in
// comes out, the time left rather than a point in time, an error kept for its replay, and anything
// this version does not read — garbage, another version, a field of the wrong type — dropped whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorInfo } from '../../src/canonical/errors.ts';
import { decodeHealthEvent, encodeHealthEvent, type HealthEvent } from '../../src/state/health-events.ts';

const refused: ErrorInfo = {
  code: 'SWY_ERR_UPSTREAM_STATUS', status: 401, message: 'Incorrect API key provided: sk-…wxyz', origin: 'upstream', errorClass: 'auth-refused',
  retryable: false, fallbackAllowed: true, upstreamStatus: 401, provider: 'openai',
};

test('an ejection goes out and comes back with its cause, length and time left', () => {
  const event: HealthEvent = { from: 'a1', provider: 'openai', keyIndex: 1, keyId: 'k-1234', model: 'gpt-4o', reason: 'ejected', ms: 9_500, cause: 'consecutive-failures', ejectionMs: 10_000 };
  assert.deepEqual(decodeHealthEvent(encodeHealthEvent(event)), event);
});

test('a cooldown carries the error that started it (replayed for a refused key)', () => {
  const event: HealthEvent = { from: 'a1', provider: 'openai', keyIndex: 0, keyId: 'k', model: 'gpt-4o', reason: 'auth', ms: 60_000, error: refused };
  const decoded = decodeHealthEvent(encodeHealthEvent(event));
  assert.deepEqual(decoded, event);
});

test('a target back in rotation has no reason; model names with any character survive', () => {
  const event: HealthEvent = { from: 'b2', provider: 'p:x', keyIndex: 0, keyId: '', model: 'org/model:tag\u0000{x}', reason: undefined, ms: 0 };
  assert.deepEqual(decodeHealthEvent(encodeHealthEvent(event)), event);
});

test('times are whole ms, never negative; a long error message is cut', () => {
  const event: HealthEvent = { from: 'a', provider: 'p', keyIndex: 0, keyId: 'k', model: 'm', reason: 'rate-limited', ms: -5, error: { ...refused, message: 'x'.repeat(5000) } };
  const decoded = decodeHealthEvent(encodeHealthEvent(event))!;
  assert.equal(decoded.ms, 0);
  assert.equal(decoded.error!.message.length, 1000);
  assert.equal(decodeHealthEvent(encodeHealthEvent({ ...event, ms: 12.6 }))!.ms, 13);
});

test('what this version does not read is dropped whole', () => {
  const good = JSON.parse(encodeHealthEvent({ from: 'a', provider: 'p', keyIndex: 0, keyId: 'k', model: 'm', reason: 'ejected', ms: 1, cause: 'probe', ejectionMs: 2, error: refused })) as Record<string, unknown>;
  assert.notEqual(decodeHealthEvent(JSON.stringify(good)), undefined);
  for (const text of ['', 'not json', 'null', '[]', '42', '{}']) assert.equal(decodeHealthEvent(text), undefined, text);
  const broken: Record<string, unknown>[] = [
    { v: 2 }, { f: 1 }, { p: null }, { i: -1 }, { i: 1.5 }, { k: 3 }, { m: undefined }, { r: 'sleeping' }, { r: 3 },
    { t: -1 }, { t: 'soon' }, { t: null }, { c: 'boredom' }, { l: -3 }, { l: 'long' }, { e: null }, { e: { c: 'X' } }, { e: { ...(good.e as object), r: 'yes' } },
  ];
  for (const change of broken) {
    const text = JSON.stringify({ ...good, ...change });
    assert.equal(decodeHealthEvent(text), undefined, text);
  }
});
