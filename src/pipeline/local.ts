// Answers the gateway gives itself: health, readiness, the model list.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { LocalHandler } from './gateway.ts';
import { sendError, sendJson } from './respond.ts';

export const healthz: LocalHandler = (_gateway, context) => {
  sendJson(context, 200, '{"status":"ok"}');
};

export const readyz: LocalHandler = (gateway, context, runtime) => {
  if (gateway.draining) {
    sendJson(context, 503, '{"status":"draining"}');
    return;
  }
  sendJson(context, 200, JSON.stringify({ status: 'ready', providers: runtime.config.providers.length }));
};

export const listModels: LocalHandler = (gateway, context, runtime) => {
  sendJson(context, 200, runtime.modelListBody(gateway.encodeModelList));
};

/** `GET /v1/models/{id}`: ids may contain slashes (`openrouter/x/y`). */
export function retrieveModel(prefix: string, encode: (model: { id: string; ownedBy: string }) => string): LocalHandler {
  return (gateway, context, runtime) => {
    let id: string;
    try {
      id = decodeURIComponent(context.path.slice(prefix.length));
    } catch {
      id = context.path.slice(prefix.length);
    }
    const listed = runtime.router.listModels().find((model) => model.id === id);
    if (listed !== undefined) {
      sendJson(context, 200, encode(listed));
      return;
    }
    const route = runtime.router.resolve(id);
    if (route !== undefined) {
      sendJson(context, 200, encode({ id, ownedBy: route.kind === 'alias' ? 'switchyard' : route.targets[0]!.provider }));
      return;
    }
    sendError(context, gateway.modelNotFound(runtime, id));
  };
}

export function notFound(message: string): GatewayError {
  return new GatewayError(ErrorCode.routeNotFound, message, { status: 404, origin: 'downstream', errorClass: 'client-error' });
}
