// Scenario 4: streaming. (a) Time to first token and inter-chunk gaps at modest concurrency
// (short streams: first delta after 20 ms, 8 deltas 20 ms apart), each versus direct; (b) how
// many concurrent streams (64 deltas 20 ms apart) each system holds with no added stall — no gap
// between events more than 50 ms above the mock's 20 ms — up to 1,000; CPU per stream.
import { runClient, type ClientRun } from '../lib/client.ts';
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote } from '../lib/noise.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratioTable, signed, table, type Metric } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import type { System, SystemId } from '../lib/systems.ts';

const stallMs = 50;
const ms = (us: number) => us / 1000;

async function firstToken(bench: Bench, systems: readonly System[]): Promise<void> {
  const { settings } = bench.options;
  const runs = new Map<SystemId, ClientRun[]>();
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of roundOrder(systems, round)) {
      checkPorts(bench);
      const run = await runClient(bench.paths, system, system.target(profiles.ttft, true), {
        mode: 'streams', concurrency: settings.ttftConcurrency, rampMs: 100, durationMs: settings.ttftSeconds * 1000, warmupMs: 500,
        intervalMs: profiles.ttft.intervalMs, stallMs,
      });
      runs.set(system.id, [...(runs.get(system.id) ?? []), run]);
      bench.log(`[4] first token · ${system.label} · round ${round + 1}: TTFT p99 ${num(ms(run.ttftUs.p99), 2)} ms, ${run.completed} streams, ${run.errors} errors${loadNote(run.outsideLoad)}`);
    }
  }
  const pick = (id: SystemId, value: (run: ClientRun) => number) => median((runs.get(id) ?? []).map(value));
  const direct = runs.has('direct');
  const added = (id: SystemId, value: (run: ClientRun) => number) => direct && id !== 'direct' ? pick(id, value) - pick('direct', value) : Number.NaN;
  const ttft50 = (run: ClientRun) => ms(run.ttftUs.p50);
  const ttft99 = (run: ClientRun) => ms(run.ttftUs.p99);
  const gap50 = (run: ClientRun) => ms(run.gapUs.p50);
  const gap99 = (run: ClientRun) => ms(run.gapUs.p99);
  const cpu = (id: SystemId) => {
    const list = runs.get(id) ?? [];
    const streams = list.reduce((sum, run) => sum + run.completed, 0);
    return id === 'direct' || streams === 0 ? Number.NaN : list.reduce((sum, run) => sum + run.cpuUs, 0) / streams;
  };
  const metrics: Metric[] = [{ label: 'added TTFT p99', values: {} }, { label: 'TTFT p99', values: {} }, { label: 'CPU/stream', values: {} }];
  const rows = systems.map((system) => {
    const id = system.id;
    metrics[0]!.values[id] = added(id, ttft99);
    metrics[1]!.values[id] = pick(id, ttft99);
    metrics[2]!.values[id] = cpu(id);
    const list = runs.get(id) ?? [];
    return [
      system.label, num(list.reduce((sum, run) => sum + run.completed, 0)),
      num(pick(id, ttft50), 2), num(pick(id, ttft99), 2), signed(added(id, ttft50), 2), signed(added(id, ttft99), 2),
      num(pick(id, gap50), 2), num(pick(id, gap99), 2), signed(added(id, gap99), 2), num(cpu(id)),
      num(list.reduce((sum, run) => sum + run.errors, 0)),
    ];
  });
  bench.report.add(`## 4. Streaming\n\n### 4a. Time to first token and gaps\n\n${settings.ttftConcurrency} concurrent streams, back to back for ${settings.ttftSeconds} s per system per round ` +
    `(${settings.rounds} round(s), median; streams sent in the first 0.5 s not timed); mock: first delta after 20 ms, 8 deltas 20 ms apart. ` +
    `TTFT = request written → first complete SSE event read. ` +
    `Gap = time between reads that complete events. Milliseconds; CPU in µs per stream.\n\n` +
    table(['system', 'streams', 'TTFT p50', 'TTFT p99', 'added p50', 'added p99', 'gap p50', 'gap p99', 'added gap p99', 'CPU µs/stream', 'errors'], rows) +
    ratioTable(metrics, systems));
  const measured = direct && runs.has('switchyard');
  const value = added('switchyard', ttft99);
  bench.report.check('Streaming: added time to first token p99 (Switchyard ×1)', '≤ 1 ms', measured ? `${signed(value, 2)} ms` : 'not measured', measured ? value <= 1 : undefined);
}

async function concurrentStreams(bench: Bench, systems: readonly System[]): Promise<void> {
  const { settings } = bench.options;
  const held = new Map<SystemId, number>();
  const broken = new Set<SystemId>();
  const rows: string[][] = [];
  const cpuAtTop: Metric = { label: `CPU/stream @${Math.max(...settings.streamLevels)}`, values: {} };
  const stalledAtTop = new Map<string, number>();
  for (const level of settings.streamLevels) {
    bench.rss.begin(`streams-${level}`);
    for (const system of systems) {
      checkPorts(bench);
      const expected = level * settings.streamsPerConnection;
      const run = await runClient(bench.paths, system, system.target(profiles.s64, true), {
        mode: 'streams', concurrency: level, rampMs: 500, streamsPerConnection: settings.streamsPerConnection,
        intervalMs: profiles.s64.intervalMs, stallMs, deadlineMs: 60_000,
      });
      const ok = run.completed === expected && run.errors === 0 && run.stalledStreams === 0;
      if (ok && !broken.has(system.id)) held.set(system.id, level);
      else broken.add(system.id);
      const cpu = system.id === 'direct' || run.completed === 0 ? Number.NaN : run.cpuUs / run.completed;
      if (level === Math.max(...settings.streamLevels)) {
        cpuAtTop.values[system.id] = cpu;
        stalledAtTop.set(system.id, run.stalledStreams + run.errors);
      }
      rows.push([
        num(level), system.label, `${num(run.completed)} / ${num(expected)}`, num(run.peakConcurrent), num(run.errors),
        num(run.stalledStreams), num(ms(run.gapUs.p99), 1), num(ms(run.gapUs.max), 1), num(ms(run.ttftUs.p99), 1), num(cpu),
      ]);
      bench.log(`[4] ${level} streams · ${system.label}: ${run.completed}/${expected} completed, ${run.stalledStreams} stalled, max gap ${num(ms(run.gapUs.max), 1)} ms, ${run.errors} errors${loadNote(run.outsideLoad)}`);
      if (run.errors > 0) bench.log(`    errors: ${run.errorSamples.join('; ')}`);
    }
    bench.rss.end(`streams-${level}`);
  }
  const summary = systems.map((system) => [system.label, held.has(system.id) ? num(held.get(system.id)!) : `< ${num(Math.min(...settings.streamLevels))}`]);
  bench.report.add(`### 4b. Concurrent streams\n\nEach of N connections runs ${settings.streamsPerConnection} stream(s) of 64 deltas 20 ms apart (connections opened over 0.5 s). ` +
    `A stream stalls when a gap between events exceeds 20 + ${stallMs} ms. "Held" = the highest level reached with every stream complete, no error and no stall. ` +
    `CPU in µs per 64-delta stream.\n\n` +
    table(['streams', 'system', 'completed', 'peak concurrent', 'errors', 'stalled', 'gap p99 ms', 'max gap ms', 'TTFT p99 ms', 'CPU µs/stream'], rows) +
    '\n\n' + table(['system', 'concurrent streams held without added stall'], summary) + ratioTable([cpuAtTop], systems));
  const top = Math.max(...settings.streamLevels);
  const measured = systems.some((system) => system.id === 'switchyard') && top >= 1000;
  const heldBySwitchyard = held.get('switchyard');
  // issue #17: at the top level, no more stalled (or failed) streams than the Node floor in this run
  const stalled = stalledAtTop.get('switchyard');
  const floorStalled = stalledAtTop.get('node-floor');
  bench.report.check(`Streaming: stalled or failed streams at ${num(top)} concurrent (Switchyard ×1) vs the Node floor`, '≤ floor',
    measured && stalled !== undefined ? `${num(stalled)}${floorStalled === undefined ? '' : ` (floor ${num(floorStalled)})`}; held ${heldBySwitchyard === undefined ? 'none' : num(heldBySwitchyard)}` : 'not measured',
    measured && stalled !== undefined && floorStalled !== undefined ? stalled <= floorStalled : undefined);
}

export async function streaming(bench: Bench): Promise<void> {
  const systems = bench.systems.filter((system) => {
    if (system.streamFailure === undefined) return true;
    bench.report.note(`${system.label} is left out of the streaming scenario: ${system.streamFailure}`);
    return false;
  });
  await firstToken(bench, systems);
  await concurrentStreams(bench, systems);
}
