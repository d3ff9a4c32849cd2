// The management API's providers (/v0/management/providers/…): every provider with each key
// (masked) and each model on it as the health book sees it — healthy, cooling down until when,
// ejected, half-open — with recent latency, error rate and last error; clearing cooldowns and
// ejections (audited); and a connectivity test of a key. Keys are named by their fingerprint (the
// one the status pages and logs use) and shown masked; no answer holds a secret.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { KeyStore } from '../governance/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { testConnectivity } from '../pipeline/connectivity-test.ts';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import type { ProviderRuntime, Runtime } from '../pipeline/runtime.ts';
import type { HealthEntry } from '../state/interfaces.ts';
import { answer, fail, idMatcher, MANAGEMENT_PATH, withBody } from './management.ts';
import { safeUrl, targetStatus } from './status.ts';

/** An HTTP provider's test waits this long by default; an agent CLI may have to start first. */
const TEST_TIMEOUT_MS = 5000;
const AGENT_CLI_TEST_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MAX_MS = 60_000;
/** Keys this short are shown as `…` alone: a prefix and suffix would be most of them. */
const MASK_MIN_LENGTH = 16;

export interface ManagementProviderOptions {
  /** Where cooldown clears are audited (absent with storage off: the log line alone records them). */
  store: KeyStore | undefined;
  logger: Logger;
}

/** A key as an operator recognises it without its secret: `sk-…wxyz`. */
export function maskKey(key: string): string {
  return key.length < MASK_MIN_LENGTH ? '…' : `${key.slice(0, 3)}…${key.slice(-4)}`;
}

/** healthy, cooling (a cooldown: auth, not-found, rate-limited), ejected (out for failures), half-open (its probe may go). */
function healthState(entry: HealthEntry, now: number): 'healthy' | 'cooling' | 'ejected' | 'half-open' {
  if (now < entry.until) return entry.reason === 'ejected' ? 'ejected' : 'cooling';
  return entry.reason === 'ejected' ? 'half-open' : 'healthy';
}

function targetOf(entry: HealthEntry, now: number): Record<string, unknown> {
  const { key: _key, last_error: lastError, ...status } = targetStatus(entry, now);
  const error = entry.lastError;
  return {
    ...status,
    state: healthState(entry, now),
    last_error: lastError === null || error === undefined ? null : { ...(lastError as Record<string, unknown>), class: error.errorClass },
  };
}

/** The book's entries of the provider's current keys, by key fingerprint. */
function entriesByKey(runtime: Runtime, provider: string): Map<string, HealthEntry[]> {
  const byKey = new Map<string, HealthEntry[]>();
  for (const keyId of runtime.keyIds.get(provider) ?? ['']) byKey.set(keyId, []);
  for (const entry of runtime.health.all()) {
    if (entry.provider !== provider) continue;
    // entries of keys no longer configured (a reload changed them) are not this provider's now
    byKey.get(entry.keyId)?.push(entry);
  }
  return byKey;
}

function providerView(runtime: Runtime, served: ProviderRuntime, now: number): Record<string, unknown> {
  const config = served.config;
  const byKey = entriesByKey(runtime, served.name);
  const keys = [...byKey].map(([keyId, entries], index) => ({
    id: keyId === '' ? null : keyId,
    index,
    masked: config.apiKeys[index] === undefined ? null : maskKey(config.apiKeys[index]),
    models: entries.map((entry) => targetOf(entry, now)),
  }));
  const entries = [...byKey.values()].flat();
  const out = entries.filter((entry) => entry.until > now).length;
  const state = entries.length === 0 ? 'unused' : out === 0 ? 'healthy' : out === entries.length ? 'down' : 'degraded';
  const check = runtime.healthChecks.get(served.name);
  return {
    name: served.name,
    type: config.agentCli?.type ?? config.preset ?? config.dialect,
    dialect: config.dialect,
    ...(served.kind === 'own' ? { agent_cli: served.exchanges.describe() } : { base_url: safeUrl(config.baseUrl), key_strategy: config.keyStrategy }),
    state,
    health_check: check === undefined ? null : { ok: check.ok, at: new Date(check.at).toISOString(), ...(check.error !== undefined ? { error: check.error } : {}) },
    keys,
  };
}

function notFound(message: string): GatewayError {
  return new GatewayError(ErrorCode.routeNotFound, message, { status: 404, origin: 'downstream', errorClass: 'client-error' });
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', param });
}

function providerOf(context: RequestContext, runtime: Runtime): ProviderRuntime {
  const name = context.params.id!;
  const served = runtime.providers.get(name);
  if (served === undefined) throw notFound(`No provider named '${name.slice(0, 80)}' (providers: ${[...runtime.providers.keys()].join(', ') || 'none'}).`);
  return served;
}

/** `key` of a body: a key's fingerprint or its index in `api_keys`; undefined when absent. */
function keyIndexOf(body: Record<string, unknown>, runtime: Runtime, provider: string): number | undefined {
  const key = body.key;
  if (key === undefined || key === null) return undefined;
  const keyIds = runtime.keyIds.get(provider) ?? [''];
  const index = typeof key === 'number' ? key : typeof key === 'string' ? keyIds.indexOf(key) : -1;
  if (!Number.isInteger(index) || index < 0 || index >= keyIds.length) {
    const known = keyIds.filter((id) => id !== '');
    throw invalid(`key must be the fingerprint or index of one of provider '${provider}'s keys (${known.length === 0 ? 'it has none' : known.join(', ')}).`, 'key');
  }
  return index;
}

/** The body of a POST whose body is optional: `{}` when none was sent (no JSON content type needed then). */
function optionalBody(context: RequestContext, then: (body: Record<string, unknown>) => Promise<unknown> | void): void {
  const headers = context.request.headers;
  const empty = headers['content-type'] === undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');
  const checked = (body: unknown): Promise<unknown> | void => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The body must be a JSON object.', 'body');
    return then(body as Record<string, unknown>);
  };
  if (!empty) {
    withBody(context, checked);
    return;
  }
  context.request.resume();
  try {
    const pending = checked({});
    if (pending !== undefined) pending.catch((failure: unknown) => fail(context, failure));
  } catch (failure) {
    fail(context, failure);
  }
}

function guarded(handler: LocalHandler): LocalHandler {
  return (gateway, context, runtime) => {
    try {
      handler(gateway, context, runtime);
    } catch (error) {
      fail(context, error);
    }
  };
}

const listProviders: LocalHandler = (_gateway, context, runtime) => {
  const now = runtime.health.now();
  answer(context, 200, { object: 'list', data: [...runtime.providers.values()].map((served) => providerView(runtime, served, now)) });
};

const getProvider: LocalHandler = (_gateway, context, runtime) => {
  answer(context, 200, providerView(runtime, providerOf(context, runtime), runtime.health.now()));
};

function clearCooldowns(options: ManagementProviderOptions): LocalHandler {
  return (_gateway, context, runtime) => {
    const served = providerOf(context, runtime);
    optionalBody(context, async (body) => {
      const keyIndex = keyIndexOf(body, runtime, served.name);
      const model = body.model;
      if (model !== undefined && model !== null && typeof model !== 'string') throw invalid('model must be a model name of the provider.', 'model');
      const now = runtime.health.now();
      const byKey = entriesByKey(runtime, served.name);
      const keyIds = [...byKey.keys()];
      const scopedKeys = keyIndex === undefined ? keyIds : [keyIds[keyIndex]!];
      const cleared: Record<string, unknown>[] = [];
      let matched = 0;
      for (const keyId of scopedKeys) {
        for (const entry of byKey.get(keyId)!) {
          if (typeof model === 'string' && entry.model !== model) continue;
          matched++;
          const state = healthState(entry, now);
          if (state === 'healthy' && !entry.probing) continue;
          cleared.push({ key: keyId === '' ? null : keyId, model: entry.model, was: state, reason: entry.reason ?? null });
          entry.clear();
        }
        // a key an active health check found down is marked apart from its entries (models routed to later start ejected): the mark goes too
        if (typeof model !== 'string') runtime.health.markKeyUp(served.name, keyId);
      }
      if (typeof model === 'string' && matched === 0) throw notFound(`Provider '${served.name}' has no target for model '${model.slice(0, 120)}'${keyIndex === undefined ? '' : ' on that key'}.`);
      const detail = { key: keyIndex === undefined ? null : keyIds[keyIndex] || null, model: typeof model === 'string' ? model : null, cleared: cleared.length };
      options.logger.info({ actor: context.keyId, action: 'provider.cooldowns.clear', target: served.name, ...detail }, 'management change');
      // the targets are back already: an audit log that cannot be written is said, not a reason to refuse
      let audited = false;
      if (options.store !== undefined) {
        try {
          await options.store.record(context.keyId, 'provider.cooldowns.clear', served.name, detail);
          audited = true;
        } catch (error) {
          options.logger.warn({ err: (error as Error).message, action: 'provider.cooldowns.clear' }, 'the audit log could not be written');
        }
      }
      answer(context, 200, { object: 'provider.cooldowns', provider: served.name, ...detail, targets: cleared, audited });
    });
  };
}

const testProvider: LocalHandler = (_gateway, context, runtime) => {
  const served = providerOf(context, runtime);
  optionalBody(context, async (body) => {
    const keyIndex = keyIndexOf(body, runtime, served.name) ?? 0;
    const asked = body.timeout_ms;
    if (asked !== undefined && (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1 || asked > TEST_TIMEOUT_MAX_MS)) {
      throw invalid(`timeout_ms must be an integer from 1 to ${TEST_TIMEOUT_MAX_MS}.`, 'timeout_ms');
    }
    const timeoutMs = asked ?? (served.kind === 'own' ? AGENT_CLI_TEST_TIMEOUT_MS : TEST_TIMEOUT_MS);
    answer(context, 200, await testConnectivity(runtime, served, keyIndex, timeoutMs));
  });
};

export function managementProviderRoutes(options: ManagementProviderOptions): LocalRoute[] {
  const providers = `${MANAGEMENT_PATH}/providers`;
  return [
    { path: providers, entry: { method: 'GET', local: guarded(listProviders) } },
    { path: `${providers}/`, entry: { method: 'GET', local: guarded(getProvider) }, match: idMatcher('') },
    { path: `${providers}/`, entry: { method: 'POST', local: guarded(clearCooldowns(options)) }, match: idMatcher('cooldowns/clear') },
    { path: `${providers}/`, entry: { method: 'POST', local: guarded(testProvider) }, match: idMatcher('test') },
  ];
}
