// `model: auto` (issue #19): the route phase's handler for aliases with `strategy: auto`. It reads
// the request in canonical form, lets routing/auto/decide.ts pick a tier (rules, else the
// complexity model), keeps a session's tier from going down, and hands the tier's hidden alias to
// routing; the commit phase says why on every answer (`x-switchyard-route`). Compiled only when
// the config has an auto alias.
import type { GatewayConfig } from '../config/types.ts';
import { AutoRouter, type AutoDecision } from '../routing/auto/decide.ts';
import type { ComplexityModel } from '../routing/auto/model.ts';
import type { RequestContext } from './context.ts';
import type { CommitHandler, RequestHandler } from './phases.ts';
import { routeHeader, type RouteDecision } from './route-decision.ts';
import { sessionIdOf } from './session-id.ts';

/** Sessions whose tier is remembered, per auto alias; the least recently used go first. */
const SESSIONS_KEPT = 10_000;

export interface AutoRouteHandlers {
  readonly route: RequestHandler;
  readonly commit: CommitHandler;
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

export function compileAutoRoute(config: GatewayConfig, model: ComplexityModel): AutoRouteHandlers | undefined {
  const routers = new Map<string, AutoRouter>();
  const sessions = new Map<string, SessionTiers>();
  for (const alias of config.models) {
    if (alias.auto === undefined) continue;
    routers.set(alias.name, new AutoRouter(alias.name, alias.auto, model));
    sessions.set(alias.name, new SessionTiers());
  }
  if (routers.size === 0) return undefined;
  const sessionHeader = config.routing.sessionHeader;

  const route: RequestHandler = (context) => {
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
    let tier = decided.tier;
    let by = decided.by === 'score' ? `score:${decided.score!.toFixed(2)}` : decided.by;
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
      route: target,
      micros: Math.round((performance.now() - started) * 1000),
    };
    context.routeModel = target;
    return undefined;
  };

  const commit: CommitHandler = (context: RequestContext, headers: string[]) => {
    const decision = context.routeDecision;
    if (decision !== undefined) headers.push('x-switchyard-route', routeHeader(decision));
  };

  return { route, commit, routers };
}
