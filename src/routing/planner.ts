// The decisions of one request's attempts, without their I/O: which target and key to try next,
// after what delay — or to give up, and with which answer. What a failure allows (another key, the
// same key after a back-off, the next target, the fallback chain, the overflow alias) is its
// class's row of the retry policy (src/canonical/retry-policy.ts); which target is the route's
// strategy, health, session pin and room for the prompt; how many tries is the route's retry
// policy, the request's attempt cap and the process's retry budget. Each outcome goes to the key's
// health entry by the same row: failures before the commit point count towards ejection (within
// what the route allows), a stream broken after it is counted apart; a route left with too few
// targets and no healthy fallback ignores ejection (panic) rather than refuse the request.
// No I/O and no timers: the request runner (src/pipeline/runner.ts) carries the plans out. The
// clock is passed in, the back-off jitter is injectable.
import type { CanonicalOperation } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError, type ErrorInfo } from '../canonical/errors.ts';
import { countsAgainstTarget, retryRuleOf, type RetryRule } from '../canonical/retry-policy.ts';
import type { RoutingConfig } from '../config/types.ts';
import type { EjectionGuard, HealthEntry } from '../state/interfaces.ts';
import { usable, type Route, type TargetSlot } from './router.ts';

/** Send the request to `target` with `key`, after `delayMs`. */
export interface AttemptPlan {
  readonly kind: 'attempt';
  readonly target: TargetSlot;
  readonly key: HealthEntry;
  readonly delayMs: number;
  /** The key is used although it is cooling: the plan waited for its cooldown to end. */
  readonly bypassCooldown: boolean;
}

/**
 * Nothing more to try. `answer` says how: `failure` — the last failure's own answer (the
 * provider's error as it sent it); `error` — `error`, the gateway's; `replay` — `error`, a refusal
 * a provider gave earlier, repeated without asking it (marked `x-switchyard-cooldown: true`).
 */
export interface GiveUpPlan {
  readonly kind: 'give-up';
  readonly error: ErrorInfo;
  readonly answer: 'failure' | 'error' | 'replay';
}

export type Plan = AttemptPlan | GiveUpPlan;

/** What the planner reads and records besides the route: the process's state, as a Runtime holds it. */
export interface PlannerState {
  /** Read at each use: discovery may replace the router while a request runs. */
  readonly router: {
    resolve(name: string): Route | undefined;
    confirm(route: Route): void;
  };
  readonly health: { readonly counters: { readonly ejectedEntries: number } };
  readonly sessions: {
    get(id: string, now: number): { readonly target: number; readonly key: number } | undefined;
    set(id: string, target: number, key: number, expires: number): void;
  };
  readonly retryBudget: { tryRetry(): boolean };
  readonly config: { readonly routing: Pick<RoutingConfig, 'maxAttempts' | 'cooldowns' | 'sessionTtlMs'> };
}

/** A session's pin on a route (the route as asked for): the planner's and the shared pins' lookup (pipeline/session-pins.ts). */
export function sessionPinId(route: string, session: string): string {
  return `${route}\u0000${session}`;
}

/**
 * Targets a request must not go to, whatever their health (an auto alias's hard constraints: a
 * target that takes no images, for a request with images). Asked once per route entered.
 */
export interface TargetFilter {
  /** Whether the target `provider`/`model` of the route named `route` is left out for this request. */
  skips(route: string, provider: string, model: string): boolean;
}

/** What the planner asks of the request itself, read only when a decision needs it. */
export interface PlannedRequest {
  /** The session the request names, for affinity; undefined when none. */
  sessionId(): string | undefined;
  /** The gateway's estimate of the prompt's tokens. */
  promptTokens(): number;
  /** The targets this request must not go to; undefined (the usual case) for none. */
  targetFilter(): TargetFilter | undefined;
}

export class AttemptPlanner implements EjectionGuard {
  private readonly state: PlannerState;
  private readonly request: PlannedRequest;
  private readonly operation: CanonicalOperation;
  private readonly random: () => number;
  /** The route the request named. */
  private readonly requested: Route;
  private current: Route;
  /** Targets tried on the current route, and those its target filter leaves out (`skipped` of them). */
  private readonly tried = new Set<TargetSlot>();
  private skipped = 0;
  private target: TargetSlot | undefined = undefined;
  private key: HealthEntry | undefined = undefined;
  /** Epoch ms when the current attempt took its key: tells its health entry whether it began before an ejection. */
  private startedAt = 0;
  /** The current route was in panic when its target was picked: ejected keys may be used. */
  private panic = false;
  private triesOnTarget = 0;
  private attemptCount = 0;
  private last: ErrorInfo | undefined = undefined;
  /** The retry policy's row for `last`; undefined after a request the provider could not be sent (which moves on). */
  private lastRule: RetryRule | undefined = undefined;
  /** The route `last` failed on: its row bounds what happens there; routes entered after it are walked as usual. */
  private failedOn: Route | undefined = undefined;
  /** Fallback model names still to try, in order. */
  private readonly queue: string[] = [];
  private readonly visited = new Set<string>();
  /** Every route considered, for the cooling-down answer. */
  private readonly routes: Route[] = [];
  private preferredKey = -1;

  constructor(state: PlannerState, route: Route, operation: CanonicalOperation, request: PlannedRequest, random: () => number = Math.random) {
    this.state = state;
    this.requested = route;
    this.current = route;
    this.operation = operation;
    this.request = request;
    this.random = random;
  }

  /** The route being walked now (the requested one, a fallback or the overflow alias). */
  get route(): Route {
    return this.current;
  }

  /** Attempts sent so far. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** The first plan. */
  start(now: number): Plan {
    this.enter(this.current);
    return this.next(now);
  }

  /**
   * The attempt is due (after its delay): still to be sent, or — when its key cooled down
   * meanwhile (another request's failure) — a new plan.
   */
  recheck(plan: AttemptPlan, now: number): Plan | undefined {
    if (plan.bypassCooldown || plan.key.usable(now, this.panic)) return undefined;
    return this.next(now);
  }

  /** The key for an attempt that waited for something else (a media download) before it could go. */
  keyAfterWait(target: TargetSlot, now: number): HealthEntry {
    return target.pickKey(now, -1, this.panic) ?? target.keys[0]!;
  }

  /** The attempt goes out now with `key`: it counts towards the caps. */
  began(key: HealthEntry, now: number): void {
    this.attemptCount++;
    this.triesOnTarget++;
    this.key = key;
    this.startedAt = now;
  }

  /** The attempt failed before the commit point: its key's health entry records it, by the error's row. */
  failed(key: HealthEntry, error: ErrorInfo, now: number): void {
    const rule = retryRuleOf(error);
    if (countsAgainstTarget(rule)) key.fail(now, error, this.state.config.routing.cooldowns, this.startedAt, this);
    else if (rule.health === 'answered') key.succeed(now, 0, this.startedAt); // it answered: the request was at fault
    this.last = error;
    this.lastRule = rule;
    this.failedOn = this.current;
  }

  /** What follows the failure just recorded by `failed`. */
  afterFailure(now: number): Plan {
    if (this.lastRule!.fallback === 'context-overflow') return this.overflow(true, now);
    return this.next(now);
  }

  /**
   * The request could not be expressed for the target's provider (the converter refused it):
   * another target may take it, whatever the error's class; nothing is recorded against the key.
   */
  unexpressible(error: ErrorInfo, now: number): Plan {
    this.last = error;
    this.lastRule = undefined;
    this.failedOn = undefined;
    this.target = undefined;
    return this.next(now);
  }

  /** The attempt reached the commit point: its key answered, and the session is pinned to it. */
  committed(key: HealthEntry, latencyMs: number, now: number): void {
    const route = this.current;
    // a name the provider does not list has now been answered: its state is worth keeping
    if (route.provisional) this.state.router.confirm(route);
    key.succeed(now, latencyMs, this.startedAt);
    const target = this.target;
    if (target !== undefined && route.policy.affinity === 'session') {
      const session = this.request.sessionId();
      if (session !== undefined) this.state.sessions.set(sessionPinId(route.requested, session), target.index, key.keyIndex, now + this.state.config.routing.sessionTtlMs);
    }
  }

  /**
   * The stream broke after the commit point. It says something about the target's health, but it
   * is not a failed connection or a 5xx: counted apart, for the success rate only.
   */
  streamFailed(key: HealthEntry, error: ErrorInfo, now: number): void {
    if (countsAgainstTarget(retryRuleOf(error))) key.failAfterCommit(now, error, this.state.config.routing.cooldowns, this);
  }

  /** EjectionGuard: the current route's max_ejection_percent decides whether a failing key may be ejected. */
  allowsEjection(entry: HealthEntry, now: number): boolean {
    return this.current.allowsEjection(this.operation, entry, now, this.state.config.routing.cooldowns.maxEjectionPercent);
  }

  private enter(route: Route): void {
    this.current = route;
    this.routes.push(route);
    this.visited.add(route.requested);
    this.tried.clear();
    this.skipped = 0;
    // left out for this request: as if tried already, so no pick, pin or overflow counts them
    const filter = this.request.targetFilter();
    if (filter !== undefined) {
      for (const target of route.targets) {
        if (filter.skips(route.requested, target.provider, target.model)) this.tried.add(target);
      }
      this.skipped = this.tried.size;
    }
    this.target = undefined;
    for (const name of route.policy.fallbacks) if (!this.visited.has(name)) this.queue.push(name);
  }

  /** What to try next, within what the last failure's row allows, or why nothing is left. */
  private next(now: number): Plan {
    const rule = this.lastRule;
    const target = this.target;
    if (target !== undefined && rule !== undefined && (rule.anotherKey || rule.sameKey !== 'no') && this.triesOnTarget < this.current.policy.retry.attempts) {
      const plan = this.retrySame(target, rule, this.last!, now);
      if (plan !== undefined) return plan;
    }
    for (;;) {
      // on the route that failed, its row says whether its other targets and its fallbacks may help
      const bound = this.current === this.failedOn ? rule : undefined;
      if (bound === undefined || bound.nextTarget) {
        const picked = this.pickTarget(now);
        if (picked !== undefined) {
          const key = picked.pickKey(now, this.preferredKey, this.panic);
          this.preferredKey = -1;
          this.tried.add(picked);
          if (key === undefined) continue; // cannot happen (picked means a key is available); never loop on it
          this.target = picked;
          this.triesOnTarget = 0;
          return this.schedule(picked, key, 0, false, now);
        }
        if (this.overflowing(now)) return this.overflow(false, now);
      }
      if (bound !== undefined && bound.fallback !== 'chain') return this.giveUp(now, false);
      const name = this.queue.shift();
      if (name === undefined) return this.giveUp(now, false);
      if (this.visited.has(name)) continue;
      const route = this.state.router.resolve(name);
      if (route === undefined) {
        this.visited.add(name);
        continue;
      }
      this.enter(route);
    }
  }

  /** Another try of the same target: another key at once, or the same key after a back-off. */
  private retrySame(target: TargetSlot, rule: RetryRule, error: ErrorInfo, now: number): Plan | undefined {
    const retry = this.current.policy.retry;
    const previous = this.key!;
    // this very failure may have ejected the target: retry it anyway if the route is in panic
    this.panic = this.panicking(this.current, now);
    const key = target.pickKey(now, -1, this.panic);
    if (key !== undefined && key !== previous && rule.anotherKey) return this.schedule(target, key, 0, false, now);
    if (rule.sameKey === 'no') return undefined;
    let delay: number;
    if (key === undefined) {
      // every key is cooling: wait for the failed one if it comes back within the back-off cap,
      // unless another target can take the request now
      const wait = previous.until - now;
      if (rule.sameKey !== 'backoff-or-cooldown' || wait > retry.maxBackoffMs || this.otherTargetReady(now)) return undefined;
      delay = Math.max(0, wait);
    } else {
      const ceiling = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.min(this.triesOnTarget - 1, 20));
      delay = this.random() * ceiling; // full jitter
      if (error.retryAfterSeconds !== undefined) {
        const asked = error.retryAfterSeconds * 1000;
        if (asked > retry.maxBackoffMs) return undefined;
        delay = Math.max(delay, asked);
      }
    }
    return this.schedule(target, previous, delay, key === undefined, now);
  }

  /** Some target of the route not tried yet could take the request now (without picking it). */
  private otherTargetReady(now: number): boolean {
    const route = this.current;
    return route.canPick(this.operation, now, this.tried, route.hasContextWindows ? this.request.promptTokens() : 0);
  }

  /**
   * Whether `route` ignores ejection now: too few of its targets are available (panic threshold)
   * and no fallback still to walk has an available target — fallbacks come first, as Envoy's lower
   * priority levels do. Free in the usual case: with nothing ejected anywhere, one read ends it.
   */
  private panicking(route: Route, now: number): boolean {
    if (this.state.health.counters.ejectedEntries === 0) return false;
    const operation = this.operation;
    if (!route.belowPanicThreshold(operation, now, this.state.config.routing.cooldowns.panicThresholdPercent)) return false;
    for (const name of this.queue) {
      if (this.visited.has(name)) continue;
      const fallback = this.state.router.resolve(name);
      if (fallback !== undefined && fallback.canPick(operation, now, undefined, fallback.hasContextWindows ? this.request.promptTokens() : 0)) return false;
    }
    return true;
  }

  private pickTarget(now: number): TargetSlot | undefined {
    const route = this.current;
    const operation = this.operation;
    const tokens = route.hasContextWindows ? this.request.promptTokens() : 0;
    this.panic = false;
    if (route.policy.affinity === 'session' && this.tried.size === this.skipped) {
      const session = this.request.sessionId();
      if (session !== undefined) {
        const pin = this.state.sessions.get(sessionPinId(route.requested, session), now);
        const pinned = pin === undefined ? undefined : route.targets[pin.target];
        if (pinned !== undefined && route.targetsFor(operation).includes(pinned) && usable(pinned, now, this.tried, tokens)) {
          this.preferredKey = pin!.key;
          return pinned;
        }
      }
    }
    this.panic = this.panicking(route, now);
    return route.pick(operation, now, this.tried, tokens, this.panic);
  }

  /** No target took the request and some were passed over only because the prompt is too long for them. */
  private overflowing(now: number): boolean {
    if (!this.current.hasContextWindows) return false;
    const tokens = this.request.promptTokens();
    for (const target of this.current.targetsFor(this.operation)) {
      if (!this.tried.has(target) && target.contextWindow !== undefined && tokens > target.contextWindow && target.available(now)) return true;
    }
    return false;
  }

  /** The prompt is too long here: the route's overflow alias, or a clean error at once. */
  private overflow(afterFailure: boolean, now: number): Plan {
    const name = this.current.policy.onContextOverflow;
    const route = name !== undefined && !this.visited.has(name) ? this.state.router.resolve(name) : undefined;
    if (route !== undefined) {
      this.queue.length = 0;
      this.enter(route);
      return this.next(now);
    }
    if (afterFailure && this.last !== undefined) return { kind: 'give-up', error: this.last, answer: 'failure' };
    return {
      kind: 'give-up',
      answer: 'error',
      error: new GatewayError(ErrorCode.contextLength,
        `The prompt (about ${this.request.promptTokens()} tokens by the gateway's estimate) is longer than the context window of every target of '${this.current.requested}'.`,
        { status: 400, origin: 'gateway', errorClass: 'context-length', param: 'messages' }),
    };
  }

  /** An attempt, if the request's attempt cap and the process's retry budget allow one more. */
  private schedule(target: TargetSlot, key: HealthEntry, delayMs: number, bypassCooldown: boolean, now: number): Plan {
    if (this.attemptCount >= this.state.config.routing.maxAttempts) return this.giveUp(now, false);
    if (this.attemptCount > 0 && !this.state.retryBudget.tryRetry()) return this.giveUp(now, true);
    return { kind: 'attempt', target, key, delayMs, bypassCooldown };
  }

  /** Nothing more to try: the last failure's own answer, or — when no attempt was possible — why. */
  private giveUp(now: number, budget: boolean): Plan {
    if (this.last !== undefined) return { kind: 'give-up', error: this.last, answer: 'failure' };
    if (budget) {
      return {
        kind: 'give-up',
        answer: 'error',
        error: new GatewayError(ErrorCode.retryBudget, 'Too many retries in progress across the gateway; not retrying this request.', { status: 503, origin: 'gateway', errorClass: 'gateway-error', retryAfterSeconds: 1 }),
      };
    }
    // every target is cooling down: say until when, in the caller's dialect
    let soonest = Infinity;
    let replay: ErrorInfo | undefined;
    let onlyPermanent = true;
    const reasons: string[] = [];
    for (const route of this.routes) {
      for (const target of route.targetsFor(this.operation)) {
        for (const key of target.keys) {
          // out of its ejection, but its one half-open probe is still in flight
          const probing = key.until <= now && key.probing;
          if (key.until <= now && !probing) continue;
          const until = probing ? now : key.until;
          if (until < soonest) soonest = until;
          if (key.reason !== 'auth' && key.reason !== 'not-found') onlyPermanent = false;
          else replay ??= key.lastError;
          if (reasons.length < 4) reasons.push(`${target.provider}/${target.model} ${probing ? 'probing' : key.reason ?? 'cooling'}`);
        }
      }
    }
    // a key the provider refused, or a model it does not have: say so again rather than "try later"
    if (onlyPermanent && replay !== undefined) return { kind: 'give-up', error: replay, answer: 'replay' };
    const seconds = soonest === Infinity ? 1 : Math.max(1, Math.ceil((soonest - now) / 1000));
    return {
      kind: 'give-up',
      answer: 'error',
      error: new GatewayError(ErrorCode.coolingDown,
        `Every target for '${this.requested.requested}' is cooling down after recent failures (${reasons.join(', ')}); retry after ${seconds} s.`,
        { status: 429, origin: 'gateway', errorClass: 'rate-limited', retryAfterSeconds: seconds }),
    };
  }
}
