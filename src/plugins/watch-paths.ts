// The files whose change reloads the plugins: each JS/TS or Lua file named by `use:`, and a Lua
// folder's `handler.lua` (modules a plugin imports are read again with a restart).
import { join } from 'node:path';
import type { PluginConfig } from '../config/types.ts';

export function pluginWatchPaths(plugins: readonly PluginConfig[]): string[] {
  const paths = new Set<string>();
  for (const plugin of plugins) {
    if (plugin.builtin) continue;
    paths.add(/\.(?:[cm]?[jt]s|lua)$/i.test(plugin.use) ? plugin.use : join(plugin.use, 'handler.lua'));
  }
  return [...paths];
}
