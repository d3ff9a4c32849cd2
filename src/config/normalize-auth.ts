// `auth`: client keys (strings, or named keys with limits), teams, and the rules a schema cannot
// express — unique names, known teams, soft thresholds below their budgets, allow-list entries that
// can match something. Like normalize.ts, `checkAuth` tolerates malformed input (it runs next to
// schema validation); `normalizeAuth` runs only on input that passed both.
import { DEFAULT_STORE_FAILURE } from './defaults.ts';
import type { PathSegment } from './interpolate.ts';
import { suggest, type PendingProblem } from './problems.ts';
import type { RawClientKey, RawConfig, RawTeam } from './schema.ts';
import type { AuthConfig, ClientKeyConfig, LimitsConfig, TeamConfig } from './types.ts';
import { compileGlob, isGlob } from '../util/glob.ts';

/** What a model allow-list entry can be matched against, from the rest of the file. */
export interface KnownModels {
  aliases: readonly string[];
  /** Provider name → its model names and patterns (configured or the preset's), and whether it discovers more. */
  providers: ReadonlyMap<string, { models: readonly string[]; discover: boolean }>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Whether `auth.keys` holds a non-empty key, as a string or a mapping. */
export function hasClientKeys(auth: unknown): boolean {
  return list(record(auth)?.keys).some((item) => {
    const key = typeof item === 'string' ? item : record(item)?.key;
    return typeof key === 'string' && key !== '';
  });
}

/** Problems of `auth` (keys, teams, limits). */
export function checkAuth(auth: unknown, known: KnownModels, problems: PendingProblem[]): void {
  const section = record(auth);
  if (section === undefined) return;
  const teams = new Map<string, number>();
  list(section.teams).forEach((item, index) => {
    const team = record(item);
    if (team === undefined) return;
    if (typeof team.name === 'string') {
      const first = teams.get(team.name);
      if (first !== undefined) problems.push({ path: ['auth', 'teams', index, 'name'], message: `'${team.name}' is already used by auth.teams[${first}]` });
      else teams.set(team.name, index);
    }
    checkLimits(team, ['auth', 'teams', index], known, problems);
  });
  const names = new Map<string, number>();
  const secrets = new Map<string, number>();
  list(section.keys).forEach((item, index) => {
    const secret = typeof item === 'string' ? item : record(item)?.key;
    if (typeof secret === 'string' && secret !== '') {
      const first = secrets.get(secret);
      // two plain strings that are equal are harmless (dropped as duplicates); a named key is not
      if (first !== undefined && typeof item !== 'string') problems.push({ path: ['auth', 'keys', index, 'key'], message: `is the same key as auth.keys[${first}]: each key must be unique` });
      else if (first === undefined) secrets.set(secret, index);
    }
    const key = record(item);
    if (key === undefined) return;
    const at = (...rest: PathSegment[]): PathSegment[] => ['auth', 'keys', index, ...rest];
    if (typeof key.name === 'string') {
      const first = names.get(key.name);
      if (first !== undefined) problems.push({ path: at('name'), message: `'${key.name}' is already used by auth.keys[${first}]` });
      else names.set(key.name, index);
    }
    if (typeof key.team === 'string' && key.team !== '' && !teams.has(key.team)) {
      const suggestion = suggest(key.team, [...teams.keys()]);
      const hint = suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : teams.size === 0 ? '; no teams are configured (auth.teams)' : `; teams: ${[...teams.keys()].join(', ')}`;
      problems.push({ path: at('team'), message: `no team named '${key.team}'${hint}` });
    }
    checkLimits(key, ['auth', 'keys', index], known, problems);
  });
}

function checkLimits(owner: Record<string, unknown>, at: PathSegment[], known: KnownModels, problems: PendingProblem[]): void {
  const budget = record(owner.budget);
  if (budget !== undefined && typeof budget.usd === 'number' && typeof budget.soft_usd === 'number' && budget.soft_usd >= budget.usd) {
    problems.push({ path: [...at, 'budget', 'soft_usd'], message: `must be below usd (${budget.usd}): it warns before the hard limit refuses` });
  }
  list(owner.models).forEach((entry, index) => {
    if (typeof entry !== 'string' || entry === '') return;
    const problem = allowListProblem(entry, known);
    if (problem !== undefined) problems.push({ path: [...at, 'models', index], message: problem });
  });
}

/**
 * An allow-list entry that can never match: `provider:…` of no configured provider, or a name or
 * glob that no alias, no provider's model list and no discovering provider could answer.
 */
export function allowListProblem(entry: string, known: KnownModels): string | undefined {
  for (const separator of [':', '/']) {
    const at = entry.indexOf(separator);
    if (at > 0 && known.providers.has(entry.slice(0, at))) return at < entry.length - 1 ? undefined : `names no model; write ${entry}* for every model of the provider`;
  }
  if (known.aliases.includes(entry)) return undefined;
  const glob = isGlob(entry) ? compileGlob(entry) : undefined;
  if (glob !== undefined && known.aliases.some((alias) => glob.test(alias))) return undefined;
  for (const { models, discover } of known.providers.values()) {
    if (discover) return undefined; // a discovered model may match: nothing to say before it is listed
    for (const model of models) {
      if (isGlob(model)) {
        if (glob === undefined ? compileGlob(model).test(entry) : prefixesMeet(entry, model)) return undefined;
      } else if (glob === undefined ? model === entry : glob.test(model)) return undefined;
    }
  }
  if (known.providers.size === 0 && known.aliases.length === 0) return `matches no model: no providers or aliases are configured`;
  const alias = suggest(entry, [...known.aliases]);
  const hint = alias !== undefined ? ` (did you mean '${alias}'?)` : '';
  return `matches no alias and no model of a configured provider${hint}; write an alias, provider:model, or a glob such as gpt-*`;
}

/** Two globs could match a common name as far as their literal beginnings tell (`gpt-4*` and `gpt-*`). */
function prefixesMeet(a: string, b: string): boolean {
  const head = (glob: string) => glob.slice(0, Math.min(...['*', '?'].map((char) => glob.indexOf(char)).filter((at) => at >= 0), glob.length));
  const left = head(a);
  const right = head(b);
  return left.startsWith(right) || right.startsWith(left);
}

function limitsOf(raw: RawClientKey | RawTeam): LimitsConfig | undefined {
  const limits: LimitsConfig = {};
  if (raw.models !== undefined) limits.models = [...raw.models];
  if (raw.rpm !== undefined) limits.rpm = raw.rpm;
  if (raw.tpm !== undefined) limits.tpm = raw.tpm;
  if (raw.max_concurrent !== undefined) limits.maxConcurrent = raw.max_concurrent;
  if (raw.budget !== undefined) {
    limits.budget = { usd: raw.budget.usd, period: raw.budget.period };
    if (raw.budget.soft_usd !== undefined) limits.budget.softUsd = raw.budget.soft_usd;
  }
  return Object.keys(limits).length === 0 ? undefined : limits;
}

/** Admin keys as written, without the empty ones (an unset `${VAR}`) and repeats. */
function dropEmptyKeys(keys: readonly string[]): string[] {
  return [...new Set(keys.filter((key) => key !== ''))];
}

/** The `auth` section of the snapshot, from a file that passed the schema and `checkAuth`. */
export function normalizeAuth(raw: NonNullable<RawConfig['auth']>, warnings: PendingProblem[]): AuthConfig {
  const entries = raw.keys ?? [];
  const secrets = entries.map((entry) => (typeof entry === 'string' ? entry : entry.key));
  const keys = [...new Set(secrets.filter((key) => key !== ''))];
  if (entries.length > 0 && keys.length === 0) {
    warnings.push({ path: ['auth', 'keys'], message: 'every key is empty after interpolation, so client authentication is off' });
  }
  const clients: ClientKeyConfig[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string' || entry.key === '') continue;
    const client: ClientKeyConfig = { key: entry.key, name: entry.name };
    if (entry.team !== undefined) client.team = entry.team;
    const limits = limitsOf(entry);
    if (limits !== undefined) client.limits = limits;
    if (entry.cache !== undefined) client.cache = { ttlSeconds: entry.cache.ttl_s, perKey: entry.cache.per_key ?? false };
    clients.push(client);
  }
  const teams = (raw.teams ?? []).map((team): TeamConfig => {
    const limits = limitsOf(team);
    return limits === undefined ? { name: team.name } : { name: team.name, limits };
  });
  // only what the file sets: absent fields read as none and the defaults
  const auth: AuthConfig = { keys, allowUnauthenticated: raw.allow_unauthenticated ?? false, adminKeys: dropEmptyKeys(raw.admin_keys ?? []) };
  if (clients.length > 0) auth.clients = clients;
  if (teams.length > 0) auth.teams = teams;
  if (raw.tpm_default_max_tokens !== undefined) auth.tpmDefaultMaxTokens = raw.tpm_default_max_tokens;
  if (raw.on_store_failure !== undefined) {
    auth.onStoreFailure = {
      rateLimits: raw.on_store_failure.rate_limits ?? DEFAULT_STORE_FAILURE.rateLimits,
      budgets: raw.on_store_failure.budgets ?? DEFAULT_STORE_FAILURE.budgets,
    };
  }
  return auth;
}

/** Whether any named key or team sets a limit. */
export function hasLimits(auth: AuthConfig): boolean {
  return (auth.clients ?? []).some((client) => client.limits !== undefined) || (auth.teams ?? []).some((team) => team.limits !== undefined);
}
