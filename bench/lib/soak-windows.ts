// The arithmetic of the agent-fleet soak, kept pure so it is tested on its own: how a run is cut
// into buckets and compared windows, how much of its start is warm-up, and reading counters out of
// the gateway's Prometheus text.

export interface SoakWindows {
  /** Requests are counted per bucket of this length (by the time they were sent). */
  bucketMs: number;
  /** Buckets in the run (the last one may be short). */
  buckets: number;
  /** Buckets in each compared window: the first `windowBuckets` and the last `windowBuckets`. */
  windowBuckets: number;
}

const minute = 60_000;
const comparedMs = 10 * minute;

/**
 * Minute buckets and 10-minute windows (the "first and last 10 minutes"). A run shorter
 * than 20 minutes compares its first and last halves instead (buckets of a quarter of the run
 * under 4 minutes), so the two windows never overlap.
 */
export function soakWindows(durationMs: number): SoakWindows {
  if (!(durationMs > 0)) throw new RangeError('a soak needs a positive duration');
  const bucketMs = durationMs >= 4 * minute ? minute : Math.max(1, Math.ceil(durationMs / 4));
  const buckets = Math.ceil(durationMs / bucketMs);
  const windowBuckets = Math.max(1, Math.min(Math.round(comparedMs / bucketMs), Math.floor(buckets / 2)));
  return { bucketMs, buckets, windowBuckets };
}

/** Buckets `start` (inclusive) to `end` (exclusive); empty when they are equal. */
export interface BucketRange {
  start: number;
  end: number;
}

/**
 * The buckets each compared window covers once `complete` buckets are over. At the end of the run
 * (`complete` ≥ `buckets`): the first and the last `windowBuckets`. At a checkpoint: the first
 * window's complete buckets, and the last `windowBuckets` complete buckets after it — never
 * overlapping the first, so empty (or shorter) until the run is two windows long.
 */
export function comparedWindows(windows: SoakWindows, complete: number): { first: BucketRange; last: BucketRange } {
  const done = Math.max(0, Math.min(windows.buckets, Math.floor(complete)));
  const first = { start: 0, end: Math.min(windows.windowBuckets, done) };
  if (done === windows.buckets) return { first, last: { start: windows.buckets - windows.windowBuckets, end: windows.buckets } };
  return { first, last: { start: Math.min(done, Math.max(windows.windowBuckets, done - windows.windowBuckets)), end: done } };
}

/**
 * Whether a bucket's latency histograms are still needed while `current` is the bucket in
 * progress: the first window's, and the newest `windowBuckets + 1` (the last window of any later
 * checkpoint or of the end) — so the client holds at most `2 × windowBuckets + 1`, over any length.
 */
export function keepsBucket(bucket: number, current: number, windows: SoakWindows): boolean {
  return bucket < windows.windowBuckets || (bucket >= current - windows.windowBuckets && bucket <= current);
}

/** A value per bucket (the client's latency histograms), for the buckets `keepsBucket` keeps only. */
export class RollingBuckets<T> {
  private readonly byBucket = new Map<number, T>();
  private readonly windows: SoakWindows;
  private readonly create: () => T;

  constructor(windows: SoakWindows, create: () => T) {
    this.windows = windows;
    this.create = create;
  }

  /** The value of `bucket` while `current` is in progress (created on first use); undefined when it is not kept. */
  at(bucket: number, current: number): T | undefined {
    if (!keepsBucket(bucket, current, this.windows)) return undefined;
    let value = this.byBucket.get(bucket);
    if (value === undefined) {
      this.byBucket.set(bucket, (value = this.create()));
      this.forget(current); // once per new bucket, not per request
    }
    return value;
  }

  /** Drops the buckets no longer kept while `current` is in progress. */
  forget(current: number): void {
    for (const bucket of this.byBucket.keys()) if (!keepsBucket(bucket, current, this.windows)) this.byBucket.delete(bucket);
  }

  /** The values held for buckets in `range`. */
  within(range: BucketRange): T[] {
    const values: T[] = [];
    for (const [bucket, value] of this.byBucket) if (bucket >= range.start && bucket < range.end) values.push(value);
    return values;
  }

  get size(): number {
    return this.byBucket.size;
  }
}

/** The warm-up left out of the RSS slope: 20 % of the run, at most 10 minutes. */
export function warmupMs(durationMs: number): number {
  return Math.min(0.2 * durationMs, comparedMs);
}

/** Relative change from `first` to `last` (0.1 = 10 % slower at the end); NaN without both. */
export function drift(first: number | undefined, last: number | undefined): number {
  if (first === undefined || last === undefined || !Number.isFinite(first) || !Number.isFinite(last) || first <= 0) return Number.NaN;
  return (last - first) / first;
}

/**
 * The sum of every sample of the metric `name` in Prometheus text whose labels include all of
 * `labels` (e.g. `{ outcome: 'error' }`); undefined when no sample matched.
 */
export function sumMetric(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) continue;
      labelText = rest.slice(1, close);
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) valueText = rest;
    else continue; // a longer name with this one as its prefix
    if (!wanted.every((pair) => labelText.split(',').includes(pair))) continue;
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
