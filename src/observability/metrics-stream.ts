// Streams written downstream, for metrics: how many are open and the gaps between their chunks.
// Updated once per chunk, so it is process-wide plain numbers and one preallocated bucket array,
// read by the metrics collectors at scrape time.
import { BucketLayout, Buckets } from './metrics-series.ts';

/** From a token every millisecond to a model thinking for half a minute between two events. */
export const CHUNK_GAP_LAYOUT = new BucketLayout([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);

export class StreamMeter {
  /** Streamed answers that have written their first chunk and not yet ended. */
  open = 0;
  readonly gaps = new Buckets(CHUNK_GAP_LAYOUT);

  opened(): void {
    this.open++;
  }

  closed(): void {
    this.open--;
  }

  gap(ms: number): void {
    this.gaps.observe(ms);
  }
}

/** The process's meter (every gateway in the process writes streams through the same exchanges). */
export const streamMeter = new StreamMeter();
