// Scenario 3: saturation against the 0 ms mock at 64 and 256 connections: requests/s and CPU
// microseconds per request of the proxy's processes (utime+stime from /proc over the run, all
// workers summed) — the figure that stays stable on a noisy machine.
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote } from '../lib/noise.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratio, ratioTable, table, times, type Metric } from '../lib/report.ts';
import type { SystemId } from '../lib/systems.ts';
import { combineRounds, runWrk, writeWrkScript, type LoadResult } from '../lib/wrk.ts';

export async function saturation(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  const scripts = new Map(bench.systems.map((system) => {
    const target = system.target(profiles.lat0, false);
    return [system.id, { target, script: writeWrkScript(bench.paths.work, `${system.id}-lat0`, target) }];
  }));
  const points = new Map<number, Map<SystemId, LoadResult>>();
  bench.rss.begin('saturation');
  for (const connections of settings.saturation) {
    const rounds = new Map<SystemId, LoadResult[]>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const system of roundOrder(bench.systems, round)) {
        checkPorts(bench);
        const { target, script } = scripts.get(system.id)!;
        const result = await runWrk(system, target, script, connections, settings.saturationSeconds);
        rounds.set(system.id, [...(rounds.get(system.id) ?? []), result]);
        bench.log(`[3] saturation c=${connections} · ${system.label} · round ${round + 1}: ${num(result.rps)} req/s, ${num(result.cpuPerRequestUs)} µs CPU/req, ${result.errors} errors${loadNote(result.outsideLoad)}`);
      }
    }
    points.set(connections, new Map([...rounds].map(([id, list]) => [id, combineRounds(list)] as const)));
  }
  bench.rss.end('saturation');

  const rows: string[][] = [];
  const metrics: Metric[] = [];
  for (const [connections, results] of points) {
    const cpu: Metric = { label: `CPU/req @${connections}`, values: {} };
    const rps: Metric = { label: `req/s @${connections}`, values: {} };
    metrics.push(cpu, rps);
    for (const system of bench.systems) {
      const result = results.get(system.id);
      if (result === undefined) continue;
      cpu.values[system.id] = result.cpuPerRequestUs;
      rps.values[system.id] = result.rps;
      rows.push([
        num(connections), system.label, num(result.rps), num(result.cpuPerRequestUs), num(result.p50Ms, 2), num(result.p99Ms, 2),
        result.errors === 0 ? '0' : `${num(result.errors)} (${result.errorDetail})`,
      ]);
    }
  }
  bench.report.add(`## 3. Saturation (0 ms mock)\n\nwrk -t1 at fixed connection counts, ${settings.saturationSeconds} s per point, ${settings.rounds} round(s). ` +
    `CPU = utime+stime of the proxy's processes (primary + workers) over the run ÷ requests completed; the direct path has no proxy.\n\n` +
    table(['connections', 'system', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms', 'errors'], rows) + ratioTable(metrics, bench.systems));

  // Budget: the worse of the two connection counts.
  const worst = (pick: (results: Map<SystemId, LoadResult>) => number | undefined, larger: boolean) => {
    const values = [...points.values()].map(pick).filter((value): value is number => value !== undefined);
    if (values.length === 0) return undefined;
    return larger ? Math.max(...values) : Math.min(...values);
  };
  // issue #17: against the Node floor measured in the same run; nginx stays a reference column
  const vsFloor = worst((results) => ratio(results.get('switchyard')?.cpuPerRequestUs, results.get('node-floor')?.cpuPerRequestUs), true);
  const vsNginx = worst((results) => ratio(results.get('switchyard')?.cpuPerRequestUs, results.get('nginx')?.cpuPerRequestUs), true);
  bench.report.check('CPU per request, Switchyard ×1 ÷ Node floor (worse of c=64/256)', '≤ 1.25×',
    `${times(vsFloor)}${vsNginx === undefined ? '' : ` (nginx: ${times(vsNginx)})`}`, vsFloor === undefined ? undefined : vsFloor <= 1.25);
  const lowerThanPortkey = worst((results) => ratio(results.get('portkey')?.cpuPerRequestUs, results.get('switchyard')?.cpuPerRequestUs), false);
  bench.report.check('CPU per request, Portkey ÷ Switchyard ×1 (worse of c=64/256)', '≥ 8× lower', times(lowerThanPortkey), lowerThanPortkey === undefined ? undefined : lowerThanPortkey >= 8);
  const at256 = points.get(256);
  const rpsVsPortkey = ratio(at256?.get('switchyard')?.rps, at256?.get('portkey')?.rps);
  const autoVsPortkey = ratio(at256?.get('switchyard-auto')?.rps, at256?.get('portkey')?.rps);
  bench.report.check('Requests/s at 256 connections, Switchyard ×1 ÷ Portkey', '≥ 5×',
    `${times(rpsVsPortkey)}${autoVsPortkey === undefined ? '' : ` (auto: ${times(autoVsPortkey)})`}`, rpsVsPortkey === undefined ? undefined : rpsVsPortkey >= 5);
}
