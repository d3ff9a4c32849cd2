// Passive health per (provider key, model) with an explicit clock: each cooldown kind, Retry-After
// winning over the computed back-off, outlier ejection after N consecutive failures with a
// doubling time, and the half-open probe that admits exactly one request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorClass, ErrorInfo } from '../../src/canonical/errors.ts';
import type { CooldownSettings } from '../../src/config/types.ts';
import { HealthBook, TargetHealth } from '../../src/state/health.ts';
import { cooldowns } from '../suites/health-store.ts';

// the shared store suite's settings, with the success-rate detector on
const settings: CooldownSettings = { ...cooldowns, successRateThresholdPercent: 50 };

const T0 = 1_800_000_000_000;

function failure(errorClass: ErrorClass, upstreamStatus?: number, retryAfterSeconds?: number): ErrorInfo {
  return {
    code: 'SWY_ERR_TEST', status: upstreamStatus ?? 502, message: 'test failure', origin: 'upstream', errorClass,
    retryable: true, fallbackAllowed: true,
    ...(upstreamStatus !== undefined ? { upstreamStatus } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

const serverError = () => failure('server-error', 500);
const timeout = () => failure('per-try-timeout');
const rateLimited = (retryAfter?: number) => failure('rate-limited', 429, retryAfter);

function entry(): TargetHealth {
  return new TargetHealth('p', 0, 'abcd1234', 'm');
}

/** One attempt from start to failure, as the runner does it: take, release, fail. */
function failOnce(health: TargetHealth, now: number, error: ErrorInfo): void {
  health.take(now);
  health.release();
  health.fail(now, error, settings);
}

test('a new entry is healthy and available', () => {
  const health = entry();
  assert.equal(health.available(T0), true);
  assert.equal(health.state(T0), 'healthy');
  assert.equal(health.reason, undefined);
});

for (const [status, reason, ms] of [[401, 'auth', settings.authMs], [403, 'auth', settings.authMs], [404, 'not-found', settings.notFoundMs]] as const) {
  test(`${status} cools the entry down for its own time (${reason})`, () => {
    const health = entry();
    const error = failure('client-error', status);
    failOnce(health, T0, error);
    assert.equal(health.reason, reason);
    assert.equal(health.until, T0 + ms);
    assert.equal(health.available(T0 + ms - 1), false);
    assert.equal(health.state(T0 + ms - 1), 'cooling');
    assert.equal(health.available(T0 + ms), true);
    assert.equal(health.state(T0 + ms), 'healthy');
    assert.equal(health.lastError, error, 'kept to be replayed');
    assert.equal(health.consecutiveFailures, 0, 'not an outlier failure');
  });
}

test('429 without Retry-After: rate_limit_ms, doubled per consecutive 429, capped by rate_limit_max_ms; a success resets it', () => {
  const health = entry();
  let now = T0;
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    failOnce(health, now, rateLimited());
    assert.equal(health.reason, 'rate-limited');
    waits.push(health.until - now);
    now = health.until;
  }
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  assert.equal(health.ejections, 0, 'a rate limit is not an outlier');
  health.succeed(now, 0);
  failOnce(health, now, rateLimited());
  assert.equal(health.until - now, 1_000, 'back to the first step after a success');
});

test('Retry-After wins over the computed back-off, longer or shorter, and is capped by rate_limit_max_ms', () => {
  const health = entry();
  failOnce(health, T0, rateLimited(3));
  assert.equal(health.until, T0 + 3_000);
  // the doubled back-off would now be 2 s; the provider says 0.25 s
  failOnce(health, T0 + 3_000, rateLimited(0.25));
  assert.equal(health.until, T0 + 3_250);
  failOnce(health, T0 + 3_250, rateLimited(3_600));
  assert.equal(health.until, T0 + 3_250 + settings.rateLimitMaxMs);
});

test('a longer cooldown of the same kind is never shortened by a later, shorter one', () => {
  const health = entry();
  failOnce(health, T0, rateLimited(5));
  failOnce(health, T0 + 10, rateLimited(1));
  assert.equal(health.until, T0 + 5_000);
});

test('ejection after eject_after consecutive 5xx or timeouts, not before', () => {
  const health = entry();
  failOnce(health, T0, serverError());
  failOnce(health, T0, timeout());
  assert.equal(health.available(T0), true, 'two failures: still in');
  assert.equal(health.consecutiveFailures, 2);
  failOnce(health, T0, failure('reset'));
  assert.equal(health.reason, 'ejected');
  assert.equal(health.until, T0 + settings.ejectMs);
  assert.equal(health.available(T0 + settings.ejectMs - 1), false);
  assert.equal(health.state(T0 + 1), 'cooling');
});

test('a success between failures resets the count', () => {
  const health = entry();
  failOnce(health, T0, serverError());
  failOnce(health, T0, serverError());
  health.take(T0);
  health.release();
  health.succeed(T0, 120);
  failOnce(health, T0, serverError());
  failOnce(health, T0, serverError());
  assert.equal(health.available(T0), true);
  assert.equal(health.reason, undefined);
});

test('half-open: after the ejection exactly one probe is admitted; its success brings the entry back', () => {
  const health = entry();
  for (let i = 0; i < 3; i++) failOnce(health, T0, serverError());
  const open = T0 + settings.ejectMs;
  assert.equal(health.state(open), 'half-open');
  assert.equal(health.available(open), true, 'the probe may go');
  health.take(open);
  assert.equal(health.available(open), false, 'nobody else while the probe is out');
  assert.equal(health.available(open + 60_000), false, 'however long it takes');
  health.release();
  health.succeed(open + 100, 100);
  assert.equal(health.state(open + 100), 'healthy');
  assert.equal(health.available(open + 100), true);
  assert.equal(health.ejections, 0);
  // the next ejection starts again from eject_ms
  for (let i = 0; i < 3; i++) failOnce(health, open + 200, serverError());
  assert.equal(health.until, open + 200 + settings.ejectMs);
});

test('half-open: a failed probe ejects again at once, for twice as long, up to eject_max_ms', () => {
  const health = entry();
  for (let i = 0; i < 3; i++) failOnce(health, T0, serverError());
  let now = T0;
  const lengths = [health.until - now];
  for (let i = 0; i < 5; i++) {
    now = health.until;
    assert.equal(health.available(now), true, `probe ${i} admitted`);
    failOnce(health, now, timeout());
    assert.equal(health.reason, 'ejected', 'one failed probe is enough');
    lengths.push(health.until - now);
  }
  assert.deepEqual(lengths, [5_000, 10_000, 20_000, 30_000, 30_000, 30_000]);
});

test('half-open: a failed probe that ended by a rate limit still keeps others out for the cooldown', () => {
  const health = entry();
  for (let i = 0; i < 3; i++) failOnce(health, T0, serverError());
  const open = T0 + settings.ejectMs;
  failOnce(health, open, rateLimited(2));
  assert.equal(health.available(open + 1_999), false);
});

test('half-open: an attempt that was in flight before the ejection ended does not let a second probe through', () => {
  const health = entry();
  health.take(T0); // a long stream, started while the entry was healthy
  for (let i = 0; i < 3; i++) failOnce(health, T0, serverError());
  const open = T0 + settings.ejectMs;
  health.take(open); // the probe
  assert.equal(health.available(open), false);
  health.release(); // the old stream ends
  assert.equal(health.available(open), false, 'the probe is still out');
  health.release(); // the probe ends without a verdict (its client left)
  assert.equal(health.available(open), true, 'a new probe may go');
});

test('a health-check ejection comes back through the probe; recover() ends an ejection at once', () => {
  const health = entry();
  health.eject(T0, settings, 'health-check');
  assert.equal(health.reason, 'ejected');
  assert.equal(health.available(T0), false);
  health.recover();
  assert.equal(health.available(T0), true);
  assert.equal(health.state(T0), 'healthy');
  // recover() does not lift a cooldown that is not an ejection
  failOnce(health, T0, failure('client-error', 401));
  health.recover();
  assert.equal(health.available(T0), false);
});

test('in-flight count and peak-EWMA latency', () => {
  const health = entry();
  health.take(T0);
  health.take(T0);
  assert.equal(health.inflight, 2);
  health.release();
  health.release();
  health.release();
  assert.equal(health.inflight, 0, 'never negative');
  health.succeed(T0, 100);
  assert.equal(health.latencyMs, 100);
  health.succeed(T0, 300);
  assert.equal(health.latencyMs, 300, 'a slow sample counts at once');
  health.succeed(T0, 100);
  assert.equal(health.latencyMs, 260, 'fast samples pull it down gradually');
});

test('error rate over recent attempts', () => {
  const health = entry();
  assert.equal(health.errorRate(T0), 0);
  health.succeed(T0, 0);
  failOnce(health, T0, serverError());
  failOnce(health, T0, serverError());
  health.succeed(T0, 0);
  assert.equal(health.errorRate(T0), 0.5);
  assert.equal(health.requests, 4);
  assert.equal(health.failures, 2);
});

test('HealthBook: one entry per (provider, key, model), found again by key', () => {
  const book = new HealthBook(() => T0);
  const a = book.entry('p', 0, 'key1', 'm1');
  assert.equal(book.entry('p', 0, 'key1', 'm1'), a);
  const b = book.entry('p', 0, 'key1', 'm2');
  const c = book.entry('p', 1, 'key2', 'm1');
  const d = book.entry('q', 0, 'key1', 'm1');
  assert.equal(new Set([a, b, c, d]).size, 4);
  assert.equal(book.size, 4);
  assert.deepEqual(book.forKey('p', 'key1'), [a, b]);
  assert.equal([...book.all()].length, 4);
  assert.equal(c.keyIndex, 1);
});

// --- after Envoy: only a failed probe doubles, post-commit failures apart, success rate ---------

/** Ejects `health` at `at` by eject_after failures in a row. */
function ejectAt(health: TargetHealth, at: number): void {
  for (let i = 0; i < settings.ejectAfter; i++) failOnce(health, at, serverError());
  assert.equal(health.reason, 'ejected');
}

test('failures of attempts that were in flight before the ejection neither extend nor double it, even in its half-open phase', () => {
  const health = entry();
  const before = T0 - 1_000;
  for (let i = 0; i < 50; i++) health.take(before); // a burst of streams, all started while healthy
  ejectAt(health, T0);
  const until = health.until;
  for (let i = 0; i < 25; i++) health.fail(T0 + 10 + i, failure('reset'), settings, before);
  assert.equal(health.until, until, 'cooling: not extended');
  for (let i = 0; i < 25; i++) health.fail(until + i, failure('reset'), settings, before);
  assert.equal(health.until, until, 'half-open: doomed attempts are not the probe');
  assert.equal(health.ejections, 1);
  assert.equal(health.ejectedBy, 'consecutive-failures');
  assert.equal(health.failures, 53, 'all of them counted');
});

test('attempts made during the ejection (in panic) do not extend it; the first failure begun in the half-open phase doubles it, once', () => {
  const health = entry();
  ejectAt(health, T0);
  const until = health.until;
  health.fail(T0 + 100, serverError(), settings, T0 + 50);
  assert.equal(health.until, until);
  // three attempts begun in the half-open phase (the probe and two in panic) all fail
  const open = until;
  for (let i = 0; i < 3; i++) health.take(open);
  health.fail(open + 10, serverError(), settings, open);
  assert.equal(health.until, open + 10 + 2 * settings.ejectMs, 'doubled');
  assert.equal(health.ejectedBy, 'probe');
  health.fail(open + 20, serverError(), settings, open);
  health.fail(open + 30, serverError(), settings, open);
  assert.equal(health.until, open + 10 + 2 * settings.ejectMs, 'the others were begun before the new ejection: no further doubling');
  assert.equal(health.ejections, 2);
});

test('a success of an attempt begun before the ejection does not end it; one begun during it (probe or panic) does', () => {
  const health = entry();
  ejectAt(health, T0);
  health.succeed(T0 + 5, 100, T0 - 1);
  assert.equal(health.reason, 'ejected', 'an older stream that happened to work says nothing');
  assert.equal(health.available(T0 + 5), false);
  health.succeed(T0 + 6, 100, T0 + 1);
  assert.equal(health.reason, undefined);
  assert.equal(health.available(T0 + 6), true);
  assert.equal(health.ejections, 0);
});

test('a failure of a doomed attempt while the probe is out does not free the half-open slot', () => {
  const health = entry();
  health.take(T0 - 1);
  ejectAt(health, T0);
  const open = health.until;
  health.take(open); // the probe
  health.fail(open + 1, failure('reset'), settings, T0 - 1);
  health.release();
  assert.equal(health.probing, true);
  assert.equal(health.available(open + 1), false, 'still one probe at a time');
});

test('a stream broken after the commit point is counted apart: it never ejects at eject_after, nor counts the request twice', () => {
  const health = entry();
  for (let i = 0; i < 10; i++) {
    health.take(T0);
    health.succeed(T0, 50); // the commit
    health.failAfterCommit(T0, failure('reset'), settings);
    health.release();
  }
  assert.equal(health.reason, undefined, 'ten broken streams in a row: not ejected');
  assert.equal(health.consecutiveFailures, 0);
  assert.equal(health.streamFailures, 10);
  assert.equal(health.requests, 10);
  assert.equal(health.failures, 10);
  assert.equal(health.errorRate(T0), 1);
});

test('success rate: a target failing half of its attempts is ejected once it has had success_rate_request_volume of them, not before', () => {
  const health = entry();
  let now = T0;
  for (let i = 0; i < settings.successRateRequestVolume / 2 - 1; i++) {
    health.succeed(now, 50);
    failOnce(health, now, serverError());
    now += 100;
  }
  assert.equal(health.reason, undefined, `${health.requests} attempts: below the volume`);
  assert.equal(health.successRate(now), 0.5);
  health.succeed(now, 50);
  failOnce(health, now, serverError());
  assert.equal(health.reason, 'ejected');
  assert.equal(health.ejectedBy, 'success-rate');
  assert.equal(health.until, now + settings.ejectMs);
});

test('success rate: broken streams feed it; 10% failures do not eject, 60% do', () => {
  const run = (failEvery: (i: number) => boolean): TargetHealth => {
    // a burst of concurrent streams, all begun before any verdict
    const health = entry();
    for (let i = 0; i < 40; i++) health.take(T0);
    for (let i = 0; i < 40; i++) {
      health.succeed(T0 + 1, 50, T0);
      if (failEvery(i)) health.failAfterCommit(T0 + 2, failure('reset'), settings);
      health.release();
    }
    return health;
  };
  assert.equal(run((i) => i % 10 === 0).reason, undefined);
  const flapping = run((i) => i % 5 < 3);
  assert.equal(flapping.reason, 'ejected');
  assert.equal(flapping.ejectedBy, 'success-rate');
});

test('success rate: rate limits and refused keys are not outlier failures; a threshold of 0 turns the detector off', () => {
  const limited = entry();
  for (let i = 0; i < 30; i++) {
    limited.succeed(T0 + i * 2_000, 50);
    failOnce(limited, T0 + i * 2_000 + 1, rateLimited(0.001));
  }
  assert.notEqual(limited.reason, 'ejected');
  assert.equal(limited.successRate(T0 + 60_000), 1);
  const off = entry();
  const quiet = { ...settings, successRateThresholdPercent: 0 };
  for (let i = 0; i < 30; i++) {
    off.succeed(T0, 50);
    off.fail(T0, serverError(), quiet);
  }
  assert.equal(off.reason, undefined);
});

test('a guard that refuses (max_ejection_percent reached) leaves the target in rotation and counts the overflow; 0 % turns ejection off', () => {
  const book = new HealthBook(() => T0);
  const health = book.entry('p', 0, 'k', 'm');
  let asked = 0;
  const refuse = { allowsEjection: () => (asked++, false) };
  for (let i = 0; i < 6; i++) health.fail(T0, serverError(), settings, T0, refuse);
  assert.equal(health.reason, undefined);
  assert.equal(asked, 2, 'asked at each eject_after failures in a row');
  assert.equal(book.counters.ejectionsOverflow.get('p'), 2);
  assert.equal(book.counters.ejections.size, 0);
  const allow = { allowsEjection: () => true };
  for (let i = 0; i < 3; i++) health.fail(T0, serverError(), settings, T0, allow);
  assert.equal(health.reason, 'ejected');
  const off = book.entry('p', 0, 'k', 'm2');
  for (let i = 0; i < 9; i++) off.fail(T0, serverError(), { ...settings, maxEjectionPercent: 0 }, T0, allow);
  assert.equal(off.reason, undefined);
});

test('counters: ejections by cause, attempts taken in panic, streams broken after the commit', () => {
  const book = new HealthBook(() => T0);
  const health = book.entry('p', 0, 'k', 'm');
  ejectAt(health, T0);
  health.take(T0 + 1); // while cooling: only a route in panic sends it
  health.release();
  health.take(health.until); // the probe: not a panic attempt
  health.fail(health.until, serverError(), settings, health.until);
  health.release();
  health.failAfterCommit(T0, failure('reset'), settings);
  assert.deepEqual([...book.counters.ejections.get('p')!], [['consecutive-failures', 1], ['probe', 1]]);
  assert.equal(book.counters.panicAttempts.get('p'), 1);
  assert.equal(book.counters.streamFailures.get('p'), 1);
});

test('an outlier failure on a key cooling down for a rate limit does not replace that cooldown by an ejection', () => {
  const health = entry();
  failOnce(health, T0, rateLimited(5));
  for (let i = 0; i < 5; i++) health.fail(T0 + 1, serverError(), settings, T0 - 1);
  assert.equal(health.reason, 'rate-limited');
  assert.equal(health.until, T0 + 5_000);
  // once the cooldown is over, the count it kept ejects at the next failure
  failOnce(health, T0 + 5_000, serverError());
  assert.equal(health.reason, 'ejected');
});

test('the book counts its ejected entries exactly, through every way in and out of an ejection', () => {
  const book = new HealthBook(() => T0);
  const count = () => book.counters.ejectedEntries;
  const a = book.entry('p', 0, 'k', 'a');
  const b = book.entry('p', 0, 'k', 'b');
  ejectAt(a, T0);
  assert.equal(count(), 1);
  a.fail(a.until, serverError(), settings, a.until); // a failed probe: ejected again, still one entry
  assert.equal(count(), 1);
  a.succeed(a.until + 1, 10, a.until + 1);
  assert.equal(count(), 0);
  ejectAt(b, T0);
  failOnce(b, b.until, rateLimited(1)); // a rate limit replaces the ejection
  assert.equal(count(), 0);
  book.markKeyDown('p', 'k', T0, settings);
  assert.equal(count(), 2);
  const c = book.entry('p', 0, 'k', 'c'); // created while the key is down: starts ejected
  assert.equal(c.reason, 'ejected');
  assert.equal(count(), 3);
  book.markKeyUp('p', 'k');
  assert.equal(count(), 0);
  ejectAt(c, T0);
  c.retire();
  assert.equal(count(), 0);
});
