// Built-in plugin `webhook` (issue #18): POSTs a JSON summary of each completed request to a URL.
// onComplete only puts the summary in a bounded queue and returns; a few deliveries at a time
// send it on their own undici Agent, retrying 5xx, 408, 429 and network errors with exponential
// back-off. A full queue drops its oldest summary (counted; logged once per burst). Header values
// (tokens) and the URL's path and query (often a secret themselves, as in Slack's webhook URLs)
// never reach a log: logs name the URL's origin only.
import { Type, type Static } from '@sinclair/typebox';
import type { CompletionSummary, PluginContext, PluginDefinition, PluginHost, PluginInstance } from '../api.ts';
import { Agent } from '../../util/undici.ts';

const DEFAULTS = { maxQueue: 1000, concurrency: 2, maxRetries: 3, timeoutMs: 5000, backoffMs: 500, flushTimeoutMs: 2000 } as const;
/** The longest wait between two tries of one delivery. */
const MAX_BACKOFF_MS = 30_000;

export const WebhookConfigSchema = Type.Object({
  url: Type.String({ pattern: '^https?://', description: 'Where to POST each summary (`http://` or `https://`). Logs show its origin only.' }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Headers sent with each POST (e.g. `authorization: Bearer ${HOOK_TOKEN}`); values are never logged.' })),
  fields: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Static fields added to every summary (e.g. `environment: prod`); a summary field of the same name wins.' })),
  max_queue: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: DEFAULTS.maxQueue, description: 'Most summaries waiting to be sent; when full, the oldest is dropped (counted, and logged once per burst).' })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: DEFAULTS.concurrency, description: 'Deliveries in flight at once (back-off waits included).' })),
  max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: DEFAULTS.maxRetries, description: 'Tries after the first when the URL answers 5xx, 408 or 429, or cannot be reached; other answers are final.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULTS.timeoutMs, description: 'How long one try may take, connection to answer.' })),
  backoff_ms: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULTS.backoffMs, description: 'Wait before the first retry; doubled for each further one (with jitter), at most 30 s.' })),
  flush_timeout_ms: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULTS.flushTimeoutMs, description: 'On reload or shutdown, how long queued summaries may take to be sent before the rest is dropped.' })),
}, { additionalProperties: false, description: 'POSTs a JSON summary of each completed request to a URL, off the response path.' });

export type WebhookConfig = Static<typeof WebhookConfigSchema>;

export interface WebhookStats {
  queued: number;
  inFlight: number;
  delivered: number;
  /** Given up after the last try, or answered with a final error status. */
  failed: number;
  /** Dropped from a full queue, or left unsent when the instance was disposed. */
  dropped: number;
}

/** A fixed-size ring of JSON bodies; pushing onto a full one drops the oldest. */
class BoundedQueue {
  private readonly items: (string | undefined)[];
  private head = 0;
  readonly capacity: number;
  size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.items = new Array<string | undefined>(capacity);
  }

  /** Adds `item`; returns true when the oldest had to be dropped for it. */
  push(item: string): boolean {
    const full = this.size === this.capacity;
    if (full) this.shift();
    this.items[(this.head + this.size) % this.capacity] = item;
    this.size++;
    return full;
  }

  shift(): string | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return item;
  }

  clear(): number {
    const dropped = this.size;
    while (this.size > 0) this.shift();
    return dropped;
  }
}

export class WebhookSender implements PluginInstance<WebhookConfig> {
  private readonly origin: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly fields: Record<string, unknown>;
  private readonly queue: BoundedQueue;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly flushTimeoutMs: number;
  private readonly agent: Agent;
  private readonly host: PluginHost;
  /** Aborts every try and back-off wait when the flush deadline passes. */
  private readonly stopping = new AbortController();
  private active = 0;
  private closed = false;
  private delivered = 0;
  private failed = 0;
  private dropped = 0;
  private droppedInBurst = 0;
  private failingSince = 0;
  private idle: (() => void) | undefined;

  constructor(config: WebhookConfig, host: PluginHost) {
    const url = new URL(config.url);
    this.origin = url.origin;
    this.path = `${url.pathname}${url.search}`;
    this.headers = { 'content-type': 'application/json', ...config.headers };
    this.fields = config.fields ?? {};
    this.queue = new BoundedQueue(config.max_queue ?? DEFAULTS.maxQueue);
    this.concurrency = config.concurrency ?? DEFAULTS.concurrency;
    this.maxRetries = config.max_retries ?? DEFAULTS.maxRetries;
    this.timeoutMs = config.timeout_ms ?? DEFAULTS.timeoutMs;
    this.backoffMs = config.backoff_ms ?? DEFAULTS.backoffMs;
    this.flushTimeoutMs = config.flush_timeout_ms ?? DEFAULTS.flushTimeoutMs;
    this.agent = new Agent({ connections: this.concurrency, keepAliveTimeout: 10_000 });
    this.host = host;
  }

  get stats(): WebhookStats {
    return { queued: this.queue.size, inFlight: this.active, delivered: this.delivered, failed: this.failed, dropped: this.dropped };
  }

  /** Queues the summary and returns at once: the response never waits for a delivery. */
  readonly onComplete = (_ctx: PluginContext<WebhookConfig>, summary: CompletionSummary): void => {
    if (this.closed) return;
    if (this.queue.push(JSON.stringify({ ...this.fields, ...summary }))) {
      this.dropped++;
      if (this.droppedInBurst++ === 0) this.host.log(`webhook: queue full (${this.queue.capacity} summaries waiting for ${this.origin}); dropping the oldest until it drains`);
    }
    this.pump();
  };

  /** Sends what it can until `flush_timeout_ms`, then stops every delivery and drops the rest. */
  async dispose(): Promise<void> {
    this.closed = true;
    if (this.queue.size > 0 || this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.idle = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, this.flushTimeoutMs); }),
      ]);
      clearTimeout(timer);
    }
    const lost = this.queue.clear() + this.active;
    this.stopping.abort();
    if (lost > 0) {
      this.dropped += lost;
      this.host.log(`webhook: stopped with ${lost} summaries unsent to ${this.origin}`);
    }
    await this.agent.destroy();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.size > 0) {
      this.active++;
      void this.deliver(this.queue.shift()!).finally(() => this.settled());
    }
    if (this.queue.size === 0 && this.droppedInBurst > 0) {
      this.host.log(`webhook: queue drained; ${this.droppedInBurst} summaries were dropped while it was full`);
      this.droppedInBurst = 0;
    }
  }

  private settled(): void {
    this.active--;
    if (this.stopping.signal.aborted) return;
    this.pump();
    if (this.active === 0 && this.queue.size === 0) this.idle?.();
  }

  private async deliver(body: string): Promise<void> {
    let outcome = '';
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (attempt > 0 && !(await this.backOff(attempt))) return;
      try {
        const response = await this.agent.request({
          origin: this.origin, path: this.path, method: 'POST', headers: this.headers, body,
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        await response.body.dump();
        if (response.statusCode < 300) {
          this.delivered++;
          if (this.failingSince > 0) this.host.log(`webhook: deliveries to ${this.origin} recovered after ${this.failingSince} failed`);
          this.failingSince = 0;
          return;
        }
        outcome = `status ${response.statusCode}`;
        if (response.statusCode < 500 && response.statusCode !== 408 && response.statusCode !== 429) break;
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        outcome = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : `${(error as NodeJS.ErrnoException).code ?? (error as Error).name}`;
      }
    }
    this.failed++;
    if (this.failingSince++ === 0) this.host.log(`webhook: a summary could not be delivered to ${this.origin} (${outcome}); further failures are not logged until one succeeds`);
  }

  /** Waits before retry `attempt`; false when the instance stopped meanwhile. */
  private backOff(attempt: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    const base = Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
    const wait = base / 2 + Math.random() * base / 2;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve(!signal.aborted);
      };
      const timer = setTimeout(done, wait);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export const webhook: PluginDefinition<WebhookConfig> = {
  name: 'webhook',
  configSchema: WebhookConfigSchema,
  setup(config, host) {
    return new WebhookSender(config, host);
  },
};
