// Run as a short-lived child process by config/subprocess.ts: loads the config (or builds the
// zero-config one) and writes the snapshot as JSON to stdout. The YAML parser and the schema
// library live and die here, never in the serving process.
import { ConfigError } from './config-error.ts';

import type { AgentCliKind, GatewayConfig } from './types.ts';

const request = JSON.parse(process.argv[2] ?? '{}') as { kind: 'file' | 'zero' | 'candidate' | 'masked'; path?: string; source?: string; agentCliTypes?: AgentCliKind[] };

/** A candidate's text comes on stdin (it may be larger than an argument may be). */
async function standardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Loads the config's plugins once (then lets them go): a plugin that does not load refuses the
 * file as any other problem would, at its entry's line.
 */
async function checkPluginsOf(config: GatewayConfig, source: string, text?: string): Promise<void> {
  if (config.plugins.length === 0) return;
  const { checkPlugins } = await import('../plugins/check.ts');
  const found = await checkPlugins(config);
  if (found.length === 0) return;
  const { readFileSync } = await import('node:fs');
  const { problemsAt } = await import('./load.ts');
  throw new ConfigError(source, problemsAt(text ?? readFileSync(source, 'utf8'), found));
}

async function run(): Promise<unknown> {
  try {
    if (request.kind === 'candidate') {
      const { readFileSync } = await import('node:fs');
      const { candidateOver } = await import('./candidate.ts');
      const current = request.path === undefined ? undefined : readFileSync(request.path, 'utf8');
      const source = request.source ?? 'candidate';
      const sent = await standardInput();
      const { text, loaded } = candidateOver(current, sent, source, process.env);
      // what runs code is changed in the file only: refused before any plugin of the candidate is loaded
      const { parseConfigText, problemsAt } = await import('./load.ts');
      const { codeSettingChanges } = await import('./code-settings.ts');
      // without a file (zero-config) nothing runs code yet
      const running = current === undefined ? { plugins: [], providers: [] } : parseConfigText(current, request.path!, process.env).config;
      const changed = codeSettingChanges(running, loaded.config);
      if (changed.length > 0) throw new ConfigError(source, problemsAt(sent, changed));
      await checkPluginsOf(loaded.config, source, text);
      return { ok: true, config: loaded.config, warnings: loaded.warnings, writtenEmpty: loaded.writtenEmpty, found: [], text };
    }
    if (request.kind === 'masked') {
      const { readFileSync } = await import('node:fs');
      const { maskedFileText } = await import('./candidate.ts');
      return { ok: true, config: {}, warnings: [], found: [], text: maskedFileText(readFileSync(request.path!, 'utf8')) };
    }
    if (request.kind === 'file') {
      const { loadConfigFile } = await import('./load.ts');
      const { config, warnings, writtenEmpty } = loadConfigFile(request.path!, process.env);
      await checkPluginsOf(config, request.path!);
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
