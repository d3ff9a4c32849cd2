// Lua plugins (issue #18; docs/plugins-lua.md): a folder whose handler.lua returns a table of hooks,
// or a single .lua file, turned into a PluginDefinition the plugin host runs like a JS one. Each
// configured instance gets its own sandboxed Lua state (lua-sandbox.ts) in the process's one
// WebAssembly Lua (lua-runtime.ts).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse } from '../../canonical/response.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { AttemptInfo, CompletionSummary, PluginContext, PluginDefinition, PluginErrorInfo, PluginHost, PluginInstance } from '../api.ts';
import { LUA_OK, LUA_REGISTRYINDEX, LuaType, luaRuntime, type LuaRuntime } from './lua-runtime.ts';
import { LuaPluginError, LuaPluginLoadError, PluginMemoryError, PluginTimeoutError } from './lua-errors.ts';
import { LuaSandbox, type CallFailure, type HookName, type LuaHook } from './lua-sandbox.ts';
import { RequestView, ViewTracker, pushAttempt, pushContext, pushErrorInfo, pushRequestView, pushResponseView, pushStreamPartView, pushSummary, readAttemptHeaders, readErrorResult, readRequestView, readResponseView, readStreamResult } from './lua-views.ts';

export { LuaPluginError, LuaPluginLoadError, PluginMemoryError, PluginTimeoutError };

export interface LuaPluginOptions {
  /** Time budget of on_request, on_attempt, on_response, on_error and on_complete, ms (default 50). */
  requestBudgetMs?: number;
  /** Time budget of on_stream_event, ms (default 1). */
  streamBudgetMs?: number;
  /** Most Lua VM instructions one hook call may run, whatever the time (default 10,000,000). */
  instructionLimit?: number;
  /** Budget of the file's top-level code when an instance is set up, ms (default 1000). */
  loadBudgetMs?: number;
  /** Entries of each instance's `switchyard.cache` (default 1000). */
  cacheEntries?: number;
  /** Most memory each instance's Lua state may hold, MB (default 64); 0: no limit (no allocation counting). */
  memoryLimitMb?: number;
}

const DEFAULTS = { requestBudgetMs: 50, streamBudgetMs: 1, instructionLimit: 10_000_000, loadBudgetMs: 1000, cacheEntries: 1000, memoryLimitMb: 64 };

/** Where a plugin's code is: the folder `require` stays in, and the entry file. */
function locate(path: string): { dir: string; file: string; name: string } {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new LuaPluginLoadError(`${path}: no such Lua plugin (a folder with handler.lua, or a .lua file)`, path);
  }
  if (stats.isDirectory()) {
    const dir = realpathSync(path);
    const file = join(dir, 'handler.lua');
    try {
      statSync(file);
    } catch {
      throw new LuaPluginLoadError(`${path}: a Lua plugin folder needs a handler.lua`, file);
    }
    return { dir, file, name: basename(dir) };
  }
  if (!path.endsWith('.lua')) throw new LuaPluginLoadError(`${path}: a Lua plugin is a folder with handler.lua or a .lua file`, path);
  const file = realpathSync(path);
  return { dir: dirname(file), file, name: basename(file, '.lua') };
}

/**
 * Loads the Lua plugin at `path` (a folder with handler.lua, or a .lua file). The code is compiled
 * here, so a syntax error fails the load with the file and the line; its top-level code runs once
 * per configured instance, in `setup`, with that instance's `config` as a global.
 */
export async function loadLuaPlugin(path: string, options: LuaPluginOptions = {}): Promise<PluginDefinition> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const { dir, file, name } = locate(path);
  const source = readFileSync(file, 'utf8');
  const runtime = await luaRuntime();
  const sandboxOptions = (log: (message: string) => void, cacheEntries: number) => ({
    dir,
    file,
    log,
    cacheEntries,
    instructionLimit: settings.instructionLimit,
    loadBudgetMs: settings.loadBudgetMs,
    memoryLimitBytes: Math.round(settings.memoryLimitMb * 1024 * 1024),
  });
  const probe = new LuaSandbox(runtime, { ...sandboxOptions(() => {}, 1), memoryLimitBytes: 0 });
  try {
    probe.compile(source);
  } finally {
    probe.close();
  }
  return {
    name,
    setup(config: unknown, host: PluginHost): PluginInstance {
      // a fresh state, with the file's top-level code run: at setup, and again when a state ran out of memory
      const create = (): LuaSandbox => {
        const sandbox = new LuaSandbox(runtime, sandboxOptions((message) => host.log(message), settings.cacheEntries));
        try {
          sandbox.load(source, config, name);
        } catch (error) {
          sandbox.close();
          throw error;
        }
        return sandbox;
      };
      return new LuaPluginInstance(runtime, create(), create, settings).hooks();
    },
  };
}

function definedOnly(options: LuaPluginOptions): Partial<typeof DEFAULTS> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/**
 * The hooks of one configured instance, calling into its Lua state. A call that runs out of the
 * state's memory fails (the plugin's on_error decides) and the state is replaced by a fresh one
 * with the file's top-level code run again: what the script kept in globals or in its cache is
 * gone, as after a reload. A state that cannot be rebuilt fails every call until the plugin is
 * reloaded.
 */
class LuaPluginInstance {
  private readonly runtime: LuaRuntime;
  private readonly create: () => LuaSandbox;
  private readonly settings: typeof DEFAULTS;
  private sandbox: LuaSandbox;
  private tracker: ViewTracker;
  private view: RequestView;
  /**
   * Each request's `ctx` table (with its `state`), made on the request's first call of a hook that
   * takes ctx and passed to the others: its registry reference in the current state, by the
   * request's context.
   */
  private contexts = new WeakMap<PluginContext, number>();
  /** The last call ran out of memory: the state is replaced once that call has cleaned up. */
  private exhausted = false;
  /** Why the state could not be rebuilt (every call then fails with it). */
  private broken: string | undefined;

  constructor(runtime: LuaRuntime, sandbox: LuaSandbox, create: () => LuaSandbox, settings: typeof DEFAULTS) {
    this.runtime = runtime;
    this.sandbox = sandbox;
    this.create = create;
    this.settings = settings;
    this.tracker = new ViewTracker(runtime);
    this.view = new RequestView(this.tracker);
  }

  /** Only the hooks the script defines, so the host compiles no phase for the others. */
  hooks(): PluginInstance {
    const instance: PluginInstance = { dispose: () => this.sandbox.close() };
    const { hooks } = this.sandbox;
    if (hooks.has('on_request')) instance.onRequest = (ctx, request) => this.onRequest(ctx, request);
    if (hooks.has('on_attempt')) instance.onAttempt = (ctx, attempt) => this.onAttempt(ctx, attempt);
    if (hooks.has('on_response')) instance.onResponse = (ctx, response) => this.onResponse(ctx, response);
    if (hooks.has('on_stream_event')) instance.onStreamEvent = (ctx, part) => this.onStreamEvent(ctx, part);
    if (hooks.has('on_error')) instance.onError = (ctx, error) => this.onError(ctx, error);
    if (hooks.has('on_complete')) instance.onComplete = (ctx, summary) => this.onComplete(ctx, summary);
    // only a hook that takes ctx has a ctx table kept for the request, to be let go when it ends
    if ([...hooks.values()].some((hook) => hook.wantsContext)) instance.requestEnded = (ctx) => this.requestEnded(ctx);
    return instance;
  }

  /** The hook to call, or undefined when the state no longer has it; throws when the state could not be rebuilt. */
  private hook(name: HookName): LuaHook | undefined {
    if (this.broken !== undefined) throw new LuaPluginError(this.broken);
    return this.sandbox.hooks.get(name);
  }

  /**
   * Calls `hook` with the payload at stack index 1 (and the context when the hook declares it);
   * leaves the result at index 2. Throws what the failure means.
   */
  private call(hook: LuaHook, ctx: PluginContext, budgetMs: number): void {
    const { sandbox, runtime } = this;
    const api = runtime.api;
    const L = sandbox.L;
    let args = sandbox.pushHook(hook);
    api.lua_pushvalue(L, 1);
    args++;
    if (hook.wantsContext) {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.contextRef(ctx)));
      args++;
    }
    sandbox.start(budgetMs);
    const status = sandbox.protectedCall(args, 1);
    if (status !== LUA_OK) throw this.toError(ctx, sandbox.failure(status, budgetMs), budgetMs);
  }

  private toError(ctx: PluginContext, failure: CallFailure, budgetMs: number): Error {
    switch (failure.kind) {
      case 'timeout':
        return new PluginTimeoutError(failure.message, budgetMs);
      case 'memory':
        this.exhausted = true;
        return new PluginMemoryError(`${failure.message}; its state is rebuilt`);
      case 'reject':
        return ctx.reject(failure.status, failure.message, failure.code);
      case 'error':
        return new LuaPluginError(failure.message);
    }
  }

  /** After a call has cleaned its stack: a state that ran out of memory is replaced. */
  private settled(): void {
    if (!this.exhausted) return;
    this.exhausted = false;
    this.sandbox.close();
    // the old state's ctx tables went with it; a request in flight gets a new one (its state empty)
    this.contexts = new WeakMap();
    try {
      this.sandbox = this.create();
      this.tracker = new ViewTracker(this.runtime);
      this.view = new RequestView(this.tracker);
    } catch (error) {
      this.broken = `Lua plugin ${this.sandbox.name}: its state ran out of memory and could not be rebuilt (${(error as Error).message}); it fails until it is reloaded`;
    }
  }

  /** The registry reference of the request's `ctx` table. */
  private contextRef(ctx: PluginContext): number {
    let ref = this.contexts.get(ctx);
    if (ref === undefined) {
      pushContext(this.runtime, this.sandbox.L, ctx);
      ref = this.runtime.api.luaL_ref(this.sandbox.L, LUA_REGISTRYINDEX);
      this.contexts.set(ctx, ref);
    }
    return ref;
  }

  private requestEnded(ctx: PluginContext): void {
    const ref = this.contexts.get(ctx);
    if (ref === undefined) return;
    this.contexts.delete(ctx);
    // after a reload the instance is disposed: its state, and every table in it, is gone already
    if (this.broken === undefined && !this.sandbox.isClosed) this.runtime.api.luaL_unref(this.sandbox.L, LUA_REGISTRYINDEX, ref);
  }

  /** Throws the rejection when the table a hook returned (at index 2) is `{ reject = { … } }`. */
  private rejectIfAsked(ctx: PluginContext): void {
    const { runtime, sandbox } = this;
    const L = sandbox.L;
    if (runtime.getField(L, 2, 'reject') !== LuaType.Table) {
      runtime.api.lua_settop(L, 2);
      return;
    }
    runtime.api.lua_settop(L, 2);
    const rejection = sandbox.readRejection(2);
    if (rejection !== undefined) throw this.toError(ctx, rejection, 0);
  }

  private onRequest(ctx: PluginContext, request: CanonicalRequest): undefined {
    const hook = this.hook('on_request');
    if (hook === undefined) return undefined;
    const { runtime, sandbox, view } = this;
    const api = runtime.api;
    const L = sandbox.L;
    view.request = request;
    pushRequestView(runtime, L, request, sandbox.viewMetatableRef);
    sandbox.currentView = view;
    sandbox.viewPointer = api.lua_topointer(L, 1);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
      const type = api.lua_type(L, 2);
      if (type === LuaType.Nil) return undefined;
      if (type !== LuaType.Table) throw new LuaPluginError(`Lua plugin ${sandbox.name}: on_request must return nil, the request table or { reject = { status, message } }`);
      this.rejectIfAsked(ctx);
      readRequestView(view, L, 2);
      return undefined;
    } finally {
      // detach the view: a reference the script kept reads plain data, never a later request's
      api.lua_pushnil(L);
      api.lua_setmetatable(L, 1);
      sandbox.currentView = undefined;
      sandbox.viewPointer = 0;
      this.tracker.release(L);
      api.lua_settop(L, 0);
      this.settled();
    }
  }

  private onAttempt(ctx: PluginContext, attempt: AttemptInfo): void {
    const hook = this.hook('on_attempt');
    if (hook === undefined) return;
    const { runtime, sandbox } = this;
    const api = runtime.api;
    const L = sandbox.L;
    pushAttempt(runtime, L, attempt);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
      const type = api.lua_type(L, 2);
      if (type === LuaType.Nil) return;
      if (type !== LuaType.Table) throw new LuaPluginError(`Lua plugin ${sandbox.name}: on_attempt must return nil, the attempt table or { reject = { status, message } }`);
      this.rejectIfAsked(ctx);
      readAttemptHeaders(runtime, L, 2, attempt.headers);
    } finally {
      api.lua_settop(L, 0);
      this.settled();
    }
  }

  private onResponse(ctx: PluginContext, response: CanonicalResponse): undefined {
    const hook = this.hook('on_response');
    if (hook === undefined) return undefined;
    const { runtime, sandbox } = this;
    const api = runtime.api;
    const L = sandbox.L;
    pushResponseView(this.tracker, L, response);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
      const type = api.lua_type(L, 2);
      if (type === LuaType.Nil) return undefined;
      if (type !== LuaType.Table) throw new LuaPluginError(`Lua plugin ${sandbox.name}: on_response must return nil, the response table or { reject = { status, message } }`);
      this.rejectIfAsked(ctx);
      readResponseView(this.tracker, L, 2, response);
      return undefined;
    } finally {
      this.tracker.release(L);
      api.lua_settop(L, 0);
      this.settled();
    }
  }

  private onStreamEvent(ctx: PluginContext, part: StreamPart): StreamPart | StreamPart[] | null | undefined {
    const hook = this.hook('on_stream_event');
    if (hook === undefined) return undefined;
    const { runtime, sandbox } = this;
    const L = sandbox.L;
    pushStreamPartView(runtime, L, part);
    try {
      this.call(hook, ctx, this.settings.streamBudgetMs);
      if (runtime.api.lua_type(L, 2) === LuaType.Table) this.rejectIfAsked(ctx);
      return readStreamResult(runtime, L, 2, 1, part);
    } finally {
      runtime.api.lua_settop(L, 0);
      this.settled();
    }
  }

  private onError(ctx: PluginContext, error: PluginErrorInfo): PluginErrorInfo | undefined {
    const hook = this.hook('on_error');
    if (hook === undefined) return undefined;
    const { runtime, sandbox } = this;
    const L = sandbox.L;
    pushErrorInfo(runtime, L, error);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
      return readErrorResult(runtime, L, 2, error);
    } finally {
      runtime.api.lua_settop(L, 0);
      this.settled();
    }
  }

  private onComplete(ctx: PluginContext, summary: CompletionSummary): void {
    const hook = this.hook('on_complete');
    if (hook === undefined) return;
    const { runtime, sandbox } = this;
    pushSummary(runtime, sandbox.L, summary);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
    } finally {
      runtime.api.lua_settop(sandbox.L, 0);
      this.settled();
    }
  }
}
