// The report file of a run: title, machine, commit under test, budget, how the run was made,
// notes, the scenarios' sections and the charts. The final report and the interim ones of a soak
// still running (or cut short) are rendered by this one function; an interim one says so first.
import { durationLabel, type BenchOptions } from './options.ts';
import { num, type Report } from './report.ts';
import type { SystemId } from './systems.ts';

export interface DocumentInput {
  options: BenchOptions;
  /** Local date the run started (YYYY-MM-DD). */
  date: string;
  /** `describeCommit`, read when the run started. */
  commit: string;
  machine: readonly string[];
  /** The systems measured, in report order, and those that were not (with why). */
  systems: readonly { label: string }[];
  failures: readonly { label: string; failure: string | undefined }[];
  report: Report;
  chartFiles: readonly string[];
  /** Since the harness started. */
  elapsedMs: number;
  /** What Switchyard ×1's access log came to, e.g. "101.0 MB of access log written by Switchyard ×1". */
  accessLog: string;
  /** `noiseSummary()`. */
  noise: string | undefined;
}

export function renderDocument(input: DocumentInput): string {
  const { options, report } = input;
  const { settings } = options;
  const measured = (id: SystemId) => options.systems.includes(id);
  const when = report.interruption === undefined ? `finished in ${num(input.elapsedMs / 60_000, 1)} min`
    : `not finished: this file was written ${num(input.elapsedMs / 60_000, 1)} min after the start`;
  const run = [
    `Commit under test: ${input.commit}.`,
    options.soakProfile === undefined
      ? `Mode: ${options.quick ? 'quick (`--quick`)' : 'full'}; ${settings.rounds} round(s), systems alternating (order rotated each round); ` +
        `scenarios ${[...options.scenarios].sort().join(', ')}; ${when}.`
      : `Mode: \`--soak ${durationLabel(options.soakMs)} --profile ${options.soakProfile}\` (the agent-fleet soak alone, after a ${settings.warmupSeconds} s warm-up); ${when}.`,
    `Systems: ${input.systems.map((system) => system.label).join(', ')}${input.failures.length > 0 ? `; not measured: ${input.failures.map((system) => `${system.label} (${system.failure})`).join('; ')}` : ''}.`,
    `Everything on 127.0.0.1: one Node mock upstream (all profiles by path), wrk 4.1 (-t1) or the Node load client (bench/clients) as separate processes.`,
    `Switchyard: started as \`npm start\` starts it (\`bin/switchyard.js --config … --workers 1|auto\`, pinned Node), default features on: ` +
      `client key auth (\`auth.keys\`), the per-request JSON access log at \`info\` to a file (${input.accessLog}), Prometheus metrics, usage and cost recorded to SQLite (in bench/.work), routing with retries and health.`,
    ...(measured('node-floor') ? [`Node floor: bench/floor/proxy.mjs — node:http in, one undici Pool out, bytes through, nothing else: what any Node gateway costs at least.`] : []),
    ...(input.noise === undefined ? [] : [input.noise]),
    ...(measured('nginx') ? [`nginx: 1 worker process, upstream keep-alive pool, \`proxy_buffering off\`, buffered access log to a file.`] : []),
    ...(measured('portkey') ? [`Portkey: \`@portkey-ai/gateway\` from npm in bench/.work/portkey, pointed at the mock with \`x-portkey-provider: openai\` and \`x-portkey-custom-host\`; ` +
      `preload bench/portkey/preload.ts ignores its \`TypeError: immutable\` on streams and binds it to 127.0.0.1.`] : []),
  ];
  const images = input.chartFiles.map((file) => `![${file.split('/').pop()}](${file.split('/').pop()})`).join('\n\n');
  const title = options.soakProfile === undefined ? `# Switchyard benchmark — ${input.date}${options.quick ? ' (quick)' : ''}`
    : `# Switchyard agent-fleet soak — ${input.date}, ${durationLabel(options.soakMs)}${options.soakMs < 3 * 3_600_000 ? ' (trial run: the issue\'s soak is 3 h)' : ''}`;
  const interruption = report.interruption === undefined ? [] : [
    `> **⏸ Not the final report — ${report.interruption}.** While a soak runs, this file is rewritten from the load client's latest checkpoint ` +
      `(written every minute) every 5 minutes, and the final report replaces it when the soak ends. If it still reads like this, the run was cut short ` +
      `(or is still going): every figure covers only the minutes measured, and a budget row marked ⏸ holds so far, not for the whole soak.`,
    '',
  ];
  return [
    title,
    '',
    ...interruption,
    options.soakProfile === undefined
      ? 'Load generator, mock and the system under test share this machine\'s cores, so absolute numbers drift from run to run: ' +
        'the headline is the **ratio** to the baselines measured in the same run (direct path, nginx, Portkey).'
      : 'Load client, mock and Switchyard share this machine\'s cores with whatever else runs on it: the latency and event-loop figures are absolute, ' +
        'read them beside the load average and the outside CPU reported with them. Errors and the RSS slope do not depend on the machine\'s speed.',
    '',
    '## Machine', '', ...input.machine.map((line) => `- ${line}`), '',
    '## Budget', '', report.budgetTable(), '',
    '## How this run was made', '', ...run.map((line) => `- ${line}`), '',
    ...(report.notes.length > 0 ? ['## Notes', '', ...report.notes.map((note) => `- ${note}`), ''] : []),
    ...report.sections.flatMap((section) => [section, '']),
    '## Charts', '', images, '',
  ].join('\n');
}
