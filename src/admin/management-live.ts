// `GET /v0/management/live`: the dashboard's live view as server-sent events. On connect, one
// `history` event (the sampler's last hour, a point per 10 s); then a `snapshot` event every
// second while the client stays: rates over the last 10 s, latency percentiles over the last
// minute, totals since start, spend today, requests and streams in flight. One timer serves
// every watcher, and runs only while someone watches; the numbers are read from the metrics'
// running totals (observability/live-stats.ts), so requests pay nothing for it.
import type { Gateway, LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { windowBetween, type LiveSampler, type LiveTotals } from '../observability/live-stats.ts';
import { roundCost } from '../observability/access-log.ts';
import type { UsageRecorder } from '../state/usage-recorder.ts';
import { writeHead } from '../pipeline/respond.ts';
import { fail, MANAGEMENT_PATH } from './management.ts';

export const LIVE_PATH = `${MANAGEMENT_PATH}/live`;
/** Watchers at once; past this, 503 (each is an open connection and a write per second). */
export const LIVE_CLIENTS_MAX = 32;
const TICK_MS = 1000;
/** Readings kept by the ticker: a minute of them, for the latency window. */
const READINGS = 61;
const RATE_WINDOW = 10;
const DAY_MS = 86_400_000;
const SPEND_WAIT_MS = 2000;

/**
 * Today's spend (UTC day): what the usage store held when the day's reading was taken, plus what
 * the metrics counted since. Read once a day (and at start), not per snapshot.
 */
export class SpendToday {
  private readonly usage: UsageRecorder | undefined;
  private day = -1;
  private base = 0;
  private costAtBase = 0;
  /** False until the store has answered for this day (the store's part is missing meanwhile). */
  private complete = false;

  constructor(usage: UsageRecorder | undefined) {
    this.usage = usage;
  }

  value(now: number, metricsCost: number): { usd: number; complete: boolean } {
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) this.startDay(day, metricsCost);
    return { usd: roundCost(this.base + metricsCost - this.costAtBase), complete: this.complete };
  }

  private startDay(day: number, metricsCost: number): void {
    this.day = day;
    this.base = 0;
    this.costAtBase = metricsCost;
    const usage = this.usage;
    this.complete = usage === undefined;
    if (usage === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SPEND_WAIT_MS);
      timer.unref();
    });
    // what this process counted before the read is in the store once flushed, so the metrics' part starts there
    const at = metricsCost;
    void Promise.race([usage.flush(), waited]).finally(() => clearTimeout(timer))
      .then(() => usage.store.summarize({ groupBy: 'day', from: day * DAY_MS, to: Date.now() + 1 }))
      .then((rows) => {
        if (this.day !== day) return;
        this.base = rows.reduce((sum, row) => sum + (row.cost_usd ?? 0), 0);
        this.costAtBase = at;
        this.complete = true;
      }, () => {});
  }
}

export interface LiveOptions {
  /** The process's sampler (built after the routes, with the metrics it reads). */
  sampler: () => LiveSampler;
  read: (at: number) => LiveTotals;
  spend: SpendToday;
}

/** The shared ticker: readings once a second while anyone watches, one snapshot written to all. */
class LiveFeed {
  private readonly options: LiveOptions;
  private readonly clients = new Set<RequestContext>();
  private readonly readings: LiveTotals[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  gateway: Gateway | undefined = undefined;

  constructor(options: LiveOptions) {
    this.options = options;
  }

  get watchers(): number {
    return this.clients.size;
  }

  add(context: RequestContext): void {
    this.clients.add(context);
    context.response.once('close', () => this.remove(context));
    if (this.timer === undefined) {
      this.readings.length = 0;
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  private remove(context: RequestContext): void {
    this.clients.delete(context);
    if (this.clients.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.readings.length = 0;
    }
  }

  /** The current snapshot (also the first event a watcher gets). */
  snapshot(now: number): string {
    const reading = this.options.read(now);
    const readings = this.readings;
    readings.push(reading);
    if (readings.length > READINGS) readings.shift();
    // a feed that has just started measures from the sampler's last point
    const baseline = readings.length > 1 ? undefined : this.options.sampler().last;
    const rateFrom = baseline ?? readings[Math.max(0, readings.length - 1 - RATE_WINDOW)]!;
    const latencyFrom = baseline ?? readings[0]!;
    const rate = windowBetween(rateFrom, reading);
    const latency = windowBetween(latencyFrom, reading);
    const total = windowBetween(undefined, reading);
    const spend = this.options.spend.value(now, reading.costUsd);
    return JSON.stringify({
      time: now,
      window_s: rate.seconds,
      requests_per_second: rate.requests_per_second,
      errors: rate.errors,
      output_tokens_per_second: rate.output_tokens_per_second,
      latency_window_s: latency.seconds,
      latency_ms: latency.latency_ms,
      overhead_ms: latency.overhead_ms,
      ttft_ms: latency.ttft_ms,
      // the watchers' own connections are not traffic
      inflight: Math.max(0, reading.inflight - this.clients.size),
      streams: reading.streams,
      spend_today_usd: spend.usd,
      spend_today_complete: spend.complete,
      totals: { requests: total.requests, errors: total.errors, tokens: total.tokens, cost_usd: total.cost_usd },
    });
  }

  private tick(): void {
    if (this.clients.size === 0) return;
    // a draining gateway waits for its requests: a live view is not one worth waiting for
    if (this.gateway?.draining === true) {
      for (const client of this.clients) client.response.end();
      return;
    }
    const event = `event: snapshot\ndata: ${this.snapshot(Date.now())}\n\n`;
    for (const client of this.clients) client.response.write(event);
  }
}

export function managementLiveRoutes(options: LiveOptions): LocalRoute[] {
  const feed = new LiveFeed(options);
  const live: LocalHandler = (gateway, context) => {
    feed.gateway = gateway;
    if (feed.watchers >= LIVE_CLIENTS_MAX) {
      fail(context, new GatewayError(ErrorCode.overloaded, `Too many live views are open (${LIVE_CLIENTS_MAX}); close one and try again.`, { status: 503, origin: 'local', errorClass: 'none', retryAfterSeconds: 5 }));
      return;
    }
    const response = context.response;
    writeHead(response, 200, ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-store', 'x-request-id', context.id, 'x-accel-buffering', 'no']);
    response.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify({ interval_s: options.sampler().intervalMs / 1000, points: options.sampler().history() })}\n\n`);
    feed.add(context);
    response.write(`event: snapshot\ndata: ${feed.snapshot(Date.now())}\n\n`);
  };
  return [{ path: LIVE_PATH, entry: { method: 'GET', local: live } }];
}
