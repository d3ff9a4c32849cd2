// Prometheus metrics for `GET /metrics`. Every finished request is recorded once, when its response
// closes (off the critical path), into plain counters and bucket arrays found through a few map
// lookups — no label objects, no hashing, no allocation once a series exists. Gauges (in flight,
// pools, health) are read at scrape time. prom-client formats the text, adds the process metrics
// (memory, CPU, event-loop lag, GC) and, with workers, aggregates every worker's registry.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ErrorCode } from '../canonical/errors.ts';
import type { Usage } from '../canonical/usage.ts';
import type { RequestContext, RequestObserver } from '../pipeline/context.ts';
import type { Gateway } from '../pipeline/gateway.ts';
import { gaugeCollectors } from './metrics-gauges.ts';
import { BucketLayout, Buckets, CollectedMetric, LabelCap, NONE, OTHER, pushHistogram, type Labels } from './metrics-series.ts';
import { streamMeter } from './metrics-stream.ts';
import { LiveTotals } from './live-stats.ts';

/** The Prometheus text format's content type (version 0.0.4), as prom-client writes it. */
export const METRICS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

/** Distinct values a label may take before new ones fold into "other". */
export const LABEL_LIMIT = 500;

const DURATION_LAYOUT = new BucketLayout([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);
/** The gateway's own time is measured in tens of microseconds; its tail in milliseconds. */
const OVERHEAD_LAYOUT = new BucketLayout([0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
const FIRST_TOKEN_LAYOUT = new BucketLayout([0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120]);

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const TOKEN_TYPES = ['input', 'output', 'cached', 'reasoning', 'cache_write'] as const;

/** Per surface × provider × model: answers by status class, tokens and cost. */
class ModelSeries {
  readonly model: string;
  readonly statuses = new Float64Array(STATUS_CLASSES.length);
  /** input, output, cached, reasoning, cache_write (TOKEN_TYPES order). */
  readonly tokens = new Float64Array(TOKEN_TYPES.length);
  hasUsage = false;
  costUsd = 0;
  hasCost = false;

  constructor(model: string) {
    this.model = model;
  }

  addUsage(usage: Usage): void {
    const tokens = this.tokens;
    tokens[0]! += usage.inputTokens;
    tokens[1]! += usage.outputTokens;
    tokens[2]! += usage.cachedInputTokens ?? 0;
    tokens[3]! += usage.reasoningTokens ?? 0;
    tokens[4]! += usage.cacheWriteInputTokens ?? 0;
    this.hasUsage = true;
  }
}

/** Per surface × provider: the latency histograms, and the models under it. */
class ProviderSeries {
  readonly provider: string;
  readonly labels: Labels;
  readonly models = new Map<string, ModelSeries>();
  readonly duration = new Buckets(DURATION_LAYOUT);
  readonly upstream = new Buckets(DURATION_LAYOUT);
  readonly overhead = new Buckets(OVERHEAD_LAYOUT);
  readonly firstToken = new Buckets(FIRST_TOKEN_LAYOUT);

  constructor(surface: string, provider: string) {
    this.provider = provider;
    this.labels = { surface, provider };
  }
}

class SurfaceSeries {
  readonly name: string;
  readonly providers = new Map<string, ProviderSeries>();

  constructor(name: string) {
    this.name = name;
  }
}

/** Per provider: attempts by outcome, and retries of the requests it answered. */
class AttemptTotals {
  ok = 0;
  error = 0;
  canceled = 0;
  retries = 0;
}

export interface GatewayMetricsOptions {
  /** Paths of the gateway's own endpoints (health, status, metrics): not counted as requests. */
  ownPaths?: Iterable<string>;
  /** Distinct values per label before "other" (default LABEL_LIMIT). */
  labelLimit?: number;
  /**
   * Path prefixes of the gateway's own endpoint families (the management API, the dashboard):
   * not counted as requests either, when no provider was involved.
   */
  ownPrefixes?: readonly string[];
  /** Usage rows dropped by the store's bounded queue so far (read at scrape time). */
  usageDropped?: () => number;
  /** Soft budget thresholds crossed, by `scope\0name` (read at scrape time). */
  budgetSoftExceeded?: () => ReadonlyMap<string, number>;
  /** `model: auto`: decisions, escalations and estimated savings of the auto aliases (read at scrape time). */
  autoRoute?: {
    readonly decisions: ReadonlyMap<string, number>; readonly escalations: ReadonlyMap<string, number>; readonly savingsUsd: ReadonlyMap<string, number>;
    readonly judgeOutcomes: ReadonlyMap<string, number>; readonly judgeMs: ReadonlyMap<string, number>;
  };
  /** Plugin hook failures by `plugin\0hook\0kind` (read at scrape time). */
  pluginErrors?: () => ReadonlyMap<string, number>;
  /** The shared state store's connection (`state.redis`), read at scrape time. */
  sharedState?: { readonly available: boolean; readonly outages: number };
  /** What the shared health store exchanged (state.redis). */
  sharedHealth?: { readonly published: number; readonly applied: number; readonly probesYielded: number };
}

let processRegistry: Registry | undefined;

/** Process metrics (memory, CPU, event-loop lag, GC): prom-client's default collectors, once per process. */
export function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    if (process.env.NO_DEFAULT_METRICS === undefined) collectDefaultMetrics({ register: processRegistry, prefix: 'switchyard_' });
  }
  return processRegistry;
}

export class GatewayMetrics implements RequestObserver {
  /** This gateway's metrics, on a registry of its own (never prom-client's global one). */
  readonly registry = new Registry();
  /** What `/metrics` serves: the process metrics and this gateway's. */
  readonly exposed: Registry;
  private gateway: Gateway | undefined = undefined;
  private readonly ownPaths: ReadonlySet<string>;
  private readonly ownPrefixes: readonly string[];
  private readonly surfaceCap: LabelCap;
  private readonly providerCap: LabelCap;
  private readonly modelCap: LabelCap;
  private readonly routeCap: LabelCap;
  private readonly surfaces = new Map<string, SurfaceSeries>();
  private readonly attempts = new Map<string, AttemptTotals>();
  private readonly fallbacks = new Map<string, number>();
  /** Requests on routes with a response cache: answered from it, not found in it, told to bypass it. */
  private cacheHits = 0;
  private cacheMisses = 0;
  private cacheBypasses = 0;

  constructor(options: GatewayMetricsOptions = {}) {
    const limit = options.labelLimit ?? LABEL_LIMIT;
    this.ownPaths = new Set(options.ownPaths ?? []);
    this.ownPrefixes = options.ownPrefixes ?? [];
    this.surfaceCap = new LabelCap(limit);
    this.providerCap = new LabelCap(limit);
    this.modelCap = new LabelCap(limit);
    this.routeCap = new LabelCap(limit);
    for (const metric of this.collectors()) metric.registerIn(this.registry);
    const dropped = options.usageDropped;
    if (dropped !== undefined) {
      new CollectedMetric({
        name: 'switchyard_usage_dropped_total', type: 'counter',
        help: 'Usage rows dropped because the store was down or too slow (the queue is bounded).',
        collect: (samples) => samples.push({ value: dropped(), labels: {} }),
      }).registerIn(this.registry);
    }
    const softBudgets = options.budgetSoftExceeded;
    if (softBudgets !== undefined) {
      new CollectedMetric({
        name: 'switchyard_budget_soft_exceeded_total', type: 'counter',
        help: 'Soft budget thresholds crossed (once per budget period), by scope (key or team) and the key\'s or team\'s name.',
        collect: (samples) => {
          for (const [label, value] of softBudgets()) {
            const separator = label.indexOf('\0');
            samples.push({ value, labels: { scope: label.slice(0, separator), name: label.slice(separator + 1) } });
          }
        },
      }).registerIn(this.registry);
    }
    const auto = options.autoRoute;
    if (auto !== undefined) {
      new CollectedMetric({
        name: 'switchyard_route_decisions_total', type: 'counter',
        help: 'Decisions of auto aliases (`strategy: auto`), by alias, tier (or the model a rule named) and why: rule, score, session (a session kept its higher tier), model (a rule named a model).',
        collect: (samples) => {
          for (const [label, value] of auto.decisions) {
            const [alias, tier, by] = label.split('\0');
            samples.push({ value, labels: { alias: alias!, tier: tier!, by: by! } });
          }
        },
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_route_escalations_total', type: 'counter',
        help: 'Requests of an auto alias answered by a higher tier than decided: the decided tier failed before the first byte.',
        collect: (samples) => {
          for (const [alias, value] of auto.escalations) samples.push({ value, labels: { alias } });
        },
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_route_judge_total', type: 'counter',
        help: 'Answers of auto aliases\' judges (`classifier:`), by alias and outcome: answered (named a tier), timeout, error, invalid (named no tier); all but answered leave the decision to the score.',
        collect: (samples) => {
          for (const [label, value] of auto.judgeOutcomes) {
            const [alias, outcome] = label.split('\0');
            samples.push({ value, labels: { alias: alias!, outcome: outcome! } });
          }
        },
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_route_judge_seconds_total', type: 'counter',
        help: 'Time auto aliases\' judges took, summed (divide by switchyard_route_judge_total for the mean).',
        collect: (samples) => {
          for (const [alias, value] of auto.judgeMs) samples.push({ value: value / 1000, labels: { alias } });
        },
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_route_estimated_savings_usd', type: 'gauge',
        help: 'USD saved so far by an auto alias against always its strongest tier: what the strongest tier\'s first target would have cost for the same usage, minus the cost recorded (negative when a cheaper tier cost more).',
        collect: (samples) => {
          for (const [alias, value] of auto.savingsUsd) samples.push({ value, labels: { alias } });
        },
      }).registerIn(this.registry);
    }
    const pluginErrors = options.pluginErrors;
    if (pluginErrors !== undefined) {
      new CollectedMetric({
        name: 'switchyard_plugin_errors_total', type: 'counter',
        help: 'Plugin hook failures, by plugin, hook and kind: throw (the hook threw), timeout (it ran past its time budget).',
        collect: (samples) => {
          for (const [label, value] of pluginErrors()) {
            const [plugin, hook, kind] = label.split('\0');
            samples.push({ value, labels: { plugin: plugin!, hook: hook!, kind: kind! } });
          }
        },
      }).registerIn(this.registry);
    }
    const shared = options.sharedState;
    if (shared !== undefined) {
      new CollectedMetric({
        name: 'switchyard_state_store_up', type: 'gauge',
        help: 'Whether the shared state store (state.redis) answers: 1, or 0 while limits, budgets, the cache, provider health and session pins are kept in this process.',
        collect: (samples) => samples.push({ value: shared.available ? 1 : 0, labels: {} }),
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_state_store_outages_total', type: 'counter',
        help: 'Times the shared state store (state.redis) could not be reached (a failed first connection counts as one).',
        collect: (samples) => samples.push({ value: shared.outages, labels: {} }),
      }).registerIn(this.registry);
    }
    const sharedHealth = options.sharedHealth;
    if (sharedHealth !== undefined) {
      new CollectedMetric({
        name: 'switchyard_health_shared_total', type: 'counter',
        help: 'Cooldowns and ejections (starts, extensions, ends) shared through state.redis: published by this instance, or applied here from another.',
        collect: (samples) => {
          samples.push({ value: sharedHealth.published, labels: { direction: 'published' } });
          samples.push({ value: sharedHealth.applied, labels: { direction: 'applied' } });
        },
      }).registerIn(this.registry);
      new CollectedMetric({
        name: 'switchyard_health_probes_yielded_total', type: 'counter',
        help: 'Half-open probes this instance did not send because another instance held the fleet-wide claim (state.redis).',
        collect: (samples) => samples.push({ value: sharedHealth.probesYielded, labels: {} }),
      }).registerIn(this.registry);
    }
    this.exposed = Registry.merge([processMetrics(), this.registry]);
  }

  /** The gateway whose in-flight requests, pools and health the gauges read. */
  attach(gateway: Gateway): void {
    this.gateway = gateway;
  }

  /** The Prometheus text of this process. */
  scrape(): Promise<string> {
    return this.exposed.metrics();
  }

  // ----- recording (once per request, when its response has closed) -----------------------------

  requestEnded(context: RequestContext, aborted: boolean): void {
    // the gateway's own endpoints never reach a provider: the path is looked at only then
    if (context.provider === '' && this.isOwnPath(context.path)) return;
    const series = this.seriesFor(context.surface?.name ?? NONE, context.provider);
    const model = this.modelFor(series, context.unlistedModel ? OTHER : context.upstreamModel);
    const status = context.finalStatus(aborted);
    const index = ((status / 100) | 0) - 1;
    model.statuses[index < 0 ? 0 : index > 4 ? 4 : index]!++;
    const elapsed = context.elapsedMs();
    const upstream = context.upstreamMs;
    const firstByte = context.firstByteMs;
    series.duration.observe(elapsed);
    if (upstream > 0) series.upstream.observe(upstream);
    // Server-Timing's "gateway": computed when the head went out, so to the first byte when there was one
    const head = firstByte > 0 ? firstByte : elapsed;
    series.overhead.observe(head > upstream ? head - upstream : 0);
    if (context.streamed && firstByte > 0) series.firstToken.observe(firstByte);
    if (context.usage !== undefined) model.addUsage(context.usage);
    if (context.costUsd !== undefined) {
      model.costUsd += context.costUsd;
      model.hasCost = true;
    }
    if (context.attempts > 0) this.countAttempts(context, aborted);
    if (context.route !== '') this.countFallback(context.route);
    const cache = context.cacheStatus;
    if (cache !== '') {
      if (cache === 'hit') this.cacheHits++;
      else if (cache === 'miss') this.cacheMisses++;
      else this.cacheBypasses++;
    }
  }

  private isOwnPath(path: string): boolean {
    if (this.ownPaths.has(path)) return true;
    const prefixes = this.ownPrefixes;
    for (let i = 0; i < prefixes.length; i++) if (path.startsWith(prefixes[i]!)) return true;
    return false;
  }

  // ----- the dashboard's live view (read once a second while someone watches, every 10 s by the sampler)

  /** Every series summed: requests by status class, latency histograms, tokens, cost, failed attempts. */
  liveTotals(at: number): LiveTotals {
    const totals = new LiveTotals(at, DURATION_LAYOUT, OVERHEAD_LAYOUT, FIRST_TOKEN_LAYOUT);
    for (const surface of this.surfaces.values()) {
      for (const [providerKey, series] of surface.providers) {
        if (providerKey === '') continue; // the alias of "none"
        totals.duration.add(series.duration);
        totals.overhead.add(series.overhead);
        totals.firstToken.add(series.firstToken);
        for (const [modelKey, model] of series.models) {
          if (modelKey === '') continue;
          for (let i = 0; i < STATUS_CLASSES.length; i++) totals.statuses[i]! += model.statuses[i]!;
          totals.inputTokens += model.tokens[0]!;
          totals.outputTokens += model.tokens[1]!;
          totals.costUsd += model.costUsd;
        }
      }
    }
    for (const attempts of this.attempts.values()) totals.failedAttempts += attempts.error;
    const gateway = this.gateway;
    totals.inflight = gateway === undefined ? 0 : gateway.inflight;
    totals.streams = streamMeter.open;
    return totals;
  }

  private seriesFor(surfaceName: string, provider: string): ProviderSeries {
    let surface = this.surfaces.get(surfaceName);
    if (surface === undefined) {
      const admitted = this.surfaceCap.admit(surfaceName);
      surface = this.surfaces.get(admitted);
      if (surface === undefined) this.surfaces.set(admitted, (surface = new SurfaceSeries(admitted)));
    }
    let series = surface.providers.get(provider);
    if (series === undefined) {
      const admitted = this.providerCap.admit(provider);
      series = surface.providers.get(admitted);
      if (series === undefined) surface.providers.set(admitted, (series = new ProviderSeries(surface.name, admitted)));
      // '' maps to "none" for good; a folded value is not kept (that is what keeps this bounded)
      if (provider === '') surface.providers.set('', series);
    }
    return series;
  }

  private modelFor(series: ProviderSeries, model: string): ModelSeries {
    let found = series.models.get(model);
    if (found === undefined) {
      const admitted = this.modelCap.admit(model);
      found = series.models.get(admitted);
      if (found === undefined) series.models.set(admitted, (found = new ModelSeries(admitted)));
      if (model === '') series.models.set('', found);
    }
    return found;
  }

  private totalsFor(provider: string): AttemptTotals {
    let totals = this.attempts.get(provider);
    if (totals === undefined) {
      const admitted = this.providerCap.admit(provider);
      totals = this.attempts.get(admitted);
      if (totals === undefined) this.attempts.set(admitted, (totals = new AttemptTotals()));
    }
    return totals;
  }

  /** Failed attempts count against the provider that failed; the last one against the one that answered. */
  private countAttempts(context: RequestContext, aborted: boolean): void {
    const failures = context.failures;
    let failed = 0;
    if (failures !== undefined) {
      failed = failures.length;
      // `provider/model:status`; provider names cannot contain '/'
      for (let i = 0; i < failed; i++) {
        const failure = failures[i]!;
        this.totalsFor(failure.slice(0, failure.indexOf('/'))).error++;
      }
    }
    const totals = this.totalsFor(context.provider);
    const rest = context.attempts - failed;
    if (rest > 0) {
      if (aborted) totals.canceled += rest;
      // the gateway's own failure (an internal error after the answer came) is not the attempt's
      else if (context.error !== undefined && context.error.code !== ErrorCode.internal) totals.error += rest;
      else totals.ok += rest;
    }
    if (context.attempts > 1) totals.retries += context.attempts - 1;
  }

  private countFallback(route: string): void {
    const count = this.fallbacks.get(route);
    if (count !== undefined) {
      this.fallbacks.set(route, count + 1);
      return;
    }
    const admitted = this.routeCap.admit(route);
    this.fallbacks.set(admitted, (this.fallbacks.get(admitted) ?? 0) + 1);
  }

  // ----- exposition (at scrape time) -------------------------------------------------------------

  private collectors(): CollectedMetric[] {
    return [
      new CollectedMetric({
        name: 'switchyard_requests_total', type: 'counter',
        help: 'Requests answered, by client surface, the provider and model that answered (or were last tried; "none" when none was), and status class.',
        collect: (samples) => this.forEachModel((series, model) => {
          for (let i = 0; i < STATUS_CLASSES.length; i++) {
            const value = model.statuses[i]!;
            if (value > 0) samples.push({ value, labels: { ...series.labels, model: model.model, status_class: STATUS_CLASSES[i]! } });
          }
        }),
      }),
      this.histogram('switchyard_request_duration_seconds', 'Time from the request\'s arrival to the end of its response (whole streams included).', (series) => series.duration),
      this.histogram('switchyard_upstream_duration_seconds', 'Time the answering attempt waited on the provider: to its response headers, or to its last byte when the answer was read whole (Server-Timing "upstream").', (series) => series.upstream),
      this.histogram('switchyard_gateway_overhead_seconds', 'Time Switchyard itself spent before the response head went out, upstream wait excluded (Server-Timing "gateway"; includes retry back-off and failed attempts).', (series) => series.overhead),
      this.histogram('switchyard_time_to_first_token_seconds', 'Streamed answers: time from the request\'s arrival to the first byte of the stream written to the client.', (series) => series.firstToken),
      new CollectedMetric({
        name: 'switchyard_stream_chunk_gap_seconds', type: 'histogram',
        help: 'Streamed answers: time between two consecutive chunks written to the client.',
        collect: (samples) => pushHistogram(samples, 'switchyard_stream_chunk_gap_seconds', {}, streamMeter.gaps),
      }),
      new CollectedMetric({
        name: 'switchyard_tokens_total', type: 'counter',
        help: 'Tokens the providers reported, by type: input (cached included), output (reasoning included), cached (input read from the prompt cache), reasoning, cache_write.',
        collect: (samples) => {
          for (const [labels, model] of this.byProviderModel((model) => model.hasUsage)) {
            for (let i = 0; i < TOKEN_TYPES.length; i++) samples.push({ value: model.tokens[i]!, labels: { ...labels, type: TOKEN_TYPES[i]! } });
          }
        },
      }),
      new CollectedMetric({
        name: 'switchyard_cost_usd_total', type: 'counter',
        help: 'What the answers cost at the price table\'s prices (US dollars); answers with no known price are not counted.',
        collect: (samples) => {
          for (const [labels, model] of this.byProviderModel((model) => model.hasCost)) samples.push({ value: model.costUsd, labels });
        },
      }),
      new CollectedMetric({
        name: 'switchyard_upstream_attempts_total', type: 'counter',
        help: 'Upstream attempts by outcome: ok (it answered), error (it failed; counted against the provider that failed), canceled (the client left during it).',
        collect: (samples) => {
          for (const [provider, totals] of this.attempts) {
            samples.push({ value: totals.ok, labels: { provider, outcome: 'ok' } }, { value: totals.error, labels: { provider, outcome: 'error' } });
            if (totals.canceled > 0) samples.push({ value: totals.canceled, labels: { provider, outcome: 'canceled' } });
          }
        },
      }),
      new CollectedMetric({
        name: 'switchyard_retries_total', type: 'counter',
        help: 'Attempts after the first (same target again, the next target or a fallback), by the provider that finally answered or was last tried.',
        collect: (samples) => {
          for (const [provider, totals] of this.attempts) samples.push({ value: totals.retries, labels: { provider } });
        },
      }),
      new CollectedMetric({
        name: 'switchyard_fallbacks_total', type: 'counter',
        help: 'Requests answered (or last tried) by a fallback or context-overflow route instead of the model asked for, by that route.',
        collect: (samples) => {
          for (const [route, value] of this.fallbacks) samples.push({ value, labels: { route } });
        },
      }),
      this.counter('switchyard_cache_hits_total', 'Requests answered from the exact-response cache (no provider asked).', () => this.cacheHits),
      this.counter('switchyard_cache_misses_total', 'Requests on a route or key with a response cache that were not found in it (asked of a provider; stored when complete).', () => this.cacheMisses),
      this.counter('switchyard_cache_bypasses_total', 'Requests on a route or key with a response cache that skipped it (`cache-control: no-cache`, `x-switchyard-cache: bypass`, several choices).', () => this.cacheBypasses),
      ...gaugeCollectors(() => this.gateway),
    ];
  }

  private counter(name: string, help: string, read: () => number): CollectedMetric {
    return new CollectedMetric({ name, help, type: 'counter', collect: (samples) => samples.push({ value: read(), labels: {} }) });
  }

  private histogram(name: string, help: string, pick: (series: ProviderSeries) => Buckets): CollectedMetric {
    return new CollectedMetric({
      name, help, type: 'histogram',
      collect: (samples) => {
        for (const surface of this.surfaces.values()) {
          for (const [key, series] of surface.providers) {
            const buckets = pick(series);
            if (key !== '' && buckets.count > 0) pushHistogram(samples, name, series.labels, buckets);
          }
        }
      },
    });
  }

  /** Every (surface × provider, model) series once (the '' aliases of "none" skipped). */
  private forEachModel(visit: (series: ProviderSeries, model: ModelSeries) => void): void {
    for (const surface of this.surfaces.values()) {
      for (const [providerKey, series] of surface.providers) {
        if (providerKey === '') continue;
        for (const [modelKey, model] of series.models) if (modelKey !== '') visit(series, model);
      }
    }
  }

  /** Model series summed over surfaces, by provider and model. */
  private byProviderModel(include: (model: ModelSeries) => boolean): [Labels, ModelSeries][] {
    const merged = new Map<string, [Labels, ModelSeries]>();
    this.forEachModel((series, model) => {
      if (!include(model)) return;
      const key = `${series.provider}\u0000${model.model}`;
      let entry = merged.get(key);
      if (entry === undefined) merged.set(key, (entry = [{ provider: series.provider, model: model.model }, new ModelSeries(model.model)]));
      const sum = entry[1];
      for (let i = 0; i < sum.tokens.length; i++) sum.tokens[i]! += model.tokens[i]!;
      sum.costUsd += model.costUsd;
    });
    return [...merged.values()];
  }
}
