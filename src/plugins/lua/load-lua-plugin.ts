// Lua plugins (issue #18; docs/plugins-lua.md): a folder whose handler.lua returns a table of hooks,
// or a single .lua file, turned into a PluginDefinition the plugin host runs like a JS one. Each
// configured instance gets its own sandboxed Lua state (lua-sandbox.ts) in the process's one
// WebAssembly Lua (lua-runtime.ts).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse } from '../../canonical/response.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { CompletionSummary, PluginContext, PluginDefinition, PluginHost, PluginInstance } from '../api.ts';
import { LUA_OK, LuaType, luaRuntime, type LuaRuntime } from './lua-runtime.ts';
import { LuaPluginError, LuaPluginLoadError, PluginTimeoutError } from './lua-errors.ts';
import { LuaSandbox, type CallFailure, type LuaHook } from './lua-sandbox.ts';
import { RequestView, ViewTracker, pushContext, pushRequestView, pushResponseView, pushStreamPartView, pushSummary, readRequestView, readResponseView, readStreamResult } from './lua-views.ts';

export { LuaPluginError, LuaPluginLoadError, PluginTimeoutError };

export interface LuaPluginOptions {
  /** Time budget of on_request, on_response and on_complete, ms (default 50). */
  requestBudgetMs?: number;
  /** Time budget of on_stream_event, ms (default 1). */
  streamBudgetMs?: number;
  /** Most Lua VM instructions one hook call may run, whatever the time (default 10,000,000). */
  instructionLimit?: number;
  /** Budget of the file's top-level code when an instance is set up, ms (default 1000). */
  loadBudgetMs?: number;
  /** Entries of each instance's `switchyard.cache` (default 1000). */
  cacheEntries?: number;
}

const DEFAULTS = { requestBudgetMs: 50, streamBudgetMs: 1, instructionLimit: 10_000_000, loadBudgetMs: 1000, cacheEntries: 1000 };

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
  const probe = new LuaSandbox(runtime, { dir, file, log: () => {}, cacheEntries: 1, instructionLimit: settings.instructionLimit, loadBudgetMs: settings.loadBudgetMs });
  try {
    probe.compile(source);
  } finally {
    probe.close();
  }
  return {
    name,
    setup(config: unknown, host: PluginHost): PluginInstance {
      const sandbox = new LuaSandbox(runtime, {
        dir,
        file,
        log: (message) => host.log(message),
        cacheEntries: settings.cacheEntries,
        instructionLimit: settings.instructionLimit,
        loadBudgetMs: settings.loadBudgetMs,
      });
      try {
        sandbox.load(source, config, name);
      } catch (error) {
        sandbox.close();
        throw error;
      }
      return new LuaPluginInstance(runtime, sandbox, settings).hooks();
    },
  };
}

function definedOnly(options: LuaPluginOptions): Partial<typeof DEFAULTS> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** The hooks of one configured instance, calling into its Lua state. */
class LuaPluginInstance {
  private readonly runtime: LuaRuntime;
  private readonly sandbox: LuaSandbox;
  private readonly settings: typeof DEFAULTS;
  private readonly tracker: ViewTracker;
  private readonly view: RequestView;

  constructor(runtime: LuaRuntime, sandbox: LuaSandbox, settings: typeof DEFAULTS) {
    this.runtime = runtime;
    this.sandbox = sandbox;
    this.settings = settings;
    this.tracker = new ViewTracker(runtime);
    this.view = new RequestView(this.tracker);
  }

  /** Only the hooks the script defines, so the host compiles no phase for the others. */
  hooks(): PluginInstance {
    const instance: PluginInstance = { dispose: () => this.sandbox.close() };
    const { hooks } = this.sandbox;
    const onRequest = hooks.get('on_request');
    if (onRequest !== undefined) instance.onRequest = (ctx, request) => this.onRequest(onRequest, ctx, request);
    const onResponse = hooks.get('on_response');
    if (onResponse !== undefined) instance.onResponse = (ctx, response) => this.onResponse(onResponse, ctx, response);
    const onStreamEvent = hooks.get('on_stream_event');
    if (onStreamEvent !== undefined) instance.onStreamEvent = (ctx, part) => this.onStreamEvent(onStreamEvent, ctx, part);
    const onComplete = hooks.get('on_complete');
    if (onComplete !== undefined) instance.onComplete = (ctx, summary) => this.onComplete(onComplete, ctx, summary);
    return instance;
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
      pushContext(runtime, L, ctx);
      args++;
    }
    sandbox.start(budgetMs);
    const status = api.lua_pcallk(L, args, 1, 0, 0, 0);
    if (status !== LUA_OK) throw this.toError(ctx, sandbox.failure(status, budgetMs), budgetMs);
  }

  private toError(ctx: PluginContext, failure: CallFailure, budgetMs: number): Error {
    switch (failure.kind) {
      case 'timeout':
        return new PluginTimeoutError(failure.message, budgetMs);
      case 'reject':
        return ctx.reject(failure.status, failure.message);
      case 'error':
        return new LuaPluginError(failure.message);
    }
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

  private onRequest(hook: LuaHook, ctx: PluginContext, request: CanonicalRequest): undefined {
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
    }
  }

  private onResponse(hook: LuaHook, ctx: PluginContext, response: CanonicalResponse): undefined {
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
    }
  }

  private onStreamEvent(hook: LuaHook, ctx: PluginContext, part: StreamPart): StreamPart | StreamPart[] | null | undefined {
    const { runtime, sandbox } = this;
    const L = sandbox.L;
    pushStreamPartView(runtime, L, part);
    try {
      this.call(hook, ctx, this.settings.streamBudgetMs);
      if (runtime.api.lua_type(L, 2) === LuaType.Table) this.rejectIfAsked(ctx);
      return readStreamResult(runtime, L, 2, 1, part);
    } finally {
      runtime.api.lua_settop(L, 0);
    }
  }

  private onComplete(hook: LuaHook, ctx: PluginContext, summary: CompletionSummary): void {
    const { runtime, sandbox } = this;
    pushSummary(runtime, sandbox.L, summary);
    try {
      this.call(hook, ctx, this.settings.requestBudgetMs);
    } finally {
      runtime.api.lua_settop(sandbox.L, 0);
    }
  }
}
