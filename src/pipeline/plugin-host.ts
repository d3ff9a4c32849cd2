// The plugin host (issue #18): the loaded plugins of one config snapshot, compiled into lifecycle
// handlers (phases.ts). A phase gets a handler only when some plugin has a hook for it, so a
// config without plugins pays nothing; with plugins, a request first learns which of them apply
// (their `routes` and `keys`), once, in the decode phase.
//
// Isolation. Every hook call goes through `invoke`: a rejection (`throw ctx.reject(…)`) refuses
// the request in the caller's dialect; any other throw, and a call that returns after its time
// budget, is a plugin failure — `on_error: open` skips the hook, `closed` fails the request.
// Failures are counted by plugin, hook and kind, and logged once per burst. A JS hook runs on the
// gateway's thread: a synchronous loop that never returns cannot be stopped from inside the
// process (docs/plugins.md says why); a Lua hook is interrupted by its instruction-count hook.
import type { ErrorInfo } from '../canonical/errors.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { CanonicalResponse } from '../canonical/response.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { Logger } from '../observability/logger.ts';
import type { AttemptInfo, CompletionSummary, PluginContext, PluginErrorInfo, PluginHooks, PluginInstance, PluginRejection } from '../plugins/api.ts';
import type { LoadedPlugin } from '../plugins/load.ts';
import { compileGlobs } from '../util/glob.ts';
import type { RequestContext } from './context.ts';
import type { CompleteHandler, RequestHandler, PhaseOutcome } from './phases.ts';

type HookName = keyof PluginHooks;

/** Request headers a hook never reads (the caller's credentials). */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie']);
/** Upstream headers a hook may not set (the provider's credentials are the gateway's). */
const PROTECTED_UPSTREAM_HEADERS: ReadonlySet<string> = new Set([...SECRET_HEADERS, 'content-length', 'host', 'transfer-encoding', 'connection']);
/** A failure burst is logged once; the next line comes after this much quiet (with the count). */
const LOG_BURST_MS = 10_000;

/** What failed, for `switchyard_plugin_errors_total{plugin,hook,kind}` (`memory`: a Lua state or an isolated plugin's thread past its `memory_limit_mb`). */
export type PluginFailureKind = 'throw' | 'timeout' | 'memory';

const PLUGIN_CODE_PREFIX = 'SWY_ERR_PLUGIN_';
/** What follows the prefix in a plugin's own error code. */
const PLUGIN_CODE_NAME = /^[A-Z][A-Z0-9_]{0,47}$/;
/** The gateway's own plugin codes, which a refusal may not claim (a failure and a timeout are not refusals). */
const RESERVED_PLUGIN_CODES: ReadonlySet<string> = new Set([ErrorCode.pluginFailed, ErrorCode.pluginTimeout]);

/**
 * The error code of a plugin's refusal: `content_blocked`, `CONTENT_BLOCKED` and
 * `SWY_ERR_PLUGIN_CONTENT_BLOCKED` all name `SWY_ERR_PLUGIN_CONTENT_BLOCKED`. A plugin's codes stay
 * in the PLUGIN area (a refusal never passes for the gateway's auth or limit errors); anything else
 * is undefined, and the refusal is `SWY_ERR_PLUGIN_REJECTED`.
 */
export function pluginRejectionCode(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  const upper = code.toUpperCase();
  const name = upper.startsWith(PLUGIN_CODE_PREFIX) ? upper.slice(PLUGIN_CODE_PREFIX.length) : upper;
  if (!PLUGIN_CODE_NAME.test(name) || name.startsWith('SWY_ERR_')) return undefined;
  const full = PLUGIN_CODE_PREFIX + name;
  return RESERVED_PLUGIN_CODES.has(full) ? undefined : full;
}

/** Plugin failures by `plugin\0hook\0kind`, kept across reloads (the metric reads it at scrape time). */
export type PluginFailureCounts = Map<string, number>;

/** One loaded plugin entry, as the host calls it. */
class Slot {
  readonly name: string;
  readonly hooks: PluginInstance;
  readonly config: unknown;
  readonly closed: boolean;
  readonly timeoutMs: number;
  readonly streamTimeoutMs: number;
  private readonly models: ((model: string) => boolean) | undefined;
  private readonly keys: ReadonlySet<string> | undefined;
  readonly scoped: boolean;
  /** The instance enforces its own budget (an isolated plugin's thread): the host sets no timer. */
  readonly selfTimed: boolean;
  /** Whether this plugin needs the answer in canonical form (so its requests are translated). */
  readonly answers: boolean;
  failuresSinceLog = 0;
  lastLoggedAt = -Infinity;
  /** A refusal's code that is not a plugin code was logged (once per instance). */
  warnedCode = false;

  constructor(plugin: LoadedPlugin) {
    this.name = plugin.name;
    this.hooks = plugin.instance;
    this.config = plugin.entry.config;
    this.closed = plugin.entry.onError === 'closed';
    this.timeoutMs = plugin.entry.timeoutMs;
    this.streamTimeoutMs = plugin.entry.streamTimeoutMs;
    this.models = plugin.entry.routes.length > 0 ? compileGlobs(plugin.entry.routes) : undefined;
    this.keys = plugin.entry.keys.length > 0 ? new Set(plugin.entry.keys) : undefined;
    this.scoped = this.models !== undefined || this.keys !== undefined;
    this.selfTimed = (plugin.instance as { selfTimed?: unknown }).selfTimed === true;
    const hooks = plugin.instance;
    this.answers = hooks.onResponse !== undefined || hooks.onStreamEvent !== undefined;
  }

  applies(model: string, keyId: string): boolean {
    return (this.models === undefined || this.models(model)) && (this.keys === undefined || this.keys.has(keyId));
  }
}

/** Which plugins apply to one request, and their contexts (made on first use). */
export class PluginRun {
  readonly slots: readonly Slot[];
  readonly contexts: (HookContext | undefined)[];
  constructor(slots: readonly Slot[]) {
    this.slots = slots;
    this.contexts = new Array<HookContext | undefined>(slots.length);
  }
}

class Rejection extends Error implements PluginRejection {
  readonly status: number;
  readonly code: string;
  readonly rejection = true as const;
  constructor(status: number, message: string, code: string) {
    super(message);
    this.name = 'PluginRejection';
    this.status = status;
    this.code = code;
  }
}

/** `PluginContext` for one request and plugin: reads the request context when asked. */
class HookContext implements PluginContext {
  private readonly request: RequestContext;
  private readonly slot: Slot;
  private readonly logger: Logger;
  private scratch: Record<string, unknown> | undefined = undefined;

  constructor(request: RequestContext, slot: Slot, logger: Logger) {
    this.request = request;
    this.slot = slot;
    this.logger = logger;
  }

  get requestId(): string { return this.request.id; }
  get plugin(): string { return this.slot.name; }
  get config(): unknown { return this.slot.config; }
  get keyId(): string { return this.request.keyId; }
  get model(): string { return this.request.modelAsked; }
  get dialect(): string { return this.request.surface?.dialect ?? ''; }
  get surface(): string { return this.request.surface?.name ?? ''; }
  get path(): string { return this.request.path; }
  get stream(): boolean { return this.request.summary?.stream ?? false; }
  get state(): Record<string, unknown> {
    return this.scratch ??= {};
  }

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (SECRET_HEADERS.has(lower)) return undefined;
    const value = this.request.request.headers[lower];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  log(message: string, fields?: Record<string, unknown>): void {
    this.logger.info({ plugin: this.slot.name, id: this.request.id, ...fields }, message);
  }

  reject(status: number, message: string, code?: string): PluginRejection {
    let errorCode = ErrorCode.pluginRejected as string;
    if (code !== undefined && code !== null) {
      const checked = pluginRejectionCode(code);
      if (checked !== undefined) {
        errorCode = checked;
      } else if (!this.slot.warnedCode) {
        this.slot.warnedCode = true;
        this.logger.warn({ plugin: this.slot.name, code: String(code).slice(0, 80) }, `plugin '${this.slot.name}': ctx.reject's code must be a plugin code such as content_blocked or SWY_ERR_PLUGIN_CONTENT_BLOCKED (letters, digits, _); ${ErrorCode.pluginRejected} is used (logged once)`);
      }
    }
    return new Rejection(Number.isInteger(status) && status >= 400 && status <= 599 ? status : 400, String(message), errorCode);
  }
}

/** A hook's call failed and was skipped (`on_error: open`). */
const SKIPPED: unique symbol = Symbol('skipped');

export interface PluginHostOptions {
  logger: Logger;
  failures: PluginFailureCounts;
}

/** The handlers one snapshot's plugins add to the phases (undefined where no plugin has a hook). */
export interface PluginHandlers {
  readonly decode: RequestHandler | undefined;
  readonly attempt: AttemptHandler | undefined;
  readonly response: ResponseFilter | undefined;
  readonly stream: StreamFilter | undefined;
  readonly error: ErrorFilter | undefined;
  readonly complete: CompleteHandler | undefined;
}

/** Sees each upstream attempt (its headers as a flat list, which it may change in place). */
export type AttemptHandler = (context: RequestContext, attempt: { provider: string; model: string; dialect: string; attempt: number; headers: string[] }) => void;
/** Sees (and may replace) a non-streamed answer in canonical form before it is encoded. */
export type ResponseFilter = (context: RequestContext, response: CanonicalResponse) => CanonicalResponse;
/** Sees each canonical stream part: returns it (changed or not), parts to put in its place, or undefined to drop it. */
export type StreamFilter = (context: RequestContext, part: StreamPart) => StreamPart | readonly StreamPart[] | undefined;
/** Sees (and may replace) the error about to be answered. */
export type ErrorFilter = (context: RequestContext, error: ErrorInfo) => ErrorInfo;

export class PluginHost {
  readonly plugins: readonly LoadedPlugin[];
  readonly handlers: PluginHandlers;
  private readonly slots: readonly Slot[];
  private readonly logger: Logger;
  private readonly failures: PluginFailureCounts;
  /** Every plugin, when none is scoped by routes or keys: each request's run starts from it. */
  private readonly everyone: readonly Slot[] | undefined;

  constructor(plugins: readonly LoadedPlugin[], options: PluginHostOptions) {
    this.plugins = plugins;
    this.logger = options.logger;
    this.failures = options.failures;
    this.slots = plugins.map((plugin) => new Slot(plugin));
    const has = (hook: HookName) => this.slots.some((slot) => slot.hooks[hook] !== undefined);
    this.everyone = this.slots.some((slot) => slot.scoped) ? undefined : this.slots;
    this.handlers = {
      decode: this.slots.length > 0 ? (context) => this.decode(context) : undefined,
      attempt: has('onAttempt') ? (context, attempt) => this.attempt(context, attempt) : undefined,
      response: has('onResponse') ? (context, response) => this.response(context, response) : undefined,
      stream: has('onStreamEvent') ? (context, part) => this.streamPart(context, part, 0) : undefined,
      error: has('onError') ? (context, error) => this.error(context, error) : undefined,
      complete: has('onComplete') || this.slots.some((slot) => slot.hooks.requestEnded !== undefined) ? { requestEnded: (context, aborted) => this.complete(context, aborted) } : undefined,
    };
  }

  // ----- decode: which plugins apply; onRequest ----------------------------------------------------

  private decode(context: RequestContext): PhaseOutcome | Promise<PhaseOutcome> {
    // a run per request: the hooks' contexts (and their `state`) are that request's own
    const run = this.everyone !== undefined ? new PluginRun(this.everyone) : this.select(context);
    if (run === undefined) return undefined;
    context.plugins = run;
    const chat = context.surface?.chat;
    if (chat === undefined) return undefined; // media and utility APIs have no canonical form
    let requestHooks = false;
    for (const slot of run.slots) {
      if (slot.answers) context.translate = true;
      if (slot.hooks.onRequest !== undefined) requestHooks = true;
    }
    if (!requestHooks) return undefined;
    context.reencode = true;
    context.canonical ??= chat.decodeRequest(context.parsed, context.surfaceRequest!);
    return this.requestHooks(context, run, 0);
  }

  private select(context: RequestContext): PluginRun | undefined {
    const model = context.summary?.model ?? '';
    let chosen: Slot[] | undefined;
    for (const slot of this.slots) if (slot.applies(model, context.keyId)) (chosen ??= []).push(slot);
    return chosen === undefined ? undefined : new PluginRun(chosen);
  }

  /** onRequest of each plugin from `from` on; a promise defers the rest to it. */
  private requestHooks(context: RequestContext, run: PluginRun, from: number): PhaseOutcome | Promise<PhaseOutcome> {
    for (let i = from; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onRequest === undefined) continue;
      const result = this.invoke(slot, 'onRequest', context, this.contextOf(context, run, i), context.canonical, slot.timeoutMs);
      if (result instanceof Promise) {
        return this.settle(slot, context, result).then((settled) => {
          if (context.closed) return undefined;
          this.accept(context, settled);
          return this.requestHooks(context, run, i + 1);
        });
      }
      this.accept(context, result);
    }
    this.requestChanged(context);
    return undefined;
  }

  private accept(context: RequestContext, result: unknown): void {
    if (result !== undefined && result !== SKIPPED && result !== null && typeof result === 'object') context.canonical = result as CanonicalRequest;
  }

  /** After the request hooks: a changed model is the one routed; the caller's `stream` stays. */
  private requestChanged(context: RequestContext): void {
    const request = context.canonical!;
    const summary = context.summary!;
    request.stream = summary.stream;
    if (typeof request.model === 'string' && request.model !== '' && request.model !== context.routeModel) context.routeModel = request.model;
  }

  /** An asynchronous hook's outcome within its budget (a late one is a timeout, handled by on_error). */
  private settle(slot: Slot, context: RequestContext, pending: Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let late = false;
      // an isolated plugin times its calls itself, from when its thread is ready (not while it starts)
      const timer = slot.selfTimed ? undefined : setTimeout(() => {
        // what the hook does after its budget no longer counts (nor is counted again)
        late = true;
        try {
          resolve(this.failed(slot, 'onRequest', context, 'timeout', undefined));
        } catch (error) {
          reject(error);
        }
      }, slot.timeoutMs);
      timer?.unref();
      pending.then((value) => {
        clearTimeout(timer);
        resolve(value);
      }, (error: unknown) => {
        clearTimeout(timer);
        if (late) return;
        try {
          resolve(this.thrown(slot, 'onRequest', context, error));
        } catch (refusal) {
          reject(refusal);
        }
      });
    });
  }

  // ----- attempt, response, stream, error ----------------------------------------------------------

  private attempt(context: RequestContext, attempt: { provider: string; model: string; dialect: string; attempt: number; headers: string[] }): void {
    const run = context.plugins;
    if (run === undefined) return;
    let info: AttemptInfo | undefined;
    for (let i = 0; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onAttempt === undefined) continue;
      info ??= { provider: attempt.provider, model: attempt.model, dialect: attempt.dialect, attempt: attempt.attempt, headers: headerRecord(attempt.headers) };
      this.invoke(slot, 'onAttempt', context, this.contextOf(context, run, i), info, slot.timeoutMs);
    }
    if (info !== undefined) writeHeaders(attempt.headers, info.headers);
  }

  private response(context: RequestContext, response: CanonicalResponse): CanonicalResponse {
    const run = context.plugins;
    if (run === undefined) return response;
    let current = response;
    for (let i = 0; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onResponse === undefined) continue;
      const result = this.invoke(slot, 'onResponse', context, this.contextOf(context, run, i), current, slot.timeoutMs);
      if (result !== undefined && result !== SKIPPED && result !== null && typeof result === 'object') current = result as CanonicalResponse;
    }
    return current;
  }

  /** onStreamEvent of the plugins from `from` on: each part a hook puts out goes through the ones after it. */
  private streamPart(context: RequestContext, part: StreamPart, from: number): StreamPart | readonly StreamPart[] | undefined {
    const run = context.plugins;
    if (run === undefined) return part;
    let current = part;
    for (let i = from; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onStreamEvent === undefined) continue;
      const result = this.invoke(slot, 'onStreamEvent', context, this.contextOf(context, run, i), current, slot.streamTimeoutMs);
      if (result === undefined || result === SKIPPED) continue;
      if (result === null) return undefined;
      if (Array.isArray(result)) {
        const out: StreamPart[] = [];
        for (const item of result as StreamPart[]) {
          const next = this.streamPart(context, item, i + 1);
          if (next === undefined) continue;
          if (Array.isArray(next)) out.push(...(next as StreamPart[]));
          else out.push(next as StreamPart);
        }
        return out;
      }
      current = result as StreamPart;
    }
    return current;
  }

  private error(context: RequestContext, error: ErrorInfo): ErrorInfo {
    const run = context.plugins;
    if (run === undefined) return error;
    let current = error;
    for (let i = 0; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onError === undefined) continue;
      const seen: PluginErrorInfo = { status: current.status, code: current.code, message: current.message };
      let result: unknown;
      try {
        result = this.invoke(slot, 'onError', context, this.contextOf(context, run, i), seen, slot.timeoutMs);
      } catch {
        // an error hook cannot fail the error answer itself: a closed plugin's failure is its own error answer
        continue;
      }
      const replaced = result !== undefined && result !== SKIPPED && result !== null && typeof result === 'object' ? result as PluginErrorInfo : seen;
      if (replaced.status !== current.status || replaced.message !== current.message) {
        const status = Number.isInteger(replaced.status) && replaced.status >= 400 && replaced.status <= 599 ? replaced.status : current.status;
        current = new GatewayError(current.code, String(replaced.message), { status, origin: current.origin, errorClass: current.errorClass, ...(current.param !== undefined ? { param: current.param } : {}) });
      }
    }
    return current;
  }

  // ----- complete ---------------------------------------------------------------------------------

  private complete(context: RequestContext, aborted: boolean): void {
    const run = context.plugins;
    if (run === undefined) return;
    let summary: CompletionSummary | undefined;
    for (let i = 0; i < run.slots.length; i++) {
      const slot = run.slots[i]!;
      if (slot.hooks.onComplete === undefined) {
        // the request is over for this plugin now (if none of its hooks ran, it has no context and nothing to let go)
        const hookContext = run.contexts[i];
        if (hookContext !== undefined) this.ended(slot, hookContext);
        continue;
      }
      summary ??= completionSummary(context, aborted);
      const hookContext = this.contextOf(context, run, i);
      const seen = summary;
      // off the response path: after the other complete handlers, each in a task of its own
      setImmediate(() => {
        let result: unknown;
        try {
          result = this.invoke(slot, 'onComplete', undefined, hookContext, seen, slot.timeoutMs);
        } catch {
          // a closed plugin's failure after the response has nothing left to fail
        }
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.count(slot, 'onComplete', failureKind(error), error)).finally(() => this.ended(slot, hookContext));
        } else {
          this.ended(slot, hookContext);
        }
      });
    }
  }

  /** Tells an instance that keeps something per request that the request is over. */
  private ended(slot: Slot, hookContext: HookContext): void {
    if (slot.hooks.requestEnded === undefined) return;
    try {
      slot.hooks.requestEnded(hookContext);
    } catch (error) {
      this.count(slot, 'onComplete', 'throw', error);
    }
  }

  // ----- calling hooks ----------------------------------------------------------------------------

  private contextOf(context: RequestContext, run: PluginRun, index: number): HookContext {
    return run.contexts[index] ??= new HookContext(context, run.slots[index]!, this.logger);
  }

  /**
   * Calls one hook within its budget: its result, SKIPPED when it failed under
   * `on_error: open`; throws the refusal (a rejection, or a failure under `closed`).
   */
  private invoke(slot: Slot, hook: HookName, context: RequestContext | undefined, hookContext: HookContext, argument: unknown, budgetMs: number): unknown {
    const fn = slot.hooks[hook] as (this: PluginHooks, ctx: PluginContext, argument: unknown) => unknown;
    const started = performance.now();
    let result: unknown;
    try {
      result = fn.call(slot.hooks, hookContext, argument);
    } catch (error) {
      return this.thrown(slot, hook, context, error);
    }
    if (performance.now() - started > budgetMs) {
      // it did return: under `open` its answer is used (the time is spent), under `closed` the request fails
      this.failed(slot, hook, context, 'timeout', undefined);
    }
    return result;
  }

  /** A hook threw: a rejection refuses the request; anything else is a failure. */
  private thrown(slot: Slot, hook: HookName, context: RequestContext | undefined, error: unknown): typeof SKIPPED {
    if (error instanceof Error && (error as Partial<PluginRejection>).rejection === true) {
      const { status, code } = error as PluginRejection;
      // an isolated plugin's refusal crossed threads as plain data: its code is checked here
      throw new GatewayError(pluginRejectionCode(code) ?? ErrorCode.pluginRejected, error.message, { status, origin: 'gateway', errorClass: 'none' });
    }
    return this.failed(slot, hook, context, failureKind(error), error);
  }

  /** Counts and logs a failure; `closed` turns it into the request's error. */
  private failed(slot: Slot, hook: HookName, context: RequestContext | undefined, kind: PluginFailureKind, error: unknown): typeof SKIPPED {
    this.count(slot, hook, kind, error);
    if (!slot.closed) return SKIPPED;
    throw failureError(slot, hook, kind, error);
  }

  private count(slot: Slot, hook: HookName, kind: PluginFailureKind, error: unknown): void {
    const key = `${slot.name}\0${hook}\0${kind}`;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    slot.failuresSinceLog++;
    const now = performance.now();
    if (now - slot.lastLoggedAt < LOG_BURST_MS) return;
    const fields: Record<string, unknown> = { plugin: slot.name, hook, kind, failures: slot.failuresSinceLog };
    if (error instanceof Error) fields['err'] = error.message;
    this.logger.warn(fields, `plugin '${slot.name}' ${hook}: ${kind === 'throw' ? 'threw' : kind === 'memory' ? 'ran out of memory' : 'ran past its time budget'} (on_error: ${slot.closed ? 'closed' : 'open'}; logged once per ${LOG_BURST_MS / 1000} s)`);
    slot.lastLoggedAt = now;
    slot.failuresSinceLog = 0;
  }
}

/** A thrown failure's kind: a Lua hook stopped by its instruction-count check ran past its budget; one past its memory limit (a Lua state, an isolated plugin's thread) is `memory`. */
function failureKind(error: unknown): PluginFailureKind {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'timeout' ? 'timeout' : code === 'memory' ? 'memory' : 'throw';
}

function failureError(slot: Slot, hook: HookName, kind: PluginFailureKind, error: unknown): GatewayError {
  if (kind !== 'timeout') {
    return new GatewayError(ErrorCode.pluginFailed, `Plugin '${slot.name}' failed in ${hook}${error instanceof Error ? `: ${error.message}` : ''}.`, { status: 500, origin: 'gateway', errorClass: 'none' });
  }
  const budget = hook === 'onStreamEvent' ? slot.streamTimeoutMs : slot.timeoutMs;
  return new GatewayError(ErrorCode.pluginTimeout, `Plugin '${slot.name}' ${hook} ran past its ${budget} ms budget.`, { status: 504, origin: 'gateway', errorClass: 'none' });
}

function headerRecord(flat: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (!SECRET_HEADERS.has(name)) headers[name] = flat[i + 1]!;
  }
  return headers;
}

/** Writes a hook's header changes back into the flat list (never the credentials or framing headers). */
function writeHeaders(flat: string[], headers: Record<string, string>): void {
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (PROTECTED_UPSTREAM_HEADERS.has(name) || typeof value !== 'string') continue;
    let found = false;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i]!.toLowerCase() !== name) continue;
      flat[i + 1] = value;
      found = true;
    }
    if (!found) flat.push(name, value);
  }
}

function completionSummary(context: RequestContext, aborted: boolean): CompletionSummary {
  const error = context.error;
  return Object.freeze({
    requestId: context.id,
    status: context.finalStatus(aborted),
    keyId: context.keyId,
    model: context.modelAsked,
    provider: context.provider,
    upstreamModel: context.upstreamModel,
    stream: context.stream,
    attempts: context.attempts,
    usage: context.usage,
    costUsd: context.costUsd,
    durationMs: context.elapsedMs(),
    firstByteMs: context.firstByteMs,
    cached: context.cached,
    aborted,
    error: error === undefined ? undefined : { code: error.code, message: error.message },
  });
}
