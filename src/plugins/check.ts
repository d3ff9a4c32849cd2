// Loads a config's plugins once to check them (`switchyard check-config`, and the config child
// before a start or reload is applied), then lets them go. Each failure is a problem at its
// entry's `use:`, in the config file's own problem format.
import type { GatewayConfig } from '../config/types.ts';
import { disposePlugins, loadPlugins, PluginLoadError } from './load.ts';
import { pluginSources } from './sources.ts';

export interface PluginProblem {
  /** ['plugins', index, 'use'] */
  path: (string | number)[];
  message: string;
}

export async function checkPlugins(config: GatewayConfig): Promise<PluginProblem[]> {
  if (config.plugins.length === 0) return [];
  const problems: PluginProblem[] = [];
  // each entry alone, so one bad plugin does not hide the next one's problem
  for (const entry of config.plugins) {
    try {
      await disposePlugins(await loadPlugins([entry], pluginSources, () => {}));
    } catch (error) {
      const message = error instanceof PluginLoadError ? error.message.slice(error.entry.length + 2) : (error as Error).message;
      problems.push({ path: ['plugins', entry.index, 'use'], message });
    }
  }
  return problems;
}
