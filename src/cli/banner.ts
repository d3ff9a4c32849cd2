// The start-up banner: where to point clients, and which providers and models were found.
import type { GatewayConfig } from '../config/types.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import { join } from 'node:path';
import { defaultStateDirectory, safeDatabaseUrl, USAGE_DATABASE_FILE } from '../state/usage-store.ts';
import { isLoopbackHost } from '../util/loopback.ts';

const MAX_MODELS_SHOWN = 6;

export const isLoopback = isLoopbackHost;

export function renderBanner(version: string, url: string, config: GatewayConfig, runtime: Runtime, workers: number, notes: readonly string[]): string {
  const lines: string[] = [];
  const source = config.source === 'zero-config' ? 'zero-config (no switchyard.yaml)' : config.source;
  lines.push(`Switchyard ${version} listening on ${url}  (${workers} worker${workers === 1 ? '' : 's'}, config: ${source})`);
  if (config.providers.length === 0) {
    lines.push('');
    lines.push('No providers found. Set OPENAI_API_KEY (or OPENROUTER_API_KEY, GROQ_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, …),');
    lines.push('start Ollama, LM Studio or a llama.cpp server on its default port, or write a switchyard.yaml');
    lines.push('(see switchyard.example.yaml and docs/config.md), then restart.');
  } else {
    lines.push('');
    lines.push('Providers:');
    const nameWidth = Math.max(...config.providers.map((provider) => provider.name.length));
    for (const provider of config.providers) {
      const discovered = runtime.discoveredModels(provider.name);
      const names = [...provider.models, ...discovered.filter((model) => !provider.models.includes(model))];
      let models: string;
      if (names.length === 0) models = provider.discover ? 'no models discovered (use "' + provider.name + ':<model>")' : `any model as "${provider.name}:<model>"`;
      else {
        const shown = names.slice(0, MAX_MODELS_SHOWN).join(', ');
        models = names.length > MAX_MODELS_SHOWN ? `${shown}, … (${names.length} in all)` : shown;
      }
      // an agent CLI has no URL: what runs, and for whom
      const where = provider.agentCli !== undefined ? `${provider.agentCli.type} CLI, mode ${provider.agentCli.mode} (personal use)` : provider.baseUrl;
      lines.push(`  ${provider.name.padEnd(nameWidth)}  ${where}  ${models}`);
    }
    if (config.models.length > 0) {
      lines.push('');
      lines.push('Aliases:');
      for (const alias of config.models) lines.push(`  ${alias.name} → ${alias.targets.map((target) => `${target.provider}:${target.model}`).join(', ')}`);
    }
  }
  if (notes.length > 0) {
    lines.push('');
    lines.push(config.source === 'zero-config' ? 'Detected:' : 'Notes:');
    for (const note of notes) lines.push(`  ${note}`);
  }
  const example = firstModel(config, runtime) ?? '<model>';
  lines.push('');
  if (config.storage.enabled) {
    const where = config.storage.url !== undefined ? safeDatabaseUrl(config.storage.url) : join(config.storage.path ?? defaultStateDirectory(), USAGE_DATABASE_FILE);
    lines.push(`Usage and cost: recorded in ${where}; see them with \`switchyard usage\` or GET ${url}/v0/usage`);
  }
  // the dashboard opens without a login only where the management API would (admin keys, else loopback)
  lines.push(`Dashboard: ${url}/ui${config.auth.adminKeys.length > 0 ? ' (sign in with an admin key)' : isLoopback(config.server.host) ? '' : ' (set auth.admin_keys to use it from another machine)'}`);
  lines.push(`OpenAI-compatible base URL: ${url}/v1`);
  lines.push(`  curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`);
  lines.push(`    -d '{"model":"${example}","messages":[{"role":"user","content":"Hello"}],"stream":true}'`);
  return lines.join('\n');
}

function firstModel(config: GatewayConfig, runtime: Runtime): string | undefined {
  if (config.models.length > 0) return config.models[0]!.name;
  for (const provider of config.providers) {
    const exact = provider.models.find((model) => !model.includes('*') && !model.includes('?'));
    if (exact !== undefined) return exact;
    const discovered = runtime.discoveredModels(provider.name)[0];
    if (discovered !== undefined) return discovered;
  }
  return undefined;
}
