// The attempt planner as pure decisions: routes built by the Router from a config, a health book
// and a clock held by the test, no sockets and no timers. Each case plays one request (or a few)
// against scripted outcomes and checks the attempts planned — target, key, delay — and how the
// request ends; they mirror the integration tests in test/integration/resilience-*.test.ts, which
// check the same decisions through a real gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatewayError, type ErrorInfo } from '../../src/canonical/errors.ts';
import type { RoutingConfig } from '../../src/config/types.ts';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { AttemptPlanner, type Plan, type PlannerState, type TargetFilter } from '../../src/routing/planner.ts';
import { Router } from '../../src/routing/router.ts';
import { HealthBook } from '../../src/state/health.ts';
import { SessionPins } from '../../src/state/sessions.ts';
import { classifyUpstreamError } from '../../src/upstream/classify.ts';
import { canceledError, classifyTransportError, incompleteStreamError, timeoutError } from '../../src/upstream/errors.ts';
import { testConfig, type TestAlias, type TestProvider } from '../helpers/gateway.ts';

const T0 = 1_800_000_000_000;
const FAST_RETRY = { attempts: 2, backoffMs: 10, maxBackoffMs: 200 };

/** An upstream answer with this status (classified as the providers do). */
function upstream(status: number, message = 'failed', headers: Record<string, string> = {}, code?: string): GatewayError {
  return classifyUpstreamError(status, message, code, 'p', headers);
}

const reset = () => classifyTransportError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'p', { connectMs: 1, firstByteMs: 1, idleMs: 1 }, false);
const refused = () => classifyTransportError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'p', { connectMs: 1, firstByteMs: 1, idleMs: 1 }, false);

interface WorldOptions {
  providers?: TestProvider[];
  models: TestAlias[];
  keyIds?: Record<string, string[]>;
  routing?: Partial<RoutingConfig>;
  cooldowns?: Partial<RoutingConfig['cooldowns']>;
}

/** One gateway's worth of state: config, router, health book, pins, a retry budget, a clock. */
class World {
  now = T0;
  readonly state: PlannerState;
  readonly health: HealthBook;
  readonly router: Router;
  /** Retries the budget still allows. */
  budget = Infinity;

  constructor(options: WorldOptions) {
    const names = new Set(options.models.flatMap((alias) => alias.targets.map((target) => target.provider)));
    const config = testConfig({
      providers: options.providers ?? [...names].map((name) => ({ name, baseUrl: `http://127.0.0.1:9/${name}`, models: ['*'] })),
      models: options.models,
      routing: { ...options.routing, cooldowns: { ...DEFAULT_COOLDOWNS, ...options.cooldowns } },
    });
    this.health = new HealthBook(() => this.now);
    this.router = new Router(config, { health: this.health, keyIds: new Map(Object.entries(options.keyIds ?? {})) });
    const world = this;
    this.state = {
      router: this.router,
      health: this.health,
      sessions: new SessionPins(),
      retryBudget: { tryRetry: () => world.budget-- > 0 },
      config,
    };
  }

  planner(model: string, request: { session?: string; tokens?: number; filter?: TargetFilter } = {}, random = () => 1): AttemptPlanner {
    const route = this.router.resolve(model);
    assert.ok(route !== undefined, `no route for ${model}`);
    return new AttemptPlanner(this.state, route, 'chat', { sessionId: () => request.session, promptTokens: () => request.tokens ?? 10, targetFilter: () => request.filter }, random);
  }
}

/** An attempt's outcome, scripted: an answer (the commit point) or a failure before it. */
type Outcome = 'ok' | ErrorInfo;

interface Played {
  /** `provider/model#key` of each attempt, with its delay when not 0 (`+ms`), and `!` when it waited for a cooldown. */
  attempts: string[];
  /** How it ended: `ok`, `failure` (the last failure's own answer), `error` or `replay` with the error's code and status. */
  end: string;
  error?: ErrorInfo;
}

/** Plays one request: each attempt goes out after its delay (the clock moves) and gets `outcome`'s answer. */
function play(world: World, planner: AttemptPlanner, outcome: (provider: string, key: number, index: number) => Outcome): Played {
  const attempts: string[] = [];
  let plan: Plan = planner.start(world.now);
  for (let guard = 0; guard < 50; guard++) {
    if (plan.kind === 'give-up') {
      const end = plan.answer === 'failure' ? 'failure' : `${plan.answer} ${plan.error.code} ${plan.error.status}`;
      return { attempts, end, error: plan.error };
    }
    world.now += plan.delayMs;
    const replanned = planner.recheck(plan, world.now);
    if (replanned !== undefined) {
      plan = replanned;
      continue;
    }
    const { target, key } = plan;
    attempts.push(`${target.provider}/${target.model}#${key.keyIndex}${plan.delayMs > 0 ? `+${Math.round(plan.delayMs)}` : ''}${plan.bypassCooldown ? '!' : ''}`);
    planner.began(key, world.now);
    key.take(world.now);
    const result = outcome(target.provider, key.keyIndex, attempts.length - 1);
    key.release();
    if (result === 'ok') {
      planner.committed(key, 5, world.now);
      return { attempts, end: 'ok' };
    }
    planner.failed(key, result, world.now);
    plan = planner.afterFailure(world.now);
  }
  throw new Error('the planner did not end');
}

const one = (retry = FAST_RETRY): TestAlias[] => [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry }];
const two = (strategy: TestAlias['strategy'] = 'fill-first', extra: Partial<TestAlias> = {}): TestAlias[] => [{
  name: 'a', strategy, targets: [{ provider: 'p1', model: 'm1' }, { provider: 'p2', model: 'm2' }], retry: FAST_RETRY, ...extra,
}];

// --- 5xx, resets, timeouts ----------------------------------------------------------------------

test('500 then 200: the same key again after a back-off (full jitter, up to backoff_ms on the first retry)', () => {
  const world = new World({ models: one() });
  const played = play(world, world.planner('a'), (_provider, _key, index) => index === 0 ? upstream(500) : 'ok');
  assert.deepEqual(played, { attempts: ['p/m#0', 'p/m#0+10'], end: 'ok' });
  const jitter = play(world, world.planner('a', {}, () => 0.5), (_provider, _key, index) => index === 0 ? upstream(503) : 'ok');
  assert.deepEqual(jitter.attempts, ['p/m#0', 'p/m#0+5'], 'random(0, ceiling)');
});

for (const [name, failure] of [['a reset', reset], ['a connection refused', refused], ['a first-byte timeout', () => timeoutError('first-byte', 'p', 300)], ['an incomplete stream', () => incompleteStreamError('[DONE]')]] as const) {
  test(`${name} on every try: retry.attempts tries, then the failure's own answer`, () => {
    const world = new World({ models: one() });
    const played = play(world, world.planner('a'), failure);
    assert.deepEqual(played.attempts, ['p/m#0', 'p/m#0+10']);
    assert.equal(played.end, 'failure');
  });
}

test('503 on every try, panic off: the target is ejected after eject_after; then 429 from the gateway with the seconds until it comes back', () => {
  const world = new World({ models: one({ attempts: 3, backoffMs: 10, maxBackoffMs: 200 }), cooldowns: { ejectAfter: 3, ejectMs: 5_000, panicThresholdPercent: 0 } });
  const first = play(world, world.planner('a'), () => upstream(503));
  assert.equal(first.attempts.length, 3);
  assert.equal(first.end, 'failure');
  const next = play(world, world.planner('a'), () => 'ok');
  assert.deepEqual(next.attempts, [], 'not sent while ejected');
  assert.equal(next.end, `error ${ErrorCode.coolingDown} 429`);
  assert.equal(next.error!.retryAfterSeconds, 5);
});

test('one target, ejected, panic on: still tried (panic), and its first success brings it back', () => {
  const world = new World({ models: one(), cooldowns: { ejectAfter: 2, ejectMs: 5_000 } });
  play(world, world.planner('a'), () => upstream(503));
  const entry = world.router.resolve('a')!.targets[0]!.keys[0]!;
  assert.equal(entry.reason, 'ejected');
  const next = play(world, world.planner('a'), () => 'ok');
  assert.deepEqual(next, { attempts: ['p/m#0'], end: 'ok' });
  assert.equal(entry.reason, undefined, 'its first success brings it back');
});

test('a lone primary that is ejected gives way to its healthy fallback (no panic while a fallback can answer)', () => {
  const world = new World({
    models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], fallbacks: ['b'], retry: { ...FAST_RETRY, attempts: 1 } }, { name: 'b', targets: [{ provider: 'q', model: 'n' }] }],
    cooldowns: { ejectAfter: 1 },
  });
  const first = play(world, world.planner('a'), (provider) => provider === 'p' ? upstream(503) : 'ok');
  assert.deepEqual(first, { attempts: ['p/m#0', 'q/n#0'], end: 'ok' });
  const next = play(world, world.planner('a'), () => 'ok');
  assert.deepEqual(next.attempts, ['q/n#0'], 'the ejected primary is skipped for the fallback');
});

// --- 429 ----------------------------------------------------------------------------------------

test('429 with Retry-After: 1 on a lone key is waited out (the key\'s own cooldown), then the same key answers', () => {
  const world = new World({ models: one({ attempts: 2, backoffMs: 10, maxBackoffMs: 2_000 }) });
  const played = play(world, world.planner('a'), (_provider, _key, index) => index === 0 ? upstream(429, 'slow down', { 'retry-after': '1' }) : 'ok');
  assert.deepEqual(played, { attempts: ['p/m#0', 'p/m#0+1000!'], end: 'ok' });
});

test('429 with a Retry-After above max_backoff_ms is answered at once; the next request gets 429 from the gateway without an attempt', () => {
  const world = new World({ models: one() });
  const first = play(world, world.planner('a'), () => upstream(429, 'slow down', { 'retry-after': '30' }));
  assert.deepEqual(first, { attempts: ['p/m#0'], end: 'failure', error: first.error });
  const next = play(world, world.planner('a'), () => 'ok');
  assert.deepEqual(next.attempts, []);
  assert.equal(next.end, `error ${ErrorCode.coolingDown} 429`);
  assert.equal(next.error!.retryAfterSeconds, 30);
});

test('429 without Retry-After whose cooldown is longer than the back-off cap is answered at once', () => {
  const world = new World({ models: one(), cooldowns: { rateLimitMs: 1_000 } });
  assert.deepEqual(play(world, world.planner('a'), () => upstream(429)).attempts, ['p/m#0']);
});

for (const retryAfter of ['1', undefined, '30']) {
  test(`two targets: a 429 ${retryAfter === undefined ? 'without Retry-After' : `with Retry-After: ${retryAfter}`} moves on to the second target at once`, () => {
    const world = new World({ models: two() });
    const played = play(world, world.planner('a'), (provider) => provider === 'p1' ? upstream(429, 'slow down', retryAfter === undefined ? {} : { 'retry-after': retryAfter }) : 'ok');
    assert.deepEqual(played, { attempts: ['p1/m1#0', 'p2/m2#0'], end: 'ok' });
    assert.deepEqual(play(world, world.planner('a'), () => 'ok').attempts, ['p2/m2#0'], 'the rate-limited target is skipped while it cools');
  });
}

test('429 on one key of two: the other key at once', () => {
  const world = new World({ models: one(), keyIds: { p: ['k0', 'k1'] }, providers: [{ name: 'p', baseUrl: 'http://127.0.0.1:9', models: ['*'], keyStrategy: 'fill-first' }] });
  const played = play(world, world.planner('a'), (_provider, key) => key === 0 ? upstream(429) : 'ok');
  assert.deepEqual(played, { attempts: ['p/m#0', 'p/m#1'], end: 'ok' });
});

// --- 401/403, 404 -------------------------------------------------------------------------------

const keyed = { keyIds: { p: ['k0', 'k1'] }, providers: [{ name: 'p', baseUrl: 'http://127.0.0.1:9', models: ['*'], keyStrategy: 'fill-first' as const }] };

test('a 401 on one key: the other key of the same target at once; later requests use only it', () => {
  const world = new World({ models: one(), ...keyed });
  const played = play(world, world.planner('a'), (_provider, key) => key === 0 ? upstream(401, 'invalid key') : 'ok');
  assert.deepEqual(played, { attempts: ['p/m#0', 'p/m#1'], end: 'ok' });
  assert.deepEqual(play(world, world.planner('a'), () => 'ok').attempts, ['p/m#1']);
});

test('a 401 on every key: never the same key again; the refusal is answered, then replayed without an attempt', () => {
  const world = new World({ models: one({ attempts: 5, backoffMs: 10, maxBackoffMs: 200 }), ...keyed });
  const first = play(world, world.planner('a'), () => upstream(403, 'forbidden'));
  assert.deepEqual(first.attempts, ['p/m#0', 'p/m#1']);
  assert.equal(first.end, 'failure');
  const next = play(world, world.planner('a'), () => 'ok');
  assert.deepEqual(next.attempts, []);
  assert.equal(next.end, `replay ${ErrorCode.upstreamStatus} 403`);
});

test('a 404 (unknown model): no other key of that target, the next target at once', () => {
  const world = new World({ models: two('fill-first'), keyIds: { p1: ['k0', 'k1'] } });
  const played = play(world, world.planner('a'), (provider) => provider === 'p1' ? upstream(404, 'no such model') : 'ok');
  assert.deepEqual(played, { attempts: ['p1/m1#0', 'p2/m2#0'], end: 'ok' });
});

test('an Anthropic authentication_error event at the start of a 200 stream (server-error, upstream 401) is handled as a refused key', () => {
  const world = new World({ models: one(), ...keyed });
  const event = new GatewayError(ErrorCode.upstreamStatus, 'authentication_error', { status: 502, origin: 'upstream', errorClass: 'server-error', upstreamStatus: 401 });
  const played = play(world, world.planner('a'), (_provider, key) => key === 0 ? event : 'ok');
  assert.deepEqual(played.attempts, ['p/m#0', 'p/m#1']);
  assert.equal(world.router.resolve('a')!.targets[0]!.keys[0]!.reason, 'auth');
});

// --- 4xx, context length -------------------------------------------------------------------------

test('a content-policy 400 is neither retried nor sent elsewhere, though another target and a fallback exist', () => {
  const world = new World({ models: [...two('round-robin', { fallbacks: ['b'] }), { name: 'b', targets: [{ provider: 'q', model: 'n' }] }] });
  const played = play(world, world.planner('a'), () => upstream(400, 'rejected by the safety system', {}, 'content_policy_violation'));
  assert.equal(played.attempts.length, 1);
  assert.equal(played.end, 'failure');
  const entry = world.router.resolve('a')!.targets.flatMap((target) => target.keys).find((key) => key.requests > 0)!;
  assert.equal(entry.failures, 0, 'it answered: the request was at fault');
});

test('context_length_exceeded goes to on_context_overflow without trying the other targets; without an overflow alias it is answered', () => {
  const models: TestAlias[] = [...two('fill-first', { onContextOverflow: 'long' }), { name: 'long', targets: [{ provider: 'q', model: 'big' }] }];
  const world = new World({ models });
  const tooLong = () => upstream(400, "This model's maximum context length is 8192 tokens", {}, 'context_length_exceeded');
  const played = play(world, world.planner('a'), (provider) => provider === 'q' ? 'ok' : tooLong());
  assert.deepEqual(played, { attempts: ['p1/m1#0', 'q/big#0'], end: 'ok' });

  const bare = new World({ models: two('fill-first') });
  const answered = play(bare, bare.planner('a'), tooLong);
  assert.deepEqual(answered.attempts, ['p1/m1#0']);
  assert.equal(answered.end, 'failure');
});

test('a prompt estimated above a target\'s context_window: the overflow alias without an attempt; with none, 400 from the gateway', () => {
  const small: TestAlias = { name: 'a', targets: [{ provider: 'p', model: 'm', contextWindow: 100 }], onContextOverflow: 'long' };
  const world = new World({ models: [small, { name: 'long', targets: [{ provider: 'q', model: 'big' }] }] });
  assert.deepEqual(play(world, world.planner('a', { tokens: 500 }), () => 'ok'), { attempts: ['q/big#0'], end: 'ok' });
  assert.deepEqual(play(world, world.planner('a', { tokens: 50 }), () => 'ok'), { attempts: ['p/m#0'], end: 'ok' });

  const bare = new World({ models: [{ ...small, onContextOverflow: undefined }] });
  const refusal = play(bare, bare.planner('a', { tokens: 500 }), () => 'ok');
  assert.deepEqual(refusal.attempts, []);
  assert.equal(refusal.end, `error ${ErrorCode.contextLength} 400`);
  assert.equal(refusal.error!.errorClass, 'context-length');
});

test('a request the provider cannot be sent (the converter refused it) moves on to the next target, whatever its class', () => {
  const world = new World({ models: two('fill-first') });
  const planner = world.planner('a');
  const first = planner.start(world.now);
  assert.ok(first.kind === 'attempt' && first.target.provider === 'p1');
  const unsupported = new GatewayError(ErrorCode.unsupportedOperation, 'no translation', { status: 400, origin: 'downstream', errorClass: 'client-error' });
  const next = planner.unexpressible(unsupported, world.now);
  assert.ok(next.kind === 'attempt' && next.target.provider === 'p2' && next.delayMs === 0);
  const last = planner.unexpressible(unsupported, world.now);
  assert.deepEqual(last, { kind: 'give-up', error: unsupported, answer: 'failure' });
});

test('the client went away: nothing more is planned from its failure, and nothing is held against the key', () => {
  const world = new World({ models: two('fill-first') });
  const played = play(world, world.planner('a'), () => canceledError());
  assert.deepEqual(played.attempts, ['p1/m1#0']);
  assert.equal(played.end, 'failure');
  const entry = world.router.resolve('a')!.targets[0]!.keys[0]!;
  assert.equal(entry.requests, 0);
  assert.equal(entry.failures, 0);
});

// --- fallbacks and caps --------------------------------------------------------------------------

test('fallbacks are walked in order, each alias once, even when the chain leads back to itself', () => {
  const world = new World({
    models: [
      { name: 'a', targets: [{ provider: 'p', model: 'm' }], fallbacks: ['b'], retry: { ...FAST_RETRY, attempts: 1 } },
      { name: 'b', targets: [{ provider: 'q', model: 'n' }], fallbacks: ['a', 'p:direct'], retry: { ...FAST_RETRY, attempts: 1 } },
    ],
  });
  const played = play(world, world.planner('a'), () => upstream(502));
  // a provider:model route has the routing.retry defaults (two tries, 250 ms back-off)
  assert.deepEqual(played.attempts, ['p/m#0', 'q/n#0', 'p/direct#0', 'p/direct#0+250']);
  assert.equal(played.end, 'failure');
});

test('routing.max_attempts caps the tries across targets and fallbacks', () => {
  const world = new World({
    models: [...two('fill-first', { fallbacks: ['b'] }), { name: 'b', targets: [{ provider: 'q', model: 'n' }] }],
    routing: { maxAttempts: 3 },
  });
  const played = play(world, world.planner('a'), () => upstream(500));
  assert.deepEqual(played.attempts, ['p1/m1#0', 'p1/m1#0+10', 'p2/m2#0']);
  assert.equal(played.end, 'failure');
});

test('an exhausted retry budget: no retry and no other target; the failure is answered', () => {
  const world = new World({ models: two('fill-first') });
  world.budget = 0;
  assert.deepEqual(play(world, world.planner('a'), () => upstream(500)), { attempts: ['p1/m1#0'], end: 'failure', error: upstream(500) });
});

// --- affinity, stale keys, ejection guard ----------------------------------------------------------

test('affinity: a session stays on the target that answered it; when that target fails, it moves and the pin follows', () => {
  const world = new World({ models: two('round-robin', { affinity: 'session' }) });
  const first = play(world, world.planner('a', { session: 's1' }), () => 'ok');
  const pinned = first.attempts[0]!;
  for (let i = 0; i < 3; i++) assert.deepEqual(play(world, world.planner('a', { session: 's1' }), () => 'ok').attempts, [pinned]);
  const other = pinned.startsWith('p1') ? 'p2/m2#0' : 'p1/m1#0';
  const moved = play(world, world.planner('a', { session: 's1' }), (provider) => pinned.startsWith(provider) ? upstream(401) : 'ok');
  assert.deepEqual(moved.attempts, [pinned, other]);
  assert.deepEqual(play(world, world.planner('a', { session: 's1' }), () => 'ok').attempts, [other]);
});

test('a target filter (an auto alias\'s hard constraints): its targets are never tried, a session pinned to one moves, fallbacks are filtered too', () => {
  const world = new World({ models: [...two('fill-first', { fallbacks: ['b'], affinity: 'session' }), { name: 'b', strategy: 'fill-first', targets: [{ provider: 'q', model: 'n' }, { provider: 'p1', model: 'm1' }] }] });
  const noP1: TargetFilter = { skips: (_route, provider) => provider === 'p1' };
  // without the filter the session is pinned to p1, the first target
  assert.deepEqual(play(world, world.planner('a', { session: 's' }), () => 'ok').attempts, ['p1/m1#0']);
  assert.deepEqual(play(world, world.planner('a', { session: 's', filter: noP1 }), () => 'ok').attempts, ['p2/m2#0'], 'the pin to a left-out target is not followed');
  // p2 fails: the fallback route, where p1 is left out as well
  assert.deepEqual(play(world, world.planner('a', { filter: noP1 }), (provider) => (provider === 'p2' ? upstream(401) : 'ok')).attempts, ['p2/m2#0', 'q/n#0']);
  const onlyB: TargetFilter = { skips: (route) => route === 'a' };
  assert.deepEqual(play(world, world.planner('a', { filter: onlyB }), () => 'ok').attempts, ['q/n#0'], 'a route left with no target: on to its fallbacks');
});

test('a back-off whose key cooled down meanwhile (another request\'s failure) is planned again', () => {
  const world = new World({ models: two('fill-first') });
  const planner = world.planner('a');
  const first = planner.start(world.now);
  assert.ok(first.kind === 'attempt');
  planner.began(first.key, world.now);
  planner.failed(first.key, upstream(500), world.now);
  const retry = planner.afterFailure(world.now);
  assert.ok(retry.kind === 'attempt' && retry.key === first.key && retry.delayMs > 0);
  // meanwhile another request gets a 429 from the same key
  first.key.fail(world.now, upstream(429, 'slow', { 'retry-after': '60' }), world.state.config.routing.cooldowns);
  world.now += retry.delayMs;
  const again = planner.recheck(retry, world.now);
  assert.ok(again !== undefined && again.kind === 'attempt' && again.target.provider === 'p2');
  assert.equal(planner.recheck(again, world.now), undefined, 'the new plan is good to go');
});

test('after the commit: a broken stream is counted apart; a client error is not counted at all', () => {
  const world = new World({ models: one() });
  const planner = world.planner('a');
  const plan = planner.start(world.now);
  assert.ok(plan.kind === 'attempt');
  planner.began(plan.key, world.now);
  planner.committed(plan.key, 5, world.now);
  planner.streamFailed(plan.key, reset(), world.now);
  planner.streamFailed(plan.key, upstream(400), world.now);
  assert.equal(plan.key.streamFailures, 1);
  assert.equal(plan.key.consecutiveFailures, 0, 'never towards eject_after');
});

test('max_ejection_percent: of two failing targets only one is ejected (the planner is the ejection guard)', () => {
  const world = new World({ models: two('round-robin'), cooldowns: { ejectAfter: 1, panicThresholdPercent: 0 } });
  const played = play(world, world.planner('a'), () => upstream(503));
  assert.equal(played.end, 'failure');
  const reasons = world.router.resolve('a')!.targets.map((target) => target.keys[0]!.reason);
  assert.deepEqual(reasons.filter((reason) => reason === 'ejected').length, 1, String(reasons));
});
