// `npm run bench`: starts the mock, nginx, Portkey and Switchyard (1 worker and auto) on
// 127.0.0.1, runs the scenarios with wrk and the Node load client, and writes the report
// (bench/results/<date>.md, SVG charts next to it). Everything it starts it stops, Ctrl-C too.
// A soak's report is also written while it runs (bench/scenarios/agent-soak.ts), to the same files.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './lib/atomic-write.ts';
import { runClient } from './lib/client.ts';
import type { Bench } from './lib/context.ts';
import { durationLabel, parseOptions, scenarioNames, usage, type BenchOptions } from './lib/options.ts';
import { assertPortOwner, commandExists, freePort, installCleanup, portOwners, sleep, startProcess, stopProcess, waitForPort } from './lib/processes.ts';
import { noiseSummary, trackOwnProcesses } from './lib/noise.ts';
import { profiles } from './lib/profiles.ts';
import { describeCommit, describeMachine, num, Report } from './lib/report.ts';
import { renderDocument } from './lib/report-document.ts';
import { RssSampler } from './lib/rss-sampler.ts';
import { lineChart, svgDocument, type Series } from './lib/svg.ts';
import { labels, portkeyVersion, startSystem, type Paths, type System, type SystemId } from './lib/systems.ts';
import { runWrk, writeWrkScript } from './lib/wrk.ts';
import { agentBodies } from './scenarios/agent-bodies.ts';
import { agentSoak, agentSoakConfig } from './scenarios/agent-soak.ts';
import { ladder } from './scenarios/ladder.ts';
import { memory } from './scenarios/memory.ts';
import { oneAtATime } from './scenarios/one-at-a-time.ts';
import { plugins } from './scenarios/plugins.ts';
import { redisState } from './scenarios/redis-state.ts';
import { saturation } from './scenarios/saturation.ts';
import { streaming } from './scenarios/streaming.ts';
import { translation } from './scenarios/translation.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const paths: Paths = { root, work: join(root, 'bench/.work'), node: join(root, 'node_modules/.bin/node') };
const resultsDir = join(root, 'bench/results');
const colors: Record<SystemId, string> = { direct: '#6b7280', nginx: '#16a34a', 'node-floor': '#0891b2', portkey: '#ea580c', switchyard: '#2563eb', 'switchyard-auto': '#7c3aed' };
const runOrder = [1, 2, 3, 7, 4, 6, 8, 9, 5];
const scenarioFunctions: Record<number, (bench: Bench) => Promise<void>> = { 1: oneAtATime, 2: ladder, 3: saturation, 4: streaming, 5: memory, 6: translation, 7: agentBodies, 8: plugins, 9: redisState };

const startedAt = Date.now();
function log(line: string): void {
  process.stdout.write(`[${num((Date.now() - startedAt) / 1000, 0).padStart(4)} s] ${line}\n`);
}

function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!commandExists('wrk')) missing.push('wrk (the load generator): apt-get install -y wrk nginx');
  if (!commandExists('nginx')) missing.push('nginx (the reference proxy): apt-get install -y wrk nginx');
  if (!commandExists('ss')) missing.push('ss (port checks): apt-get install -y iproute2');
  if (!existsSync(paths.node)) missing.push('the pinned Node 24 (node_modules/.bin/node): npm install');
  if (!commandExists('npm')) missing.push('npm (installs Portkey on demand)');
  return missing;
}

function localDate(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

function cleanWork(): void {
  mkdirSync(paths.work, { recursive: true });
  for (const name of readdirSync(paths.work)) {
    // Only what the harness itself generates: others keep scratch files here too.
    if (/^(wrk-.*\.lua|client-body-.*\.json|soak-checkpoint\.json.*|switchyard.*\.(yaml|log|err)|(mock|portkey|redis)\.(log|err)|nginx|plugins-bench(-state-.*)?|switchyard-state-(on|off)-state)$/.test(name)) rmSync(join(paths.work, name), { recursive: true, force: true });
  }
}

async function warmUp(bench: Bench): Promise<void> {
  const seconds = bench.options.settings.warmupSeconds;
  for (const system of bench.systems) {
    const target = system.target(profiles.lat0, false);
    await runWrk(system, target, writeWrkScript(paths.work, `${system.id}-warmup`, target), 32, seconds);
    if (system.streamFailure === undefined) {
      await runClient(paths, system, system.target(profiles.ttft, true), { mode: 'streams', concurrency: 8, durationMs: seconds * 1000, intervalMs: 20 });
    }
    log(`warmed up ${system.label}`);
  }
}

function charts(bench: Bench, prefix: string, markers: readonly [number, string][]): string[] {
  const written: string[] = [];
  if (bench.ladder.size > 0) {
    const levels = bench.options.settings.ladder;
    const series = (pick: 'rps' | 'p99Ms'): Series[] => bench.systems.filter((system) => bench.ladder.has(system.id)).map((system) => ({
      name: system.label, color: colors[system.id], points: bench.ladder.get(system.id)!.map(([level, result]) => [level, result[pick]] as const),
    }));
    const ceiling: Series = { name: "Little's-law ceiling", color: '#9ca3af', dashed: true, points: levels.map((level) => [level, level / 0.06] as const) };
    writeFileAtomic(`${prefix}-ladder.svg`, svgDocument([
      lineChart({ title: 'Throughput against concurrency (60 ms mock)', xLabel: 'concurrent connections', yLabel: 'requests/s', series: [...series('rps'), ceiling], categories: levels }),
      lineChart({ title: 'p99 latency against concurrency (60 ms mock)', xLabel: 'concurrent connections', yLabel: 'p99 ms', series: series('p99Ms'), categories: levels }),
    ]));
    written.push(`${prefix}-ladder.svg`);
  }
  const rss: Series[] = bench.systems.filter((system) => system.process !== undefined)
    .map((system) => ({ name: system.label, color: colors[system.id], points: bench.rss.points(system.id) }));
  writeFileAtomic(`${prefix}-rss.svg`, svgDocument([lineChart({ title: 'RSS over the run (dotted lines: scenario starts)', xLabel: 'seconds since start', yLabel: 'RSS MB', series: rss, width: 1040, markers })], 1040));
  written.push(`${prefix}-rss.svg`);
  return written;
}

function accessLogSize(): string {
  const switchyardLog = join(paths.work, 'switchyard-access.log');
  return existsSync(switchyardLog) ? `${num(statSync(switchyardLog).size / 2 ** 20, 1)} MB of access log written by Switchyard ×1` : 'no access log found';
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (options === undefined) return 0;
  installCleanup();
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    process.stderr.write(`bench: missing prerequisites:\n${missing.map((line) => `  - ${line}`).join('\n')}\n`);
    return 1;
  }
  cleanWork();
  mkdirSync(resultsDir, { recursive: true });
  const report = new Report();
  // Named when the run starts: a soak's interim reports and its final one are the same files, even past midnight.
  const date = localDate();
  const commit = describeCommit(root);
  const soakName = `${date}-soak-${options.soakProfile}-${durationLabel(options.soakMs)}${options.soakMs < 3 * 3_600_000 ? '-trial' : ''}`;
  // A soak shorter than the issue's 3 hours is a trial, and its file says so.
  const prefix = join(resultsDir, options.soakProfile !== undefined ? soakName : options.partial ? `${date}-partial` : date);
  log(`Switchyard benchmark (${options.quick ? 'quick' : 'full'}): scenarios ${[...options.scenarios].join(', ')}; systems ${options.systems.join(', ')}; commit ${commit}`);

  const mockPort = await freePort();
  const mock = startProcess('mock', paths.node, [join(root, 'bench/mock/upstream.ts'), '--port', String(mockPort)], {
    stdout: join(paths.work, 'mock.log'), stderr: join(paths.work, 'mock.err'),
  });
  await waitForPort(mockPort, 10_000, () => mock.running);
  assertPortOwner(mockPort, [mock.pid], 'mock');
  log(`mock upstream on 127.0.0.1:${mockPort} (pid ${mock.pid})`);

  const all: System[] = [];
  for (const id of options.systems) {
    log(`starting ${labels[id]}…`);
    const system = await startSystem(id, mockPort, paths, log, options.soakProfile === 'agents' ? agentSoakConfig(mockPort) : undefined);
    all.push(system);
    if (system.failure !== undefined) report.note(`${system.label} was not measured: ${system.failure}`);
    else log(`${system.label} on 127.0.0.1:${system.port}${system.process === undefined ? '' : ` (pid ${system.process.pid}, ${system.pids().length} process(es))`}`);
  }
  const systems = all.filter((system) => system.usable);
  trackOwnProcesses(() => [mock.pid, ...systems.flatMap((system) => system.pids())]);
  const rss = new RssSampler(systems);
  rss.start(500);
  await sleep(1000);
  const bench: Bench = { options, paths, systems, report, rss, mockPort, mockPid: mock.pid, log, idleRssMb: rss.sample().mb, ladder: new Map() };
  const machine = describeMachine(paths.node, portkeyVersion(paths));
  const markers: [number, string][] = [];
  /** The report file and its charts, from `from` (the run's report, or an interim snapshot of it). */
  const writeReport = (from: Report): string[] => {
    const chartFiles = charts(bench, prefix, markers);
    writeFileAtomic(`${prefix}.md`, renderDocument({
      options: bench.options, date, commit, machine, systems: bench.systems, failures: all.filter((system) => !system.usable), report: from, chartFiles,
      elapsedMs: Date.now() - startedAt, accessLog: accessLogSize(), noise: noiseSummary(),
    }));
    return chartFiles;
  };
  if (options.soakProfile !== undefined) bench.saveInterim = writeReport;
  await warmUp(bench);

  for (const scenario of runOrder) {
    if (!options.scenarios.has(scenario)) continue;
    log(`scenario ${scenario}: ${scenarioNames[scenario]}`);
    markers.push([rss.sample().seconds, `scenario ${scenario}`]);
    try {
      await scenarioFunctions[scenario]!(bench);
    } catch (error) {
      report.note(`scenario ${scenario} (${scenarioNames[scenario]}) failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
  if (options.soakProfile === 'agents') {
    log(`agent-fleet soak: ${durationLabel(options.soakMs)}`);
    markers.push([rss.sample().seconds, 'agent soak']);
    try {
      await agentSoak(bench);
    } catch (error) {
      report.note(`the agent-fleet soak failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
  rss.stop();

  for (const system of all) await system.stop();
  await stopProcess(mock);
  const leftovers = [mockPort, ...all.map((system) => system.port)].filter((port) => portOwners(port).pids.length > 0);
  if (leftovers.length > 0) report.note(`ports still listening after the stop: ${leftovers.join(', ')}`);

  const chartFiles = writeReport(report);
  if (!options.partial && options.soakProfile === undefined) writeFileSync(join(resultsDir, 'latest.md'), `# Latest benchmark results\n\n[${date}](${date}.md)${options.quick ? ' (quick run)' : ''}\n`);
  process.stdout.write(`\n## Budget\n\n${report.budgetTable()}\n\n`);
  log(`report: ${prefix}.md (charts: ${chartFiles.map((file) => file.split('/').pop()).join(', ')})`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
