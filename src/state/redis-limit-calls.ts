// The calls of the two limit scripts (redis-scripts.ts), built a limit at a time: LIMITS_TAKE, the
// limits of one request taken at once or not at all, and LIMITS_SETTLE, what it took settled.
// A store's own reserve or settle is a call of one limit; a request's admission (and its end)
// through `RedisLimitBatches` is one call for all of its limits — one round trip, one command.
import type { RedisLink } from './redis-link.ts';

/** One LIMITS_TAKE: each limit adds its keys and arguments in the order it is checked. */
export class LimitsTake {
  readonly keys: string[] = [];
  readonly args: (string | number)[];

  constructor(holder: string, leaseMs: number, now: number) {
    this.args = [holder, leaseMs, now];
  }

  window(current: string, previous: string, amount: number, limit: number, windowMs: number, windowStart: number, sliding: boolean, expiryMs: number): void {
    this.keys.push(current, previous);
    this.args.push('w', amount, limit, windowMs, windowStart, sliding ? 1 : 0, expiryMs);
  }

  slot(set: string, limit: number): void {
    this.keys.push(set);
    this.args.push('s', limit);
  }

  /** `partial`: when `amount` does not fit, hold what is left of the budget (if anything). */
  budget(keys: readonly [string, string, string], amount: number, limit: number, expiryMs: number, partial: boolean): void {
    this.keys.push(keys[0], keys[1], keys[2]);
    this.args.push('b', amount, limit, expiryMs, partial ? 1 : 0);
  }

  /**
   * Answers { 1 when everything was taken (else 0), then three integers per limit checked, up to
   * the first refused } (LIMITS_TAKE).
   */
  send(link: RedisLink): Promise<number[]> {
    return link.run('swyLimitsTake', [this.keys.length, ...this.keys, ...this.args]) as Promise<number[]>;
  }
}

/**
 * One LIMITS_SETTLE, sent in the background. A settle that cannot reach the server runs its
 * `onFailure` (its count is kept to be sent when the server returns).
 */
export class LimitsSettle {
  readonly keys: string[] = [];
  readonly args: (string | number)[];
  private readonly budgets: ((spent: number, held: number) => void)[] = [];
  private readonly failures: (() => void)[] = [];

  constructor(holder: string) {
    this.args = [holder];
  }

  slotEnd(set: string): void {
    this.keys.push(set);
    this.args.push('z');
  }

  windowAdd(window: string, delta: number, expiryMs: number, onFailure: () => void): void {
    this.keys.push(window);
    this.args.push('a', delta, expiryMs);
    this.failures.push(onFailure);
  }

  /** `onAnswer`: the period's spend and holds after the settle. */
  budget(keys: readonly [string, string, string], actual: number, expiryMs: number, onAnswer: (spent: number, held: number) => void, onFailure: () => void): void {
    this.keys.push(keys[0], keys[1], keys[2]);
    this.args.push('b', actual, expiryMs);
    this.budgets.push(onAnswer);
    this.failures.push(onFailure);
  }

  send(link: RedisLink): void {
    if (this.keys.length === 0) return;
    link.run('swyLimitsSettle', [this.keys.length, ...this.keys, ...this.args]).then((answer) => {
      const values = answer as number[];
      for (let i = 0; i < this.budgets.length; i++) this.budgets[i]!(values[2 * i]!, values[2 * i + 1]!);
    }, (error: unknown) => {
      link.failed(error);
      for (const failure of this.failures) failure();
    });
  }
}
