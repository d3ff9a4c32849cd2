// What a shared health book (redis-health.ts) relies on in the in-process entry: the observer is
// told of every start, extension and end of a cooldown or an ejection — and of nothing else — and
// `adopt` applies another instance's transition as the local one would, without counting it; a
// probe claimed elsewhere keeps a half-open entry out of rotation here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorClass, ErrorInfo } from '../../src/canonical/errors.ts';
import { HealthBook, TargetHealth, type HealthObserver } from '../../src/state/health.ts';
import { cooldowns as settings } from '../suites/health-store.ts';

const T0 = 1_800_000_000_000;

function failure(errorClass: ErrorClass, upstreamStatus: number): ErrorInfo {
  return { code: 'SWY_ERR_TEST', status: upstreamStatus, message: 'test failure', origin: 'upstream', errorClass, retryable: true, fallbackAllowed: true, upstreamStatus };
}

class Recorder implements HealthObserver {
  readonly seen: string[] = [];
  changed(entry: TargetHealth, now: number): void {
    this.seen.push(entry.reason === undefined ? 'back' : `${entry.reason}:${entry.until - now}`);
  }
  probeEnded(): void {
    this.seen.push('probe-ended');
  }
}

/** A book whose kept entries report to `recorder`, as a shared book's do. */
class ObservedBook extends HealthBook {
  constructor(recorder: HealthObserver) {
    super(() => T0);
    this.observer = recorder;
  }
}

function failOnce(entry: TargetHealth, now: number, error: ErrorInfo): void {
  entry.take(now);
  entry.release();
  entry.fail(now, error, settings, now);
}

test('the observer hears of cooldowns, ejections and the way back — not of ordinary answers or health checks', () => {
  const recorder = new Recorder();
  const book = new ObservedBook(recorder);
  const entry = book.entry('p', 0, 'k', 'm');
  entry.take(T0);
  entry.succeed(T0, 100);
  entry.release();
  assert.deepEqual(recorder.seen, [], 'a healthy answer says nothing');
  failOnce(entry, T0, failure('rate-limited', 429));
  assert.deepEqual(recorder.seen, [`rate-limited:${settings.rateLimitMs}`]);
  entry.succeed(T0 + 10, 100);
  assert.deepEqual(recorder.seen.slice(1), ['back']);
  for (let i = 0; i < settings.ejectAfter; i++) failOnce(entry, T0 + 20, failure('server-error', 503));
  assert.deepEqual(recorder.seen.slice(2), [`ejected:${settings.ejectMs}`]);
  entry.clear();
  assert.deepEqual(recorder.seen.slice(3), ['back'], 'an operator\'s clear');
  book.markKeyDown('p', 'k', T0 + 30, settings);
  book.markKeyUp('p', 'k');
  assert.equal(recorder.seen.length, 4, 'active health checks are each instance\'s own');
  const provisional = book.entry('p', 0, 'k', 'unlisted', false);
  failOnce(provisional, T0, failure('rate-limited', 429));
  assert.equal(recorder.seen.length, 4, 'an entry not kept is not shared');
});

test('a half-open probe that ends without a verdict is reported; one with a verdict is not', () => {
  const recorder = new Recorder();
  const entry = new ObservedBook(recorder).entry('p', 0, 'k', 'm');
  for (let i = 0; i < settings.ejectAfter; i++) failOnce(entry, T0, failure('server-error', 503));
  const open = T0 + settings.ejectMs;
  assert.equal(entry.halfOpen(open), true);
  entry.take(open);
  assert.equal(entry.halfOpen(open), false, 'the probe is out');
  entry.release(); // the client left
  assert.deepEqual(recorder.seen.slice(1), ['probe-ended']);
  assert.equal(entry.halfOpen(open), true, 'another may go');
  entry.take(open);
  entry.succeed(open + 5, 50, open);
  entry.release();
  assert.deepEqual(recorder.seen.slice(2), ['back']);
});

test('adopt: another instance\'s ejection is applied with its time left and length, counted as ejected here but not as an ejection made here', () => {
  const book = new HealthBook(() => T0);
  const entry = book.entry('p', 0, 'k', 'm');
  entry.adopt({ reason: 'ejected', ms: 4_000, cause: 'consecutive-failures', ejectionMs: 5_000 }, T0);
  assert.equal(entry.available(T0 + 3_999), false);
  assert.equal(entry.state(T0 + 3_999), 'cooling');
  assert.equal(entry.ejectedBy, 'consecutive-failures');
  assert.equal(book.counters.ejectedEntries, 1, 'the panic check sees it');
  assert.equal(book.counters.ejections.size, 0, 'counted where it happened');
  // its probe fails here: the length doubles from the adopted one
  const open = T0 + 4_000;
  assert.equal(entry.halfOpen(open), true);
  failOnce(entry, open, failure('server-error', 503));
  assert.equal(entry.until, open + 10_000);
});

test('adopt: a shorter cooldown of the same kind changes nothing; another kind replaces it; the way back ends it and its probe claim', () => {
  const entry = new HealthBook(() => T0).entry('p', 0, 'k', 'm');
  entry.adopt({ reason: 'rate-limited', ms: 8_000 }, T0);
  entry.adopt({ reason: 'rate-limited', ms: 2_000 }, T0 + 1_000);
  assert.equal(entry.until, T0 + 8_000);
  entry.adopt({ reason: 'rate-limited', ms: 9_000 }, T0 + 1_000);
  assert.equal(entry.until, T0 + 10_000);
  const refused = failure('auth-refused', 401);
  entry.adopt({ reason: 'auth', ms: 60_000, error: refused }, T0 + 2_000);
  assert.equal(entry.reason, 'auth');
  assert.equal(entry.lastError, refused, 'replayed here as there');
  entry.adopt({ reason: undefined, ms: 0 }, T0 + 3_000);
  assert.equal(entry.available(T0 + 3_000), true);
  assert.equal(entry.reason, undefined);
});

test('a probe claimed elsewhere keeps the half-open entry out of rotation here until its verdict or the claim\'s end', () => {
  const entry = new HealthBook(() => T0).entry('p', 0, 'k', 'm');
  entry.adopt({ reason: 'ejected', ms: 1_000, ejectionMs: 1_000 }, T0);
  const open = T0 + 1_000;
  entry.probeHeldUntil = open + 30_000;
  assert.equal(entry.available(open), false);
  assert.equal(entry.halfOpen(open), false);
  assert.equal(entry.usable(open, true), true, 'a route in panic may still use it');
  assert.equal(entry.available(open + 30_000), true, 'the claim lapsed: this instance may probe');
  entry.adopt({ reason: 'ejected', ms: 2_000, cause: 'probe', ejectionMs: 2_000 }, open + 10);
  assert.equal(entry.probeHeldUntil, 0, 'the verdict came: ejected again');
  assert.equal(entry.until, open + 2_010);
});
