// Where a `use:` that is not a JS/TS module comes from: the built-in plugins and the Lua host.
// Each is imported on first use, so a config without them loads neither (nor wasmoon).
import { extname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { PluginConfig } from '../config/types.ts';
import type { PluginSources } from './load.ts';

export const pluginSources: PluginSources = {
  async builtin(name) {
    const { builtinPlugins } = await import('./builtin/index.ts');
    return Object.hasOwn(builtinPlugins, name) ? builtinPlugins[name] : undefined;
  },
  async builtinNames() {
    return Object.keys((await import('./builtin/index.ts')).builtinPlugins);
  },
  async lua(path: string, entry: PluginConfig) {
    const isFolder = (await stat(path)).isDirectory();
    if (!isFolder && extname(path).toLowerCase() !== '.lua') return undefined;
    if (isFolder && !(await stat(join(path, 'handler.lua')).then(() => true, () => false))) return undefined;
    const { loadLuaPlugin } = await import('./lua/load-lua-plugin.ts');
    const definition = await loadLuaPlugin(path, { requestBudgetMs: entry.timeoutMs, streamBudgetMs: entry.streamTimeoutMs, memoryLimitMb: entry.memoryLimitMb });
    return { definition, watch: [isFolder ? join(path, 'handler.lua') : path] };
  },
};
