// The raw YAML file as a TypeBox schema: the single source for validation and for docs/config.md
// (scripts/gen-config-docs.ts), hence a description on every property. Cross-field rules (unique
// names, known provider types, alias targets) live in normalize.ts, where the whole file is known.
import { Type, type SchemaOptions, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { presets } from '../providers/presets/index.ts';
import {
  DEFAULT_BODY_LIMIT, DEFAULT_DISCOVER_INTERVAL_S, DEFAULT_HOST, DEFAULT_LOGGING, DEFAULT_POOL, DEFAULT_PORT,
  DEFAULT_MEDIA, DEFAULT_TIMEOUTS, defaultServerConfig, LOG_FORMATS, LOG_LEVELS,
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
  keep_alive_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: defaultServerConfig.keepAliveTimeoutMs, description: 'How long an idle downstream (client) connection is kept open.' })),
  drain_timeout_ms: Type.Optional(Type.Integer({ minimum: 0, default: defaultServerConfig.drainTimeoutMs, description: 'On SIGTERM/SIGINT, how long to wait for in-flight requests and streams before closing them.' })),
}, { ...closed, description: 'The listener.' });

export const AuthSchema = Type.Object({
  keys: Type.Optional(Type.Array(Type.String(), {
    default: [],
    description: 'Client keys accepted as `Authorization: Bearer <key>`, `x-api-key`, `x-goog-api-key` or `?key=`. Empty strings are dropped, so `["${SWITCHYARD_KEY}"]` with the variable unset means no client authentication. Empty list = no authentication.',
  })),
  allow_unauthenticated: Type.Optional(Type.Boolean({ default: false, description: 'Allow binding a non-loopback address with no client keys. Anyone who can reach the port can then spend your provider credits.' })),
}, { ...closed, description: 'Client authentication.' });

export const LoggingSchema = Type.Object({
  level: Type.Optional(literals(LOG_LEVELS, { default: DEFAULT_LOGGING.level, description: 'Minimum level written.' })),
  format: Type.Optional(literals(LOG_FORMATS, { default: DEFAULT_LOGGING.format, description: '`json`: one JSON object per line (for collectors); `pretty`: coloured, for a terminal.' })),
}, { ...closed, description: 'Logs (written to stdout).' });

export const TimeoutsSchema = Type.Object({
  connect_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_TIMEOUTS.connectMs, description: 'TCP and TLS connect.' })),
  first_byte_ms: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_TIMEOUTS.firstByteMs, description: 'From sending the request to receiving the response headers; 0 = no limit. Long by default because reasoning models may think for minutes first.' })),
  idle_ms: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_TIMEOUTS.idleMs, description: 'Longest silence between two chunks of the response body; 0 = no limit.' })),
  total_ms: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_TIMEOUTS.totalMs, description: 'Whole attempt, headers to last byte; 0 = no limit.' })),
}, { ...closed, description: 'Upstream timeouts for this provider.' });

export const PoolSchema = Type.Object({
  connections: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_POOL.connections, description: 'Most concurrent connections to this provider; 0 = unlimited. A cap is a hidden queue: size it for peak concurrency.' })),
  keep_alive_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_POOL.keepAliveMs, description: "How long an idle upstream connection is kept for reuse; keep it below the provider's own idle timeout." })),
}, { ...closed, description: 'Upstream connection pool for this provider.' });

export const ProviderSchema = Type.Object({
  name: Type.String({
    pattern: PROVIDER_NAME_PATTERN,
    errorMessage: "must be letters, digits, '_', '.' and '-' only (':' and '/' separate provider and model in requests)",
    description: 'Unique name, used in requests as `name:model` or `name/model`, in aliases and in logs. Letters, digits, `_`, `.`, `-`.',
  }),
  type: Type.String({
    minLength: 1,
    description: `\`openai\` (the OpenAI wire format) or an OpenAI-compatible preset: ${presetNames.map((name) => `\`${name}\``).join(', ')}. With \`openai\` and a \`base_url\` other than api.openai.com, it is a plain OpenAI-compatible server with nothing assumed.`,
  }),
  base_url: Type.Optional(Type.String({
    minLength: 1,
    description: "http(s) URL the API paths are appended to, e.g. `http://127.0.0.1:11434/v1`. Default: the preset's URL; required for `azure-openai`. A trailing slash is removed.",
  })),
  api_key: Type.Optional(Type.String({ description: 'Credential sent upstream (usually `${SOME_API_KEY}`). An empty value is dropped. Use `api_keys` for several.' })),
  api_keys: Type.Optional(Type.Array(Type.String(), { description: 'Several credentials for the same endpoint, used round-robin. Empty values are dropped. Not together with `api_key`.' })),
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
  }, { ...closed, description: "What the server can do, overriding the preset's defaults. A plain `type: openai` server with a custom base_url is assumed to serve chat, completions and embeddings but not the Responses API." })),
  timeouts: Type.Optional(TimeoutsSchema),
  pool: Type.Optional(PoolSchema),
}, { ...closed, description: 'An upstream: one wire format, one base URL, its credentials.' });

export const AliasTargetSchema = Type.Object({
  provider: Type.String({ minLength: 1, description: 'Name of a configured provider.' }),
  model: Type.String({ minLength: 1, description: 'Model name sent to that provider.' }),
}, { ...closed, description: 'One target of an alias.' });

export const AliasSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'The model name clients ask for, e.g. `fast`. Unique.' }),
  targets: Type.Array(AliasTargetSchema, { minItems: 1, errorMessage: 'must be a non-empty list of targets, each { provider, model }', description: 'Where requests for this name go; several targets are used round-robin.' }),
}, { ...closed, description: 'A model alias.' });

export const MediaSchema = Type.Object({
  allow_private_networks: Type.Optional(Type.Boolean({ default: DEFAULT_MEDIA.allowPrivateNetworks, description: 'Allow downloading URL images from loopback and private addresses (for providers that need media inline). Off by default, so a client cannot make the gateway reach into your network.' })),
  max_bytes: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_MEDIA.maxBytes, description: 'Largest media file downloaded for inlining.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_MEDIA.timeoutMs, description: 'Time limit for one media download.' })),
}, { ...closed, description: 'URL media for providers that only accept inline (base64) media (Gemini, Ollama): downloaded by the gateway within these limits.' });

export const ConfigSchema = Type.Object({
  server: Type.Optional(ServerSchema),
  auth: Type.Optional(AuthSchema),
  logging: Type.Optional(LoggingSchema),
  media: Type.Optional(MediaSchema),
  providers: Type.Optional(Type.Array(ProviderSchema, { default: [], errorMessage: "must be a list of providers, each item starting with '- name:'", description: 'Upstream providers, in priority order.' })),
  models: Type.Optional(Type.Array(AliasSchema, { default: [], errorMessage: "must be a list of aliases, each item starting with '- name:'", description: 'Model aliases: names clients use that resolve to one or more provider models.' })),
}, { ...closed, description: 'Switchyard configuration file.' });

export type RawConfig = Static<typeof ConfigSchema>;
export type RawProvider = Static<typeof ProviderSchema>;
export type RawAlias = Static<typeof AliasSchema>;

/** Our extra keyword, see `closed` above. */
export function errorMessageOf(schema: TSchema): string | undefined {
  const message = (schema as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string' ? message : undefined;
}
