// Enforces key and team limits: allow-lists, requests and tokens per minute, requests in flight,
// budgets. A policy is compiled once (cached by the frozen `KeyPolicy` object, so the key store's
// policies are compiled on first use too); a request reserves in admit (`admit` → a `LimitTicket`),
// reports what it has left in commit (`appendHeaders`), and settles in complete (`settle`) with its
// real tokens and cost, whatever way it ended. Counters and spend live behind the state interfaces
// (in process by default), keyed by key id and team name, so they outlive config reloads.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { FailureMode } from '../config/types.ts';
import type { BatchedLimit, BatchedSettle, LimitBatches, LimitRule, MaybePromise, RateLimitCounters, SpendStore } from '../state/interfaces.ts';
import { periodEnd, periodStart } from './budget-period.ts';
import { ModelAllowList } from './model-allow-list.ts';
import type { Budget, KeyPolicy, Limits } from './policy.ts';
import { openaiDuration, rfc3339 } from './rate-limit-headers.ts';

const MINUTE_MS = 60_000;
const MICROS_PER_USD = 1_000_000;

/** What a held budget counts when the request's price is unknown: enough to refuse an exhausted budget. */
const MINIMAL_HOLD = 1;

// The steps of an admission, in order
const STEP_KEY_CONCURRENT = 0;
const STEP_KEY_RPM = 1;
const STEP_TEAM_CONCURRENT = 2;
const STEP_TEAM_RPM = 3;
const STEP_KEY_TPM = 4;
const STEP_TEAM_TPM = 5;
const STEP_BUDGETS_READABLE = 6;
const STEP_KEY_BUDGET = 7;
const STEP_TEAM_BUDGET = 8;
const STEPS = 9;
/** A step's store failed (rejected): `auth.on_store_failure` decides. */
const FAILED = -2;

// What a ticket took, one bit each, so that settling gives back exactly that
const KEY_CONCURRENT = 1;
const TEAM_CONCURRENT = 2;
const KEY_RPM = 4;
const TEAM_RPM = 8;
const KEY_TPM = 16;
const TEAM_TPM = 32;
const KEY_BUDGET = 64;
const TEAM_BUDGET = 128;
const STEP_BITS = [KEY_CONCURRENT, KEY_RPM, TEAM_CONCURRENT, TEAM_RPM, KEY_TPM, TEAM_TPM, 0, KEY_BUDGET, TEAM_BUDGET];

/** Prices a request before it is routed (the model as asked; undefined when unknown). */
export interface CostEstimator {
  estimateUsd(model: string, inputTokens: number, outputTokens: number): number | undefined;
}

/** A soft budget threshold was crossed (once per scope and period). */
export interface SoftBudgetEvent {
  readonly scope: 'key' | 'team';
  /** The key's name or the team's name. */
  readonly name: string;
  /** The key's id (a team's name for a team). */
  readonly id: string;
  readonly period: Budget['period'];
  readonly spentUsd: number;
  readonly softUsd: number;
  readonly limitUsd: number;
}

/** Whether spend can be trusted: false while it could not be read from the usage store. */
export interface SpendReadiness {
  readonly available: boolean;
}

export interface LimitEnforcerOptions {
  readonly counters: RateLimitCounters;
  readonly spend: SpendStore;
  readonly spendReadiness: SpendReadiness;
  /** Whether the shared state store (Redis/Valkey) answers; absent: state is in process only. */
  readonly sharedState?: SpendReadiness;
  /** The shared store's way to take and settle a request's limits in one round trip (absent: one by one). */
  readonly batches?: LimitBatches;
  readonly prices: CostEstimator;
  /** Tokens reserved for the answer when a request sets no max_tokens. */
  readonly defaultMaxTokens: number;
  readonly onStoreFailure: { readonly rateLimits: FailureMode; readonly budgets: FailureMode };
  readonly onSoftBudget: (event: SoftBudgetEvent) => void;
}

/** One scope's (a key's or a team's) limits, compiled. */
class ScopeLimits {
  readonly scope: 'key' | 'team';
  readonly id: string;
  readonly name: string;
  /** How errors name it: `key 'ci' (key-1a2b3c4d)`, `team 'ml'`. */
  readonly label: string;
  readonly allowList: ModelAllowList | undefined;
  readonly rpm: LimitRule | undefined;
  readonly tpm: LimitRule | undefined;
  readonly concurrent: LimitRule | undefined;
  readonly rpmCounter: string;
  readonly tpmCounter: string;
  readonly concurrentCounter: string;
  readonly budget: Budget | undefined;
  readonly budgetName: string;
  /** Micro-dollars. */
  readonly budgetLimit: number;
  readonly softLimit: number;
  /** The current budget period, recomputed when `now` leaves it. */
  periodStart = -1;
  periodEnd = -1;
  /** The period whose soft threshold has been reported. */
  softReported = -1;

  constructor(scope: 'key' | 'team', id: string, name: string, limits: Limits) {
    this.scope = scope;
    this.id = id;
    this.name = name;
    this.label = scope === 'key' ? `key '${name}' (${id})` : `team '${name}'`;
    this.allowList = limits.models === undefined ? undefined : new ModelAllowList(limits.models);
    this.rpm = limits.rpm === undefined ? undefined : Object.freeze({ kind: 'sliding', limit: limits.rpm, windowMs: MINUTE_MS });
    this.tpm = limits.tpm === undefined ? undefined : Object.freeze({ kind: 'sliding', limit: limits.tpm, windowMs: MINUTE_MS });
    this.concurrent = limits.maxConcurrent === undefined ? undefined : Object.freeze({ kind: 'concurrent', limit: limits.maxConcurrent, windowMs: 0 });
    this.rpmCounter = `rpm\0${scope}\0${id}`;
    this.tpmCounter = `tpm\0${scope}\0${id}`;
    this.concurrentCounter = `concurrent\0${scope}\0${id}`;
    this.budget = limits.budget;
    this.budgetName = budgetName(scope, id);
    this.budgetLimit = limits.budget === undefined ? 0 : Math.round(limits.budget.usd * MICROS_PER_USD);
    this.softLimit = limits.budget?.softUsd === undefined ? Infinity : Math.round(limits.budget.softUsd * MICROS_PER_USD);
  }

  /** Moves to the budget period holding `now`. */
  enterPeriod(now: number): void {
    if (now >= this.periodStart && now < this.periodEnd) return;
    const period = this.budget!.period;
    this.periodStart = periodStart(period, now);
    this.periodEnd = periodEnd(period, this.periodStart);
  }
}

/** The counter name of a budget in the `SpendStore`. */
export function budgetName(scope: 'key' | 'team', id: string): string {
  return `budget\0${scope}\0${id}`;
}

/** A policy compiled: its key's and its team's limits. */
class CompiledPolicy {
  readonly key: ScopeLimits | undefined;
  readonly team: ScopeLimits | undefined;
  readonly tokens: boolean;
  readonly budgets: boolean;

  constructor(key: ScopeLimits | undefined, team: ScopeLimits | undefined) {
    this.key = key;
    this.team = team;
    this.tokens = key?.tpm !== undefined || team?.tpm !== undefined;
    this.budgets = key?.budget !== undefined || team?.budget !== undefined;
  }
}

/** What one request holds, from admit to complete. */
export class LimitTicket {
  readonly policy: CompiledPolicy;
  readonly holder: string;
  readonly reservedAt: number;
  /** Bits of what was taken (KEY_RPM, …). */
  taken = 0;
  /** Tokens reserved under each TPM limit. */
  tokens = 0;
  /** Tokens the request would use (prompt estimate + answer allowance); 0 when it uses none. */
  wanted = 0;
  /** Micro-dollars the request is estimated to cost; 0 when it reserves no budget. */
  estimate = 0;
  /** Micro-dollars held against each budget. */
  keyHold = 0;
  teamHold = 0;
  settled = false;

  constructor(policy: CompiledPolicy, holder: string, reservedAt: number) {
    this.policy = policy;
    this.holder = holder;
    this.reservedAt = reservedAt;
  }
}

/** A per-minute limit now: `used` counts requests in flight and the sliding window's share of the last minute. */
export interface WindowRemaining {
  limit: number;
  used: number;
  remaining: number;
  /** When the current minute ends (the `x-ratelimit-reset-*` headers' instant). */
  resets_at: string;
}

export interface BudgetRemaining {
  usd: number;
  period: Budget['period'];
  soft_usd?: number;
  spent_usd: number;
  /** Held by requests in flight (their estimated cost), settled when they end. */
  held_usd: number;
  remaining_usd: number;
  /** The period's bounds (null for a `total` budget, which never resets). */
  period_start: string | null;
  resets_at: string | null;
}

/** One scope's limits as the management API shows them; null where the scope sets no such limit. */
export interface ScopeRemaining {
  scope: 'key' | 'team';
  id: string;
  name: string;
  rpm: WindowRemaining | null;
  tpm: WindowRemaining | null;
  max_concurrent: { limit: number; in_use: number } | null;
  budget: BudgetRemaining | null;
}

export interface RemainingLimits {
  key: ScopeRemaining | null;
  team: ScopeRemaining | null;
}

/** What admit answers: the ticket to settle later, or the refusal. */
export type Admission = LimitTicket | LimitRefusal;

/** A refusal: the error to answer in the caller's dialect, and for a rate limit, which one (for its headers). */
export interface LimitRefusal {
  readonly error: GatewayError;
  readonly rate?: { readonly unit: 'requests' | 'tokens'; readonly limit: number; readonly resetMs: number };
}

function rateLimited(message: string, waitMs: number): GatewayError {
  return new GatewayError(ErrorCode.rateLimitExceeded, message, {
    status: 429, origin: 'downstream', errorClass: 'client-error', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

function storeUnavailable(message: string): GatewayError {
  return new GatewayError(ErrorCode.limitsUnavailable, message, { status: 503, origin: 'gateway', errorClass: 'client-error', retryAfterSeconds: 5 });
}

const ALWAYS_AVAILABLE: SpendReadiness = Object.freeze({ available: true });

function usd(micros: number): string {
  return `$${(micros / MICROS_PER_USD).toFixed(2)}`;
}

export class LimitEnforcer {
  private readonly options: LimitEnforcerOptions;
  private readonly counters: RateLimitCounters;
  private readonly spend: SpendStore;
  private readonly shared: SpendReadiness;
  private readonly batches: LimitBatches | undefined;
  private readonly compiled = new WeakMap<KeyPolicy, CompiledPolicy>();
  /** Team limits compiled once per team's `Limits` object (every key of the team shares it). */
  private readonly teams = new WeakMap<Limits, ScopeLimits>();
  /** The last reset written, and its text: requests within the same millisecond share it. */
  private resetMs = -1;
  private resetText = '';

  constructor(options: LimitEnforcerOptions) {
    this.options = options;
    this.counters = options.counters;
    this.spend = options.spend;
    this.shared = options.sharedState ?? ALWAYS_AVAILABLE;
    this.batches = options.batches;
  }

  private compile(policy: KeyPolicy): CompiledPolicy {
    let compiled = this.compiled.get(policy);
    if (compiled !== undefined) return compiled;
    const key = policy.limits === undefined ? undefined : new ScopeLimits('key', policy.id, policy.name, policy.limits);
    let team: ScopeLimits | undefined;
    if (policy.teamLimits !== undefined && policy.team !== undefined) {
      team = this.teams.get(policy.teamLimits);
      if (team === undefined) this.teams.set(policy.teamLimits, (team = new ScopeLimits('team', policy.team, policy.team, policy.teamLimits)));
    }
    compiled = new CompiledPolicy(key, team);
    this.compiled.set(policy, compiled);
    return compiled;
  }

  /**
   * May this request go on? `promptTokens`: the estimated prompt; `maxTokens`: what the request
   * allows the answer (undefined: not set); `countsTokens`: false for requests that use no tokens
   * (token counting), which then reserve no tokens nor budget. Answers a ticket to settle later,
   * or the refusal — synchronously with in-process state; a promise of either when a shared store
   * answers over the network (nothing is allocated for that on the in-process path).
   */
  admit(policy: KeyPolicy, model: string, promptTokens: number, maxTokens: number | undefined, countsTokens: boolean, holder: string, now: number): Admission | Promise<Admission> {
    const compiled = this.compile(policy);
    const key = compiled.key;
    const team = compiled.team;
    if (key?.allowList !== undefined && !key.allowList.allows(model)) return { error: notAllowed(key, model, undefined) };
    if (team?.allowList !== undefined && !team.allowList.allows(model)) return { error: notAllowed(team, model, policy) };
    const ticket = new LimitTicket(compiled, holder, now);
    if (countsTokens) {
      const answerTokens = maxTokens ?? this.options.defaultMaxTokens;
      ticket.wanted = promptTokens + answerTokens;
      if (compiled.budgets) {
        const estimate = this.options.prices.estimateUsd(model, promptTokens, answerTokens);
        ticket.estimate = estimate === undefined ? MINIMAL_HOLD : Math.max(MINIMAL_HOLD, Math.round(estimate * MICROS_PER_USD));
      }
    }
    // a shared store takes every limit in one round trip; budgets that cannot be read are the
    // steps' to refuse (or not: auth.on_store_failure), as while the store is down
    const batches = this.batches;
    if (batches !== undefined && batches.available && (ticket.estimate === 0 || this.budgetsReadable())) return this.admitBatched(batches, ticket, now);
    return this.advance(ticket, 0, now);
  }

  /** Takes every limit of the ticket in one call of the shared store: all of them, or none. */
  private admitBatched(batches: LimitBatches, ticket: LimitTicket, now: number): Admission | Promise<Admission> {
    const steps: number[] = [];
    const limits: BatchedLimit[] = [];
    for (let step = 0; step < STEPS; step++) {
      const limit = this.batched(ticket, step, now);
      if (limit === undefined) continue;
      steps.push(step);
      limits.push(limit);
    }
    if (limits.length === 0) return ticket;
    // a store that could not be asked is down now: the steps take the limits in process
    return batches.reserve(limits, ticket.holder, now).then((outcomes) => this.afterBatch(ticket, steps, outcomes, now), () => this.advance(ticket, 0, now));
  }

  /** Step `step`'s limit for a batch (as `begin` takes it), or undefined when it has nothing to take. */
  private batched(ticket: LimitTicket, step: number, now: number): BatchedLimit | undefined {
    const { key, team } = ticket.policy;
    switch (step) {
      case STEP_KEY_CONCURRENT: return key?.concurrent === undefined ? undefined : { kind: 'counter', key: key.concurrentCounter, rule: key.concurrent, amount: 1 };
      case STEP_KEY_RPM: return key?.rpm === undefined ? undefined : { kind: 'counter', key: key.rpmCounter, rule: key.rpm, amount: 1 };
      case STEP_TEAM_CONCURRENT: return team?.concurrent === undefined ? undefined : { kind: 'counter', key: team.concurrentCounter, rule: team.concurrent, amount: 1 };
      case STEP_TEAM_RPM: return team?.rpm === undefined ? undefined : { kind: 'counter', key: team.rpmCounter, rule: team.rpm, amount: 1 };
      case STEP_KEY_TPM:
        if (key?.tpm === undefined || ticket.wanted === 0) return undefined;
        ticket.tokens = reservedTokens(ticket);
        return { kind: 'counter', key: key.tpmCounter, rule: key.tpm, amount: ticket.tokens };
      case STEP_TEAM_TPM:
        if (team?.tpm === undefined || ticket.wanted === 0) return undefined;
        ticket.tokens = reservedTokens(ticket);
        return { kind: 'counter', key: team.tpmCounter, rule: team.tpm, amount: ticket.tokens };
      case STEP_KEY_BUDGET:
        if (ticket.estimate === 0 || key?.budget === undefined) return undefined;
        key.enterPeriod(now);
        return { kind: 'budget', budget: key.budgetName, periodStart: key.periodStart, periodEnd: key.periodEnd, amount: ticket.estimate, limit: key.budgetLimit };
      case STEP_TEAM_BUDGET:
        if (ticket.estimate === 0 || team?.budget === undefined) return undefined;
        team.enterPeriod(now);
        return { kind: 'budget', budget: team.budgetName, periodStart: team.periodStart, periodEnd: team.periodEnd, amount: ticket.estimate, limit: team.budgetLimit };
      default: return undefined;
    }
  }

  /**
   * A batch's outcomes (one per step in `steps`, up to the first refused): the store took all of
   * them, or — when the last one is a refusal — none, and that refusal is the answer.
   */
  private afterBatch(ticket: LimitTicket, steps: readonly number[], outcomes: readonly number[], now: number): Admission {
    const last = outcomes.length - 1;
    const lastStep = steps[last]!;
    const value = outcomes[last]!;
    if (lastStep < STEP_BUDGETS_READABLE ? value !== 0 : value <= 0) {
      // nothing was taken: no bit is set, so releasing gives nothing back
      const refusal = this.conclude(ticket, lastStep, value, now)!;
      this.release(ticket, now);
      return refusal;
    }
    for (let i = 0; i <= last; i++) {
      const refusal = this.conclude(ticket, steps[i]!, outcomes[i]!, now);
      if (refusal !== undefined) {
        this.release(ticket, now);
        return refusal;
      }
    }
    return ticket;
  }

  /**
   * Takes what the ticket needs, step by step from `step` (STEP_* order): the first refusal gives
   * back what was taken. A step answered with a promise defers the rest to it.
   */
  private advance(ticket: LimitTicket, step: number, now: number): Admission | Promise<Admission> {
    for (; step < STEPS; step++) {
      const pending = this.begin(ticket, step, now);
      if (pending === undefined) continue;
      if (pending instanceof Promise) {
        const at = step;
        return pending.then((value) => this.after(ticket, at, value, now), () => this.after(ticket, at, FAILED, now));
      }
      const refusal = this.conclude(ticket, step, pending, now);
      if (refusal !== undefined) {
        this.release(ticket, now);
        return refusal;
      }
    }
    return ticket;
  }

  private after(ticket: LimitTicket, step: number, value: number, now: number): Admission | Promise<Admission> {
    const refusal = this.conclude(ticket, step, value, now);
    if (refusal === undefined) return this.advance(ticket, step + 1, now);
    this.release(ticket, now);
    return refusal;
  }

  /** Starts step `step`: undefined when it has nothing to take; else the store's answer (a wait, or a held amount). */
  private begin(ticket: LimitTicket, step: number, now: number): MaybePromise<number> | undefined {
    const { key, team } = ticket.policy;
    const holder = ticket.holder;
    switch (step) {
      case STEP_KEY_CONCURRENT: return key?.concurrent === undefined ? undefined : this.counters.reserve(key.concurrentCounter, key.concurrent, 1, holder, now);
      case STEP_KEY_RPM: return key?.rpm === undefined ? undefined : this.counters.reserve(key.rpmCounter, key.rpm, 1, holder, now);
      case STEP_TEAM_CONCURRENT: return team?.concurrent === undefined ? undefined : this.counters.reserve(team.concurrentCounter, team.concurrent, 1, holder, now);
      case STEP_TEAM_RPM: return team?.rpm === undefined ? undefined : this.counters.reserve(team.rpmCounter, team.rpm, 1, holder, now);
      case STEP_KEY_TPM:
        if (key?.tpm === undefined || ticket.wanted === 0) return undefined;
        ticket.tokens = reservedTokens(ticket);
        return this.counters.reserve(key.tpmCounter, key.tpm, ticket.tokens, holder, now);
      case STEP_TEAM_TPM:
        if (team?.tpm === undefined || ticket.wanted === 0) return undefined;
        ticket.tokens = reservedTokens(ticket);
        return this.counters.reserve(team.tpmCounter, team.tpm, ticket.tokens, holder, now);
      case STEP_BUDGETS_READABLE:
        return ticket.estimate === 0 ? undefined : this.budgetsReadable() ? 0 : FAILED;
      case STEP_KEY_BUDGET:
        if (ticket.estimate === 0 || key?.budget === undefined) return undefined;
        key.enterPeriod(now);
        return this.hold(ticket, key, ticket.estimate, now);
      case STEP_TEAM_BUDGET:
        if (ticket.estimate === 0 || team?.budget === undefined) return undefined;
        team.enterPeriod(now);
        return this.hold(ticket, team, ticket.estimate, now);
      default: return undefined;
    }
  }

  /** What a step's answer means: undefined to go on (recording what was taken), or the refusal. */
  private conclude(ticket: LimitTicket, step: number, value: number, now: number): LimitRefusal | undefined {
    const { key, team } = ticket.policy;
    const open = this.options.onStoreFailure;
    if (step < STEP_BUDGETS_READABLE) {
      // a rate step: `value` is the wait (0: taken)
      if (value === FAILED || (!this.shared.available && open.rateLimits === 'closed')) {
        if (value === 0) ticket.taken |= STEP_BITS[step]!;
        return open.rateLimits === 'open' ? undefined : { error: storeUnavailable('The shared state store cannot be reached, so requests of keys with rate limits are refused (auth.on_store_failure.rate_limits: closed).') };
      }
      if (value === 0) {
        ticket.taken |= STEP_BITS[step]!;
        return undefined;
      }
      switch (step) {
        case STEP_KEY_CONCURRENT: return this.concurrencyRefusal(key!);
        case STEP_KEY_RPM: return this.rateRefusal(key!, 'requests', value);
        case STEP_TEAM_CONCURRENT: return this.concurrencyRefusal(team!);
        case STEP_TEAM_RPM: return this.rateRefusal(team!, 'requests', value);
        case STEP_KEY_TPM: return this.rateRefusal(key!, 'tokens', value);
        default: return this.rateRefusal(team!, 'tokens', value);
      }
    }
    if (step === STEP_BUDGETS_READABLE) {
      return value === 0 ? undefined : { error: storeUnavailable('Spend could not be read (the usage store at start, or the shared state store), so requests of keys with a budget are refused until it can (auth.on_store_failure.budgets: closed).') };
    }
    // a budget step: `value` is the amount held (0: none)
    const scope = step === STEP_KEY_BUDGET ? key! : team!;
    if (value > 0) {
      if (step === STEP_KEY_BUDGET) ticket.keyHold = value;
      else ticket.teamHold = value;
      ticket.taken |= STEP_BITS[step]!;
    }
    if (value === FAILED || (!this.shared.available && open.budgets === 'closed')) {
      return open.budgets === 'open' ? undefined : { error: storeUnavailable('The shared state store cannot be reached, so requests of keys with a budget are refused (auth.on_store_failure.budgets: closed).') };
    }
    if (value > 0) return undefined;
    return { error: budgetExceeded(scope, step === STEP_KEY_BUDGET ? undefined : key, this.spend.spent(scope.budgetName, scope.periodStart, now), now) };
  }

  /** Whether spend can be trusted now; when not, `on_store_failure.budgets` decides. */
  private budgetsReadable(): boolean {
    if (this.options.onStoreFailure.budgets === 'open') return true;
    return this.options.spendReadiness.available && this.shared.available;
  }

  /**
   * Holds the estimate, or — when only less is left — what is left, so a request is refused only
   * once the budget is spent (or held by requests in flight). Answers the amount held, 0 for none.
   */
  private hold(ticket: LimitTicket, scope: ScopeLimits, amount: number, now: number): MaybePromise<number> {
    const granted = this.spend.reserve(scope.budgetName, scope.periodStart, scope.periodEnd, amount, scope.budgetLimit, ticket.holder, now);
    if (granted instanceof Promise) return granted.then((held) => (held ? amount : this.holdLeft(ticket, scope, amount, now)));
    return granted ? amount : this.holdLeft(ticket, scope, amount, now);
  }

  private holdLeft(ticket: LimitTicket, scope: ScopeLimits, amount: number, now: number): MaybePromise<number> {
    const spend = this.spend;
    const left = scope.budgetLimit - spend.spent(scope.budgetName, scope.periodStart, now) - spend.held(scope.budgetName, scope.periodStart, now);
    if (left <= 0 || left >= amount) return 0;
    const granted = spend.reserve(scope.budgetName, scope.periodStart, scope.periodEnd, left, scope.budgetLimit, ticket.holder, now);
    if (granted instanceof Promise) return granted.then((held) => (held ? left : 0));
    return granted ? left : 0;
  }

  /** Gives back everything a refused request took (or one whose client left while it waited). */
  release(ticket: LimitTicket, now: number): void {
    this.settleTaken(ticket, 0, 0, false, true, now);
  }

  /**
   * The request ended. `tokens` / `costUsd`: its real usage and cost (undefined when unknown);
   * `answered`: an answer went out (a stream cut by the client included) — one with no reported
   * usage then counts what was reserved; a request that failed before any answer counts nothing
   * but its request.
   */
  settle(ticket: LimitTicket, tokens: number | undefined, costUsd: number | undefined, answered: boolean, now: number): void {
    this.settleTaken(ticket, tokens, costUsd, answered, false, now);
  }

  private settleTaken(ticket: LimitTicket, tokens: number | undefined, costUsd: number | undefined, answered: boolean, refused: boolean, now: number): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const taken = ticket.taken;
    if (taken === 0) return;
    const { key, team } = ticket.policy;
    // a shared store settles all of a request's limits in one message
    const settles = this.batches === undefined ? undefined : ([] as BatchedSettle[]);
    if ((taken & KEY_CONCURRENT) !== 0) this.settleCounter(settles, key!.concurrentCounter, key!.concurrent!, 1, 1, ticket, now);
    if ((taken & TEAM_CONCURRENT) !== 0) this.settleCounter(settles, team!.concurrentCounter, team!.concurrent!, 1, 1, ticket, now);
    // a refused request gives its request back; one that was admitted counts, whatever its outcome
    if (refused) {
      if ((taken & KEY_RPM) !== 0) this.settleCounter(settles, key!.rpmCounter, key!.rpm!, 1, 0, ticket, now);
      if ((taken & TEAM_RPM) !== 0) this.settleCounter(settles, team!.rpmCounter, team!.rpm!, 1, 0, ticket, now);
    }
    const usedTokens = tokens ?? (answered ? ticket.tokens : 0);
    if ((taken & KEY_TPM) !== 0) this.settleCounter(settles, key!.tpmCounter, key!.tpm!, ticket.tokens, usedTokens, ticket, now);
    if ((taken & TEAM_TPM) !== 0) this.settleCounter(settles, team!.tpmCounter, team!.tpm!, ticket.tokens, usedTokens, ticket, now);
    if ((taken & (KEY_BUDGET | TEAM_BUDGET)) === 0) {
      if (settles !== undefined && settles.length > 0) this.batches!.settle(settles, ticket.holder, now);
      return;
    }
    // the real cost; unknown usage of an answer that went out (a cut stream) counts what was held
    const cost = costUsd !== undefined ? Math.round(costUsd * MICROS_PER_USD) : -1;
    const heldCounts = cost < 0 && answered && tokens === undefined;
    const keyActual = cost >= 0 ? cost : heldCounts ? ticket.keyHold : 0;
    const teamActual = cost >= 0 ? cost : heldCounts ? ticket.teamHold : 0;
    if ((taken & KEY_BUDGET) !== 0) this.settleBudget(settles, key!, ticket, ticket.keyHold, keyActual, now);
    if ((taken & TEAM_BUDGET) !== 0) this.settleBudget(settles, team!, ticket, ticket.teamHold, teamActual, now);
    if (settles !== undefined) this.batches!.settle(settles, ticket.holder, now);
    if ((taken & KEY_BUDGET) !== 0) this.reportSoftBudget(key!, ticket, keyActual, now);
    if ((taken & TEAM_BUDGET) !== 0) this.reportSoftBudget(team!, ticket, teamActual, now);
  }

  /** Settles a counter now, or adds it to the request's batch (`settles`, a shared store). */
  private settleCounter(settles: BatchedSettle[] | undefined, counter: string, rule: LimitRule, reserved: number, actual: number, ticket: LimitTicket, now: number): void {
    if (settles === undefined) this.counters.settle(counter, rule, reserved, actual, ticket.reservedAt, ticket.holder, now);
    else settles.push({ kind: 'counter', key: counter, rule, reserved, actual, reservedAt: ticket.reservedAt });
  }

  private settleBudget(settles: BatchedSettle[] | undefined, scope: ScopeLimits, ticket: LimitTicket, hold: number, actual: number, now: number): void {
    // the period the hold was made in (the current one, unless the request outlived it)
    const start = heldPeriodStart(scope, ticket.reservedAt);
    const end = start === scope.periodStart ? scope.periodEnd : periodEnd(scope.budget!.period, start);
    if (settles === undefined) this.spend.settle(scope.budgetName, start, end, hold, actual, ticket.holder, now);
    else settles.push({ kind: 'budget', budget: scope.budgetName, periodStart: start, periodEnd: end, reserved: hold, actual });
  }

  /** The settled spend crossed the soft threshold: reported once per scope and period. */
  private reportSoftBudget(scope: ScopeLimits, ticket: LimitTicket, actual: number, now: number): void {
    if (scope.softLimit === Infinity || actual === 0) return;
    const start = heldPeriodStart(scope, ticket.reservedAt);
    if (scope.softReported === start) return;
    const spentNow = this.spend.spent(scope.budgetName, start, now);
    if (spentNow < scope.softLimit) return;
    scope.softReported = start;
    const budget = scope.budget!;
    this.options.onSoftBudget({
      scope: scope.scope, name: scope.name, id: scope.id, period: budget.period,
      spentUsd: spentNow / MICROS_PER_USD, softUsd: budget.softUsd!, limitUsd: budget.usd,
    });
  }

  /**
   * commit: what the caller has left, as OpenAI's `x-ratelimit-*` headers (and, for `anthropic`,
   * Anthropic's `anthropic-ratelimit-*`), plus the soft budget warning once it is crossed.
   */
  appendHeaders(ticket: LimitTicket, anthropic: boolean, now: number, out: string[]): void {
    const { key, team } = ticket.policy;
    const windowEnd = now - (now % MINUTE_MS) + MINUTE_MS;
    if (key?.rpm !== undefined || team?.rpm !== undefined) {
      this.pushTightest(out, 'requests', key?.rpm, key?.rpmCounter, team?.rpm, team?.rpmCounter, windowEnd, anthropic, now);
    }
    if (key?.tpm !== undefined || team?.tpm !== undefined) {
      this.pushTightest(out, 'tokens', key?.tpm, key?.tpmCounter, team?.tpm, team?.tpmCounter, windowEnd, anthropic, now);
    }
    if (key !== undefined && key.softLimit !== Infinity) this.pushBudgetWarning(out, key, now);
    if (team !== undefined && team.softLimit !== Infinity) this.pushBudgetWarning(out, team, now);
  }

  private pushTightest(out: string[], unit: 'requests' | 'tokens', keyRule: LimitRule | undefined, keyCounter: string | undefined, teamRule: LimitRule | undefined, teamCounter: string | undefined, windowEnd: number, anthropic: boolean, now: number): void {
    let limit = 0;
    let remaining = Infinity;
    if (keyRule !== undefined) {
      limit = keyRule.limit;
      remaining = Math.max(0, Math.floor(keyRule.limit - this.counters.used(keyCounter!, keyRule, now)));
    }
    if (teamRule !== undefined) {
      const left = Math.max(0, Math.floor(teamRule.limit - this.counters.used(teamCounter!, teamRule, now)));
      if (left < remaining) {
        limit = teamRule.limit;
        remaining = left;
      }
    }
    const resetMs = windowEnd - now;
    if (resetMs !== this.resetMs) {
      this.resetMs = resetMs;
      this.resetText = openaiDuration(resetMs);
    }
    pushRateHeaders(out, unit, limit, remaining, resetMs, anthropic, now, this.resetText);
  }

  private pushBudgetWarning(out: string[], scope: ScopeLimits, now: number): void {
    scope.enterPeriod(now);
    const spent = this.spend.spent(scope.budgetName, scope.periodStart, now);
    if (spent < scope.softLimit) return;
    const budget = scope.budget!;
    const resets = budget.period === 'total' ? 'it does not reset' : `it resets at ${rfc3339(scope.periodEnd)}`;
    out.push('x-switchyard-budget-warning', `${scope.label} has spent ${usd(spent)} of its ${usd(scope.budgetLimit)} ${budgetSpan(budget)} budget (warning at ${usd(scope.softLimit)}); ${resets}`);
  }

  /**
   * What a key (and its team) has left now, for the management API: requests and tokens in the
   * current minute, requests in flight, budget spent and left in its period — read from the same
   * counters admit uses, so it matches the `x-ratelimit-*` headers. Null for a scope without limits.
   */
  remaining(policy: KeyPolicy, now: number): RemainingLimits {
    const { key, team } = this.compile(policy);
    return { key: key === undefined ? null : this.scopeRemaining(key, now), team: team === undefined ? null : this.scopeRemaining(team, now) };
  }

  private scopeRemaining(scope: ScopeLimits, now: number): ScopeRemaining {
    const resetsAt = new Date(now - (now % MINUTE_MS) + MINUTE_MS).toISOString();
    const window = (rule: LimitRule | undefined, counter: string): WindowRemaining | null => {
      if (rule === undefined) return null;
      const used = Math.ceil(this.counters.used(counter, rule, now));
      return { limit: rule.limit, used, remaining: Math.max(0, rule.limit - used), resets_at: resetsAt };
    };
    let budget: BudgetRemaining | null = null;
    if (scope.budget !== undefined) {
      scope.enterPeriod(now);
      const spent = this.spend.spent(scope.budgetName, scope.periodStart, now);
      const held = this.spend.held(scope.budgetName, scope.periodStart, now);
      budget = {
        usd: scope.budget.usd,
        period: scope.budget.period,
        ...(scope.budget.softUsd !== undefined ? { soft_usd: scope.budget.softUsd } : {}),
        spent_usd: spent / MICROS_PER_USD,
        held_usd: held / MICROS_PER_USD,
        remaining_usd: Math.max(0, scope.budgetLimit - spent - held) / MICROS_PER_USD,
        period_start: scope.budget.period === 'total' ? null : new Date(scope.periodStart).toISOString(),
        resets_at: scope.budget.period === 'total' ? null : new Date(scope.periodEnd).toISOString(),
      };
    }
    return {
      scope: scope.scope,
      id: scope.id,
      name: scope.name,
      rpm: window(scope.rpm, scope.rpmCounter),
      tpm: window(scope.tpm, scope.tpmCounter),
      max_concurrent: scope.concurrent === undefined ? null : { limit: scope.concurrent.limit, in_use: this.counters.used(scope.concurrentCounter, scope.concurrent, now) },
      budget,
    };
  }

  private rateRefusal(scope: ScopeLimits, unit: 'requests' | 'tokens', wait: number): LimitRefusal {
    const rule = unit === 'requests' ? scope.rpm! : scope.tpm!;
    const what = unit === 'requests' ? `${rule.limit} requests per minute` : `${rule.limit} tokens per minute`;
    const tooLarge = wait === Infinity;
    const waitMs = tooLarge ? MINUTE_MS : wait;
    const message = `Rate limit of ${scope.label} reached: ${what}. Retry after ${Math.max(1, Math.ceil(waitMs / 1000))}s.`;
    return { error: rateLimited(message, waitMs), rate: { unit, limit: rule.limit, resetMs: waitMs } };
  }

  private concurrencyRefusal(scope: ScopeLimits): LimitRefusal {
    const message = `Too many requests in flight for ${scope.label}: at most ${scope.concurrent!.limit} at once. Retry when one has finished.`;
    return { error: rateLimited(message, 1000) };
  }
}

/**
 * Tokens a request reserves under each TPM limit: what it would use, or — an estimate above a
 * limit itself would never fit — the smaller limit, so it waits for an empty window instead.
 */
function reservedTokens(ticket: LimitTicket): number {
  const { key, team } = ticket.policy;
  return Math.min(ticket.wanted, key?.tpm?.limit ?? Infinity, team?.tpm?.limit ?? Infinity);
}

/** The start of the budget period a request's hold was made in (the current one, unless the request outlived it). */
function heldPeriodStart(scope: ScopeLimits, reservedAt: number): number {
  return reservedAt >= scope.periodStart && reservedAt < scope.periodEnd ? scope.periodStart : periodStart(scope.budget!.period, reservedAt);
}

/** Budget periods as a message says them: `$5.00 per month`. */
function budgetSpan(budget: Budget): string {
  return budget.period === 'total' ? 'total' : `per-${budget.period}`;
}

function notAllowed(scope: ScopeLimits, model: string, policy: KeyPolicy | undefined): GatewayError {
  const who = policy === undefined ? `Key '${scope.name}' (${scope.id})` : `Key '${policy.name}' (${policy.id}) of team '${scope.name}'`;
  const allowed = scope.allowList!.entries;
  const list = allowed.length === 0 ? 'none' : allowed.join(', ');
  return new GatewayError(ErrorCode.modelNotAllowed, `${who} may not use model '${model}'; allowed: ${list}.`, {
    status: 403, origin: 'downstream', errorClass: 'client-error', param: 'model',
  });
}

function budgetExceeded(scope: ScopeLimits, key: ScopeLimits | undefined, spent: number, now: number): GatewayError {
  const budget = scope.budget!;
  const who = key === undefined ? scope.label : `${scope.label} (of ${key.label})`;
  const resets = budget.period === 'total' ? 'This budget does not reset.' : `It resets at ${rfc3339(scope.periodEnd)}.`;
  const message = `Budget exceeded for ${who}: ${usd(spent)} spent of ${usd(scope.budgetLimit)} ${budget.period === 'total' ? 'in total' : `per ${budget.period}`}. ${resets}`;
  const init = { status: 429, origin: 'downstream' as const, errorClass: 'client-error' as const };
  return new GatewayError(ErrorCode.budgetExceeded, message, budget.period === 'total' ? init : { ...init, retryAfterSeconds: Math.max(1, Math.ceil((scope.periodEnd - now) / 1000)) });
}

/** OpenAI's `x-ratelimit-{limit,remaining,reset}-<unit>`, and Anthropic's `anthropic-ratelimit-<unit>-{limit,remaining,reset}` when asked. */
export function pushRateHeaders(out: string[], unit: 'requests' | 'tokens', limit: number, remaining: number, resetMs: number, anthropic: boolean, now: number, resetText = openaiDuration(resetMs)): void {
  const names = unit === 'requests' ? REQUEST_HEADERS : TOKEN_HEADERS;
  const limitText = String(limit);
  const remainingText = String(remaining);
  out.push(names[0], limitText, names[1], remainingText, names[2], resetText);
  if (anthropic) out.push(names[3], limitText, names[4], remainingText, names[5], rfc3339(now + resetMs));
}

const REQUEST_HEADERS = ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests', 'anthropic-ratelimit-requests-limit', 'anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-requests-reset'] as const;
const TOKEN_HEADERS = ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens', 'anthropic-ratelimit-tokens-limit', 'anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-tokens-reset'] as const;
