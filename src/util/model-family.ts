// Model names as providers and routers spell them, reduced to the family name a built-in list keys
// on: `claude-sonnet-4-5-20250929`, `anthropic/claude-sonnet-4.5`, `gpt-4o-2024-08-06`,
// `models/gemini-2.5-pro`, `us.anthropic.claude-sonnet-4-5-20250929-v1:0` all find
// `claude-sonnet-4.5` or `gpt-4o`. Shared by the price list (observability/pricing.ts) and the
// capability list (routing/model-capabilities.ts).

// Suffixes that name a snapshot of a family, tried in turn until the table knows the name.
const SNAPSHOT_SUFFIXES: readonly RegExp[] = [
  /-v\d+(?::\d+)?$/, // Bedrock: -v1:0
  /[-@]\d{8}$/, // -20250929, Vertex @20250929
  /-\d{4}-\d{2}-\d{2}$/, // -2024-08-06
  /-(?:latest|\d{3})$/, // -latest, Gemini -001
  /-preview(?:-\d{2}-\d{4}|-\d{2}-\d{2})?$/, // Gemini previews of a released model
];

/** Lower case, `4.5` → `4-5`: the form list keys and model names are compared in. */
export function familyKey(name: string): string {
  return name.toLowerCase().replace(/(\d)\.(?=\d)/g, '$1-');
}

/** A list keyed by family names, in the form `lookupFamily` compares them. */
export function familyTable<T>(list: Readonly<Record<string, T>>): ReadonlyMap<string, T> {
  return new Map(Object.entries(list).map(([name, value]) => [familyKey(name), value]));
}

/**
 * The part of a model name after its last `/` (an OpenRouter vendor, `models/`), without a
 * trailing `[…]` (a context-size tag) and a `:variant` of letters (OpenRouter's `:free`,
 * `:thinking`), with the variant apart; an Ollama `:tag` of digits (`qwen3:8b`) stays.
 */
export function bareModelName(model: string): { name: string; variant: string | undefined } {
  const name = model.slice(model.lastIndexOf('/') + 1).replace(/\[[^\]]*\]$/, '');
  const variant = /:([a-z][a-z-]*)$/i.exec(name);
  return variant === null ? { name, variant: undefined } : { name: name.slice(0, variant.index), variant: variant[1]!.toLowerCase() };
}

/** The entry of `table` (from familyTable) for `model`, or undefined when no family matches. */
export function lookupFamily<T>(table: ReadonlyMap<string, T>, model: string): T | undefined {
  let name = familyKey(bareModelName(model).name).replace(/^(?:[a-z]{2}\.)?anthropic\./, '');
  let found = table.get(name);
  for (let i = 0; found === undefined && i < SNAPSHOT_SUFFIXES.length; i++) {
    const shorter = name.replace(SNAPSHOT_SUFFIXES[i]!, '');
    if (shorter === name) continue;
    name = shorter;
    found = table.get(name);
  }
  return found;
}
