// One Lua plugin instance: its own lua_State, sandboxed (lua-prelude.ts), with the host table,
// an instruction-count hook that enforces the call's budget, an allocator that enforces its memory
// limit, and the calls of its hooks.
//
// Memory. The state allocates through a JavaScript allocator (lua_newstate) that counts its bytes
// and, while the plugin's own code runs (a protected call), refuses to grow past the limit: Lua
// then collects garbage and, if that is not enough, raises "not enough memory" (LUA_ERRMEM), which
// the call reports as a memory failure. Outside protected calls (the host building a request view)
// nothing is refused: an allocation failure there would abort the whole WebAssembly instance, and
// what the host pushes is bounded by the request. Every allocation is a call from WebAssembly into
// JavaScript; bench/micro/lua-hook.ts measures what that costs (docs/plugins-lua.md).
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LUA_ERRMEM, LUA_ERRSYNTAX, LUA_MASKCOUNT, LUA_OK, LUA_REGISTRYINDEX, LuaType, type LuaRuntime } from './lua-runtime.ts';
import { LuaPluginLoadError } from './lua-errors.ts';
import { LuaPluginCache } from './lua-cache.ts';
import { LUA_PRELUDE } from './lua-prelude.ts';
import { pushValue, readValue } from './lua-values.ts';
import { LAZY_REQUEST_FIELDS, pushRequestField, type RequestView } from './lua-views.ts';

export const HOOK_NAMES = ['on_request', 'on_attempt', 'on_response', 'on_stream_event', 'on_error', 'on_complete'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** A hook function of the script: its registry reference and how it wants to be called. */
export interface LuaHook {
  ref: number;
  /** Declared as `function Plugin:on_request(req)`: called with the plugin table first (switchAILocal's convention). */
  method: boolean;
  /** Declares a parameter after the payload: gets the request context table. */
  wantsContext: boolean;
}

export interface SandboxOptions {
  /** The plugin folder (real path): `require` resolves inside it. */
  dir: string;
  /** The entry file, absolute. */
  file: string;
  log(message: string): void;
  cacheEntries: number;
  /** Most VM instructions one hook call may run. */
  instructionLimit: number;
  /** Budget for running the file's top-level code, ms. */
  loadBudgetMs: number;
  /** Most bytes the state may hold while the plugin's code runs (0: no limit, Lua's own allocator). */
  memoryLimitBytes: number;
}

/** Instructions between two checks of the budget. */
const HOOK_INTERVAL = 1000;
const INTERRUPTED = 'the plugin ran past its budget and was interrupted';
/** What `error("…")` rejects with when the script gives no status. */
export const DEFAULT_REJECT_STATUS = 403;

/** How a failed call ended, for the caller to turn into the right error. */
export type CallFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'memory'; message: string }
  | { kind: 'reject'; status: number; message: string; code: string | undefined }
  | { kind: 'error'; message: string };

export class LuaSandbox {
  readonly runtime: LuaRuntime;
  readonly L: number;
  readonly options: SandboxOptions;
  readonly cache: LuaPluginCache;
  readonly hooks = new Map<HookName, LuaHook>();
  /** Registry reference of the table handler.lua returned (0: it returned none; hooks are globals). */
  pluginRef = 0;
  viewMetatableRef = 0;
  name = '';
  /** The request view of the call running now, for the `__index` metamethod; undefined between calls. */
  currentView: RequestView | undefined;
  private readonly functions: number[] = [];
  private deadline = 0;
  private instructions = 0;
  private interrupted = false;
  /** The error value the script's own `error(…)` raised last in this call, and its message without position. */
  private scriptError: string | undefined;
  private scriptErrorMessage = '';
  private closed = false;
  /** Bytes the state holds now (counted only with a memory limit). */
  memoryUsed = 0;
  /** The plugin's code is running: allocations past the limit are refused. */
  private enforcing = false;
  /** An allocation was refused during the current call. */
  private outOfMemory = false;

  constructor(runtime: LuaRuntime, options: SandboxOptions) {
    this.runtime = runtime;
    this.options = options;
    this.cache = new LuaPluginCache(options.cacheEntries);
    if (options.memoryLimitBytes > 0) {
      const allocator = this.register((_userData: number, pointer: number, oldSize: number, newSize: number) => this.allocate(pointer, oldSize, newSize), 'iiiii');
      this.L = runtime.api.lua_newstate(allocator, 0);
    } else {
      this.L = runtime.api.luaL_newstate();
    }
    if (this.L === 0) {
      for (const pointer of this.functions) runtime.module.removeFunction(pointer);
      throw new LuaPluginLoadError('Lua could not create a state (out of memory)', options.file);
    }
    runtime.api.luaL_openlibs(this.L);
    const hook = this.register((L: number) => this.onCount(L), 'vii');
    runtime.api.lua_sethook(this.L, hook, LUA_MASKCOUNT, HOOK_INTERVAL);
  }

  /** Compiles the plugin's file without running it: a syntax error names the file and the line. */
  compile(source: string): void {
    const chunk = relative(this.options.dir, this.options.file).split(sep).join('/');
    const status = this.runtime.loadText(this.L, source, `@${chunk}`);
    if (status !== LUA_OK) throw this.loadError(status === LUA_ERRSYNTAX ? 'syntax error' : 'cannot load');
    this.runtime.api.lua_settop(this.L, 0);
  }

  /** Runs the prelude, sets `config`, runs the plugin's file and finds its hooks. */
  load(source: string, config: unknown, name: string): void {
    const { runtime, L } = this;
    const api = runtime.api;
    this.name = name;
    if (runtime.loadText(L, LUA_PRELUDE, '=prelude') !== LUA_OK) throw new Error(`the Lua prelude does not compile: ${runtime.readString(L, -1)}`);
    this.pushHostFunctions();
    this.start(this.options.loadBudgetMs);
    if (this.protectedCall(1, 1) !== LUA_OK) throw new Error(`the Lua prelude failed: ${this.readError()}`);
    this.viewMetatableRef = api.luaL_ref(L, LUA_REGISTRYINDEX);
    pushValue(runtime, L, config ?? {});
    api.lua_setglobal(L, runtime.key('config'));

    const chunk = relative(this.options.dir, this.options.file).split(sep).join('/');
    const status = runtime.loadText(L, source, `@${chunk}`);
    if (status !== LUA_OK) throw this.loadError(status === LUA_ERRSYNTAX ? 'syntax error' : 'cannot load');
    this.start(this.options.loadBudgetMs);
    if (this.protectedCall(0, 1) !== LUA_OK) throw this.loadError('error in top-level code');
    const returned = api.lua_type(L, -1);
    if (returned === LuaType.Table) {
      this.pluginRef = api.luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
      if (returned !== LuaType.Nil) throw new LuaPluginLoadError(`${this.options.file}: the file must return a table of hooks (or define them as globals)`, this.options.file);
      api.lua_settop(L, 0);
    }
    for (const hookName of HOOK_NAMES) {
      if (this.pluginRef !== 0) {
        api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.pluginRef));
        runtime.getField(L, -1, hookName);
      } else {
        api.lua_getglobal(L, runtime.key(hookName));
      }
      const type = api.lua_type(L, -1);
      if (type === LuaType.Function) this.hooks.set(hookName, this.describeHook());
      else if (type !== LuaType.Nil) throw new LuaPluginLoadError(`${this.options.file}: ${hookName} must be a function`, this.options.file);
      api.lua_settop(L, 0);
    }
    if (this.pluginRef !== 0) {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.pluginRef));
      if (runtime.getField(L, -1, 'name') === LuaType.String) this.name = runtime.readString(L, -1);
      api.lua_settop(L, 0);
    }
  }

  /** The function on top of the stack, as a hook: takes a reference to it and reads its parameter names. */
  private describeHook(): LuaHook {
    const api = this.runtime.api;
    const names: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const pointer = api.lua_getlocal(this.L, 0, n);
      if (pointer === 0) break;
      names.push(this.runtime.readCString(pointer));
    }
    const method = names[0] === 'self';
    const wantsContext = names.length > (method ? 2 : 1);
    return { ref: api.luaL_ref(this.L, LUA_REGISTRYINDEX), method, wantsContext };
  }

  /** Starts the budget of one call. */
  start(budgetMs: number): void {
    this.deadline = performance.now() + budgetMs;
    this.instructions = 0;
    this.interrupted = false;
    this.outOfMemory = false;
    this.scriptError = undefined;
  }

  /** lua_pcall of the function and arguments on the stack, under the budget `start` began and the memory limit. */
  protectedCall(args: number, results: number): number {
    this.enforcing = true;
    try {
      return this.runtime.api.lua_pcallk(this.L, args, results, 0, 0, 0);
    } finally {
      this.enforcing = false;
    }
  }

  /**
   * The state's lua_Alloc: `pointer` 0 is a new block (`oldSize` then only says its kind), `newSize`
   * 0 frees. Growth past the limit while the plugin's code runs is refused (NULL): Lua collects
   * garbage and tries once more before it raises LUA_ERRMEM. Shrinking never fails.
   */
  private allocate(pointer: number, oldSize: number, newSize: number): number {
    const api = this.runtime.api;
    if (newSize === 0) {
      if (pointer !== 0) {
        this.memoryUsed -= oldSize;
        api.free(pointer);
      }
      return 0;
    }
    const growth = pointer === 0 ? newSize : newSize - oldSize;
    if (growth > 0 && this.enforcing && this.memoryUsed + growth > this.options.memoryLimitBytes) {
      this.outOfMemory = true;
      return 0;
    }
    const block = api.realloc(pointer, newSize);
    if (block !== 0) this.memoryUsed += growth;
    return block;
  }

  /** The count hook: every HOOK_INTERVAL instructions, checks the budget; past it, interrupts. */
  private onCount(L: number): void {
    this.instructions += HOOK_INTERVAL;
    if (!this.interrupted && this.instructions <= this.options.instructionLimit && performance.now() <= this.deadline) return;
    this.interrupted = true;
    this.runtime.pushString(L, INTERRUPTED);
    this.runtime.api.lua_error(L);
  }

  /** Pushes the function, self when a method, and returns how many arguments are on the stack so far. */
  pushHook(hook: LuaHook): number {
    const api = this.runtime.api;
    api.lua_rawgeti(this.L, LUA_REGISTRYINDEX, BigInt(hook.ref));
    if (!hook.method) return 0;
    api.lua_rawgeti(this.L, LUA_REGISTRYINDEX, BigInt(this.pluginRef));
    return 1;
  }

  /** Reads why the call that just failed failed (its error value on top of the stack). */
  failure(status: number, budgetMs: number): CallFailure {
    const { runtime, L } = this;
    const api = runtime.api;
    if (this.interrupted) {
      const limit = this.instructions > this.options.instructionLimit ? `${this.options.instructionLimit} instructions` : `${budgetMs} ms`;
      return { kind: 'timeout', message: `Lua plugin ${this.name} ran past its budget (${limit}) and was interrupted` };
    }
    // a refused allocation the script caught (pcall) and answered with another error counts too
    if (status === LUA_ERRMEM || this.outOfMemory) return { kind: 'memory', message: `Lua plugin ${this.name} ran out of memory (${this.memoryLimitText()})` };
    const type = api.lua_type(L, -1);
    if (type === LuaType.Table) {
      // error({ status = 429, message = "…" }) or error({ reject = { … } }): only a script raises a table
      const rejection = this.readRejection(api.lua_gettop(L));
      if (rejection !== undefined) return rejection;
      return { kind: 'reject', status: DEFAULT_REJECT_STATUS, message: 'rejected by plugin', code: undefined };
    }
    if (type === LuaType.String) {
      const value = runtime.readString(L, -1);
      if (this.scriptError !== undefined && value === this.scriptError) {
        return { kind: 'reject', status: DEFAULT_REJECT_STATUS, message: this.scriptErrorMessage, code: undefined };
      }
      return { kind: 'error', message: `Lua plugin ${this.name}: ${value}` };
    }
    return { kind: 'error', message: `Lua plugin ${this.name}: an error without a message (${type === LuaType.Nil ? 'nil' : 'a non-string value'})` };
  }

  /** `{ reject = { status, message, code } }` or `{ status, message, code }` at `index`; undefined when it is neither. */
  readRejection(index: number): CallFailure | undefined {
    const { runtime, L } = this;
    const api = runtime.api;
    let table = index;
    const top = api.lua_gettop(L);
    if (runtime.getField(L, index, 'reject') === LuaType.Table) table = api.lua_gettop(L);
    const statusType = runtime.getField(L, table, 'status');
    const status = statusType === LuaType.Number ? runtime.readNumber(L, -1) : undefined;
    const messageType = runtime.getField(L, table, 'message');
    const message = messageType === LuaType.String ? runtime.readString(L, -1) : undefined;
    // the host checks the code's shape (ctx.reject), as for a JS plugin
    const code = runtime.getField(L, table, 'code') === LuaType.String ? runtime.readString(L, -1) : undefined;
    api.lua_settop(L, top);
    if (table === index && status === undefined && message === undefined) return undefined;
    const valid = status !== undefined && Number.isInteger(status) && status >= 400 && status <= 599;
    return { kind: 'reject', status: valid ? status : DEFAULT_REJECT_STATUS, message: message ?? 'rejected by plugin', code };
  }

  private memoryLimitText(): string {
    return `limit ${Math.round(this.options.memoryLimitBytes / 1024 / 1024 * 10) / 10} MB`;
  }

  private readError(): string {
    const api = this.runtime.api;
    const value = api.lua_type(this.L, -1) === LuaType.String ? this.runtime.readString(this.L, -1) : 'an error without a message';
    api.lua_settop(this.L, 0);
    return value;
  }

  private loadError(what: string): LuaPluginLoadError {
    if (this.interrupted) {
      this.runtime.api.lua_settop(this.L, 0);
      return new LuaPluginLoadError(`${this.options.file}: the top-level code ran past its budget (${this.options.loadBudgetMs} ms) and was interrupted`, this.options.file);
    }
    if (this.outOfMemory) {
      this.runtime.api.lua_settop(this.L, 0);
      return new LuaPluginLoadError(`${this.options.file}: the top-level code ran out of memory (${this.memoryLimitText()}; memory_limit_mb)`, this.options.file);
    }
    const message = this.readError();
    // Lua's messages start with "chunk:line:"; the chunk is the path inside the plugin folder
    const match = /^([^:\n]+\.lua):(\d+): ([\s\S]*)$/.exec(message);
    if (match === null) return new LuaPluginLoadError(`${this.options.file}: ${what}: ${message}`, this.options.file);
    const file = join(this.options.dir, match[1]!);
    const line = Number(match[2]);
    return new LuaPluginLoadError(`${file}:${line}: ${what}: ${match[3]}`, file, line);
  }

  // ---- host functions --------------------------------------------------------------------------

  /** Registers a JavaScript function in the wasm table, removed again on close. */
  private register(fn: (...args: number[]) => number | void, signature: string): number {
    const pointer = this.runtime.module.addFunction(fn as (...args: number[]) => number | void, signature);
    this.functions.push(pointer);
    return pointer;
  }

  /**
   * A C function from `body`. A string returned by the body is raised as a Lua error; a JavaScript
   * exception is turned into one too (it must not unwind through Lua's frames). lua_error unwinds
   * with Emscripten's longjmp, a non-Error throw, which is let through.
   */
  private cfunction(body: (L: number) => number | string): number {
    return this.register((L: number) => {
      let result: number | string;
      try {
        result = body(L);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        result = error.message;
      }
      if (typeof result === 'number') return result;
      this.runtime.pushString(L, result);
      return this.runtime.api.lua_error(L);
    }, 'ii');
  }

  private pushHostFunctions(): void {
    const { runtime, L } = this;
    const api = runtime.api;
    const functions: Record<string, (L: number) => number | string> = {
      interrupted: (state) => {
        api.lua_pushboolean(state, this.interrupted ? 1 : 0);
        return 1;
      },
      error: (state) => this.raise(state),
      log: (state) => {
        if (api.lua_type(state, 1) === LuaType.String) this.options.log(runtime.readString(state, 1));
        return 0;
      },
      cache_get: (state) => {
        pushValue(runtime, state, this.cache.get(this.cacheKey(state)));
        return 1;
      },
      cache_set: (state) => {
        const key = this.cacheKey(state);
        const value = readValue(runtime, state, 2, (from, index) => this.materializeAll(from, index));
        const ttl = api.lua_type(state, 3) === LuaType.Number ? runtime.readNumber(state, 3) : undefined;
        if (value === null) this.cache.delete(key);
        else this.cache.set(key, value, ttl);
        return 0;
      },
      cache_delete: (state) => {
        this.cache.delete(this.cacheKey(state));
        return 0;
      },
      json_encode: (state) => {
        runtime.pushString(state, JSON.stringify(readValue(runtime, state, 1, (from, index) => this.materializeAll(from, index))));
        return 1;
      },
      json_decode: (state) => {
        if (api.lua_type(state, 1) !== LuaType.String) return 'json.decode expects a string';
        let value: unknown;
        try {
          value = JSON.parse(runtime.readString(state, 1));
        } catch (error) {
          return `json.decode: ${(error as Error).message}`;
        }
        pushValue(runtime, state, value);
        return 1;
      },
      module: (state) => this.loadModule(state),
      materialize: (state) => {
        // __index(t, key): fills in a lazy field of the request view once, then it is a plain field
        if (this.currentView === undefined || api.lua_type(state, 2) !== LuaType.String) return 0;
        const key = runtime.readString(state, 2);
        if (!LAZY_REQUEST_FIELDS.has(key)) return 0;
        pushRequestField(this.currentView, state, key);
        api.lua_pushvalue(state, 2);
        api.lua_pushvalue(state, -2);
        api.lua_rawset(state, 1);
        return 1;
      },
      materialize_all: (state) => {
        this.materializeAll(state, 1);
        return 0;
      },
    };
    api.lua_createtable(L, 0, Object.keys(functions).length);
    for (const [name, body] of Object.entries(functions)) {
      api.lua_pushcclosure(L, this.cfunction(body), 0);
      runtime.setField(L, -2, name);
    }
  }

  /** Fills in every lazy field of the request view at `index` (for pairs and json.encode). */
  private materializeAll(L: number, index: number): void {
    const view = this.currentView;
    if (view === undefined || this.viewPointer === 0 || this.runtime.api.lua_topointer(L, index) !== this.viewPointer) return;
    const api = this.runtime.api;
    for (const key of LAZY_REQUEST_FIELDS) {
      this.runtime.pushString(L, key);
      if (api.lua_rawget(L, index) === LuaType.Nil) {
        api.lua_settop(L, -2);
        this.runtime.pushString(L, key);
        pushRequestField(view, L, key);
        api.lua_rawset(L, index);
      } else {
        api.lua_settop(L, -2);
      }
    }
  }

  /** The address of the request view table of the running call (0 when none). */
  viewPointer = 0;

  private cacheKey(L: number): string {
    const type = this.runtime.api.lua_type(L, 1);
    if (type === LuaType.String) return this.runtime.readString(L, 1);
    if (type === LuaType.Number) return String(this.runtime.readNumber(L, 1));
    throw new Error('a cache key must be a string or a number');
  }

  /** error(message [, level]) of the sandbox: Lua's own, remembering what the script raised. */
  private raise(L: number): number {
    const { runtime } = this;
    const api = runtime.api;
    const type = api.lua_type(L, 1);
    const level = api.lua_type(L, 2) === LuaType.Number ? runtime.readNumber(L, 2) : 1;
    api.lua_settop(L, 1);
    if (type === LuaType.String) {
      this.scriptErrorMessage = runtime.readString(L, 1);
      if (level > 0) {
        api.luaL_where(L, level);
        api.lua_pushvalue(L, 1);
        api.lua_concat(L, 2);
      }
      this.scriptError = runtime.readString(L, -1);
    } else {
      this.scriptError = undefined;
    }
    return api.lua_error(L);
  }

  /** require(name) of the sandbox, resolved inside the plugin folder: returns the module's chunk. */
  private loadModule(L: number): number | string {
    const { runtime } = this;
    if (runtime.api.lua_type(L, 1) !== LuaType.String) return 'require expects a module name';
    const name = runtime.readString(L, 1);
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) return `module "${name}" not found: a plugin requires only modules in its own folder`;
    const candidates = [join(this.options.dir, ...name.split('.')) + '.lua', join(this.options.dir, ...name.split('.'), 'init.lua')];
    for (const candidate of candidates) {
      if (!existsSync(candidate)) continue;
      const real = realpathSync(candidate);
      if (!real.startsWith(this.options.dir + sep)) return `module "${name}" not found: a plugin requires only modules in its own folder`;
      const chunk = relative(this.options.dir, real).split(sep).join('/');
      if (runtime.loadText(L, readFileSync(real, 'utf8'), `@${chunk}`) !== LUA_OK) return runtime.readString(L, -1);
      return 1;
    }
    return `module "${name}" not found in the plugin folder`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runtime.api.lua_close(this.L);
    for (const pointer of this.functions) this.runtime.module.removeFunction(pointer);
  }
}
