// The agent-CLI benchmark's results and their table (no test helpers imported: the runner
// prints it without starting node:test).
import { cpus, totalmem } from 'node:os';

export type AgentCliName = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
}

export interface TtftResult {
  direct: Percentiles;
  gateway: Percentiles;
  /** Median of the paired differences (gateway − direct). */
  added: number;
}

export interface CliResult {
  cli: AgentCliName;
  version: string;
  ttft: { new: TtftResult; next: TtftResult };
  /** Through the gateway, at concurrency 1 and 2: new conversations and conversations' next turns on persistent workers, and a process per turn. */
  turnsPerSecond: { persistent: [number, number]; conversations: [number, number]; oneShot: [number, number] };
  memory: { workers: number; workerMb: number; oneShotPeakMb: number; oneShotProcesses: number };
  oneShotLabel: string;
  /** 1-minute load average at the start and end of each phase. */
  load: number[];
  egressAttempts: number;
  errors: string[];
}

export const RESULT_MARK = '@@agent-cli-bench ';


export function parseResult(output: string): CliResult | undefined {
  const line = output.split('\n').find((each) => each.startsWith(RESULT_MARK));
  return line === undefined ? undefined : (JSON.parse(line.slice(RESULT_MARK.length)) as CliResult);
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Linux, Node ${process.version}`;
}

const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const BUDGET_MS = 5;

export function formatTable(results: CliResult[]): string {
  const ttft = [
    '| CLI | turn | direct p50 / p99 (ms) | via gateway p50 / p99 (ms) | added, paired median (ms) | ≤ 5 ms | pairs |',
    '|---|---|---|---|---|---|---|',
  ];
  const costs = [
    '| CLI | turns/s persistent, new conversations, c=1 / c=2 | turns/s persistent, next turns, c=1 / c=2 | turns/s one process per turn, c=1 / c=2 | worker RSS, persistent (MB) | one-shot peak per process (MB) | one-shot is |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    const name = `${result.cli} ${result.version}`;
    for (const kind of ['new', 'next'] as const) {
      const row = result.ttft[kind];
      ttft.push(`| ${name} | ${kind === 'new' ? 'new conversation' : 'next turn'} | ${f(row.direct.p50)} / ${f(row.direct.p99)} | ${f(row.gateway.p50)} / ${f(row.gateway.p99)} | ${row.added >= 0 ? '+' : ''}${f(row.added)} | ${row.added <= BUDGET_MS ? 'yes' : '**no**'} | ${row.direct.n} |`);
    }
    const { persistent, conversations, oneShot } = result.turnsPerSecond;
    costs.push(`| ${name} | ${f(persistent[0])} / ${f(persistent[1])} | ${f(conversations[0])} / ${f(conversations[1])} | ${f(oneShot[0], 2)} / ${f(oneShot[1], 2)} | ${f(result.memory.workerMb, 0)} (×${result.memory.workers}) | ${f(result.memory.oneShotPeakMb, 0)} (n=${result.memory.oneShotProcesses}) | ${result.oneShotLabel} |`);
  }
  const notes = results.map((result) => `${result.cli}: load average ${result.load.map((value) => f(value)).join(' → ')}; egress attempts ${result.egressAttempts}${result.errors.length > 0 ? `; errors: ${result.errors.join('; ')}` : ''}`);
  return [...ttft, '', ...costs, '', ...notes].join('\n');
}

