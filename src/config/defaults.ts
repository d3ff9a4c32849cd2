// Default values shared by the schema (documented defaults), the normalizer and zero-config, so
// the docs, a file that omits a key, and a gateway started with no file all agree.
import { deepFreeze } from './freeze.ts';
import type {
  AgentCliKind, AgentCliModeSetting, AliasConfig, CooldownSettings, HealthCheckSettings, KeyStrategy, LoggingConfig, MediaConfig, PoolSettings,
  ResponseCacheConfig, RetryBudgetSettings, RetrySettings, RoutingConfig, ServerConfig, StateConfig, StorageConfig, Strategy, TimeoutSettings, UnsupportedParams, UnsupportedTools,
} from './types.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 18080;
export const DEFAULT_BODY_LIMIT = '32mb';

export const defaultServerConfig: Readonly<ServerConfig> = Object.freeze({
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  workers: 1,
  bodyLimitBytes: 32 * 1024 * 1024,
  // Above the 60 s idle timeout of common load balancers, so they close first and never reuse a
  // socket we are closing.
  keepAliveTimeoutMs: 65_000,
  drainTimeoutMs: 30_000,
  allowedHosts: [],
  cors: { allowedOrigins: [] },
  // Connections that never finish their headers are what a connection flood is made of: cut them
  // soon. A legitimate client sends its headers in one go.
  headersTimeoutMs: 10_000,
  // The upload only (a response may stream for minutes): a 32 MB body at 300 kB/s.
  requestTimeoutMs: 120_000,
});

export const DEFAULT_TIMEOUTS: Readonly<TimeoutSettings> = Object.freeze({
  connectMs: 5_000,
  // Reasoning models can think for minutes before the first byte.
  firstByteMs: 300_000,
  idleMs: 300_000,
  totalMs: 0,
});

export const DEFAULT_POOL: Readonly<PoolSettings> = Object.freeze({
  connections: 0,
  // Below the 5 s idle timeout that Node and many servers default to, so we never send on a socket
  // the upstream is about to close.
  keepAliveMs: 4_000,
});

export const DEFAULT_LOGGING: Readonly<LoggingConfig> = Object.freeze({ level: 'info', format: 'json' });

/** Requests the management API's recent-requests list keeps (`logging.recent_requests`). */
export const DEFAULT_RECENT_REQUESTS = 1000;

export const DEFAULT_DISCOVER_INTERVAL_S = 300;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;

/** The exact-response cache: off for every route (opt-in), 64 MiB of answers, 4 MiB at most each. */
export const DEFAULT_RESPONSE_CACHE: Readonly<ResponseCacheConfig> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 4 * 1024 * 1024,
});

export const DEFAULT_MEDIA: Readonly<MediaConfig> = Object.freeze({
  allowPrivateNetworks: false,
  maxBytes: 20 * 1024 * 1024,
  timeoutMs: 10_000,
});

/** Tokens a TPM limit reserves for the answer when a request sets no max_tokens (settled with the real count). */
export const DEFAULT_TPM_MAX_TOKENS = 4096;
export const BUDGET_PERIODS = ['day', 'week', 'month', 'total'] as const;
export const FAILURE_MODES = ['open', 'closed'] as const;
export const DEFAULT_STORE_FAILURE = Object.freeze({ rateLimits: 'open', budgets: 'closed' } as const);

export const DEFAULT_STORAGE: Readonly<StorageConfig> = Object.freeze({ enabled: true, retentionDays: 0 });

/** Shared state: none (in process) unless `state.redis` is set. */
export const DEFAULT_STATE: Readonly<StateConfig> = Object.freeze({ keyPrefix: 'switchyard:', timeoutMs: 500 });

// ----- Routing ---------------------------------------------------------------------------------

export const STRATEGIES = ['weighted', 'round-robin', 'fill-first', 'least-busy', 'latency'] as const satisfies readonly Strategy[];
export const KEY_STRATEGIES = ['round-robin', 'fill-first'] as const satisfies readonly KeyStrategy[];
export const AFFINITIES = ['none', 'session'] as const satisfies readonly AliasConfig['affinity'][];

export const DEFAULT_STRATEGY: Strategy = 'round-robin';
export const DEFAULT_KEY_STRATEGY: KeyStrategy = 'round-robin';
export const DEFAULT_AFFINITY: AliasConfig['affinity'] = 'none';
export const UNSUPPORTED_TOOLS = ['drop', 'reject'] as const satisfies readonly UnsupportedTools[];
/** Hosted tools a provider cannot run are left out (and reported), not refused. */
export const DEFAULT_UNSUPPORTED_TOOLS: UnsupportedTools = 'drop';
/** `unsupported_params`: no default value; not set, each parameter is dropped or refused by its kind. */
export const UNSUPPORTED_PARAMS = ['drop', 'reject'] as const satisfies readonly UnsupportedParams[];
export const DEFAULT_WEIGHT = 1;

export const DEFAULT_RETRY: Readonly<RetrySettings> = Object.freeze({
  attempts: 2,
  backoffMs: 250,
  maxBackoffMs: 5_000,
});

export const DEFAULT_RETRY_BUDGET: Readonly<RetryBudgetSettings> = Object.freeze({
  ratio: 0.2,
  minPerSecond: 10,
});

export const DEFAULT_COOLDOWNS: Readonly<CooldownSettings> = Object.freeze({
  // A rejected key stays rejected until someone fixes it; retrying every request only adds latency.
  authMs: 30 * 60_000,
  notFoundMs: 6 * 3_600_000,
  rateLimitMs: 1_000,
  rateLimitMaxMs: 300_000,
  ejectAfter: 3,
  ejectMs: 10_000,
  ejectMaxMs: 300_000,
  // Envoy's healthy panic threshold default; half of a small route's targets may be ejected (at
  // least one, so a lone primary can still give way to its fallbacks)
  maxEjectionPercent: 50,
  panicThresholdPercent: 50,
  // a target that fails half of its recent requests is flapping: tried less, not on every request
  successRateThresholdPercent: 50,
  successRateRequestVolume: 20,
});

export const DEFAULT_ROUTING: Readonly<RoutingConfig> = deepFreeze({
  retry: { ...DEFAULT_RETRY },
  maxAttempts: 6,
  retryBudget: { ...DEFAULT_RETRY_BUDGET },
  cooldowns: { ...DEFAULT_COOLDOWNS },
  sessionTtlMs: 3_600_000,
});

export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheckSettings> = Object.freeze({
  intervalMs: 30_000,
  timeoutMs: 5_000,
});

// ----- Agent CLIs as providers ----------------------------------------------------------------

export const AGENT_CLI_TYPES = ['claude-code', 'codex', 'gemini-cli', 'opencode'] as const satisfies readonly AgentCliKind[];
export const AGENT_CLI_MODES = ['llm', 'agent'] as const satisfies readonly AgentCliModeSetting[];

/** The executable each CLI installs, looked up on PATH when `command` is not given. */
export const AGENT_CLI_COMMANDS: Readonly<Record<AgentCliKind, string>> = Object.freeze({
  'claude-code': 'claude',
  codex: 'codex',
  'gemini-cli': 'gemini',
  opencode: 'opencode',
});

export const DEFAULT_AGENT_CLI = Object.freeze({
  mode: 'llm' as AgentCliModeSetting,
  // a subscription is one person's quota: two turns at once, the rest wait their turn
  concurrency: 2,
  queueSize: 16,
  queueTimeoutMs: 60_000,
});
