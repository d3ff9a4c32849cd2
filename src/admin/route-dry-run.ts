// `POST /v0/route`: what an auto alias (`strategy: auto`) would decide for a request, without
// asking any model. The body is the request as a client sends it, in any dialect: `?dialect=`
// names it (openai-chat, openai-responses, anthropic, gemini, ollama), else its shape does
// (`contents`: Gemini; `input`: Responses; a top-level `system` or an `anthropic-version` header:
// Anthropic; else OpenAI chat). The model is the body's `model` (Gemini: `?model=`). The hard
// constraints apply as for a real request: the answer names the targets dropped and why, and the
// tier they passed over (`preferred_tier`). A session's kept tier is not applied (nothing is
// remembered from a dry run).
import type { SurfaceRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { LocalHandler } from '../pipeline/gateway.ts';
import { readLocalJson } from '../pipeline/local-body.ts';
import { endWithError, sendJson } from '../pipeline/respond.ts';

/** A request to decide on is a request: the gateway's own body limit bounds it. */
const DIALECT_PATHS: Readonly<Record<string, (model: string) => string>> = {
  'openai-chat': () => '/v1/chat/completions',
  'openai-responses': () => '/v1/responses',
  anthropic: () => '/v1/messages',
  gemini: (model) => `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
  ollama: () => '/api/chat',
};

function invalid(message: string, param?: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', ...(param !== undefined ? { param } : {}) });
}

function dialectOf(body: Record<string, unknown>, query: URLSearchParams, headers: Record<string, unknown>): string {
  const named = query.get('dialect');
  if (named !== null) return named;
  if (body['contents'] !== undefined) return 'gemini';
  if (body['input'] !== undefined) return 'openai-responses';
  if (body['system'] !== undefined || headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai-chat';
}

export const routeDryRun: LocalHandler = (gateway, context, runtime) => {
  readLocalJson(context, runtime.config.server.bodyLimitBytes, (error, parsed) => {
    if (error !== undefined) {
      endWithError(context, error);
      return;
    }
    try {
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('The body must be a request as a client sends it (a JSON object).');
      const body = parsed as Record<string, unknown>;
      const query = new URLSearchParams(context.query);
      const dialect = dialectOf(body, query, context.request.headers);
      const path = DIALECT_PATHS[dialect];
      if (path === undefined) throw invalid(`Unknown dialect '${dialect}'; one of ${Object.keys(DIALECT_PATHS).join(', ')}.`, 'dialect');
      const model = query.get('model') ?? (typeof body['model'] === 'string' ? body['model'] : '');
      const routers = runtime.autoRoute?.routers;
      const router = routers?.get(model);
      if (router === undefined) {
        const names = routers === undefined ? [] : [...routers.keys()];
        throw new GatewayError(ErrorCode.modelNotFound, `'${model}' is not an auto alias (${names.length === 0 ? 'the config has none: see docs/auto-routing.md' : `auto aliases: ${names.join(', ')}`}).`, { status: 404, origin: 'downstream', errorClass: 'client-error', param: 'model' });
      }
      const surfaceRequest: SurfaceRequest = { params: {}, query: context.query, headers: context.request.headers, items: gateway.items };
      const found = gateway.surfaceAt('POST', path(model), surfaceRequest);
      const chat = found?.surface.chat;
      if (found === undefined || chat === undefined) throw invalid(`No chat surface for dialect '${dialect}'.`, 'dialect');
      const started = performance.now();
      const request = chat.decodeRequest(body, { ...surfaceRequest, params: found.params });
      const decision = router.decide(request, {
        header: (name) => {
          const value = context.request.headers[name];
          return Array.isArray(value) ? value.join(', ') : value;
        },
        keyId: context.keyId,
        team: context.policy?.team,
      });
      // the hard constraints, as the route phase applies them
      const constrained = decision.tier === undefined ? undefined : router.constrain(decision.tier, decision.needs);
      const micros = Math.round((performance.now() - started) * 1000);
      const tiers = router.routing.tiers;
      const tier = constrained === undefined ? undefined : constrained.tier ?? decision.tier;
      sendJson(context, 200, JSON.stringify({
        object: 'route.decision',
        alias: router.name,
        dialect,
        ...(tier !== undefined ? { tier: tiers[tier]!.name } : { model: decision.route }),
        ...(constrained !== undefined && constrained.tier !== decision.tier ? { preferred_tier: tiers[decision.tier!]!.name } : {}),
        route: tier !== undefined ? router.routeOf(tier) : decision.route,
        by: decision.by === 'score' ? `score:${decision.score!.toFixed(2)}` : decision.by,
        ...(decision.score !== undefined ? { score: decision.score } : {}),
        ...(decision.probabilities !== undefined ? { probabilities: Object.fromEntries(decision.probabilities.map((p, i) => [['simple', 'medium', 'complex'][i] ?? String(i), p])) } : {}),
        prompt_tokens: decision.promptTokens,
        needs: { images: decision.needs.images, json_schema: decision.needs.jsonSchema, tools: decision.needs.tools, ...(decision.needs.dialect !== undefined ? { dialect_fields: decision.needs.dialect } : {}) },
        dropped: constrained?.dropped ?? [],
        ...(constrained?.refusal !== undefined ? { refused: `No target of '${router.name}' can take this request: ${constrained.refusal}.` } : {}),
        decision_us: micros,
        tiers: tiers.map((tier) => ({ name: tier.name, route: tier.route, ...(tier.description !== undefined ? { description: tier.description } : {}), targets: runtime.router.resolve(tier.route)?.targets.map((target) => `${target.provider}/${target.model}`) ?? [] })),
      }));
    } catch (failure) {
      endWithError(context, failure instanceof GatewayError ? failure : invalid(`The request could not be read: ${(failure as Error).message}`));
    }
  });
};
