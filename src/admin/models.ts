// `POST /v1/models/refresh`: model discovery again, now, rather than at the next
// `discover_interval_s` — for a model just pulled into Ollama or loaded into vLLM. The answer is
// the model list as `GET /v1/models` gives it, after the refresh, and what each discovering
// provider said (how many models, or why it could not be asked).
import type { LocalHandler } from '../pipeline/gateway.ts';
import { asGatewayError, endWithError, sendJson } from '../pipeline/respond.ts';

const created = Math.floor(Date.now() / 1000);

/**
 * `onRefresh` is told of each refresh before it runs (with `--workers N`: the other workers are
 * asked to refresh too, in the background).
 */
export function refreshModelsEndpoint(onRefresh?: () => void): LocalHandler {
  return (_gateway, context, runtime) => {
    onRefresh?.();
    runtime.refreshModels().then((results) => {
      const data = runtime.catalog.list().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy }));
      const providers = results.map((result) => ({ name: result.provider, models: result.models, ...(result.error !== undefined ? { error: result.error } : {}) }));
      sendJson(context, 200, JSON.stringify({ object: 'list', data, providers }));
    }, (error: unknown) => endWithError(context, asGatewayError(error)));
  };
}
