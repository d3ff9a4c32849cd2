// The plugin API (issue #18): what a plugin file exports and what its hooks receive. Types only,
// besides `definePlugin`, so a plugin written in TypeScript is checked against it and a plain
// object works the same at run time (a plugin file needs no import to run).
//
// The lifecycle a hook sees (docs/plugins.md; the phases of src/pipeline/phases.ts):
//   onRequest      decode    the canonical request, after auth and decoding, before limits and routing
//   onAttempt      attempt   each upstream attempt: provider, model, headers (no credentials)
//   onResponse     stream    a non-streamed answer, in canonical form, before it is encoded
//   onStreamEvent  stream    each canonical stream part, before it is encoded
//   onError        any       the error about to be answered (or sent as a stream's error event)
//   onComplete     complete  once the response closed, off the response path
// Hooks run in the order the config lists the plugins.
import type { CanonicalRequest } from '../canonical/request.ts';
import type { CanonicalResponse } from '../canonical/response.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { Usage } from '../canonical/usage.ts';

export type { CanonicalRequest, CanonicalResponse, StreamPart, Usage };
export type { ContentPart, Message, Role, ToolDefinition } from '../canonical/request.ts';

/** What `ctx.reject(…)` returns: throw it from a hook to refuse the request in the caller's own dialect. */
export interface PluginRejection extends Error {
  readonly status: number;
  /** The error code the client gets (`x-switchyard-error-code`): `SWY_ERR_PLUGIN_REJECTED` unless the hook named one. */
  readonly code: string;
  readonly rejection: true;
}

/** What a hook knows about the request it runs for. One object per request and plugin. */
export interface PluginContext<Config = unknown> {
  /** The request's id (`x-request-id`), as in the access log. */
  readonly requestId: string;
  /** The plugin's name (from its definition). */
  readonly plugin: string;
  /** This plugin entry's `config:` from switchyard.yaml, after its schema checked it. */
  readonly config: Config;
  /** The caller's key id ('' when client keys are off). */
  readonly keyId: string;
  /** The model name the client asked for. */
  readonly model: string;
  /** The caller's dialect: `openai`, `anthropic`, `gemini` or `ollama`. */
  readonly dialect: string;
  /** The endpoint called: `openai-chat`, `openai-responses`, `anthropic-messages`, `gemini-generate`, `ollama-chat`, … */
  readonly surface: string;
  /** The request path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Whether the client asked for a stream. */
  readonly stream: boolean;
  /** A request header (lower-case name); credentials (`authorization`, `x-api-key`, cookies, …) read as undefined. */
  header(name: string): string | undefined;
  /** Scratch space kept for this request and plugin, from onRequest to onComplete. */
  readonly state: Record<string, unknown>;
  /** Writes to the gateway's log, tagged with the plugin and request. */
  log(message: string, fields?: Record<string, unknown>): void;
  /**
   * An error to throw that refuses the request with `status` (400–599) and `message`, in the
   * caller's dialect. `code` names the refusal for clients and dashboards (`x-switchyard-error-code`):
   * `content_blocked` or `SWY_ERR_PLUGIN_CONTENT_BLOCKED` both give `SWY_ERR_PLUGIN_CONTENT_BLOCKED`
   * (letters, digits and `_`, at most 48 after the prefix; `FAILED` and `TIMEOUT` are the gateway's).
   * Absent or not of that shape: `SWY_ERR_PLUGIN_REJECTED`.
   */
  reject(status: number, message: string, code?: string): PluginRejection;
}

/** One upstream attempt. `headers` may be changed (not the provider's credentials, which the hook never sees). */
export interface AttemptInfo {
  readonly provider: string;
  readonly model: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The provider's dialect (`openai`, `anthropic`, `gemini`, `ollama`, …). */
  readonly dialect: string;
  /** The request's headers to the provider, credentials left out; set a value to add or change a header. */
  readonly headers: Record<string, string>;
}

/** The error about to be sent, as onError sees it. Return a changed copy to replace status and message. */
export interface PluginErrorInfo {
  status: number;
  code: string;
  message: string;
}

/** What onComplete is told once the response has closed. */
export interface CompletionSummary {
  readonly requestId: string;
  readonly status: number;
  readonly keyId: string;
  /** The model asked for, and the provider and model that answered ('' when none did). */
  readonly model: string;
  readonly provider: string;
  readonly upstreamModel: string;
  readonly stream: boolean;
  readonly attempts: number;
  readonly usage: Usage | undefined;
  /** USD at the answering model's price; undefined when usage or price is unknown. */
  readonly costUsd: number | undefined;
  readonly durationMs: number;
  /** ms to the first byte sent to the client (0 when none was). */
  readonly firstByteMs: number;
  readonly cached: boolean;
  /** The client went away before the answer was complete. */
  readonly aborted: boolean;
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

export type Awaitable<T> = T | Promise<T>;

/**
 * A hook returns nothing to keep what it was given (changed in place or not), or a replacement.
 * onStreamEvent also returns `null` to drop the part, or an array of parts to put in its place.
 */
export interface PluginHooks<Config = unknown> {
  onRequest?(ctx: PluginContext<Config>, request: CanonicalRequest): Awaitable<CanonicalRequest | void | undefined>;
  onAttempt?(ctx: PluginContext<Config>, attempt: AttemptInfo): void;
  onResponse?(ctx: PluginContext<Config>, response: CanonicalResponse): CanonicalResponse | void | undefined;
  onStreamEvent?(ctx: PluginContext<Config>, part: StreamPart): StreamPart | readonly StreamPart[] | null | void | undefined;
  onError?(ctx: PluginContext<Config>, error: PluginErrorInfo): PluginErrorInfo | void | undefined;
  onComplete?(ctx: PluginContext<Config>, summary: CompletionSummary): Awaitable<void>;
}

/** What `setup` gets besides its config. */
export interface PluginHost {
  /** The folder the plugin was loaded from ('' for a built-in). */
  readonly dir: string;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** Hooks of one configured instance, with what to do when the instance is replaced (reload) or the gateway stops. */
export interface PluginInstance<Config = unknown> extends PluginHooks<Config> {
  dispose?(): Awaitable<void>;
  /**
   * Called once a request whose hooks this instance ran has ended, after its onComplete: lets go
   * of what the instance kept for that request outside `ctx.state` (the Lua host's state tables).
   */
  requestEnded?(ctx: PluginContext<Config>): void;
}

/**
 * A config schema: any Standard Schema (zod, valibot, arktype: `~standard.validate`) or a TypeBox
 * schema (the gateway's own, `@sinclair/typebox`).
 */
export type PluginConfigSchema = object;

/** A plugin file's default export. */
export interface PluginDefinition<Config = unknown> {
  name: string;
  /** Checks the entry's `config:` at load; a failure names the plugin, the file and the field. */
  configSchema?: PluginConfigSchema;
  /**
   * What a failure of this plugin does when its entry does not say (`on_error`): `open` (the
   * default) goes on without it, `closed` fails the request — what a guardrail should do.
   */
  onError?: 'open' | 'closed';
  /** The hooks, when they need nothing built per configured instance. */
  hooks?: PluginHooks<Config>;
  /**
   * Builds one configured instance's hooks (closures may hold its state: a queue, a compiled
   * pattern), at load and again on every reload; used instead of `hooks` when present.
   */
  setup?(config: Config, host: PluginHost): Awaitable<PluginInstance<Config>>;
}

/** Types a plugin; returns it unchanged. */
export function definePlugin<Config = unknown>(plugin: PluginDefinition<Config>): PluginDefinition<Config> {
  return plugin;
}
