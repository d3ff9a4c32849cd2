// Scenario 2: the published ladder. Constant concurrency 50 → 1,000 against the 60 ms mock
// (wrk, one thread, keep-alive): requests/s, p50, p99 and errors, each versus direct. At 500
// concurrent Little's law caps throughput at 500 / 0.060 s = 8,333 requests/s.
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote } from '../lib/noise.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratioTable, signed, table, type Metric } from '../lib/report.ts';
import type { SystemId } from '../lib/systems.ts';
import { combineRounds, runWrk, writeWrkScript, type LoadResult } from '../lib/wrk.ts';

export async function ladder(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  const scripts = new Map(bench.systems.map((system) => {
    const target = system.target(profiles.lat60, false);
    return [system.id, { target, script: writeWrkScript(bench.paths.work, `${system.id}-lat60`, target) }];
  }));
  const points = new Map<number, Map<SystemId, LoadResult>>();
  for (const level of settings.ladder) {
    const rounds = new Map<SystemId, LoadResult[]>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const system of roundOrder(bench.systems, round)) {
        checkPorts(bench);
        const { target, script } = scripts.get(system.id)!;
        const result = await runWrk(system, target, script, level, settings.ladderSeconds);
        rounds.set(system.id, [...(rounds.get(system.id) ?? []), result]);
        bench.log(`[2] ladder c=${level} · ${system.label} · round ${round + 1}: ${num(result.rps)} req/s, p99 ${num(result.p99Ms, 1)} ms, ${result.errors} errors${loadNote(result.outsideLoad)}`);
      }
    }
    const combined = new Map([...rounds].map(([id, list]) => [id, combineRounds(list)] as const));
    points.set(level, combined);
    for (const [id, result] of combined) bench.ladder.set(id, [...(bench.ladder.get(id) ?? []), [level, result]]);
  }

  const rows: string[][] = [];
  const metrics: Metric[] = [];
  for (const [level, results] of points) {
    const direct = results.get('direct');
    const rps: Metric = { label: `req/s @${level}`, values: {} };
    const p99: Metric = { label: `p99 @${level}`, values: {} };
    metrics.push(rps, p99);
    for (const system of bench.systems) {
      const result = results.get(system.id);
      if (result === undefined) continue;
      rps.values[system.id] = result.rps;
      p99.values[system.id] = result.p99Ms;
      rows.push([
        num(level), system.label, num(result.rps),
        direct === undefined ? '—' : `${num((100 * result.rps) / direct.rps, 1)} %`,
        num(result.p50Ms, 1), num(result.p99Ms, 1),
        direct === undefined || system.id === 'direct' ? '—' : signed(result.p99Ms - direct.p99Ms, 1), num(result.cpuPerRequestUs),
        result.errors === 0 ? '0' : `${num(result.errors)} (${result.errorDetail})`,
      ]);
    }
  }
  bench.report.add(`## 2. The 60 ms ladder\n\nConstant concurrency (wrk -t1, keep-alive), 60 ms mock, ${settings.ladderSeconds} s per point, ` +
    `${settings.rounds} round(s) (median). Little's-law ceiling = concurrency / 0.060 s (8,333 req/s at 500).\n\n` +
    table(['concurrency', 'system', 'req/s', '% of direct', 'p50 ms', 'p99 ms', 'p99 − direct ms', 'CPU µs/req', 'errors'], rows) + ratioTable(metrics, bench.systems));

  const at500 = points.get(500);
  const direct = at500?.get('direct');
  const switchyard = at500?.get('switchyard');
  const auto = at500?.get('switchyard-auto');
  const measured = direct !== undefined && switchyard !== undefined;
  const share = measured ? (100 * switchyard.rps) / direct.rps : Number.NaN;
  const autoShare = direct !== undefined && auto !== undefined ? ` (auto: ${num((100 * auto.rps) / direct.rps, 1)} %)` : '';
  // issue #17: within 5 points of the Node floor's share of direct in this run
  const floor = at500?.get('node-floor');
  const floorShare = direct !== undefined && floor !== undefined ? (100 * floor.rps) / direct.rps : undefined;
  bench.report.check('Ladder @500: requests/s, share of direct (Switchyard ×1) vs the Node floor\'s', '≥ floor − 5 points',
    measured ? `${num(share, 1)} %${autoShare}${floorShare === undefined ? '' : ` (floor ${num(floorShare, 1)} %)`}` : 'not measured',
    measured && floorShare !== undefined ? share >= floorShare - 5 : undefined);
  const added = measured ? switchyard.p99Ms - direct.p99Ms : Number.NaN;
  const autoAdded = direct !== undefined && auto !== undefined ? ` (auto: ${signed(auto.p99Ms - direct.p99Ms, 1)} ms)` : '';
  bench.report.check('Ladder @500: p99 vs direct (Switchyard ×1)', '≤ +5 ms', measured ? `${signed(added, 1)} ms${autoAdded}` : 'not measured', measured ? added <= 5 : undefined);
  const errors = [...points.values()].reduce((sum, results) => sum + (results.get('switchyard')?.errors ?? 0), 0);
  if (errors > 0) bench.report.note(`Switchyard ×1 had ${errors} errors in the ladder.`);
}
