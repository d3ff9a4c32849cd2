// What each target of an auto alias's tiers is known to do, for its hard constraints
// (routing/auto/constraints.ts), built once per config snapshot from three sources, the later over
// the earlier: the built-in record of its model (routing/model-capabilities.ts), what its provider
// decides whatever the model (a local server constrains any model's output to a JSON schema; an
// agent CLI takes no tools of the caller's and carries a schema only if its CLI does; a provider
// carries only its own dialects' unmodelled fields), and the target's own `supports:` and
// `context_window` in the config.
import { CARRIED_PARAMETERS } from '../agent-clis/parameters.ts';
import type { AliasConfig, AliasTarget, GatewayConfig, ProviderConfig } from '../config/types.ts';
import type { TargetRecord } from '../routing/auto/constraints.ts';
import { listCapabilitiesOf } from '../routing/model-capabilities.ts';

/** Servers on your own hardware whose OpenAI-compatible API constrains any model to a JSON schema (response_format). */
const LOCAL_SCHEMA_PRESETS: ReadonlySet<string> = new Set(['ollama-openai', 'lmstudio', 'llamacpp', 'vllm']);

/** The dialects whose unmodelled fields a provider carries upstream ('*': any, dropped and named). */
function dialectsOf(provider: ProviderConfig, alias: AliasConfig): readonly string[] {
  switch (provider.dialect) {
    case 'agent-cli': return (alias.unsupportedParams ?? provider.agentCli?.unsupportedParams) === 'drop' ? ['*'] : [];
    case 'openai': return ['openai', ...(provider.capabilities.responses ? ['openai-responses'] : []), ...(provider.capabilities.completions ? ['openai-completions'] : [])];
    default: return [provider.dialect];
  }
}

export function targetRecordOf(provider: ProviderConfig | undefined, target: AliasTarget, alias: AliasConfig): TargetRecord {
  const listed = listCapabilitiesOf(target.model);
  let images = listed?.images;
  let jsonSchema = listed?.jsonSchema;
  let tools = listed?.tools;
  if (provider?.agentCli !== undefined) {
    tools = false;
    jsonSchema = CARRIED_PARAMETERS[provider.agentCli.type].has('json_schema');
  } else if (provider !== undefined && (provider.dialect === 'ollama' || (provider.preset !== undefined && LOCAL_SCHEMA_PRESETS.has(provider.preset)))) {
    jsonSchema = true;
  }
  const supports = target.supports;
  if (supports?.images !== undefined) images = supports.images;
  if (supports?.jsonSchema !== undefined) jsonSchema = supports.jsonSchema;
  if (supports?.tools !== undefined) tools = supports.tools;
  return {
    provider: target.provider,
    model: target.model,
    contextWindow: target.contextWindow ?? listed?.contextWindow,
    images,
    jsonSchema,
    tools,
    dialects: provider === undefined ? [] : dialectsOf(provider, alias),
  };
}

/** Per tier of `alias` (cheapest first), its targets' records. */
export function tierTargetRecords(config: GatewayConfig, alias: AliasConfig): TargetRecord[][] {
  const providers = new Map(config.providers.map((provider) => [provider.name, provider]));
  return (alias.auto?.tiers ?? []).map((tier) => {
    const route = config.models.find((candidate) => candidate.name === tier.route);
    return (route?.targets ?? []).map((target) => targetRecordOf(providers.get(target.provider), target, route!));
  });
}
