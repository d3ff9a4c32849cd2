// The gateway's own JSON status: every provider and every (key, model) it has routed to, with its
// health state, cooldown, recent latency and error rate — never a key (keys are named by a short
// fingerprint) and never a base URL's query or credentials.
import type { HealthEntry } from '../state/interfaces.ts';
import type { BodyLog } from '../observability/body-log.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { sendError } from '../pipeline/respond.ts';
import type { LocalHandler } from '../pipeline/gateway.ts';
import { sendJson } from '../pipeline/respond.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import { configVersion } from '../config/version.ts';

const startedAt = Date.now();

function iso(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function safeUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '';
  }
}

/** One (key, model) of the health book as the status pages show it. */
export function targetStatus(entry: HealthEntry, now: number): Record<string, unknown> {
  const error = entry.lastError;
  const successRate = entry.successRate(now);
  return {
    model: entry.model,
    key: entry.keyId === '' ? null : entry.keyId,
    state: entry.state(now),
    reason: entry.until > now || entry.reason === 'ejected' ? entry.reason ?? null : null,
    cooldown_until: entry.until > now ? iso(entry.until) : null,
    consecutive_failures: entry.consecutiveFailures,
    ejections: entry.ejections,
    ejected_by: entry.reason === 'ejected' ? entry.ejectedBy ?? null : null,
    in_flight: entry.inflight,
    latency_ms: entry.latencyMs > 0 ? round(entry.latencyMs) : null,
    error_rate: round(entry.errorRate(now), 3),
    success_rate: successRate === undefined ? null : round(successRate, 3),
    requests: entry.requests,
    failures: entry.failures,
    stream_failures: entry.streamFailures,
    last_error: error === undefined ? null : {
      status: error.upstreamStatus ?? error.status,
      code: error.code,
      message: error.message,
      at: iso(entry.lastErrorAt),
    },
  };
}

/** Every provider with its targets' health, for `GET /v1/providers` and the status page. */
export function providerStatus(runtime: Runtime, now = Date.now()): Record<string, unknown>[] {
  const byProvider = new Map<string, HealthEntry[]>();
  for (const entry of runtime.health.all()) {
    let list = byProvider.get(entry.provider);
    if (list === undefined) byProvider.set(entry.provider, (list = []));
    list.push(entry);
  }
  return runtime.config.providers.map((provider) => {
    const keyIds = new Set(runtime.keyIds.get(provider.name) ?? ['']);
    // entries of keys no longer configured (a reload changed them) are not this provider's now
    const entries = (byProvider.get(provider.name) ?? []).filter((entry) => keyIds.has(entry.keyId));
    const cooling = entries.filter((entry) => entry.until > now).length;
    const check = runtime.healthChecks.get(provider.name);
    const state = entries.length === 0 ? 'unused' : cooling === 0 ? 'healthy' : cooling === entries.length ? 'down' : 'degraded';
    const served = runtime.providers.get(provider.name);
    if (served?.kind === 'own') {
      // an agent CLI: no URL nor keys of its own; its driver says how it talks to the CLI (and why not the persistent protocol)
      return { name: provider.name, dialect: provider.dialect, agent_cli: served.exchanges.describe(), state, targets: entries.map((entry) => targetStatus(entry, now)) };
    }
    return {
      name: provider.name,
      dialect: provider.dialect,
      ...(provider.preset !== undefined ? { preset: provider.preset } : {}),
      base_url: safeUrl(provider.baseUrl),
      keys: provider.apiKeys.length,
      key_strategy: provider.keyStrategy,
      state,
      health_check: check === undefined ? null : { ok: check.ok, at: iso(check.at), ...(check.error !== undefined ? { error: check.error } : {}) },
      targets: entries.map((entry) => targetStatus(entry, now)),
    };
  });
}

export const providersEndpoint: LocalHandler = (_gateway, context, runtime) => {
  sendJson(context, 200, JSON.stringify({ object: 'list', data: providerStatus(runtime) }));
};

export const statusEndpoint: LocalHandler = (gateway, context, runtime) => {
  const memory = process.memoryUsage();
  sendJson(context, 200, JSON.stringify({
    status: gateway.draining ? 'draining' : 'ok',
    pid: process.pid,
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    config: runtime.config.source,
    // the same on every instance that loaded the same config: a rollout can be checked
    config_version: configVersion(runtime.config),
    in_flight: gateway.inflight,
    rss_bytes: memory.rss,
    aliases: runtime.config.models.map((alias) => ({ name: alias.name, strategy: alias.strategy, targets: alias.targets.length, fallbacks: alias.fallbacks, affinity: alias.affinity })),
    providers: providerStatus(runtime),
  }));
};

/** `GET /v0/requests` (recent captured requests) and `GET /v0/requests?id=` (one, with bodies). */
export function requestsEndpoint(log: BodyLog | undefined): LocalHandler {
  return (_gateway, context) => {
    if (log === undefined) {
      sendError(context, new GatewayError(ErrorCode.routeNotFound, 'Body capture is off (logging.bodies.enabled: false in the config).', { status: 404, origin: 'local', errorClass: 'client-error' }));
      return;
    }
    const id = new URLSearchParams(context.query).get('id');
    if (id === null || id === '') {
      sendJson(context, 200, JSON.stringify({ object: 'list', data: log.list() }));
      return;
    }
    const entry = log.get(id);
    if (entry === undefined) {
      sendError(context, new GatewayError(ErrorCode.routeNotFound, `No captured request with id '${id}' (only the last ${log.settings.keep} are kept).`, { status: 404, origin: 'local', errorClass: 'client-error', param: 'id' }));
      return;
    }
    sendJson(context, 200, JSON.stringify(entry));
  };
}
