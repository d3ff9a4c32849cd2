// The pieces metrics are recorded with: plain counters and preallocated bucket arrays updated per
// request (or per stream chunk) with no allocation and no label hashing, a cap on the distinct
// values a label may take, and collectors that hand the totals to prom-client at scrape time —
// prom-client formats the text and aggregates worker processes; it never sees the hot path.
import type { Aggregator, Metric, Registry } from 'prom-client';

/** The label value for "no provider / no model" (the request never reached one). */
export const NONE = 'none';
/** The label value every value past a label's cap is folded into. */
export const OTHER = 'other';

/**
 * The distinct values one label may take. Model and route names are client-influenced through
 * patterns (`gpt-*` matches any `gpt-<anything>`), so past `limit` a new value becomes "other"
 * and the series count stays bounded whatever clients send.
 */
export class LabelCap {
  readonly limit: number;
  private readonly admitted = new Set<string>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** The label value to record `value` under: itself, "none" for empty, or "other" past the cap. */
  admit(value: string): string {
    if (value === '') return NONE;
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.limit) return OTHER;
    this.admitted.add(value);
    return value;
  }

  get size(): number {
    return this.admitted.size;
  }
}

/** A histogram's bucket layout: upper bounds in milliseconds, and their `le` labels in seconds. */
export class BucketLayout {
  readonly boundsMs: Float64Array;
  readonly le: readonly string[];

  constructor(boundsSeconds: readonly number[]) {
    this.boundsMs = Float64Array.from(boundsSeconds, (seconds) => seconds * 1000);
    this.le = [...boundsSeconds.map(String), '+Inf'];
  }
}

/** One histogram series: per-bucket counts (not cumulative; the last is +Inf), sum and count, in ms. */
export class Buckets {
  readonly layout: BucketLayout;
  readonly counts: Float64Array;
  sumMs = 0;
  count = 0;

  constructor(layout: BucketLayout) {
    this.layout = layout;
    this.counts = new Float64Array(layout.boundsMs.length + 1);
  }

  observe(ms: number): void {
    const bounds = this.layout.boundsMs;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
    this.count++;
  }

  /** Adds another series' counts (merging across label values at scrape time). */
  add(other: Buckets): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sumMs += other.sumMs;
    this.count += other.count;
  }
}

export type Labels = Record<string, string>;

export interface Sample {
  value: number;
  labels: Labels;
  /** Set for a histogram's `_bucket`, `_sum` and `_count` lines. */
  metricName?: string;
}

/** Appends one histogram series in prom-client's shape: cumulative buckets, then sum and count (seconds). */
export function pushHistogram(samples: Sample[], name: string, labels: Labels, buckets: Buckets): void {
  const le = buckets.layout.le;
  let cumulative = 0;
  for (let i = 0; i < le.length; i++) {
    cumulative += buckets.counts[i]!;
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: le[i]! }, value: cumulative });
  }
  samples.push({ metricName: `${name}_sum`, labels, value: buckets.sumMs / 1000 });
  samples.push({ metricName: `${name}_count`, labels, value: buckets.count });
}

export interface CollectedMetricOptions {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** How worker processes' values combine (default: summed). */
  aggregator?: Aggregator;
  collect(samples: Sample[]): void;
}

/**
 * A metric whose values are read from the recorders when scraped. It has the shape prom-client's
 * Registry formats and AggregatorRegistry combines (`get()` like a prom-client metric's).
 */
export class CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: Aggregator;
  private readonly collect: (samples: Sample[]) => void;

  constructor(options: CollectedMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.aggregator = options.aggregator ?? 'sum';
    this.collect = options.collect;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: Aggregator; values: Sample[] }> {
    const values: Sample[] = [];
    this.collect(values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  registerIn(registry: Registry): this {
    // prom-client's registry only calls name and get(); its typings list its own classes
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}
