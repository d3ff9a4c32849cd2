// `npm run bench`: starts the mock, nginx, Portkey and Switchyard (1 worker and auto) on
// 127.0.0.1, runs the scenarios with wrk and the Node load client, and writes the report
// (bench/results/<date>.md, SVG charts next to it). Everything it starts it stops, Ctrl-C too.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runClient } from './lib/client.ts';
import type { Bench } from './lib/context.ts';
import { parseOptions, scenarioNames, usage, type BenchOptions } from './lib/options.ts';
import { assertPortOwner, commandExists, freePort, installCleanup, portOwners, sleep, startProcess, stopProcess, waitForPort } from './lib/processes.ts';
import { noiseSummary, trackOwnProcesses } from './lib/noise.ts';
import { profiles } from './lib/profiles.ts';
import { describeMachine, num, Report } from './lib/report.ts';
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
    if (/^(wrk-.*\.lua|client-body-.*\.json|switchyard.*\.(yaml|log|err)|(mock|portkey|redis)\.(log|err)|nginx|plugins-bench(-state-.*)?|switchyard-state-(on|off)-state)$/.test(name)) rmSync(join(paths.work, name), { recursive: true, force: true });
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
    writeFileSync(`${prefix}-ladder.svg`, svgDocument([
      lineChart({ title: 'Throughput against concurrency (60 ms mock)', xLabel: 'concurrent connections', yLabel: 'requests/s', series: [...series('rps'), ceiling], categories: levels }),
      lineChart({ title: 'p99 latency against concurrency (60 ms mock)', xLabel: 'concurrent connections', yLabel: 'p99 ms', series: series('p99Ms'), categories: levels }),
    ]));
    written.push(`${prefix}-ladder.svg`);
  }
  const rss: Series[] = bench.systems.filter((system) => system.process !== undefined)
    .map((system) => ({ name: system.label, color: colors[system.id], points: bench.rss.points(system.id) }));
  writeFileSync(`${prefix}-rss.svg`, svgDocument([lineChart({ title: 'RSS over the run (dotted lines: scenario starts)', xLabel: 'seconds since start', yLabel: 'RSS MB', series: rss, width: 1040, markers })], 1040));
  written.push(`${prefix}-rss.svg`);
  return written;
}

/** `10m`, `3h`, `90s`: for the soak report's file name. */
function durationLabel(milliseconds: number): string {
  if (milliseconds % 3_600_000 === 0) return `${milliseconds / 3_600_000}h`;
  if (milliseconds % 60_000 === 0) return `${milliseconds / 60_000}m`;
  return `${Math.round(milliseconds / 1000)}s`;
}

function renderReport(bench: Bench, options: BenchOptions, machine: string[], chartFiles: string[], failures: System[]): string {
  const { settings } = options;
  const switchyardLog = join(paths.work, 'switchyard-access.log');
  const logSize = existsSync(switchyardLog) ? `${num(statSync(switchyardLog).size / 2 ** 20, 1)} MB of access log written by Switchyard ×1` : 'no access log found';
  const measured = (id: SystemId) => options.systems.includes(id);
  const run = [
    options.soakProfile === undefined
      ? `Mode: ${options.quick ? 'quick (`--quick`)' : 'full'}; ${settings.rounds} round(s), systems alternating (order rotated each round); ` +
        `scenarios ${[...options.scenarios].sort().join(', ')}; finished in ${num((Date.now() - startedAt) / 60_000, 1)} min.`
      : `Mode: \`--soak ${durationLabel(options.soakMs)} --profile ${options.soakProfile}\` (the agent-fleet soak alone, after a ${settings.warmupSeconds} s warm-up); ` +
        `finished in ${num((Date.now() - startedAt) / 60_000, 1)} min.`,
    `Systems: ${bench.systems.map((system) => system.label).join(', ')}${failures.length > 0 ? `; not measured: ${failures.map((system) => `${system.label} (${system.failure})`).join('; ')}` : ''}.`,
    `Everything on 127.0.0.1: one Node mock upstream (all profiles by path), wrk 4.1 (-t1) or the Node load client (bench/clients) as separate processes.`,
    `Switchyard: started as \`npm start\` starts it (\`bin/switchyard.js --config … --workers 1|auto\`, pinned Node), default features on: ` +
      `client key auth (\`auth.keys\`), the per-request JSON access log at \`info\` to a file (${logSize}), Prometheus metrics, usage and cost recorded to SQLite (in bench/.work), routing with retries and health.`,
    ...(measured('node-floor') ? [`Node floor: bench/floor/proxy.mjs — node:http in, one undici Pool out, bytes through, nothing else: what any Node gateway costs at least.`] : []),
    ...(noiseSummary() === undefined ? [] : [noiseSummary()!]),
    ...(measured('nginx') ? [`nginx: 1 worker process, upstream keep-alive pool, \`proxy_buffering off\`, buffered access log to a file.`] : []),
    ...(measured('portkey') ? [`Portkey: \`@portkey-ai/gateway\` from npm in bench/.work/portkey, pointed at the mock with \`x-portkey-provider: openai\` and \`x-portkey-custom-host\`; ` +
      `preload bench/portkey/preload.ts ignores its \`TypeError: immutable\` on streams and binds it to 127.0.0.1.`] : []),
  ];
  const images = chartFiles.map((file) => `![${file.split('/').pop()}](${file.split('/').pop()})`).join('\n\n');
  const title = options.soakProfile === undefined ? `# Switchyard benchmark — ${localDate()}${options.quick ? ' (quick)' : ''}`
    : `# Switchyard agent-fleet soak — ${localDate()}, ${durationLabel(options.soakMs)}${options.soakMs < 3 * 3_600_000 ? ' (trial run: the issue\'s soak is 3 h)' : ''}`;
  return [
    title,
    '',
    options.soakProfile === undefined
      ? 'Load generator, mock and the system under test share this machine\'s cores, so absolute numbers drift from run to run: ' +
        'the headline is the **ratio** to the baselines measured in the same run (direct path, nginx, Portkey).'
      : 'Load client, mock and Switchyard share this machine\'s cores with whatever else runs on it: the latency and event-loop figures are absolute, ' +
        'read them beside the load average and the outside CPU reported with them. Errors and the RSS slope do not depend on the machine\'s speed.',
    '',
    '## Machine', '', ...machine.map((line) => `- ${line}`), '',
    '## Budget', '', bench.report.budgetTable(), '',
    '## How this run was made', '', ...run.map((line) => `- ${line}`), '',
    ...(bench.report.notes.length > 0 ? ['## Notes', '', ...bench.report.notes.map((note) => `- ${note}`), ''] : []),
    ...bench.report.sections.flatMap((section) => [section, '']),
    '## Charts', '', images, '',
  ].join('\n');
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
  log(`Switchyard benchmark (${options.quick ? 'quick' : 'full'}): scenarios ${[...options.scenarios].join(', ')}; systems ${options.systems.join(', ')}`);

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
  await warmUp(bench);

  const markers: [number, string][] = [];
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

  // A soak shorter than the issue's 3 hours is a trial, and its file says so.
  const soakName = `${localDate()}-soak-${options.soakProfile}-${durationLabel(options.soakMs)}${options.soakMs < 3 * 3_600_000 ? '-trial' : ''}`;
  const prefix = join(resultsDir, options.soakProfile !== undefined ? soakName
    : options.partial ? `${localDate()}-partial` : localDate());
  const chartFiles = charts(bench, prefix, markers);
  const machine = describeMachine(paths.node, portkeyVersion(paths));
  for (const system of all) await system.stop();
  await stopProcess(mock);
  const leftovers = [mockPort, ...all.map((system) => system.port)].filter((port) => portOwners(port).pids.length > 0);
  if (leftovers.length > 0) report.note(`ports still listening after the stop: ${leftovers.join(', ')}`);

  writeFileSync(`${prefix}.md`, renderReport(bench, options, machine, chartFiles, all.filter((system) => !system.usable)));
  if (!options.partial && options.soakProfile === undefined) writeFileSync(join(resultsDir, 'latest.md'), `# Latest benchmark results\n\n[${localDate()}](${localDate()}.md)${options.quick ? ' (quick run)' : ''}\n`);
  process.stdout.write(`\n## Budget\n\n${report.budgetTable()}\n\n`);
  log(`report: ${prefix}.md (charts: ${chartFiles.map((file) => file.split('/').pop()).join(', ')})`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
