// The decision of an auto alias (issue #19), pure: the rules first (the first that matches picks
// a tier or a model), else the complexity model's tier; then the hard constraints (constraints.ts)
// say which tier from the preferred one up can serve the request and which targets are left out.
// Patterns are compiled once per config snapshot; a decision reads only the latest user turn, the
// system prompt and a few counts (features.ts bounds what it scans).
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { AutoRouting, AutoRule } from '../../config/types.ts';
import { needsOf, TierConstraints, type Constrained, type RequestNeeds, type TargetRecord } from './constraints.ts';
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
  /** The preferred tier's index (cheapest 0), before the hard constraints; undefined when a rule named a model outright. */
  readonly tier: number | undefined;
  /** Why: `rule:<n>` (1-based), `score`, or `session` (set by the caller). */
  readonly by: string;
  /** The complexity score in [0, 1], when the model decided. */
  readonly score: number | undefined;
  /** The tiers' probabilities from the model, when it decided. */
  readonly probabilities: readonly number[] | undefined;
  /** The estimated prompt tokens the decision saw. */
  readonly promptTokens: number;
  /** What the request needs of a target (for `constrain`). */
  readonly needs: RequestNeeds;
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
  private readonly constraints: TierConstraints;

  /** `targets[tier]`: what each of the tier's targets is known to do (none given: nothing is ruled out). */
  constructor(name: string, routing: AutoRouting, model: ComplexityModel, targets: readonly (readonly TargetRecord[])[] = []) {
    this.name = name;
    this.routing = routing;
    this.model = model;
    this.constraints = new TierConstraints(routing.tiers.map((tier) => tier.name), routing.tiers.map((tier) => tier.route), targets);
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

  /** The preferred tier (a rule's, else the score's) or the model a rule names; no constraint applied yet. */
  decide(request: CanonicalRequest, facts: AutoFacts): AutoDecision {
    const input = autoInputFrom(request);
    const needs = needsOf(request, input.promptTokens, input.images);
    for (let i = 0; i < this.rules.length; i++) {
      const compiled = this.rules[i]!;
      if (!matches(compiled, input, facts)) continue;
      const then = compiled.rule.then;
      const by = `rule:${i + 1}`;
      if ('tier' in then) return { route: this.routeOf(then.tier), tier: then.tier, by, score: undefined, probabilities: undefined, promptTokens: input.promptTokens, needs };
      return { route: then.model, tier: undefined, by, score: undefined, probabilities: undefined, promptTokens: input.promptTokens, needs };
    }
    const result = classify(this.model, featureVector(input));
    const tier = tierFor(result, this.routing.tiers.length);
    return { route: this.routeOf(tier), tier, by: 'score', score: result.score, probabilities: result.probabilities, promptTokens: input.promptTokens, needs };
  }

  /**
   * Hard constraints before any preference: the first tier from `preferred` up whose targets can
   * serve the request (context window, images, JSON schema, tools, the caller's own fields), the
   * targets the planner must leave out, and what was dropped and why (constraints.ts).
   */
  constrain(preferred: number, needs: RequestNeeds): Constrained {
    return this.constraints.constrain(preferred, needs);
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
