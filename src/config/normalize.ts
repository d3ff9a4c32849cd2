// Raw file → GatewayConfig. `checkSemantics` holds the rules a schema cannot express (names that
// must be unique or exist, URLs, presets); it tolerates malformed input so that it can run next to
// schema validation and every problem is reported in one pass. `normalizeConfig` runs only on
// input that passed both.
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { genericOpenAI, presets, type Preset } from '../providers/presets/index.ts';
import {
  AGENT_CLI_COMMANDS, AGENT_CLI_TYPES, DEFAULT_AGENT_CLI, DEFAULT_AFFINITY, DEFAULT_COOLDOWNS, DEFAULT_DISCOVER_INTERVAL_S, DEFAULT_HEALTH_CHECK, DEFAULT_KEY_STRATEGY, DEFAULT_UNSUPPORTED_TOOLS,
  DEFAULT_LOGGING, DEFAULT_MEDIA, DEFAULT_RESPONSE_CACHE, DEFAULT_POOL, DEFAULT_RETRY, DEFAULT_RETRY_BUDGET, DEFAULT_ROUTING, DEFAULT_STATE, DEFAULT_STORAGE, DEFAULT_STRATEGY,
  DEFAULT_TIMEOUTS, DEFAULT_WEIGHT, defaultServerConfig,
} from './defaults.ts';
import type { PathSegment } from './interpolate.ts';
import { normalizeOrigin } from '../util/origin.ts';
import { suggest, type PendingProblem } from './problems.ts';
import { deepFreeze as freeze } from './freeze.ts';
import { checkAuth, hasClientKeys, hasLimits, normalizeAuth } from './normalize-auth.ts';
import type { RawAlias, RawConfig, RawPrice, RawProvider, RawRouting } from './schema.ts';
import type {
  AgentCliKind, AliasConfig, AliasTarget, AutoRule, GatewayConfig, PluginConfig, PriceOverride, PriceSettings, ProviderCapabilities, ProviderConfig, ResponseCacheConfig, RetrySettings, RoutingConfig, StorageConfig, TargetSupports, TimeoutSettings,
} from './types.ts';
import { isLoopbackHost } from '../util/loopback.ts';

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

export { isLoopbackHost };

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
  const suggestion = suggest(type, ['openai', ...names, ...AGENT_CLI_TYPES]);
  const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
  return `unknown type '${type}'; expected 'openai', one of the presets: ${names.join(', ')}, or an agent CLI: ${AGENT_CLI_TYPES.join(', ')}${hint}`;
}

/** `type` names an agent CLI (claude-code, codex, gemini-cli, opencode). */
export function isAgentCliType(type: unknown): type is AgentCliKind {
  return typeof type === 'string' && (AGENT_CLI_TYPES as readonly string[]).includes(type);
}

/** Keys of an HTTP provider that mean nothing for an agent CLI, which has no endpoint nor credentials of its own. */
const HTTP_ONLY_KEYS = ['api_key', 'api_keys', 'key_strategy', 'headers', 'pool', 'capabilities', 'health_check'] as const;
/** Keys that only an agent CLI takes. */
const AGENT_CLI_KEYS = ['command', 'args', 'env', 'mode', 'concurrency', 'queue_size', 'queue_timeout_ms', 'unsupported_params'] as const;

/** What an agent-CLI provider may not combine; `hasClientKeys`: `auth.keys` holds a non-empty key. */
function checkAgentCli(provider: Record<string, unknown>, at: (...rest: PathSegment[]) => PathSegment[], hasClientKeys: boolean, problems: PendingProblem[]): void {
  const type = provider.type as AgentCliKind;
  const name = typeof provider.name === 'string' ? provider.name : type;
  for (const key of HTTP_ONLY_KEYS) {
    if (provider[key] !== undefined) problems.push({ path: at(key), key: true, message: `does not apply to an agent CLI (type ${type}): the CLI uses its own login and talks to its vendor itself` });
  }
  if (provider.base_url !== undefined && type !== 'opencode') {
    problems.push({ path: at('base_url'), key: true, message: `does not apply to type ${type} (only opencode can use a running server); use command and args to choose what runs` });
  }
  if (provider.mode === 'agent' && !hasClientKeys) {
    problems.push({
      path: at('mode'),
      message: `'agent' lets provider '${name}' use its tools on this machine (files, commands), so it needs client keys (auth.keys): only callers holding a key may make it act. Add keys, or use mode: llm`,
    });
  }
  for (const variable of Object.keys(record(provider.env) ?? {})) {
    if (variable === '' || variable.includes('=') || variable.includes('\0')) problems.push({ path: at('env', variable), key: true, message: 'is not a valid environment variable name' });
  }
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
  const origins = record(server?.cors)?.allowed_origins;
  list(origins).forEach((origin, index) => {
    if (typeof origin === 'string' && origin.trim() !== '' && normalizeOrigin(origin.trim()) === undefined) {
      problems.push({ path: ['server', 'cors', 'allowed_origins', index], message: `'${origin}' is not an origin; write scheme://host[:port] (e.g. http://localhost:3000), 'null' or '*'` });
    }
  });
  if (server !== undefined && typeof server.request_timeout_ms === 'number' && server.request_timeout_ms > 0) {
    const headers = typeof server.headers_timeout_ms === 'number' ? server.headers_timeout_ms : defaultServerConfig.headersTimeoutMs;
    if (server.request_timeout_ms < headers) {
      problems.push({ path: ['server', 'request_timeout_ms'], message: `must be at least server.headers_timeout_ms (${headers}), or 0 for no limit: the whole request includes its headers` });
    }
  }
  const providerNames = new Map<string, number>();
  const clientKeys = hasClientKeys(root.auth);
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
    if (isAgentCliType(provider.type)) {
      checkAgentCli(provider, at, clientKeys, problems);
      return;
    }
    for (const key of AGENT_CLI_KEYS) {
      if (provider[key] !== undefined) problems.push({ path: at(key), key: true, message: `applies to agent CLIs only (type ${AGENT_CLI_TYPES.join(', ')})` });
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
    const checkTargets = (targets: unknown, at: PathSegment[]) => {
      list(targets).forEach((target, targetIndex) => {
        const provider = record(target)?.provider;
        if (typeof provider !== 'string' || provider === '' || providerNames.has(provider)) return;
        problems.push({ path: [...at, targetIndex, 'provider'], message: missingProviderMessage(provider, [...providerNames.keys()]) });
      });
      const weights = list(targets).map((target) => record(target)?.weight);
      if (weights.length > 0 && weights.every((weight) => weight === 0)) {
        problems.push({ path: at, message: 'at least one target needs a weight above 0' });
      }
    };
    if (alias.strategy === 'auto') {
      if (alias.targets !== undefined) problems.push({ path: ['models', index, 'targets'], key: true, message: 'an auto alias has `tiers` instead (each with its own targets)' });
      if (alias.tiers === undefined) problems.push({ path: ['models', index], message: '`strategy: auto` needs `tiers`: a list of { name, targets }, cheapest to strongest' });
      const tierNames = new Map<string, number>();
      list(alias.tiers).forEach((tier, tierIndex) => {
        const name = record(tier)?.name;
        if (typeof name === 'string') {
          const first = tierNames.get(name);
          if (first !== undefined) problems.push({ path: ['models', index, 'tiers', tierIndex, 'name'], message: `'${name}' is already used by tiers[${first}]` });
          else tierNames.set(name, tierIndex);
        }
        checkTargets(record(tier)?.targets, ['models', index, 'tiers', tierIndex, 'targets']);
      });
    } else {
      if (alias.targets === undefined) problems.push({ path: ['models', index, 'targets'], message: 'is required' });
      for (const key of ['tiers', 'rules', 'classifier']) {
        if (alias[key] !== undefined) problems.push({ path: ['models', index, key], key: true, message: 'applies to `strategy: auto` only' });
      }
      checkTargets(alias.targets, ['models', index, 'targets']);
    }
  });
  // an auto alias's tiers are routes named `<alias>@<tier>`: no alias may be named so too
  list(root.models).forEach((item, index) => {
    const alias = record(item);
    if (alias?.strategy !== 'auto' || typeof alias.name !== 'string') return;
    list(alias.tiers).forEach((tier, tierIndex) => {
      const name = record(tier)?.name;
      if (typeof name === 'string' && aliasNames.has(`${alias.name}@${name}`)) problems.push({ path: ['models', index, 'tiers', tierIndex, 'name'], message: `its route '${alias.name}@${name}' is the name of models[${aliasNames.get(`${alias.name}@${name}`)}]` });
    });
  });

  // Model names an alias hands requests on to; needs every alias name, so after the loop above.
  const known = { aliases: [...aliasNames.keys()], providers: [...providerNames.keys()] };
  checkAuth(root.auth, { aliases: known.aliases, providers: providerModels(root.providers) }, problems);
  list(root.models).forEach((item, index) => {
    const alias = record(item);
    if (alias === undefined) return;
    const self = typeof alias.name === 'string' ? alias.name : undefined;
    if (Array.isArray(alias.fallbacks)) {
      alias.fallbacks.forEach((name, fallbackIndex) => {
        const message = typeof name === 'string' && name !== '' ? routeTargetProblem(name, self, known) : undefined;
        if (message !== undefined) problems.push({ path: ['models', index, 'fallbacks', fallbackIndex], message });
      });
    }
    const overflow = alias.on_context_overflow;
    const message = typeof overflow === 'string' && overflow !== '' ? routeTargetProblem(overflow, self, known) : undefined;
    if (message !== undefined) problems.push({ path: ['models', index, 'on_context_overflow'], message });
    if (alias.strategy === 'auto') checkAutoRules(alias, index, self, known, problems);
  });

  const routing = record(root.routing);
  const retry = record(routing?.retry);
  const inherited: Inherited = {
    backoff_ms: { value: DEFAULT_RETRY.backoffMs, from: 'the default' },
    max_backoff_ms: { value: DEFAULT_RETRY.maxBackoffMs, from: 'the default' },
  };
  checkOrder(problems, ['routing', 'retry'], retry, 'backoff_ms', 'max_backoff_ms', inherited);
  const fromRouting: Inherited = { ...inherited };
  for (const key of ['backoff_ms', 'max_backoff_ms']) {
    const value = retry?.[key];
    if (typeof value === 'number') fromRouting[key] = { value, from: 'from routing.retry' };
  }
  list(root.models).forEach((item, index) => {
    checkOrder(problems, ['models', index, 'retry'], record(record(item)?.retry), 'backoff_ms', 'max_backoff_ms', fromRouting);
  });
  const cooldowns = record(routing?.cooldowns);
  const seconds = (ms: number) => ({ value: ms / 1000, from: 'the default' });
  checkOrder(problems, ['routing', 'cooldowns'], cooldowns, 'rate_limit_s', 'rate_limit_max_s', {
    rate_limit_s: seconds(DEFAULT_COOLDOWNS.rateLimitMs),
    rate_limit_max_s: seconds(DEFAULT_COOLDOWNS.rateLimitMaxMs),
  });
  checkOrder(problems, ['routing', 'cooldowns'], cooldowns, 'eject_s', 'eject_max_s', {
    eject_s: seconds(DEFAULT_COOLDOWNS.ejectMs),
    eject_max_s: seconds(DEFAULT_COOLDOWNS.ejectMaxMs),
  });
  if (typeof routing?.session_header === 'string' && routing.session_header !== '' && !HEADER_NAME.test(routing.session_header)) {
    problems.push({ path: ['routing', 'session_header'], message: 'is not a valid HTTP header name' });
  }
  return problems;
}

/** Each provider's model names and patterns (its own, else its preset's) and whether it discovers more. */
function providerModels(providers: unknown): Map<string, { models: readonly string[]; discover: boolean }> {
  const found = new Map<string, { models: readonly string[]; discover: boolean }>();
  for (const item of list(providers)) {
    const provider = record(item);
    if (provider === undefined || typeof provider.name !== 'string' || typeof provider.type !== 'string') continue;
    const listed = Array.isArray(provider.models) ? provider.models.filter((model): model is string => typeof model === 'string') : undefined;
    let models: readonly string[];
    let discover: boolean;
    if (isAgentCliType(provider.type)) {
      models = listed ?? [];
      discover = models.length === 0;
    } else {
      const preset = resolvePreset(provider.type, typeof provider.base_url === 'string' ? provider.base_url : undefined)?.preset;
      models = listed ?? preset?.models ?? [];
      discover = preset === undefined ? true : defaultDiscover(models, listed !== undefined, preset);
    }
    if (typeof provider.discover === 'boolean') discover = provider.discover;
    found.set(provider.name, { models, discover });
  }
  return found;
}

/** Values a section inherits for the keys it does not set, and where they come from. */
type Inherited = Record<string, { value: number; from: string }>;

/**
 * `high` must not be below `low`, once each takes its inherited value when not given. Reported at
 * a key the section sets (a conflict between inherited values alone belongs to where they come from).
 */
function checkOrder(problems: PendingProblem[], at: PathSegment[], section: Record<string, unknown> | undefined, low: string, high: string, inherited: Inherited): void {
  const lowGiven = typeof section?.[low] === 'number';
  const highGiven = typeof section?.[high] === 'number';
  if (!lowGiven && !highGiven) return;
  const lowValue = lowGiven ? section![low] as number : inherited[low]!.value;
  const highValue = highGiven ? section![high] as number : inherited[high]!.value;
  if (highValue >= lowValue) return;
  if (highGiven) {
    problems.push({ path: [...at, high], message: `must be at least ${low} (${lowValue}${lowGiven ? '' : `, ${inherited[low]!.from}`})` });
  } else {
    problems.push({ path: [...at, low], message: `must not be above ${high} (${highValue}, ${inherited[high]!.from})` });
  }
}

/**
 * A fallback or overflow model: another alias, or `provider:model` / `provider/model` with a
 * configured provider (the forms the router resolves without depending on discovery). Undefined when fine.
 */
/** An auto alias's rules: one of `tier` (a tier of the alias) or `model` (another route), patterns that compile. */
function checkAutoRules(alias: Record<string, unknown>, index: number, self: string | undefined, known: { aliases: string[]; providers: string[] }, problems: PendingProblem[]): void {
  const tiers = list(alias.tiers).map((tier) => record(tier)?.name).filter((name): name is string => typeof name === 'string');
  const pattern = (value: unknown, path: PathSegment[]) => {
    if (typeof value !== 'string') return;
    const { source, flags } = regexOf(value);
    try {
      new RegExp(source, flags);
    } catch (error) {
      problems.push({ path, message: `is not a valid regular expression: ${(error as Error).message}` });
    }
  };
  const classifier = record(alias.classifier)?.model;
  if (typeof classifier === 'string' && classifier !== '') {
    const tierRoutes = tiers.map((tier) => `${self}@${tier}`);
    if (classifier === self || tierRoutes.includes(classifier)) problems.push({ path: ['models', index, 'classifier', 'model'], message: 'names this auto alias (or one of its tiers): the judge would route itself (a loop); name a small model, e.g. `provider:model`' });
    else {
      const problem = routeTargetProblem(classifier, self, known);
      if (problem !== undefined) problems.push({ path: ['models', index, 'classifier', 'model'], message: problem });
    }
  }
  list(alias.rules).forEach((item, ruleIndex) => {
    const rule = record(item);
    const at = (...rest: PathSegment[]): PathSegment[] => ['models', index, 'rules', ruleIndex, ...rest];
    const when = record(rule?.when);
    pattern(when?.regex, at('when', 'regex'));
    for (const [name, value] of Object.entries(record(when?.header) ?? {})) pattern(value, at('when', 'header', name));
    if (when !== undefined && Object.keys(when).filter((key) => key !== 'on').length === 0) problems.push({ path: at('when'), message: 'needs at least one condition (regex, min_prompt_tokens, max_prompt_tokens, has_images, has_tools, header, key, team)' });
    const then = record(rule?.then);
    if (then === undefined) return;
    if ((then.tier === undefined) === (then.model === undefined)) {
      problems.push({ path: at('then'), message: 'needs exactly one of `tier` (a tier of this alias) or `model` (another alias or provider:model)' });
      return;
    }
    if (typeof then.tier === 'string' && !tiers.includes(then.tier)) {
      const close = suggest(then.tier, tiers);
      problems.push({ path: at('then', 'tier'), message: `no tier named '${then.tier}'${close !== undefined ? ` (did you mean '${close}'?)` : ''}; tiers: ${tiers.join(', ')}` });
    }
    if (typeof then.model === 'string') {
      if (then.model === self) problems.push({ path: at('then', 'model'), message: 'names this alias itself (a loop)' });
      else {
        const problem = routeTargetProblem(then.model, self, known);
        if (problem !== undefined) problems.push({ path: at('then', 'model'), message: problem });
      }
    }
  });
}

function routeTargetProblem(name: string, self: string | undefined, known: { aliases: string[]; providers: string[] }): string | undefined {
  if (name === self) return 'an alias cannot fall back to itself';
  if (known.aliases.includes(name)) return undefined;
  const separators = [name.indexOf(':'), name.indexOf('/')].filter((at) => at > 0);
  for (const at of separators) {
    if (known.providers.includes(name.slice(0, at))) {
      return at < name.length - 1 ? undefined : `names no model; write ${name}<model>`;
    }
  }
  const others = known.aliases.filter((alias) => alias !== self);
  const alias = suggest(name, others);
  if (alias !== undefined) return `no alias named '${name}' (did you mean '${alias}'?)`;
  if (known.providers.includes(name)) return `'${name}' is a provider, not a model; write ${name}:<model>`;
  if (separators.length > 0) {
    const provider = name.slice(0, Math.min(...separators));
    return `no alias named '${name}', and ${missingProviderMessage(provider, known.providers)}`;
  }
  const aliases = others.length === 0 ? 'no other aliases are configured' : `aliases: ${others.join(', ')}`;
  return `no alias named '${name}'; expected an alias or provider:model (${aliases})`;
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
  const auth = normalizeAuth(raw.auth ?? {}, warnings);
  const routing = normalizeRouting(raw.routing ?? {});
  const config: GatewayConfig = {
    source,
    server: {
      host: server.host ?? defaultServerConfig.host,
      port: server.port ?? defaultServerConfig.port,
      workers: server.workers ?? defaultServerConfig.workers,
      bodyLimitBytes: server.body_limit === undefined ? defaultServerConfig.bodyLimitBytes : parseBodyLimit(server.body_limit),
      keepAliveTimeoutMs: server.keep_alive_timeout_ms ?? defaultServerConfig.keepAliveTimeoutMs,
      drainTimeoutMs: server.drain_timeout_ms ?? defaultServerConfig.drainTimeoutMs,
      allowedHosts: dropEmpty(server.allowed_hosts ?? []).map((name) => name.trim()),
      cors: { allowedOrigins: dropEmpty(server.cors?.allowed_origins ?? []).map((origin) => normalizeOrigin(origin.trim())!) },
      headersTimeoutMs: server.headers_timeout_ms ?? defaultServerConfig.headersTimeoutMs,
      requestTimeoutMs: server.request_timeout_ms ?? defaultServerConfig.requestTimeoutMs,
      ...(server.max_connections !== undefined ? { maxConnections: server.max_connections } : {}),
    },
    auth,
    providers: (raw.providers ?? []).map((provider, index) => normalizeProvider(provider, index, warnings)),
    models: (raw.models ?? []).flatMap((alias) => (alias.strategy === 'auto' ? autoAliases(alias, routing.retry) : [normalizeAlias(alias, routing.retry)])),
    routing,
    logging: {
      level: raw.logging?.level ?? DEFAULT_LOGGING.level,
      format: raw.logging?.format ?? DEFAULT_LOGGING.format,
      ...(raw.logging?.bodies?.enabled === true ? { bodies: { maxBytes: raw.logging.bodies.max_bytes ?? 64 * 1024, keep: raw.logging.bodies.keep ?? 200 } } : {}),
      ...(raw.logging?.recent_requests !== undefined ? { recentRequests: raw.logging.recent_requests } : {}),
    },
    media: {
      allowPrivateNetworks: raw.media?.allow_private_networks ?? DEFAULT_MEDIA.allowPrivateNetworks,
      maxBytes: raw.media?.max_bytes ?? DEFAULT_MEDIA.maxBytes,
      timeoutMs: raw.media?.timeout_ms ?? DEFAULT_MEDIA.timeoutMs,
    },
    storage: normalizeStorage(raw.storage ?? {}, source),
    prices: normalizePrices(raw.prices ?? {}, new Set((raw.providers ?? []).map((provider) => provider.name))),
    cache: normalizeCache(raw.cache ?? {}),
    state: {
      keyPrefix: raw.state?.key_prefix ?? DEFAULT_STATE.keyPrefix,
      timeoutMs: raw.state?.timeout_ms ?? DEFAULT_STATE.timeoutMs,
      ...(raw.state?.redis !== undefined && raw.state.redis !== '' ? { redis: raw.state.redis } : {}),
    },
    plugins: normalizePlugins(raw.plugins ?? [], source),
  };
  if (config.server.workers !== 1 && config.providers.some((provider) => provider.agentCli !== undefined)) {
    warnings.push({ path: ['server', 'workers'], message: "each worker process runs its own agent-CLI workers and queue, so an agent CLI's `concurrency` applies per worker (your subscription sees workers × concurrency turns at once)" });
  }
  if (config.server.workers !== 1 && hasLimits(auth) && config.state.redis === undefined) {
    warnings.push({ path: ['server', 'workers'], message: 'each worker process keeps its own rate-limit counters and budget holds, so rpm, tpm and max_concurrent apply per worker (budgets are read from the shared usage store only at start); `state.redis` shares them' });
  }
  if (raw.tracing !== undefined) {
    config.tracing = {
      endpoint: raw.tracing.endpoint,
      serviceName: raw.tracing.service_name ?? 'switchyard',
      sampleRatio: raw.tracing.sample_ratio ?? 1,
      headers: { ...raw.tracing.headers },
    };
  }
  return { config: freeze(config), warnings };
}

function normalizeCache(raw: NonNullable<RawConfig['cache']>): ResponseCacheConfig {
  const cache: ResponseCacheConfig = { maxBytes: raw.max_bytes ?? DEFAULT_RESPONSE_CACHE.maxBytes, maxEntryBytes: raw.max_entry_bytes ?? DEFAULT_RESPONSE_CACHE.maxEntryBytes };
  if (raw.ttl_s !== undefined && raw.ttl_s > 0) cache.route = { ttlSeconds: raw.ttl_s, perKey: raw.per_key ?? false };
  return cache;
}

function normalizeStorage(raw: NonNullable<RawConfig['storage']>, source: string): StorageConfig {
  const storage: StorageConfig = { enabled: raw.enabled ?? DEFAULT_STORAGE.enabled, retentionDays: raw.retention_days ?? 0 };
  if (raw.path !== undefined) storage.path = storagePath(raw.path, source);
  if (raw.url !== undefined && raw.url !== '') storage.url = raw.url;
  return storage;
}

/** A `use:` without a slash or a file extension names a built-in plugin. */
export function isBuiltinPlugin(use: string): boolean {
  return !use.includes('/') && !use.includes('\\') && !/\.(?:[cm]?[jt]s|lua)$/i.test(use);
}

function normalizePlugins(raw: NonNullable<RawConfig['plugins']>, source: string): PluginConfig[] {
  const plugins: PluginConfig[] = [];
  raw.forEach((entry, index) => {
    if (entry.enabled === false) return;
    const builtin = isBuiltinPlugin(entry.use);
    plugins.push({
      index,
      use: builtin ? entry.use : storagePath(entry.use, source),
      builtin,
      config: entry.config ?? {},
      routes: entry.routes ?? [],
      keys: entry.keys ?? [],
      onError: entry.on_error,
      isolate: entry.isolate ?? false,
      timeoutMs: entry.timeout_ms ?? 50,
      streamTimeoutMs: entry.stream_timeout_ms ?? 1,
      memoryLimitMb: entry.memory_limit_mb ?? 64,
    });
  });
  return plugins;
}

/** `~/x` from the home directory; a relative path from the config file's directory (the working directory without a file). */
export function storagePath(path: string, source: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  if (isAbsolute(path)) return path;
  return source === 'zero-config' ? resolve(path) : resolve(dirname(source), path);
}

/**
 * `provider:model` keys price one provider only — when the prefix is a configured provider, as in
 * routing, so an Ollama name such as `qwen3:8b` stays a model name.
 */
function normalizePrices(raw: Record<string, RawPrice>, providers: ReadonlySet<string>): PriceOverride[] {
  return Object.entries(raw).map(([key, value]) => {
    const price: PriceSettings = { input: value.input, output: value.output };
    if (value.cached_input !== undefined) price.cachedInput = value.cached_input;
    if (value.cache_write !== undefined) price.cacheWrite = value.cache_write;
    if (value.reasoning !== undefined) price.reasoning = value.reasoning;
    const colon = key.indexOf(':');
    if (colon > 0 && colon < key.length - 1 && providers.has(key.slice(0, colon))) {
      return { provider: key.slice(0, colon), model: key.slice(colon + 1), price };
    }
    return { model: key, price };
  });
}

/** Seconds in the file, milliseconds in the snapshot; rounded, as fractions of a second are allowed. */
function ms(seconds: number): number {
  return Math.round(seconds * 1000);
}

function normalizeRouting(raw: RawRouting): RoutingConfig {
  const cooldowns = raw.cooldowns ?? {};
  const routing: RoutingConfig = {
    retry: mergeRetry(DEFAULT_RETRY, raw.retry),
    maxAttempts: raw.max_attempts ?? DEFAULT_ROUTING.maxAttempts,
    retryBudget: {
      ratio: raw.retry_budget?.ratio ?? DEFAULT_RETRY_BUDGET.ratio,
      minPerSecond: raw.retry_budget?.min_per_second ?? DEFAULT_RETRY_BUDGET.minPerSecond,
    },
    cooldowns: {
      authMs: cooldowns.auth_s === undefined ? DEFAULT_COOLDOWNS.authMs : ms(cooldowns.auth_s),
      notFoundMs: cooldowns.not_found_s === undefined ? DEFAULT_COOLDOWNS.notFoundMs : ms(cooldowns.not_found_s),
      rateLimitMs: cooldowns.rate_limit_s === undefined ? DEFAULT_COOLDOWNS.rateLimitMs : ms(cooldowns.rate_limit_s),
      rateLimitMaxMs: cooldowns.rate_limit_max_s === undefined ? DEFAULT_COOLDOWNS.rateLimitMaxMs : ms(cooldowns.rate_limit_max_s),
      ejectAfter: cooldowns.eject_after ?? DEFAULT_COOLDOWNS.ejectAfter,
      ejectMs: cooldowns.eject_s === undefined ? DEFAULT_COOLDOWNS.ejectMs : ms(cooldowns.eject_s),
      ejectMaxMs: cooldowns.eject_max_s === undefined ? DEFAULT_COOLDOWNS.ejectMaxMs : ms(cooldowns.eject_max_s),
      maxEjectionPercent: cooldowns.max_ejection_percent ?? DEFAULT_COOLDOWNS.maxEjectionPercent,
      panicThresholdPercent: cooldowns.panic_threshold_percent ?? DEFAULT_COOLDOWNS.panicThresholdPercent,
      successRateThresholdPercent: cooldowns.success_rate_threshold_percent ?? DEFAULT_COOLDOWNS.successRateThresholdPercent,
      successRateRequestVolume: cooldowns.success_rate_request_volume ?? DEFAULT_COOLDOWNS.successRateRequestVolume,
    },
    sessionTtlMs: raw.session_ttl_s === undefined ? DEFAULT_ROUTING.sessionTtlMs : ms(raw.session_ttl_s),
  };
  if (raw.session_header !== undefined) routing.sessionHeader = raw.session_header.toLowerCase();
  return routing;
}

/** Key by key: what `raw` sets, else `base`. */
function mergeRetry(base: Readonly<RetrySettings>, raw: RawRouting['retry']): RetrySettings {
  return {
    attempts: raw?.attempts ?? base.attempts,
    backoffMs: raw?.backoff_ms ?? base.backoffMs,
    maxBackoffMs: raw?.max_backoff_ms ?? base.maxBackoffMs,
  };
}

function normalizeProvider(raw: RawProvider, index: number, warnings: PendingProblem[]): ProviderConfig {
  if (isAgentCliType(raw.type)) return normalizeAgentCli(raw, raw.type, index, warnings);
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
    timeouts: timeoutsOf(raw.timeouts),
    pool: {
      connections: raw.pool?.connections ?? DEFAULT_POOL.connections,
      keepAliveMs: raw.pool?.keep_alive_ms ?? DEFAULT_POOL.keepAliveMs,
    },
    capabilities: capabilitiesOf(preset.capabilities, raw.capabilities),
    keyStrategy: raw.key_strategy ?? DEFAULT_KEY_STRATEGY,
    unsupportedTools: raw.unsupported_tools ?? DEFAULT_UNSUPPORTED_TOOLS,
  };
  if (resolved.name !== undefined) provider.preset = resolved.name;
  if (raw.health_check !== undefined) {
    provider.healthCheck = {
      intervalMs: raw.health_check.interval_s === undefined ? DEFAULT_HEALTH_CHECK.intervalMs : ms(raw.health_check.interval_s),
      timeoutMs: raw.health_check.timeout_ms ?? DEFAULT_HEALTH_CHECK.timeoutMs,
    };
  }
  return provider;
}

function timeoutsOf(raw: RawProvider['timeouts']): TimeoutSettings {
  return {
    connectMs: raw?.connect_ms ?? DEFAULT_TIMEOUTS.connectMs,
    firstByteMs: raw?.first_byte_ms ?? DEFAULT_TIMEOUTS.firstByteMs,
    idleMs: raw?.idle_ms ?? DEFAULT_TIMEOUTS.idleMs,
    totalMs: raw?.total_ms ?? DEFAULT_TIMEOUTS.totalMs,
  };
}

/**
 * An agent CLI: no endpoint, credentials or pool of its own (the CLI's login is its own); it serves
 * chat only (every generation dialect decodes to it). With no `models`, the CLI lists them.
 */
function normalizeAgentCli(raw: RawProvider, type: AgentCliKind, index: number, warnings: PendingProblem[]): ProviderConfig {
  const models = raw.models ?? [];
  if (raw.timeouts?.connect_ms !== undefined) warnings.push({ path: ['providers', index, 'timeouts', 'connect_ms'], key: true, message: 'has no effect on an agent CLI (there is no connection to make)' });
  const provider: ProviderConfig = {
    name: raw.name,
    dialect: 'agent-cli',
    agentCli: {
      type,
      command: raw.command ?? AGENT_CLI_COMMANDS[type],
      args: [...(raw.args ?? [])],
      env: { ...raw.env },
      mode: raw.mode ?? DEFAULT_AGENT_CLI.mode,
      concurrency: raw.concurrency ?? DEFAULT_AGENT_CLI.concurrency,
      queueSize: raw.queue_size ?? DEFAULT_AGENT_CLI.queueSize,
      queueTimeoutMs: raw.queue_timeout_ms ?? DEFAULT_AGENT_CLI.queueTimeoutMs,
      ...(raw.base_url !== undefined ? { baseUrl: raw.base_url.replace(/\/+$/, '') } : {}),
      ...(raw.unsupported_params !== undefined ? { unsupportedParams: raw.unsupported_params } : {}),
    },
    baseUrl: '',
    apiKeys: [],
    auth: { header: 'authorization', prefix: 'Bearer ' },
    models,
    discover: raw.discover ?? models.length === 0,
    discoverIntervalMs: (raw.discover_interval_s ?? DEFAULT_DISCOVER_INTERVAL_S) * 1000,
    headers: {},
    timeouts: timeoutsOf(raw.timeouts),
    pool: { ...DEFAULT_POOL },
    capabilities: { chat: true, completions: false, embeddings: false, responses: false },
    keyStrategy: DEFAULT_KEY_STRATEGY,
    unsupportedTools: raw.unsupported_tools ?? DEFAULT_UNSUPPORTED_TOOLS,
  };
  return provider;
}

/** The preset's capabilities, with what the config sets over them (YAML names are snake_case). */
function capabilitiesOf(preset: Readonly<ProviderCapabilities>, raw: RawProvider['capabilities']): ProviderCapabilities {
  if (raw === undefined) return { ...preset };
  const { image_edits: imageEdits, ...rest } = raw;
  return { ...preset, ...definedOnly({ ...rest, imageEdits }) };
}

/**
 * A provider with no model list can only be reached through discovery, so it discovers. Listing
 * models is a statement of what to serve, so it turns the preset's discovery default off.
 */
export function defaultDiscover(models: readonly string[], listed: boolean, preset: Preset): boolean {
  if (models.length === 0) return true;
  return listed ? false : preset.discover;
}

/**
 * `strategy: auto`: each tier becomes a hidden alias of its own (`<alias>@<tier>`, fill-first, the
 * next tier up as its fallback: a failure before the first byte escalates one tier, session
 * affinity unless the alias sets `affinity: none`), with the alias's retry, timeouts and policies; the alias itself routes like its strongest tier until the
 * route phase picks a tier (pipeline/auto-route.ts).
 */
function autoAliases(raw: RawAlias, retry: Readonly<RetrySettings>): AliasConfig[] {
  const tiers = raw.tiers ?? [];
  const routeOf = (tier: string) => `${raw.name}@${tier}`;
  const hidden = tiers.map((tier, index) => ({
    // a session stays on its tier's model (prompt caching) unless the alias says `affinity: none`
    ...normalizeAlias({ ...raw, name: routeOf(tier.name), strategy: 'fill-first', targets: tier.targets, fallbacks: index < tiers.length - 1 ? [routeOf(tiers[index + 1]!.name)] : (raw.fallbacks ?? []), affinity: raw.affinity ?? 'session' }, retry),
    hidden: true,
  }));
  const strongest = tiers.at(-1)!;
  const alias: AliasConfig = {
    ...normalizeAlias({ ...raw, strategy: 'fill-first', targets: strongest.targets }, retry),
    auto: {
      tiers: tiers.map((tier) => ({ name: tier.name, route: routeOf(tier.name), ...(tier.description !== undefined ? { description: tier.description } : {}) })),
      rules: (raw.rules ?? []).map((rule) => autoRule(rule, tiers.map((tier) => tier.name))),
      ...(raw.classifier !== undefined ? { classifier: { model: raw.classifier.model, timeoutMs: raw.classifier.timeout_ms ?? 300 } } : {}),
    },
  };
  return [alias, ...hidden];
}

/** A leading `(?i)`-style group (as other routers write their rules) becomes JavaScript flags. */
export function regexOf(pattern: string): { source: string; flags: string } {
  const inline = /^\(\?([imsu]+)\)/.exec(pattern);
  if (inline === null) return { source: pattern, flags: 'u' };
  return { source: pattern.slice(inline[0].length), flags: [...new Set([...inline[1]!, 'u'])].join('') };
}

function autoRule(raw: NonNullable<RawAlias['rules']>[number], tiers: readonly string[]): AutoRule {
  const when: AutoRule['when'] = {};
  if (raw.when.regex !== undefined) when.regex = { ...regexOf(raw.when.regex), on: raw.when.on ?? 'user' };
  if (raw.when.min_prompt_tokens !== undefined) when.minPromptTokens = raw.when.min_prompt_tokens;
  if (raw.when.max_prompt_tokens !== undefined) when.maxPromptTokens = raw.when.max_prompt_tokens;
  if (raw.when.has_images !== undefined) when.hasImages = raw.when.has_images;
  if (raw.when.has_tools !== undefined) when.hasTools = raw.when.has_tools;
  if (raw.when.header !== undefined) when.headers = Object.entries(raw.when.header).map(([name, pattern]) => { const { source, flags } = regexOf(pattern); return [name.toLowerCase(), source, flags]; });
  if (raw.when.key !== undefined) when.keys = [...raw.when.key];
  if (raw.when.team !== undefined) when.teams = [...raw.when.team];
  return { when, then: raw.then.tier !== undefined ? { tier: tiers.indexOf(raw.then.tier) } : { model: raw.then.model! } };
}

function normalizeAlias(raw: RawAlias, retry: Readonly<RetrySettings>): AliasConfig {
  const alias: AliasConfig = {
    name: raw.name,
    targets: (raw.targets ?? []).map((target) => {
      const normalized: AliasTarget = { provider: target.provider, model: target.model, weight: target.weight ?? DEFAULT_WEIGHT };
      if (target.context_window !== undefined) normalized.contextWindow = target.context_window;
      if (target.supports !== undefined) {
        const supports = definedOnly<TargetSupports>({ images: target.supports.images, jsonSchema: target.supports.json_schema, tools: target.supports.tools });
        if (Object.keys(supports).length > 0) normalized.supports = supports;
      }
      return normalized;
    }),
    strategy: raw.strategy === undefined || raw.strategy === 'auto' ? DEFAULT_STRATEGY : raw.strategy,
    fallbacks: [...(raw.fallbacks ?? [])],
    retry: mergeRetry(retry, raw.retry),
    affinity: raw.affinity ?? DEFAULT_AFFINITY,
  };
  if (raw.on_context_overflow !== undefined) alias.onContextOverflow = raw.on_context_overflow;
  if (raw.unsupported_tools !== undefined) alias.unsupportedTools = raw.unsupported_tools;
  if (raw.unsupported_params !== undefined) alias.unsupportedParams = raw.unsupported_params;
  if (raw.cache !== undefined) alias.cache = { ttlSeconds: raw.cache.ttl_s, perKey: raw.cache.per_key ?? false };
  const timeouts = aliasTimeouts(raw.timeouts);
  if (timeouts !== undefined) alias.timeouts = timeouts;
  return alias;
}

/** Only the keys given: the rest stay the provider's. Undefined when none is given. */
function aliasTimeouts(raw: RawAlias['timeouts']): Partial<TimeoutSettings> | undefined {
  if (raw === undefined) return undefined;
  const timeouts = definedOnly<Partial<TimeoutSettings>>({
    connectMs: raw.connect_ms,
    firstByteMs: raw.first_byte_ms,
    idleMs: raw.idle_ms,
    totalMs: raw.total_ms,
  });
  return Object.keys(timeouts).length === 0 ? undefined : timeouts;
}

function dropEmpty(keys: readonly string[]): string[] {
  return [...new Set(keys.filter((key) => key !== ''))];
}

export { deepFreeze } from './freeze.ts';

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
