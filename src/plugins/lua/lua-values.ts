// Plain values between JavaScript and Lua: JSON-shaped data (config, cache entries, json.encode /
// json.decode, tool parameter schemas). A Lua table is a list when its keys are exactly 1..n and
// an object otherwise; the empty table is an empty object.
import { LUA_REGISTRYINDEX, LuaType, type LuaRuntime } from './lua-runtime.ts';
import { LuaPluginError } from './lua-errors.ts';

const MAX_DEPTH = 64;

export function pushValue(runtime: LuaRuntime, L: number, value: unknown, depth = 0): void {
  const api = runtime.api;
  if (depth > MAX_DEPTH) throw new LuaPluginError(`a value nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
      runtime.pushString(L, value);
      return;
    case 'number':
      runtime.pushNumber(L, value);
      return;
    case 'boolean':
      api.lua_pushboolean(L, value ? 1 : 0);
      return;
    case 'object':
      if (value === null) break;
      if (Array.isArray(value)) {
        api.lua_createtable(L, value.length, 0);
        for (let i = 0; i < value.length; i++) {
          pushValue(runtime, L, value[i], depth + 1);
          api.lua_rawseti(L, -2, BigInt(i + 1));
        }
        return;
      }
      {
        const entries = Object.entries(value);
        api.lua_createtable(L, 0, entries.length);
        for (const [key, item] of entries) {
          if (item === undefined) continue;
          runtime.pushString(L, key);
          pushValue(runtime, L, item, depth + 1);
          api.lua_rawset(L, -3);
        }
      }
      return;
    default:
      break;
  }
  api.lua_pushnil(L);
}

/**
 * The value at `index` as plain data. `beforeTable` runs on each table first (the request view
 * fills in its lazy fields there), so a view encodes whole.
 */
export function readValue(runtime: LuaRuntime, L: number, index: number, beforeTable?: (L: number, index: number) => void, depth = 0): unknown {
  const api = runtime.api;
  switch (api.lua_type(L, index)) {
    case LuaType.Nil:
    case LuaType.None:
      return null;
    case LuaType.Boolean:
      return api.lua_toboolean(L, index) !== 0;
    case LuaType.Number:
      return runtime.readNumber(L, index);
    case LuaType.String:
      return runtime.readString(L, index);
    case LuaType.Table:
      break;
    default:
      throw new LuaPluginError('only nil, booleans, numbers, strings and tables can leave Lua');
  }
  if (depth > MAX_DEPTH) throw new LuaPluginError(`a table nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  const table = index < 0 && index > LUA_REGISTRYINDEX ? api.lua_gettop(L) + index + 1 : index;
  beforeTable?.(L, table);
  const keys: (string | number)[] = [];
  const values: unknown[] = [];
  let isList = true;
  api.lua_pushnil(L);
  while (api.lua_next(L, table) !== 0) {
    const keyType = api.lua_type(L, -2);
    let key: string | number;
    if (keyType === LuaType.String) {
      key = runtime.readString(L, -2);
      isList = false;
    } else if (keyType === LuaType.Number) {
      key = runtime.readNumber(L, -2);
      if (!Number.isInteger(key) || key < 1) isList = false;
    } else {
      api.lua_settop(L, -3);
      throw new LuaPluginError('a table key must be a string or a number');
    }
    keys.push(key);
    values.push(readValue(runtime, L, -1, beforeTable, depth + 1));
    api.lua_settop(L, -2);
  }
  if (isList && keys.length > 0) {
    const list: unknown[] = new Array<unknown>(keys.length).fill(null);
    let dense = true;
    for (let i = 0; i < keys.length; i++) {
      const position = (keys[i] as number) - 1;
      if (position >= keys.length) { dense = false; break; }
      list[position] = values[i];
    }
    if (dense) return list;
  }
  const object: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) object[String(keys[i])] = values[i];
  return object;
}
