// `GET /v0/management/models`: the routes as the config and discovery made them, read-only —
// every alias with its targets (provider, model, weight, context window), strategy, fallbacks,
// context-overflow route, affinity and retry settings, and every model a client may ask for
// (aliases, configured and discovered names) with who serves it. The dashboard's Models page
// and its playground's model picker read it.
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import { answer, MANAGEMENT_PATH } from './management.ts';

export const MODELS_PATH = `${MANAGEMENT_PATH}/models`;

const listRoutes: LocalHandler = (_gateway, context, runtime) => {
  const config = runtime.config;
  answer(context, 200, {
    object: 'list',
    aliases: config.models.map((alias) => ({
      name: alias.name,
      strategy: alias.strategy,
      targets: alias.targets.map((target) => ({ provider: target.provider, model: target.model, weight: target.weight, context_window: target.contextWindow ?? null })),
      fallbacks: alias.fallbacks,
      on_context_overflow: alias.onContextOverflow ?? null,
      affinity: alias.affinity,
      retry: { attempts: alias.retry.attempts },
      cache_ttl_s: alias.cache?.ttlSeconds ?? null,
    })),
    models: runtime.catalog.list().map((model) => ({ id: model.id, owned_by: model.ownedBy })),
    providers: config.providers.map((provider) => provider.name),
  });
};

export function managementModelRoutes(): LocalRoute[] {
  return [{ path: MODELS_PATH, entry: { method: 'GET', local: listRoutes } }];
}
