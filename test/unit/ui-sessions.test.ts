// The dashboard's session store: bounded (the oldest login goes first), idle and absolute expiry,
// the cookie parsed strictly, CSRF compared in full; and the live view's arithmetic: percentiles
// from histogram buckets between two readings, the sampler's bounded ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_IDLE_MS, SESSION_LIFETIME_MS, UiSessions, sessionCookie, sessionIdOf } from '../../src/pipeline/ui-sessions.ts';
import { BucketLayout, Buckets } from '../../src/observability/metrics-series.ts';
import { LiveSampler, LiveTotals, quantileBetween, windowBetween } from '../../src/observability/live-stats.ts';

const cookieOf = (id: string) => ({ cookie: `other=1; switchyard_session=${id}; more=2` });

test('sessions: found by cookie, bounded (oldest first), ended by idle time or lifetime', () => {
  const sessions = new UiSessions(3);
  const first = sessions.create('admin-1', 0);
  assert.equal(sessions.find(cookieOf(first.id), 1000)?.adminId, 'admin-1');
  const second = sessions.create('admin-1', 10);
  sessions.create('admin-2', 20);
  sessions.create('admin-2', 30);
  assert.equal(sessions.size, 3);
  assert.equal(sessions.find(cookieOf(first.id), 40), undefined, 'the oldest went');
  // idle: unused past SESSION_IDLE_MS
  assert.equal(sessions.find(cookieOf(second.id), 10 + SESSION_IDLE_MS), undefined);
  // lifetime: used all along, still ends
  const busy = new UiSessions();
  const session = busy.create('admin-1', 0);
  for (let now = 0; now < SESSION_LIFETIME_MS; now += SESSION_IDLE_MS / 2) assert.ok(busy.find(cookieOf(session.id), now));
  assert.equal(busy.find(cookieOf(session.id), SESSION_LIFETIME_MS), undefined);
});

test('the cookie: only a well-formed session id under the exact name; Set-Cookie attributes', () => {
  const id = 'a'.repeat(43);
  assert.equal(sessionIdOf(`switchyard_session=${id}`), id);
  assert.equal(sessionIdOf(`x=1;switchyard_session=${id}`), id);
  assert.equal(sessionIdOf(`my_switchyard_session=${id}`), undefined);
  assert.equal(sessionIdOf(`switchyard_session=${id}x`), undefined);
  assert.equal(sessionIdOf('switchyard_session=short'), undefined);
  assert.equal(sessionIdOf(undefined), undefined);
  const session = new UiSessions().create('admin-1');
  assert.match(sessionCookie(session, false), /^switchyard_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  assert.match(sessionCookie(session, true), /; Secure;/);
  assert.match(sessionCookie(undefined, false), /^switchyard_session=; .*Max-Age=0$/);
});

test('CSRF: the exact token, nothing shorter, longer or absent', () => {
  const session = new UiSessions().create('admin-1');
  assert.equal(UiSessions.csrfMatches(session, { 'x-switchyard-csrf': session.csrf }), true);
  assert.equal(UiSessions.csrfMatches(session, { 'x-switchyard-csrf': session.csrf.slice(1) }), false);
  assert.equal(UiSessions.csrfMatches(session, { 'x-switchyard-csrf': `${session.csrf}x` }), false);
  assert.equal(UiSessions.csrfMatches(session, {}), false);
});

test('percentiles between two readings, interpolated within buckets', () => {
  const layout = new BucketLayout([0.01, 0.1, 1]);
  const earlier = new Buckets(layout);
  for (let i = 0; i < 100; i++) earlier.observe(500); // old, slow: not in the window
  const later = new Buckets(layout);
  later.add(earlier);
  for (let i = 0; i < 100; i++) later.observe(5); // (0, 10 ms]
  assert.equal(quantileBetween(earlier, later, 0.5), 5);
  assert.equal(quantileBetween(earlier, later, 0.99), 9.9);
  assert.equal(quantileBetween(later, later, 0.5), null);
  const slow = new Buckets(layout);
  slow.observe(5000);
  assert.equal(quantileBetween(undefined, slow, 0.5), 1000, 'the +Inf bucket answers its lower bound');
});

test('windows and the sampler: rates from differences, an hour kept in a fixed ring', () => {
  const layout = new BucketLayout([0.1, 1]);
  let requests = 0;
  const read = (at: number) => {
    const totals = new LiveTotals(at, layout, layout, layout);
    totals.statuses[1] = requests;
    totals.outputTokens = requests * 10;
    return totals;
  };
  const window = windowBetween(read(0), (requests = 20, read(10_000)));
  assert.equal(window.requests, 20);
  assert.equal(window.requests_per_second, 2);
  assert.equal(window.output_tokens_per_second, 20);
  requests = 0;
  const sampler = new LiveSampler(read, 10_000, 4);
  for (let i = 1; i <= 6; i++) {
    requests += i;
    sampler.sample(i * 10_000);
  }
  const history = sampler.history();
  assert.deepEqual(history.map((point) => point.requests), [3, 4, 5, 6]);
  assert.deepEqual(history.map((point) => point.time), [30_000, 40_000, 50_000, 60_000]);
});
