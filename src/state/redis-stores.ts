// The shared `StateStores` (`state.redis`): rate-limit counters, concurrency slots, budget spend,
// the response cache, provider health (cooldowns, ejections, the one half-open probe) and session
// pins in Redis/Valkey, so every gateway instance that names the same server acts as one. The
// retry budget stays in process (a ratio of this instance's own traffic). Built by the
// composition root only when configured, so the Redis client is not even loaded otherwise.
import type { RetryBudgetSettings, StateConfig } from '../config/types.ts';
import type { RetryBudgetStore, SessionStore, StateStores } from './interfaces.ts';
import { RedisHealthBook } from './redis-health.ts';
import { RedisLimitBatches } from './redis-limit-batches.ts';
import { RedisLink, type StateLogger } from './redis-link.ts';
import { RedisRateLimitCounters } from './redis-rate-limit-counters.ts';
import { RedisResponseCache } from './redis-response-cache.ts';
import { RedisSessionPins } from './redis-sessions.ts';
import { RedisSpendStore } from './redis-spend-store.ts';
import { RetryBudget } from './retry-budget.ts';

export class RedisStateStores implements StateStores {
  readonly health: RedisHealthBook;
  readonly rateLimits: RedisRateLimitCounters;
  readonly spend: RedisSpendStore;
  readonly responses: RedisResponseCache;
  readonly limitBatches: RedisLimitBatches;
  readonly shared: RedisLink;
  private readonly now: () => number;
  /** The pins of the newest runtime: its outage's pins go to the server when it returns. */
  private pins: RedisSessionPins | undefined = undefined;

  constructor(settings: StateConfig & { readonly redis: string }, logger: StateLogger, now: () => number = Date.now, leaseMs?: number) {
    this.now = now;
    this.shared = new RedisLink({ url: settings.redis, keyPrefix: settings.keyPrefix, timeoutMs: settings.timeoutMs, logger, ...(leaseMs !== undefined ? { leaseMs } : {}) });
    // health lives on the runner's clock (the real one): the time left it publishes must be real
    this.health = new RedisHealthBook(this.shared);
    this.rateLimits = new RedisRateLimitCounters(this.shared, now);
    this.spend = new RedisSpendStore(this.shared, now);
    this.limitBatches = new RedisLimitBatches(this.shared, this.rateLimits, this.spend);
    this.responses = new RedisResponseCache(this.shared);
    // pins too live on the planner's clock
    this.shared.onCatchUp(() => this.pins?.catchUp(Date.now()));
  }

  newSessions(): SessionStore {
    return (this.pins = new RedisSessionPins(this.shared));
  }

  newRetryBudget(settings: RetryBudgetSettings): RetryBudgetStore {
    return new RetryBudget(settings, this.now);
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}
