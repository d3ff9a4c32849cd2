// The validated, normalized, frozen configuration snapshot that the data plane runs on.
// Produced once per load by config/load.ts; hot reload swaps whole snapshots.

export interface TimeoutSettings {
  /** TCP (and TLS) connect. */
  connectMs: number;
  /** From dispatch to the response headers. */
  firstByteMs: number;
  /** Longest silence between two body chunks. */
  idleMs: number;
  /** Whole attempt, headers to last byte; 0 = no limit. */
  totalMs: number;
}

export interface PoolSettings {
  /** Connections per endpoint (0 = unlimited). Sized for peak concurrency: a cap is a hidden queue. */
  connections: number;
  /** Idle keep-alive; must stay below the upstream's own idle timeout. */
  keepAliveMs: number;
}

/** How the credential is sent upstream. */
export interface AuthStyle {
  /** Lower-case header name, e.g. `authorization` or `api-key`. */
  header: string;
  /** Prefix before the key, e.g. `Bearer ` (with the space), or '' for none. */
  prefix: string;
}

/** The wire formats Switchyard can speak upstream. */
export type Dialect = 'openai' | 'openai-responses' | 'anthropic' | 'gemini' | 'ollama';

export interface ProviderCapabilities {
  chat: boolean;
  completions: boolean;
  embeddings: boolean;
  responses: boolean;
}

export interface ProviderConfig {
  name: string;
  /** The wire format spoken upstream. */
  dialect: Dialect;
  /** The preset the provider was built from, if any (`openrouter`, `groq`, …). */
  preset?: string;
  /** Without a trailing slash, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** Credentials; empty for keyless local servers. Never logged. */
  apiKeys: string[];
  auth: AuthStyle;
  /** Model names and glob patterns (`*`) this provider serves. */
  models: string[];
  /** Ask `GET {baseUrl}/models` for the model list (cached, refreshed in the background). */
  discover: boolean;
  discoverIntervalMs: number;
  /** Extra headers sent upstream on every request. */
  headers: Record<string, string>;
  timeouts: TimeoutSettings;
  pool: PoolSettings;
  capabilities: ProviderCapabilities;
  /** How several `apiKeys` are used: in turn, or the first healthy one until it fails. */
  keyStrategy: KeyStrategy;
  /** Optional active health check (GET of the model list); absent = passive health only. */
  healthCheck?: HealthCheckSettings;
}

export type KeyStrategy = 'round-robin' | 'fill-first';

export interface HealthCheckSettings {
  intervalMs: number;
  timeoutMs: number;
}

/** How an alias picks among its healthy targets. */
export type Strategy = 'weighted' | 'round-robin' | 'fill-first' | 'least-busy' | 'latency';

export interface RetrySettings {
  /** Tries of one target (first try included) before moving on; 1 = no retry on the same target. */
  attempts: number;
  /** First back-off; each further retry doubles it (full jitter), capped by maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface AliasTarget {
  provider: string;
  model: string;
  /** For `strategy: weighted` (default 1). */
  weight: number;
  /** Largest prompt (tokens) this target takes; when the gateway's estimate is above it, the target is skipped as overflowing. */
  contextWindow?: number;
}

export interface AliasConfig {
  name: string;
  targets: AliasTarget[];
  strategy: Strategy;
  /** Other model names (aliases or `provider:model`) tried in order when every target failed. */
  fallbacks: string[];
  /** Model name used when the prompt is too long for these targets. */
  onContextOverflow?: string;
  /** Retry policy of this alias (the `routing.retry` default when not given). */
  retry: RetrySettings;
  /** Per-attempt timeouts overriding the providers' own; only the keys given. */
  timeouts?: Partial<TimeoutSettings>;
  affinity: 'none' | 'session';
}

/** Cooldowns per (provider key, model), as data. */
export interface CooldownSettings {
  /** After 401/403. */
  authMs: number;
  /** After 404 (model not found). */
  notFoundMs: number;
  /** After 429 without Retry-After: first back-off, doubled per consecutive 429 up to rateLimitMaxMs. Retry-After, when sent, wins (capped by rateLimitMaxMs). */
  rateLimitMs: number;
  rateLimitMaxMs: number;
  /** Consecutive 5xx / timeouts / connection failures before the target is ejected. */
  ejectAfter: number;
  /** First ejection; doubled per consecutive ejection up to ejectMaxMs; then one half-open probe. */
  ejectMs: number;
  ejectMaxMs: number;
}

export interface RetryBudgetSettings {
  /** Retries allowed as a fraction of requests over the last 10 s. */
  ratio: number;
  /** Retries always allowed per second, whatever the ratio says. */
  minPerSecond: number;
}

export interface RoutingConfig {
  /** Retry policy for routes with none of their own (bare model names, `provider:model`, aliases without `retry`). */
  retry: RetrySettings;
  /** Most upstream attempts for one request across targets and fallbacks. */
  maxAttempts: number;
  retryBudget: RetryBudgetSettings;
  cooldowns: CooldownSettings;
  /** An extra request header naming the session, checked before the built-in ones. */
  sessionHeader?: string;
  /** How long a session stays pinned to its target after its last request. */
  sessionTtlMs: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** Worker processes; `auto` = one per core. */
  workers: number | 'auto';
  /** Largest accepted request body, bytes. */
  bodyLimitBytes: number;
  /** Downstream keep-alive idle timeout. */
  keepAliveTimeoutMs: number;
  /** How long SIGTERM waits for in-flight requests and streams. */
  drainTimeoutMs: number;
}

export interface AuthConfig {
  /** Client keys; empty = no client authentication. */
  keys: string[];
  /** Allow binding a non-loopback address with no client keys. */
  allowUnauthenticated: boolean;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggingConfig {
  level: LogLevel;
  format: 'json' | 'pretty';
}

/**
 * Downloading URL media for providers that only take it inline (base64): bounded in size and
 * time, and — unless allowed — never to loopback or private addresses (no SSRF through the gateway).
 */
export interface MediaConfig {
  allowPrivateNetworks: boolean;
  maxBytes: number;
  timeoutMs: number;
}

export interface GatewayConfig {
  /** The file it came from, or `zero-config`. */
  source: string;
  server: ServerConfig;
  auth: AuthConfig;
  providers: ProviderConfig[];
  models: AliasConfig[];
  routing: RoutingConfig;
  logging: LoggingConfig;
  media: MediaConfig;
}
