// Small statistics helpers shared by the harness and the load client.

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const emptyDistribution: Distribution = Object.freeze({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });

/** Nearest-rank percentiles of `samples` (any unit); sorts a copy. */
export function distribution(samples: ArrayLike<number>): Distribution {
  const count = samples.length;
  if (count === 0) return emptyDistribution;
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  const rank = (p: number) => sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))]!;
  return { count, mean: sum / count, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[count - 1]! };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) {
    sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  const denominator = n * sxx - sx * sx;
  return denominator === 0 ? Number.NaN : (n * sxy - sx * sy) / denominator;
}
