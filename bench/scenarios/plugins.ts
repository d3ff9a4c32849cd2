// Scenario 8: plugins (issue #18). Switchyard ×1 started once per config variant — no plugin, a
// no-op JS onRequest, a no-op Lua on_request, a no-op JS onStreamEvent — each its own process with
// the same config besides `plugins:`, the variants rotated round by round. Small requests (the
// saturation scenario's 0 ms mock and request, wrk) for the request hooks, streams (scenario 4b's
// 64-delta profile, 100 connections) for the stream hook: CPU per request, stream and event, and
// the difference from no plugin. That difference includes the canonical view a hook needs (the
// request parsed and encoded again; for a stream hook the stream translated both ways), so the
// hook alone comes from the micro benchmarks (bench/micro/plugin-hooks.ts, lua-hook.ts), run here
// as child processes: those are the figures the issue's budget lines are held to.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runClient, type ClientRun } from '../lib/client.ts';
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { luaHookOnlyUs, parseLuaHookOutput, parsePluginHooksOutput, type LuaHookFigures, type PluginHooksFigures } from '../lib/micro-output.ts';
import { loadNote, trackOwnProcesses } from '../lib/noise.ts';
import { freePort, runToEnd } from '../lib/processes.ts';
import { profiles } from '../lib/profiles.ts';
import { num, signed, table } from '../lib/report.ts';
import { startSwitchyard, switchyardYaml, System } from '../lib/systems.ts';
import { combineRounds, runWrk, writeWrkScript, type LoadResult } from '../lib/wrk.ts';

export type VariantId = 'none' | 'js-noop-request' | 'lua-noop-request' | 'js-noop-stream';
export type PluginLoad = 'requests' | 'streams';

export interface PluginVariant {
  id: VariantId;
  /** What the variant configures, for the report. */
  description: string;
  /** The loads it is measured on (`none` is the baseline of both). */
  loads: readonly PluginLoad[];
  /** The plugin file it writes into the plugin folder, if any. */
  file: { name: string; text: string } | undefined;
}

/** The plugin files' folder in the work directory, next to the variants' configs. */
export const pluginFolder = 'plugins-bench';

export const pluginVariants: readonly PluginVariant[] = [
  { id: 'none', description: 'no `plugins:` (the baseline)', loads: ['requests', 'streams'], file: undefined },
  {
    id: 'js-noop-request', description: 'one JS plugin with a no-op `onRequest`', loads: ['requests'],
    file: { name: 'noop-request.mjs', text: "export default { name: 'bench-noop-request', hooks: { onRequest() {} } };\n" },
  },
  {
    id: 'lua-noop-request', description: 'one Lua plugin with a no-op `on_request`', loads: ['requests'],
    file: { name: 'noop-request.lua', text: 'return { on_request = function(req) return nil end }\n' },
  },
  {
    id: 'js-noop-stream', description: 'one JS plugin with a no-op `onStreamEvent`', loads: ['streams'],
    file: { name: 'noop-stream.mjs', text: "export default { name: 'bench-noop-stream', hooks: { onStreamEvent() {} } };\n" },
  },
];

/** The variant's `plugins:` lines of switchyard.yaml (paths relative to the config, which sits in the work directory). */
export function pluginYaml(variant: PluginVariant): string[] {
  return variant.file === undefined ? [] : ['plugins:', `  - use: ./${pluginFolder}/${variant.file.name}`];
}

/** SSE events per stream of the mock's OpenAI profile: the deltas and the closing chunk (finish reason, usage); `[DONE]` not counted. */
export function eventsPerStream(deltas: number): number {
  return Math.max(1, deltas) + 1;
}

const connections = 64;
const streamConnections = 100;
const stallMs = 50;
const microArgs = ['--rounds', '5', '--iterations', '20000'];
const micro = { hooks: 'bench/micro/plugin-hooks.ts', lua: 'bench/micro/lua-hook.ts' };

const lines = {
  jsHook: 'Plugins: a no-op JS onRequest, per request — the hook alone (bench/micro/plugin-hooks.ts)',
  jsEndToEnd: 'Plugins: a no-op JS onRequest, per request — end to end over no plugin (includes the canonical view)',
  luaHook: 'Plugins: a no-op Lua on_request, per request — the hook alone (bench/micro/lua-hook.ts + the host\'s part)',
  luaEndToEnd: 'Plugins: a no-op Lua on_request, per request — end to end over no plugin (includes the canonical view)',
  streamHook: 'Plugins: a no-op JS onStreamEvent, per event — the hook alone (bench/micro/plugin-hooks.ts)',
  streamEndToEnd: 'Plugins: a no-op JS onStreamEvent, per event — end to end over no plugin (stream translated both ways)',
} as const;
const reported = 'reported (no limit set)';

function firstLines(text: string, count = 2): string {
  return text.trim().split('\n').map((line) => line.trim()).filter((line) => line !== '').slice(0, count).join(' / ');
}

function stderrTail(bench: Bench, logName: string): string {
  const file = join(bench.paths.work, `${logName}.err`);
  if (!existsSync(file)) return '';
  const tail = readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' / ');
  return tail === '' ? '' : ` (stderr: ${tail.slice(0, 300)})`;
}

/** One request of each load the variant is measured on: a whole answer, the end marker on a stream. */
async function probe(system: System, load: PluginLoad): Promise<void> {
  const target = load === 'requests' ? system.target(profiles.lat0, false) : system.target(profiles.ttft, true);
  const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
    method: 'POST', headers: [...target.headers, ['content-type', 'application/json']], body: target.body, signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const whole = load === 'requests' ? text.includes('"chat.completion"') : text.includes('data: [DONE]');
  if (response.status !== 200 || !whole) throw new Error(`probe (${load}) answered ${response.status}: ${text.slice(0, 200)}`);
}

/** check-config, start, probe: the running variant, or why it is skipped. */
export async function startVariant(bench: Bench, variant: PluginVariant): Promise<System | string> {
  const port = await freePort();
  const logName = `switchyard-plugins-${variant.id}`;
  const configFile = join(bench.paths.work, `${logName}.yaml`);
  writeFileSync(configFile, switchyardYaml(bench.mockPort, port, join(bench.paths.work, `${pluginFolder}-state-${variant.id}`), [], pluginYaml(variant)));
  const check = await runToEnd('check-config', bench.paths.node, ['src/cli/main.ts', 'check-config', configFile], 30_000, { cwd: bench.paths.root });
  if (check.code !== 0) return `check-config refused the config: ${firstLines(check.stderr + check.stdout)}`;
  const system = new System('switchyard', port, bench.mockPort);
  try {
    await startSwitchyard(system, bench.paths, configFile, '1', logName);
    system.checkPort();
    for (const load of variant.loads) await probe(system, load);
    return system;
  } catch (error) {
    await system.stop();
    return `did not start or answer: ${(error as Error).message}${stderrTail(bench, logName)}`;
  }
}

interface Running {
  variant: PluginVariant;
  system: System;
}

async function warmUp(bench: Bench, running: readonly Running[]): Promise<void> {
  const seconds = bench.options.settings.warmupSeconds;
  for (const { variant, system } of running) {
    if (variant.loads.includes('requests')) {
      const target = system.target(profiles.lat0, false);
      await runWrk(system, target, writeWrkScript(bench.paths.work, `plugins-${variant.id}-warmup`, target), connections, seconds);
    }
    if (variant.loads.includes('streams')) {
      await runClient(bench.paths, system, system.target(profiles.ttft, true), { mode: 'streams', concurrency: 8, durationMs: seconds * 1000, intervalMs: profiles.ttft.intervalMs });
    }
  }
}

async function measureRequests(bench: Bench, running: readonly Running[]): Promise<Map<VariantId, LoadResult[]>> {
  const { settings } = bench.options;
  const scripts = new Map(running.map(({ variant, system }) => {
    const target = system.target(profiles.lat0, false);
    return [variant.id, { target, script: writeWrkScript(bench.paths.work, `plugins-${variant.id}-lat0`, target) }] as const;
  }));
  const results = new Map<VariantId, LoadResult[]>();
  for (let round = 0; round < settings.pluginRounds; round++) {
    for (const { variant, system } of roundOrder(running, round)) {
      checkPorts(bench);
      system.checkPort();
      const { target, script } = scripts.get(variant.id)!;
      const result = await runWrk(system, target, script, connections, settings.pluginSeconds);
      results.set(variant.id, [...(results.get(variant.id) ?? []), result]);
      bench.log(`[8] plugins · ${variant.id} · requests · round ${round + 1}: ${num(result.rps)} req/s, ${num(result.cpuPerRequestUs, 1)} µs CPU/req, ${result.errors} errors${loadNote(result.outsideLoad)}`);
    }
  }
  return results;
}

async function measureStreams(bench: Bench, running: readonly Running[]): Promise<Map<VariantId, ClientRun[]>> {
  const { settings } = bench.options;
  const runs = new Map<VariantId, ClientRun[]>();
  for (let round = 0; round < settings.pluginRounds; round++) {
    for (const { variant, system } of roundOrder(running, round)) {
      checkPorts(bench);
      system.checkPort();
      const run = await runClient(bench.paths, system, system.target(profiles.s64, true), {
        mode: 'streams', concurrency: streamConnections, rampMs: 500, streamsPerConnection: settings.pluginStreamsPerConnection,
        intervalMs: profiles.s64.intervalMs, stallMs, deadlineMs: 60_000,
      });
      runs.set(variant.id, [...(runs.get(variant.id) ?? []), run]);
      bench.log(`[8] plugins · ${variant.id} · streams · round ${round + 1}: ${run.completed} streams, ${num(run.cpuUs / Math.max(1, run.completed))} µs CPU/stream, ${run.errors} errors${loadNote(run.outsideLoad)}`);
      if (run.errors > 0) bench.log(`    errors: ${run.errorSamples.join('; ')}`);
    }
  }
  return runs;
}

interface MicroRun<T> {
  figures: T | undefined;
  /** Why there are no figures. */
  failure: string | undefined;
}

async function runMicro<T>(bench: Bench, script: string, parse: (text: string) => T | undefined): Promise<MicroRun<T>> {
  try {
    const result = await runToEnd(script, bench.paths.node, [join(bench.paths.root, script), ...microArgs], 180_000, { cwd: bench.paths.root });
    const figures = parse(result.stdout);
    if (figures !== undefined) return { figures, failure: undefined };
    return { figures, failure: `${script} (exit ${result.code}) printed no figures: ${firstLines(result.stderr || result.stdout).slice(0, 300)}` };
  } catch (error) {
    return { figures: undefined, failure: `${script} failed: ${(error as Error).message}` };
  }
}

/** CPU per request of the rounds together, its difference from `none`, and the per-round differences (paired by round). */
function requestFigures(results: Map<VariantId, LoadResult[]>, id: VariantId) {
  const list = results.get(id) ?? [];
  const base = results.get('none') ?? [];
  const cpu = list.length === 0 ? undefined : combineRounds(list).cpuPerRequestUs;
  const baseCpu = base.length === 0 ? undefined : combineRounds(base).cpuPerRequestUs;
  const difference = cpu === undefined || baseCpu === undefined || id === 'none' ? undefined : cpu - baseCpu;
  const perRound = id === 'none' ? [] : list.map((result, round) => base[round] === undefined ? Number.NaN : result.cpuPerRequestUs - base[round]!.cpuPerRequestUs);
  return { list, cpu, difference, perRound };
}

function streamFigures(runs: Map<VariantId, ClientRun[]>, id: VariantId) {
  const perStream = (list: readonly ClientRun[]) => {
    const streams = list.reduce((sum, run) => sum + run.completed, 0);
    return streams === 0 ? undefined : list.reduce((sum, run) => sum + run.cpuUs, 0) / streams;
  };
  const list = runs.get(id) ?? [];
  const base = runs.get('none') ?? [];
  const cpu = perStream(list);
  const baseCpu = perStream(base);
  const difference = cpu === undefined || baseCpu === undefined || id === 'none' ? undefined : cpu - baseCpu;
  const perRound = id === 'none' ? [] : list.map((run, round) => {
    const other = base[round];
    return other === undefined ? Number.NaN : (perStream([run]) ?? Number.NaN) - (perStream([other]) ?? Number.NaN);
  });
  return { list, cpu, difference, perRound };
}

const rounds = (values: readonly number[], digits: number) => values.length < 2 ? '' : ` (${values.map((value) => signed(value, digits)).join(', ')})`;

export async function plugins(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  const events = eventsPerStream(profiles.s64.deltas);
  const skipped = new Map<VariantId, string>();
  const running: Running[] = [];
  let requestResults = new Map<VariantId, LoadResult[]>();
  let streamRuns = new Map<VariantId, ClientRun[]>();
  let failure: string | undefined;

  if (!bench.options.systems.includes('switchyard')) {
    failure = '--systems leaves out switchyard (this scenario measures Switchyard ×1)';
  } else {
    try {
      const folder = join(bench.paths.work, pluginFolder);
      mkdirSync(folder, { recursive: true });
      for (const variant of pluginVariants) if (variant.file !== undefined) writeFileSync(join(folder, variant.file.name), variant.file.text);
      for (const variant of pluginVariants) {
        const outcome = await startVariant(bench, variant);
        if (typeof outcome === 'string') {
          skipped.set(variant.id, outcome);
          bench.log(`[8] plugins · ${variant.id}: skipped: ${outcome}`);
        } else {
          running.push({ variant, system: outcome });
          bench.log(`[8] plugins · ${variant.id}: Switchyard ×1 on 127.0.0.1:${outcome.port} (pid ${outcome.process?.pid})`);
        }
      }
      trackOwnProcesses(() => running.flatMap(({ system }) => system.pids()));
      if (skipped.has('none')) throw new Error(`the baseline (no plugin) did not run: ${skipped.get('none')}`);
      await warmUp(bench, running);
      const on = (load: PluginLoad) => running.filter(({ variant }) => variant.loads.includes(load));
      if (on('requests').length > 1) requestResults = await measureRequests(bench, on('requests'));
      if (on('streams').length > 1) streamRuns = await measureStreams(bench, on('streams'));
    } catch (error) {
      failure = (error as Error).message;
      bench.report.note(`plugins scenario: ${failure}`);
    } finally {
      for (const { system } of running) await system.stop();
    }
  }

  // In process, after the gateways stopped: the hook alone, without the canonical view.
  bench.log('[8] plugins · micro benchmarks (the hook alone)…');
  const hooks = await runMicro<PluginHooksFigures>(bench, micro.hooks, parsePluginHooksOutput);
  const lua = await runMicro<LuaHookFigures>(bench, micro.lua, parseLuaHookOutput);
  for (const run of [hooks, lua]) if (run.failure !== undefined) bench.report.note(`plugins scenario: ${run.failure}`);

  const why = (id: VariantId) => skipped.get(id) ?? failure ?? 'not measured';
  const requestRows = pluginVariants.filter((variant) => variant.loads.includes('requests')).map((variant) => {
    const figures = requestFigures(requestResults, variant.id);
    if (figures.list.length === 0) return [variant.id, variant.description, `skipped: ${why(variant.id)}`, '', '', '', '', ''];
    const combined = combineRounds(figures.list);
    return [
      variant.id, variant.description, num(combined.requests), num(combined.rps), num(figures.cpu, 1),
      variant.id === 'none' ? '—' : `${signed(figures.difference, 1)}${rounds(figures.perRound, 1)}`, num(combined.p99Ms, 2),
      combined.errors === 0 ? '0' : `${num(combined.errors)} (${combined.errorDetail})`,
    ];
  });
  const streamRows = pluginVariants.filter((variant) => variant.loads.includes('streams')).map((variant) => {
    const figures = streamFigures(streamRuns, variant.id);
    if (figures.list.length === 0) return [variant.id, variant.description, `skipped: ${why(variant.id)}`, '', '', '', '', '', ''];
    const completed = figures.list.reduce((sum, run) => sum + run.completed, 0);
    const errors = figures.list.reduce((sum, run) => sum + run.errors + run.stalledStreams, 0);
    return [
      variant.id, variant.description, num(completed), num(figures.cpu), variant.id === 'none' ? '—' : `${signed(figures.difference)}${rounds(figures.perRound, 0)}`,
      num(figures.cpu === undefined ? undefined : figures.cpu / events, 2),
      variant.id === 'none' ? '—' : `${signed(figures.difference === undefined ? undefined : figures.difference / events, 2)}${rounds(figures.perRound.map((value) => value / events), 2)}`,
      num(Math.max(...figures.list.map((run) => run.ttftUs.p99)) / 1000, 1), num(errors),
    ];
  });

  const hookFigures = hooks.figures;
  const luaOnly = luaHookOnlyUs(lua.figures, hookFigures);
  const microRows: string[][] = [
    ['a no-op JS `onRequest` through the plugin host, the request already canonical (the hook alone)', 'plugin-hooks.ts', num(hookFigures?.hookOnlyUs, 3)],
    [`the canonical view: decode the ${hookFigures?.bodyBytes === undefined ? '~0.9 KB' : `${num(hookFigures.bodyBytes)} B`} request, the no-op hook, encode again for the provider`, 'plugin-hooks.ts', num(hookFigures?.canonicalViewUs, 2)],
    ['a no-op JS `onStreamEvent` on one text delta, over the surface\'s encoder alone', 'plugin-hooks.ts', num(hookFigures?.streamEventUs, 3)],
    ['a no-op Lua `on_request`, called directly', 'lua-hook.ts', num(lua.figures?.luaNoopRequestUs, 2)],
    ['a no-op Lua `on_request` + the host\'s part (the JS hook-only figure above): the Lua budget figure', 'both', num(luaOnly, 2)],
    ['a no-op Lua `on_stream_event` on a text delta, called directly', 'lua-hook.ts', num(lua.figures?.luaNoopStreamEventUs, 2)],
  ];

  bench.report.add(`## 8. Plugins\n\n` +
    `Switchyard ×1 started once per config variant (each its own process, the same config as the other scenarios' Switchyard ×1 besides \`plugins:\`; ` +
    `plugin files generated in bench/.work/${pluginFolder}), variants rotated round by round, ${settings.pluginRounds} round(s). ` +
    `Requests: wrk -t1 -c${connections}, ${settings.pluginSeconds} s per run, the saturation scenario's 0 ms mock and small chat request. ` +
    `Streams: ${streamConnections} connections × ${settings.pluginStreamsPerConnection} streams of ${profiles.s64.deltas} deltas ${profiles.s64.intervalMs} ms apart (scenario 4b's profile); ` +
    `per event = per SSE chunk the mock sends (${events}: the deltas and the closing chunk with finish reason and usage). ` +
    `CPU = utime+stime of the variant's process over the run ÷ requests (streams) completed; Δ = minus \`none\` in the same run, per-round differences (paired by round) in brackets — ` +
    `their spread is the noise a sub-microsecond difference drowns in.\n\n` +
    `**What the Δ columns include.** A plugin with \`onRequest\` needs the canonical view of the request (docs/plugins.md, "What it costs"): ` +
    `instead of passing the bytes through, Switchyard parses and decodes the body and encodes the request again for the same-dialect provider. ` +
    `A plugin with \`onStreamEvent\` translates the request both ways, each stream chunk decoded and encoded again. ` +
    `So the end-to-end Δ is the view plus the hook, measured through the whole gateway; the hook call alone is what the micro benchmarks below isolate ` +
    `(in process, CPU medians of \`${microArgs.join(' ')}\`), and it is what the issue's budget lines (≤ 1 µs for a no-op JS request hook, ≤ 15 µs for a no-op Lua one) are held to. ` +
    `\`none\` is the configuration every other scenario measures: with no \`plugins:\` each plugin phase is an empty array compiled at config load.\n\n` +
    `### Small requests\n\n` +
    table(['variant', 'config', 'requests', 'req/s', 'CPU µs/req', 'Δ µs/req', 'p99 ms', 'errors'], requestRows) +
    `\n\n### Streams\n\n` +
    table(['variant', 'config', 'streams', 'CPU µs/stream', 'Δ µs/stream', 'CPU µs/event', 'Δ µs/event', 'TTFT p99 ms', 'errors + stalls'], streamRows) +
    `\n\n### The hook alone (micro benchmarks, for reference)\n\n` +
    table(['operation', 'bench/micro/', 'CPU µs'], microRows));

  const jsRequest = requestFigures(requestResults, 'js-noop-request');
  const luaRequest = requestFigures(requestResults, 'lua-noop-request');
  const jsStream = streamFigures(streamRuns, 'js-noop-stream');
  const microFailed = (run: MicroRun<unknown>) => `not measured: ${run.failure ?? '?'}`;
  const endToEnd = (id: VariantId, difference: number | undefined, text: string) => difference === undefined ? `not measured: ${why(id)}` : text;

  bench.report.check(lines.jsHook, '≤ 1 µs', hookFigures === undefined ? microFailed(hooks) : `${num(hookFigures.hookOnlyUs, 3)} µs`,
    hookFigures === undefined ? undefined : hookFigures.hookOnlyUs <= 1);
  bench.report.check(lines.jsEndToEnd, reported, endToEnd('js-noop-request', jsRequest.difference,
    `${signed(jsRequest.difference, 1)} µs/req over ${num(requestFigures(requestResults, 'none').cpu, 1)}${hookFigures === undefined ? '' : ` (the canonical view alone, micro: ${num(hookFigures.canonicalViewUs, 1)} µs)`}`), undefined);
  bench.report.check(lines.luaHook, '≤ 15 µs', luaOnly === undefined ? microFailed(lua) : `${num(luaOnly, 2)} µs${hookFigures === undefined ? ' (the Lua call only: plugin-hooks.ts gave no host figure)' : ''}`,
    luaOnly === undefined ? undefined : luaOnly <= 15);
  bench.report.check(lines.luaEndToEnd, reported, endToEnd('lua-noop-request', luaRequest.difference,
    `${signed(luaRequest.difference, 1)} µs/req over ${num(requestFigures(requestResults, 'none').cpu, 1)}`), undefined);
  bench.report.check(lines.streamHook, reported, hookFigures === undefined ? microFailed(hooks) : `${num(hookFigures.streamEventUs, 3)} µs/event`, undefined);
  bench.report.check(lines.streamEndToEnd, reported, endToEnd('js-noop-stream', jsStream.difference,
    `${signed(jsStream.difference === undefined ? undefined : jsStream.difference / events, 2)} µs/event (${signed(jsStream.difference)} µs per ${profiles.s64.deltas}-delta stream)`), undefined);
}
