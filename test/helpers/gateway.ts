// Starts a real gateway in-process on 127.0.0.1 (random port) with a config built in code, so
// integration tests exercise the listener, routing and upstream pools over real sockets.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AliasConfig, AliasTarget, GatewayConfig, PluginConfig, PriceOverride, ProviderConfig, ResponseCacheConfig, RoutingConfig, ServerConfig, StateConfig } from '../../src/config/types.ts';
import { DEFAULT_RESPONSE_CACHE, DEFAULT_ROUTING, DEFAULT_STATE, defaultServerConfig } from '../../src/config/defaults.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import type { AgentCliConfig } from '../../src/config/types.ts';
import type { AgentCliDrivers } from '../../src/pipeline/agent-cli-host.ts';

export interface TestProvider extends Partial<ProviderConfig> {
  name: string;
  baseUrl: string;
}

/** An alias as tests write it: only name and targets are required. */
export interface TestAlias extends Partial<Omit<AliasConfig, 'targets'>> {
  name: string;
  targets: (Partial<AliasTarget> & { provider: string; model: string })[];
}

export interface TestGatewayOptions {
  providers: TestProvider[];
  /** Plugins (`use` an absolute path or a built-in's name with `builtin: true`), over the entry defaults. */
  plugins?: (Partial<PluginConfig> & { use: string })[];
  models?: TestAlias[];
  /** Routing settings over the defaults. */
  routing?: Partial<RoutingConfig>;
  keys?: string[];
  /** `auth.admin_keys` (none: the management API answers loopback callers only). */
  adminKeys?: string[];
  bodyLimitBytes?: number;
  discover?: boolean;
  allowPrivateMedia?: boolean;
  /**
   * Usage recording: off unless given, so tests never write to the home directory. `{ path }`
   * records to SQLite in that (temporary) directory, `{ url }` to PostgreSQL.
   */
  storage?: { path?: string; url?: string };
  /** Body capture (off when absent). */
  bodies?: { maxBytes: number; keep: number };
  /** `logging.recent_requests` (the default when absent; 0 = off). */
  recentRequests?: number;
  /** OpenTelemetry export (off when absent). */
  tracing?: GatewayConfig['tracing'];
  /** Price overrides (`prices:`), in order. */
  prices?: PriceOverride[];
  /** `server.allowed_hosts` and `server.cors.allowed_origins` (both empty when absent). */
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** Listener settings over the test defaults (timeouts, connection cap). */
  server?: Partial<ServerConfig>;
  /** Agent-CLI driver factories by type (fakes: test/helpers/fake-agent-cli.ts). */
  agentCliDrivers?: AgentCliDrivers;
  /** `state:` over its defaults (`{ redis, keyPrefix }` to share limits through Redis). */
  state?: Partial<StateConfig>;
  /** The top-level `cache` over its defaults (no route cached unless `route` or an alias's `cache`). */
  cache?: Partial<ResponseCacheConfig>;
}

/** An agent-CLI provider as the normalizer builds one (`type: claude-code` …), with `cli` over the defaults. */
export function agentCliProvider(name: string, cli: Partial<AgentCliConfig> & Pick<AgentCliConfig, 'type'>, provider: Partial<ProviderConfig> = {}): TestProvider {
  return {
    name,
    baseUrl: '',
    dialect: 'agent-cli',
    agentCli: { command: 'true', args: [], env: {}, mode: 'llm', concurrency: 2, queueSize: 16, queueTimeoutMs: 60_000, ...cli },
    capabilities: { chat: true, completions: false, embeddings: false, responses: false },
    ...provider,
  };
}

export function providerConfig(provider: TestProvider): ProviderConfig {
  return {
    dialect: 'openai',
    apiKeys: [],
    auth: { header: 'authorization', prefix: 'Bearer ' },
    models: [],
    discover: false,
    discoverIntervalMs: 0,
    headers: {},
    timeouts: { connectMs: 2000, firstByteMs: 10_000, idleMs: 10_000, totalMs: 0 },
    pool: { connections: 0, keepAliveMs: 4000 },
    capabilities: { chat: true, completions: true, embeddings: true, responses: true },
    keyStrategy: 'round-robin',
    unsupportedTools: 'drop',
    ...provider,
  };
}

export function aliasConfig(alias: TestAlias, routing: RoutingConfig = DEFAULT_ROUTING): AliasConfig {
  return {
    strategy: 'round-robin',
    fallbacks: [],
    affinity: 'none',
    ...alias,
    retry: { ...routing.retry, ...alias.retry },
    targets: alias.targets.map((target) => ({ weight: 1, ...target })),
  };
}

export function testConfig(options: TestGatewayOptions): GatewayConfig {
  const routing: RoutingConfig = { ...DEFAULT_ROUTING, ...options.routing };
  return {
    source: 'test',
    server: { ...defaultServerConfig, host: '127.0.0.1', port: 0, workers: 1, bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024, keepAliveTimeoutMs: 5000, drainTimeoutMs: 5000,
      allowedHosts: options.allowedHosts ?? [], cors: { allowedOrigins: options.allowedOrigins ?? [] }, ...options.server },
    auth: { keys: options.keys ?? [], allowUnauthenticated: false, adminKeys: options.adminKeys ?? [] },
    providers: options.providers.map(providerConfig),
    models: (options.models ?? []).map((alias) => aliasConfig(alias, routing)),
    routing,
    logging: { level: 'info', format: 'json', ...(options.bodies !== undefined ? { bodies: options.bodies } : {}), ...(options.recentRequests !== undefined ? { recentRequests: options.recentRequests } : {}) },
    media: { allowPrivateNetworks: options.allowPrivateMedia ?? false, maxBytes: 1024 * 1024, timeoutMs: 2000 },
    storage: options.storage === undefined ? { enabled: false, retentionDays: 0 } : { enabled: true, retentionDays: 0, ...options.storage },
    ...(options.tracing !== undefined ? { tracing: options.tracing } : {}),
    prices: options.prices ?? [],
    cache: { ...DEFAULT_RESPONSE_CACHE, ...options.cache },
    state: { ...DEFAULT_STATE, ...options.state },
    plugins: (options.plugins ?? []).map((plugin, index) => ({ index, builtin: false, config: {}, routes: [], keys: [], onError: undefined, isolate: false, timeoutMs: 50, streamTimeoutMs: 1, memoryLimitMb: 64, ...plugin })),
  };
}

export interface TestGateway extends RunningGateway {
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log output, for secret scans. */
  logText(): string;
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      callback();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const running = await startGateway({ config: testConfig(options), logger, discover: options.discover ?? false, ...(options.agentCliDrivers !== undefined ? { agentCliDrivers: options.agentCliDrivers } : {}) });
  const gateway = running as TestGateway;
  Object.defineProperty(gateway, 'logs', { get: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), enumerable: true });
  gateway.logText = () => lines.join('\n');
  return gateway;
}

/** The access line of request `id` (its `x-request-id`), once the gateway has written it. */
export async function accessLine(gateway: TestGateway, id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const line = gateway.logs.find((entry) => entry.msg === 'request' && entry.id === id);
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no access line for ${id}`);
}
