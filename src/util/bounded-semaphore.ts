// A counting semaphore with a bounded FIFO queue and a deadline per waiter: the per-provider limit
// on agent-CLI turns. A request either gets a slot at once, waits its turn (at most `queueLimit`
// of them, each at most `timeoutMs`), or is refused at once because the queue is full. Waiters
// that leave (the client went away) leave the queue. One timer serves the whole queue: the
// earliest deadline.

/** Told when it gets a slot, or when its wait ran out (it has left the queue then). */
export interface SemaphoreWaiter {
  granted(): void;
  expired(): void;
}

export type AcquireResult = 'granted' | 'queued' | 'full';

interface Waiting {
  readonly waiter: SemaphoreWaiter;
  readonly deadline: number;
}

export class BoundedSemaphore {
  private limit: number;
  private queueLimit: number;
  private timeoutMs: number;
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerAt = 0;
  private readonly onTimer = (): void => this.expire();

  constructor(limit: number, queueLimit: number, timeoutMs: number) {
    this.limit = limit;
    this.queueLimit = queueLimit;
    this.timeoutMs = timeoutMs;
  }

  /** Slots in use. */
  get active(): number {
    return this.running;
  }

  /** Waiters in the queue. */
  get queued(): number {
    return this.waiting.length;
  }

  get capacity(): number {
    return this.limit;
  }

  get queueCapacity(): number {
    return this.queueLimit;
  }

  /** The longest wait in the queue. */
  get waitLimitMs(): number {
    return this.timeoutMs;
  }

  /** A slot now (`granted`: the caller holds it and must `release` it), a place in the queue, or neither. */
  acquire(waiter: SemaphoreWaiter, now = Date.now()): AcquireResult {
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return 'granted';
    }
    if (this.waiting.length >= this.queueLimit) return 'full';
    const deadline = now + this.timeoutMs;
    this.waiting.push({ waiter, deadline });
    this.schedule(deadline);
    return 'queued';
  }

  /** Gives a slot back; the first waiter (if any) gets it. */
  release(): void {
    if (this.running > 0) this.running--;
    this.grant();
  }

  /** A waiter gives up its place (its client left). False when it was not waiting. */
  leave(waiter: SemaphoreWaiter): boolean {
    const index = this.waiting.findIndex((entry) => entry.waiter === waiter);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    if (this.waiting.length === 0) this.clearTimer();
    return true;
  }

  /** New limits (a config reload): more slots let waiters in at once; a shorter wait applies to new waiters. */
  setLimits(limit: number, queueLimit: number, timeoutMs: number): void {
    this.limit = limit;
    this.queueLimit = queueLimit;
    this.timeoutMs = timeoutMs;
    this.grant();
  }

  /** Every waiter is told its wait expired (the provider is going away). */
  drain(): void {
    const waiting = this.waiting.splice(0);
    this.clearTimer();
    for (const entry of waiting) entry.waiter.expired();
  }

  private grant(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running++;
      next.waiter.granted();
    }
    if (this.waiting.length === 0) this.clearTimer();
  }

  private schedule(deadline: number): void {
    if (this.timer !== undefined && this.timerAt <= deadline) return;
    this.clearTimer();
    this.timerAt = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = 0;
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = 0;
    const now = Date.now();
    const expired: Waiting[] = [];
    let next = Infinity;
    for (let i = 0; i < this.waiting.length;) {
      const entry = this.waiting[i]!;
      if (entry.deadline <= now) {
        expired.push(entry);
        this.waiting.splice(i, 1);
        continue;
      }
      if (entry.deadline < next) next = entry.deadline;
      i++;
    }
    if (next !== Infinity) this.schedule(next);
    for (const entry of expired) entry.waiter.expired();
  }
}
