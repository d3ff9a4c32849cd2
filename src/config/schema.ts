// The raw YAML file as a TypeBox schema: the single source for validation and for docs/config.md
// (scripts/gen-config-docs.ts), hence a description on every property. Cross-field rules (unique
// names, known provider types, alias targets and fallbacks, bounds that must not cross) live in
// normalize.ts, where the whole file is known.
import { Type, type SchemaOptions, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { presets } from '../providers/presets/index.ts';
import {
  AGENT_CLI_COMMANDS, AGENT_CLI_MODES, BUDGET_PERIODS, DEFAULT_STORE_FAILURE, DEFAULT_TPM_MAX_TOKENS, FAILURE_MODES, AGENT_CLI_TYPES, DEFAULT_AGENT_CLI, AFFINITIES, DEFAULT_AFFINITY, DEFAULT_BODY_LIMIT, DEFAULT_COOLDOWNS, DEFAULT_DISCOVER_INTERVAL_S, DEFAULT_HEALTH_CHECK,
  DEFAULT_HOST, DEFAULT_KEY_STRATEGY, DEFAULT_LOGGING, DEFAULT_POOL, DEFAULT_RECENT_REQUESTS, DEFAULT_PORT, DEFAULT_MEDIA, DEFAULT_RETRY,
  DEFAULT_RESPONSE_CACHE, DEFAULT_RETRY_BUDGET, DEFAULT_ROUTING, DEFAULT_STATE, DEFAULT_STORAGE, DEFAULT_STRATEGY, DEFAULT_TIMEOUTS, DEFAULT_WEIGHT, defaultServerConfig,
  DEFAULT_UNSUPPORTED_TOOLS, KEY_STRATEGIES, LOG_FORMATS, LOG_LEVELS, STRATEGIES, UNSUPPORTED_PARAMS, UNSUPPORTED_TOOLS,
} from './defaults.ts';

/** Names a provider may take: they appear in requests as `provider:model` and `provider/model`. */
export const PROVIDER_NAME_PATTERN = '^[A-Za-z0-9_.-]+$';
export const BODY_LIMIT_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([kmg]i?b?|b)?\\s*$';

// Schema options we add ourselves; TypeBox keeps unknown keywords, so they travel with the schema.
// `errorMessage` replaces the generated "must be …" text where a pattern would read as noise.
const closed = { additionalProperties: false } as const;

function literals<const T extends readonly string[]>(values: T, options: SchemaOptions): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((value) => Type.Literal(value)), options) as TUnion<TLiteral<T[number]>[]>;
}

const presetNames = Object.keys(presets).filter((name) => name !== 'openai');

export const ServerSchema = Type.Object({
  host: Type.Optional(Type.String({ minLength: 1, default: DEFAULT_HOST, description: 'Address to bind. Binding anything but loopback requires `auth.keys` or `auth.allow_unauthenticated: true`.' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: DEFAULT_PORT, description: 'TCP port to listen on.' })),
  workers: Type.Optional(Type.Union([
    Type.Integer({ minimum: 1, maximum: 256 }),
    Type.Literal('auto'),
  ], { default: defaultServerConfig.workers, description: 'Worker processes sharing the port; `auto` = one per CPU core. Changes take effect after a restart.' })),
  body_limit: Type.Optional(Type.Union([
    Type.Integer({ minimum: 1 }),
    Type.String({ pattern: BODY_LIMIT_PATTERN }),
  ], {
    default: DEFAULT_BODY_LIMIT,
    errorMessage: "must be a number of bytes or a size such as '512kb', '32mb' or '1gb'",
    description: 'Largest accepted request body: a number of bytes, or a size with a unit (`b`, `kb`, `mb`, `gb`; 1 kb = 1024 bytes). Larger bodies get 413.',
  })),
  allowed_hosts: Type.Optional(Type.Array(Type.String(), {
    default: [],
    description: 'Host names the gateway answers to besides loopback names (`localhost`, `*.localhost`), IP addresses and `host`: e.g. the name of a reverse proxy in front of it. `*.example.com` matches subdomains; `*` accepts any `Host` (only behind a proxy that checks it). Requests for any other name get 403: after DNS rebinding, a web page reaches the gateway under its own name.',
  })),
  cors: Type.Optional(Type.Object({
    allowed_origins: Type.Optional(Type.Array(Type.String(), {
      default: [],
      description: 'Origins (`scheme://host[:port]`, e.g. `http://localhost:3000`, `chrome-extension://<id>`; `null`; or `*` for any) whose web pages may call the gateway from a browser. They get CORS answers, preflight included. Every other page is refused (403), whether or not client keys are set, so that no site you visit can spend your provider keys. Empty by default.',
    })),
  }, { ...closed, description: 'Calls from web pages (browsers send `Origin`). Clients that are not browsers (SDKs, agent CLIs, curl) send no `Origin` and are not affected.' })),
  keep_alive_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: defaultServerConfig.keepAliveTimeoutMs, description: 'How long an idle downstream (client) connection is kept open.' })),
  drain_timeout_ms: Type.Optional(Type.Integer({ minimum: 0, default: defaultServerConfig.drainTimeoutMs, description: 'On SIGTERM/SIGINT, how long to wait for in-flight requests and streams before closing them.' })),
  headers_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: defaultServerConfig.headersTimeoutMs, description: "How long a client may take to send a request's headers (a new connection counts from its opening); then 408 and the connection is closed. Changes take effect after a restart." })),
  request_timeout_ms: Type.Optional(Type.Integer({ minimum: 0, default: defaultServerConfig.requestTimeoutMs, description: 'How long a client may take to send a whole request, headers and body, counted from its first byte; then 408 and the connection is closed. Only the upload counts: an answer may stream for as long as the model takes. At least `headers_timeout_ms`; 0 = no limit. Changes take effect after a restart.' })),
  max_connections: Type.Optional(Type.Integer({ minimum: 1, description: "Most client connections open at once (per worker). Default: half of the process's open-file limit after 128 kept for the rest (each request in flight may hold an upstream socket too), at most 65536. At the cap a new connection replaces the oldest one with no request being answered (idle, or headers not finished), so the gateway keeps answering under a connection flood; only when every connection is busy is a new one refused. Changes take effect after a restart." })),
}, { ...closed, description: 'The listener.' });

const BudgetSchema = Type.Object({
  usd: Type.Number({ minimum: 0, description: 'The hard limit in USD per period: once the spend (at the answering model\'s price, see `prices`) reaches it, requests are refused with 429 `budget_exceeded` until the period ends.' }),
  period: literals(BUDGET_PERIODS, { description: 'The period the budget runs over, from 00:00 UTC: `day`, `week` (from Monday), `month` (from the 1st), or `total` (never resets).' }),
  soft_usd: Type.Optional(Type.Number({ minimum: 0, description: 'A warning threshold in USD, below `usd`: once crossed, answers carry `x-switchyard-budget-warning`, and a log line and the metric `switchyard_budget_soft_exceeded_total` mark it; nothing is refused.' })),
}, { ...closed, description: 'Spend cap. Spend is read back from the usage store at start, so it survives restarts (`storage` must be enabled for that).' });

/** The limits a key and a team share; every one absent = unlimited. */
function limitProperties(who: string) {
  return {
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
      description: `Models ${who} may use, matched against the name the caller asks for: aliases, \`provider:model\` (or \`provider/model\`), bare model names (also allowed behind any \`provider:\` prefix) and globs (\`gpt-*\`, \`openai:*\`). An alias is allowed by its own name; its targets are not looked at. Other models get 403. Absent = every model.`,
    })),
    rpm: Type.Optional(Type.Integer({ minimum: 1, description: `Requests per minute for ${who} (a sliding window); past it, 429 with \`Retry-After\` and \`x-ratelimit-*\` headers.` })),
    tpm: Type.Optional(Type.Integer({ minimum: 1, description: `Tokens (prompt + answer) per minute for ${who}. A request reserves its estimated prompt plus its max_tokens (or \`auth.tpm_default_max_tokens\`) when it starts, and settles with the real usage when it ends.` })),
    max_concurrent: Type.Optional(Type.Integer({ minimum: 1, description: `Requests of ${who} in flight at once (streams count until they end).` })),
    budget: Type.Optional(BudgetSchema),
  };
}

export const ClientKeySchema = Type.Object({
  key: Type.String({ description: 'The secret (usually `${SOME_KEY}`); an empty value drops the entry.' }),
  name: Type.String({ minLength: 1, description: 'Names the key in errors, logs and usage (never the secret). Unique.' }),
  team: Type.Optional(Type.String({ minLength: 1, description: 'A team of `auth.teams`: the request must pass the team\'s limits too, which all its keys share.' })),
  ...limitProperties('the key'),
  cache: Type.Optional(Type.Object({
    ttl_s: Type.Number({ exclusiveMinimum: 0, description: 'Seconds an answer stays cached.' }),
    per_key: Type.Optional(Type.Boolean({ default: false, description: 'Keep this key\'s cached answers apart from other callers\'.' })),
  }, { ...closed, description: 'The exact-response cache for this key\'s requests.' })),
}, { ...closed, description: 'A client key with a name and limits.' });

export const TeamSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'The name keys refer to with `team:`. Unique.' }),
  ...limitProperties('the team (all its keys together)'),
}, { ...closed, description: 'A team: limits shared by its keys.' });

export const AuthSchema = Type.Object({
  keys: Type.Optional(Type.Array(Type.Union([Type.String(), ClientKeySchema], { errorMessage: 'must be a key (a string) or a mapping such as { key: "${CI_KEY}", name: ci, rpm: 60 }' }), {
    default: [],
    description: 'Client keys accepted as `Authorization: Bearer <key>`, `x-api-key`, `x-goog-api-key` or `?key=`: a string, or a mapping `{ key, name, team, models, rpm, tpm, max_concurrent, budget, cache }` for a named key with limits. Empty keys are dropped, so `["${SWITCHYARD_KEY}"]` with the variable unset means no client authentication. Empty list = no authentication.',
  })),
  teams: Type.Optional(Type.Array(TeamSchema, { default: [], description: 'Teams whose limits their keys share (a request must pass both its key\'s and its team\'s).' })),
  tpm_default_max_tokens: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_TPM_MAX_TOKENS, description: 'Tokens a `tpm` limit reserves for the answer of a request that sets no max_tokens (settled with the real count when it ends).' })),
  on_store_failure: Type.Optional(Type.Object({
    rate_limits: Type.Optional(literals(FAILURE_MODES, { default: DEFAULT_STORE_FAILURE.rateLimits, description: '`open`: when the counters\' store cannot answer, requests are served on the counts known in process; `closed`: refused (503).' })),
    budgets: Type.Optional(literals(FAILURE_MODES, { default: DEFAULT_STORE_FAILURE.budgets, description: '`closed`: while the spend cannot be read from the usage store (at start, or a shared store is down), requests of keys with a budget are refused (503) — no spend goes unaccounted; `open`: they are served, counting from what this process saw.' })),
  }, { ...closed, description: 'What limits do when the store behind them is unreachable.' })),
  allow_unauthenticated: Type.Optional(Type.Boolean({ default: false, description: 'Allow binding a non-loopback address with no client keys. Anyone who can reach the port can then spend your provider credits.' })),
  admin_keys: Type.Optional(Type.Array(Type.String(), {
    default: [],
    description: 'Keys of the management API (`/v0/management/…`: virtual keys, teams, their usage; `switchyard keys`), sent as `Authorization: Bearer <key>`. Client keys are never accepted there, nor admin keys on the model endpoints. Empty strings are dropped. Empty list = the management API answers only callers on loopback, and only when the gateway listens on loopback. Wrong keys are throttled per client address (5 a minute).',
  })),
}, { ...closed, description: 'Client authentication, the limits of named keys and teams, and the admin keys of the management API.' });

export const LoggingSchema = Type.Object({
  level: Type.Optional(literals(LOG_LEVELS, { default: DEFAULT_LOGGING.level, description: 'Minimum level written.' })),
  format: Type.Optional(literals(LOG_FORMATS, { default: DEFAULT_LOGGING.format, description: '`json`: one JSON object per line (for collectors); `pretty`: coloured, for a terminal.' })),
  bodies: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Keep the request and response bodies of recent requests in memory, to inspect one by id with `GET /v0/requests?id=<x-request-id>`. Off by default: bodies hold prompts and answers.' })),
    max_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024, default: 64 * 1024, description: 'Bytes kept of each body; the rest is counted and cut.' })),
    keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 200, description: 'How many recent requests are kept (memory is bounded by keep × 2 × max_bytes).' })),
  }, { ...closed, description: 'Body capture for debugging single requests. Client and provider keys are redacted from what is kept; credential headers are never kept. Memory only, never written to disk.' })),
  recent_requests: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: DEFAULT_RECENT_REQUESTS, description: 'How many recent requests the management API lists (`GET /v0/management/requests`: key, model, provider, status, attempts, durations, tokens, cost), kept in memory per process, oldest forgotten first; no body is kept here (see `bodies`). Read at start. 0 = off (nothing is recorded).' })),
}, { ...closed, description: 'Logs (written to stdout).' });

const TIMEOUT_DESCRIPTIONS = {
  connect_ms: 'TCP and TLS connect (not used by agent CLIs).',
  first_byte_ms: 'From sending the request to receiving the response headers (agent CLIs: from the start of the turn to its first content); 0 = no limit.',
  idle_ms: 'Longest silence between two chunks of the response body (agent CLIs: between two parts of the answer); 0 = no limit.',
  total_ms: 'Whole attempt, headers to last byte (agent CLIs: the whole turn, not counting the wait in the queue); 0 = no limit.',
} as const;

/** With defaults for a provider; without for an alias, whose keys only override the provider's. */
function timeoutsSchema(defaults: boolean, description: string) {
  const options = (key: keyof typeof TIMEOUT_DESCRIPTIONS, value: number, note = '') =>
    defaults ? { default: value, description: TIMEOUT_DESCRIPTIONS[key] + note } : { description: `${TIMEOUT_DESCRIPTIONS[key]} Default: the provider's \`timeouts.${key}\`.` };
  return Type.Object({
    connect_ms: Type.Optional(Type.Integer({ minimum: 1, ...options('connect_ms', DEFAULT_TIMEOUTS.connectMs) })),
    first_byte_ms: Type.Optional(Type.Integer({ minimum: 0, ...options('first_byte_ms', DEFAULT_TIMEOUTS.firstByteMs, ' Long by default because reasoning models may think for minutes first.') })),
    idle_ms: Type.Optional(Type.Integer({ minimum: 0, ...options('idle_ms', DEFAULT_TIMEOUTS.idleMs) })),
    total_ms: Type.Optional(Type.Integer({ minimum: 0, ...options('total_ms', DEFAULT_TIMEOUTS.totalMs) })),
  }, { ...closed, description });
}

export const TimeoutsSchema = timeoutsSchema(true, 'Upstream timeouts for this provider.');

export const PoolSchema = Type.Object({
  connections: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_POOL.connections, description: 'Most concurrent connections to this provider; 0 = unlimited. A cap is a hidden queue: size it for peak concurrency.' })),
  keep_alive_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_POOL.keepAliveMs, description: "How long an idle upstream connection is kept for reuse; keep it below the provider's own idle timeout." })),
}, { ...closed, description: 'Upstream connection pool for this provider.' });

export const HealthCheckSchema = Type.Object({
  interval_s: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_HEALTH_CHECK.intervalMs / 1000, description: 'Seconds between two checks.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_HEALTH_CHECK.timeoutMs, description: 'Time limit for one check; a check that takes longer fails.' })),
}, { ...closed, description: 'Active health check: `GET {base_url}/models` every `interval_s`, so a provider that is down is noticed before a request is sent to it. Without it, health is judged from real requests only.' });

export const ProviderSchema = Type.Object({
  name: Type.String({
    pattern: PROVIDER_NAME_PATTERN,
    errorMessage: "must be letters, digits, '_', '.' and '-' only (':' and '/' separate provider and model in requests)",
    description: 'Unique name, used in requests as `name:model` or `name/model`, in aliases and in logs. Letters, digits, `_`, `.`, `-`.',
  }),
  type: Type.String({
    minLength: 1,
    description: `\`openai\` (the OpenAI wire format) or an OpenAI-compatible preset: ${presetNames.map((name) => `\`${name}\``).join(', ')}. With \`openai\` and a \`base_url\` other than api.openai.com, it is a plain OpenAI-compatible server with nothing assumed. Or an agent CLI you are logged into, driven as a provider for your own use: ${AGENT_CLI_TYPES.map((name) => `\`${name}\``).join(', ')} (see docs/agent-clis.md).`,
  }),
  base_url: Type.Optional(Type.String({
    minLength: 1,
    description: "http(s) URL the API paths are appended to, e.g. `http://127.0.0.1:11434/v1`. Default: the preset's URL; required for `azure-openai`. A trailing slash is removed. For `type: opencode`: a running `opencode serve` to use; absent = the gateway starts and manages one. Not for the other agent CLIs.",
  })),
  command: Type.Optional(Type.String({
    minLength: 1,
    description: `Agent CLIs only: the executable to run, a path or a name looked up on PATH. Default: ${Object.entries(AGENT_CLI_COMMANDS).map(([type, command]) => `\`${command}\` (${type})`).join(', ')}, found on PATH.`,
  })),
  args: Type.Optional(Type.Array(Type.String(), {
    description: "Agent CLIs only: extra arguments, after the ones the driver passes. The gateway itself never adds `--dangerously-skip-permissions`, `--yolo` or any flag that approves actions; arguments you add here are yours.",
  })),
  env: Type.Optional(Type.Record(Type.String(), Type.String(), {
    description: "Agent CLIs only: environment variables for the CLI, set over the gateway's own environment (e.g. `CLAUDE_CONFIG_DIR`). Values may use `${VAR}`.",
  })),
  mode: Type.Optional(literals(AGENT_CLI_MODES, {
    default: DEFAULT_AGENT_CLI.mode,
    description: 'Agent CLIs only. `llm`: the CLI answers as a model, with its tools off and nothing to approve; nothing runs on this machine even if the model asks. `agent`: the CLI may use its own tools (read and edit files, run commands, as its own permission settings allow) in a working directory of its own per conversation, under the state directory; allowed only with `auth.keys`, since any caller could then make this machine act.',
  })),
  concurrency: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 64,
    default: DEFAULT_AGENT_CLI.concurrency,
    description: 'Agent CLIs only: turns run at once (a subscription is one person\'s quota). Further requests wait in a queue of `queue_size`, up to `queue_timeout_ms`. With `server.workers` above 1, per worker process.',
  })),
  queue_size: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: DEFAULT_AGENT_CLI.queueSize,
    description: 'Agent CLIs only: requests that may wait for a free turn. A request that finds the queue full is answered 429 with `Retry-After` (or goes to another target of its route).',
  })),
  queue_timeout_ms: Type.Optional(Type.Integer({
    minimum: 1,
    default: DEFAULT_AGENT_CLI.queueTimeoutMs,
    description: 'Agent CLIs only: longest wait in the queue; a request still waiting then is answered 429 with `Retry-After` (or goes to another target of its route). A client that leaves while waiting leaves the queue.',
  })),
  api_key: Type.Optional(Type.String({ description: 'Credential sent upstream (usually `${SOME_API_KEY}`). An empty value is dropped. Use `api_keys` for several.' })),
  api_keys: Type.Optional(Type.Array(Type.String(), { description: 'Several credentials for the same endpoint, used as `key_strategy` says. Empty values are dropped. Not together with `api_key`.' })),
  key_strategy: Type.Optional(literals(KEY_STRATEGIES, {
    default: DEFAULT_KEY_STRATEGY,
    description: 'How several `api_keys` are used: `round-robin` spreads requests over them in turn; `fill-first` uses the first healthy key until it fails (rate limit, rejected key), then the next. A key in cooldown is skipped either way.',
  })),
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    description: "Model names and glob patterns (`*` any run, `?` one character) this provider serves, e.g. `[llama3.2, \"qwen3:*\"]`. Default: the preset's patterns, else none.",
  })),
  discover: Type.Optional(Type.Boolean({
    description: "Ask `GET {base_url}/models` for the model list at start-up and every `discover_interval_s`. Default: `true` when the provider ends up with no model list (none given, none from the preset); else the preset's setting when `models` is not given; else `false`.",
  })),
  discover_interval_s: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_DISCOVER_INTERVAL_S, description: 'Seconds between model-list refreshes; 0 = only at start-up.' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { default: {}, description: "Extra headers sent upstream on every request (added to the preset's). Values may use `${VAR}`." })),
  capabilities: Type.Optional(Type.Object({
    chat: Type.Optional(Type.Boolean({ description: 'Serves chat (`/chat/completions` or its dialect\'s equivalent).' })),
    completions: Type.Optional(Type.Boolean({ description: 'Serves the legacy `/completions`.' })),
    embeddings: Type.Optional(Type.Boolean({ description: 'Serves embeddings.' })),
    responses: Type.Optional(Type.Boolean({ description: 'Serves the OpenAI Responses API natively (`/responses`); when false, Responses requests are translated to chat.' })),
    images: Type.Optional(Type.Boolean({ description: 'Serves `/images/generations` (OpenAI shape; passed through, never translated).' })),
    image_edits: Type.Optional(Type.Boolean({ description: 'Serves `/images/edits` (multipart; passed through).' })),
    transcriptions: Type.Optional(Type.Boolean({ description: 'Serves `/audio/transcriptions` (multipart; passed through).' })),
    translations: Type.Optional(Type.Boolean({ description: 'Serves `/audio/translations` (multipart; passed through).' })),
    speech: Type.Optional(Type.Boolean({ description: 'Serves `/audio/speech` (the audio answer is streamed back as it arrives).' })),
    moderations: Type.Optional(Type.Boolean({ description: 'Serves `/moderations` (passed through).' })),
    rerank: Type.Optional(Type.Boolean({ description: 'Serves `/rerank` in the Cohere / Jina / vLLM shape (passed through).' })),
  }, { ...closed, description: "What the server can do, overriding the preset's defaults. A plain `type: openai` server with a custom base_url is assumed to serve chat, completions and embeddings but not the Responses API nor any media endpoint. The media and utility endpoints (`images` … `rerank`) are only ever sent to providers that serve them, as the client sent them." })),
  timeouts: Type.Optional(TimeoutsSchema),
  pool: Type.Optional(PoolSchema),
  health_check: Type.Optional(HealthCheckSchema),
  unsupported_tools: Type.Optional(literals(UNSUPPORTED_TOOLS, {
    default: DEFAULT_UNSUPPORTED_TOOLS,
    description: "Hosted tools (web search, web fetch, code execution, …) and server-side fields (Anthropic's `context_management`) a request asks for that this provider cannot express: `drop` sends the request without them and names them in the `x-switchyard-dropped` response header and the access log; `reject` refuses the request (400). A web search is mapped wherever the provider has one (see docs/translation.md). The caller's own function tools are never dropped.",
  })),
  unsupported_params: Type.Optional(literals(UNSUPPORTED_PARAMS, {
    description: "Agent CLIs only: request parameters the CLI cannot carry to its model (see the table per CLI in docs/agent-clis.md#request-parameters). `drop` sends the request without them and names them in the `x-switchyard-dropped` response header and the access log; `reject` refuses the request (400 naming them) — another target of its route may take it. Not set: by kind — knobs that only tune the answer (`temperature`, `top_p`, `top_k`, `seed`, penalties, reasoning effort or budget, `max_tokens`) are dropped and named, those that change what the answer must be (stop sequences, a JSON object or schema as the answer, a forced tool, `n` above 1, `logprobs` and other fields the gateway does not model) are refused.",
  })),
}, { ...closed, description: 'An upstream: one wire format, one base URL, its credentials.' });

export const AliasTargetSchema = Type.Object({
  provider: Type.String({ minLength: 1, description: 'Name of a configured provider.' }),
  model: Type.String({ minLength: 1, description: 'Model name sent to that provider.' }),
  weight: Type.Optional(Type.Number({ minimum: 0, default: DEFAULT_WEIGHT, description: 'Share of the traffic under `strategy: weighted`, relative to the other targets\' weights (`3` and `1` = 75 % and 25 %). At least one target needs a weight above 0.' })),
  context_window: Type.Optional(Type.Integer({ minimum: 1, description: "Largest prompt, in tokens, this target takes. A request whose estimated prompt is larger skips the target (see the alias's `on_context_overflow`). Default: no limit known (a `strategy: auto` tier also reads the built-in record of the model's window)." })),
  supports: Type.Optional(Type.Object({
    images: Type.Optional(Type.Boolean({ description: 'The model takes images in the prompt.' })),
    json_schema: Type.Optional(Type.Boolean({ description: 'The model answers in JSON that follows a given schema (structured output: `response_format` `json_schema`, Anthropic `output_config.format`, Gemini `responseSchema`).' })),
    tools: Type.Optional(Type.Boolean({ description: "The model calls the caller's function tools." })),
  }, { ...closed, description: "What the target's model can do, over the built-in records (docs/auto-routing.md#hard-constraints). Read by the tiers of a `strategy: auto` alias: a request with images, a JSON schema or tools skips a target that cannot take them, and a target with no record of it where another target is known to. Default: the built-in record of the model, else unknown." })),
}, { ...closed, description: 'One target of an alias.' });

/** With defaults for `routing.retry`; without for an alias, whose missing keys come from `routing.retry`. */
function retrySchema(defaults: boolean, description: string) {
  const options = (key: string, value: number, text: string) =>
    defaults ? { default: value, description: text } : { description: `${text} Default: \`routing.retry.${key}\`.` };
  return Type.Object({
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, ...options('attempts', DEFAULT_RETRY.attempts, 'Tries of one target, the first included, before moving on to the next target; 1 = no retry on the same target.') })),
    backoff_ms: Type.Optional(Type.Integer({ minimum: 0, ...options('backoff_ms', DEFAULT_RETRY.backoffMs, 'Wait before the first retry; each further retry doubles it (with full jitter), up to `max_backoff_ms`.') })),
    max_backoff_ms: Type.Optional(Type.Integer({ minimum: 0, ...options('max_backoff_ms', DEFAULT_RETRY.maxBackoffMs, 'Longest wait between two retries; at least `backoff_ms`.') })),
  }, { ...closed, description });
}

/** The exact-response cache of a route (an alias, or every route under the top-level `cache`). */
function routeCacheSchema(description: string) {
  return Type.Object({
    ttl_s: Type.Integer({ minimum: 0, description: 'Seconds a cached answer is served before the provider is asked again; 0 = not cached.' }),
    per_key: Type.Optional(Type.Boolean({ default: false, description: 'Keep the answers of each client key apart (a caller is never served an answer cached for another key). Default: shared by every caller of the route.' })),
  }, { ...closed, description });
}

export const AutoTierSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'The tier\'s name (`simple`, `medium`, `complex`), shown in `x-switchyard-route` and the access log. Unique within the alias.' }),
  targets: Type.Array(AliasTargetSchema, { minItems: 1, errorMessage: 'must be a non-empty list of targets, each { provider, model }', description: 'Where requests given this tier go; the cheapest healthy target first (targets with no known price last).' }),
  description: Type.Optional(Type.String({ description: 'What this tier is for, in a sentence (shown by `POST /v0/route`).' })),
}, { ...closed, description: 'One tier of an auto alias: a target list of its own.' });

export const AutoRuleSchema = Type.Object({
  when: Type.Object({
    regex: Type.Optional(Type.String({ minLength: 1, description: 'A regular expression (JavaScript syntax; a leading `(?i)`, `(?s)` or `(?m)` is taken as a flag) searched in the latest user turn, or in the system prompt with `on: system`.' })),
    on: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('system')], { default: 'user', description: 'Where `regex` looks.' })),
    min_prompt_tokens: Type.Optional(Type.Integer({ minimum: 0, description: 'The estimated prompt is at least this many tokens.' })),
    max_prompt_tokens: Type.Optional(Type.Integer({ minimum: 0, description: 'The estimated prompt is at most this many tokens.' })),
    has_images: Type.Optional(Type.Boolean({ description: 'The conversation holds an image (true), or none (false).' })),
    has_tools: Type.Optional(Type.Boolean({ description: 'The request offers tools (true), or none (false).' })),
    header: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), { description: 'Request headers and a regular expression each must match, e.g. `{ x-task: "^review$" }`.' })),
    key: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'The caller\'s key id is one of these.' })),
    team: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'The caller\'s team is one of these.' })),
  }, { ...closed, description: 'Every condition given must hold.' }),
  then: Type.Object({
    tier: Type.Optional(Type.String({ minLength: 1, description: 'A tier of this alias.' })),
    model: Type.Optional(Type.String({ minLength: 1, description: 'Another alias or `provider:model`.' })),
  }, { ...closed, description: 'Where a match goes: one of `tier` or `model`.' }),
}, { ...closed, description: 'A routing rule: the first that matches decides, before any scoring.' });

export const AliasSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'The model name clients ask for, e.g. `fast`. Unique.' }),
  targets: Type.Optional(Type.Array(AliasTargetSchema, { minItems: 1, errorMessage: 'must be a non-empty list of targets, each { provider, model }', description: 'Where requests for this name go; `strategy` picks among the healthy ones. Required, except with `strategy: auto` (which has `tiers`).' })),
  strategy: Type.Optional(literals([...STRATEGIES, 'auto'] as const, {
    default: DEFAULT_STRATEGY,
    description: 'How a target is picked: `weighted` at random in proportion to `weight`; `round-robin` in turn; `fill-first` the first healthy target in list order until it fails; `least-busy` the one with the fewest requests in flight; `latency` the one with the lowest recent latency. `auto`: the request picks a tier from `tiers` — by `rules`, else by its complexity (see docs/auto-routing.md).',
  })),
  tiers: Type.Optional(Type.Array(AutoTierSchema, { minItems: 1, description: '`strategy: auto` only: the tiers, cheapest to strongest. A failure before the first byte escalates one tier up.' })),
  rules: Type.Optional(Type.Array(AutoRuleSchema, { description: '`strategy: auto` only: rules tried in order before any scoring; the first that matches picks a tier or a model.' })),
  classifier: Type.Optional(Type.Object({
    model: Type.String({ minLength: 1, description: 'The judge: an alias or `provider:model` (a small, fast model), asked with a fixed prompt which tier fits, when no rule matched.' }),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 30_000, default: 300, description: 'How long the judge may take; past it (or on an error, or an answer that names no tier) the complexity score decides, and it is counted.' })),
  }, { ...closed, description: '`strategy: auto` only: an optional judge model.' })),
  fallbacks: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'Model names tried in order when every target has failed: other aliases, or `provider:model` / `provider/model` with a configured provider, e.g. `[cheap, "openai:gpt-4o-mini"]`.',
  })),
  on_context_overflow: Type.Optional(Type.String({
    minLength: 1,
    description: 'Model name (another alias, or `provider:model`) used instead when the estimated prompt is longer than the `context_window` of this alias\'s targets.',
  })),
  retry: Type.Optional(retrySchema(false, 'Retry policy of this alias; keys not given come from `routing.retry`.')),
  timeouts: Type.Optional(timeoutsSchema(false, "Timeouts for this alias's attempts, overriding the providers' own key by key.")),
  affinity: Type.Optional(literals(AFFINITIES, {
    default: DEFAULT_AFFINITY,
    description: '`session`: requests of one session (named by a session header, see `routing.session_header`) keep going to the target that served the session, so provider-side prompt caches keep hitting, until `routing.session_ttl_s` passes without a request. `none`: every request is routed afresh. The tiers of a `strategy: auto` alias default to `session` (each keeps its session\'s model; `none` turns that off).',
  })),
  unsupported_tools: Type.Optional(literals(UNSUPPORTED_TOOLS, {
    description: "`drop` or `reject` hosted tools a target's provider cannot express, for requests to this alias, over the providers' own `unsupported_tools`. Default: each provider's setting.",
  })),
  unsupported_params: Type.Optional(literals(UNSUPPORTED_PARAMS, {
    description: "`drop` or `reject` the request parameters a target agent CLI cannot carry, for requests to this alias, over the providers' own `unsupported_params`. Default: each provider's setting.",
  })),
  cache: Type.Optional(routeCacheSchema('Answer repeated requests to this alias from the exact-response cache (see docs/governance.md#response-cache), over the top-level `cache.ttl_s`. `{ ttl_s: 0 }` turns the cache off for this alias.')),
}, { ...closed, description: 'A model alias.' });

const seconds = (ms: number): number => ms / 1000;

export const RoutingSchema = Type.Object({
  retry: Type.Optional(retrySchema(true, 'Retry policy for routes with none of their own: bare model names, `provider:model`, and aliases without `retry`.')),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: DEFAULT_ROUTING.maxAttempts, description: 'Most upstream attempts for one request, counting every retry, target and fallback.' })),
  retry_budget: Type.Optional(Type.Object({
    ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 10, default: DEFAULT_RETRY_BUDGET.ratio, description: 'Retries allowed as a fraction of the requests over the last 10 s (0.2 = one retry per five requests), so that retries cannot multiply the load on a provider that is already failing.' })),
    min_per_second: Type.Optional(Type.Number({ minimum: 0, default: DEFAULT_RETRY_BUDGET.minPerSecond, description: 'Retries always allowed per second, whatever `ratio` says (so a quiet gateway can still retry).' })),
  }, { ...closed, description: 'Gateway-wide cap on retries.' })),
  cooldowns: Type.Optional(Type.Object({
    auth_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.authMs), description: 'Seconds a key is left out after 401/403 (rejected credential).' })),
    not_found_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.notFoundMs), description: 'Seconds a (provider, model) target is left out after 404 (model not found).' })),
    rate_limit_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.rateLimitMs), description: 'Seconds a key and model are left out after 429 without `Retry-After`; doubled per consecutive 429, up to `rate_limit_max_s`. A `Retry-After` from the provider wins.' })),
    rate_limit_max_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.rateLimitMaxMs), description: 'Longest rate-limit cooldown, also capping `Retry-After`; at least `rate_limit_s`.' })),
    eject_after: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_COOLDOWNS.ejectAfter, description: 'Consecutive failures before the commit point (5xx, timeouts, connection errors, resets before anything reached the client) after which a target is ejected. A stream that breaks after it began is counted apart (see `success_rate_threshold_percent`).' })),
    eject_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.ejectMs), description: 'Seconds an ejection lasts. Afterwards one probe request is let through: success brings the target back, failure ejects it again for twice as long, up to `eject_max_s`. Only a failed probe doubles the time, never requests that were already in flight.' })),
    eject_max_s: Type.Optional(Type.Number({ minimum: 0, default: seconds(DEFAULT_COOLDOWNS.ejectMaxMs), description: 'Longest ejection; at least `eject_s`.' })),
    max_ejection_percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: DEFAULT_COOLDOWNS.maxEjectionPercent, description: 'Most targets of a route that may be ejected at once, in percent of its targets (rounded down, but at least one). A target that would exceed it stays in rotation. 0 turns outlier ejection off (active health checks still apply).' })),
    panic_threshold_percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: DEFAULT_COOLDOWNS.panicThresholdPercent, description: 'When fewer than this share of a route\'s targets are available and none of its fallbacks has an available target, the route is in panic: ejected targets are tried like healthy ones, so ejection never leaves a model unanswerable. Rate-limit, auth and not-found cooldowns still apply. 0 = never (every target ejected answers 429).' })),
    success_rate_threshold_percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: DEFAULT_COOLDOWNS.successRateThresholdPercent, description: 'A target whose recent success rate (over about the last minute; 5xx, timeouts, connection errors and streams broken after they began count as failures) is at or below this percentage is ejected, so a flapping target gets less traffic. 0 turns it off.' })),
    success_rate_request_volume: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_COOLDOWNS.successRateRequestVolume, description: 'Recent attempts a target must have had before its success rate can eject it.' })),
  }, { ...closed, description: 'How long failing keys and targets are left out, and how many targets of a route outlier ejection may take out (after Envoy\'s outlier detection and panic threshold). Times in seconds, fractions allowed (`0.5`).' })),
  session_header: Type.Optional(Type.String({ minLength: 1, description: 'An extra request header naming the session for `affinity: session`, checked before the built-in ones. Case-insensitive.' })),
  session_ttl_s: Type.Optional(Type.Integer({ minimum: 1, default: seconds(DEFAULT_ROUTING.sessionTtlMs), description: 'Seconds a session stays pinned to its target after its last request.' })),
}, { ...closed, description: 'Retries, cooldowns and session affinity, for every route.' });

export const MediaSchema = Type.Object({
  allow_private_networks: Type.Optional(Type.Boolean({ default: DEFAULT_MEDIA.allowPrivateNetworks, description: 'Allow downloading URL images from loopback and private addresses (for providers that need media inline). Off by default, so a client cannot make the gateway reach into your network.' })),
  max_bytes: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_MEDIA.maxBytes, description: 'Largest media file downloaded for inlining.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_MEDIA.timeoutMs, description: 'Time limit for one media download.' })),
}, { ...closed, description: 'URL media for providers that only accept inline (base64) media (Gemini, Ollama): downloaded by the gateway within these limits.' });

/** A PostgreSQL URL, or empty (an unset `${VAR}`: SQLite then). */
export const POSTGRES_URL_PATTERN = '^(postgres(ql)?://|$)';

export const StorageSchema = Type.Object({
  enabled: Type.Optional(Type.Boolean({ default: DEFAULT_STORAGE.enabled, description: 'Record every routed request (time, client key id, surface, model asked, provider and model that answered, status, attempts, tokens, cost, duration) for `GET /v0/usage` and `switchyard usage`. Recording goes through a bounded queue: a slow or failing store drops rows (counted, logged) and never holds up requests.' })),
  path: Type.Optional(Type.String({ minLength: 1, description: 'The state directory, created on demand; usage goes to `usage.db` (SQLite, shared by all `--workers`) in it. A relative path is taken from the config file\'s directory, `~/` from the home directory. Default: `$SWITCHYARD_STATE_DIR`, else `$XDG_STATE_HOME/switchyard`, else `~/.local/state/switchyard`.' })),
  url: Type.Optional(Type.String({
    pattern: POSTGRES_URL_PATTERN,
    errorMessage: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/database',
    description: 'Record usage in PostgreSQL instead of SQLite: `postgres://user:password@host:5432/database` (usually `${SWITCHYARD_DATABASE_URL}`). The table `switchyard_usage` is created if missing. Empty (an unset variable) = SQLite.',
  })),
  retention_days: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Delete usage rows older than this many days (checked at start and hourly, a few thousand rows at a time so requests never wait); 0 = keep them forever. A busy gateway writes roughly 100 bytes per request.' })),
}, { ...closed, description: 'Usage recording. Read at start-up: changes take effect after a restart.' });

/** A Redis URL, or empty (an unset `${VAR}`: state in process then). */
export const REDIS_URL_PATTERN = '^(rediss?://|$)';

export const StateSchema = Type.Object({
  redis: Type.Optional(Type.String({
    pattern: REDIS_URL_PATTERN,
    errorMessage: 'must be a Redis URL such as redis://127.0.0.1:6379 (rediss:// for TLS)',
    description: 'Share rate-limit counters, `max_concurrent` slots, budget spend and the response cache between gateway instances through this Redis or Valkey server: `redis://[user:password@]host:6379[/db]` (`rediss://` for TLS; usually `${SWITCHYARD_REDIS_URL}`). Limits then hold across every instance that names the same server. Empty (an unset variable) = everything in process. The gateway starts whether or not the server answers; while it does not, each instance counts in process (see `auth.on_store_failure`) and catches up when it returns.',
  })),
  key_prefix: Type.Optional(Type.String({ minLength: 1, default: DEFAULT_STATE.keyPrefix, description: 'Prefix of every Redis key the gateway writes (every key also expires on its own). Instances that must share limits use the same prefix; separate gateways on one server use different ones.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_STATE.timeoutMs, description: 'How long a request waits for Redis before the instance counts the server as down and answers from its in-process state.' })),
}, { ...closed, description: 'Where state shared by several gateway instances lives (see docs/governance.md#several-instances). Read at start-up: changes take effect after a restart.' });

export const CacheSchema = Type.Object({
  ttl_s: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Cache the answers of every route (aliases, `provider:model`, bare model names) for this many seconds, unless an alias says otherwise with its own `cache`; 0 = only the routes and keys that ask for it.' })),
  per_key: Type.Optional(Type.Boolean({ default: false, description: 'With `ttl_s`: keep the answers of each client key apart.' })),
  max_bytes: Type.Optional(Type.Integer({ minimum: 1024, default: DEFAULT_RESPONSE_CACHE.maxBytes, description: 'Memory the in-process cache may hold (the stored answers); past it the least recently used answers go first. A reload that lowers it evicts at once.' })),
  max_entry_bytes: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_RESPONSE_CACHE.maxEntryBytes, description: 'Largest answer stored; a larger one is served but not cached.' })),
}, { ...closed, description: 'The exact-response cache (see docs/governance.md#response-cache): a repeated request (same route, messages, tools, sampling parameters and response format) is answered from memory, in the caller\'s dialect, as a stream when it asks for one. Opt-in: per alias (`models[].cache`), per key, or for every route here.' });

const perMillion = (what: string) => `USD per 1M ${what}.`;

export const PriceSchema = Type.Object({
  input: Type.Number({ minimum: 0, description: perMillion('input tokens (not read from or written to a prompt cache)') }),
  output: Type.Number({ minimum: 0, description: perMillion('output tokens') }),
  cached_input: Type.Optional(Type.Number({ minimum: 0, description: `${perMillion('input tokens read from the provider\'s prompt cache')} Default: \`input\`.` })),
  cache_write: Type.Optional(Type.Number({ minimum: 0, description: `${perMillion('input tokens written to the provider\'s prompt cache')} Default: \`input\`.` })),
  reasoning: Type.Optional(Type.Number({ minimum: 0, description: `${perMillion('reasoning (thinking) tokens, a part of the output')} Default: \`output\`.` })),
}, { ...closed, description: 'A price.' });

export const PricesSchema = Type.Record(Type.String({ minLength: 1 }), PriceSchema, {
  default: {},
  errorMessage: 'must be a mapping of model names to prices, e.g. { "gpt-4o": { input: 2.5, output: 10 } }',
  description: 'Prices per model (USD per 1M tokens), over the built-in list prices of common OpenAI, Anthropic and Gemini models (also under OpenRouter-style `vendor/model` names). Reloaded with the file. Keys are model names or globs (`my-finetune-*`), optionally `provider:model` to price one provider only; the model that answered is looked up, dated ids (`gpt-4o-2024-08-06`) fall back to their family. Local providers (Ollama, LM Studio, llama.cpp, vLLM) cost 0 unless priced here; a model with no price has no cost recorded.',
});

export const TracingSchema = Type.Object({
  endpoint: Type.String({ pattern: '^https?://', errorMessage: 'must be an http(s) URL such as http://127.0.0.1:4318/v1/traces', description: 'OTLP/HTTP traces endpoint of your collector (Jaeger, Tempo, an OpenTelemetry Collector…), e.g. `http://127.0.0.1:4318/v1/traces`. Setting it turns tracing on.' }),
  service_name: Type.Optional(Type.String({ minLength: 1, default: 'switchyard', description: 'The `service.name` of the spans.' })),
  sample_ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'Share of new traces recorded (0–1). A request whose `traceparent` says sampled is always recorded, as a child of the caller\'s span.' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { default: {}, description: 'Headers sent to the collector, e.g. an API key (`${VAR}` works; values are redacted from logs).' })),
}, { ...closed, description: 'OpenTelemetry traces over OTLP/HTTP: one span per request and one per upstream attempt, with the GenAI semantic conventions (`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.provider.name`, `gen_ai.usage.*`). Off (and not loaded) unless set. Read at start-up: changes take effect after a restart.' });

export const PluginEntrySchema = Type.Object({
  use: Type.String({ minLength: 1, description: 'The plugin: a JS/TS module (`./plugins/my.ts`, `.js`, `.mjs`), a Lua file (`./hooks/redact.lua`) or a folder holding `handler.lua` (`./plugins/pii/`), relative to this file; or the name of a built-in (`payload-rules`, `redact`, `content-guard`, `webhook`: a name without a slash or extension).' }),
  config: Type.Optional(Type.Unknown({ description: 'The plugin\'s own settings, checked by its `configSchema` (a built-in\'s are in docs/plugins.md). `${VAR}` works in them.' })),
  routes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Model names (as the client asks for them) or globs (`gpt-*`, `claude-*`) this plugin applies to; empty or absent = every model.' })),
  keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Client key ids (`name` of `auth.keys`, or a stored key\'s id) this plugin applies to; empty or absent = every caller.' })),
  on_error: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')], { description: 'What a hook that throws or runs past its time budget does to the request: `open` goes on without it (a late answer of a hook that did return is still used; a late asynchronous one is not waited for), `closed` fails the request with a 500 (`SWY_ERR_PLUGIN_FAILED`) or 504 (`SWY_ERR_PLUGIN_TIMEOUT`) in the caller\'s dialect. Either way it is logged (once per burst) and counted in `switchyard_plugin_errors_total`. Default: the plugin\'s own (`closed` for the built-in guards `redact` and `content-guard`), else `open`.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 50, description: 'Time budget of each request-side hook (onRequest, onAttempt, onResponse, onError) per call.' })),
  stream_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1, description: 'Time budget of each onStreamEvent call (a stream hook must be cheap).' })),
  memory_limit_mb: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'Lua plugins: the most memory this instance\'s Lua state may hold, in MB; JS/TS plugins with `isolate: true`: the most JS heap their thread may hold. A hook that needs more fails like a hook that throws (`on_error` decides; counted as `kind="memory"`), and the Lua state is rebuilt from the file (its globals and `switchyard.cache` start empty) or the thread is started again. Not applied to JS/TS plugins on the gateway\'s thread.' })),
  isolate: Type.Optional(Type.Boolean({ default: false, description: 'Run this JS/TS plugin in a worker thread of its own: a hook that does not answer within `timeout_ms` has its thread stopped and started again (a loop cannot hold the gateway), at the price of a copy of the request each way. Only `onRequest` and `onComplete` can be isolated. Lua plugins are always interruptible.' })),
  enabled: Type.Optional(Type.Boolean({ default: true, description: 'false keeps the entry in the file without loading it.' })),
}, { ...closed, description: 'One plugin. Hooks run in the order of this list (see docs/plugins.md).' });

export const ConfigSchema = Type.Object({
  server: Type.Optional(ServerSchema),
  auth: Type.Optional(AuthSchema),
  logging: Type.Optional(LoggingSchema),
  media: Type.Optional(MediaSchema),
  storage: Type.Optional(StorageSchema),
  prices: Type.Optional(PricesSchema),
  providers: Type.Optional(Type.Array(ProviderSchema, { default: [], errorMessage: "must be a list of providers, each item starting with '- name:'", description: 'Upstream providers, in priority order.' })),
  models: Type.Optional(Type.Array(AliasSchema, { default: [], errorMessage: "must be a list of aliases, each item starting with '- name:'", description: 'Model aliases: names clients use that resolve to one or more provider models.' })),
  routing: Type.Optional(RoutingSchema),
  tracing: Type.Optional(TracingSchema),
  cache: Type.Optional(CacheSchema),
  state: Type.Optional(StateSchema),
  plugins: Type.Optional(Type.Array(PluginEntrySchema, { default: [], errorMessage: "must be a list of plugins, each item starting with '- use:'", description: 'Plugins and guardrails (see docs/plugins.md): JS/TS or Lua hooks on the request lifecycle, and the built-ins (payload rules, redaction, content guard, webhook). Reloaded with the file, and when a plugin\'s own file changes; a plugin that fails to load keeps the previous set serving.' })),
}, { ...closed, description: 'Switchyard configuration file.' });

export type RawConfig = Static<typeof ConfigSchema>;
export type RawProvider = Static<typeof ProviderSchema>;
export type RawAlias = Static<typeof AliasSchema>;
export type RawClientKey = Static<typeof ClientKeySchema>;
export type RawTeam = Static<typeof TeamSchema>;
export type RawRouting = Static<typeof RoutingSchema>;
export type RawPrice = Static<typeof PriceSchema>;

/** Our extra keyword, see `closed` above. */
export function errorMessageOf(schema: TSchema): string | undefined {
  const message = (schema as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string' ? message : undefined;
}
