// What the attempt planner costs a request that succeeds at once, on a one-target and a
// three-target route: the decisions the runner made inline before the planner existed (its
// decision state — tried set, fallback queue, visited names, routes — entering the route, the panic
// gate, Route.pick, TargetSlot.pickKey, the attempt cap, the health entry's success) against the
// same through a new AttemptPlanner per request (start → began → committed). The difference is the
// planner object, its plan object and the indirections. Alternating in
// rounds so drift and neighbours hit both alike.
// `npx node bench/micro/attempt-planner.ts [--rounds 5] [--requests 1000000]`
import { parseArgs } from 'node:util';
import { AttemptPlanner, type PlannerState } from '../../src/routing/planner.ts';
import { Router, type Route } from '../../src/routing/router.ts';
import { HealthBook } from '../../src/state/health.ts';
import { RetryBudget } from '../../src/state/retry-budget.ts';
import { SessionPins } from '../../src/state/sessions.ts';
import { testConfig } from '../../test/helpers/gateway.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '1000000' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const config = testConfig({
  providers: ['a', 'b', 'c'].map((name) => ({ name, baseUrl: `http://127.0.0.1:9/${name}` })),
  models: [
    { name: 'one', targets: [{ provider: 'a', model: 'm' }] },
    { name: 'three', targets: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }, { provider: 'c', model: 'm' }] },
  ],
});
const health = new HealthBook();
const router = new Router(config, { health, keyIds: new Map() });
const state: PlannerState = { router, health, sessions: new SessionPins(), retryBudget: new RetryBudget(config.routing.retryBudget), config };
const request = { sessionId: () => undefined, promptTokens: () => 0, targetFilter: () => undefined };
let sent = 0;

/**
 * The decision state the runner held itself before the planner (its fields, allocated with it:
 * tried targets, fallback queue, visited names, routes considered), entered and used inline.
 */
class InlineDecisions {
  readonly tried = new Set<unknown>();
  readonly queue: string[] = [];
  readonly visited = new Set<string>();
  readonly routes: Route[] = [];
  attempts = 0;
  triesOnTarget = 0;
  panic = false;

  enter(route: Route): void {
    this.routes.push(route);
    this.visited.add(route.requested);
    this.tried.clear();
    for (const name of route.policy.fallbacks) if (!this.visited.has(name)) this.queue.push(name);
  }
}

/** The decisions as the runner made them inline: enter, gate, pick, key, caps, success. */
function inline(route: Route, now: number): void {
  for (let i = 0; i < requests; i++) {
    const decisions = new InlineDecisions();
    decisions.enter(route);
    decisions.panic = health.counters.ejectedEntries > 0 && route.belowPanicThreshold('chat', now, 50);
    const target = route.pick('chat', now, decisions.tried as Set<never>, 0, decisions.panic)!;
    const key = target.pickKey(now, -1, decisions.panic)!;
    decisions.tried.add(target);
    decisions.triesOnTarget = 0;
    if (decisions.attempts >= config.routing.maxAttempts) throw new Error('capped');
    decisions.attempts++;
    decisions.triesOnTarget++;
    sent++;
    key.take(now);
    key.release();
    key.succeed(now, 1, now);
  }
}

/** The same request through the planner. */
function planned(route: Route, now: number): void {
  for (let i = 0; i < requests; i++) {
    const planner = new AttemptPlanner(state, route, 'chat', request);
    const plan = planner.start(now);
    if (plan.kind !== 'attempt') throw new Error('no attempt');
    planner.began(plan.key, now);
    sent++;
    plan.key.take(now);
    plan.key.release();
    planner.committed(plan.key, 1, now);
  }
}

function timed(run: (route: Route, now: number) => void, route: Route): number {
  const started = performance.now();
  run(route, Date.now());
  return ((performance.now() - started) * 1e6) / requests;
}

for (const name of ['one', 'three']) {
  const route = router.resolve(name)!;
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    a.push(timed(inline, route));
    b.push(timed(planned, route));
  }
  const median = (list: number[]) => [...list].sort((x, y) => x - y)[list.length >> 1]!;
  const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
  // the fastest round is the one neighbours disturbed least: shown beside the median
  console.log(`${name} target(s), ${rounds} rounds: inline decisions median ${median(a).toFixed(1)} ns, fastest ${Math.min(...a).toFixed(1)} ns; `
    + `through the planner median ${median(b).toFixed(1)} ns (${signed(median(b) - median(a))}), fastest ${Math.min(...b).toFixed(1)} ns (${signed(Math.min(...b) - Math.min(...a))})`);
}
if (sent === 0) throw new Error('nothing sent');
