// The agent-fleet soak (`npm run bench -- --soak 3h --profile agents`), after switchAILocal's
// published "3 hours of sustained parallel agent load": 64 simulated coding agents
// (bench/clients/soak-client.ts, its own process) each loop 256 KB OpenAI chat requests with 24
// tools and a long tool history (bench/bodies/agent-bodies.ts), alternating non-streamed and
// streamed, through Switchyard ×1 with its default features on. The model they ask for routes to
// a primary provider on the mock that fails 2 % of requests (half 503, half a reset before the
// first byte), with a retry on the same target and a fallback provider behind it. Reported:
// requests, outcomes by class (only answers and upstream failures passed on in the caller's format
// are allowed), the RSS slope after warm-up, p50/p99 of the first and last 10 minutes and their
// drift, the gateway's event-loop lag (prom-client's monitorEventLoopDelay, read from /metrics),
// and what the mock injected beside the gateway's retry and fallback counters.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { agentBody, bodySizes } from '../bodies/agent-bodies.ts';
import type { SoakClientResult, SoakClientSpec, WindowFigures } from '../clients/soak-client.ts';
import { allowedOutcomes, outcomes } from '../clients/soak-outcome.ts';
import { find, type Bench } from '../lib/context.ts';
import { NoiseMeter } from '../lib/noise.ts';
import { runToEnd } from '../lib/processes.ts';
import { num, signed, table } from '../lib/report.ts';
import { drift, soakWindows, sumMetric, warmupMs } from '../lib/soak-windows.ts';
import { slope } from '../lib/stats.ts';
import { clientKey, type ExtraProvider, type SwitchyardExtras } from '../lib/systems.ts';

const agents = 64;
const bodyBytes = bodySizes['256 KB'];
const model = 'soak-agent';
/** The mock as a model provider: 200 ms to the answer (or the first delta), then 64 deltas 10 ms apart. */
const mockShape = { latencyMs: 200, deltas: 64, intervalMs: 10 };
const failPerMille = 20;
const lagScrapeMs = 15_000;
const hangMs = 120_000;
const rssSlopeLimit = 0.2;
/** prom-client reads monitorEventLoopDelay at this resolution (ms); every sample includes it. */
const lagResolutionMs = 10;

function mockUrl(mockPort: number, failing: boolean): string {
  return `http://127.0.0.1:${mockPort}/p/${mockShape.latencyMs}/${mockShape.deltas}/${mockShape.intervalMs}${failing ? `/fail/${failPerMille}` : ''}/v1`;
}

/** The providers and the route the soak's model takes: primary with a retry, then the fallback. */
export function agentSoakConfig(mockPort: number): SwitchyardExtras {
  const providers: ExtraProvider[] = [
    { name: 'mock-soak-primary', type: 'openai', baseUrl: mockUrl(mockPort, true), models: ['soak-primary'] },
    { name: 'mock-soak-fallback', type: 'openai', baseUrl: mockUrl(mockPort, false), models: ['soak-fallback'] },
  ];
  return {
    providers,
    yaml: [
      'models:',
      `  - name: ${model}`,
      '    targets: [{ provider: mock-soak-primary, model: soak-primary }]',
      '    fallbacks: ["mock-soak-fallback:soak-fallback"]',
      '    retry: { attempts: 2, backoff_ms: 100, max_backoff_ms: 1000 }',
    ],
  };
}

interface MockStats {
  requests: number;
  failingRouteRequests: number;
  injected503: number;
  injectedResets: number;
}

async function mockStats(mockPort: number): Promise<MockStats | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${mockPort}/stats`, { signal: AbortSignal.timeout(5000) });
    return await response.json() as MockStats;
  } catch {
    return undefined;
  }
}

async function scrape(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${clientKey}` }, signal: AbortSignal.timeout(10_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Event-loop delay per scrape window (prom-client resets its histogram at every scrape), ms. */
class LagWindows {
  /** One entry per 15 s window: bounded by the soak's length (720 over 3 hours). */
  readonly p99Ms: number[] = [];
  readonly maxMs: number[] = [];
  missed = 0;

  add(text: string | undefined): void {
    const p99 = text === undefined ? undefined : sumMetric(text, 'switchyard_nodejs_eventloop_lag_p99_seconds');
    const max = text === undefined ? undefined : sumMetric(text, 'switchyard_nodejs_eventloop_lag_max_seconds');
    if (p99 === undefined || max === undefined) {
      this.missed++;
      return;
    }
    this.p99Ms.push(p99 * 1000);
    this.maxMs.push(max * 1000);
  }
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
const rank = (values: readonly number[], p: number) => {
  const list = sorted(values);
  return list.length === 0 ? Number.NaN : list[Math.min(list.length - 1, Math.max(0, Math.ceil((p / 100) * list.length) - 1))]!;
};
const ms = (us: number | undefined) => us === undefined || us === 0 ? Number.NaN : us / 1000;

export async function agentSoak(bench: Bench): Promise<void> {
  const system = find(bench, 'switchyard');
  if (system === undefined) {
    bench.report.check('Agent soak: errors not passed on correctly', '0', 'not measured (Switchyard ×1 not running)', undefined);
    return;
  }
  const durationMs = bench.options.soakMs;
  const windows = soakWindows(durationMs);
  const minutes = durationMs / 60_000;
  const plainBodyFile = join(bench.paths.work, 'client-body-soak-plain.json');
  const streamBodyFile = join(bench.paths.work, 'client-body-soak-stream.json');
  writeFileSync(plainBodyFile, agentBody('openai-chat', bodyBytes, { model, stream: false }));
  writeFileSync(streamBodyFile, agentBody('openai-chat', bodyBytes, { model, stream: true }));
  const spec: SoakClientSpec = {
    port: system.port, path: '/v1/chat/completions', headers: [['authorization', `Bearer ${clientKey}`]],
    plainBodyFile, streamBodyFile, agents, durationMs, rampMs: Math.min(5000, durationMs / 10), hangMs,
  };
  const loadBefore = os.loadavg();
  const mockBefore = await mockStats(bench.mockPort);
  const lag = new LagWindows();
  await scrape(system.port); // resets the event-loop histogram: the windows start with the soak
  bench.log(`[soak] agents profile: ${agents} agents × 256 KB OpenAI chat (half streamed) for ${num(minutes, 1)} min against ${system.label}; load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);
  bench.rss.begin('agent-soak');
  const started = Date.now();
  const meter = new NoiseMeter();
  const lagTimer = setInterval(() => void scrape(system.port).then((text) => lag.add(text)), lagScrapeMs);
  const progress = setInterval(() => {
    const latest = bench.rss.samples.at(-1)?.mb.switchyard;
    void mockStats(bench.mockPort).then((stats) => bench.log(`[soak] ${num((Date.now() - started) / 60_000, 1)} min: RSS ${num(latest)} MB, ` +
      `mock ${num(stats?.requests)} requests, ${num((stats?.injected503 ?? 0) + (stats?.injectedResets ?? 0))} failures injected; load average ${os.loadavg()[0]!.toFixed(2)}`));
  }, 60_000);
  let result: SoakClientResult;
  try {
    const run = await runToEnd('soak client', bench.paths.node, [join(bench.paths.root, 'bench/clients/soak-client.ts'), JSON.stringify(spec)], durationMs + spec.rampMs + hangMs + 90_000);
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`soak client printed no result (exit ${run.code}): ${run.stderr.trim().slice(0, 300)}`);
    result = JSON.parse(line) as SoakClientResult;
  } finally {
    clearInterval(lagTimer);
    clearInterval(progress);
    bench.rss.end('agent-soak');
  }
  const elapsedMs = Date.now() - started;
  const outsideLoad = meter.stop(`${system.label}, agent soak`);
  const loadAfter = os.loadavg();
  const metrics = await scrape(system.port);
  lag.add(metrics);
  const mockAfter = await mockStats(bench.mockPort);

  // RSS: least-squares slope after the warm-up.
  const soakStart = (started - bench.rss.originMs) / 1000;
  const points = bench.rss.points('switchyard').filter(([time]) => time >= soakStart + warmupMs(durationMs) / 1000 && time <= soakStart + elapsedMs / 1000);
  const perMinute = slope(points) * 60;
  const rssAt = (index: number) => points.at(index)?.[1];

  // Outcomes.
  const errors = outcomes.filter((outcome) => !allowedOutcomes.has(outcome)).reduce((sum, outcome) => sum + result.outcomes[outcome], 0);
  const outcomeRows = outcomes.map((outcome) => [
    `\`${outcome}\``, allowedOutcomes.has(outcome) ? 'allowed' : '**error**', num(result.outcomes[outcome]),
    (result.samples[outcome] ?? []).map((sample) => sample.replaceAll('|', '\\|').replaceAll('\n', ' ')).join('<br>'),
  ]);

  // Injected failures beside what the gateway did about them.
  const delta = (pick: (stats: MockStats) => number) => mockBefore === undefined || mockAfter === undefined ? undefined : pick(mockAfter) - pick(mockBefore);
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
  const windowMinutes = (windows.windowBuckets * windows.bucketMs) / 60_000;
  const latencyRow = (label: string, pick: (figures: WindowFigures) => { count: number; p50: number; p99: number }) => {
    const first = pick(result.first);
    const last = pick(result.last);
    return [label, num(first.count), num(ms(first.p50), 1), num(ms(first.p99), 1), num(last.count), num(ms(last.p50), 1), num(ms(last.p99), 1),
      `${signed(drift(first.p50, last.p50) * 100, 1)} %`, `${signed(drift(first.p99, last.p99) * 100, 1)} %`];
  };
  const latencyRows = [
    latencyRow('non-streamed: whole answer', (figures) => figures.latencyUs),
    latencyRow('streamed: time to first byte', (figures) => figures.ttftUs),
    latencyRow('streamed: whole stream', (figures) => figures.streamUs),
  ];
  const p99Drift = drift(result.first.latencyUs.p99, result.last.latencyUs.p99);
  const ttftDrift = drift(result.first.ttftUs.p99, result.last.ttftUs.p99);

  // Event-loop lag: one p99 per 15 s window.
  const lagAbove = (value: number) => Math.max(0, value - lagResolutionMs);
  const lagMedian = rank(lag.p99Ms, 50);
  const lagWorst = rank(lag.p99Ms, 100);
  const maxWorst = rank(lag.maxMs, 100);

  const perMinuteRows = result.requestsPerBucket.map((requests, bucket) => [
    `${num((bucket * result.bucketMs) / 60_000, 1)}–${num(Math.min(durationMs, (bucket + 1) * result.bucketMs) / 60_000, 1)}`, num(requests),
    num((requests * 60_000) / Math.min(result.bucketMs, durationMs - bucket * result.bucketMs)), num(result.errorsPerBucket[bucket]),
  ]);
  const trial = durationMs < 3 * 3_600_000;
  bench.report.add(`## Agent-fleet soak${trial ? ` — trial run (${num(minutes, 1)} min, not the 3-hour soak)` : ''}\n\n` +
    `${agents} simulated agents (bench/clients/soak-client.ts, a process of its own), each one keep-alive connection looping ` +
    `${num(bodyBytes / 1024)} KB OpenAI chat requests (bench/bodies/agent-bodies.ts: opencode's shape, 24 tools, a long tool history; ` +
    `the same conversation every time, non-streamed and streamed in turn, so half the requests are streamed), ` +
    `for ${num(minutes, 1)} min (starts spread over ${num(spec.rampMs / 1000, 1)} s), against ${system.label} with its default features on. ` +
    `The model \`${model}\` routes to \`mock-soak-primary\` (retry: 2 attempts, 100 ms back-off) with \`mock-soak-fallback\` behind it. ` +
    `The mock answers like a model: ${mockShape.latencyMs} ms to the answer or to the first of ${mockShape.deltas} deltas ${mockShape.intervalMs} ms apart; ` +
    `it fails ${failPerMille / 10} % of the primary's requests at random (half a 503 with an OpenAI error body, half a TCP reset before the first byte); ` +
    `the fallback does not fail.\n\n` +
    `Load average (1, 5, 15 min): ${loadBefore.map((value) => value.toFixed(2)).join(', ')} at the start, ${loadAfter.map((value) => value.toFixed(2)).join(', ')} at the end ` +
    `(2 cores; other work shares them). CPU used outside the benchmark's processes: ${num(outsideLoad * 100)} % of the machine.\n\n` +
    `### Requests and outcomes\n\n` +
    `${num(result.requests)} requests (${num(result.streamed)} streamed) in ${num(elapsedMs / 60_000, 1)} min: ` +
    `**${num(result.requests / (elapsedMs / 60_000))} per minute** (${num(result.requests / (elapsedMs / 1000), 1)}/s). ` +
    `An allowed failure is an upstream failure the gateway could not recover (retry and fallback failed too) passed on as a 5xx naming it ` +
    `(\`x-switchyard-error-code\` SWY_ERR_UPSTREAM_*) in OpenAI's error shape, or as an OpenAI stream error event naming it; anything else is an error ` +
    `(a hang is no whole answer in ${hangMs / 1000} s).\n\n` +
    table(['outcome', 'counts as', 'requests', 'examples'], outcomeRows) +
    `\n\n### Injected failures and what the gateway did\n\n` +
    table(['', 'count'], injectedRows) +
    `\n\n### Memory\n\nRSS of Switchyard ×1 sampled every 0.5 s; slope = least-squares fit after the first ${num(warmupMs(durationMs) / 60_000, 1)} min (warm-up).\n\n` +
    table(['RSS after warm-up MB', 'RSS at end MB', 'peak MB', 'slope MB/min', 'limit'],
      [[num(rssAt(0)), num(rssAt(-1)), num(bench.rss.peak('agent-soak', 'switchyard')), num(perMinute, 3), `< ${rssSlopeLimit}`]]) +
    `\n\n### Latency: first against last ${num(windowMinutes, 1)} min\n\n` +
    `Milliseconds, by the time a request was sent; requests that ended in a failure are left out. HDR histograms (node:perf_hooks, 3 significant figures).\n\n` +
    table(['', 'first: n', 'p50', 'p99', 'last: n', 'p50', 'p99', 'p50 drift', 'p99 drift'], latencyRows) +
    `\n\nWhole run: non-streamed p50 ${num(ms(result.whole.latencyUs.p50), 1)} ms, p99 ${num(ms(result.whole.latencyUs.p99), 1)} ms, max ${num(ms(result.whole.latencyUs.max), 1)} ms; ` +
    `streamed TTFT p50 ${num(ms(result.whole.ttftUs.p50), 1)} ms, p99 ${num(ms(result.whole.ttftUs.p99), 1)} ms.\n\n` +
    `### Event-loop lag of the gateway\n\n` +
    `prom-client's default \`nodejs_eventloop_lag_*\` gauges on the gateway's /metrics (monitorEventLoopDelay at ${lagResolutionMs} ms resolution, ` +
    `reset at every scrape), scraped every ${lagScrapeMs / 1000} s: ${num(lag.p99Ms.length)} windows${lag.missed > 0 ? `, ${lag.missed} scrapes failed` : ''}. ` +
    `Every sample includes the ${lagResolutionMs} ms timer interval itself; "lag" below is the value minus it.\n\n` +
    table(['', 'as read ms', 'lag ms'], [
      ['p99, median window', num(lagMedian, 2), num(lagAbove(lagMedian), 2)],
      ['p99, 90th-percentile window', num(rank(lag.p99Ms, 90), 2), num(lagAbove(rank(lag.p99Ms, 90)), 2)],
      ['p99, worst window', num(lagWorst, 2), num(lagAbove(lagWorst), 2)],
      ['max, worst window', num(maxWorst, 2), num(lagAbove(maxWorst), 2)],
    ]) +
    `\n\n### Requests per ${result.bucketMs >= 60_000 ? 'minute' : 'bucket'}\n\n` +
    table(['minutes', 'requests', 'per minute', 'errors'], perMinuteRows));

  const label = `over ${num(minutes, 1)} min${trial ? ' (trial)' : ''}`;
  bench.report.check('Agent soak: errors other than upstream failures passed on correctly', '0', `${num(errors)} of ${num(result.requests)} ${label}`, errors === 0);
  bench.report.check('Agent soak: RSS slope after warm-up (Switchyard ×1)', `< ${rssSlopeLimit} MB/min`, `${num(perMinute, 3)} MB/min ${label}`, Number.isFinite(perMinute) ? perMinute < rssSlopeLimit : undefined);
  bench.report.check(`Agent soak: p99 drift, first → last ${num(windowMinutes, 1)} min`, 'reported (no limit set)',
    `non-streamed ${signed(p99Drift * 100, 1)} %, TTFT ${signed(ttftDrift * 100, 1)} %`, undefined);
  bench.report.check('Agent soak: event-loop lag p99 (Switchyard ×1)', 'reported (no limit set)',
    `${num(lagAbove(lagMedian), 2)} ms median window, ${num(lagAbove(lagWorst), 2)} ms worst (above the ${lagResolutionMs} ms timer)`, undefined);
}
