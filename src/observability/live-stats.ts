// What the dashboard's live view reads: the metrics' running totals (requests by status class,
// latency histograms, tokens, cost), summed over every series when asked — never per request —
// and the differences between two such readings (rates, percentiles over a window). A sampler
// started at boot keeps one point per interval (10 s) for the last hour in a fixed ring, so the
// sparklines have history the moment someone opens the page.
import { Buckets, type BucketLayout } from './metrics-series.ts';

export class LiveTotals {
  /** Epoch ms of the reading. */
  readonly at: number;
  /** Requests by status class: 1xx … 5xx. */
  readonly statuses = new Float64Array(5);
  readonly duration: Buckets;
  readonly overhead: Buckets;
  readonly firstToken: Buckets;
  inputTokens = 0;
  outputTokens = 0;
  costUsd = 0;
  /** Upstream attempts that failed (retried or not). */
  failedAttempts = 0;
  /** Gauges at the reading. */
  inflight = 0;
  streams = 0;

  constructor(at: number, duration: BucketLayout, overhead: BucketLayout, firstToken: BucketLayout) {
    this.at = at;
    this.duration = new Buckets(duration);
    this.overhead = new Buckets(overhead);
    this.firstToken = new Buckets(firstToken);
  }

  get requests(): number {
    let sum = 0;
    for (let i = 0; i < this.statuses.length; i++) sum += this.statuses[i]!;
    return sum;
  }
}

/**
 * The `quantile` (0–1) of the observations `later` holds beyond `earlier`, in ms, interpolated
 * within its bucket (as Prometheus' histogram_quantile does); null without observations.
 */
export function quantileBetween(earlier: Buckets | undefined, later: Buckets, quantile: number): number | null {
  const counts = later.counts;
  const bounds = later.layout.boundsMs;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]! - (earlier?.counts[i] ?? 0);
  if (total <= 0) return null;
  const rank = quantile * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]! - (earlier?.counts[i] ?? 0);
    if (inBucket <= 0) continue;
    if (seen + inBucket >= rank) {
      // the +Inf bucket has no upper bound: its lower one is the best that can be said
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1]!;
}

/** What happened between two readings, as the dashboard shows it. */
export interface LiveWindow {
  /** Seconds between the readings. */
  seconds: number;
  requests: number;
  requests_per_second: number;
  /** Answers with a 4xx / 5xx status; failed upstream attempts (retried ones too). */
  errors: { client: number; server: number; upstream_attempts: number };
  latency_ms: { p50: number | null; p99: number | null };
  /** The gateway's own time before the response head (Server-Timing "gateway"). */
  overhead_ms: { p50: number | null; p99: number | null };
  /** Streamed answers: time to the first byte written to the client. */
  ttft_ms: { p50: number | null; p99: number | null };
  tokens: { input: number; output: number };
  output_tokens_per_second: number;
  cost_usd: number;
}

function round(value: number | null, digits = 2): number | null {
  if (value === null) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The window from `earlier` (or the process's start) to `later`. */
export function windowBetween(earlier: LiveTotals | undefined, later: LiveTotals): LiveWindow {
  const seconds = earlier === undefined ? 0 : Math.max((later.at - earlier.at) / 1000, 0.001);
  const requests = later.requests - (earlier?.requests ?? 0);
  const output = later.outputTokens - (earlier?.outputTokens ?? 0);
  return {
    seconds: round(seconds, 3)!,
    requests,
    requests_per_second: seconds > 0 ? round(requests / seconds)! : 0,
    errors: {
      client: later.statuses[3]! - (earlier?.statuses[3] ?? 0),
      server: later.statuses[4]! - (earlier?.statuses[4] ?? 0),
      upstream_attempts: later.failedAttempts - (earlier?.failedAttempts ?? 0),
    },
    latency_ms: { p50: round(quantileBetween(earlier?.duration, later.duration, 0.5)), p99: round(quantileBetween(earlier?.duration, later.duration, 0.99)) },
    overhead_ms: { p50: round(quantileBetween(earlier?.overhead, later.overhead, 0.5), 3), p99: round(quantileBetween(earlier?.overhead, later.overhead, 0.99), 3) },
    ttft_ms: { p50: round(quantileBetween(earlier?.firstToken, later.firstToken, 0.5)), p99: round(quantileBetween(earlier?.firstToken, later.firstToken, 0.99)) },
    tokens: { input: later.inputTokens - (earlier?.inputTokens ?? 0), output },
    output_tokens_per_second: seconds > 0 ? round(output / seconds)! : 0,
    cost_usd: round(later.costUsd - (earlier?.costUsd ?? 0), 6)!,
  };
}

/** One point of the last hour's history. */
export interface HistoryPoint extends LiveWindow {
  /** Epoch ms at the end of the interval. */
  time: number;
  inflight: number;
  streams: number;
}

/** One point per interval (10 s), the last `capacity` (an hour) kept; started at boot, stopped with the gateway. */
export class LiveSampler {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly read: (at: number) => LiveTotals;
  private readonly ring: (HistoryPoint | undefined)[];
  private next = 0;
  private count = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** The latest reading (a baseline for a live view that has just started). */
  last: LiveTotals;

  constructor(read: (at: number) => LiveTotals, intervalMs = 10_000, capacity = 360) {
    this.read = read;
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    this.ring = new Array<HistoryPoint | undefined>(capacity).fill(undefined);
    this.last = read(Date.now());
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sample(Date.now()), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(now: number): void {
    const reading = this.read(now);
    this.ring[this.next] = { time: now, ...windowBetween(this.last, reading), inflight: reading.inflight, streams: reading.streams };
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.last = reading;
  }

  /** The kept points, oldest first. */
  history(): HistoryPoint[] {
    const points: HistoryPoint[] = [];
    for (let i = 0; i < this.count; i++) points.push(this.ring[(this.next - this.count + i + this.capacity) % this.capacity]!);
    return points;
  }
}
