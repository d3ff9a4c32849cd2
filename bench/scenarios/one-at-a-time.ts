// Scenario 1: one request at a time (keep-alive, 0 ms mock), the latency each proxy adds to the
// direct path. Measured with the Node load client (wrk cannot do one connection, one request
// in flight, with microsecond percentiles); systems alternate round by round.
import { runClient, type ClientRun } from '../lib/client.ts';
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote } from '../lib/noise.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratioTable, signed, table, type Metric } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import type { SystemId } from '../lib/systems.ts';

export async function oneAtATime(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  const runs = new Map<SystemId, ClientRun[]>();
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of roundOrder(bench.systems, round)) {
      checkPorts(bench);
      const run = await runClient(bench.paths, system, system.target(profiles.lat0, false), {
        mode: 'sequential', durationMs: settings.oneAtATimeSeconds * 1000, warmupMs: 500,
      });
      runs.set(system.id, [...(runs.get(system.id) ?? []), run]);
      bench.log(`[1] one at a time · ${system.label} · round ${round + 1}: p50 ${num(run.latencyUs.p50)} µs, p99 ${num(run.latencyUs.p99)} µs, ${run.errors} errors${loadNote(run.outsideLoad)}`);
    }
  }
  const p50 = (id: SystemId) => median((runs.get(id) ?? []).map((run) => run.latencyUs.p50));
  const p99 = (id: SystemId) => median((runs.get(id) ?? []).map((run) => run.latencyUs.p99));
  const hasDirect = runs.has('direct');
  const added50 = (id: SystemId) => hasDirect && id !== 'direct' ? p50(id) - p50('direct') : Number.NaN;
  const added99 = (id: SystemId) => hasDirect && id !== 'direct' ? p99(id) - p99('direct') : Number.NaN;
  const metrics: Metric[] = [{ label: 'added p50', values: {} }, { label: 'added p99', values: {} }, { label: 'p50', values: {} }, { label: 'p99', values: {} }];
  const rows = bench.systems.map((system) => {
    const list = runs.get(system.id) ?? [];
    const a50 = added50(system.id);
    const a99 = added99(system.id);
    metrics[0]!.values[system.id] = a50;
    metrics[1]!.values[system.id] = a99;
    metrics[2]!.values[system.id] = p50(system.id);
    metrics[3]!.values[system.id] = p99(system.id);
    return [
      system.label, num(list.reduce((sum, run) => sum + run.latencyUs.count, 0)),
      num(p50(system.id)), num(p99(system.id)), signed(a50), signed(a99),
      num(list.reduce((sum, run) => sum + run.errors, 0)),
    ];
  });
  bench.report.add(`## 1. One request at a time\n\nOne keep-alive connection, one request in flight, 0 ms mock, ~600-byte answer; ` +
    `${settings.oneAtATimeSeconds} s per system per round (first 0.5 s discarded), ${settings.rounds} round(s), median of rounds. ` +
    `"Added" = system − direct in this run. Microseconds.\n\n` +
    table(['system', 'requests', 'p50 µs', 'p99 µs', 'added p50 µs', 'added p99 µs', 'errors'], rows) + ratioTable(metrics, bench.systems));
  // issue #17: against the Node floor's own added latency in this run (+50 µs at p50, +300 µs at p99)
  const switchyard = runs.has('switchyard') && hasDirect;
  const floor = runs.has('node-floor') && hasDirect;
  const a50 = added50('switchyard');
  const a99 = added99('switchyard');
  const f50 = added50('node-floor');
  const f99 = added99('node-floor');
  const measured = (value: number, floorValue: number) => (switchyard ? `${signed(value)} µs${floor ? ` (floor ${signed(floorValue)} µs)` : ''}` : 'not measured');
  bench.report.check('One at a time: added p50 (Switchyard ×1) over the Node floor\'s', '≤ floor + 50 µs', measured(a50, f50), switchyard && floor ? a50 <= f50 + 50 : undefined);
  bench.report.check('One at a time: added p99 (Switchyard ×1) over the Node floor\'s', '≤ floor + 300 µs', measured(a99, f99), switchyard && floor ? a99 <= f99 + 300 : undefined);
}
