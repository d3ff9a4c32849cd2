// The config `switchyard serve` starts with: the file the CLI points at (or the zero-config one),
// loaded in a child process (config/subprocess.ts), with the command-line overrides applied. Kept
// apart from serve.ts, which loads the whole gateway, so the CLI can start the child first and load
// the gateway's modules while the child works.
import { deepFreeze } from '../config/freeze.ts';
import { findConfigPath } from '../config/locate.ts';
import { buildZeroConfigInChild, loadConfigFileInChild } from '../config/subprocess.ts';
import type { GatewayConfig, LogLevel } from '../config/types.ts';
import type { ServeArgs } from './args.ts';

export interface LoadedConfig {
  config: GatewayConfig;
  path: string | undefined;
  notes: string[];
}

export function applyOverrides(config: GatewayConfig, args: ServeArgs): GatewayConfig {
  const server = { ...config.server };
  if (args.host !== undefined) server.host = args.host;
  if (args.port !== undefined) server.port = args.port;
  if (args.workers !== undefined) server.workers = args.workers;
  const logging = { ...config.logging };
  if (args.logLevel !== undefined) logging.level = args.logLevel as LogLevel;
  return deepFreeze({ ...config, server, logging });
}

/**
 * Loads the config the CLI points at (or builds the zero-config one) and applies flag overrides.
 * `agentCliTypes`: the agent CLIs this build drives — asked for only on zero-config, which
 * registers no other.
 */
export async function loadForServe(args: ServeArgs, agentCliTypes: () => Promise<readonly string[]>, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const path = findConfigPath(args.config, env, process.cwd());
  if (path === undefined) {
    const zero = await buildZeroConfigInChild(env, await agentCliTypes());
    return { config: applyOverrides(zero.config, args), path: undefined, notes: zero.found };
  }
  const loaded = await loadConfigFileInChild(path, env);
  return { config: applyOverrides(loaded.config, args), path, notes: loaded.warnings.map((warning) => `warning: ${warning}`) };
}
