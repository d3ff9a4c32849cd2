// An auto alias's hard constraints (issue #19, "hard constraints first"), pure: which of the tiers'
// targets can serve a request — its prompt against their context windows, and its images, JSON
// schema, function tools and own dialect's fields against their capability records — which tier
// that leaves, and which targets the planner must leave out (routing/planner.ts TargetFilter).
//
// Each target is, for a request: able (its record says yes to everything the request needs),
// unknown (no record says no, some says nothing), or unable (a record says no: it is dropped). A
// target with no record is never taken for able: from the preferred tier up, the first tier with
// an able target serves; only when no tier has one does the first with an unknown target serve
// (what the config says nothing about is tried rather than refused). In the serving tier and those
// above it (escalation), a tier with an able target leaves out its unknown ones. When no tier has
// any target left, the request is refused — unless only context windows ruled them out, which
// stays the planner's (its overflow alias, or its context-length answer).
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { TargetFilter } from '../planner.ts';

/** What a tier's target is known to do; undefined where nothing is known. */
export interface TargetRecord {
  readonly provider: string;
  readonly model: string;
  /** The largest prompt in tokens; undefined: no limit known. */
  readonly contextWindow: number | undefined;
  readonly images: boolean | undefined;
  readonly jsonSchema: boolean | undefined;
  readonly tools: boolean | undefined;
  /** The dialects whose own fields (those no other dialect models) it can carry; `*`: any (an agent CLI that drops them, named). */
  readonly dialects: readonly string[];
}

/** What a request needs of a target. */
export interface RequestNeeds {
  readonly promptTokens: number;
  readonly images: boolean;
  /** A JSON schema as the answer (structured output). */
  readonly jsonSchema: boolean;
  /** Function tools of the caller's. */
  readonly tools: boolean;
  /** The dialect of fields only a provider of that dialect carries (`passThrough`); undefined for none. */
  readonly dialect: string | undefined;
}

export function needsOf(request: CanonicalRequest, promptTokens: number, images: boolean): RequestNeeds {
  const passThrough = request.passThrough;
  let dialect: string | undefined;
  if (passThrough !== undefined) for (const _field in passThrough.fields) { dialect = passThrough.dialect; break; }
  return {
    promptTokens,
    images,
    jsonSchema: request.responseFormat?.type === 'json-schema',
    tools: request.tools !== undefined && request.tools.length > 0,
    dialect,
  };
}

/** A target left out, and why, as the decision record and the dry run show it. */
export interface DroppedTarget {
  readonly tier: string;
  /** `provider/model`. */
  readonly target: string;
  readonly why: string;
}

/** Where the constraints leave a request. */
export interface Constrained {
  /** The tier that serves; undefined when none can (`refusal` says why). */
  readonly tier: number | undefined;
  /** What the planner leaves out; undefined when nothing. */
  readonly filter: TargetFilter | undefined;
  /** The targets left out, from the preferred tier up. */
  readonly dropped: readonly DroppedTarget[];
  /** Why no tier can serve (a sentence), when `tier` is undefined. */
  readonly refusal: string | undefined;
}

const ABLE = 2;
const UNKNOWN = 1;
const UNABLE = 0;

/** Targets left out, by route: what the planner asks. */
class Exclusions implements TargetFilter {
  private readonly routes: string[] = [];
  private readonly targets: TargetRecord[] = [];

  add(route: string, target: TargetRecord): void {
    this.routes.push(route);
    this.targets.push(target);
  }

  skips(route: string, provider: string, model: string): boolean {
    for (let i = 0; i < this.routes.length; i++) {
      const target = this.targets[i]!;
      if (this.routes[i] === route && target.provider === provider && target.model === model) return true;
    }
    return false;
  }
}

/** Why `target` cannot serve `needs`, or '' when nothing rules it out. */
function unableWhy(target: TargetRecord, needs: RequestNeeds): string {
  if (target.contextWindow !== undefined && needs.promptTokens > target.contextWindow) return `context window ${target.contextWindow} < ~${needs.promptTokens} prompt tokens`;
  if (needs.images && target.images === false) return 'takes no images';
  if (needs.jsonSchema && target.jsonSchema === false) return 'follows no JSON schema';
  if (needs.tools && target.tools === false) return 'takes no tools';
  if (needs.dialect !== undefined && !target.dialects.includes(needs.dialect) && !target.dialects.includes('*')) return `cannot carry the request's own ${needs.dialect} fields`;
  return '';
}

/** The sentence for each set of facts missing (bit 1: images, 2: JSON schema, 4: tools), made once. */
const UNKNOWN_WHY: readonly string[] = Array.from({ length: 8 }, (_, bits) => {
  const missing = [bits & 1 ? 'images' : '', bits & 2 ? 'JSON schema' : '', bits & 4 ? 'tools' : ''].filter((name) => name !== '');
  return missing.length === 0 ? '' : `no record that it takes ${missing.join(', ')} (declare supports: on the target)`;
});

/** What the request needs that `target` has no record of, or '' when its records cover it. */
function unknownWhy(target: TargetRecord, needs: RequestNeeds): string {
  const bits = (needs.images && target.images === undefined ? 1 : 0) | (needs.jsonSchema && target.jsonSchema === undefined ? 2 : 0) | (needs.tools && target.tools === undefined ? 4 : 0);
  return UNKNOWN_WHY[bits]!;
}

const CONTEXT = 'context window';

const NOTHING_DROPPED: readonly DroppedTarget[] = Object.freeze([]);

export class TierConstraints {
  private readonly names: readonly string[];
  private readonly routes: readonly string[];
  private readonly tiers: readonly (readonly TargetRecord[])[];
  /** Per tier: the smallest known context window of its targets and those of the tiers above (Infinity: none known). */
  private readonly smallestWindowFrom: readonly number[];

  constructor(names: readonly string[], routes: readonly string[], tiers: readonly (readonly TargetRecord[])[]) {
    this.names = names;
    this.routes = routes;
    this.tiers = names.map((_, index) => tiers[index] ?? []);
    const smallest = this.tiers.map(() => Infinity);
    for (let tier = this.tiers.length - 1; tier >= 0; tier--) {
      let window = tier + 1 < this.tiers.length ? smallest[tier + 1]! : Infinity;
      for (const target of this.tiers[tier]!) if (target.contextWindow !== undefined && target.contextWindow < window) window = target.contextWindow;
      smallest[tier] = window;
    }
    this.smallestWindowFrom = smallest;
  }

  /** The tier from `preferred` up that can serve `needs`, the targets to leave out, and why. */
  constrain(preferred: number, needs: RequestNeeds): Constrained {
    // the common case, without a look at each target: no images, schema, tools or foreign fields, and a prompt every window takes
    if (!needs.images && !needs.jsonSchema && !needs.tools && needs.dialect === undefined && needs.promptTokens <= (this.smallestWindowFrom[preferred] ?? Infinity)) {
      return { tier: preferred, filter: undefined, dropped: NOTHING_DROPPED, refusal: undefined };
    }
    const count = this.tiers.length;
    const levels = new Array<number>(count);
    const verdicts: string[][] = [];
    let able = -1;
    let unknown = -1;
    let onlyContext = true;
    for (let tier = preferred; tier < count; tier++) {
      let level = UNABLE;
      const whys: string[] = [];
      for (const target of this.tiers[tier]!) {
        const unable = unableWhy(target, needs);
        if (unable !== '') {
          if (!unable.startsWith(CONTEXT)) onlyContext = false;
          whys.push(unable);
          continue;
        }
        const missing = unknownWhy(target, needs);
        whys.push(missing);
        level = Math.max(level, missing === '' ? ABLE : UNKNOWN);
      }
      levels[tier] = level;
      verdicts[tier] = whys;
      if (level === ABLE && able < 0) able = tier;
      if (level === UNKNOWN && unknown < 0) unknown = tier;
    }
    const serving = able >= 0 ? able : unknown;
    if (serving < 0) {
      // nothing can: context windows alone stay the planner's (overflow alias, or its answer)
      if (onlyContext) return { tier: preferred, filter: undefined, dropped: NOTHING_DROPPED, refusal: undefined };
      return { tier: undefined, filter: undefined, dropped: this.listDropped(preferred, count, count, levels, verdicts), refusal: this.refusal(preferred, verdicts) };
    }
    let filter: Exclusions | undefined;
    for (let tier = serving; tier < count; tier++) {
      const targets = this.tiers[tier]!;
      const whys = verdicts[tier]!;
      for (let index = 0; index < targets.length; index++) {
        const why = whys[index]!;
        // an unable target always; an unknown one where its tier has an able one
        if (why === '' || (levels[tier] !== ABLE && !isUnable(why))) continue;
        (filter ??= new Exclusions()).add(this.routes[tier]!, targets[index]!);
      }
    }
    return { tier: serving, filter, dropped: this.listDropped(preferred, serving, count, levels, verdicts), refusal: undefined };
  }

  /** Every target with a verdict in the tiers passed over (`preferred` … `serving` − 1); from `serving` up, those the filter leaves out. */
  private listDropped(preferred: number, serving: number, count: number, levels: readonly number[], verdicts: readonly (readonly string[])[]): readonly DroppedTarget[] {
    let dropped: DroppedTarget[] | undefined;
    for (let tier = preferred; tier < count; tier++) {
      const targets = this.tiers[tier]!;
      for (let index = 0; index < targets.length; index++) {
        const why = verdicts[tier]![index]!;
        if (why === '') continue;
        // an unknown target of a serving tier without an able one is kept (tried), so not listed
        if (tier >= serving && !isUnable(why) && levels[tier] !== ABLE) continue;
        (dropped ??= []).push({ tier: this.names[tier]!, target: `${targets[index]!.provider}/${targets[index]!.model}`, why });
      }
    }
    return dropped ?? NOTHING_DROPPED;
  }

  private refusal(preferred: number, verdicts: readonly (readonly string[])[]): string {
    const reasons: string[] = [];
    for (let tier = preferred; tier < this.tiers.length && reasons.length < 6; tier++) {
      this.tiers[tier]!.forEach((target, index) => reasons.push(`${this.names[tier]}: ${target.provider}/${target.model} ${verdicts[tier]![index]}`));
    }
    return reasons.join('; ');
  }
}

function isUnable(why: string): boolean {
  return !why.startsWith('no record');
}
