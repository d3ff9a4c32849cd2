// Scenario 5: memory. RSS (VmRSS summed over each system's processes) idle after start-up, peak
// while scenarios 3 and 4 ran, after load (after a rest), and the lifetime peak (VmHWM); then
// start to ready, warm, for Switchyard ×1 and the Node floor (5a). With --soak D, Switchyard ×1
// carries steady mixed load for D and the RSS slope is reported.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { runClient } from '../lib/client.ts';
import { find, type Bench } from '../lib/context.ts';
import { hwmMb, sleep } from '../lib/processes.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratioTable, signed, table, type Metric } from '../lib/report.ts';
import { floorStart, summarize, switchyardStart, timeOneStart, type StartCommand, type StartSample } from '../lib/startup.ts';
import { slope } from '../lib/stats.ts';
import { switchyardYaml } from '../lib/systems.ts';
import { runWrk, writeWrkScript } from '../lib/wrk.ts';

export async function memory(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  bench.log(`[5] memory: resting ${settings.restSeconds} s before measuring RSS after load`);
  await sleep(settings.restSeconds * 1000);
  const after = bench.rss.sample();
  const topStreams = `streams-${Math.max(...settings.streamLevels)}`;
  const columns: Metric[] = [
    { label: 'idle', values: bench.idleRssMb },
    { label: 'peak, scenario 3', values: {} },
    { label: `peak, ${num(Math.max(...settings.streamLevels))} streams`, values: {} },
    { label: 'after load', values: after.mb },
    { label: 'lifetime peak (VmHWM)', values: {} },
  ];
  const proxies = bench.systems.filter((system) => system.process !== undefined);
  for (const system of proxies) {
    columns[1]!.values[system.id] = bench.rss.peak('saturation', system.id);
    columns[2]!.values[system.id] = bench.rss.peak(topStreams, system.id);
    columns[4]!.values[system.id] = hwmMb(system.pids());
  }
  const rows = proxies.map((system) => [system.label, ...columns.map((column) => num(column.values[system.id]))]);
  bench.report.add(`## 5. Memory\n\nRSS in MB, summed over each system's processes (Switchyard auto: primary + workers), sampled every 0.5 s; ` +
    `"after load" is ${settings.restSeconds} s after the last load. A column is empty when its scenario did not run.\n\n` +
    table(['system', ...columns.map((column) => `${column.label} MB`)], rows) + ratioTable(columns, bench.systems));

  const value = (index: number) => columns[index]!.values.switchyard;
  const check = (line: string, limit: number, measured: number | undefined) =>
    bench.report.check(line, `≤ ${limit} MB`, measured === undefined ? 'not measured' : `${num(measured)} MB`, measured === undefined ? undefined : measured <= limit);
  // issue #17: idle RSS within 15 MB of the Node floor's, measured in the same run
  const idleFloor = columns[0]!.values['node-floor'];
  const idle = value(0);
  bench.report.check('Memory: idle RSS (Switchyard ×1) over the Node floor\'s', '≤ floor + 15 MB',
    idle === undefined || idleFloor === undefined ? 'not measured' : `${num(idle)} MB (floor ${num(idleFloor)} MB, +${num(idle - idleFloor)} MB)`,
    idle === undefined || idleFloor === undefined ? undefined : idle - idleFloor <= 15);
  // issue #17: peaks within 30 MB of the Node floor's under the same load
  const overFloor = (line: string, index: number) => {
    const measured = value(index);
    const floor = columns[index]!.values['node-floor'];
    bench.report.check(line, '≤ floor + 30 MB',
      measured === undefined || floor === undefined ? 'not measured' : `${num(measured)} MB (floor ${num(floor)} MB, ${signed(measured - floor)} MB)`,
      measured === undefined || floor === undefined ? undefined : measured - floor <= 30);
  };
  overFloor('Memory: peak RSS under scenario 3 (Switchyard ×1) over the Node floor\'s', 1);
  overFloor(`Memory: peak RSS at ${num(Math.max(...settings.streamLevels))} streams (Switchyard ×1) over the Node floor's`, 2);
  await startToReady(bench);
  if (bench.options.soakMs > 0) await soak(bench);
  else bench.report.check('Memory: soak RSS slope (Switchyard ×1)', '< 1 MB/min', 'not run (use --soak 30m)', undefined);
}

const readyBudgetMs = 300;

/**
 * 5a. Start to ready, warm: fresh processes (not the ones under load), each on its own port —
 * Switchyard ×1 as `npm start` starts it with the run's config until GET /readyz answers 200
 * (listening, config loaded in its child, providers built), the Node floor until its port accepts.
 * One unmeasured start each fills the compile cache; then `startRuns` starts, systems alternating.
 */
async function startToReady(bench: Bench): Promise<void> {
  const { paths, options } = bench;
  const runs = options.settings.startRuns;
  const starts: StartCommand[] = [];
  if (find(bench, 'node-floor') !== undefined) starts.push(floorStart(paths.node, paths.root, bench.mockPort));
  if (find(bench, 'switchyard') !== undefined) {
    const configFile = join(paths.work, 'switchyard-startup.yaml');
    writeFileSync(configFile, switchyardYaml(bench.mockPort, 18080, join(paths.work, 'switchyard-startup-state')));
    starts.push(switchyardStart(paths.node, paths.root, 'Switchyard ×1', configFile));
  }
  if (!starts.some((start) => start.ready === 'readyz')) {
    bench.report.check('Start to ready, warm (Switchyard ×1)', `≤ ${readyBudgetMs} ms`, 'not measured (Switchyard ×1 not running)', undefined);
    return;
  }
  bench.log(`[5a] start to ready: ${runs} warm starts of ${starts.map((start) => start.label).join(' and ')}`);
  const load = loadavg();
  const samples = new Map<StartCommand, StartSample[]>(starts.map((start) => [start, []]));
  try {
    for (const start of starts) await timeOneStart(start, 0);
    for (let round = 0; round < runs; round++) {
      const shift = round % starts.length;
      for (const start of [...starts.slice(shift), ...starts.slice(0, shift)]) samples.get(start)!.push(await timeOneStart(start));
    }
  } catch (error) {
    bench.report.note(`start to ready failed: ${(error as Error).message}`);
    bench.report.check('Start to ready, warm (Switchyard ×1)', `≤ ${readyBudgetMs} ms`, 'failed', undefined);
    return;
  }
  const summaries = starts.map((start) => summarize(start.label, samples.get(start)!));
  const rows = summaries.map((summary) => {
    const ready = summary.samples.map((sample) => sample.readyMs).sort((a, b) => a - b);
    return [summary.label, num(summary.readyMs), `${num(ready[0])}–${num(ready.at(-1))}`, num(summary.idleRssMb)];
  });
  bench.report.add(`### 5a. Start to ready\n\nWall time from spawn to ready, warm (the compile cache filled by one unmeasured start), median of ${runs} starts, ` +
    `systems alternating, each a fresh process: Switchyard ×1 as \`npm start\` starts it with this run's config, ready when \`GET /readyz\` answers 200 ` +
    `(listening, config loaded, providers built); the Node floor ready when its port accepts. Idle RSS one second after ready. ` +
    `Load average ${load.map((value) => value.toFixed(2)).join(' ')} when it began.\n\n` +
    table(['system', 'start to ready ms (median)', 'range ms', 'idle RSS MB'], rows));
  const gateway = summaries.find((summary) => summary.label === 'Switchyard ×1')!;
  const floor = summaries.find((summary) => summary.label === 'Node floor');
  bench.report.check('Start to ready, warm (Switchyard ×1)', `≤ ${readyBudgetMs} ms`,
    `${num(gateway.readyMs)} ms${floor === undefined ? '' : ` (Node floor to listening: ${num(floor.readyMs)} ms)`}`, gateway.readyMs <= readyBudgetMs);
}

async function soak(bench: Bench): Promise<void> {
  const system = find(bench, 'switchyard');
  if (system === undefined) {
    bench.report.check('Memory: soak RSS slope (Switchyard ×1)', '< 1 MB/min', 'not measured (Switchyard ×1 not running)', undefined);
    return;
  }
  const durationMs = bench.options.soakMs;
  const seconds = Math.round(durationMs / 1000);
  bench.log(`[5] soak: ${num(seconds / 60, 1)} min of wrk (64 connections, 20 ms mock) plus 50 concurrent streams against ${system.label}`);
  const target = system.target(profiles.lat20, false);
  const script = writeWrkScript(bench.paths.work, `${system.id}-lat20`, target);
  bench.rss.begin('soak');
  const started = Date.now();
  const progress = setInterval(() => {
    const latest = bench.rss.samples.at(-1)?.mb.switchyard;
    bench.log(`[5] soak: ${num((Date.now() - started) / 60_000, 1)} min, RSS ${num(latest)} MB`);
  }, 60_000);
  try {
    const [load, streams] = await Promise.all([
      runWrk(system, target, script, 64, seconds),
      runClient(bench.paths, system, system.target(profiles.s64, true), {
        mode: 'streams', concurrency: 50, rampMs: 500, durationMs, intervalMs: profiles.s64.intervalMs, stallMs: 50,
      }),
    ]);
    bench.rss.end('soak');
    const points = bench.rss.points('switchyard').filter(([time]) => time >= (started - bench.rss.originMs) / 1000 + (seconds * 0.2));
    const perMinute = slope(points) * 60;
    const first = points[0]?.[1];
    const last = points.at(-1)?.[1];
    bench.report.add(`### 5b. Soak\n\n${system.label} for ${num(seconds / 60, 1)} min: wrk at 64 connections against the 20 ms mock plus 50 concurrent 64-delta streams. ` +
      `Slope = least-squares fit of RSS over time, leaving out the first 20 % (warm-up).\n\n` +
      table(['requests', 'streams', 'errors', 'RSS after warm-up MB', 'RSS at end MB', 'slope MB/min'],
        [[num(load.requests), num(streams.completed), num(load.errors + streams.errors), num(first), num(last), num(perMinute, 2)]]));
    bench.report.check('Memory: soak RSS slope (Switchyard ×1)', '< 1 MB/min', `${num(perMinute, 2)} MB/min over ${num(seconds / 60, 1)} min`, Number.isFinite(perMinute) ? perMinute < 1 : undefined);
  } finally {
    clearInterval(progress);
  }
}
