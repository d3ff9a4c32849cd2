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
  // OpenAI's media and utility APIs, served only by providers that speak them (absent = no)
  /** `POST /images/generations`. */
  images?: boolean;
  /** `POST /images/edits` (multipart). */
  imageEdits?: boolean;
  /** `POST /audio/transcriptions` (multipart). */
  transcriptions?: boolean;
  /** `POST /audio/translations` (multipart). */
  translations?: boolean;
  /** `POST /audio/speech` (audio answer). */
  speech?: boolean;
  /** `POST /moderations`. */
  moderations?: boolean;
  /** `POST /rerank` (the Cohere / Jina / vLLM shape). */
  rerank?: boolean;
}

/** The agent CLIs Switchyard drives as providers (same names as `AgentCliType` in src/agent-clis/driver.ts). */
export type AgentCliKind = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';

/** `llm`: the CLI answers as a model, its tools off; `agent`: it may use its tools (opt-in, client keys required). */
export type AgentCliModeSetting = 'llm' | 'agent';

/**
 * An agent CLI used as a provider ("use your subscriptions"): the official binary, driven by its
 * driver (src/agent-clis/<type>/), for one user's own use. No HTTP endpoint of its own.
 */
export interface AgentCliConfig {
  type: AgentCliKind;
  /** The executable as configured, else the CLI's usual name (found on PATH when the provider starts). */
  command: string;
  /** Extra arguments, after the driver's own. */
  args: string[];
  /** Variables set for the CLI, over the gateway's own environment. */
  env: Record<string, string>;
  mode: AgentCliModeSetting;
  /** Turns run at once; more wait in the queue. */
  concurrency: number;
  /** Turns that may wait for a slot; beyond it, 429. */
  queueSize: number;
  /** Longest wait for a slot; beyond it, 429. */
  queueTimeoutMs: number;
  /** opencode: a server already running; absent = the driver starts and manages one. */
  baseUrl?: string;
  /** Request parameters the CLI cannot carry: all dropped, all refused, or absent = by kind (see UnsupportedParams). */
  unsupportedParams?: UnsupportedParams;
}

/**
 * What happens to request parameters an agent CLI cannot carry to its model (temperature, stop
 * sequences, a JSON schema, …): `drop` sends the request without them and says so
 * (`x-switchyard-dropped`, the access log), `reject` refuses it (400). Not set: by kind — knobs that
 * only tune the answer are dropped, those that change its contract are refused.
 */
export type UnsupportedParams = 'drop' | 'reject';

export interface ProviderConfig {
  name: string;
  /** The wire format spoken upstream; `agent-cli` for an agent CLI (see `agentCli`). */
  dialect: Dialect | 'agent-cli';
  /** Present (and `dialect` is `agent-cli`) for an agent CLI: how it is run. */
  agentCli?: AgentCliConfig;
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
  /** Hosted tools and server-side fields this provider cannot express: left out (reported) or refused. */
  unsupportedTools: UnsupportedTools;
}

export type KeyStrategy = 'round-robin' | 'fill-first';

/**
 * What happens to hosted tools (web search, …) and server-side fields a provider cannot express:
 * `drop` sends the request without them and says so (`x-switchyard-dropped`, the access log),
 * `reject` refuses it (400). Never applies to the caller's own function tools.
 */
export type UnsupportedTools = 'drop' | 'reject';

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
  /** What the target's model can do, over the built-in capability records (read by an auto alias's hard constraints). */
  supports?: TargetSupports;
}

/** What a target's model can do: true / false as configured; absent, the built-in record decides. */
export interface TargetSupports {
  /** Takes images in the prompt. */
  images?: boolean;
  /** Answers in JSON that follows a given schema. */
  jsonSchema?: boolean;
  /** Calls the caller's function tools. */
  tools?: boolean;
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
  /** Overrides each target provider's `unsupportedTools` for requests routed through this alias. */
  unsupportedTools?: UnsupportedTools;
  /** Overrides each target agent CLI's `unsupportedParams` for requests routed through this alias. */
  unsupportedParams?: UnsupportedParams;
  /** The alias's own exact-response cache (over `cache.route`); `ttlSeconds: 0` = off for this alias. */
  cache?: RouteCacheSettings;
  /**
   * `strategy: auto`: how a request picks its tier (pipeline/auto-route.ts). Each tier is a
   * hidden alias of its own (`<alias>@<tier>`); the alias's own targets are its strongest tier's.
   */
  auto?: AutoRouting;
  /** A route the gateway made itself (an auto alias's tier): not listed among the models. */
  hidden?: boolean;
}

/** An auto alias's tiers and rules. */
export interface AutoRouting {
  /** Cheapest to strongest. */
  tiers: AutoTier[];
  rules: AutoRule[];
  /** The optional judge: a model asked which tier fits, within `timeoutMs`. */
  classifier?: { model: string; timeoutMs: number };
}

export interface AutoTier {
  name: string;
  /** The hidden alias that serves it (`<alias>@<tier>`). */
  route: string;
  description?: string;
}

export interface AutoRule {
  when: {
    /** A regular expression's source and flags, searched in the latest user turn or the system prompt. */
    regex?: { source: string; flags: string; on: 'user' | 'system' };
    minPromptTokens?: number;
    maxPromptTokens?: number;
    hasImages?: boolean;
    hasTools?: boolean;
    /** [header name (lower case), source, flags] */
    headers?: [string, string, string][];
    keys?: string[];
    teams?: string[];
  };
  then: { tier: number } | { model: string };
}

/** The exact-response cache of a route (the same shape as a key's `CacheSettings` in governance/policy.ts). */
export interface RouteCacheSettings {
  readonly ttlSeconds: number;
  /** Answers are kept apart per client key. */
  readonly perKey: boolean;
}

/** The top-level `cache`. */
export interface ResponseCacheConfig {
  /** The cache of every route without its own (undefined: only routes and keys that ask). */
  route?: RouteCacheSettings;
  maxBytes: number;
  maxEntryBytes: number;
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
  /** Consecutive 5xx / timeouts / connection failures / resets before the commit point that eject the target. */
  ejectAfter: number;
  /** Length of an ejection; doubled only by a failed half-open probe, up to ejectMaxMs. */
  ejectMs: number;
  ejectMaxMs: number;
  /** Most targets of a route (percent, rounded down, at least one) ejected at once; 0 = outlier ejection off. */
  maxEjectionPercent: number;
  /** Below this share of available targets (percent) a route with no healthy fallback ignores ejection; 0 = never. */
  panicThresholdPercent: number;
  /** A recent success rate at or below this (percent) ejects the target; 0 = off. */
  successRateThresholdPercent: number;
  /** Recent attempts (decayed over about a minute) needed before the success rate is judged. */
  successRateRequestVolume: number;
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
  /** Host names accepted besides loopback names, IP addresses and `host` (`*` = any). */
  allowedHosts: string[];
  /** Browser access: origins whose pages may call the gateway. */
  cors: CorsConfig;
  /** Longest time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Longest time to receive a whole request (headers and body); 0 = none. The response is not limited. */
  requestTimeoutMs: number;
  /** Most client connections at once; absent = derived from the open-file limit at start. */
  maxConnections?: number;
}

export interface CorsConfig {
  /** Normalized origins (`scheme://host[:port]`), `null`, or `*` for any; empty = no page may call. */
  allowedOrigins: string[];
}

export interface AuthConfig {
  /** Client keys (every secret, named ones included); empty = no client authentication. */
  keys: string[];
  /** Allow binding a non-loopback address with no client keys. */
  allowUnauthenticated: boolean;
  /** Keys of the management API (/v0/management); empty = loopback only, when the listener is loopback. */
  adminKeys: string[];
  /** Keys written as objects (`{ key, name, … }`), with their names, teams and limits; absent = none. */
  clients?: ClientKeyConfig[];
  /** Teams and their limits (`auth.teams`); absent = none. */
  teams?: TeamConfig[];
  /** Tokens a TPM limit reserves for the answer of a request that sets no max_tokens; absent = the default. */
  tpmDefaultMaxTokens?: number;
  /** What limits do when their store cannot answer; absent = the defaults (rate limits open, budgets closed). */
  onStoreFailure?: StoreFailurePolicy;
}

/** The same shape as governance's `Budget` (src/governance/policy.ts), which config may not import. */
export interface BudgetConfig {
  usd: number;
  period: 'day' | 'week' | 'month' | 'total';
  softUsd?: number;
}

/** The same shape as governance's `Limits`; every field absent = unlimited. */
export interface LimitsConfig {
  models?: string[];
  rpm?: number;
  tpm?: number;
  maxConcurrent?: number;
  budget?: BudgetConfig;
}

/** A client key written as an object in `auth.keys`. */
export interface ClientKeyConfig {
  key: string;
  name: string;
  team?: string;
  /** Absent when the key sets no limit of its own. */
  limits?: LimitsConfig;
  cache?: { ttlSeconds: number; perKey: boolean };
}

export interface TeamConfig {
  name: string;
  limits?: LimitsConfig;
}

export type FailureMode = 'open' | 'closed';

export interface StoreFailurePolicy {
  /** `open`: serve with the last counts known in process; `closed`: refuse (503). */
  rateLimits: FailureMode;
  /** `open`: serve as if nothing had been spent beyond what this process counted; `closed`: refuse (503). */
  budgets: FailureMode;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggingConfig {
  level: LogLevel;
  format: 'json' | 'pretty';
  /** Request/response body capture for inspecting single requests; absent = off. */
  bodies?: BodyLogSettings;
  /** Recent requests kept for the management API (`logging.recent_requests`); absent = the default, 0 = off. */
  recentRequests?: number;
}

/** Bodies of recent requests, kept in memory (bounded) and shown by `GET /v0/requests?id=`. */
export interface BodyLogSettings {
  /** Bytes kept of each body (request and response each); the rest is counted, not kept. */
  maxBytes: number;
  /** How many recent requests are kept; older ones are forgotten first. */
  keep: number;
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

/** List prices in USD per 1M tokens. */
export interface PriceSettings {
  input: number;
  output: number;
  /** Input tokens read from the provider's prompt cache; default: `input`. */
  cachedInput?: number;
  /** Input tokens written to the provider's prompt cache; default: `input`. */
  cacheWrite?: number;
  /** Reasoning tokens (a part of the output); default: `output`. */
  reasoning?: number;
}

/** One `prices:` entry: a model name or glob, optionally for one provider only. */
export interface PriceOverride {
  /** Model name or glob (`*`, `?`), without the provider prefix. */
  model: string;
  /** Set by a `provider:model` key whose prefix is a configured provider. */
  provider?: string;
  price: PriceSettings;
}

/**
 * Where request usage is recorded: SQLite under the state directory by default, PostgreSQL when a
 * URL is given. Read once at start: changes take effect after a restart.
 */
export interface StorageConfig {
  enabled: boolean;
  /** The state directory (holds `usage.db`); absent = `$SWITCHYARD_STATE_DIR`, `$XDG_STATE_HOME/switchyard` or `~/.local/state/switchyard`. */
  path?: string;
  /** `postgres://…`: record in PostgreSQL instead. A secret (it may carry a password). */
  url?: string;
  /** Rows older than this many days are deleted (hourly, in small chunks); 0 = kept forever. */
  retentionDays: number;
}

/**
 * State shared by several instances (`state:`): with `redis` set, rate-limit counters, concurrency
 * slots, budget spend and the response cache live in that Redis/Valkey server. Read once at start.
 */
export interface StateConfig {
  /** `redis://…` / `rediss://…`; absent = everything in process. A secret (it may carry a password). */
  redis?: string;
  /** Prefix of every key written (`switchyard:`). */
  keyPrefix: string;
  /** How long a command may take before the server counts as down. */
  timeoutMs: number;
}

/** OpenTelemetry traces over OTLP/HTTP; absent = off (nothing loaded). Read at start-up. */
export interface TracingConfig {
  /** OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  endpoint: string;
  serviceName: string;
  /** Share of new traces kept (0–1); a caller's sampled `traceparent` is always followed. */
  sampleRatio: number;
  /** Extra headers for the collector (e.g. an API key). Secrets: redacted from logs. */
  headers: Record<string, string>;
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
  storage: StorageConfig;
  /** Price overrides, in file order; the built-in list applies to models none of them match. */
  prices: PriceOverride[];
  tracing?: TracingConfig;
  cache: ResponseCacheConfig;
  state: StateConfig;
  /** Plugins, in hook order (disabled entries left out). */
  plugins: PluginConfig[];
}

/** One `plugins:` entry. */
export interface PluginConfig {
  /** Where it was in the file's list (for messages: `plugins[2]`). */
  index: number;
  /** An absolute path (JS/TS module, Lua file or folder), or a built-in's name when `builtin`. */
  use: string;
  builtin: boolean;
  /** The entry's `config:` as written (after `${VAR}`), for the plugin's schema to check. */
  config: unknown;
  /** Model globs this plugin applies to; empty = every model. */
  routes: string[];
  /** Client key ids it applies to; empty = every caller. */
  keys: string[];
  /** As written; undefined: the plugin's own default (`PluginDefinition.onError`), else open. */
  onError: 'open' | 'closed' | undefined;
  /** A JS/TS plugin in a worker thread of its own (plugins/isolated.ts). */
  isolate: boolean;
  timeoutMs: number;
  streamTimeoutMs: number;
  /** Lua plugins: the most memory the instance's Lua state may hold, MB. */
  memoryLimitMb: number;
}
