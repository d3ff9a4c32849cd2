// The agent-fleet soak's report section and budget rows, built from a soak client result — the
// final one, or a checkpoint when the soak is still running or was cut short — and what the
// harness read beside it. One function for both, so an interrupted run's file is the same report
// over fewer minutes, marked as such at the top and in every budget row.
import type { Percentiles, SoakClientResult, WindowFigures } from '../clients/soak-client.ts';
import { allowedOutcomes, outcomes } from '../clients/soak-outcome.ts';
import { num, signed, table, type BudgetRow } from '../lib/report.ts';
import { drift, sumMetric, warmupMs, type BucketRange } from '../lib/soak-windows.ts';
import { slope } from '../lib/stats.ts';

export const rssSlopeLimit = 0.2;
/** prom-client reads monitorEventLoopDelay at this resolution (ms); every sample includes it. */
export const lagResolutionMs = 10;

/** What the soak sends, to what, for how long: fixed for a run. */
export interface SoakShape {
  agents: number;
  bodyBytes: number;
  model: string;
  /** The mock as a model provider: `latencyMs` to the answer (or the first delta), then `deltas` deltas `intervalMs` apart. */
  mock: { latencyMs: number; deltas: number; intervalMs: number };
  failPerMille: number;
  durationMs: number;
  rampMs: number;
  hangMs: number;
  lagScrapeMs: number;
}

export interface MockStats {
  requests: number;
  failingRouteRequests: number;
  injected503: number;
  injectedResets: number;
}

/** Event-loop delay, one reading per scrape window, ms. */
export interface LagReadings {
  readonly p99Ms: readonly number[];
  readonly maxMs: readonly number[];
  readonly missed: number;
}

export interface SoakReading {
  shape: SoakShape;
  systemLabel: string;
  result: SoakClientResult;
  /** The gateway's RSS during the soak: [seconds since the soak started, MB], up to the result's time. */
  rss: readonly (readonly [number, number])[];
  lag: LagReadings;
  mockBefore: MockStats | undefined;
  mockNow: MockStats | undefined;
  /** The gateway's latest /metrics text. */
  metrics: string | undefined;
  loadBefore: readonly number[];
  loadNow: readonly number[];
  /** Share of the machine's CPU used outside the benchmark during the soak (0–1). */
  outsideLoad: number;
  /** Set when `result` is not the final one (see `interruptionMarker`). */
  interruption: string | undefined;
}

const utcTime = (epochMs: number) => new Date(epochMs).toISOString().slice(11, 16);

/**
 * How much of the soak a checkpoint covers, for the top of the report and every budget row:
 * "interrupted/in progress: 47.0 of 180.0 min measured, last checkpoint at 17:02 UTC".
 */
export function interruptionMarker(result: SoakClientResult, durationMs: number, cause?: string): string {
  return `${cause === undefined ? 'interrupted/in progress' : `interrupted (${cause})`}: ` +
    `${num(Math.min(result.elapsedMs, durationMs) / 60_000, 1)} of ${num(durationMs / 60_000, 1)} min measured, last checkpoint at ${utcTime(result.writtenAt)} UTC`;
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
const rank = (values: readonly number[], p: number) => {
  const list = sorted(values);
  return list.length === 0 ? Number.NaN : list[Math.min(list.length - 1, Math.max(0, Math.ceil((p / 100) * list.length) - 1))]!;
};
const ms = (us: number | undefined) => us === undefined || us === 0 ? Number.NaN : us / 1000;

export function soakReport(reading: SoakReading): { markdown: string; checks: BudgetRow[] } {
  const { shape, result, lag, interruption } = reading;
  const { durationMs } = shape;
  const minutes = durationMs / 60_000;
  const elapsedMinutes = result.elapsedMs / 60_000;
  const measuredMs = Math.min(result.elapsedMs, durationMs);
  const trial = durationMs < 3 * 3_600_000;

  // RSS: least-squares slope after the warm-up.
  const points = reading.rss.filter(([time]) => time >= warmupMs(durationMs) / 1000 && time <= result.elapsedMs / 1000);
  const perMinute = slope(points) * 60;
  const rssAt = (index: number) => points.at(index)?.[1];
  const peak = reading.rss.reduce<number | undefined>((highest, [time, mb]) => time <= result.elapsedMs / 1000 ? Math.max(highest ?? 0, mb) : highest, undefined);

  // Outcomes.
  const errors = outcomes.filter((outcome) => !allowedOutcomes.has(outcome)).reduce((sum, outcome) => sum + result.outcomes[outcome], 0);
  const outcomeRows = outcomes.map((outcome) => [
    `\`${outcome}\``, allowedOutcomes.has(outcome) ? 'allowed' : '**error**', num(result.outcomes[outcome]),
    (result.samples[outcome] ?? []).map((sample) => sample.replaceAll('|', '\\|').replaceAll('\n', ' ')).join('<br>'),
  ]);

  // Injected failures beside what the gateway did about them.
  const { mockBefore, mockNow, metrics } = reading;
  const delta = (pick: (stats: MockStats) => number) => mockBefore === undefined || mockNow === undefined ? undefined : pick(mockNow) - pick(mockBefore);
  // A counter with no sample yet is 0 (prom-client leaves out label sets never counted); without a scrape it is unknown.
  const metric = (name: string, labels: Record<string, string> = {}) => metrics === undefined ? undefined : sumMetric(metrics, name, labels) ?? 0;
  const passedOn = result.outcomes['upstream-failure-passed-on'];
  const injectedRows = [
    ['requests reaching the mock (all attempts)', num(delta((stats) => stats.requests))],
    ['of them to the failing primary', num(delta((stats) => stats.failingRouteRequests))],
    ['failures injected: 503', num(delta((stats) => stats.injected503))],
    ['failures injected: reset before the first byte', num(delta((stats) => stats.injectedResets))],
    ['gateway: failed attempts, primary (`switchyard_upstream_attempts_total{outcome="error"}`)', num(metric('switchyard_upstream_attempts_total', { provider: 'mock-soak-primary', outcome: 'error' }))],
    ['gateway: failed attempts, fallback', num(metric('switchyard_upstream_attempts_total', { provider: 'mock-soak-fallback', outcome: 'error' }))],
    ['gateway: retries (`switchyard_retries_total`, every attempt after the first)', num(metric('switchyard_retries_total'))],
    ['gateway: answered by the fallback (`switchyard_fallbacks_total`: after the primary failed, or while it was ejected)', num(metric('switchyard_fallbacks_total'))],
    ...['consecutive-failures', 'success-rate', 'probe'].map((reason) => [
      `gateway: ejections of the primary, \`${reason}\` (\`switchyard_ejections_total\`; 10 s each, doubled after a failed probe)`,
      num(metric('switchyard_ejections_total', { provider: 'mock-soak-primary', reason })),
    ]),
    ['client: upstream failures passed on (allowed)', `${num(passedOn)}${Object.keys(result.passedOnCodes).length > 0 ? ` (${Object.entries(result.passedOnCodes).map(([code, count]) => `${code} ${count}`).join(', ')})` : ''}`],
  ];

  // Latency: first and last windows.
  const span = (window: BucketRange) => window.end <= window.start ? 'none yet'
    : `min ${num((window.start * result.bucketMs) / 60_000, 1)}–${num(Math.min(durationMs, window.end * result.bucketMs) / 60_000, 1)}`;
  const windowMinutes = (result.windowBuckets * result.bucketMs) / 60_000;
  const spans = `${span(result.firstWindow)} → ${span(result.lastWindow)}`;
  // A window with no answer yet (a checkpoint's last window before it has complete buckets) has no percentile to drift to.
  const windowDrift = (first: Percentiles, last: Percentiles, key: 'p50' | 'p99') => first.count === 0 || last.count === 0 ? Number.NaN : drift(first[key], last[key]);
  const latencyRow = (label: string, pick: (figures: WindowFigures) => Percentiles) => {
    const first = pick(result.first);
    const last = pick(result.last);
    return [label, num(first.count), num(ms(first.p50), 1), num(ms(first.p99), 1), num(last.count), num(ms(last.p50), 1), num(ms(last.p99), 1),
      `${signed(windowDrift(first, last, 'p50') * 100, 1)} %`, `${signed(windowDrift(first, last, 'p99') * 100, 1)} %`];
  };
  const latencyRows = [
    latencyRow('non-streamed: whole answer', (figures) => figures.latencyUs),
    latencyRow('streamed: time to first byte', (figures) => figures.ttftUs),
    latencyRow('streamed: whole stream', (figures) => figures.streamUs),
  ];
  const p99Drift = windowDrift(result.first.latencyUs, result.last.latencyUs, 'p99');
  const ttftDrift = windowDrift(result.first.ttftUs, result.last.ttftUs, 'p99');

  // Event-loop lag: one p99 per scrape window.
  const lagAbove = (value: number) => Math.max(0, value - lagResolutionMs);
  const lagMedian = rank(lag.p99Ms, 50);
  const lagWorst = rank(lag.p99Ms, 100);
  const maxWorst = rank(lag.maxMs, 100);

  // Requests per bucket, up to the result's time (a checkpoint's newest bucket is still filling).
  const perBucketRows: string[][] = [];
  for (let bucket = 0; bucket < result.requestsPerBucket.length && bucket * result.bucketMs < measuredMs; bucket++) {
    const end = Math.min(durationMs, (bucket + 1) * result.bucketMs, result.elapsedMs);
    const requests = result.requestsPerBucket[bucket]!;
    const filling = !result.final && (bucket + 1) * result.bucketMs > result.elapsedMs;
    perBucketRows.push([`${num((bucket * result.bucketMs) / 60_000, 1)}–${num(end / 60_000, 1)}${filling ? ' (in progress)' : ''}`, num(requests),
      num((requests * 60_000) / (end - bucket * result.bucketMs)), num(result.errorsPerBucket[bucket])]);
  }

  const markdown = `## Agent-fleet soak${trial ? ` — trial run (${num(minutes, 1)} min, not the 3-hour soak)` : ''}\n\n` +
    (interruption === undefined ? '' : `> **⏸ ${interruption}.** Every figure below covers only the minutes measured up to that checkpoint.\n\n`) +
    `${shape.agents} simulated agents (bench/clients/soak-client.ts, a process of its own), each one keep-alive connection looping ` +
    `${num(shape.bodyBytes / 1024)} KB OpenAI chat requests (bench/bodies/agent-bodies.ts: opencode's shape, 24 tools, a long tool history; ` +
    `the same conversation every time, non-streamed and streamed in turn, so half the requests are streamed), ` +
    `for ${num(minutes, 1)} min (starts spread over ${num(shape.rampMs / 1000, 1)} s), against ${reading.systemLabel} with its default features on. ` +
    `The model \`${shape.model}\` routes to \`mock-soak-primary\` (retry: 2 attempts, 100 ms back-off) with \`mock-soak-fallback\` behind it. ` +
    `The mock answers like a model: ${shape.mock.latencyMs} ms to the answer or to the first of ${shape.mock.deltas} deltas ${shape.mock.intervalMs} ms apart; ` +
    `it fails ${shape.failPerMille / 10} % of the primary's requests at random (half a 503 with an OpenAI error body, half a TCP reset before the first byte); ` +
    `the fallback does not fail.\n\n` +
    `Load average (1, 5, 15 min): ${reading.loadBefore.map((value) => value.toFixed(2)).join(', ')} at the start, ` +
    `${reading.loadNow.map((value) => value.toFixed(2)).join(', ')} ${interruption === undefined ? 'at the end' : 'when this report was written'} ` +
    `(2 cores; other work shares them). CPU used outside the benchmark's processes: ${num(reading.outsideLoad * 100)} % of the machine.\n\n` +
    `### Requests and outcomes\n\n` +
    `${num(result.requests)} requests (${num(result.streamed)} streamed) in ${num(elapsedMinutes, 1)} min: ` +
    `**${num(result.requests / elapsedMinutes)} per minute** (${num(result.requests / (result.elapsedMs / 1000), 1)}/s). ` +
    `An allowed failure is an upstream failure the gateway could not recover (retry and fallback failed too) passed on as a 5xx naming it ` +
    `(\`x-switchyard-error-code\` SWY_ERR_UPSTREAM_*) in OpenAI's error shape, or as an OpenAI stream error event naming it; anything else is an error ` +
    `(a hang is no whole answer in ${shape.hangMs / 1000} s).\n\n` +
    table(['outcome', 'counts as', 'requests', 'examples'], outcomeRows) +
    `\n\n### Injected failures and what the gateway did\n\n` +
    (interruption === undefined ? '' : 'The mock\'s and the gateway\'s counters were read when this report was written, up to a few seconds after the checkpoint.\n\n') +
    table(['', 'count'], injectedRows) +
    `\n\n### Memory\n\nRSS of ${reading.systemLabel} sampled every 0.5 s; slope = least-squares fit after the first ${num(warmupMs(durationMs) / 60_000, 1)} min (warm-up).\n\n` +
    table(['RSS after warm-up MB', `RSS at ${interruption === undefined ? 'end' : 'the checkpoint'} MB`, 'peak MB', 'slope MB/min', 'limit'],
      [[num(rssAt(0)), num(rssAt(-1)), num(peak), num(perMinute, 3), `< ${rssSlopeLimit}`]]) +
    `\n\n### Latency: first against last ${num(windowMinutes, 1)} min\n\n` +
    `Compared: ${spans}${interruption === undefined ? '' : ' (complete buckets at the checkpoint; the last window never overlaps the first)'}. ` +
    `Milliseconds, by the time a request was sent; requests that ended in a failure are left out. HDR histograms (node:perf_hooks, 3 significant figures).\n\n` +
    table(['', 'first: n', 'p50', 'p99', 'last: n', 'p50', 'p99', 'p50 drift', 'p99 drift'], latencyRows) +
    `\n\nWhole run${interruption === undefined ? '' : ' so far'}: non-streamed p50 ${num(ms(result.whole.latencyUs.p50), 1)} ms, p99 ${num(ms(result.whole.latencyUs.p99), 1)} ms, max ${num(ms(result.whole.latencyUs.max), 1)} ms; ` +
    `streamed TTFT p50 ${num(ms(result.whole.ttftUs.p50), 1)} ms, p99 ${num(ms(result.whole.ttftUs.p99), 1)} ms.\n\n` +
    `### Event-loop lag of the gateway\n\n` +
    `prom-client's default \`nodejs_eventloop_lag_*\` gauges on the gateway's /metrics (monitorEventLoopDelay at ${lagResolutionMs} ms resolution, ` +
    `reset at every scrape), scraped every ${shape.lagScrapeMs / 1000} s: ${num(lag.p99Ms.length)} windows${lag.missed > 0 ? `, ${lag.missed} scrapes failed` : ''}. ` +
    `Every sample includes the ${lagResolutionMs} ms timer interval itself; "lag" below is the value minus it.\n\n` +
    table(['', 'as read ms', 'lag ms'], [
      ['p99, median window', num(lagMedian, 2), num(lagAbove(lagMedian), 2)],
      ['p99, 90th-percentile window', num(rank(lag.p99Ms, 90), 2), num(lagAbove(rank(lag.p99Ms, 90)), 2)],
      ['p99, worst window', num(lagWorst, 2), num(lagAbove(lagWorst), 2)],
      ['max, worst window', num(maxWorst, 2), num(lagAbove(maxWorst), 2)],
    ]) +
    `\n\n### Requests per ${result.bucketMs >= 60_000 ? 'minute' : 'bucket'}\n\n` +
    table(['minutes', 'requests', 'per minute', 'errors'], perBucketRows);

  const partial = interruption !== undefined;
  const marked = (text: string) => partial ? `${text} — **${interruption}**` : text;
  const label = `over ${num(measuredMs / 60_000, 1)} min${trial ? ' (trial)' : ''}`;
  const checks: BudgetRow[] = [
    { line: 'Agent soak: errors other than upstream failures passed on correctly', target: '0', measured: marked(`${num(errors)} of ${num(result.requests)} ${label}`), pass: errors === 0 },
    { line: 'Agent soak: RSS slope after warm-up (Switchyard ×1)', target: `< ${rssSlopeLimit} MB/min`, measured: marked(`${num(perMinute, 3)} MB/min ${label}`),
      pass: Number.isFinite(perMinute) ? perMinute < rssSlopeLimit : undefined },
    { line: `Agent soak: p99 drift, first → last ${num(windowMinutes, 1)} min`, target: 'reported (no limit set)',
      measured: marked(`non-streamed ${signed(p99Drift * 100, 1)} %, TTFT ${signed(ttftDrift * 100, 1)} % (${spans})`), pass: undefined },
    { line: 'Agent soak: event-loop lag p99 (Switchyard ×1)', target: 'reported (no limit set)',
      measured: marked(`${num(lagAbove(lagMedian), 2)} ms median window, ${num(lagAbove(lagWorst), 2)} ms worst (above the ${lagResolutionMs} ms timer)`), pass: undefined },
  ].map((row) => partial ? { ...row, partial } : row);
  return { markdown, checks };
}
