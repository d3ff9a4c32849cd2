// Composition root: the only module that wires concrete surfaces, providers and the listener.
import type { AgentCliDriverFactory, AgentCliType } from './agent-clis/driver.ts';
import { createClaudeCodeDriver } from './agent-clis/claude-code/index.ts';
import { createCodexDriver } from './agent-clis/codex/index.ts';
import { createGeminiCliDriver } from './agent-clis/gemini-cli/index.ts';
import { createOpencodeDriver } from './agent-clis/opencode/index.ts';
import { readFileSync } from 'node:fs';
import type { RequestObserver } from './pipeline/context.ts';
import { providersEndpoint, requestsEndpoint, statusEndpoint } from './admin/status.ts';
import { BodyLog } from './observability/body-log.ts';
import type { StateStores } from './state/interfaces.ts';
import { LocalStateStores } from './state/local-stores.ts';
import type http from 'node:http';
import type { DialectSurfaces, ProviderAdapter } from './canonical/adapters.ts';
import type { GatewayConfig } from './config/types.ts';
import { createLoggers, type Logger } from './observability/logger.ts';
import { redactText } from './util/redact.ts';
import { JsonAccessLog, type LineSink } from './observability/access-log.ts';
import { UsageObserver } from './pipeline/usage-observer.ts';
import { usageEndpoint } from './admin/usage.ts';
import { refreshModelsEndpoint } from './admin/models.ts';
import { droppedTotal, UsageRecorder } from './state/usage-recorder.ts';
import { openUsageStore } from './state/usage-store.ts';
import { openKeyDatabase } from './state/key-database.ts';
import { KeyStore } from './governance/key-store.ts';
import { managementRoutes } from './admin/management.ts';
import { managementProviderRoutes } from './admin/management-providers.ts';
import { managementRequestRoutes } from './admin/management-requests.ts';
import { managementLiveRoutes, SpendToday } from './admin/management-live.ts';
import { managementModelRoutes } from './admin/management-models.ts';
import { UI_PATH, UiAssets, uiAssetRoutes } from './admin/ui-assets.ts';
import { uiSessionRoutes } from './admin/ui-session.ts';
import { UiSessions } from './pipeline/ui-sessions.ts';
import { LiveSampler } from './observability/live-stats.ts';
import { RecentRequests } from './observability/recent-requests.ts';
import { MANAGEMENT_PREFIX } from './pipeline/admin-auth.ts';
import { DEFAULT_RECENT_REQUESTS } from './config/defaults.ts';
import type { ConfigControl } from './admin/management-config.ts';
import type { GatewayRoute } from './server/route-table.ts';
import { Gateway, type LocalHandler } from './pipeline/gateway.ts';
import { routeDryRun } from './admin/route-dry-run.ts';
import { GatewayMetrics, METRICS_CONTENT_TYPE } from './observability/metrics.ts';
import { scrapeThroughPrimary, shareWithPrimary } from './observability/metrics-cluster.ts';
import { sendWire } from './pipeline/respond.ts';
import { healthz, readyz } from './admin/probes.ts';
import { RouteTable } from './server/route-table.ts';
import { Runtime, type RuntimeDependencies } from './pipeline/runtime.ts';
import type { KeyPolicy } from './governance/policy.ts';
import { BudgetLedger } from './governance/budget-ledger.ts';
import { AgentCliHost, type AgentCliDrivers } from './pipeline/agent-cli-host.ts';
import { anthropicProvider } from './providers/anthropic/index.ts';
import { geminiProvider } from './providers/gemini/index.ts';
import { ollamaProvider } from './providers/ollama/index.ts';
import { openaiProvider } from './providers/openai/index.ts';
import { openaiResponsesProvider } from './providers/openai-responses/index.ts';
import { createListener, drainListener, listen } from './server/listener.ts';
import { defaultMaxConnections } from './server/connection-cap.ts';
import { sweepStaleSpools, uploadSpool } from './server/upload-spool.ts';
import { openaiChat } from './surfaces/openai/index.ts';
import { openaiSurfaces } from './surfaces/openai/routes.ts';
import { anthropicSurfaces } from './surfaces/anthropic/routes.ts';
import { geminiSurfaces } from './surfaces/gemini/routes.ts';
import { ollamaSurfaces } from './surfaces/ollama/routes.ts';
import type { PluginHost } from './pipeline/plugin-host.ts';
import type { AutoRouteHandlers, AutoRouteStats } from './pipeline/auto-route.ts';

export const providerAdapters: ReadonlyMap<string, ProviderAdapter> = new Map([
  ['openai', openaiProvider],
  ['openai-responses', openaiResponsesProvider],
  ['anthropic', anthropicProvider],
  ['gemini', geminiProvider],
  ['ollama', ollamaProvider],
]);

/**
 * The agent-CLI drivers of this build, by provider type (`type: claude-code` …): each is a factory
 * from src/agent-clis/<type>/ (`create<Type>Driver`). A configured type with no entry here is a
 * start-up (or reload) error naming the provider.
 */
export const agentCliDrivers: AgentCliDrivers = new Map<AgentCliType, AgentCliDriverFactory>([
  ['claude-code', createClaudeCodeDriver],
  ['codex', createCodexDriver],
  ['gemini-cli', createGeminiCliDriver],
  ['opencode', createOpencodeDriver],
]);

// Routes with conditions (Anthropic's and Gemini's GET /v1/models) are tried before plain ones.
const dialects: readonly DialectSurfaces[] = [anthropicSurfaces, geminiSurfaces, ollamaSurfaces, openaiSurfaces];

function gatewayRoutes(metrics: LocalHandler, usage: LocalHandler, requests: LocalHandler = requestsEndpoint(undefined), refresh: LocalHandler = refreshModelsEndpoint()): GatewayRoute<LocalHandler>[] {
  return [
    { path: '/v0/requests', entry: { method: 'GET' as const, local: requests } },
    // beside OpenAI's /v1/models, with and without /v1 as the other OpenAI paths
    { path: '/v1/models/refresh', entry: { method: 'POST' as const, local: refresh } },
    { path: '/models/refresh', entry: { method: 'POST' as const, local: refresh } },
    { path: '/healthz', entry: { method: 'GET' as const, local: healthz, public: true } },
    { path: '/v0/usage', entry: { method: 'GET' as const, local: usage } },
    { path: '/readyz', entry: { method: 'GET' as const, local: readyz, public: true } },
    { path: '/v1/providers', entry: { method: 'GET' as const, local: providersEndpoint } },
    { path: '/v0/status', entry: { method: 'GET' as const, local: statusEndpoint } },
    // `model: auto`: the decision for a request, without asking any model
    { path: '/v0/route', entry: { method: 'POST' as const, local: routeDryRun } },
    // needs a client key when keys are configured (Prometheus sends it as a bearer token)
    { path: '/metrics', entry: { method: 'GET' as const, local: metrics } },
  ];
}

function routeTable(ownRoutes: ReturnType<typeof gatewayRoutes>): RouteTable<LocalHandler> {
  return new RouteTable(dialects.flatMap((dialect) => dialect.routes), ownRoutes, dialects.flatMap((dialect) => dialect.errorPrefixes));
}

/** `GET /metrics`: Prometheus text, this process's or (a worker's) the whole process group's. */
function metricsEndpoint(scrape: () => Promise<string>): LocalHandler {
  return (_gateway, context) => {
    scrape().then(
      (text) => sendWire(context, { status: 200, headers: ['content-type', METRICS_CONTENT_TYPE, 'cache-control', 'no-store'], body: text }),
      (error: unknown) => sendWire(context, { status: 503, headers: ['content-type', 'text/plain; charset=utf-8'], body: `metrics unavailable: ${(error as Error).message}\n` }),
    );
  };
}

/** What limits and budgets take from the process: the clock, whether spend could be read, the soft-threshold metric. */
type GovernanceDependencies = Pick<RuntimeDependencies, 'now' | 'spendReadiness' | 'onSoftBudget' | 'keyStore' | 'uiSessions' | 'plugins' | 'autoRoute'>;

function withPlugins(governance: GovernanceDependencies, plugins: PluginHost | undefined, autoRoute: AutoRouteHandlers | undefined): GovernanceDependencies {
  return { ...governance, ...(plugins !== undefined ? { plugins } : {}), ...(autoRoute !== undefined ? { autoRoute } : {}) };
}

/** `model: auto`: the auto aliases compiled, with the shipped complexity model; loaded only when the config has one. */
async function compileAuto(config: GatewayConfig, stats: AutoRouteStats): Promise<AutoRouteHandlers | undefined> {
  if (!config.models.some((alias) => alias.auto !== undefined)) return undefined;
  const [{ compileAutoRoute }, { DEFAULT_MODEL }] = await Promise.all([import('./pipeline/auto-route.ts'), import('./routing/auto/default-model.ts')]);
  return compileAutoRoute(config, DEFAULT_MODEL, stats);
}

/** How long replaced plugins are kept for the requests that started with them before they are disposed. */
const PLUGIN_DISPOSE_DELAY_MS = 60_000;

export function buildRuntime(config: GatewayConfig, logger: Logger, state: StateStores = new LocalStateStores(), agentClis?: AgentCliHost, governance: GovernanceDependencies = {}): Runtime {
  return new Runtime(config, { providerAdapters, logger, state, ...governance, ...(agentClis !== undefined ? { ownProviders: new Map([['agent-cli', agentClis.build]]) } : {}) });
}

/** How long start (or a reload) waits for budgets' spend to be read before serving; the read goes on after. */
const SPEND_READ_WAIT_MS = 5000;

function withinWait(work: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise((resolve) => {
    timer = setTimeout(resolve, SPEND_READ_WAIT_MS);
    timer.unref();
  });
  return Promise.race([work, wait]).finally(() => clearTimeout(timer));
}

/**
 * The state stores: in process, or in Redis/Valkey with `state.redis` (its client is loaded only
 * then). The gateway waits for the first connection at most `state.timeout_ms`: a server that is
 * down never holds up the start (the stores answer in process until it answers).
 */
async function openStateStores(config: GatewayConfig, logger: Logger, now: () => number): Promise<StateStores> {
  const redis = config.state.redis;
  if (redis === undefined) return new LocalStateStores(now);
  const { RedisStateStores } = await import('./state/redis-stores.ts');
  const stores = new RedisStateStores({ ...config.state, redis }, logger, now);
  await stores.shared.whenConnected(config.state.timeoutMs);
  return stores;
}

/** How often a process checks whether another one changed the key store (a revision read). */
const KEY_REFRESH_MS = 2000;

/**
 * The gateway's own keys, in the usage database, read whole before the gateway listens. A
 * database that cannot be read yet leaves the store empty and not loaded (its keys answer 503)
 * until a later poll reads it.
 */
async function openKeyStore(config: GatewayConfig, logger: Logger): Promise<KeyStore | undefined> {
  if (!config.storage.enabled) return undefined;
  const secrets = config.storage.url === undefined ? [] : [config.storage.url];
  let store: KeyStore;
  try {
    store = new KeyStore(await openKeyDatabase(config.storage), {
      onError: (error) => logger.warn({ err: redactText(error.message, secrets) }, 'the key store could not be read'),
    });
  } catch (error) {
    logger.warn({ err: redactText((error as Error).message, secrets) }, 'the key store cannot be opened: virtual keys and the management API are unavailable');
    return undefined;
  }
  try {
    await store.load();
  } catch (error) {
    logger.warn({ store: store.database.kind, location: store.database.location, err: redactText((error as Error).message, secrets) }, 'the key store is unavailable: virtual keys are refused (503) until it can be read');
  }
  store.startRefresh(KEY_REFRESH_MS);
  return store;
}

export interface StartOptions {
  config: GatewayConfig;
  host?: string;
  port?: number;
  logger?: Logger;
  /** The per-request access log (defaults to `logger`). */
  accessLogger?: Logger;
  /** A JSON-lines destination for the specialised access-line writer (faster than `accessLogger`). */
  accessSink?: LineSink;
  /** Share the port with sibling worker processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** Run model discovery before resolving (default true). */
  discover?: boolean;
  /** Told about every finished request, after the built-in ones (tests, embedders). */
  observers?: readonly RequestObserver[];
  /** A worker of `--workers N`: `/metrics` answers for the whole process group, through the primary. */
  clusterMetrics?: boolean;
  /** Told when a client asks for a model refresh (a worker passes it on to its siblings). */
  onModelsRefresh?: () => void;
  /** The agent-CLI drivers by type (default: this build's, `agentCliDrivers`); tests register fakes. */
  agentCliDrivers?: AgentCliDrivers;
  /** The clock of state, limits and budgets (tests pass a fake one); Date.now by default. */
  now?: () => number;
  /** The config file and its reload path, for the management API's config endpoints (cli/serve.ts). */
  configControl?: ConfigControl;
}

export interface RunningGateway {
  gateway: Gateway;
  server: http.Server;
  logger: Logger;
  url: string;
  port: number;
  metrics: GatewayMetrics;
  /**
   * Builds a runtime from a new snapshot and swaps it in; in-flight requests are unaffected. A
   * plugin that fails to load throws (PluginLoadError) and the previous runtime stays.
   */
  reload(config: GatewayConfig): Promise<void>;

  /** The usage recorder (absent with `storage.enabled: false`). */
  usage: UsageRecorder | undefined;
  /** The gateway's own keys (absent with `storage.enabled: false`). */
  keys: KeyStore | undefined;
  /** Stops accepting, waits for in-flight requests up to `timeoutMs`, closes upstream pools, writes the queued usage. */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const config = options.config;
  const created = options.logger === undefined ? createLoggers(config.logging) : undefined;
  const logger = options.logger ?? created!.logger;
  const accessLogger = options.accessLogger ?? created?.access ?? logger;
  const accessSink = options.accessSink ?? created?.sink;
  const accessLog = accessSink !== undefined && accessLogger.isLevelEnabled('info') ? new JsonAccessLog(accessSink) : undefined;
  // uploads wait on disk in a directory of this process's own; what a crashed one left goes once
  // the gateway listens (a busy /tmp of thousands of entries took ~10 ms to list; read through
  // fs/promises instead, its thread pool cost ~5 MB of idle RSS)
  uploadSpool({ sweep: false });
  // the state stores outlive reloads: a key that is cooling down stays so under a new config
  const now = options.now ?? Date.now;
  const state = await openStateStores(config, logger, now);
  state.responses.resize(config.cache);
  // agent-CLI drivers (their CLI workers) outlive reloads too, as long as their settings stay
  const agentClis = new AgentCliHost(options.agentCliDrivers ?? agentCliDrivers, { logger });
  // the key store, like storage, is read once: a reload keeps the store the process started with
  const keys = await openKeyStore(config, logger);
  // storage is read once: a reload keeps the store the process started with
  const usage = config.storage.enabled
    ? new UsageRecorder(await openUsageStore(config.storage), logger, { retentionMs: config.storage.retentionDays * 86_400_000 })
    : undefined;
  // budgets start from the spend the usage store holds for their current period
  const ledger = new BudgetLedger(state.spend, usage?.store, now);
  // a shared store that comes back may have lost what it held: spend is read again into it
  state.shared?.onReturn(() => ledger.resync());
  const softBudgets = new Map<string, number>();
  const governance: GovernanceDependencies = {
    now,
    ...(keys !== undefined ? { keyStore: keys } : {}),
    // the dashboard's logins outlive reloads (a session ends when its admin key is no longer configured)
    uiSessions: new UiSessions(),
    spendReadiness: ledger,
    onSoftBudget: (event) => softBudgets.set(`${event.scope}\0${event.name}`, (softBudgets.get(`${event.scope}\0${event.name}`) ?? 0) + 1),
  };
  // plugins (issue #18): loaded before each runtime is built; their failures are counted across reloads
  // (loaded on first use: a config without plugins loads none of their code)
  const pluginFailures = new Map<string, number>();
  // `model: auto`: what the auto aliases decided, across reloads
  const autoStats: AutoRouteStats = { decisions: new Map(), escalations: new Map(), savingsUsd: new Map(), judgeOutcomes: new Map(), judgeMs: new Map() };
  const hostPlugins = async (next: GatewayConfig): Promise<PluginHost | undefined> => {
    if (next.plugins.length === 0) return undefined;
    const [{ PluginHost }, { loadPlugins }, { pluginSources }] = await Promise.all([import('./pipeline/plugin-host.ts'), import('./plugins/load.ts'), import('./plugins/sources.ts')]);
    const loaded = await loadPlugins(next.plugins, pluginSources, (message, fields) => logger.info(fields ?? {}, message));
    return new PluginHost(loaded, { logger, failures: pluginFailures });
  };
  const disposePlugins = async (host: PluginHost | undefined): Promise<void> => {
    if (host !== undefined) await (await import('./plugins/load.ts')).disposePlugins(host.plugins);
  };
  const runtime = buildRuntime(config, logger, state, agentClis, withPlugins(governance, await hostPlugins(config), await compileAuto(config, autoStats)));
  // budgets of the YAML's keys and teams, and of the store's keys (read again when the store changes)
  const budgetPolicies = (current: Runtime): (KeyPolicy | undefined)[] => [...current.keyPolicies, ...(keys?.policies() ?? [])];
  await withinWait(ledger.load(budgetPolicies(runtime)));
  if (!config.storage.enabled && runtime.keyPolicies.some((policy) => policy?.limits?.budget !== undefined || policy?.teamLimits?.budget !== undefined)) {
    logger.warn('budgets are set but storage is disabled: spend is counted in memory only and starts from zero at each start');
  }
  if (usage !== undefined) {
    usage.store.ready().catch((error: unknown) => logger.warn({ store: usage.store.kind, location: usage.store.location, err: redactText((error as Error).message, runtime.secrets) },
      'the usage store is unavailable: usage is not recorded until it is'));
  }
  const scrape = options.clusterMetrics === true ? scrapeThroughPrimary : (): Promise<string> => metrics.scrape();
  const bodies = config.logging.bodies === undefined ? undefined : new BodyLog(config.logging.bodies, runtime.secrets);
  // the management API's recent requests: a complete-phase observer only when some are kept (read at start)
  const recentSize = config.logging.recentRequests ?? DEFAULT_RECENT_REQUESTS;
  const recent = recentSize > 0 ? new RecentRequests(recentSize, MANAGEMENT_PREFIX) : undefined;
  const spend = new SpendToday(usage);
  const ownRoutes: GatewayRoute<LocalHandler>[] = [
    ...gatewayRoutes(metricsEndpoint(scrape), usageEndpoint(usage), requestsEndpoint(bodies), refreshModelsEndpoint(options.onModelsRefresh)),
    // remaining limits from the current runtime's enforcer (its counters outlive reloads)
    ...managementRoutes({ store: keys, usage, remaining: (policy) => gateway.runtime.limits?.remaining(policy, now()) ?? null, config: { control: options.configControl, logger } }),
    ...managementProviderRoutes({ store: keys, logger }),
    ...managementRequestRoutes({ recent, bodies }),
    ...managementModelRoutes(),
    // the dashboard's live view: read from the metrics' totals, a point per 10 s kept for an hour
    ...managementLiveRoutes({ sampler: () => sampler, read: (at) => metrics.liveTotals(at), spend }),
    // the dashboard (/ui): its files are read on the first visit, not before
    ...uiSessionRoutes(),
    ...uiAssetRoutes(new UiAssets()),
  ];
  const metrics = new GatewayMetrics({
    ownPaths: ownRoutes.map((route) => route.path), ownPrefixes: [MANAGEMENT_PREFIX, UI_PATH], usageDropped: () => droppedTotal, budgetSoftExceeded: () => softBudgets, pluginErrors: () => pluginFailures, autoRoute: autoStats,
    ...(state.shared !== undefined ? { sharedState: state.shared } : {}),
    ...(state.health.sharing !== undefined ? { sharedHealth: state.health.sharing } : {}),
  });
  // a reading every 10 s also keeps today's spend current across midnight with nobody watching
  const sampler = new LiveSampler((at) => {
    const totals = metrics.liveTotals(at);
    spend.value(at, totals.costUsd);
    return totals;
  });
  if (options.clusterMetrics === true) shareWithPrimary([metrics.exposed]);
  const observers: RequestObserver[] = [metrics, ...(usage !== undefined ? [new UsageObserver(usage)] : []), ...(options.observers ?? [])];
  // tracing is loaded only when configured: no OpenTelemetry module is resident otherwise
  const tracing = config.tracing === undefined ? undefined : new (await import('./observability/tracing.ts')).TracingObserver(config.tracing, packageVersion());
  if (tracing !== undefined) observers.push(tracing);
  if (bodies !== undefined) observers.push(bodies);
  if (recent !== undefined) observers.push(recent);
  const gateway = new Gateway(runtime, {
    routes: routeTable(ownRoutes), errorSurface: openaiChat, logger, accessLogger, observers, trackAttempts: tracing !== undefined,
    ...(bodies !== undefined ? { bodyLog: bodies } : {}),
    ...(accessLog !== undefined ? { accessLog } : {}),
  });
  // a key created or changed elsewhere (the API, the CLI, another instance): its budget starts from
  // the spend on record, and the limit and cache handlers are compiled when some stored key needs them
  keys?.onChange(() => {
    gateway.recompile();
    void ledger.load(budgetPolicies(gateway.runtime));
  });
  metrics.attach(gateway);
  sampler.start();
  const server = createListener(gateway.handle, {
    keepAliveTimeoutMs: config.server.keepAliveTimeoutMs,
    headersTimeoutMs: config.server.headersTimeoutMs,
    requestTimeoutMs: config.server.requestTimeoutMs,
    maxConnections: config.server.maxConnections ?? defaultMaxConnections(),
  });
  const host = options.host ?? config.server.host;
  let address: Awaited<ReturnType<typeof listen>>;
  try {
    address = await listen(server, host, options.port ?? config.server.port, options.reusePort ?? false);
  } catch (error) {
    sampler.stop();
    // nothing serves: the CLI workers a driver may have started end with the process's attempt
    await runtime.destroy().catch(() => {});
    await agentClis.close();
    await keys?.close();
    await state.close?.();
    throw error;
  }
  setImmediate(sweepStaleSpools);
  const discover = options.discover ?? true;
  if (discover) {
    await runtime.discoverAll();
    runtime.startBackgroundDiscovery();
  }
  runtime.startHealthChecks();
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    gateway,
    server,
    logger,
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    usage,
    keys,
    metrics,
    async reload(next: GatewayConfig) {
      const plugins = await hostPlugins(next);
      const previous = gateway.runtime.plugins;
      const fresh = buildRuntime(next, logger, state, agentClis, withPlugins(governance, plugins, await compileAuto(next, autoStats)));
      await withinWait(ledger.load(budgetPolicies(fresh)));
      if (discover) {
        await fresh.discoverAll();
        fresh.startBackgroundDiscovery();
      }
      fresh.startHealthChecks();
      if (bodies !== undefined) bodies.secrets = fresh.secrets;
      state.responses.resize(next.cache);
      gateway.swap(fresh);
      // the replaced plugins still serve the requests that started with them: let go of them later
      if (previous !== undefined) setTimeout(() => void disposePlugins(previous), PLUGIN_DISPOSE_DELAY_MS).unref();
    },
    async drain(timeoutMs: number) {
      if (stopped) return true;
      stopped = true;
      gateway.draining = true;
      sampler.stop();
      const finished = await drainListener(server, () => gateway.whenIdle(), timeoutMs);
      await gateway.runtime.destroy();
      await disposePlugins(gateway.runtime.plugins);
      await agentClis.close();
      ledger.close();
      await usage?.close();
      await keys?.close();
      await tracing?.close();
      await state.close?.();
      return finished;
    },
    async close() {
      if (stopped) return;
      stopped = true;
      gateway.draining = true;
      sampler.stop();
      await drainListener(server, () => Promise.resolve(), 0);
      await gateway.runtime.destroy();
      await disposePlugins(gateway.runtime.plugins);
      await agentClis.close();
      ledger.close();
      await usage?.close();
      await keys?.close();
      await tracing?.close();
      await state.close?.();
    },
  };
}
