// Scenario 6: translation cost. The same OpenAI-dialect streams through Switchyard ×1, once
// passed through to an OpenAI-dialect provider and once translated to an Anthropic-dialect one
// (the mock's Messages API SSE); CPU per stream of the two, and their ratio. Skipped, saying
// so, while the gateway's config refuses `type: anthropic`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runClient, type ClientRun } from '../lib/client.ts';
import type { Bench } from '../lib/context.ts';
import { loadNote, trackOwnProcesses } from '../lib/noise.ts';
import { freePort, runToEnd } from '../lib/processes.ts';
import { mockBaseUrl, profiles } from '../lib/profiles.ts';
import { num, ratio, table, times } from '../lib/report.ts';
import { startSwitchyard, switchyardYaml, System, type Target } from '../lib/systems.ts';

const anthropicModel = 'anthropic-s64';
const budgetLine = 'Translation: OpenAI-in → Anthropic-out streaming CPU ÷ pass-through';

export async function translation(bench: Bench): Promise<void> {
  const port = await freePort();
  const configFile = join(bench.paths.work, 'switchyard-anthropic.yaml');
  writeFileSync(configFile, switchyardYaml(bench.mockPort, port, join(bench.paths.work, 'translation-state'), [
    { name: 'mock-anthropic', type: 'anthropic', baseUrl: mockBaseUrl(bench.mockPort, profiles.s64), models: [anthropicModel] },
  ]));
  const check = await runToEnd('check-config', bench.paths.node, ['src/cli/main.ts', 'check-config', configFile], 30_000, { cwd: bench.paths.root });
  if (check.code !== 0) {
    const problems = (check.stderr + check.stdout).trim();
    const reason = /type/.test(problems) ? 'skipped: the gateway has no anthropic provider yet' : `skipped: check-config refused the config: ${problems.split('\n')[0]}`;
    bench.log(`[6] translation: ${reason}`);
    bench.report.add(`## 6. Translation cost\n\n${reason} (\`check-config\` on a config with \`type: anthropic\`: \`${problems.split('\n')[0]}\`). ` +
      `The mock's Anthropic dialect (Messages JSON and SSE) and this scenario's code are ready for it.`);
    bench.report.check(budgetLine, '≤ 1.5×', reason, undefined);
    return;
  }

  const system = new System('switchyard', port, bench.mockPort);
  try {
    await startSwitchyard(system, bench.paths, configFile, '1');
    trackOwnProcesses(() => system.pids());
    system.checkPort();
    const { settings } = bench.options;
    const concurrency = 100;
    const kinds: [string, Target][] = [
      ['pass-through (OpenAI → OpenAI)', system.target(profiles.s64, true)],
      ['translated (OpenAI → Anthropic)', system.target(profiles.s64, true, anthropicModel)],
    ];
    const runs = new Map<string, ClientRun[]>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const [name, target] of round % 2 === 0 ? kinds : [...kinds].reverse()) {
        system.checkPort();
        const run = await runClient(bench.paths, system, target, {
          mode: 'streams', concurrency, rampMs: 500, streamsPerConnection: settings.streamsPerConnection,
          intervalMs: profiles.s64.intervalMs, stallMs: 50, deadlineMs: 60_000,
        });
        runs.set(name, [...(runs.get(name) ?? []), run]);
        bench.log(`[6] translation · ${name} · round ${round + 1}: ${run.completed} streams, ${num(run.cpuUs / Math.max(1, run.completed))} µs CPU/stream, ${run.errors} errors${loadNote(run.outsideLoad)}`);
      }
    }
    const cpu = (name: string) => {
      const list = runs.get(name) ?? [];
      const streams = list.reduce((sum, run) => sum + run.completed, 0);
      return streams === 0 ? undefined : list.reduce((sum, run) => sum + run.cpuUs, 0) / streams;
    };
    const rows = kinds.map(([name]) => {
      const list = runs.get(name) ?? [];
      return [name, num(list.reduce((sum, run) => sum + run.completed, 0)), num(cpu(name)), num(Math.max(...list.map((run) => run.ttftUs.p99)) / 1000, 2),
        num(list.reduce((sum, run) => sum + run.errors, 0))];
    });
    const cost = ratio(cpu(kinds[1]![0]), cpu(kinds[0]![0]));
    bench.report.add(`## 6. Translation cost\n\nSwitchyard ×1, ${concurrency} concurrent streams of 64 deltas, ${settings.streamsPerConnection} per connection, ${settings.rounds} round(s).\n\n` +
      table(['path', 'streams', 'CPU µs/stream', 'TTFT p99 ms', 'errors'], rows) + `\n\nTranslated ÷ pass-through CPU: **${times(cost)}**`);
    bench.report.check(budgetLine, '≤ 1.5×', times(cost), cost === undefined ? undefined : cost <= 1.5);
  } catch (error) {
    bench.report.note(`translation scenario failed: ${(error as Error).message}`);
    bench.report.check(budgetLine, '≤ 1.5×', 'failed', undefined);
  } finally {
    await system.stop();
  }
}
