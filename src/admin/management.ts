// The management API (/v0/management/…): the gateway's own keys and teams — create (the secret
// shown once), list, get, update, delete, rotate — with each key's usage by period, and the audit
// log. Routed like every other endpoint of the gateway's own: the authenticate phase has already
// checked the admin key (pipeline/admin-auth.ts) and left its id in `context.keyId`, which the
// audit log records as who made the change. Answers never hold a secret but the one just made.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { KeyStore, KeyView } from '../governance/key-store.ts';
import { limitsOf, parseDocument, parseKeyInput, parseTeamInput, type LimitsDocument, type ModelCheck } from '../governance/key-input.ts';
import type { RemainingLimits } from '../governance/limit-enforcer.ts';
import type { KeyPolicy } from '../governance/policy.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import { asGatewayError, sendError, sendJson } from '../pipeline/respond.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import { readLocalJson } from '../pipeline/local-body.ts';
import type { UsageRecorder } from '../state/usage-recorder.ts';
import type { UsageStore, UsageSummary } from '../state/usage-store.ts';
import { roundCost } from '../observability/access-log.ts';
import { isGlob } from '../util/glob.ts';
import { totalsOf } from './usage.ts';
import { managementConfigRoutes, type ConfigRouteOptions } from './management-config.ts';
import { managementUsageEndpoint } from './management-usage.ts';

export const MANAGEMENT_PATH = '/v0/management';
/** Management bodies are a few fields; a larger one is a mistake, not a key. */
const BODY_LIMIT = 64 * 1024;
const FLUSH_WAIT_MS = 2000;
const AUDIT_DEFAULT = 100;
const AUDIT_MAX = 1000;
/** Secrets and key lists are never cached by a proxy or a browser. */
const NO_STORE = ['cache-control', 'no-store'] as const;

export interface ManagementOptions {
  /** Absent with `storage.enabled: false`: the key endpoints answer 503. */
  store: KeyStore | undefined;
  usage: UsageRecorder | undefined;
  /**
   * A key's (and its team's) remaining limits now (requests, tokens, requests in flight, budget
   * left, reset times), from the enforcement's counters (main.ts: the current runtime's
   * `LimitEnforcer.remaining`); null when no limit is enforced.
   */
  remaining?: (policy: KeyPolicy) => RemainingLimits | null;
  /** The config endpoints (management-config.ts); absent: not routed. */
  config?: Omit<ConfigRouteOptions, 'store'>;
}

type Handler = (context: RequestContext, runtime: Runtime, store: KeyStore) => void;

/** A JSON answer never stored by a proxy or a browser. */
export function answer(context: RequestContext, status: number, value: unknown): void {
  sendJson(context, status, JSON.stringify(value), NO_STORE);
}

export function fail(context: RequestContext, error: unknown): void {
  const failure = asGatewayError(error);
  sendError(context, failure, NO_STORE);
}

function withStore(options: ManagementOptions, handler: Handler): LocalHandler {
  return (_gateway, context, runtime) => {
    const store = options.store;
    if (store === undefined) {
      fail(context, new GatewayError(ErrorCode.keyStoreUnavailable, 'The key store lives in the usage database, and storage is off (storage.enabled: false in the config).', {
        status: 503, origin: 'local', errorClass: 'none',
      }));
      return;
    }
    try {
      handler(context, runtime, store);
    } catch (error) {
      fail(context, error);
    }
  };
}

/** Reads the JSON body (within BODY_LIMIT), then runs `then` with it; answers the refusals itself. */
export function withBody(context: RequestContext, then: (body: unknown) => Promise<unknown> | void): void {
  readLocalJson(context, BODY_LIMIT, (error, body) => {
    if (error !== undefined) {
      fail(context, error);
      return;
    }
    try {
      const pending = then(body);
      if (pending !== undefined) pending.catch((failure: unknown) => fail(context, failure));
    } catch (failure) {
      fail(context, failure);
    }
  });
}

/**
 * An allow-list entry must name something this gateway serves: an alias, `provider:model` of a
 * configured provider, a model some provider lists, or a glob (whose `provider:` part, if any,
 * must be a configured provider).
 */
export function modelCheck(runtime: Runtime): ModelCheck {
  const providers = new Set(runtime.config.providers.map((provider) => provider.name));
  return (entry) => {
    if (isGlob(entry)) {
      const colon = entry.indexOf(':');
      if (colon > 0) {
        const provider = entry.slice(0, colon);
        if (!isGlob(provider) && !providers.has(provider)) return `'${entry}' names provider '${provider}', which is not configured (providers: ${[...providers].join(', ') || 'none'}).`;
      }
      return undefined;
    }
    if (runtime.router.resolve(entry) !== undefined) return undefined;
    const suggestions = runtime.router.suggestions(entry);
    return `'${entry}' is no alias, provider:model or model a provider serves${suggestions.length > 0 ? `; closest: ${suggestions.map((name) => `'${name}'`).join(', ')}` : ''}. Use a glob (such as 'gpt-*') for models not listed yet.`;
  };
}

// ----- keys --------------------------------------------------------------------------------------

const listKeys: Handler = (context, _runtime, store) => {
  answer(context, 200, { object: 'list', data: store.listKeys() });
};

const createKey: Handler = (context, runtime, store) => {
  withBody(context, async (body) => {
    const input = parseKeyInput(body, 'create', Date.now());
    const result = await store.createKey(input, context.keyId, modelCheck(runtime));
    answer(context, 201, withSecret(result.view, result.secret!));
  });
};

/** `{ id, key, …view }`: the one answer holding a secret. */
export function withSecret(view: KeyView, secret: string): Record<string, unknown> {
  const { id, ...rest } = view;
  return { id, key: secret, ...rest };
}

function keyOf(context: RequestContext, store: KeyStore) {
  const id = context.params.id!;
  const key = store.findKey(id);
  if (key === undefined) throw new GatewayError(ErrorCode.routeNotFound, `No key with id or name '${id.slice(0, 80)}'.`, { status: 404, origin: 'downstream', errorClass: 'client-error' });
  return key;
}

const getKey: Handler = (context, _runtime, store) => {
  answer(context, 200, store.keyView(keyOf(context, store)));
};

const updateKey: Handler = (context, runtime, store) => {
  withBody(context, async (body) => {
    const input = parseKeyInput(body, 'update', Date.now());
    const result = await store.updateKey(context.params.id!, input, context.keyId, modelCheck(runtime));
    answer(context, 200, result.view);
  });
};

const deleteKey: Handler = (context, _runtime, store) => {
  store.deleteKey(context.params.id!, context.keyId).then(
    (view) => answer(context, 200, { id: view.id, name: view.name, object: 'key', deleted: true }),
    (error: unknown) => fail(context, error),
  );
};

const rotateKey: Handler = (context, _runtime, store) => {
  store.rotateKey(context.params.id!, context.keyId).then(
    (result) => answer(context, 200, withSecret(result.view, result.secret!)),
    (error: unknown) => fail(context, error),
  );
};

// ----- teams -------------------------------------------------------------------------------------

const listTeams: Handler = (context, _runtime, store) => {
  answer(context, 200, { object: 'list', data: store.listTeams() });
};

const createTeam: Handler = (context, runtime, store) => {
  withBody(context, async (body) => {
    const view = await store.createTeam(parseTeamInput(body, 'create'), context.keyId, modelCheck(runtime));
    answer(context, 201, view);
  });
};

function teamOf(context: RequestContext, store: KeyStore) {
  const id = context.params.id!;
  const team = store.findTeam(id);
  if (team === undefined) throw new GatewayError(ErrorCode.routeNotFound, `No team with id or name '${id.slice(0, 80)}'.`, { status: 404, origin: 'downstream', errorClass: 'client-error' });
  return team;
}

const getTeam: Handler = (context, _runtime, store) => {
  answer(context, 200, store.teamView(teamOf(context, store)));
};

const updateTeam: Handler = (context, runtime, store) => {
  withBody(context, async (body) => {
    answer(context, 200, await store.updateTeam(context.params.id!, parseTeamInput(body, 'update'), context.keyId, modelCheck(runtime)));
  });
};

const deleteTeam: Handler = (context, _runtime, store) => {
  store.deleteTeam(context.params.id!, context.keyId).then(
    (view) => answer(context, 200, { id: view.id, name: view.name, object: 'team', deleted: true }),
    (error: unknown) => fail(context, error),
  );
};

// ----- usage and audit ---------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** When each budget period began (00:00 UTC; weeks on Monday), as governance/policy.ts defines them. */
export function periodStarts(now: number): { day: number; week: number; month: number; total: number } {
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  const date = new Date(now);
  return { day, week: day - weekday * DAY_MS, month: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), total: 0 };
}

type Sums = Omit<UsageSummary, 'group'>;

export type PeriodUsage = Record<string, Sums & { from: string }>;

/** This process's queued rows written first (waiting at most FLUSH_WAIT_MS), then the sums. */
async function recordedUsage(recorder: UsageRecorder, keyIds: ReadonlySet<string>, now: number): Promise<PeriodUsage> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_WAIT_MS);
  });
  await Promise.race([recorder.flush(), waited]).finally(() => clearTimeout(timer));
  return usageByPeriod(recorder.store, keyIds, now);
}

/** The usage of some keys by budget period, summed from the usage store (one query per period). */
export async function usageByPeriod(usage: UsageStore, keyIds: ReadonlySet<string>, now: number): Promise<PeriodUsage> {
  const periods: PeriodUsage = {};
  for (const [period, from] of Object.entries(periodStarts(now))) {
    const rows = await usage.summarize({ groupBy: 'key', from, to: now + 1 });
    const totals = totalsOf(rows.filter((row) => row.group !== null && keyIds.has(row.group)));
    periods[period] = { from: new Date(from).toISOString(), ...totals, cost_usd: totals.cost_usd === null ? null : roundCost(totals.cost_usd) };
  }
  return periods;
}

function usageUnavailable(message: string): GatewayError {
  return new GatewayError(ErrorCode.usageUnavailable, message, { status: 503, origin: 'gateway', errorClass: 'none' });
}

function keyUsage(options: ManagementOptions): Handler {
  return (context, _runtime, store) => {
    const key = keyOf(context, store);
    const recorder = options.usage;
    if (recorder === undefined) throw usageUnavailable('Usage recording is off (storage.enabled: false).');
    const policy = store.entryOf(key)?.policy;
    const remaining = policy !== undefined && options.remaining !== undefined ? options.remaining(policy) : null;
    recordedUsage(recorder, new Set([key.id]), Date.now()).then(
      (usage) => answer(context, 200, { object: 'key.usage', id: key.id, name: key.name, usage, remaining }),
      (error: unknown) => fail(context, error instanceof GatewayError ? error : usageUnavailable(`The usage store (${recorder.store.kind}) could not be read.`)),
    );
  };
}

function teamUsage(options: ManagementOptions): Handler {
  return (context, _runtime, store) => {
    const team = teamOf(context, store);
    const recorder = options.usage;
    if (recorder === undefined) throw usageUnavailable('Usage recording is off (storage.enabled: false).');
    const members = new Set(store.listKeys().filter((key) => key.team === team.name).map((key) => key.id));
    // the team's limits as its member keys carry them: the enforcement counts them per team name
    const limits = limitsOf(parseDocument<LimitsDocument>(team.limits));
    const policy: KeyPolicy | undefined = limits === undefined ? undefined : { id: team.id, name: team.name, source: 'store', team: team.name, teamLimits: limits };
    const remaining = policy !== undefined && options.remaining !== undefined ? options.remaining(policy)?.team ?? null : null;
    recordedUsage(recorder, members, Date.now()).then(
      (usage) => answer(context, 200, { object: 'team.usage', id: team.id, name: team.name, keys: members.size, usage, remaining }),
      (error: unknown) => fail(context, error instanceof GatewayError ? error : usageUnavailable(`The usage store (${recorder.store.kind}) could not be read.`)),
    );
  };
}

const auditLog: Handler = (context, _runtime, store) => {
  const asked = Number(new URLSearchParams(context.query).get('limit') ?? AUDIT_DEFAULT);
  const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, AUDIT_MAX) : AUDIT_DEFAULT;
  store.audit(limit).then(
    (entries) => answer(context, 200, {
      object: 'list',
      data: entries.map((entry) => ({ time: new Date(entry.time).toISOString(), actor: entry.actor, action: entry.action, target: entry.target, detail: JSON.parse(entry.detail) as unknown })),
    }),
    (error: unknown) => fail(context, new GatewayError(ErrorCode.keyStoreUnavailable, `The audit log could not be read: ${(error as Error).message}`, { status: 503, origin: 'gateway', errorClass: 'none' })),
  );
};

// ----- the routes --------------------------------------------------------------------------------

/** `{id}` alone, or `{id}/<suffix>`. */
export function idMatcher(suffix: string): (rest: string) => Record<string, string> | undefined {
  return (rest) => {
    let id = rest;
    if (suffix !== '') {
      if (!rest.endsWith(`/${suffix}`)) return undefined;
      id = rest.slice(0, -suffix.length - 1);
    }
    if (id === '' || id.includes('/')) return undefined;
    try {
      return { id: decodeURIComponent(id) };
    } catch {
      return undefined;
    }
  };
}

export function managementRoutes(options: ManagementOptions): LocalRoute[] {
  const route = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, handler: Handler, suffix?: string): LocalRoute => ({
    path,
    entry: { method, local: withStore(options, handler) },
    ...(suffix !== undefined ? { match: idMatcher(suffix) } : {}),
  });
  const keys = `${MANAGEMENT_PATH}/keys`;
  const teams = `${MANAGEMENT_PATH}/teams`;
  return [
    route('GET', keys, listKeys),
    route('POST', keys, createKey),
    route('GET', `${keys}/`, getKey, ''),
    route('PATCH', `${keys}/`, updateKey, ''),
    route('DELETE', `${keys}/`, deleteKey, ''),
    route('POST', `${keys}/`, rotateKey, 'rotate'),
    route('GET', `${keys}/`, keyUsage(options), 'usage'),
    route('GET', teams, listTeams),
    route('POST', teams, createTeam),
    route('GET', `${teams}/`, getTeam, ''),
    route('PATCH', `${teams}/`, updateTeam, ''),
    route('DELETE', `${teams}/`, deleteTeam, ''),
    route('GET', `${teams}/`, teamUsage(options), 'usage'),
    route('GET', `${MANAGEMENT_PATH}/audit`, auditLog),
    // answers without a key store (storage on, keys never made)
    { path: `${MANAGEMENT_PATH}/usage`, entry: { method: 'GET', local: managementUsageEndpoint(options.usage, options.store) } },
    ...(options.config !== undefined ? managementConfigRoutes(MANAGEMENT_PATH, { ...options.config, store: options.store }) : []),
  ];
}
