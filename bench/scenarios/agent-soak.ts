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
// The client writes a checkpoint every minute; from the first one on, the harness rewrites the
// whole report (bench/scenarios/agent-soak-report.ts) from the latest checkpoint every 5 minutes,
// marked as interrupted or in progress, so a run killed without warning still leaves an honest
// report of what it measured. The final report replaces it.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { agentBody, bodySizes } from '../bodies/agent-bodies.ts';
import type { SoakClientResult, SoakClientSpec } from '../clients/soak-client.ts';
import { find, type Bench } from '../lib/context.ts';
import { NoiseMeter } from '../lib/noise.ts';
import { runToEnd } from '../lib/processes.ts';
import { num, type Report } from '../lib/report.ts';
import { soakWindows, sumMetric } from '../lib/soak-windows.ts';
import { clientKey, type ExtraProvider, type SwitchyardExtras } from '../lib/systems.ts';
import { interruptionMarker, soakReport, type LagReadings, type MockStats, type SoakShape } from './agent-soak-report.ts';

const agents = 64;
const bodyBytes = bodySizes['256 KB'];
const model = 'soak-agent';
/** The mock as a model provider: 200 ms to the answer (or the first delta), then 64 deltas 10 ms apart. */
const mockShape = { latencyMs: 200, deltas: 64, intervalMs: 10 };
const failPerMille = 20;
const lagScrapeMs = 15_000;
const hangMs = 120_000;
const checkpointMs = 60_000;
/** The report is rewritten from the first checkpoint, then from the newest one at most this often. */
const interimEveryMs = 5 * 60_000;
/** How often the harness looks for a new checkpoint (so the counters it reads beside one are seconds apart from it). */
const checkpointPollMs = 5_000;

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
class LagWindows implements LagReadings {
  /** One entry per 15 s window: bounded by the soak's length (720 over 3 hours). */
  readonly p99Ms: number[] = [];
  readonly maxMs: number[] = [];
  missed = 0;
  /** The newest /metrics text, for the counters of an interim report (a scrape of its own would reset the lag window). */
  latest: string | undefined = undefined;

  add(text: string | undefined): void {
    const p99 = text === undefined ? undefined : sumMetric(text, 'switchyard_nodejs_eventloop_lag_p99_seconds');
    const max = text === undefined ? undefined : sumMetric(text, 'switchyard_nodejs_eventloop_lag_max_seconds');
    if (p99 === undefined || max === undefined) {
      this.missed++;
      return;
    }
    this.latest = text;
    this.p99Ms.push(p99 * 1000);
    this.maxMs.push(max * 1000);
  }
}

function readCheckpoint(file: string): SoakClientResult | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SoakClientResult;
  } catch {
    return undefined;
  }
}

export async function agentSoak(bench: Bench): Promise<void> {
  const system = find(bench, 'switchyard');
  if (system === undefined) {
    bench.report.check('Agent soak: errors not passed on correctly', '0', 'not measured (Switchyard ×1 not running)', undefined);
    return;
  }
  const durationMs = bench.options.soakMs;
  soakWindows(durationMs); // throws on a duration it cannot cut into windows, before anything starts
  const plainBodyFile = join(bench.paths.work, 'client-body-soak-plain.json');
  const streamBodyFile = join(bench.paths.work, 'client-body-soak-stream.json');
  const checkpointFile = join(bench.paths.work, 'soak-checkpoint.json');
  writeFileSync(plainBodyFile, agentBody('openai-chat', bodyBytes, { model, stream: false }));
  writeFileSync(streamBodyFile, agentBody('openai-chat', bodyBytes, { model, stream: true }));
  rmSync(checkpointFile, { force: true });
  const spec: SoakClientSpec = {
    port: system.port, path: '/v1/chat/completions', headers: [['authorization', `Bearer ${clientKey}`]],
    plainBodyFile, streamBodyFile, agents, durationMs, rampMs: Math.min(5000, durationMs / 10), hangMs, checkpointFile, checkpointMs,
  };
  const shape: SoakShape = { agents, bodyBytes, model, mock: mockShape, failPerMille, durationMs, rampMs: spec.rampMs, hangMs, lagScrapeMs };
  const loadBefore = os.loadavg();
  const mockBefore = await mockStats(bench.mockPort);
  const lag = new LagWindows();
  await scrape(system.port); // resets the event-loop histogram: the windows start with the soak
  bench.log(`[soak] agents profile: ${agents} agents × 256 KB OpenAI chat (half streamed) for ${num(durationMs / 60_000, 1)} min against ${system.label}; load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);
  bench.rss.begin('agent-soak');
  const started = Date.now();
  const meter = new NoiseMeter();

  /** The report's section and budget rows from `result`, added to `report`. */
  const addSoak = (report: Report, result: SoakClientResult, mockNow: MockStats | undefined, metrics: string | undefined, outsideLoad: number, interruption: string | undefined) => {
    const soakStart = (started - bench.rss.originMs) / 1000;
    const rss = bench.rss.points('switchyard').map(([time, mb]) => [time - soakStart, mb] as const).filter(([time]) => time >= 0);
    const { markdown, checks } = soakReport({
      shape, systemLabel: system.label, result, rss, lag, mockBefore, mockNow, metrics, loadBefore, loadNow: os.loadavg(), outsideLoad, interruption,
    });
    report.add(markdown);
    for (const row of checks) report.check(row.line, row.target, row.measured, row.pass, row.partial);
  };

  // Interim reports: from the first checkpoint, then every 5 minutes, the whole report file as it would read if the run ended now.
  let seenCheckpoint = 0;
  let lastInterimAt = 0;
  let writing = false;
  const interim = async () => {
    const modified = statSync(checkpointFile, { throwIfNoEntry: false })?.mtimeMs;
    if (writing || modified === undefined || modified === seenCheckpoint || (lastInterimAt > 0 && Date.now() - lastInterimAt < interimEveryMs - checkpointPollMs)) return;
    const result = readCheckpoint(checkpointFile);
    if (result === undefined || result.final || bench.saveInterim === undefined) return;
    seenCheckpoint = modified;
    writing = true;
    try {
      const snapshot = bench.report.snapshot();
      snapshot.interruption = interruptionMarker(result, durationMs);
      addSoak(snapshot, result, await mockStats(bench.mockPort), lag.latest, meter.share(), snapshot.interruption);
      bench.saveInterim(snapshot);
      lastInterimAt = Date.now();
      bench.log(`[soak] interim report written: ${snapshot.interruption}`);
    } catch (error) {
      bench.log(`[soak] interim report not written: ${(error as Error).message}`);
    } finally {
      writing = false;
    }
  };
  const interimTimer = setInterval(() => void interim(), checkpointPollMs);
  const lagTimer = setInterval(() => void scrape(system.port).then((text) => lag.add(text)), lagScrapeMs);
  const progress = setInterval(() => {
    const latest = bench.rss.samples.at(-1)?.mb.switchyard;
    void mockStats(bench.mockPort).then((stats) => bench.log(`[soak] ${num((Date.now() - started) / 60_000, 1)} min: RSS ${num(latest)} MB, ` +
      `mock ${num(stats?.requests)} requests, ${num((stats?.injected503 ?? 0) + (stats?.injectedResets ?? 0))} failures injected; load average ${os.loadavg()[0]!.toFixed(2)}`));
  }, 60_000);
  let run: Awaited<ReturnType<typeof runToEnd>>;
  try {
    run = await runToEnd('soak client', bench.paths.node, [join(bench.paths.root, 'bench/clients/soak-client.ts'), JSON.stringify(spec)], durationMs + spec.rampMs + hangMs + 90_000);
  } finally {
    clearInterval(interimTimer);
    clearInterval(lagTimer);
    clearInterval(progress);
    bench.rss.end('agent-soak');
  }
  const outsideLoad = meter.stop(`${system.label}, agent soak`);
  const metrics = await scrape(system.port);
  lag.add(metrics);
  const mockAfter = await mockStats(bench.mockPort);

  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (line.startsWith('{')) {
    addSoak(bench.report, JSON.parse(line) as SoakClientResult, mockAfter, metrics, outsideLoad, undefined);
    return;
  }
  // The client died before its end: report what its last checkpoint measured, marked as cut short.
  const died = `the soak client exited early, ${run.code === null ? 'killed by a signal' : `exit code ${run.code}`}`;
  const checkpoint = readCheckpoint(checkpointFile);
  if (checkpoint === undefined) throw new Error(`${died}, before its first checkpoint: ${run.stderr.trim().slice(0, 300)}`);
  bench.report.note(`${died}; the soak section is its last checkpoint's. Its stderr: ${run.stderr.trim().slice(0, 300) || '(empty)'}`);
  bench.report.interruption = interruptionMarker(checkpoint, durationMs, died);
  addSoak(bench.report, checkpoint, mockAfter, metrics, outsideLoad, bench.report.interruption);
}
