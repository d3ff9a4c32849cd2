// The decision of an auto alias (issue #19), pure: the rules first (the first that matches picks
// a tier or a model), else the complexity model's tier. Patterns are compiled once per config
// snapshot; a decision reads only the latest user turn, the system prompt and a few counts
// (features.ts bounds what it scans).
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { AutoRouting, AutoRule } from '../../config/types.ts';
import { autoInputFrom, featureVector, type AutoInput } from './features.ts';
import { classify, tierFor, type ComplexityModel } from './model.ts';

/** What the request is besides its body: for rules on headers, keys and teams. */
export interface AutoFacts {
  header(name: string): string | undefined;
  keyId: string;
  team: string | undefined;
}

export interface AutoDecision {
  /** The route to take: a tier's hidden alias, or the model a rule named. */
  readonly route: string;
  /** The tier's index (cheapest 0); undefined when a rule named a model outright. */
  readonly tier: number | undefined;
  /** Why: `rule:<n>` (1-based), `score`, or `session` (set by the caller). */
  readonly by: string;
  /** The complexity score in [0, 1], when the model decided. */
  readonly score: number | undefined;
  /** The tiers' probabilities from the model, when it decided. */
  readonly probabilities: readonly number[] | undefined;
  /** The estimated prompt tokens the decision saw. */
  readonly promptTokens: number;
  /** The request offers tools of its own. */
  readonly tools: boolean;
}

interface CompiledRule {
  readonly rule: AutoRule;
  readonly regex: RegExp | undefined;
  readonly headers: readonly (readonly [string, RegExp])[];
  readonly keys: ReadonlySet<string> | undefined;
  readonly teams: ReadonlySet<string> | undefined;
}

export class AutoRouter {
  readonly name: string;
  readonly routing: AutoRouting;
  private readonly rules: readonly CompiledRule[];
  private readonly model: ComplexityModel;
  /** The largest prompt (estimated tokens) each tier's targets take; Infinity when one has no limit. */
  private readonly windows: readonly number[];
  /** Whether some target of each tier takes the caller's own tools (an agent CLI does not). */
  private readonly tools: readonly boolean[];

  constructor(name: string, routing: AutoRouting, model: ComplexityModel, windows: readonly number[] = [], tools: readonly boolean[] = []) {
    this.name = name;
    this.routing = routing;
    this.model = model;
    this.windows = routing.tiers.map((_, index) => windows[index] ?? Infinity);
    this.tools = routing.tiers.map((_, index) => tools[index] ?? true);
    this.rules = routing.rules.map((rule) => ({
      rule,
      regex: rule.when.regex === undefined ? undefined : new RegExp(rule.when.regex.source, rule.when.regex.flags),
      headers: (rule.when.headers ?? []).map(([header, source, flags]) => [header, new RegExp(source, flags)] as const),
      keys: rule.when.keys === undefined ? undefined : new Set(rule.when.keys),
      teams: rule.when.teams === undefined ? undefined : new Set(rule.when.teams),
    }));
  }

  /** The tier's route (its hidden alias) by index. */
  routeOf(tier: number): string {
    return this.routing.tiers[tier]!.route;
  }

  decide(request: CanonicalRequest, facts: AutoFacts): AutoDecision {
    const input = autoInputFrom(request);
    for (let i = 0; i < this.rules.length; i++) {
      const compiled = this.rules[i]!;
      if (!matches(compiled, input, facts)) continue;
      const then = compiled.rule.then;
      const by = `rule:${i + 1}`;
      if ('tier' in then) return { route: this.routeOf(then.tier), tier: then.tier, by, score: undefined, probabilities: undefined, promptTokens: input.promptTokens, tools: input.tools > 0 };
      return { route: then.model, tier: undefined, by, score: undefined, probabilities: undefined, promptTokens: input.promptTokens, tools: input.tools > 0 };
    }
    const result = classify(this.model, featureVector(input));
    const tier = this.fitting(tierFor(result, this.routing.tiers.length), input.promptTokens, input.tools > 0);
    return { route: this.routeOf(tier), tier, by: 'score', score: result.score, probabilities: result.probabilities, promptTokens: input.promptTokens, tools: input.tools > 0 };
  }

  /**
   * Hard constraints before any preference: the first tier from `tier` up whose targets take a
   * prompt this long and, when the request offers tools, take tools; `tier` itself when none does.
   */
  fitting(tier: number, promptTokens: number, tools = false): number {
    for (let fit = tier; fit < this.windows.length; fit++) {
      if (promptTokens <= this.windows[fit]! && (!tools || this.tools[fit]!)) return fit;
    }
    return tier;
  }
}

function matches(compiled: CompiledRule, input: AutoInput, facts: AutoFacts): boolean {
  const when = compiled.rule.when;
  if (when.minPromptTokens !== undefined && input.promptTokens < when.minPromptTokens) return false;
  if (when.maxPromptTokens !== undefined && input.promptTokens > when.maxPromptTokens) return false;
  if (when.hasImages !== undefined && input.images !== when.hasImages) return false;
  if (when.hasTools !== undefined && (input.tools > 0) !== when.hasTools) return false;
  if (compiled.keys !== undefined && !compiled.keys.has(facts.keyId)) return false;
  if (compiled.teams !== undefined && (facts.team === undefined || !compiled.teams.has(facts.team))) return false;
  for (const [header, pattern] of compiled.headers) {
    const value = facts.header(header);
    if (value === undefined || !pattern.test(value)) return false;
  }
  if (compiled.regex !== undefined && !compiled.regex.test(when.regex!.on === 'system' ? input.system : input.lastUser)) return false;
  return true;
}
