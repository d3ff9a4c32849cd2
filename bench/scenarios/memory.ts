// Scenario 5: memory. RSS (VmRSS summed over each system's processes) idle after start-up, peak
// while scenarios 3 and 4 ran, after load (after a rest), and the lifetime peak (VmHWM). With
// --soak D, Switchyard ×1 carries steady mixed load for D and the RSS slope is reported.
import { runClient } from '../lib/client.ts';
import { find, type Bench } from '../lib/context.ts';
import { hwmMb, sleep } from '../lib/processes.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratioTable, table, type Metric } from '../lib/report.ts';
import { slope } from '../lib/stats.ts';
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
  check('Memory: idle RSS (Switchyard ×1)', 70, value(0));
  check('Memory: peak RSS under scenario 3 (Switchyard ×1)', 150, value(1));
  check(`Memory: peak RSS at ${num(Math.max(...settings.streamLevels))} streams (Switchyard ×1)`, 150, value(2));
  if (bench.options.soakMs > 0) await soak(bench);
  else bench.report.check('Memory: soak RSS slope (Switchyard ×1)', '< 1 MB/min', 'not run (use --soak 30m)', undefined);
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
