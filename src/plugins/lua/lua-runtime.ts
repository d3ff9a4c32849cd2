// The Lua 5.4 virtual machine (wasmoon's WebAssembly build), shared by every Lua plugin of the
// process: one WebAssembly instance, one lua_State per configured plugin instance.
//
// wasmoon's own conversions (LuaEngine, Thread.pushValue) walk JavaScript objects generically and
// call the C API through `ccall`, several microseconds per value; a hook on the request path has
// 15 µs in all. So the plugin host drives the C API itself, through the instance's raw exports:
// keys are C strings written once, text goes through one scratch buffer with `encodeInto`.
import type { LuaWasm } from 'wasmoon';

/** The exports of the Lua build this host calls on hot paths (pointers are numbers; lua_Integer is a bigint). */
export interface LuaExports {
  lua_settop(L: number, index: number): void;
  lua_gettop(L: number): number;
  lua_pushvalue(L: number, index: number): void;
  lua_pushnil(L: number): void;
  lua_pushnumber(L: number, value: number): void;
  lua_pushinteger(L: number, value: bigint): void;
  lua_pushlstring(L: number, pointer: number, length: number): number;
  lua_pushboolean(L: number, value: number): void;
  lua_pushcclosure(L: number, fn: number, upvalues: number): void;
  lua_createtable(L: number, arrayItems: number, fields: number): void;
  lua_setfield(L: number, index: number, key: number): void;
  lua_getfield(L: number, index: number, key: number): number;
  lua_rawgeti(L: number, index: number, n: bigint): number;
  lua_rawseti(L: number, index: number, n: bigint): void;
  lua_rawget(L: number, index: number): number;
  lua_rawset(L: number, index: number): void;
  lua_rawequal(L: number, a: number, b: number): number;
  lua_rawlen(L: number, index: number): bigint;
  lua_type(L: number, index: number): number;
  lua_tolstring(L: number, index: number, lengthPointer: number): number;
  lua_tonumberx(L: number, index: number, isNumberPointer: number): number;
  lua_toboolean(L: number, index: number): number;
  lua_topointer(L: number, index: number): number;
  lua_next(L: number, index: number): number;
  lua_pcallk(L: number, args: number, results: number, handler: number, context: number, continuation: number): number;
  lua_setmetatable(L: number, index: number): number;
  lua_setglobal(L: number, name: number): void;
  lua_getglobal(L: number, name: number): number;
  lua_sethook(L: number, hook: number, mask: number, count: number): void;
  lua_getlocal(L: number, debugInfo: number, n: number): number;
  lua_error(L: number): number;
  lua_close(L: number): void;
  luaL_newstate(): number;
  lua_newstate(allocator: number, userData: number): number;
  luaL_openlibs(L: number): void;
  luaL_loadbufferx(L: number, buffer: number, size: number, name: number, mode: number): number;
  luaL_ref(L: number, table: number): number;
  luaL_unref(L: number, table: number, ref: number): void;
  luaL_where(L: number, level: number): void;
  lua_concat(L: number, count: number): void;
  malloc(size: number): number;
  realloc(pointer: number, size: number): number;
  free(pointer: number): void;
}

const EXPORT_NAMES = [
  'lua_settop', 'lua_gettop', 'lua_pushvalue', 'lua_pushnil', 'lua_pushnumber', 'lua_pushinteger', 'lua_pushlstring',
  'lua_pushboolean', 'lua_pushcclosure', 'lua_createtable', 'lua_setfield', 'lua_getfield', 'lua_rawgeti', 'lua_rawseti',
  'lua_rawget', 'lua_rawset', 'lua_rawequal', 'lua_rawlen', 'lua_type', 'lua_tolstring', 'lua_tonumberx', 'lua_toboolean',
  'lua_topointer', 'lua_next', 'lua_pcallk', 'lua_setmetatable', 'lua_setglobal', 'lua_getglobal', 'lua_sethook',
  'lua_getlocal', 'lua_error', 'lua_close', 'luaL_newstate', 'lua_newstate', 'luaL_openlibs', 'luaL_loadbufferx', 'luaL_ref', 'luaL_unref',
  'luaL_where', 'lua_concat', 'malloc', 'realloc', 'free',
] as const satisfies readonly (keyof LuaExports)[];

export const LUA_REGISTRYINDEX = -1_000_000 - 1000;
export const LUA_OK = 0;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
export const LUA_MASKCOUNT = 8;

export const LuaType = { None: -1, Nil: 0, Boolean: 1, LightUserdata: 2, Number: 3, String: 4, Table: 5, Function: 6, Userdata: 7, Thread: 8 } as const;

/** The parts of the Emscripten module the host uses besides the exports. */
interface EmscriptenModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  removeFunction(pointer: number): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class LuaRuntime {
  readonly api: LuaExports;
  readonly module: EmscriptenModule;
  private readonly keys = new Map<string, number>();
  private scratch: number;
  private scratchSize: number;
  private scratchView: Uint8Array;
  /** A word of wasm memory for the out-parameters of lua_tolstring / lua_tonumberx. */
  readonly outWord: number;

  constructor(api: LuaExports, module: EmscriptenModule) {
    this.api = api;
    this.module = module;
    this.scratchSize = 64 * 1024;
    this.scratch = api.malloc(this.scratchSize);
    this.scratchView = module.HEAPU8.subarray(this.scratch, this.scratch + this.scratchSize);
    this.outWord = api.malloc(8);
  }

  /** A NUL-terminated copy of `name` in wasm memory, written once and kept (for keys and global names). */
  key(name: string): number {
    let pointer = this.keys.get(name);
    if (pointer === undefined) {
      const bytes = encoder.encode(name);
      pointer = this.api.malloc(bytes.length + 1);
      this.module.HEAPU8.set(bytes, pointer);
      this.module.HEAPU8[pointer + bytes.length] = 0;
      this.keys.set(name, pointer);
    }
    return pointer;
  }

  /** Writes `text` as UTF-8 into the scratch buffer; returns its length in bytes. */
  private encode(text: string): number {
    const needed = text.length * 3;
    if (needed > this.scratchSize) {
      this.api.free(this.scratch);
      this.scratchSize = Math.max(needed, this.scratchSize * 2);
      this.scratch = this.api.malloc(this.scratchSize);
      this.scratchView = this.module.HEAPU8.subarray(this.scratch, this.scratch + this.scratchSize);
    } else if (this.scratchView.buffer !== this.module.HEAPU8.buffer) {
      // the memory grew: views over the old buffer are detached
      this.scratchView = this.module.HEAPU8.subarray(this.scratch, this.scratch + this.scratchSize);
    }
    return encoder.encodeInto(text, this.scratchView).written;
  }

  pushString(L: number, text: string): void {
    const length = this.encode(text);
    this.api.lua_pushlstring(L, this.scratch, length);
  }

  /** Loads a chunk of text (never bytecode) named `chunkName` (`@file.lua` for a file); returns the status. */
  loadText(L: number, source: string, chunkName: string): number {
    const length = this.encode(source);
    const name = this.key(chunkName);
    return this.api.luaL_loadbufferx(L, this.scratch, length, name, this.key('t'));
  }

  /** The string at `index`; call only when lua_type says String (lua_tolstring turns numbers into strings in place). */
  readString(L: number, index: number): string {
    const pointer = this.api.lua_tolstring(L, index, this.outWord);
    const length = this.module.HEAPU32[this.outWord >> 2]!;
    const heap = this.module.HEAPU8;
    if (length < 48) {
      let text = '';
      for (let i = 0; i < length; i++) {
        const byte = heap[pointer + i]!;
        if (byte >= 0x80) return decoder.decode(heap.subarray(pointer, pointer + length));
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return decoder.decode(heap.subarray(pointer, pointer + length));
  }

  /** A NUL-terminated string in wasm memory (a parameter name from lua_getlocal). */
  readCString(pointer: number): string {
    const heap = this.module.HEAPU8;
    let end = pointer;
    while (heap[end] !== 0) end++;
    return decoder.decode(heap.subarray(pointer, end));
  }

  readNumber(L: number, index: number): number {
    return this.api.lua_tonumberx(L, index, 0);
  }

  pushNumber(L: number, value: number): void {
    if (Number.isSafeInteger(value)) this.api.lua_pushinteger(L, BigInt(value));
    else this.api.lua_pushnumber(L, value);
  }

  /** t[key] = the value on top of the stack (popped); t at `index` (negative counts before the value). */
  setField(L: number, index: number, key: string): void {
    this.api.lua_setfield(L, index, this.key(key));
  }

  getField(L: number, index: number, key: string): number {
    return this.api.lua_getfield(L, index, this.key(key));
  }
}

let shared: Promise<LuaRuntime> | undefined;

/** The process's Lua runtime, instantiated on first use (only when a Lua plugin is configured). */
export function luaRuntime(): Promise<LuaRuntime> {
  shared ??= instantiate().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

async function instantiate(): Promise<LuaRuntime> {
  const { LuaFactory } = await import('wasmoon');
  // The Emscripten glue wraps each export in a checking function that builds a message string on
  // every call; the instance's own exports are several times cheaper. wasmoon does not hand them
  // out, so they are taken from WebAssembly.instantiate while the module starts (and checked).
  const webAssembly: object = Reflect.get(globalThis, 'WebAssembly') as object;
  const instantiateOriginal = Reflect.get(webAssembly, 'instantiate') as (...args: unknown[]) => Promise<unknown>;
  let exports: Record<string, unknown> | undefined;
  const capture = async (...args: unknown[]): Promise<unknown> => {
    const result = await Reflect.apply(instantiateOriginal, webAssembly, args);
    // instantiate(bytes) gives { module, instance }; instantiate(module) gives the instance
    const instance: unknown = typeof result === 'object' && result !== null && 'instance' in result ? result.instance : result;
    const found: unknown = typeof instance === 'object' && instance !== null && 'exports' in instance ? instance.exports : undefined;
    if (typeof found === 'object' && found !== null && typeof Reflect.get(found, 'lua_pushlstring') === 'function') exports ??= found as Record<string, unknown>;
    return result;
  };
  let wasm: LuaWasm;
  try {
    Reflect.set(webAssembly, 'instantiate', capture);
    wasm = await new LuaFactory().getLuaModule();
  } finally {
    Reflect.set(webAssembly, 'instantiate', instantiateOriginal);
  }
  const module = wasm.module as unknown as EmscriptenModule & Record<string, unknown>;
  const api: Record<string, unknown> = {};
  for (const name of EXPORT_NAMES) {
    const raw = exports?.[name] ?? module[`_${name}`];
    if (typeof raw !== 'function') throw new Error(`the Lua runtime (wasmoon) lacks ${name}`);
    api[name] = raw;
  }
  return new LuaRuntime(api as unknown as LuaExports, module);
}
