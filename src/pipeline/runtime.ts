// A runtime is everything built from one config snapshot: endpoints with their pools, the
// router, client auth, the secret list for redaction. Hot reload builds a new runtime and swaps
// it in; requests in flight keep the one they started with, whose pools close once idle.
import type { ModelCatalog, ProviderAdapter, ProviderContext, Wire } from '../canonical/adapters.ts';
import type { GatewayConfig, ProviderCapabilities, ProviderConfig } from '../config/types.ts';
import { passwordOf } from '../util/url-password.ts';
import { DEFAULT_STORE_FAILURE, DEFAULT_TPM_MAX_TOKENS } from '../config/defaults.ts';
import type { PluginHost } from './plugin-host.ts';
import type { AutoRouteHandlers } from './auto-route.ts';
import type { Logger } from '../observability/logger.ts';
import { PriceTable } from '../observability/pricing.ts';
import { Router } from '../routing/router.ts';
import { fetchModelList } from '../upstream/discovery.ts';
import { Endpoint } from '../upstream/endpoint.ts';
import { MediaFetcher } from '../upstream/media.ts';
import { ClientAuth } from './auth.ts';
import { AdminAuth } from './admin-auth.ts';
import type { UiSessions } from './ui-sessions.ts';
import type { KeyStore } from '../governance/key-store.ts';
import { BrowserGuard } from '../server/browser-guard.ts';
import { hash } from 'node:crypto';
import type { HealthStore, RetryBudgetStore, SessionStore, StateStores } from '../state/interfaces.ts';
import { redactText } from '../util/redact.ts';
import type { OwnExchanges } from './exchange.ts';
import { configKeyPolicies, enforces } from '../governance/key-policies.ts';
import { LimitEnforcer, type SoftBudgetEvent, type SpendReadiness } from '../governance/limit-enforcer.ts';
import type { KeyPolicy } from '../governance/policy.ts';
import { isLoopbackHost } from '../util/loopback.ts';

/** Builds the exchanges of a provider that runs its own (no HTTP endpoint), for one runtime. */
export type OwnProviderBuilder = (provider: ProviderConfig, config: GatewayConfig) => OwnExchanges;

export interface RuntimeDependencies {
  /** Provider adapters by dialect. */
  providerAdapters: ReadonlyMap<string, ProviderAdapter>;
  logger: Logger;
  /** The stores built by the composition root; health and the others outlive this runtime. */
  state: StateStores;
  /** The gateway's own keys (absent with `storage.enabled: false`); outlives this runtime. */
  keyStore?: KeyStore;
  /** Providers that run their own exchanges (agent CLIs), by their config's `dialect` (`agent-cli`). */
  ownProviders?: ReadonlyMap<string, OwnProviderBuilder>;
  /** The clock of limits and budgets (tests pass a fake one); Date.now by default. */
  now?: () => number;
  /** Whether budget spend could be read from the usage store (governance/budget-ledger.ts); always, when absent. */
  spendReadiness?: SpendReadiness;
  /** Told when a key or team crosses its soft budget threshold (after the log line): the metric counts it. */
  onSoftBudget?: (event: SoftBudgetEvent) => void;
  /** The dashboard's sessions (/ui), outliving this runtime; none: the management API ignores cookies. */
  uiSessions?: UiSessions;
  /** This config's plugins, loaded (plugins/load.ts) and hosted (plugin-host.ts); none without `plugins:`. */
  plugins?: PluginHost;
  /** The handlers of this config's auto aliases (auto-route.ts); none without `strategy: auto`. */
  autoRoute?: AutoRouteHandlers;
}

const ALWAYS_AVAILABLE: SpendReadiness = Object.freeze({ available: true });

/** A short non-secret fingerprint of a key, naming it in status pages (never the key). */
export function keyFingerprint(key: string): string {
  return hash('sha256', key, 'hex').slice(0, 8);
}

const DISCOVERY_TIMEOUT_MS = 5000;
/** A CLI may have to start (and log in) before it can list its models. */
const OWN_DISCOVERY_TIMEOUT_MS = 30_000;
/** Environment variables given to a provider's process whose values are treated as secrets (redacted). */
const SECRET_VARIABLE = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** The capability that gates each OpenAI wire; every other dialect's wires come with the dialect. */
const WIRE_CAPABILITY: Partial<Record<Wire, keyof ProviderCapabilities>> = {
  'openai-chat': 'chat',
  'openai-completions': 'completions',
  'openai-embeddings': 'embeddings',
  'openai-responses': 'responses',
  'openai-image-generations': 'images',
  'openai-image-edits': 'imageEdits',
  'openai-transcriptions': 'transcriptions',
  'openai-translations': 'translations',
  'openai-speech': 'speech',
  'openai-moderations': 'moderations',
  'openai-rerank': 'rerank',
};

/** Which of a dialect's native wires a configured provider may use, from its capabilities. */
function nativeWires(adapter: ProviderAdapter, capabilities: ProviderCapabilities): Set<Wire> {
  const wires = new Set<Wire>();
  for (const wire of adapter.nativeWires) {
    const capability = WIRE_CAPABILITY[wire];
    if (capability === undefined || capabilities[capability] === true) wires.add(wire);
  }
  return wires;
}

/** A configured provider reached over HTTP, ready to serve: its dialect adapter, endpoint and native wires. */
export interface HttpProviderRuntime {
  readonly kind: 'http';
  readonly name: string;
  readonly config: ProviderConfig;
  readonly adapter: ProviderAdapter;
  readonly endpoint: Endpoint;
  readonly wires: ReadonlySet<Wire>;
  readonly context: ProviderContext;
}

/** A configured provider that runs its own exchanges, with no HTTP endpoint (an agent CLI). */
export interface OwnProviderRuntime {
  readonly kind: 'own';
  readonly name: string;
  readonly config: ProviderConfig;
  readonly exchanges: OwnExchanges;
}

export type ProviderRuntime = HttpProviderRuntime | OwnProviderRuntime;

/** One provider's model discovery: how many models it lists now, or why it could not be asked. */
export interface DiscoveryResult {
  provider: string;
  /** The models it lists (after a failure: those it listed before, still in use). */
  models: number;
  error?: string;
}

export interface HealthCheckResult {
  ok: boolean;
  /** Epoch ms of the check. */
  at: number;
  error?: string;
}

export class Runtime {
  readonly config: GatewayConfig;
  readonly auth: ClientAuth;
  /** Who may use the management API (`auth.admin_keys`, else loopback only). */
  readonly admin: AdminAuth;
  /** Host, Origin and CORS checks, compiled from `server`. */
  readonly browserGuard: BrowserGuard;
  readonly providers = new Map<string, ProviderRuntime>();
  /** Every provider adapter of the build, by dialect (a pass-through answer is read back with its wire's). */
  readonly adapters: ReadonlyMap<string, ProviderAdapter>;
  /** Every credential in the config, for redaction of upstream text. */
  readonly secrets: readonly string[];
  router: Router;
  /** Downloads URL media for providers that take it inline only. */
  readonly media: MediaFetcher;
  /** Every store of the process (rate limits, spend and the response cache are there for what comes). */
  readonly state: StateStores;
  /** Passive health per (provider key, model); shared by every runtime of the process. */
  readonly health: HealthStore;
  /** The policy of each of `config.auth.keys` (undefined for a plain key), built at load. */
  readonly keyPolicies: readonly (KeyPolicy | undefined)[];
  /**
   * Enforces key and team limits: present when a key or team of the YAML has one, or when a key
   * store is open (its keys may gain limits at any time); its handlers are compiled only while
   * some key or team has limits (`limited`).
   */
  readonly limits: LimitEnforcer | undefined;
  /** The gateway's own keys (absent with `storage.enabled: false`); outlives this runtime. */
  readonly keyStore: KeyStore | undefined;
  /** Some key or team of the YAML has limits. */
  private readonly configLimited: boolean;
  /** Some key of the YAML has a cache setting. */
  private readonly configKeyCache: boolean;
  /** The clock of limits and budgets. */
  readonly now: () => number;
  /** Retries and fallbacks spend from this; rebuilt with each config. */
  readonly retryBudget: RetryBudgetStore;
  /** Session pins; rebuilt with each config (a pin is an index into this runtime's routes). */
  readonly sessions: SessionStore;
  /** Prices of this config (overrides, then the built-in list), for the cost of each answer. */
  readonly prices: PriceTable;
  /** The loaded plugins of this config, compiled into phase handlers; undefined without any. */
  readonly plugins: PluginHost | undefined;
  /** `model: auto`: this config's auto aliases, compiled; undefined without any. */
  readonly autoRoute: AutoRouteHandlers | undefined;
  /** Provider name → key fingerprints, in key order (`['']` for a keyless provider). */
  readonly keyIds = new Map<string, readonly string[]>();

  /** RouterState: USD per 1M input and output tokens of a target (an auto alias's tiers are ordered by it). */
  priceRank(provider: string, model: string): number | undefined {
    const price = this.prices.priceOf(provider, model);
    return price === undefined ? undefined : price.input + price.output;
  }
  /** The last active health check per provider (only those that configure one). */
  readonly healthChecks = new Map<string, HealthCheckResult>();
  private readonly logger: Logger;
  private readonly discovered = new Map<string, readonly string[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private catalogCache: { router: Router; catalog: ModelCatalog } | undefined = undefined;
  private refreshing: Promise<DiscoveryResult[]> | undefined = undefined;
  private closed = false;
  /** Requests that started on this runtime and have not finished. */
  private active = 0;
  private retired = false;

  constructor(config: GatewayConfig, dependencies: RuntimeDependencies) {
    this.config = config;
    this.logger = dependencies.logger;
    this.adapters = dependencies.providerAdapters;
    this.now = dependencies.now ?? Date.now;
    this.keyPolicies = configKeyPolicies(config.auth);
    this.auth = new ClientAuth(config.auth.keys, this.keyPolicies, dependencies.keyStore, isLoopbackHost(config.server.host) || config.auth.allowUnauthenticated);
    this.admin = new AdminAuth(config.auth.adminKeys, config.server.host, dependencies.uiSessions);
    this.browserGuard = new BrowserGuard({ host: config.server.host, allowedHosts: config.server.allowedHosts, allowedOrigins: config.server.cors.allowedOrigins });
    this.media = new MediaFetcher(config.media);
    this.state = dependencies.state;
    this.health = dependencies.state.health;
    this.retryBudget = dependencies.state.newRetryBudget(config.routing.retryBudget);
    this.sessions = dependencies.state.newSessions();
    this.prices = new PriceTable(config.prices, config.providers);
    this.plugins = dependencies.plugins;
    this.autoRoute = dependencies.autoRoute;
    this.keyStore = dependencies.keyStore;
    this.configLimited = this.keyPolicies.some(enforces);
    this.configKeyCache = this.keyPolicies.some((policy) => policy?.cache !== undefined && policy.cache.ttlSeconds > 0);
    this.limits = this.configLimited || this.keyStore !== undefined ? this.limitEnforcer(config, dependencies) : undefined;
    const secrets: string[] = [...config.auth.keys, ...config.auth.adminKeys];
    const storagePassword = passwordOf(config.storage.url);
    if (storagePassword !== undefined) secrets.push(storagePassword);
    const redisPassword = passwordOf(config.state.redis);
    if (redisPassword !== undefined) secrets.push(redisPassword);
    try {
      this.buildProviders(config, dependencies, secrets);
    } catch (error) {
      // a provider that could not be built (no driver for its type): what the others took is given back
      for (const provider of this.providers.values()) if (provider.kind === 'own') void provider.exchanges.release();
      throw error;
    }
    // a collector's API key is as secret as a provider's
    if (config.tracing !== undefined) for (const value of Object.values(config.tracing.headers)) if (value !== '') secrets.push(value);
    this.secrets = secrets;
    this.router = new Router(config, this);
  }

  /**
   * Whether the limit handlers are needed now: some key or team of the YAML or of the key store
   * has limits. Read when the phases are compiled (at load, and again when the store changes).
   */
  get limited(): boolean {
    return this.limits !== undefined && (this.configLimited || this.keyStore?.limited === true);
  }

  /** Whether some key of the YAML or of the key store asks for the response cache now. */
  get keyCache(): boolean {
    return this.configKeyCache || this.keyStore?.cached === true;
  }

  private limitEnforcer(config: GatewayConfig, dependencies: RuntimeDependencies): LimitEnforcer {
    const prices = this.prices;
    const logger = dependencies.logger;
    const counted = dependencies.onSoftBudget;
    return new LimitEnforcer({
      counters: dependencies.state.rateLimits,
      spend: dependencies.state.spend,
      spendReadiness: dependencies.spendReadiness ?? ALWAYS_AVAILABLE,
      ...(dependencies.state.shared !== undefined ? { sharedState: dependencies.state.shared } : {}),
      ...(dependencies.state.limitBatches !== undefined ? { batches: dependencies.state.limitBatches } : {}),
      // before routing, the model as asked is priced (an alias has no price: the hold is minimal)
      prices: { estimateUsd: (model, inputTokens, outputTokens) => prices.cost('', model, { inputTokens, outputTokens }) },
      defaultMaxTokens: config.auth.tpmDefaultMaxTokens ?? DEFAULT_TPM_MAX_TOKENS,
      onStoreFailure: config.auth.onStoreFailure ?? DEFAULT_STORE_FAILURE,
      onSoftBudget: (event) => {
        logger.warn({ scope: event.scope, name: event.name, id: event.id, period: event.period, spent_usd: event.spentUsd, soft_usd: event.softUsd, limit_usd: event.limitUsd },
          'budget soft threshold crossed');
        counted?.(event);
      },
    });
  }

  private buildProviders(config: GatewayConfig, dependencies: RuntimeDependencies, secrets: string[]): void {
    for (const provider of config.providers) {
      const own = dependencies.ownProviders?.get(provider.dialect);
      if (own !== undefined) {
        this.providers.set(provider.name, { kind: 'own', name: provider.name, config: provider, exchanges: own(provider, config) });
        for (const [name, value] of Object.entries(provider.agentCli?.env ?? {})) if (value.length >= 8 && SECRET_VARIABLE.test(name)) secrets.push(value);
        this.keyIds.set(provider.name, ['']);
        continue;
      }
      const adapter = dependencies.providerAdapters.get(provider.dialect);
      if (adapter === undefined) throw new Error(`No adapter for dialect '${provider.dialect}' (provider '${provider.name}')`);
      const endpoint = new Endpoint({
        provider: provider.name,
        baseUrl: provider.baseUrl,
        apiKeys: provider.apiKeys,
        auth: provider.auth,
        headers: provider.headers,
        timeouts: provider.timeouts,
        pool: provider.pool,
      });
      this.providers.set(provider.name, {
        kind: 'http', name: provider.name, config: provider, adapter, endpoint,
        wires: nativeWires(adapter, provider.capabilities),
        context: Object.freeze({ name: provider.name, preset: provider.preset }),
      });
      secrets.push(...provider.apiKeys);
      this.keyIds.set(provider.name, provider.apiKeys.length === 0 ? [''] : provider.apiKeys.map(keyFingerprint));
    }
  }

  /** Runs discovery for every provider that asks for it, once; failures are logged, not fatal. */
  async discoverAll(): Promise<void> {
    await this.discoverEach();
  }

  /**
   * Runs discovery again now, for every provider that discovers (`POST /v1/models/refresh`).
   * Calls that arrive while one runs share it, so a burst of refreshes asks each provider once.
   */
  refreshModels(): Promise<readonly DiscoveryResult[]> {
    this.refreshing ??= this.discoverEach().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private discoverEach(): Promise<DiscoveryResult[]> {
    return Promise.all(this.config.providers.filter((provider) => provider.discover).map((provider) => this.discover(provider)));
  }

  /** The provider's model list: `GET /models` of its endpoint, or what a provider of its own lists. */
  private async listModels(runtime: ProviderRuntime): Promise<string[]> {
    if (runtime.kind === 'own') return [...await runtime.exchanges.listModels(AbortSignal.timeout(OWN_DISCOVERY_TIMEOUT_MS))];
    const body = await fetchModelList(runtime.endpoint, runtime.adapter.modelListPath, DISCOVERY_TIMEOUT_MS);
    return runtime.adapter.decodeModelList(body);
  }

  private async discover(provider: ProviderConfig): Promise<DiscoveryResult> {
    try {
      const models = await this.listModels(this.providers.get(provider.name)!);
      if (this.closed) return { provider: provider.name, models: models.length };
      const previous = this.discovered.get(provider.name);
      if (previous !== undefined && previous.length === models.length && previous.every((model, i) => model === models[i])) return { provider: provider.name, models: models.length };
      this.discovered.set(provider.name, Object.freeze(models));
      this.router = new Router(this.config, this, this.discovered);
      this.logger.debug({ provider: provider.name, models: models.length }, 'discovered models');
      return { provider: provider.name, models: models.length };
    } catch (error) {
      const message = redactText((error as Error).message, this.secrets);
      if (!this.closed) this.logger.warn({ provider: provider.name, err: message }, 'model discovery failed; the provider stays usable by prefix and configured names');
      return { provider: provider.name, models: this.discovered.get(provider.name)?.length ?? 0, error: message };
    }
  }

  /** Refreshes discovered model lists in the background at each provider's interval. */
  startBackgroundDiscovery(): void {
    for (const provider of this.config.providers) {
      if (!provider.discover || provider.discoverIntervalMs <= 0) continue;
      const timer = setInterval(() => void this.discover(provider), provider.discoverIntervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /**
   * Active health checks: every `health_check.interval_s`, a GET of the model list with each key.
   * A failure takes that key's targets out of rotation (ejection, then the half-open probe); a
   * pass brings back targets that were ejected for failures.
   */
  startHealthChecks(): void {
    for (const provider of this.config.providers) {
      const settings = provider.healthCheck;
      if (settings === undefined) continue;
      const run = () => void this.check(provider, settings.timeoutMs);
      run();
      const timer = setInterval(run, settings.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  private async check(provider: ProviderConfig, timeoutMs: number): Promise<void> {
    const runtime = this.providers.get(provider.name)!;
    if (runtime.kind !== 'http') return; // the config allows health checks on HTTP providers only
    const { endpoint, adapter } = runtime;
    const keyIds = this.keyIds.get(provider.name) ?? [''];
    const failures: string[] = [];
    await Promise.all(keyIds.map(async (keyId, keyIndex) => {
      try {
        await fetchModelList(endpoint, adapter.modelListPath, timeoutMs, keyIndex);
        if (this.closed) return;
        this.health.markKeyUp(provider.name, keyId);
      } catch (error) {
        if (this.closed) return;
        const now = Date.now();
        this.health.markKeyDown(provider.name, keyId, now, this.config.routing.cooldowns);
        failures.push(redactText((error as Error).message, this.secrets));
      }
    }));
    if (this.closed) return;
    const result: HealthCheckResult = { ok: failures.length === 0, at: Date.now() };
    if (failures.length > 0) {
      result.error = failures[0]!;
      this.logger.warn({ provider: provider.name, err: result.error }, 'health check failed; the provider is out of rotation until a check or probe passes');
    }
    this.healthChecks.set(provider.name, result);
  }

  discoveredModels(provider: string): readonly string[] {
    return this.discovered.get(provider) ?? [];
  }

  /** The models as local dialect handlers see them; rebuilt when discovery changes the router. */
  get catalog(): ModelCatalog {
    const cache = this.catalogCache;
    if (cache !== undefined && cache.router === this.router) return cache.catalog;
    const router = this.router;
    let listing: readonly { id: string; ownedBy: string }[] | undefined;
    const catalog: ModelCatalog = {
      list: () => (listing ??= router.listModels()),
      find: (name) => {
        const listed = catalog.list().find((model) => model.id === name);
        if (listed !== undefined) return listed;
        const route = router.resolve(name);
        if (route === undefined) return undefined;
        return { id: name, ownedBy: route.kind === 'alias' ? 'switchyard' : route.targets[0]!.provider };
      },
    };
    this.catalogCache = { router, catalog };
    return catalog;
  }

  acquire(): void {
    this.active++;
  }

  release(): void {
    this.active--;
    if (this.retired && this.active === 0) void this.close().catch(() => {});
  }

  /**
   * Replaced by a newer runtime: closes once the last request that started on it is done —
   * including requests still reading their body, which have not reached a pool yet.
   */
  retire(): void {
    this.retired = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.active === 0) void this.close().catch(() => {});
  }

  /** Stops background work; pools finish their in-flight requests, then close. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.providers.values()].map((provider) => provider.kind === 'http' ? provider.endpoint.close() : provider.exchanges.release()));
    await this.media.close();
  }

  async destroy(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.providers.values()].map((provider) => provider.kind === 'http' ? provider.endpoint.destroy() : provider.exchanges.release()));
    await this.media.close().catch(() => {});
  }
}
