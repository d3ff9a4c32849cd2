// `model: auto` (issue #19): the route phase's handler for aliases with `strategy: auto`. It reads
// the request in canonical form, lets routing/auto/decide.ts pick a tier (rules, else the
// complexity model), keeps a session's tier from going down, and hands the tier's hidden alias to
// routing; the commit phase says why on every answer (`x-switchyard-route`). Compiled only when
// the config has an auto alias.
//
// A session's tier is kept as a session pin (the runtime's SessionStore, `routing.session_ttl_s`
// after its last request): in process by default; with `state.redis` the fleet's is read before
// the decision (one round trip, the request waits) and the new one written in the background, so
// the next request of the session keeps its tier on any instance. With the server away the local
// copy decides alone. The tier's model is kept by the tiers' own session affinity (pipeline/
// session-pins.ts reads it in the lookup phase).
import type { GatewayConfig } from '../config/types.ts';
import { AutoRouter, type AutoDecision } from '../routing/auto/decide.ts';
import type { ComplexityModel } from '../routing/auto/model.ts';
import type { RequestContext } from './context.ts';
import type { PriceTable } from '../observability/pricing.ts';
import type { CommitHandler, CompleteHandler, RequestHandler } from './phases.ts';
import { routeHeader, type RouteDecision } from './route-decision.ts';
import { sessionIdOf } from './session-id.ts';
import { sessionPinId } from '../routing/planner.ts';
import { AutoJudge } from './auto-judge.ts';
import { tierTargetRecords } from './auto-targets.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { Runtime } from './runtime.ts';

/** What the auto aliases decided, across reloads (the metrics read it at scrape time). */
export interface AutoRouteStats {
  /** Decisions by `alias\0tier\0by` (by: rule, score, session, model). */
  readonly decisions: Map<string, number>;
  /** Requests answered by a higher tier than decided (a failure before the first byte escalated), by alias. */
  readonly escalations: Map<string, number>;
  /** USD saved against always the strongest tier (from the price table and the real usage), by alias. */
  readonly savingsUsd: Map<string, number>;
  /** The judges' answers by `alias\0outcome` (answered, timeout, error, invalid). */
  readonly judgeOutcomes: Map<string, number>;
  /** The judges' time, ms, summed by alias (with judgeOutcomes: the mean). */
  readonly judgeMs: Map<string, number>;
}

export function newAutoRouteStats(): AutoRouteStats {
  return { decisions: new Map(), escalations: new Map(), savingsUsd: new Map(), judgeOutcomes: new Map(), judgeMs: new Map() };
}

export interface AutoRouteHandlers {
  readonly route: RequestHandler;
  readonly commit: CommitHandler;
  /** Counts each decision, escalation and saving once the response closed. */
  complete(prices: PriceTable): CompleteHandler;
  /** The routers by alias name (for the dry-run endpoint). */
  readonly routers: ReadonlyMap<string, AutoRouter>;
}

/** The session pin that holds a session's tier of an auto alias (its `target` is the tier's index). */
export function sessionTierId(alias: string, session: string): string {
  // a route name never holds U+0000 (no pin of a route has this id here), nor `:@` (none has its Redis key)
  return sessionPinId(`${alias}\u0000@tier`, session);
}

/** A session's tier as read before the decision: the local copy's, and whether the fleet's is awaited. */
interface SessionTier {
  readonly id: string;
  /** The tier this instance last knew (−1: none). */
  readonly local: number;
}

export function compileAutoRoute(config: GatewayConfig, model: ComplexityModel, stats: AutoRouteStats = newAutoRouteStats()): AutoRouteHandlers | undefined {
  const routers = new Map<string, AutoRouter>();
  for (const alias of config.models) {
    if (alias.auto === undefined) continue;
    routers.set(alias.name, new AutoRouter(alias.name, alias.auto, model, tierTargetRecords(config, alias)));
  }
  if (routers.size === 0) return undefined;
  const sessionHeader = config.routing.sessionHeader;

  const add = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
  // the judges, per runtime (a reload builds new ones)
  const judges = new WeakMap<Runtime, Map<string, AutoJudge>>();
  const judgeOf = (runtime: Runtime, router: AutoRouter): AutoJudge | undefined => {
    if (router.routing.classifier === undefined) return undefined;
    let byAlias = judges.get(runtime);
    if (byAlias === undefined) judges.set(runtime, byAlias = new Map());
    let judge = byAlias.get(router.name);
    if (judge === undefined) byAlias.set(router.name, judge = new AutoJudge(runtime, router.routing));
    return judge;
  };

  const route: RequestHandler = (context, runtime) => {
    const router = routers.get(context.routeModel);
    if (router === undefined) return undefined;
    const chat = context.surface?.chat;
    // media and utility APIs have no canonical form: the alias serves them as its strongest tier
    if (chat === undefined) return undefined;
    const started = performance.now();
    const request = context.canonical ??= chat.decodeRequest(context.parsed, context.surfaceRequest!);
    const decided: AutoDecision = router.decide(request, {
      header: (name) => {
        const value = context.request.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      keyId: context.keyId,
      team: context.policy?.team,
    });
    // the session's tier: this instance's copy now, the fleet's (shared pins) once fetched
    let session: SessionTier | undefined;
    let fetched: Promise<undefined> | undefined;
    if (decided.tier !== undefined) {
      const named = sessionIdOf(context.request.headers, sessionHeader, context.payload!);
      if (named !== undefined) {
        const id = sessionTierId(router.name, named);
        const now = Date.now();
        session = { id, local: runtime.sessions.get(id, now)?.target ?? -1 };
        fetched = runtime.sessions.fetch?.(id, now, runtime.config.routing.sessionTtlMs);
      }
    }
    const judge = decided.by === 'score' ? judgeOf(runtime, router) : undefined;
    if (judge === undefined) {
      const by = decided.by === 'score' ? `score:${decided.score!.toFixed(2)}` : decided.by;
      if (fetched === undefined) {
        settle(context, runtime, router, decided, decided.tier, by, started, session);
        return undefined;
      }
      return fetched.then(() => {
        settle(context, runtime, router, decided, decided.tier, by, started, session);
        return undefined;
      });
    }
    // no rule decided and the alias has a judge: ask it (the request waits, within its timeout)
    const leave = new AbortController();
    context.response.once('close', () => leave.abort());
    const asked = judge.ask(request, leave.signal);
    return (fetched === undefined ? asked : Promise.all([asked, fetched]).then(([answer]) => answer)).then((answer) => {
      add(stats.judgeOutcomes, `${router.name}\0${answer.outcome}`, 1);
      add(stats.judgeMs, router.name, answer.ms);
      if (answer.tier !== undefined) settle(context, runtime, router, decided, answer.tier, 'judge', started, session);
      else settle(context, runtime, router, decided, decided.tier, `score:${decided.score!.toFixed(2)}`, started, session);
      return undefined;
    });
  };

  function settle(context: RequestContext, runtime: Runtime, router: AutoRouter, decided: AutoDecision, decidedTier: number | undefined, decidedBy: string, started: number, session: SessionTier | undefined): void {
    let preferred = decidedTier;
    let by = decidedBy;
    let now = 0;
    if (preferred !== undefined && session !== undefined) {
      // never below what the session had: here before the fleet's copy was read, or the fleet's
      now = Date.now();
      const fleet = runtime.sessions.get(session.id, now)?.target ?? -1;
      let had = fleet > session.local ? fleet : session.local;
      // a tier the alias no longer has (the config changed) holds nothing
      if (had >= router.routing.tiers.length) had = -1;
      if (had > preferred) {
        preferred = had;
        by = 'session';
      }
    }
    // hard constraints before any preference: a tier none of whose targets can serve the request
    // is passed over upward, and its tier's targets that cannot are left out, whatever decided it
    const constrained = preferred === undefined ? undefined : router.constrain(preferred, decided.needs);
    const tier = constrained?.tier;
    const dropped = constrained === undefined || constrained.dropped.length === 0 ? undefined : constrained.dropped;
    const target = tier !== undefined || preferred !== undefined ? router.routeOf(tier ?? preferred!) : decided.route;
    context.routeDecision = {
      alias: router.name,
      // refused: the tier it would have been
      tier: tier !== undefined || preferred !== undefined ? router.routing.tiers[tier ?? preferred!]!.name : '',
      by,
      score: decided.score,
      probabilities: decided.probabilities,
      route: target,
      micros: Math.round((performance.now() - started) * 1000),
      ...(dropped !== undefined ? { dropped } : {}),
    };
    if (constrained?.refusal !== undefined) {
      throw new GatewayError(ErrorCode.unsupportedOperation,
        `No target of '${router.name}' can take this request: ${constrained.refusal}. Give a target that can (its facts go under supports: in the config, see docs/auto-routing.md#hard-constraints), or send the request without what they cannot take.`,
        { status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model' });
    }
    context.targetFilter = constrained?.filter;
    context.routeModel = target;
    // raised, not set: a lower tier decided meanwhile on another instance cannot bring the fleet's down
    if (tier !== undefined && session !== undefined) runtime.sessions.raise(session.id, tier, now, now + runtime.config.routing.sessionTtlMs);
  }

  const commit: CommitHandler = (context: RequestContext, headers: string[]) => {
    const decision = context.routeDecision;
    if (decision === undefined) return;
    // the decided tier failed before the first byte and a higher one answers: say which
    const escalated = decision.tier !== '' && context.route !== '' && context.route !== decision.route
      ? routers.get(decision.alias)?.routing.tiers.find((tier) => tier.route === context.route)?.name
      : undefined;
    headers.push('x-switchyard-route', escalated === undefined ? routeHeader(decision) : `${routeHeader(decision)}; escalated=${escalated}`);
  };

  // the strongest tier's first target: what "always the strongest" would have cost
  const strongest = new Map<string, { provider: string; model: string }>();
  for (const [name, router] of routers) {
    const tier = config.models.find((alias) => alias.name === router.routeOf(router.routing.tiers.length - 1));
    const target = tier?.targets[0];
    if (target !== undefined) strongest.set(name, { provider: target.provider, model: target.model });
  }
  const complete = (prices: PriceTable): CompleteHandler => ({
    requestEnded(context) {
      const decision = context.routeDecision;
      if (decision === undefined) return;
      const kind = decision.tier === '' ? 'model' : decision.by.split(':')[0]!;
      add(stats.decisions, `${decision.alias}\0${decision.tier === '' ? decision.route : decision.tier}\0${kind}`, 1);
      // a fallback answered: the tier's route escalated to the next one
      if (decision.tier !== '' && context.route !== '' && context.route !== decision.route) add(stats.escalations, decision.alias, 1);
      const usage = context.usage;
      const best = strongest.get(decision.alias);
      if (usage === undefined || context.costUsd === undefined || best === undefined) return;
      const always = prices.cost(best.provider, best.model, usage);
      if (always !== undefined) add(stats.savingsUsd, decision.alias, always - context.costUsd);
    },
  });

  return { route, commit, complete, routers };
}
