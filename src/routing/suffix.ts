// Thinking suffixes on model names: `model(16384)` asks for a reasoning budget of that many
// tokens, `model(high)` for an effort level; each provider maps them to its own settings.
import type { ReasoningEffort, ReasoningSettings } from '../canonical/request.ts';

const SUFFIX = /^(.+)\((\d{1,7}|none|minimal|low|medium|high|xhigh)\)$/;

export interface SuffixedModel {
  model: string;
  reasoning: ReasoningSettings;
}

/** Splits `name(level)`; undefined when the name carries no thinking suffix. */
export function parseThinkingSuffix(name: string): SuffixedModel | undefined {
  const match = SUFFIX.exec(name);
  if (match === null) return undefined;
  const value = match[2]!;
  const reasoning: ReasoningSettings = /^\d+$/.test(value)
    ? { budgetTokens: Number(value), includeThoughts: true }
    : { effort: value as ReasoningEffort, includeThoughts: value !== 'none' };
  return { model: match[1]!, reasoning };
}
