// How long a usage summary holds the event loop (issue #17): a SQLite usage database with today's
// rows (500,000 by default, shaped like the gateway's, spread from UTC midnight to now), summed
// - before: in one statement on the main thread (SqliteUsageDatabase.summarize, what the store ran);
// - now: in slices, one GROUP BY per macrotask (summarizeInSlices, what the store runs),
// per day (what SpendToday reads at start-up and at each day change) and per model (a dashboard's
// query). A setImmediate ticker runs meanwhile, as requests would: the longest gap between two of
// its turns is the longest the loop was held, in wall time and in the process's CPU time (all its
// threads, so it can exceed the wall time; it
// leaves out the moments a busy machine did not run the process at all). Also the summary's
// wall time and CPU time.
// Run with --expose-gc: the heap is collected before each measurement, so the garbage of filling
// the database is not collected in the middle of one.
// `nice -n 19 npx node --expose-gc bench/micro/usage-summary.ts [--rows 500000] [--rounds 3] [--slice 1024]`
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteUsageDatabase } from '../../src/state/usage-sqlite.ts';
import type { UsageGroup, UsageRow, UsageSummary } from '../../src/state/usage-store.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '3' }, slice: { type: 'string' } } });
const rowCount = Number(values.rows);
const rounds = Number(values.rounds);
const sliceRows = values.slice === undefined ? undefined : Number(values.slice);

const directory = mkdtempSync(join(tmpdir(), 'swy-usage-summary-'));
process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
const database = new SqliteUsageDatabase(join(directory, 'usage.db'));

const DAY_MS = 86_400_000;
const now = Date.now();
const midnight = Math.floor(now / DAY_MS) * DAY_MS;
const MODELS = ['gpt-5-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'bench-model', 'llama3.1:8b'];
function gatewayRow(index: number): UsageRow {
  const model = MODELS[index % MODELS.length]!;
  return {
    time: midnight + Math.floor((index * (now - midnight)) / rowCount), requestId: randomUUID(), keyId: `key-${(index % 7).toString(16).padStart(8, '0')}`,
    surface: 'openai-chat', modelAsked: model, provider: `provider-${index % 3}`, model, fallback: '', status: index % 100 === 0 ? 503 : 200, stream: index % 2 === 0,
    attempts: 1, inputTokens: 12 + (index % 900), outputTokens: 30 + (index % 70), cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0,
    costUsd: index % 11 === 0 ? null : (12 + (index % 900)) * 1.5e-7 + (30 + (index % 70)) * 6e-7, durationMs: 5 + (index % 1000) / 10,
    subscription: false, reportedCostUsd: null, cached: false, team: '', route: '',
  };
}
const filling = performance.now();
for (let start = 0; start < rowCount; start += 5000) {
  database.insert(Array.from({ length: Math.min(5000, rowCount - start) }, (_, i) => gatewayRow(start + i)));
}
console.log(`${rowCount} rows of today written in ${((performance.now() - filling) / 1000).toFixed(1)} s; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);

/** The process's CPU time (process.threadCpuUsage counts in 4 ms ticks here, too coarse for a slice). */
function cpuMicroseconds(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

/** The summary, with a ticker taking every turn of the loop it leaves: the longest gap between two. */
async function measure(summarize: () => Promise<UsageSummary[]> | UsageSummary[]): Promise<{ longestMs: number; longestCpuMs: number; wallMs: number; cpuMs: number; groups: number }> {
  let longest = 0;
  let longestCpu = 0;
  let running = true;
  let last = performance.now();
  let lastCpu = cpuMicroseconds();
  const tick = () => {
    const at = performance.now();
    const cpuAt = cpuMicroseconds();
    longest = Math.max(longest, at - last);
    longestCpu = Math.max(longestCpu, cpuAt - lastCpu);
    last = at;
    lastCpu = cpuAt;
    if (running) setImmediate(tick);
  };
  (globalThis as { gc?: () => void }).gc?.();
  setImmediate(tick);
  await new Promise((resolve) => setTimeout(resolve, 20));
  longest = 0;
  longestCpu = 0;
  const cpu = cpuMicroseconds();
  const started = performance.now();
  const result = await new Promise<UsageSummary[]>((resolve, reject) => setImmediate(() => Promise.resolve(summarize()).then(resolve, reject)));
  const wallMs = performance.now() - started;
  const used = cpuMicroseconds() - cpu;
  running = false;
  await new Promise((resolve) => setImmediate(resolve));
  return { longestMs: longest, longestCpuMs: longestCpu / 1000, wallMs, cpuMs: used / 1000, groups: result.length };
}

const format = (ms: number) => ms.toFixed(ms < 10 ? 2 : 0).padStart(7);
for (let round = 1; round <= rounds; round++) {
  for (const groupBy of ['day', 'model'] as UsageGroup[]) {
    const query = { groupBy, from: midnight, to: Date.now() + 1 };
    const before = await measure(() => database.summarize(query));
    const after = await measure(() => database.summarizeInSlices(query, sliceRows));
    for (const [name, figures] of [['before: one statement', before], ['now: in slices', after]] as const) {
      console.log(`round ${round} group_by=${groupBy.padEnd(5)} ${name.padEnd(22)} longest block ${format(figures.longestMs)} ms (CPU ${format(figures.longestCpuMs)} ms)  wall ${format(figures.wallMs)} ms  CPU ${format(figures.cpuMs)} ms  (${figures.groups} groups)`);
    }
  }
}
database.close();
