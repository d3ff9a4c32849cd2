// Model name → route: pure, no I/O. Built once per config snapshot (and again when discovered
// model lists change); aliases are precompiled, bare names and patterns are cached (bounded).
import type { CanonicalOperation } from '../canonical/adapters.ts';
import type { GatewayConfig, ProviderConfig } from '../config/types.ts';
import { closestNames } from '../util/closest.ts';
import { compileGlob, isGlob } from '../util/glob.ts';

export interface RouteTarget {
  readonly provider: string;
  readonly model: string;
}

export type RouteKind = 'alias' | 'prefix' | 'model' | 'pattern';

export class Route {
  readonly requested: string;
  readonly kind: RouteKind;
  readonly targets: readonly RouteTarget[];
  private readonly byOperation = new Map<CanonicalOperation, readonly RouteTarget[]>();
  private readonly capabilities: ReadonlyMap<string, ProviderConfig['capabilities']>;
  private cursor = 0;

  constructor(requested: string, kind: RouteKind, targets: readonly RouteTarget[], capabilities: ReadonlyMap<string, ProviderConfig['capabilities']>) {
    this.requested = requested;
    this.kind = kind;
    this.targets = targets;
    this.capabilities = capabilities;
  }

  /** The targets able to serve `operation`, in configured order. */
  targetsFor(operation: CanonicalOperation): readonly RouteTarget[] {
    let targets = this.byOperation.get(operation);
    if (targets === undefined) {
      targets = this.targets.filter((target) => serves(this.capabilities.get(target.provider), operation));
      this.byOperation.set(operation, targets);
    }
    return targets;
  }

  /** Round-robin among the targets able to serve `operation`; undefined when none can. */
  pick(operation: CanonicalOperation): RouteTarget | undefined {
    const targets = this.targetsFor(operation);
    if (targets.length === 0) return undefined;
    if (targets.length === 1) return targets[0];
    const target = targets[this.cursor % targets.length];
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return target;
  }
}

/** Whether a provider can serve a canonical operation, natively or through translation. */
function serves(capabilities: ProviderConfig['capabilities'] | undefined, operation: CanonicalOperation): boolean {
  if (capabilities === undefined) return false;
  switch (operation) {
    case 'chat': return capabilities.chat || capabilities.responses;
    case 'embeddings': return capabilities.embeddings;
    case 'count-tokens': return true;
  }
}

interface PatternEntry { readonly provider: string; readonly regex: RegExp }

const CACHE_LIMIT = 4096;

export interface ModelListing { id: string; ownedBy: string }

export class Router {
  private readonly aliases = new Map<string, Route>();
  private readonly providerNames: ReadonlySet<string>;
  /** Exact model name → providers serving it (config lists and discovery), in provider order. */
  private readonly exact = new Map<string, string[]>();
  private readonly patterns: PatternEntry[] = [];
  private readonly capabilities = new Map<string, ProviderConfig['capabilities']>();
  private readonly cache = new Map<string, Route | null>();

  constructor(config: GatewayConfig, discovered: ReadonlyMap<string, readonly string[]> = new Map()) {
    this.providerNames = new Set(config.providers.map((provider) => provider.name));
    for (const provider of config.providers) {
      this.capabilities.set(provider.name, provider.capabilities);
      for (const model of provider.models) {
        if (isGlob(model)) this.patterns.push({ provider: provider.name, regex: compileGlob(model) });
        else this.addExact(model, provider.name);
      }
      for (const model of discovered.get(provider.name) ?? []) this.addExact(model, provider.name);
    }
    for (const alias of config.models) {
      this.aliases.set(alias.name, new Route(alias.name, 'alias', alias.targets.map((target) => ({ provider: target.provider, model: target.model })), this.capabilities));
    }
  }

  private addExact(model: string, provider: string): void {
    const providers = this.exact.get(model);
    if (providers === undefined) this.exact.set(model, [provider]);
    else if (!providers.includes(provider)) providers.push(provider);
  }

  /**
   * Resolution order: alias; `provider:model` (only for configured provider names, so `qwen3:8b`
   * stays a model name); an exact model name some provider serves (all of them, round-robin);
   * `provider/model`; a provider's model pattern.
   */
  resolve(model: string): Route | undefined {
    const alias = this.aliases.get(model);
    if (alias !== undefined) return alias;
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached ?? undefined;
    const route = this.resolveUncached(model);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(model, route ?? null);
    return route;
  }

  private resolveUncached(model: string): Route | undefined {
    const colon = model.indexOf(':');
    if (colon > 0) {
      const provider = model.slice(0, colon);
      if (this.providerNames.has(provider) && colon < model.length - 1) {
        return new Route(model, 'prefix', [{ provider, model: model.slice(colon + 1) }], this.capabilities);
      }
    }
    const providers = this.exact.get(model);
    if (providers !== undefined) {
      return new Route(model, 'model', providers.map((provider) => ({ provider, model })), this.capabilities);
    }
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = model.slice(0, slash);
      if (this.providerNames.has(provider) && slash < model.length - 1) {
        return new Route(model, 'prefix', [{ provider, model: model.slice(slash + 1) }], this.capabilities);
      }
    }
    const matched: RouteTarget[] = [];
    for (const pattern of this.patterns) {
      if (pattern.regex.test(model) && !matched.some((target) => target.provider === pattern.provider)) {
        matched.push({ provider: pattern.provider, model });
      }
    }
    return matched.length > 0 ? new Route(model, 'pattern', matched, this.capabilities) : undefined;
  }

  /** Known names closest to an unknown one, for the 404 message. */
  suggestions(model: string, limit = 3): string[] {
    const names = new Set<string>(this.aliases.keys());
    for (const name of this.exact.keys()) names.add(name);
    const colon = Math.max(model.indexOf(':'), model.indexOf('/'));
    const bare = colon > 0 && this.providerNames.has(model.slice(0, colon)) ? model.slice(colon + 1) : model;
    return closestNames(bare, names, limit);
  }

  /** Every listable model: aliases first, then each provider's exact and discovered names. */
  listModels(): ModelListing[] {
    const listing: ModelListing[] = [];
    const seen = new Set<string>();
    for (const name of this.aliases.keys()) {
      seen.add(name);
      listing.push({ id: name, ownedBy: 'switchyard' });
    }
    for (const [model, providers] of this.exact) {
      if (seen.has(model)) continue;
      seen.add(model);
      listing.push({ id: model, ownedBy: providers[0]! });
    }
    return listing;
  }

  get hasProviders(): boolean {
    return this.providerNames.size > 0;
  }
}
