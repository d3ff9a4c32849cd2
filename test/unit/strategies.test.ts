// Route.pick per strategy and TargetSlot.pickKey per key strategy, on routes built by the Router
// from a config (no sockets): deterministic where the strategy is, and for the randomised one
// (latency, power of two choices) the property that holds whatever the dice say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Strategy } from '../../src/config/types.ts';
import { Router, type Route, type TargetSlot } from '../../src/routing/router.ts';
import { HealthBook, type TargetHealth } from '../../src/state/health.ts';
import { testConfig, type TestAlias, type TestProvider } from '../helpers/gateway.ts';

const T0 = 1_800_000_000_000;
const COOLDOWNS = { authMs: 60_000, notFoundMs: 60_000, rateLimitMs: 1_000, rateLimitMaxMs: 10_000, ejectAfter: 1, ejectMs: 5_000, ejectMaxMs: 5_000, maxEjectionPercent: 100, panicThresholdPercent: 0, successRateThresholdPercent: 0, successRateRequestVolume: 1 };

function routeOf(strategy: Strategy, targets: TestAlias['targets'], providers?: TestProvider[], keyIds: Record<string, string[]> = {}): Route {
  const names = [...new Set(targets.map((target) => target.provider))];
  const config = testConfig({
    providers: providers ?? names.map((name) => ({ name, baseUrl: `http://127.0.0.1:9/${name}` })),
    models: [{ name: 'alias', strategy, targets }],
  });
  const router = new Router(config, { health: new HealthBook(() => T0), keyIds: new Map(Object.entries(keyIds)) });
  return router.resolve('alias')!;
}

const three = [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }, { provider: 'c', model: 'm' }];

function picks(route: Route, count: number, tried?: ReadonlySet<TargetSlot>, tokens = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(route.pick('chat', T0, tried, tokens)?.provider ?? '-');
  return out;
}

/** Ejects every key of a target (one failure with eject_after 1). */
function eject(target: TargetSlot): void {
  for (const key of target.keys) key.fail(T0, { code: 'x', status: 502, message: 'x', origin: 'upstream', errorClass: 'server-error', retryable: true, fallbackAllowed: true }, COOLDOWNS);
}

test('fill-first: the first usable target in list order, every time', () => {
  const route = routeOf('fill-first', three);
  assert.deepEqual(picks(route, 3), ['a', 'a', 'a']);
  assert.deepEqual(picks(route, 2, new Set([route.targets[0]!])), ['b', 'b'], 'skips a target already tried');
  eject(route.targets[0]!);
  assert.deepEqual(picks(route, 2), ['b', 'b'], 'skips a target that is cooling down');
  assert.equal(route.pick('chat', T0 + 5_000)?.provider, 'a', 'and takes it back once it may be probed');
});

test('round-robin: in turn; an unusable target\'s turn goes to the next one', () => {
  const route = routeOf('round-robin', three);
  assert.deepEqual(picks(route, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
  eject(route.targets[1]!);
  assert.deepEqual(picks(route, 4), ['a', 'c', 'c', 'a']);
  assert.equal(route.pick('chat', T0, new Set(route.targets)), undefined, 'nothing left');
});

test('weighted 3:1: smooth weighted round-robin, 6 and 2 over 8, never two light in a row', () => {
  const route = routeOf('weighted', [{ provider: 'heavy', model: 'm', weight: 3 }, { provider: 'light', model: 'm', weight: 1 }]);
  const order = picks(route, 8);
  assert.deepEqual(order, ['heavy', 'heavy', 'light', 'heavy', 'heavy', 'heavy', 'light', 'heavy']);
  assert.equal(order.filter((name) => name === 'heavy').length, 6);
});

test('weighted: a weight of 0 is never picked; an unusable target leaves its share to the others', () => {
  const route = routeOf('weighted', [{ provider: 'a', model: 'm', weight: 2 }, { provider: 'b', model: 'm', weight: 0 }, { provider: 'c', model: 'm', weight: 1 }]);
  const order = picks(route, 30);
  assert.ok(!order.includes('b'));
  assert.equal(order.filter((name) => name === 'a').length, 20);
  eject(route.targets[0]!);
  assert.deepEqual(picks(route, 3), ['c', 'c', 'c']);
});

test('least-busy: the target with the fewest attempts in flight; ties broken in turn', () => {
  const route = routeOf('least-busy', three);
  const [a, b, c] = route.targets as [TargetSlot, TargetSlot, TargetSlot];
  assert.deepEqual(picks(route, 3), ['a', 'b', 'c'], 'all idle: in turn');
  a.keys[0]!.take(T0);
  a.keys[0]!.take(T0);
  b.keys[0]!.take(T0);
  assert.deepEqual(picks(route, 3), ['c', 'c', 'c']);
  c.keys[0]!.take(T0);
  c.keys[0]!.take(T0);
  c.keys[0]!.take(T0);
  assert.deepEqual(picks(route, 2), ['b', 'b']);
  b.keys[0]!.release();
  a.keys[0]!.release();
  a.keys[0]!.release();
  assert.deepEqual(new Set(picks(route, 4)), new Set(['a', 'b']), 'a and b idle again: both used');
});

test('latency: an unmeasured target is tried first; then the lowest latency × (in flight + 1) wins', () => {
  const route = routeOf('latency', [{ provider: 'fast', model: 'm' }, { provider: 'slow', model: 'm' }]);
  const [fast, slow] = route.targets as [TargetSlot, TargetSlot];
  slow.keys[0]!.succeed(T0, 400);
  for (let i = 0; i < 10; i++) assert.equal(route.pick('chat', T0)?.provider, 'fast', 'no sample yet: explored first');
  fast.keys[0]!.succeed(T0, 100);
  for (let i = 0; i < 10; i++) assert.equal(route.pick('chat', T0)?.provider, 'fast');
  for (let i = 0; i < 4; i++) fast.keys[0]!.take(T0);
  // 100 × 5 = 500 > 400 × 1
  for (let i = 0; i < 10; i++) assert.equal(route.pick('chat', T0)?.provider, 'slow');
});

test('latency with three targets: the slowest is never picked while the others are usable', () => {
  const route = routeOf('latency', three);
  const [a, b, c] = route.targets as [TargetSlot, TargetSlot, TargetSlot];
  a.keys[0]!.succeed(T0, 50);
  b.keys[0]!.succeed(T0, 80);
  c.keys[0]!.succeed(T0, 900);
  const seen = new Set(picks(route, 200));
  assert.ok(!seen.has('c'), [...seen].join());
  assert.ok(seen.has('a'));
});

test('a target whose context window is smaller than the prompt estimate is not picked', () => {
  const route = routeOf('fill-first', [{ provider: 'small', model: 'm', contextWindow: 1_000 }, { provider: 'big', model: 'm', contextWindow: 100_000 }]);
  assert.equal(route.hasContextWindows, true);
  assert.equal(route.pick('chat', T0, undefined, 500)?.provider, 'small');
  assert.equal(route.pick('chat', T0, undefined, 5_000)?.provider, 'big');
  assert.equal(route.pick('chat', T0, undefined, 500_000), undefined);
});

test('only targets whose provider can serve the operation are considered', () => {
  const route = routeOf('round-robin', [{ provider: 'chatty', model: 'm' }, { provider: 'embedder', model: 'm' }], [
    { name: 'chatty', baseUrl: 'http://127.0.0.1:9/a', capabilities: { chat: true, completions: true, embeddings: false, responses: true } },
    { name: 'embedder', baseUrl: 'http://127.0.0.1:9/b', capabilities: { chat: false, completions: false, embeddings: true, responses: false } },
  ]);
  assert.deepEqual(picks(route, 3), ['chatty', 'chatty', 'chatty']);
  assert.deepEqual([1, 2, 3].map(() => route.pick('embeddings', T0)?.provider), ['embedder', 'embedder', 'embedder']);
});

// --- keys --------------------------------------------------------------------------------------

function keyedRoute(keyStrategy: 'round-robin' | 'fill-first'): TargetSlot {
  const route = routeOf('fill-first', [{ provider: 'p', model: 'm' }], [{ name: 'p', baseUrl: 'http://127.0.0.1:9/p', apiKeys: ['k1', 'k2', 'k3'], keyStrategy }], { p: ['id1', 'id2', 'id3'] });
  return route.targets[0]!;
}

const keyIndexes = (slot: TargetSlot, count: number, preferred = -1): number[] => Array.from({ length: count }, () => slot.pickKey(T0, preferred)?.keyIndex ?? -1);

test('keys round-robin: in turn, skipping a cooling key', () => {
  const slot = keyedRoute('round-robin');
  assert.deepEqual(slot.keys.map((key) => key.keyId), ['id1', 'id2', 'id3']);
  assert.deepEqual(keyIndexes(slot, 6), [0, 1, 2, 0, 1, 2]);
  eject(slot); // every key
  assert.equal(slot.pickKey(T0), undefined);
  assert.equal(slot.available(T0), false);
  assert.equal(slot.coolingUntil(), T0 + 5_000);
});

test('keys fill-first: the first available key until it cools down', () => {
  const slot = keyedRoute('fill-first');
  assert.deepEqual(keyIndexes(slot, 3), [0, 0, 0]);
  slot.keys[0]!.fail(T0, { code: 'x', status: 401, message: 'x', origin: 'upstream', errorClass: 'client-error', retryable: false, fallbackAllowed: true, upstreamStatus: 401 }, COOLDOWNS);
  assert.deepEqual(keyIndexes(slot, 3), [1, 1, 1]);
  assert.equal(slot.available(T0), true);
});

test('a preferred key (the session\'s) is used when available, else the strategy decides', () => {
  const slot = keyedRoute('round-robin');
  assert.deepEqual(keyIndexes(slot, 3, 2), [2, 2, 2]);
  eject(slot);
  assert.equal(slot.pickKey(T0, 2), undefined);
  const fresh = keyedRoute('fill-first');
  fresh.keys[2]!.fail(T0, { code: 'x', status: 401, message: 'x', origin: 'upstream', errorClass: 'client-error', retryable: false, fallbackAllowed: true, upstreamStatus: 401 }, COOLDOWNS);
  assert.deepEqual(keyIndexes(fresh, 2, 2), [0, 0]);
});

// --- ejection limits and panic -------------------------------------------------------------------

const SERVER_ERROR = { code: 'x', status: 502, message: 'x', origin: 'upstream' as const, errorClass: 'server-error' as const, retryable: true, fallbackAllowed: true };
const RATE_LIMITED = { code: 'x', status: 429, message: 'x', origin: 'upstream' as const, errorClass: 'rate-limited' as const, retryable: true, fallbackAllowed: true, upstreamStatus: 429, retryAfterSeconds: 30 };

test('panic threshold: below it (and only when some target is merely ejected) the route may pick ejected targets; rate-limited ones stay out', () => {
  const single = routeOf('round-robin', [{ provider: 'a', model: 'm' }]);
  assert.equal(single.belowPanicThreshold('chat', T0, 50), false, 'healthy');
  eject(single.targets[0]!);
  assert.equal(single.pick('chat', T0), undefined, 'ejected: not picked normally');
  assert.equal(single.belowPanicThreshold('chat', T0, 50), true);
  assert.equal(single.belowPanicThreshold('chat', T0, 0), false, '0 = never');
  assert.equal(single.pick('chat', T0, undefined, 0, true)?.provider, 'a', 'in panic it is tried');
  assert.equal(single.targets[0]!.pickKey(T0, -1, true), single.targets[0]!.keys[0]);
  assert.equal(single.pick('chat', T0, new Set(single.targets), 0, true), undefined, 'never a target already tried');

  const two = routeOf('round-robin', [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }]);
  eject(two.targets[0]!);
  assert.equal(two.belowPanicThreshold('chat', T0, 50), false, 'one of two available: 50 % is not below 50 %');
  assert.equal(two.belowPanicThreshold('chat', T0, 51), true);

  const four = routeOf('round-robin', [...three, { provider: 'd', model: 'm' }]);
  for (const target of four.targets.slice(0, 3)) eject(target);
  assert.equal(four.belowPanicThreshold('chat', T0, 50), true, 'one of four available');
  assert.deepEqual(new Set(picks(four, 4)), new Set(['d']));
  assert.deepEqual([0, 1, 2, 3].map(() => four.pick('chat', T0, undefined, 0, true)?.provider), ['a', 'b', 'c', 'd'], 'in panic: spread over all of them');

  const limited = routeOf('round-robin', [{ provider: 'a', model: 'm' }]);
  limited.targets[0]!.keys[0]!.fail(T0, RATE_LIMITED, COOLDOWNS);
  assert.equal(limited.belowPanicThreshold('chat', T0, 50), false, 'nothing panic could bring back');
  assert.equal(limited.pick('chat', T0, undefined, 0, true), undefined, 'a rate-limited target is not tried in panic');
});

test('max_ejection_percent: at least one target may be ejected, then the share decides; a key whose target has another key available is always allowed', () => {
  const percent = 50;
  const single = routeOf('round-robin', [{ provider: 'a', model: 'm' }]);
  assert.equal(single.allowsEjection('chat', single.targets[0]!.keys[0]!, T0, percent), true, 'a lone target: one may be ejected');
  assert.equal(single.allowsEjection('chat', single.targets[0]!.keys[0]!, T0, 0), false, '0 turns it off');

  const two = routeOf('round-robin', [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }]);
  const [a, b] = two.targets as [TargetSlot, TargetSlot];
  assert.equal(two.allowsEjection('chat', a.keys[0]!, T0, percent), true);
  eject(a);
  assert.equal(two.allowsEjection('chat', b.keys[0]!, T0, percent), false, 'the last one is never ejected');
  assert.equal(two.allowsEjection('chat', b.keys[0]!, T0, 100), true);
  assert.equal(two.allowsEjection('chat', b.keys[0]!, T0 + 5_000, percent), true, 'once a is half-open again it no longer counts');

  const four = routeOf('round-robin', [...three, { provider: 'd', model: 'm' }]);
  eject(four.targets[0]!);
  assert.equal(four.allowsEjection('chat', four.targets[1]!.keys[0]!, T0, percent), true, 'two of four');
  eject(four.targets[1]!);
  assert.equal(four.allowsEjection('chat', four.targets[2]!.keys[0]!, T0, percent), false);

  const keyed = routeOf('fill-first', [{ provider: 'p', model: 'm' }], [{ name: 'p', baseUrl: 'http://127.0.0.1:9/p', apiKeys: ['k1', 'k2'] }], { p: ['id1', 'id2'] });
  const [first, second] = keyed.targets[0]!.keys as [TargetHealth, TargetHealth];
  const lonely = routeOf('round-robin', [{ provider: 'q', model: 'm' }]);
  eject(lonely.targets[0]!);
  assert.equal(keyed.allowsEjection('chat', first, T0, percent), true, 'the other key keeps the target in');
  first.fail(T0, SERVER_ERROR, COOLDOWNS);
  assert.equal(keyed.allowsEjection('chat', second, T0, percent), true, 'the last key of a lone target: the target may go');
});

test('in panic a target prefers its available keys, then its ejected ones', () => {
  const keyed = routeOf('fill-first', [{ provider: 'p', model: 'm' }], [{ name: 'p', baseUrl: 'http://127.0.0.1:9/p', apiKeys: ['k1', 'k2'], keyStrategy: 'fill-first' }], { p: ['id1', 'id2'] });
  const slot = keyed.targets[0]!;
  slot.keys[0]!.fail(T0, SERVER_ERROR, COOLDOWNS);
  assert.equal(slot.pickKey(T0, -1, true)?.keyIndex, 1);
  slot.keys[1]!.fail(T0, RATE_LIMITED, COOLDOWNS);
  assert.equal(slot.pickKey(T0)?.keyIndex, undefined);
  assert.equal(slot.pickKey(T0, -1, true)?.keyIndex, 0, 'the ejected one, not the rate-limited one');
});
