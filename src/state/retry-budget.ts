// A retry budget (Finagle's): retries may add at most `ratio` of the requests seen over the last
// ten seconds, plus a small floor per second, so a failing provider cannot make the gateway
// multiply its own load. One budget per runtime (the in-process `RetryBudgetStore`); a retry and a
// fallback both spend from it.
import type { RetryBudgetSettings } from '../config/types.ts';
import type { RetryBudgetStore } from './interfaces.ts';

const WINDOW_S = 10;

export class RetryBudget implements RetryBudgetStore {
  private readonly ratio: number;
  private readonly floor: number;
  private readonly requests = new Float64Array(WINDOW_S);
  private readonly retries = new Float64Array(WINDOW_S);
  private second = 0;
  private readonly now: () => number;

  constructor(settings: RetryBudgetSettings, now: () => number = Date.now) {
    this.ratio = settings.ratio;
    this.floor = settings.minPerSecond * WINDOW_S;
    this.now = now;
  }

  /** Counts a first attempt. */
  onRequest(): void {
    this.requests[this.rotate()]!++;
  }

  /** Spends one retry if the budget allows it. */
  tryRetry(): boolean {
    const slot = this.rotate();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < WINDOW_S; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    if (retries + 1 > this.floor + this.ratio * requests) return false;
    this.retries[slot]!++;
    return true;
  }

  /** Clears the buckets the clock moved past; returns the current bucket. */
  private rotate(): number {
    const second = Math.floor(this.now() / 1000);
    const last = this.second;
    if (second !== last) {
      // a clock that went backwards clears the window rather than trusting stale buckets
      const steps = second < last ? WINDOW_S : Math.min(second - last, WINDOW_S);
      for (let i = 1; i <= steps; i++) {
        const slot = (last + i) % WINDOW_S;
        this.requests[slot] = 0;
        this.retries[slot] = 0;
      }
      this.second = second;
    }
    return second % WINDOW_S;
  }
}
