// Model name → route: pure, no I/O. Built once per config snapshot (and again when discovered
// model lists change); aliases are precompiled, bare names and patterns are cached (bounded).
// A route owns its targets' load-balancing state; each target holds the health entries of its
// provider's keys for its model, looked up once here, never per request. The route also decides
// what outlier ejection may do to it (Envoy's max_ejection_percent) and when it ignores ejection
// (panic: too few targets left), since a health entry alone cannot know which routes it serves.
import type { CanonicalOperation } from '../canonical/adapters.ts';
import type { AliasConfig, GatewayConfig, KeyStrategy, ProviderConfig, RetrySettings, RouteCacheSettings, Strategy, TimeoutSettings, UnsupportedParams, UnsupportedTools } from '../config/types.ts';
import type { HealthEntry, HealthStore } from '../state/interfaces.ts';
import { closestNames } from '../util/closest.ts';
import { compileGlob, isGlob } from '../util/glob.ts';

export interface RouteTarget {
  readonly provider: string;
  readonly model: string;
}

export type RouteKind = 'alias' | 'prefix' | 'model' | 'pattern';

/** What a route does on failure and how it balances; aliases configure it, other routes get the defaults. */
export interface RoutePolicy {
  readonly strategy: Strategy;
  readonly fallbacks: readonly string[];
  readonly onContextOverflow: string | undefined;
  readonly retry: RetrySettings;
  readonly timeouts: Partial<TimeoutSettings> | undefined;
  readonly affinity: 'none' | 'session';
  /** The alias's `unsupported_tools`, over each target provider's own; undefined = the provider's. */
  readonly unsupportedTools: UnsupportedTools | undefined;
  /** The alias's `unsupported_params`, over each target agent CLI's own; undefined = the provider's. */
  readonly unsupportedParams: UnsupportedParams | undefined;
  /** The exact-response cache of this route: the alias's own, else the top-level `cache.ttl_s`; undefined = not cached. */
  readonly cache: RouteCacheSettings | undefined;
}

/** One target of a route with its balancing state and the health of each of its provider's keys. */
export class TargetSlot implements RouteTarget {
  readonly provider: string;
  readonly model: string;
  readonly index: number;
  readonly weight: number;
  readonly contextWindow: number | undefined;
  /** One entry per provider key (one for a keyless provider), in key order. */
  readonly keys: readonly HealthEntry[];
  readonly keyStrategy: KeyStrategy;
  private keyCursor = 0;
  /** Smooth weighted round-robin state. */
  current = 0;

  constructor(index: number, provider: string, model: string, weight: number, contextWindow: number | undefined, keys: readonly HealthEntry[], keyStrategy: KeyStrategy) {
    this.index = index;
    this.provider = provider;
    this.model = model;
    this.weight = weight;
    this.contextWindow = contextWindow;
    this.keys = keys;
    this.keyStrategy = keyStrategy;
  }

  /** Some key can take a request now. */
  available(now: number): boolean {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i]!.available(now)) return true;
    return false;
  }

  /** Some key can take a request now, ejected ones included when the route is in panic. */
  usable(now: number, panic: boolean): boolean {
    if (!panic) return this.available(now);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i]!.usable(now, true)) return true;
    return false;
  }

  /** Out of rotation, and only ejection keeps it out (panic would bring it back). */
  ejected(now: number): boolean {
    return !this.available(now) && this.usable(now, true);
  }

  /** Attempts in flight on this target, over all keys. */
  get inflight(): number {
    let sum = 0;
    for (const key of this.keys) sum += key.inflight;
    return sum;
  }

  /** Peak-EWMA latency of the fastest-known key (0 = unknown). */
  get latencyMs(): number {
    let best = 0;
    for (const key of this.keys) if (key.latencyMs > 0 && (best === 0 || key.latencyMs < best)) best = key.latencyMs;
    return best;
  }

  /**
   * The key for the next attempt: the preferred one when it is available, else by the provider's
   * key strategy. In panic, an available key still comes before an ejected one.
   */
  pickKey(now: number, preferred = -1, panic = false): HealthEntry | undefined {
    const keys = this.keys;
    if (preferred >= 0 && preferred < keys.length && keys[preferred]!.available(now)) return keys[preferred];
    if (keys.length === 1) return keys[0]!.usable(now, panic) ? keys[0] : undefined;
    const key = this.pickAvailableKey(now);
    if (key !== undefined || !panic) return key;
    for (let i = 0; i < keys.length; i++) if (keys[i]!.usable(now, true)) return keys[i];
    return undefined;
  }

  private pickAvailableKey(now: number): HealthEntry | undefined {
    const keys = this.keys;
    if (this.keyStrategy === 'fill-first') {
      for (let i = 0; i < keys.length; i++) if (keys[i]!.available(now)) return keys[i];
      return undefined;
    }
    for (let n = 0; n < keys.length; n++) {
      const key = keys[(this.keyCursor + n) % keys.length]!;
      if (key.available(now)) {
        this.keyCursor = (this.keyCursor + n + 1) % keys.length;
        return key;
      }
    }
    return undefined;
  }

  /** Epoch ms when the first of its keys comes out of cooldown. */
  coolingUntil(): number {
    let soonest = Infinity;
    for (const key of this.keys) if (key.until < soonest) soonest = key.until;
    return soonest;
  }
}

export class Route {
  readonly requested: string;
  readonly kind: RouteKind;
  readonly targets: readonly TargetSlot[];
  readonly policy: RoutePolicy;
  /** Some target declares a context window, so the prompt is estimated before picking. */
  readonly hasContextWindows: boolean;
  /**
   * A `provider:name` route to a name the provider neither lists nor matches with a pattern: its
   * health entries are not kept in the book and the route is not cached until the provider has
   * answered it (`Router.confirm`), so names that only ever fail leave no state behind.
   */
  readonly provisional: boolean;
  private readonly byOperation = new Map<CanonicalOperation, readonly TargetSlot[]>();
  private readonly capabilities: ReadonlyMap<string, ProviderConfig['capabilities']>;
  private cursor = 0;

  constructor(requested: string, kind: RouteKind, targets: readonly TargetSlot[], capabilities: ReadonlyMap<string, ProviderConfig['capabilities']>, policy: RoutePolicy, provisional = false) {
    this.requested = requested;
    this.kind = kind;
    this.targets = targets;
    this.capabilities = capabilities;
    this.policy = policy;
    this.hasContextWindows = targets.some((target) => target.contextWindow !== undefined);
    this.provisional = provisional;
  }

  /** The targets able to serve `operation`, in configured order. */
  targetsFor(operation: CanonicalOperation): readonly TargetSlot[] {
    let targets = this.byOperation.get(operation);
    if (targets === undefined) {
      targets = this.targets.filter((target) => serves(this.capabilities.get(target.provider), operation));
      this.byOperation.set(operation, targets);
    }
    return targets;
  }

  /**
   * The next target by the route's strategy among those able to serve `operation`, not yet
   * `tried`, with a key available now (or, in `panic`, only ejected) and room for `tokens` (the
   * prompt estimate; 0 = unknown).
   */
  pick(operation: CanonicalOperation, now: number, tried?: ReadonlySet<TargetSlot>, tokens = 0, panic = false): TargetSlot | undefined {
    const targets = this.targetsFor(operation);
    const count = targets.length;
    if (count === 0) return undefined;
    if (count === 1) {
      const only = targets[0]!;
      return usable(only, now, tried, tokens, panic) ? only : undefined;
    }
    switch (this.policy.strategy) {
      case 'fill-first':
        for (let i = 0; i < count; i++) if (usable(targets[i]!, now, tried, tokens, panic)) return targets[i];
        return undefined;
      case 'weighted': {
        // smooth weighted round-robin (nginx): even spread, deterministic, no randomness
        let best: TargetSlot | undefined;
        let total = 0;
        for (let i = 0; i < count; i++) {
          const target = targets[i]!;
          if (target.weight <= 0 || !usable(target, now, tried, tokens, panic)) continue;
          target.current += target.weight;
          total += target.weight;
          if (best === undefined || target.current > best.current) best = target;
        }
        if (best !== undefined) best.current -= total;
        return best;
      }
      case 'least-busy': {
        let best: TargetSlot | undefined;
        let bestLoad = Infinity;
        const start = this.advance(count);
        for (let n = 0; n < count; n++) {
          const target = targets[(start + n) % count]!;
          if (!usable(target, now, tried, tokens, panic)) continue;
          const load = target.inflight;
          if (load < bestLoad) {
            best = target;
            bestLoad = load;
          }
        }
        return best;
      }
      case 'latency': {
        // power of two choices on peak-EWMA latency × (in flight + 1); unknown latency is tried first
        const candidates: TargetSlot[] = [];
        for (let i = 0; i < count; i++) if (usable(targets[i]!, now, tried, tokens, panic)) candidates.push(targets[i]!);
        if (candidates.length <= 1) return candidates[0];
        const a = candidates[Math.floor(Math.random() * candidates.length)]!;
        let b = candidates[Math.floor(Math.random() * (candidates.length - 1))]!;
        if (b === a) b = candidates[candidates.length - 1]!;
        return cost(a) <= cost(b) ? a : b;
      }
      case 'round-robin': {
        const start = this.advance(count);
        for (let n = 0; n < count; n++) {
          const target = targets[(start + n) % count]!;
          if (usable(target, now, tried, tokens, panic)) return target;
        }
        return undefined;
      }
    }
  }

  /** Whether `pick` would find a target now (without moving any balancing state). */
  canPick(operation: CanonicalOperation, now: number, tried?: ReadonlySet<TargetSlot>, tokens = 0, panic = false): boolean {
    const weighted = this.policy.strategy === 'weighted';
    for (const target of this.targetsFor(operation)) {
      if ((!weighted || target.weight > 0) && usable(target, now, tried, tokens, panic)) return true;
    }
    return false;
  }

  /**
   * Fewer than `thresholdPercent` of the targets able to serve `operation` are available, and some
   * of the others are out only because they are ejected (Envoy's healthy panic threshold). Whether
   * the route then ignores ejection also depends on its fallbacks; the runner decides that.
   */
  belowPanicThreshold(operation: CanonicalOperation, now: number, thresholdPercent: number): boolean {
    if (thresholdPercent <= 0) return false;
    const targets = this.targetsFor(operation);
    const count = targets.length;
    // enough available targets: no panic, whatever the others do (the usual case ends here)
    const needed = (thresholdPercent * count) / 100;
    let available = 0;
    let ejected = false;
    for (let i = 0; i < count; i++) {
      const target = targets[i]!;
      if (target.available(now)) {
        if (++available >= needed) return false;
      } else if (!ejected && target.ejected(now)) {
        ejected = true;
      }
    }
    return ejected;
  }

  /**
   * Whether ejecting `entry` (one key of one of the targets) keeps the route within
   * `maxPercent` of its targets ejected — rounded down, but at least one may always be, so a lone
   * primary can give way to its fallbacks (panic keeps it answerable when there are none).
   * Ejecting a key whose target has another key available takes no target out.
   */
  allowsEjection(operation: CanonicalOperation, entry: HealthEntry, now: number, maxPercent: number): boolean {
    if (maxPercent <= 0) return false;
    const targets = this.targetsFor(operation);
    let owner: TargetSlot | undefined;
    let ejected = 0;
    for (const target of targets) {
      if (target.keys.includes(entry)) owner = target;
      else if (target.ejected(now)) ejected++;
    }
    if (owner === undefined) return true;
    for (const key of owner.keys) if (key !== entry && key.available(now)) return true;
    return ejected + 1 <= Math.max(1, Math.floor((targets.length * maxPercent) / 100));
  }

  private advance(count: number): number {
    const start = this.cursor % count;
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return start;
  }
}

/** A target that may take the request now: not tried yet, a key available (or only ejected, in panic), room for the prompt. */
export function usable(target: TargetSlot, now: number, tried: ReadonlySet<TargetSlot> | undefined, tokens: number, panic = false): boolean {
  if (tried !== undefined && tried.has(target)) return false;
  if (tokens > 0 && target.contextWindow !== undefined && tokens > target.contextWindow) return false;
  return target.usable(now, panic);
}

function cost(target: TargetSlot): number {
  return target.latencyMs * (target.inflight + 1);
}

/** Whether a provider can serve a canonical operation, natively or through translation. */
function serves(capabilities: ProviderConfig['capabilities'] | undefined, operation: CanonicalOperation): boolean {
  if (capabilities === undefined) return false;
  switch (operation) {
    case 'chat': return capabilities.chat || capabilities.responses;
    case 'embeddings': return capabilities.embeddings;
    case 'count-tokens': return true;
    case 'images': return capabilities.images === true;
    case 'image-edits': return capabilities.imageEdits === true;
    case 'transcriptions': return capabilities.transcriptions === true;
    case 'translations': return capabilities.translations === true;
    case 'speech': return capabilities.speech === true;
    case 'moderations': return capabilities.moderations === true;
    case 'rerank': return capabilities.rerank === true;
  }
}

/** What the router needs besides the config: the health book and each provider's key fingerprints. */
export interface RouterState {
  health: HealthStore;
  /** Provider name → one non-secret fingerprint per key (`['']` for a keyless provider). */
  keyIds: ReadonlyMap<string, readonly string[]>;
  /**
   * What a target costs, to order an auto alias's tier cheapest first: USD per 1M input plus
   * output tokens, undefined when no price is known (such a target goes last, never counted free).
   */
  priceRank?(provider: string, model: string): number | undefined;
}

interface PatternEntry { readonly provider: string; readonly regex: RegExp }

/**
 * Resolved names kept (configured names, pattern matches and `provider:name` routes the provider
 * has answered); past it the cache starts over. Unknown and provisional names are never cached.
 */
const CACHE_LIMIT = 4096;

export interface ModelListing { id: string; ownedBy: string }

function byPrice<T extends { provider: string; model: string }>(targets: readonly T[], rank: (provider: string, model: string) => number | undefined): T[] {
  const keyed = targets.map((target, index) => ({ target, index, price: rank(target.provider, target.model) ?? Infinity }));
  return keyed.sort((a, b) => a.price - b.price || a.index - b.index).map((entry) => entry.target);
}

export class Router {
  private readonly aliases = new Map<string, Route>();
  /** Routes the gateway made itself (an auto alias's tiers): resolved, never listed or suggested. */
  private readonly hidden = new Set<string>();
  private readonly providerNames: ReadonlySet<string>;
  /** Exact model name → providers serving it (config lists and discovery), in provider order. */
  private readonly exact = new Map<string, string[]>();
  private readonly patterns: PatternEntry[] = [];
  private readonly capabilities = new Map<string, ProviderConfig['capabilities']>();
  private readonly cache = new Map<string, Route>();
  private readonly state: RouterState;
  private readonly keyStrategies = new Map<string, KeyStrategy>();
  private readonly defaultPolicy: RoutePolicy;
  /**
   * The smallest context window any target of the config declares (Infinity when none does): a
   * prompt known to be no larger fits every target, without counting it exactly.
   */
  readonly smallestContextWindow: number;

  constructor(config: GatewayConfig, state: RouterState, discovered: ReadonlyMap<string, readonly string[]> = new Map()) {
    this.state = state;
    this.providerNames = new Set(config.providers.map((provider) => provider.name));
    this.defaultPolicy = Object.freeze({ strategy: 'round-robin', fallbacks: [], onContextOverflow: undefined, retry: config.routing.retry, timeouts: undefined, affinity: 'none', unsupportedTools: undefined, unsupportedParams: undefined, cache: config.cache.route });
    for (const provider of config.providers) {
      this.keyStrategies.set(provider.name, provider.keyStrategy);
      this.capabilities.set(provider.name, provider.capabilities);
      for (const model of provider.models) {
        if (isGlob(model)) this.patterns.push({ provider: provider.name, regex: compileGlob(model) });
        else this.addExact(model, provider.name);
      }
      for (const model of discovered.get(provider.name) ?? []) this.addExact(model, provider.name);
    }
    let smallest = Infinity;
    for (const alias of config.models) {
      for (const target of alias.targets) if (target.contextWindow !== undefined) smallest = Math.min(smallest, target.contextWindow);
      // an auto alias's tier: the cheapest healthy target first (fill-first), unpriced ones last
      const ordered = alias.hidden === true && state.priceRank !== undefined ? byPrice(alias.targets, state.priceRank.bind(state)) : alias.targets;
      const targets = ordered.map((target, index) => this.slot(index, target.provider, target.model, target.weight, target.contextWindow));
      this.aliases.set(alias.name, new Route(alias.name, 'alias', targets, this.capabilities, policyOf(alias, config.cache.route)));
      if (alias.hidden === true) this.hidden.add(alias.name);
    }
    this.smallestContextWindow = smallest;
  }

  private slot(index: number, provider: string, model: string, weight = 1, contextWindow?: number, keep = true): TargetSlot {
    const keyIds = this.state.keyIds.get(provider) ?? [''];
    const keys = keyIds.map((keyId, keyIndex) => this.state.health.entry(provider, keyIndex, keyId, model, keep));
    return new TargetSlot(index, provider, model, weight, contextWindow, keys, this.keyStrategies.get(provider) ?? 'round-robin');
  }

  private route(requested: string, kind: RouteKind, targets: readonly RouteTarget[]): Route {
    return new Route(requested, kind, targets.map((target, index) => this.slot(index, target.provider, target.model)), this.capabilities, this.defaultPolicy);
  }

  /**
   * `provider:name` (or `provider/name`). A name the provider lists or matches is a route like any
   * other; any other name is provisional until the provider answers it — unless an earlier answer
   * already put its health entries in the book.
   */
  private prefixRoute(requested: string, provider: string, model: string): Route {
    if (this.exact.get(model)?.includes(provider) === true || this.matches(provider, model)) return this.route(requested, 'prefix', [{ provider, model }]);
    const slot = this.slot(0, provider, model, 1, undefined, false);
    const health = this.state.health;
    const provisional = slot.keys.some((key) => !health.kept(key));
    return new Route(requested, 'prefix', [slot], this.capabilities, this.defaultPolicy, provisional);
  }

  private matches(provider: string, model: string): boolean {
    for (const pattern of this.patterns) if (pattern.provider === provider && pattern.regex.test(model)) return true;
    return false;
  }

  /**
   * A provisional route's provider answered: its health entries are kept from now on, so the
   * name resolves (and is cached) like a listed one. Does nothing for other routes.
   */
  confirm(route: Route): void {
    if (!route.provisional) return;
    const health = this.state.health;
    for (const target of route.targets) for (const key of target.keys) health.keep(key);
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
    if (cached !== undefined) return cached;
    const route = this.resolveUncached(model);
    // an unknown name is not remembered (a 404 costs more in its suggestions than in resolving
    // again), nor a provisional one: only names something serves take a place in the cache
    if (route === undefined || route.provisional) return route;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(model, route);
    return route;
  }

  /** Names resolved and kept (bounded by CACHE_LIMIT). */
  get cachedRoutes(): number {
    return this.cache.size;
  }

  private resolveUncached(model: string): Route | undefined {
    const colon = model.indexOf(':');
    if (colon > 0) {
      const provider = model.slice(0, colon);
      if (this.providerNames.has(provider) && colon < model.length - 1) return this.prefixRoute(model, provider, model.slice(colon + 1));
    }
    const providers = this.exact.get(model);
    if (providers !== undefined) {
      return this.route(model, 'model', providers.map((provider) => ({ provider, model })));
    }
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = model.slice(0, slash);
      if (this.providerNames.has(provider) && slash < model.length - 1) return this.prefixRoute(model, provider, model.slice(slash + 1));
    }
    const matched: RouteTarget[] = [];
    for (const pattern of this.patterns) {
      if (pattern.regex.test(model) && !matched.some((target) => target.provider === pattern.provider)) {
        matched.push({ provider: pattern.provider, model });
      }
    }
    return matched.length > 0 ? this.route(model, 'pattern', matched) : undefined;
  }

  /** Known names closest to an unknown one, for the 404 message. */
  suggestions(model: string, limit = 3): string[] {
    const names = new Set<string>([...this.aliases.keys()].filter((name) => !this.hidden.has(name)));
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
      if (this.hidden.has(name)) continue;
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

function policyOf(alias: AliasConfig, cache: RouteCacheSettings | undefined): RoutePolicy {
  const own = alias.cache;
  return Object.freeze({
    strategy: alias.strategy,
    fallbacks: alias.fallbacks,
    onContextOverflow: alias.onContextOverflow,
    retry: alias.retry,
    timeouts: alias.timeouts,
    affinity: alias.affinity,
    unsupportedTools: alias.unsupportedTools,
    unsupportedParams: alias.unsupportedParams,
    cache: own === undefined ? cache : own.ttlSeconds > 0 ? own : undefined,
  });
}
