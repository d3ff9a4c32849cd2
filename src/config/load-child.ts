// Run as a short-lived child process by config/subprocess.ts: loads the config (or builds the
// zero-config one) and writes the snapshot as JSON to stdout. The YAML parser and the schema
// library live and die here, never in the serving process.
import { ConfigError } from './config-error.ts';

import type { AgentCliKind } from './types.ts';

const request = JSON.parse(process.argv[2] ?? '{}') as { kind: 'file' | 'zero'; path?: string; agentCliTypes?: AgentCliKind[] };

async function run(): Promise<unknown> {
  try {
    if (request.kind === 'file') {
      const { loadConfigFile } = await import('./load.ts');
      const { config, warnings, writtenEmpty } = loadConfigFile(request.path!, process.env);
      return { ok: true, config, warnings, writtenEmpty, found: [] };
    }
    const { buildZeroConfig } = await import('./zero-config.ts');
    const { config, found } = await buildZeroConfig(process.env, { agentCliTypes: request.agentCliTypes ?? [] });
    return { ok: true, config, warnings: [], found };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, source: error.source, problems: error.problems };
    return { ok: false, message: (error as Error).message };
  }
}

process.stdout.write(JSON.stringify(await run()));
