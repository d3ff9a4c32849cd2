// The default `StateStores`: everything in this process's memory, nothing to configure or start.
// Built once by the composition root; a shared (Redis/Valkey) bundle would be built there instead.
import type { RetryBudgetSettings } from '../config/types.ts';
import { HealthBook } from './health.ts';
import type { RetryBudgetStore, SessionStore, StateStores } from './interfaces.ts';
import { LocalRateLimitCounters } from './local-rate-limit-counters.ts';
import { LocalResponseCache } from './local-response-cache.ts';
import { LocalSpendStore } from './local-spend-store.ts';
import { RetryBudget } from './retry-budget.ts';
import { SessionPins } from './sessions.ts';

export class LocalStateStores implements StateStores {
  readonly health: HealthBook;
  readonly rateLimits = new LocalRateLimitCounters();
  readonly spend = new LocalSpendStore();
  readonly responses = new LocalResponseCache();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
    this.health = new HealthBook(now);
  }

  newSessions(): SessionStore {
    return new SessionPins();
  }

  newRetryBudget(settings: RetryBudgetSettings): RetryBudgetStore {
    return new RetryBudget(settings, this.now);
  }
}
