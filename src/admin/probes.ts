// Answers the gateway gives itself whatever the dialect: health and readiness.
import type { LocalHandler } from '../pipeline/gateway.ts';
import { sendJson } from '../pipeline/respond.ts';

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
