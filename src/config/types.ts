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
}

export interface AliasTarget { provider: string; model: string }
export interface AliasConfig { name: string; targets: AliasTarget[] }

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
  logging: LoggingConfig;
  media: MediaConfig;
}
