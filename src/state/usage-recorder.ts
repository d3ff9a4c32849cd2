// The only way rows reach a usage store: a bounded queue, written in batches (every second, or at
// once when a batch is full), one write at a time. A store that is slow or failing costs at most
// `maxQueued` rows of memory; past that, and for every batch it refuses, rows are dropped — counted
// in `droppedTotal` and reported in a warning at most once a minute. `record()` never waits.
import type { UsageRow, UsageStore } from './usage-store.ts';

/** Rows dropped by every recorder of this process (full queue, failed writes, shutdown timeout): for metrics. */
export let droppedTotal = 0;

export interface RecorderLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface RecorderOptions {
  flushIntervalMs?: number;
  batchSize?: number;
  maxQueued?: number;
  /** Least time between two warnings about dropped rows. */
  warnIntervalMs?: number;
  /** Rows older than this are deleted (checked at start and hourly); 0 = kept forever. */
  retentionMs?: number;
  /** How often retention runs. */
  pruneIntervalMs?: number;
}

export const DEFAULT_RECORDER: Required<RecorderOptions> = Object.freeze({
  flushIntervalMs: 1000,
  batchSize: 64,
  maxQueued: 10_000,
  warnIntervalMs: 60_000,
  retentionMs: 0,
  pruneIntervalMs: 3_600_000,
});

/** Rows deleted per statement; chunks run one after another with the event loop free between. */
const PRUNE_CHUNK = 2000;

export class UsageRecorder {
  readonly store: UsageStore;
  /** Rows this recorder dropped. */
  dropped = 0;
  /** Rows written to the store. */
  written = 0;
  private readonly log: RecorderLog;
  private readonly options: Required<RecorderOptions>;
  private queue: UsageRow[] = [];
  private writing: Promise<void> | undefined = undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lastWarning = 0;
  /** Drops not yet reported, and the latest reason. */
  private unreported = 0;
  private reason = '';

  constructor(store: UsageStore, log: RecorderLog, options: RecorderOptions = {}) {
    this.store = store;
    this.log = log;
    this.options = { ...DEFAULT_RECORDER, ...options };
    this.timer = setInterval(() => {
      if (this.queue.length > 0 && this.writing === undefined) void this.flush();
    }, this.options.flushIntervalMs);
    this.timer.unref();
    if (this.options.retentionMs > 0) {
      this.pruneTimer = setInterval(() => void this.prune(), this.options.pruneIntervalMs);
      this.pruneTimer.unref();
      setImmediate(() => void this.prune());
    }
  }

  /** Rows deleted by retention so far. */
  pruned = 0;
  private pruneTimer: NodeJS.Timeout | undefined = undefined;
  private pruning = false;

  /** Deletes rows older than the retention window, a chunk at a time. Never rejects. */
  async prune(): Promise<void> {
    if (this.pruning || this.closed || this.options.retentionMs <= 0) return;
    this.pruning = true;
    const before = Date.now() - this.options.retentionMs;
    try {
      for (;;) {
        const deleted = await this.store.prune(before, PRUNE_CHUNK);
        this.pruned += deleted;
        if (deleted < PRUNE_CHUNK || this.closed) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.log.warn({ store: this.store.kind, err: (error as Error).message }, 'usage retention could not delete old rows; will try again');
    } finally {
      this.pruning = false;
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  record(row: UsageRow): void {
    if (this.closed) {
      this.drop(1, 'the gateway is shutting down');
      return;
    }
    if (this.queue.length >= this.options.maxQueued) {
      this.drop(1, `the queue is full (${this.options.maxQueued} rows): the store is not keeping up`);
      return;
    }
    this.queue.push(row);
    if (this.queue.length >= this.options.batchSize && this.writing === undefined) void this.flush();
  }

  /** Writes what is queued; resolves when the queue has been emptied (written or dropped). Never rejects. */
  flush(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Stops taking rows, writes what is queued within `timeoutMs` (the rest is dropped), closes the store. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.pruneTimer !== undefined) clearInterval(this.pruneTimer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    const outcome = await Promise.race([this.flush(), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout' && this.queue.length > 0) {
      const left = this.queue.length;
      this.queue = [];
      this.drop(left, `the store did not take them within ${timeoutMs} ms of shutdown`);
    }
    this.warn(true);
    await Promise.race([this.store.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.options.batchSize ? this.queue : this.queue.slice(0, this.options.batchSize);
      this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
      try {
        await this.store.insert(batch);
        this.written += batch.length;
      } catch (error) {
        this.drop(batch.length, (error as Error).message);
      }
    }
  }

  private drop(count: number, reason: string): void {
    droppedTotal += count;
    this.dropped += count;
    this.unreported += count;
    this.reason = reason;
    this.warn(false);
  }

  private warn(force: boolean): void {
    if (this.unreported === 0) return;
    const now = Date.now();
    if (!force && now - this.lastWarning < this.options.warnIntervalMs) return;
    this.lastWarning = now;
    this.log.warn({ dropped: this.unreported, dropped_total: this.dropped, store: this.store.kind, location: this.store.location, reason: this.reason }, 'usage rows dropped: the usage store is failing or too slow');
    this.unreported = 0;
  }
}
