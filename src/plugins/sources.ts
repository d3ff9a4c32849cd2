// Where a `use:` that is not a JS/TS module comes from: the built-in plugins and the Lua host.
import type { PluginSources } from './load.ts';

export const pluginSources: PluginSources = {
  builtin: () => undefined,
  builtinNames: () => [],
};
