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

/** Where a bucket sits: in the first window, the last, both (never with ≥ 2 buckets), or neither. */
export function windowsOf(bucket: number, windows: SoakWindows): { first: boolean; last: boolean } {
  return { first: bucket < windows.windowBuckets, last: bucket >= windows.buckets - windows.windowBuckets && bucket < windows.buckets };
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
