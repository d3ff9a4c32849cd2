// `model: auto` (issue #19): the route phase's handler for aliases with `strategy: auto`. It reads
// the request in canonical form, lets routing/auto/decide.ts pick a tier (rules, else the
// complexity model), keeps a session's tier from going down, and hands the tier's hidden alias to
// routing; the commit phase says why on every answer (`x-switchyard-route`). Compiled only when
// the config has an auto alias.
import type { GatewayConfig } from '../config/types.ts';
import { AutoRouter, type AutoDecision } from '../routing/auto/decide.ts';
import type { ComplexityModel } from '../routing/auto/model.ts';
import type { RequestContext } from './context.ts';
import type { PriceTable } from '../observability/pricing.ts';
import type { CommitHandler, CompleteHandler, RequestHandler } from './phases.ts';
import { routeHeader, type RouteDecision } from './route-decision.ts';
import { sessionIdOf } from './session-id.ts';
import { AutoJudge } from './auto-judge.ts';
import type { Runtime } from './runtime.ts';

/** Sessions whose tier is remembered, per auto alias; the least recently used go first. */
const SESSIONS_KEPT = 10_000;

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

class SessionTiers {
  private readonly tiers = new Map<string, number>();

  /** The tier to use: never below the one the session had (and the session then has this one). */
  lift(session: string, tier: number): { tier: number; lifted: boolean } {
    const had = this.tiers.get(session);
    const kept = had !== undefined && had > tier ? had : tier;
    if (had !== undefined) this.tiers.delete(session);
    else if (this.tiers.size >= SESSIONS_KEPT) this.tiers.delete(this.tiers.keys().next().value!);
    this.tiers.set(session, kept);
    return { tier: kept, lifted: kept !== tier };
  }
}

export function compileAutoRoute(config: GatewayConfig, model: ComplexityModel, stats: AutoRouteStats = newAutoRouteStats()): AutoRouteHandlers | undefined {
  const routers = new Map<string, AutoRouter>();
  const sessions = new Map<string, SessionTiers>();
  for (const alias of config.models) {
    if (alias.auto === undefined) continue;
    // each tier's largest context window (a target without one takes any prompt)
    const windows = alias.auto.tiers.map((tier) => {
      const targets = config.models.find((candidate) => candidate.name === tier.route)?.targets ?? [];
      return targets.length === 0 || targets.some((target) => target.contextWindow === undefined) ? Infinity : Math.max(...targets.map((target) => target.contextWindow!));
    });
    // an agent CLI takes no tools of the caller's: a tier of agent CLIs only cannot serve such a request
    const agentClis = new Set(config.providers.filter((provider) => provider.agentCli !== undefined).map((provider) => provider.name));
    const tools = alias.auto.tiers.map((tier) => (config.models.find((candidate) => candidate.name === tier.route)?.targets ?? []).some((target) => !agentClis.has(target.provider)));
    routers.set(alias.name, new AutoRouter(alias.name, alias.auto, model, windows, tools));
    sessions.set(alias.name, new SessionTiers());
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
    const judge = decided.by === 'score' ? judgeOf(runtime, router) : undefined;
    if (judge === undefined) {
      settle(context, router, decided, decided.tier, decided.by === 'score' ? `score:${decided.score!.toFixed(2)}` : decided.by, started);
      return undefined;
    }
    // no rule decided and the alias has a judge: ask it (the request waits, within its timeout)
    const leave = new AbortController();
    context.response.once('close', () => leave.abort());
    return judge.ask(request, leave.signal).then((answer) => {
      add(stats.judgeOutcomes, `${router.name}\0${answer.outcome}`, 1);
      add(stats.judgeMs, router.name, answer.ms);
      if (answer.tier !== undefined) settle(context, router, decided, answer.tier, 'judge', started);
      else settle(context, router, decided, decided.tier, `score:${decided.score!.toFixed(2)}`, started);
      return undefined;
    });
  };

  function settle(context: RequestContext, router: AutoRouter, decided: AutoDecision, decidedTier: number | undefined, decidedBy: string, started: number): void {
    // a tier whose targets cannot take the prompt is passed over upward, whatever decided it
    let tier = decidedTier === undefined ? undefined : router.fitting(decidedTier, decided.promptTokens, decided.tools);
    let by = decidedBy;
    if (tier !== undefined) {
      const session = sessionIdOf(context.request.headers, sessionHeader, context.payload!);
      if (session !== undefined) {
        const kept = sessions.get(router.name)!.lift(session, tier);
        if (kept.lifted) {
          tier = kept.tier;
          by = 'session';
        }
      }
    }
    const target = tier !== undefined ? router.routeOf(tier) : decided.route;
    context.routeDecision = {
      alias: router.name,
      tier: tier !== undefined ? router.routing.tiers[tier]!.name : '',
      by,
      score: decided.score,
      probabilities: decided.probabilities,
      route: target,
      micros: Math.round((performance.now() - started) * 1000),
    };
    context.routeModel = target;
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
