// Reads the figures scenario 8 (plugins) needs from what the plugin micro benchmarks print:
// bench/micro/plugin-hooks.ts (a no-op JS hook alone, the canonical view, a no-op stream hook per
// event) and bench/micro/lua-hook.ts (a no-op Lua hook per call). Pure: text in, numbers out, so
// a change to either benchmark's wording shows up in test/unit/bench-plugins.test.ts.

/** bench/micro/plugin-hooks.ts: CPU µs per operation over its baseline (medians). */
export interface PluginHooksFigures {
  /** A no-op JS onRequest through the plugin host, the request already in canonical form. */
  hookOnlyUs: number;
  /** Decode, the no-op hook, and encode again for a same-dialect provider. */
  canonicalViewUs: number;
  /** A no-op JS onStreamEvent on one text delta, over the surface's encoder alone. */
  streamEventUs: number;
  /** The request body the benchmark used, in bytes (undefined if the heading changed). */
  bodyBytes: number | undefined;
}

/** bench/micro/lua-hook.ts: CPU µs per call (medians), hooks called directly (no plugin host). */
export interface LuaHookFigures {
  /** A no-op JS onRequest called directly: the call itself, the benchmark's baseline. */
  jsCallUs: number;
  /** A no-op Lua on_request (`return nil`). */
  luaNoopRequestUs: number;
  /** A no-op Lua on_stream_event on a text delta (undefined if the line is missing). */
  luaNoopStreamEventUs: number | undefined;
}

const number = '(-?\\d+(?:\\.\\d+)?)';

function find(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

/** undefined when the output lacks any of the three figures (the benchmark failed or changed). */
export function parsePluginHooksOutput(text: string): PluginHooksFigures | undefined {
  const hookOnlyUs = find(text, new RegExp(`no-op onRequest adds ${number} µs`));
  const canonicalViewUs = find(text, new RegExp(`the canonical view adds ${number} µs`));
  const streamEventUs = find(text, new RegExp(`no-op onStreamEvent adds ${number} µs per event`));
  if (hookOnlyUs === undefined || canonicalViewUs === undefined || streamEventUs === undefined) return undefined;
  return { hookOnlyUs, canonicalViewUs, streamEventUs, bodyBytes: find(text, new RegExp(`plugin hooks, ${number} B `)) };
}

/** undefined when the output lacks the JS baseline or the Lua no-op request line. */
export function parseLuaHookOutput(text: string): LuaHookFigures | undefined {
  const line = (name: string) => find(text, new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\s+${number} µs/call`, 'm'));
  const jsCallUs = line('JS no-op onRequest (baseline)');
  const luaNoopRequestUs = line('Lua no-op on_request');
  if (jsCallUs === undefined || luaNoopRequestUs === undefined) return undefined;
  return { jsCallUs, luaNoopRequestUs, luaNoopStreamEventUs: line('Lua no-op on_stream_event (text delta)') };
}

/**
 * A no-op Lua on_request as the gateway runs it: the Lua call (lua-hook.ts calls the hook
 * directly) plus the plugin host's own part around any hook (plugin-hooks.ts's hook-only figure,
 * which includes a JS call; counting that call twice keeps the estimate on the high side).
 */
export function luaHookOnlyUs(lua: LuaHookFigures | undefined, host: PluginHooksFigures | undefined): number | undefined {
  if (lua === undefined) return undefined;
  return lua.luaNoopRequestUs + Math.max(0, host?.hookOnlyUs ?? 0);
}
