// The settings that make this machine run code: plugins (a module or script loaded into the
// gateway) and agent CLIs (an executable, its arguments and environment, its mode). They are
// changed by editing the file, never through the management API: no HTTP caller, admin keys
// included, may make the host run a command (docs/security.md).
import type { GatewayConfig } from './types.ts';
import type { PendingProblem } from './problems.ts';

const MESSAGE = 'runs code on this machine, so it is changed in the config file itself (the watcher or SIGHUP applies it), not through the management API';

/** Problems for each code-running setting the candidate adds or changes against the running config. */
export function codeSettingChanges(current: Pick<GatewayConfig, 'plugins' | 'providers'>, candidate: GatewayConfig): PendingProblem[] {
  const problems: PendingProblem[] = [];
  const plugins = (config: Pick<GatewayConfig, 'plugins'>) => JSON.stringify(config.plugins.map((plugin) => [plugin.use, plugin.builtin, plugin.isolate]));
  if (plugins(current) !== plugins(candidate)) {
    const index = candidate.plugins.findIndex((plugin, i) => JSON.stringify([plugin.use, plugin.isolate]) !== JSON.stringify([current.plugins[i]?.use, current.plugins[i]?.isolate]));
    const at = index >= 0 ? candidate.plugins[index]!.index : candidate.plugins.length;
    problems.push({ path: index >= 0 ? ['plugins', at, 'use'] : ['plugins'], message: `a plugin ${MESSAGE}` });
  }
  const clis = new Map(current.providers.filter((provider) => provider.agentCli !== undefined).map((provider) => [provider.name, cliOf(provider.agentCli!)]));
  candidate.providers.forEach((provider, index) => {
    if (provider.agentCli === undefined) return;
    if (clis.get(provider.name) !== cliOf(provider.agentCli)) problems.push({ path: ['providers', index], message: `an agent CLI provider (its command, args, env and mode) ${MESSAGE}` });
  });
  return problems;
}

function cliOf(cli: NonNullable<GatewayConfig['providers'][number]['agentCli']>): string {
  return JSON.stringify([cli.type, cli.command, cli.args, cli.env, cli.mode]);
}
