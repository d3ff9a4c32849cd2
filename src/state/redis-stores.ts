// The shared `StateStores` (`state.redis`): rate-limit counters, concurrency slots, budget spend and
// the response cache in Redis/Valkey, so limits hold across every gateway instance that names the
// same server; passive health, session pins and the retry budget stay in process (each instance
// balances and probes on its own). Built by the composition root only when configured, so the
// Redis client is not even loaded otherwise.
import type { RetryBudgetSettings, StateConfig } from '../config/types.ts';
import { HealthBook } from './health.ts';
import type { RetryBudgetStore, SessionStore, StateStores } from './interfaces.ts';
import { RedisLink, type StateLogger } from './redis-link.ts';
import { RedisRateLimitCounters } from './redis-rate-limit-counters.ts';
import { RedisResponseCache } from './redis-response-cache.ts';
import { RedisSpendStore } from './redis-spend-store.ts';
import { RetryBudget } from './retry-budget.ts';
import { SessionPins } from './sessions.ts';

export class RedisStateStores implements StateStores {
  readonly health: HealthBook;
  readonly rateLimits: RedisRateLimitCounters;
  readonly spend: RedisSpendStore;
  readonly responses: RedisResponseCache;
  readonly shared: RedisLink;
  private readonly now: () => number;

  constructor(settings: StateConfig & { readonly redis: string }, logger: StateLogger, now: () => number = Date.now, leaseMs?: number) {
    this.now = now;
    this.health = new HealthBook(now);
    this.shared = new RedisLink({ url: settings.redis, keyPrefix: settings.keyPrefix, timeoutMs: settings.timeoutMs, logger, ...(leaseMs !== undefined ? { leaseMs } : {}) });
    this.rateLimits = new RedisRateLimitCounters(this.shared, now);
    this.spend = new RedisSpendStore(this.shared, now);
    this.responses = new RedisResponseCache(this.shared);
  }

  newSessions(): SessionStore {
    return new SessionPins();
  }

  newRetryBudget(settings: RetryBudgetSettings): RetryBudgetStore {
    return new RetryBudget(settings, this.now);
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}
