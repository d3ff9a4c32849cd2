// What a request cost: the answering model's price (config overrides first, then the built-in list
// prices) applied to its token usage. Pure; one table per config snapshot, built at load, with the
// lookups of the models actually seen cached in a bounded map — nothing is parsed per request.
import type { Usage } from '../canonical/usage.ts';
import type { PriceOverride, PriceSettings, ProviderConfig } from '../config/types.ts';
import { compileGlob, isGlob } from '../util/glob.ts';
import { bareModelName, familyTable, lookupFamily } from '../util/model-family.ts';
import { priceList, type ListPrice } from './price-list.ts';

/** Servers on your own hardware: free unless `prices:` says otherwise. */
const LOCAL_PRESETS: ReadonlySet<string> = new Set(['ollama', 'ollama-openai', 'lmstudio', 'llamacpp', 'vllm']);
const FREE: ListPrice = Object.freeze({ input: 0, output: 0 });
const CACHE_LIMIT = 2048;

/** USD for `usage` at `price` (per 1M tokens). Cached reads, cache writes and reasoning at their own rates when given. */
export function costOf(price: ListPrice, usage: Usage): number {
  const rates: PriceSettings = price.longContext !== undefined && usage.inputTokens > price.longContext.threshold ? price.longContext : price;
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheWriteInputTokens ?? 0;
  const uncached = Math.max(0, usage.inputTokens - cached - written);
  const reasoning = Math.min(usage.reasoningTokens ?? 0, usage.outputTokens);
  const total = uncached * rates.input
    + cached * (rates.cachedInput ?? rates.input)
    + written * (rates.cacheWrite ?? rates.input)
    + (usage.outputTokens - reasoning) * rates.output
    + reasoning * (rates.reasoning ?? rates.output);
  return total / 1_000_000;
}

const builtIn: ReadonlyMap<string, ListPrice> = familyTable(priceList);

/**
 * The built-in price of a model name as providers and routers spell it: `claude-sonnet-4-5-20250929`,
 * `anthropic/claude-sonnet-4.5`, `gpt-4o-2024-08-06`, `models/gemini-2.5-pro`,
 * `us.anthropic.claude-sonnet-4-5-20250929-v1:0`. OpenRouter's `:free` variants cost nothing.
 */
export function listPriceOf(model: string): ListPrice | undefined {
  if (bareModelName(model).variant === 'free') return FREE;
  return lookupFamily(builtIn, model);
}

interface CompiledOverride {
  provider: string | undefined;
  exact: string | undefined;
  pattern: RegExp | undefined;
  price: ListPrice;
}

/** Tested against the model name as sent upstream and against its part after the last `/`. */
function matches(override: CompiledOverride, model: string, bare: string): boolean {
  if (override.exact !== undefined) return override.exact === model || override.exact === bare;
  return override.pattern!.test(model) || override.pattern!.test(bare);
}

export class PriceTable {
  private readonly overrides: readonly CompiledOverride[];
  private readonly free: ReadonlySet<string>;
  /**
   * Agent CLIs: a subscription is paid flat, so a token costs nothing more — unless a `prices:` key
   * names the provider itself (`claude:*`); prices of the same model names for API providers do not apply.
   */
  private readonly subscriptions: ReadonlySet<string>;
  /** provider → model → price (null: none), bounded by CACHE_LIMIT entries in all. */
  private readonly cache = new Map<string, Map<string, ListPrice | null>>();
  private cached = 0;

  constructor(overrides: readonly PriceOverride[], providers: readonly Pick<ProviderConfig, 'name' | 'dialect' | 'preset'>[]) {
    const compiled = overrides.map((override): CompiledOverride => ({
      provider: override.provider,
      exact: isGlob(override.model) ? undefined : override.model,
      pattern: isGlob(override.model) ? compileGlob(override.model) : undefined,
      price: override.price,
    }));
    // one provider's exact names, its globs, then everyone's exact names and globs: the most specific wins
    const rank = (entry: CompiledOverride) => (entry.provider === undefined ? 2 : 0) + (entry.exact === undefined ? 1 : 0);
    this.overrides = compiled.map((entry, index) => ({ entry, index })).sort((a, b) => rank(a.entry) - rank(b.entry) || a.index - b.index).map(({ entry }) => entry);
    this.free = new Set(providers.filter((provider) => provider.dialect === 'ollama' || (provider.preset !== undefined && LOCAL_PRESETS.has(provider.preset))).map((provider) => provider.name));
    this.subscriptions = new Set(providers.filter((provider) => provider.dialect === 'agent-cli').map((provider) => provider.name));
  }

  /** The price of `model` as served by `provider`; undefined when neither the config nor the list knows it. */
  priceOf(provider: string, model: string): ListPrice | undefined {
    let models = this.cache.get(provider);
    const hit = models?.get(model);
    if (hit !== undefined) return hit ?? undefined;
    const price = this.resolve(provider, model);
    if (this.cached >= CACHE_LIMIT) {
      this.cache.clear();
      this.cached = 0;
      models = undefined;
    }
    if (models === undefined) this.cache.set(provider, (models = new Map()));
    models.set(model, price ?? null);
    this.cached++;
    return price;
  }

  /** USD for the usage of one answer; undefined when the model has no known price. */
  cost(provider: string, model: string, usage: Usage): number | undefined {
    const price = this.priceOf(provider, model);
    return price === undefined ? undefined : costOf(price, usage);
  }

  private resolve(provider: string, model: string): ListPrice | undefined {
    const bare = model.slice(model.lastIndexOf('/') + 1);
    const subscription = this.subscriptions.has(provider);
    for (const override of this.overrides) {
      if (override.provider !== undefined ? override.provider !== provider : subscription) continue;
      if (matches(override, model, bare)) return override.price;
    }
    if (subscription || this.free.has(provider)) return FREE;
    return listPriceOf(model);
  }
}
