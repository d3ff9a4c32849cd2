// Raw file → GatewayConfig. `checkSemantics` holds the rules a schema cannot express (names that
// must be unique or exist, URLs, presets); it tolerates malformed input so that it can run next to
// schema validation and every problem is reported in one pass. `normalizeConfig` runs only on
// input that passed both.
import { genericOpenAI, presets, type Preset } from '../providers/presets/index.ts';
import {
  DEFAULT_DISCOVER_INTERVAL_S, DEFAULT_LOGGING, DEFAULT_MEDIA, DEFAULT_POOL, DEFAULT_TIMEOUTS, defaultServerConfig,
} from './defaults.ts';
import type { PathSegment } from './interpolate.ts';
import { suggest, type PendingProblem } from './problems.ts';
import { deepFreeze as freeze } from './freeze.ts';
import type { RawAlias, RawConfig, RawProvider } from './schema.ts';
import type { AliasConfig, GatewayConfig, ProviderConfig } from './types.ts';

const OPENAI_HOST = 'api.openai.com';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Framing and routing headers belong to the HTTP client; overriding them would corrupt requests.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export interface ResolvedPreset {
  /** Undefined for a plain OpenAI-compatible server. */
  name: string | undefined;
  preset: Preset;
}

/**
 * `openai` is the wire format; it means the OpenAI service (its URL and model patterns) only when
 * no base_url is given or it points at api.openai.com. Undefined for an unknown type.
 */
export function resolvePreset(type: string, baseUrl: string | undefined): ResolvedPreset | undefined {
  if (type === 'openai') {
    return baseUrl === undefined || hostOf(baseUrl) === OPENAI_HOST ? { name: 'openai', preset: presets.openai! } : { name: undefined, preset: genericOpenAI };
  }
  return Object.hasOwn(presets, type) ? { name: type, preset: presets[type]! } : undefined;
}

/** `32mb` → 33554432; kb/mb/gb are powers of 1024. NaN when the text is not a size. */
export function parseBodyLimit(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])i?b?|(b))?\s*$/i.exec(value);
  if (match === null) return Number.NaN;
  const unit = (match[2] ?? match[3] ?? '').toLowerCase();
  return Math.floor(Number(match[1]) * UNITS[unit]!);
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an http(s) URL such as http://127.0.0.1:11434/v1 (got '${value}')`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol.slice(0, -1)}`;
  if (url.search !== '' || url.hash !== '') return 'must not have a query string or fragment (API paths are appended to it)';
  return undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function unknownTypeMessage(type: string): string {
  const names = Object.keys(presets).filter((name) => name !== 'openai');
  const suggestion = suggest(type, ['openai', ...names]);
  const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
  return `unknown type '${type}'; expected 'openai' or one of the presets: ${names.join(', ')}${hint}`;
}

/** Cross-field and value rules, on input that may not have passed the schema. */
export function checkSemantics(raw: unknown): PendingProblem[] {
  const problems: PendingProblem[] = [];
  const root = record(raw) ?? {};
  const server = record(root.server);
  if (server !== undefined && (typeof server.body_limit === 'string' || typeof server.body_limit === 'number')) {
    const bytes = parseBodyLimit(server.body_limit);
    if (bytes < 1) problems.push({ path: ['server', 'body_limit'], message: 'must be at least 1 byte' });
  }
  const providerNames = new Map<string, number>();
  list(root.providers).forEach((item, index) => {
    const provider = record(item);
    if (provider === undefined) return;
    const at = (...rest: PathSegment[]): PathSegment[] => ['providers', index, ...rest];
    if (typeof provider.name === 'string') {
      const first = providerNames.get(provider.name);
      if (first !== undefined) problems.push({ path: at('name'), message: `'${provider.name}' is already used by providers[${first}]` });
      else providerNames.set(provider.name, index);
    }
    const baseUrl = typeof provider.base_url === 'string' ? provider.base_url : undefined;
    if (baseUrl !== undefined && baseUrl !== '') {
      const problem = urlProblem(baseUrl);
      if (problem !== undefined) problems.push({ path: at('base_url'), message: problem });
    }
    if (typeof provider.type === 'string' && provider.type !== '') {
      const resolved = resolvePreset(provider.type, baseUrl);
      if (resolved === undefined) problems.push({ path: at('type'), message: unknownTypeMessage(provider.type) });
      else if (provider.base_url === undefined && resolved.preset.baseUrl === '') {
        problems.push({ path: at('base_url'), message: `is required for type '${provider.type}' (the preset has no default URL)` });
      }
    }
    if (provider.api_key !== undefined && provider.api_keys !== undefined) {
      problems.push({ path: at('api_keys'), key: true, message: 'use either api_key or api_keys, not both' });
    }
    for (const name of Object.keys(record(provider.headers) ?? {})) {
      if (!HEADER_NAME.test(name)) problems.push({ path: at('headers', name), key: true, message: 'is not a valid HTTP header name' });
      else if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push({ path: at('headers', name), key: true, message: 'is managed by the gateway and cannot be set' });
    }
  });
  const aliasNames = new Map<string, number>();
  list(root.models).forEach((item, index) => {
    const alias = record(item);
    if (alias === undefined) return;
    if (typeof alias.name === 'string') {
      const first = aliasNames.get(alias.name);
      if (first !== undefined) problems.push({ path: ['models', index, 'name'], message: `'${alias.name}' is already used by models[${first}]` });
      else aliasNames.set(alias.name, index);
    }
    list(alias.targets).forEach((target, targetIndex) => {
      const provider = record(target)?.provider;
      if (typeof provider !== 'string' || provider === '' || providerNames.has(provider)) return;
      problems.push({ path: ['models', index, 'targets', targetIndex, 'provider'], message: missingProviderMessage(provider, [...providerNames.keys()]) });
    });
  });
  return problems;
}

function missingProviderMessage(name: string, known: string[]): string {
  if (known.length === 0) return `no provider named '${name}'; no providers are configured`;
  const suggestion = suggest(name, known);
  if (suggestion !== undefined) return `no provider named '${name}' (did you mean '${suggestion}'?)`;
  return `no provider named '${name}'; configured providers: ${known.join(', ')}`;
}

export interface Normalized {
  config: GatewayConfig;
  /** Legal but probably unintended settings. */
  warnings: PendingProblem[];
}

/** Builds the snapshot from a file that passed the schema and `checkSemantics`. */
export function normalizeConfig(raw: RawConfig, source: string): Normalized {
  const warnings: PendingProblem[] = [];
  const server = raw.server ?? {};
  const auth = raw.auth ?? {};
  const keys = dropEmpty(auth.keys ?? []);
  if ((auth.keys ?? []).length > 0 && keys.length === 0) {
    warnings.push({ path: ['auth', 'keys'], message: 'every key is empty after interpolation, so client authentication is off' });
  }
  const config: GatewayConfig = {
    source,
    server: {
      host: server.host ?? defaultServerConfig.host,
      port: server.port ?? defaultServerConfig.port,
      workers: server.workers ?? defaultServerConfig.workers,
      bodyLimitBytes: server.body_limit === undefined ? defaultServerConfig.bodyLimitBytes : parseBodyLimit(server.body_limit),
      keepAliveTimeoutMs: server.keep_alive_timeout_ms ?? defaultServerConfig.keepAliveTimeoutMs,
      drainTimeoutMs: server.drain_timeout_ms ?? defaultServerConfig.drainTimeoutMs,
    },
    auth: { keys, allowUnauthenticated: auth.allow_unauthenticated ?? false },
    providers: (raw.providers ?? []).map((provider, index) => normalizeProvider(provider, index, warnings)),
    models: (raw.models ?? []).map(normalizeAlias),
    logging: { level: raw.logging?.level ?? DEFAULT_LOGGING.level, format: raw.logging?.format ?? DEFAULT_LOGGING.format },
    media: {
      allowPrivateNetworks: raw.media?.allow_private_networks ?? DEFAULT_MEDIA.allowPrivateNetworks,
      maxBytes: raw.media?.max_bytes ?? DEFAULT_MEDIA.maxBytes,
      timeoutMs: raw.media?.timeout_ms ?? DEFAULT_MEDIA.timeoutMs,
    },
  };
  return { config: freeze(config), warnings };
}

function normalizeProvider(raw: RawProvider, index: number, warnings: PendingProblem[]): ProviderConfig {
  const resolved = resolvePreset(raw.type, raw.base_url);
  if (resolved === undefined) throw new Error(`unchecked provider type '${raw.type}'`);
  const { preset } = resolved;
  const baseUrl = (raw.base_url ?? preset.baseUrl).replace(/\/+$/, '');
  const apiKeys = dropEmpty(raw.api_keys ?? (raw.api_key === undefined ? [] : [raw.api_key]));
  if (raw.api_key === undefined && raw.api_keys === undefined && preset.keyEnv.length > 0 && !isLoopbackHost(hostOf(baseUrl) ?? '')) {
    warnings.push({ path: ['providers', index], message: `no api_key, so requests are sent without credentials (e.g. api_key: \${${preset.keyEnv[0]}})` });
  }
  const models = raw.models ?? [...preset.models];
  const headers: Record<string, string> = { ...preset.headers };
  for (const [name, value] of Object.entries(raw.headers ?? {})) headers[name.toLowerCase()] = value;
  const provider: ProviderConfig = {
    name: raw.name,
    dialect: preset.dialect,
    baseUrl,
    apiKeys,
    auth: { ...preset.auth },
    models,
    discover: raw.discover ?? defaultDiscover(models, raw.models !== undefined, preset),
    discoverIntervalMs: (raw.discover_interval_s ?? DEFAULT_DISCOVER_INTERVAL_S) * 1000,
    headers,
    timeouts: {
      connectMs: raw.timeouts?.connect_ms ?? DEFAULT_TIMEOUTS.connectMs,
      firstByteMs: raw.timeouts?.first_byte_ms ?? DEFAULT_TIMEOUTS.firstByteMs,
      idleMs: raw.timeouts?.idle_ms ?? DEFAULT_TIMEOUTS.idleMs,
      totalMs: raw.timeouts?.total_ms ?? DEFAULT_TIMEOUTS.totalMs,
    },
    pool: {
      connections: raw.pool?.connections ?? DEFAULT_POOL.connections,
      keepAliveMs: raw.pool?.keep_alive_ms ?? DEFAULT_POOL.keepAliveMs,
    },
    capabilities: { ...preset.capabilities, ...definedOnly(raw.capabilities ?? {}) },
  };
  if (resolved.name !== undefined) provider.preset = resolved.name;
  return provider;
}

/**
 * A provider with no model list can only be reached through discovery, so it discovers. Listing
 * models is a statement of what to serve, so it turns the preset's discovery default off.
 */
export function defaultDiscover(models: readonly string[], listed: boolean, preset: Preset): boolean {
  if (models.length === 0) return true;
  return listed ? false : preset.discover;
}

function normalizeAlias(raw: RawAlias): AliasConfig {
  return { name: raw.name, targets: raw.targets.map((target) => ({ provider: target.provider, model: target.model })) };
}

function dropEmpty(keys: readonly string[]): string[] {
  return [...new Set(keys.filter((key) => key !== ''))];
}

export { deepFreeze } from './freeze.ts';

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
