// What the agent-CLI benchmarks share (bench/agent-clis/<cli>.ts; all four: `npm run
// bench:agent-clis`): a gateway in this process with the CLI as a provider, a streamed OpenAI chat
// client for it, time to first token paired against the CLI's own protocol spoken directly, turns
// per second at a fixed concurrency, and the memory of process groups read from /proc (Linux).
//
// A CLI's file describes how to speak its protocol directly and how the gateway runs it (a
// persistent provider, and a one-shot one); `runCliBench` measures both the same way for every CLI:
//
// - time to first token, `new` (the first turn of a conversation: a new session on a warm worker)
//   and `next` (a conversation's following turn, its session live), directly and through the
//   gateway, alternating A B B A so drift and neighbours hit both alike; "added" is the median of
//   the paired differences (the gateway's own work: HTTP, routing, the driver, encoding);
// - turns per second through the gateway at concurrency 1 and 2: new conversations and
//   conversations' next turns on persistent workers, and new conversations on one process per
//   turn (the driver's fallback, or the CLI's own one-shot command where the driver has none);
// - memory: each persistent worker's process group (summed VmRSS) at rest after the turns, and
//   each one-shot process group's peak (summed VmHWM, sampled every 50 ms while it lives).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { agentCliVersion, type AgentCliName, type EgressSink } from '../../test/helpers/agent-cli.ts';
import { testConfig, type TestProvider } from '../../test/helpers/gateway.ts';
import { distribution, median } from '../lib/stats.ts';
import { formatTable, RESULT_MARK, type CliResult, type Percentiles, type TtftResult } from './report.ts';

export type { CliResult } from './report.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The CLI's protocol spoken directly by this process: the baseline of "added". */
export interface DirectProtocol {
  /** Before a `new` pair: makes ready what a new session needs (Claude Code: an idle process, as the driver's spare). */
  prepareNew?(): Promise<void>;
  /** ms from the first protocol message of a new session's first turn to its first text delta; the turn has ended when it resolves. */
  newTurn(text: string): Promise<number>;
  /** The same for the next turn of the one conversation it keeps. */
  nextTurn(text: string): Promise<number>;
  /** Process groups of its own (left out of the gateway's workers' memory). */
  pids(): number[];
  close(): Promise<void>;
}

/** One process per turn where the gateway has no such mode (opencode): the CLI's one-shot command, spawn to exit. */
export type DirectOneShot = (text: string) => Promise<void>;

export interface CliSetup {
  /** The CLI's version (package), for the table. */
  version: string;
  /** The model as the gateway is asked for it (`<provider>:<model>` is added here). */
  model: string;
  /** The gateway's provider running the CLI on its persistent protocol. */
  persistent: TestProvider;
  /** A provider on one process per turn (a command that refuses the protocol: the driver falls back), or a direct one-shot run. */
  oneShot: TestProvider | DirectOneShot;
  /** What the one-shot figures are (for the notes). */
  oneShotLabel: string;
  direct: DirectProtocol;
  /** At most this many one-shot turns at each concurrency (opencode's take seconds each). */
  maxOneShotTurns?: number;
  /** ms to wait after a `new` pair before the next (Claude Code: the driver's spare and the direct idle process settle). */
  settleNewMs?: number;
  sink: EgressSink;
  close(): Promise<void>;
}




export interface BenchOptions {
  pairs: number;
  turns: number;
  oneShotTurns: number;
  quick: boolean;
}

export function benchOptions(): BenchOptions {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, pairs: { type: 'string' }, turns: { type: 'string' }, 'one-shot-turns': { type: 'string' } }, strict: false });
  const quick = values.quick === true;
  return {
    quick,
    pairs: Number(values.pairs ?? (quick ? 8 : 30)),
    turns: Number(values.turns ?? (quick ? 6 : 20)),
    oneShotTurns: Number(values['one-shot-turns'] ?? (quick ? 4 : 8)),
  };
}

// --- /proc ----------------------------------------------------------------------------------

interface ProcessEntry {
  pid: number;
  ppid: number;
  pgrp: number;
}

function processes(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so read after the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      entries.push({ pid: Number(name), ppid: Number(fields[1]), pgrp: Number(fields[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return entries;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/**
 * The process groups this process started (each CLI process is its group's leader, a child of this
 * process), with the summed VmRSS and VmHWM of every process in each group, in MB.
 */
export function childGroups(): Map<number, { rssMb: number; hwmMb: number }> {
  const all = processes();
  const leaders = new Set(all.filter((entry) => entry.ppid === process.pid && entry.pgrp === entry.pid).map((entry) => entry.pid));
  const groups = new Map<number, { rssMb: number; hwmMb: number }>();
  for (const entry of all) {
    if (!leaders.has(entry.pgrp)) continue;
    const group = groups.get(entry.pgrp) ?? { rssMb: 0, hwmMb: 0 };
    group.rssMb += statusKb(entry.pid, 'VmRSS') / 1024;
    group.hwmMb += statusKb(entry.pid, 'VmHWM') / 1024;
    groups.set(entry.pgrp, group);
  }
  return groups;
}

/** Peak memory of each process group that appears while it samples (every 50 ms). */
class PeakSampler {
  readonly peaks = new Map<number, number>();
  private readonly before: Set<number>;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.before = new Set(childGroups().keys());
    this.timer = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    for (const [pgid, group] of childGroups()) {
      if (this.before.has(pgid)) continue;
      this.peaks.set(pgid, Math.max(this.peaks.get(pgid) ?? 0, group.hwmMb));
    }
  }

  stop(): number[] {
    clearInterval(this.timer);
    return [...this.peaks.values()];
  }
}

// --- the gateway and its client --------------------------------------------------------------

export async function startBenchGateway(providers: TestProvider[]): Promise<RunningGateway> {
  process.env.SWITCHYARD_STATE_DIR = mkdtempSync(join(tmpdir(), 'switchyard-bench-state-'));
  const withTimeouts = providers.map((provider) => ({ timeouts: { connectMs: 2000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 0 }, ...provider }));
  return startGateway({ config: testConfig({ providers: withTimeouts }), logger: pino({ level: 'silent' }), discover: false });
}

export interface ChatMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const FIRST_CONTENT = /"content":"[^"]/;

/** A streamed OpenAI chat request: ms to the first byte of answer text, and the text. */
export function gatewayTurn(port: number, model: string, messages: ChatMessage[]): Promise<{ ms: number; text: string }> {
  const body = JSON.stringify({ model, stream: true, messages });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let first = 0;
      let raw = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (first === 0 && FIRST_CONTENT.test(chunk)) first = performance.now() - started;
        raw += chunk;
      });
      response.on('end', () => {
        if (response.statusCode !== 200 || first === 0) {
          reject(new Error(`gateway answered ${response.statusCode}: ${raw.slice(0, 400)}`));
          return;
        }
        let text = '';
        for (const line of raw.split('\n')) {
          if (!line.startsWith('data: {')) continue;
          const event = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[]; error?: { message: string } };
          if (event.error !== undefined) {
            reject(new Error(`error event: ${event.error.message}`));
            return;
          }
          text += event.choices?.[0]?.delta?.content ?? '';
        }
        resolve({ ms: first, text });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

// --- measuring ------------------------------------------------------------------------------

function percentiles(samples: number[]): Percentiles {
  const stats = distribution(samples);
  return { n: stats.count, p50: stats.p50, p99: stats.p99 };
}

/** Pause before each measured turn. */
const GAP_MS = 100;

/** A B B A: each side first half the time; returns both series and the paired differences. */
async function paired(pairs: number, direct: (index: number) => Promise<number>, gateway: (index: number) => Promise<number>, between?: () => Promise<void>): Promise<TtftResult> {
  const directMs: number[] = [];
  const gatewayMs: number[] = [];
  for (let index = 0; index < pairs; index++) {
    await between?.();
    // a CLI's work after a turn has ended (rollout and session writes, state notifications) must
    // not land in the other side's turn: a pause before each
    if (index % 2 === 0) {
      await sleep(GAP_MS);
      directMs.push(await direct(index));
      await sleep(GAP_MS);
      gatewayMs.push(await gateway(index));
    } else {
      await sleep(GAP_MS);
      gatewayMs.push(await gateway(index));
      await sleep(GAP_MS);
      directMs.push(await direct(index));
    }
    process.stderr.write('.');
  }
  return { direct: percentiles(directMs), gateway: percentiles(gatewayMs), added: median(gatewayMs.map((value, index) => value - directMs[index]!)) };
}

/** `total` turns, `concurrency` at a time; turns per second over the wall time. */
async function throughput(total: number, concurrency: number, turn: (index: number, lane: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async (_: unknown, laneIndex: number): Promise<void> => {
    while (next < total) {
      await turn(next++, laneIndex);
      process.stderr.write('.');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return total / ((performance.now() - started) / 1000);
}

let uniqueness = 0;
const unique = (label: string): string => `${label} ${process.pid}-${++uniqueness}: say hello.`;

export async function runCliBench(cli: AgentCliName, setup: () => Promise<CliSetup>, options = benchOptions()): Promise<CliResult> {
  const load = [loadavg()[0]!];
  const errors: string[] = [];
  const bench = await setup();
  const oneShotProvider = typeof bench.oneShot === 'function' ? undefined : bench.oneShot;
  const gateway = await startBenchGateway(oneShotProvider === undefined ? [bench.persistent] : [bench.persistent, oneShotProvider]);
  const model = `${bench.persistent.name}:${bench.model}`;
  const log = (text: string) => process.stderr.write(`\n[${cli}] ${text} (load ${loadavg()[0]!.toFixed(1)})\n`);
  try {
    // warm both ways: worker starts, first sessions, caches
    log('warming up');
    for (let index = 0; index < 3; index++) {
      await bench.direct.prepareNew?.();
      await bench.direct.newTurn(unique('warm'));
      await gatewayTurn(gateway.port, model, [{ role: 'user', content: unique('warm') }]);
    }
    await bench.direct.nextTurn('My name is Ada.');
    await bench.direct.nextTurn('warm');

    log(`time to first token, new conversations (${options.pairs} pairs)`);
    const ttftNew = await paired(
      options.pairs,
      () => bench.direct.newTurn(unique('new')),
      async () => (await gatewayTurn(gateway.port, model, [{ role: 'user', content: unique('new') }])).ms,
      async () => {
        await bench.direct.prepareNew?.();
        if (bench.settleNewMs !== undefined) await sleep(bench.settleNewMs);
      },
    );
    load.push(loadavg()[0]!);

    log(`time to first token, a conversation's next turn (${options.pairs} pairs)`);
    const conversation: ChatMessage[] = [{ role: 'user', content: 'My name is Ada.' }];
    conversation.push({ role: 'assistant', content: (await gatewayTurn(gateway.port, model, conversation)).text });
    const ttftNext = await paired(
      options.pairs,
      (index) => bench.direct.nextTurn(`turn ${index}`),
      async (index) => {
        conversation.push({ role: 'user', content: `turn ${index}` });
        const { ms, text } = await gatewayTurn(gateway.port, model, conversation);
        conversation.push({ role: 'assistant', content: text });
        return ms;
      },
    );
    load.push(loadavg()[0]!);

    // the workers at rest: every process group of ours but the direct client's
    await sleep(2000);
    const own = new Set(bench.direct.pids());
    const workerSamples = new Map<number, number[]>();
    for (let sample = 0; sample < 5; sample++) {
      for (const [pgid, group] of childGroups()) {
        if (own.has(pgid)) continue;
        workerSamples.set(pgid, [...(workerSamples.get(pgid) ?? []), group.rssMb]);
      }
      await sleep(200);
    }
    const workerMb = [...workerSamples.values()].map(median);

    log(`turns per second, persistent (${options.turns} at 1, then 2 at a time)`);
    const persistentTurn = async () => { await gatewayTurn(gateway.port, model, [{ role: 'user', content: unique('throughput') }]); };
    const persistent: [number, number] = [await throughput(options.turns, 1, persistentTurn), 0];
    await sleep(1000);
    persistent[1] = await throughput(options.turns, 2, persistentTurn);
    load.push(loadavg()[0]!);

    log(`turns per second, conversations' next turns (${options.turns} at 1, then 2 conversations at a time)`);
    const lanes: ChatMessage[][] = [];
    for (let lane = 0; lane < 2; lane++) {
      const messages: ChatMessage[] = [{ role: 'user', content: unique('conversation') }];
      messages.push({ role: 'assistant', content: (await gatewayTurn(gateway.port, model, messages)).text });
      lanes.push(messages);
    }
    const nextTurn = async (index: number, lane: number) => {
      const messages = lanes[lane]!;
      messages.push({ role: 'user', content: `turn ${index}` });
      messages.push({ role: 'assistant', content: (await gatewayTurn(gateway.port, model, messages)).text });
    };
    const conversations: [number, number] = [await throughput(options.turns, 1, nextTurn), 0];
    conversations[1] = await throughput(options.turns, 2, nextTurn);
    load.push(loadavg()[0]!);

    const oneShotTurns = Math.min(options.oneShotTurns, bench.maxOneShotTurns ?? Number.POSITIVE_INFINITY);
    log(`turns per second, one process per turn (${oneShotTurns} at 1, then 2 at a time)`);
    const oneShotTurn = oneShotProvider !== undefined
      ? async () => { await gatewayTurn(gateway.port, `${oneShotProvider.name}:${bench.model}`, [{ role: 'user', content: unique('one-shot') }]); }
      : async () => { await (bench.oneShot as DirectOneShot)(unique('one-shot')); };
    await oneShotTurn(); // the driver finds the protocol missing and falls back here
    const sampler = new PeakSampler();
    const oneShot: [number, number] = [await throughput(oneShotTurns, 1, oneShotTurn), 0];
    oneShot[1] = await throughput(oneShotTurns, 2, oneShotTurn);
    const peaks = sampler.stop();
    load.push(loadavg()[0]!);
    process.stderr.write('\n');

    return {
      cli, version: bench.version, ttft: { new: ttftNew, next: ttftNext },
      turnsPerSecond: { persistent, conversations, oneShot },
      memory: { workers: workerMb.length, workerMb: median(workerMb), oneShotPeakMb: median(peaks), oneShotProcesses: peaks.length },
      oneShotLabel: bench.oneShotLabel, load, egressAttempts: bench.sink.attempts.length, errors,
    };
  } finally {
    await gateway.close();
    await bench.direct.close();
    await bench.close();
    agent.destroy();
    rmSync(process.env.SWITCHYARD_STATE_DIR!, { recursive: true, force: true });
  }
}

/** What a CLI's file does when run: measure, print its table, and hand the result to the runner. */
export async function main(cli: AgentCliName, setup: () => Promise<CliSetup>): Promise<void> {
  const result = await runCliBench(cli, setup);
  process.stdout.write(`${formatTable([result])}\n`);
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}

export function cliVersion(cli: AgentCliName): string {
  return agentCliVersion(cli) ?? 'not installed';
}
