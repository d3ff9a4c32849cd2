// The abort soak of the agent CLIs as providers (issue #14: "abort and timeouts end the CLI's work
// within 250 ms; no zombie or orphan processes after 1,000 requests with random aborts"), shared by
// the benchmark (bench/agent-clis/abort-soak.ts, `npm run soak:agent-clis`: 1,000 requests and the
// timings) and the e2e test (test/e2e/agent-cli-abort-soak.test.ts: 100 requests, behaviour only).
//
// A real gateway (in this process) serves one provider per CLI — Claude Code, Codex, Gemini CLI,
// opencode, the real binaries from .tools/ — each CLI pointed at a loopback mock of its vendor's
// API. Clients send chat requests, streamed and not, some continuing an earlier conversation, and
// leave at random: before the answer's head, mid-stream, at any point. The mocks answer quickly,
// slowly, stall before their head or mid-stream (then the gateway's first-byte and idle timeouts
// end the turn when no client leaves first). Every turn carries a marker ([soak:N]) in its last
// message, so each upstream request is tied to its turn.
//
// What is watched, during and after:
// - processes: every CLI process (and whatever it starts) carries SWITCHYARD_SOAK_RUN in its
//   environment; /proc is walked every 100 ms for those, and for any process in a session one of
//   them led (each CLI runs in its own session and process group) or descended from this process;
//   after the gateway closed none may be left, and no zombie may persist;
// - every turn settled: each driver's describe().running back to 0, each provider's queue
//   (running, queued) back to 0 in /v1/providers;
// - bounded: driver workers and CLI process groups per CLI (their maximum), the gateway's memory;
// - timing: from the abort (the client leaving, or the gateway's timeout firing) to the mock's
//   upstream socket closing (the CLI stopped its model call), and — for process groups the driver
//   killed while handling that abort — to the group being gone. Kills are tied to the abort that
//   caused them by an AsyncLocalStorage context entered when the abort reaches the driver (timers
//   and promises started from it carry it: an interrupt's grace timer that kills, too).
import { mulberry32 } from '../../src/util/mulberry32.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliDriver, AgentCliDriverFactory, AgentCliState, AgentCliType, AgentTurn, AgentTurnReport } from '../../src/agent-clis/driver.ts';
import type { AgentCliDrivers } from '../../src/pipeline/agent-cli-host.ts';
import { DEFAULT_ROUTING } from '../../src/config/defaults.ts';
import { agentCliDrivers } from '../../src/main.ts';
import { responsesUpstream } from '../conformance/dialects/openai-responses.ts';
import {
  agentCliPath, agentCliUnavailable, claudeCodeEnv, codexDriverSettings, geminiCliEnv, geminiStreamEvents, makeAgentWorkspace, opencodeEnv,
  opencodeMockProvider, startEgressSink, type EgressSink,
} from './agent-cli.ts';
import { agentCliProvider, startTestGateway, type TestGateway } from './gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from './mock-upstream.ts';

/** How often /proc is sampled during the soak. */
const SAMPLE_MS = 100;
/** A zombie seen this many samples in a row (2 s) has not been reaped: a leak, not a moment. */
const ZOMBIE_PERSISTS_SAMPLES = 2000 / SAMPLE_MS;

export type SoakCli = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';
export const SOAK_CLIS: readonly SoakCli[] = ['claude-code', 'codex', 'gemini-cli', 'opencode'];

export interface SoakOptions {
  /** Requests per CLI. */
  requestsPerCli: number;
  clis?: readonly SoakCli[];
  seed?: number;
  /** Requests in flight per CLI at once (the provider runs `concurrency` of them; the rest queue). */
  clientConcurrency?: number;
  /** The provider's concurrency (default 2, the gateway's default). */
  concurrency?: number;
  firstByteMs?: number;
  idleMs?: number;
  /** Progress lines (the benchmark prints them). */
  log?: (line: string) => void;
}

/** One CLI's results. */
export interface SoakCliReport {
  cli: SoakCli;
  requests: number;
  answered: number;
  clientAborts: number;
  timeouts: number;
  errors: number;
  /** Error answers other than timeouts, by status (a few are expected: none is, in fact). */
  errorSamples: string[];
  /** Abort → the upstream socket closed (or the response completed), ms, one per aborted turn whose model call was in flight. */
  upstreamEndMs: number[];
  /** The aborts whose upstream calls ended more than 250 ms after them: what each call was, for the report. */
  slowAborts: string[];
  /** Aborted turns whose upstream request was still open when the soak ended. */
  upstreamNeverEnded: number;
  /** Abort → the process group the driver killed for it gone, ms. */
  groupGoneMs: number[];
  /** Killed groups still there 5 s after the kill. */
  groupsNeverGone: number;
  /** Abort → the driver's first signal to the group, ms (the rest of groupGoneMs is the CLI dying). */
  killSentMs: number[];
  /** Groups that needed SIGKILL after SIGTERM. */
  killsEscalated: number;
  /** Gateway abort → client abort, the other way round: client abort → the driver's signal, ms. */
  abortPropagationMs: number[];
  /** Parts a driver sent after its turn was aborted (must be 0). */
  partsAfterAbort: number;
  maxWorkers: number;
  maxRunning: number;
  maxProcessGroups: number;
  maxProcesses: number;
  peakCliRssBytes: number;
  /** After the last request: how long until describe().running and the queue were 0 (ms), or -1 if never (within 15 s). */
  settleMs: number;
  /** /v1/providers after the settle wait. */
  queueAfter: { running: number; queued: number; turns: number };
  /** CLI processes alive once everything settled (the workers kept), before the gateway closed. */
  processGroupsAtRest: number;
}

export interface SoakProcess {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  state: string;
  cli: string;
  command: string;
}

export interface SoakReport {
  clis: SoakCliReport[];
  durationMs: number;
  /** Processes of the CLIs alive after the gateway closed (and 5 s of grace): must be none. */
  orphans: SoakProcess[];
  /** Zombies seen in 3 samples in a row (≥ 200 ms) whose parent is not PID 1: must be none. */
  persistentZombies: SoakProcess[];
  /** Zombies left with PID 1 as parent (reparented; PID 1 reaps them, or not: reported). */
  zombiesOfInit: SoakProcess[];
  gatewayRss: { start: number; peak: number; end: number };
  gatewayHeap: { afterWarmUp: number; end: number };
  egressAttempts: number;
}

// --- plans: what the upstream does, what the client does -------------------------------------

type UpstreamPlan = 'quick' | 'slow' | 'stall-head' | 'stall-mid';
type ClientPlan = 'complete' | 'early' | 'random' | 'mid-stream';

interface RequestPlan {
  marker: number;
  cli: SoakCli;
  stream: boolean;
  upstream: UpstreamPlan;
  client: ClientPlan;
  /** early / random: ms after sending; mid-stream: ms after the first content. */
  abortAfterMs: number;
}

const prng = mulberry32;

function pick<T>(random: () => number, weighted: readonly [T, number][]): T {
  let roll = random();
  for (const [value, weight] of weighted) {
    if (roll < weight) return value;
    roll -= weight;
  }
  return weighted.at(-1)![0];
}

const UPSTREAM_PLANS: readonly [UpstreamPlan, number][] = [['quick', 0.35], ['slow', 0.45], ['stall-head', 0.08], ['stall-mid', 0.12]];
const CLIENT_PLANS: readonly [ClientPlan, number][] = [['complete', 0.3], ['early', 0.15], ['random', 0.3], ['mid-stream', 0.25]];

const QUICK_WORDS = ['Soak', ' answer', ' here.'];
const SLOW_WORDS = Array.from({ length: 12 }, (_, index) => `${index === 0 ? '' : ' '}w${index}`);
const SLOW_INTERVAL_MS = 80;

// --- the vendors' answers ----------------------------------------------------------------------

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}`;
}

/** Anthropic Messages events for `words`; without the end when `complete` is false. */
function anthropicEvents(words: readonly string[], model: string, complete: boolean): string[] {
  const events = [
    sse('message_start', { message: { id: 'msg_soak', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }),
    sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (const word of words) events.push(sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } }));
  if (complete) {
    events.push(sse('content_block_stop', { index: 0 }), sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } }), sse('message_stop', {}));
  }
  return events;
}

function chatChunk(delta: Record<string, unknown>, finish: string | null = null): string {
  return JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta, finish_reason: finish }] });
}

function chatEvents(words: readonly string[], complete: boolean): string[] {
  const events = [chatChunk({ role: 'assistant', content: '' }), ...words.map((word) => chatChunk({ content: word }))];
  if (complete) {
    events.push(chatChunk({}, 'stop'));
    events.push(JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [], usage: { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length } }));
    events.push('[DONE]');
  }
  return events;
}

function geminiEvents(words: readonly string[], complete: boolean): string[] {
  const events = geminiStreamEvents(words);
  return complete ? events : events.map((event) => event.replace('"finishReason":"STOP",', ''));
}

function responsesEvents(request: RecordedRequest, words: readonly string[], complete: boolean): string[] {
  const behavior = responsesUpstream.respond({ name: 'soak', input: { messages: [] }, answer: { text: words.join(''), finish: 'stop', usage: { input: 10, output: words.length } } }, request);
  if (behavior.kind !== 'stream') throw new Error('the Responses mock answered whole: Codex streams');
  if (complete) return behavior.events;
  const firstDelta = behavior.events.findIndex((event) => event.startsWith('event: response.output_text.delta'));
  return behavior.events.slice(0, firstDelta + 1);
}

/** What the CLI's vendor answers for a plan. */
function vendorAnswer(cli: SoakCli, request: RecordedRequest, plan: UpstreamPlan | undefined): Behavior {
  if (plan === 'stall-head') return { kind: 'no-response' };
  const words = plan === 'slow' || plan === 'stall-mid' ? SLOW_WORDS : QUICK_WORDS;
  const complete = plan !== 'stall-mid';
  const shown = plan === 'stall-mid' ? words.slice(0, 2) : words;
  const intervalMs = plan === 'slow' || plan === 'stall-mid' ? SLOW_INTERVAL_MS : 5;
  const then = complete ? 'end' : 'stall';
  switch (cli) {
    case 'claude-code':
      if (request.path.startsWith('/v1/messages/count_tokens')) return { kind: 'json', status: 200, body: { input_tokens: 10 } };
      return { kind: 'stream', events: anthropicEvents(shown, String(request.body?.model ?? 'claude-soak'), complete), intervalMs, thenBehavior: then };
    case 'codex':
      if (request.path !== '/v1/responses') return { kind: 'default' };
      return { kind: 'stream', events: responsesEvents(request, shown, complete), intervalMs: plan === 'slow' || plan === 'stall-mid' ? 100 : 5, thenBehavior: then };
    case 'gemini-cli':
      return { kind: 'stream', events: geminiEvents(shown, complete), intervalMs, thenBehavior: then };
    case 'opencode':
      if (request.path !== '/v1/chat/completions') return { kind: 'default' };
      return { kind: 'stream', events: chatEvents(shown, complete), intervalMs, thenBehavior: then };
  }
}

const MARKER = /\[soak:(\d+)\]/g;

/** The newest marker in a text: a turn's own (its history carries only older ones). */
function markerIn(text: string): number | undefined {
  let newest: number | undefined;
  for (const match of text.matchAll(MARKER)) {
    const value = Number(match[1]);
    if (newest === undefined || value > newest) newest = value;
  }
  return newest;
}

// --- the gateway's side: drivers wrapped to see turns, aborts and the kills they cause ----------

interface TurnRecord {
  marker: number;
  cli: SoakCli;
  runAt: number;
  /** When the abort reached the driver (the client left or a timeout fired). */
  abortedAt: number | undefined;
  timedOut: boolean;
  partsAfterAbort: number;
}

interface KillRecord {
  pgid: number;
  at: number;
  signal: string;
  turn: TurnRecord;
  goneAt: number | undefined;
  /** When SIGKILL followed a SIGTERM (the CLI did not end on SIGTERM within the grace period). */
  escalatedAt: number | undefined;
}

const abortContext = new AsyncLocalStorage<TurnRecord>();

class SoakDriver implements AgentCliDriver {
  readonly cli: SoakCli;
  readonly inner: AgentCliDriver;
  private readonly turns: Map<number, TurnRecord>;

  constructor(cli: SoakCli, inner: AgentCliDriver, turns: Map<number, TurnRecord>) {
    this.cli = cli;
    this.inner = inner;
    this.turns = turns;
  }

  get protocol(): AgentCliDriver['protocol'] {
    return this.inner.protocol;
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    const marker = markerIn(JSON.stringify(turn.request.messages.at(-1) ?? '')) ?? -1;
    const record: TurnRecord = { marker, cli: this.cli, runAt: Date.now(), abortedAt: undefined, timedOut: false, partsAfterAbort: 0 };
    this.turns.set(marker, record);
    // the driver sees a signal of ours, aborted inside the abort's context
    const controller = new AbortController();
    const forward = (): void => {
      record.abortedAt = Date.now();
      const reason = turn.signal.reason as { code?: string } | undefined;
      record.timedOut = typeof reason?.code === 'string' && reason.code.includes('TIMEOUT');
      abortContext.run(record, () => controller.abort(turn.signal.reason));
    };
    if (turn.signal.aborted) forward();
    else turn.signal.addEventListener('abort', forward, { once: true });
    const watched: PartSink = {
      onPart(part: StreamPart) {
        if (record.abortedAt !== undefined) record.partsAfterAbort++;
        sink.onPart(part);
      },
    };
    this.inner.run({ ...turn, signal: controller.signal }, watched, report);
  }

  listModels(signal: AbortSignal): Promise<readonly string[]> {
    return this.inner.listModels(signal);
  }

  describe(): AgentCliState {
    return this.inner.describe();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

// --- processes -------------------------------------------------------------------------------

const ENV_RUN = 'SWITCHYARD_SOAK_RUN';
const ENV_CLI = 'SWITCHYARD_SOAK_CLI';

interface ProcessRow extends SoakProcess {
  rssBytes: number;
}

/** Walks /proc for the soak's processes: marked by environment, or in a marked session, or below this process. */
class ProcessWatch {
  private readonly run: string;
  /** pid:starttime → the CLI it belongs to ('' when not ours), decided once per process. */
  private readonly owners = new Map<string, string>();
  private readonly sessions = new Map<number, string>();
  private readonly zombieStreak = new Map<string, number>();
  readonly persistentZombies = new Map<string, SoakProcess>();

  constructor(run: string) {
    this.run = run;
  }

  sample(): ProcessRow[] {
    const rows: { key: string; pid: number; ppid: number; pgid: number; sid: number; state: string; rssBytes: number }[] = [];
    const byPid = new Map<number, { ppid: number }>();
    const present = new Set<string>();
    for (const entry of readdirSync('/proc')) {
      const code = entry.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const row = { key: `${pid}:${fields[19]}`, pid, ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]), state: fields[0]!, rssBytes: Number(fields[21]) * 4096 };
      rows.push(row);
      byPid.set(pid, row);
      present.add(row.key);
    }
    const ours: ProcessRow[] = [];
    for (const row of rows) {
      let cli = this.owners.get(row.key);
      if (cli === undefined) {
        cli = this.ownerOf(row.pid);
        this.owners.set(row.key, cli);
      }
      if (cli === '') cli = this.sessions.get(row.sid) ?? (this.descends(row.pid, byPid) ? 'unknown' : '');
      if (cli === '') continue;
      if (row.sid === row.pid && !this.sessions.has(row.sid)) this.sessions.set(row.sid, cli);
      ours.push({ pid: row.pid, ppid: row.ppid, pgid: row.pgid, sid: row.sid, state: row.state, cli, command: '', rssBytes: row.rssBytes });
      if (row.state === 'Z' && row.ppid !== 1) {
        const streak = (this.zombieStreak.get(row.key) ?? 0) + 1;
        this.zombieStreak.set(row.key, streak);
        // the parent (this very process, for the gateway's CLIs) reaps on its next turn of the event
        // loop; on a loaded machine that can take a while: only a zombie seen for 2 s persists
        if (streak >= ZOMBIE_PERSISTS_SAMPLES && !this.persistentZombies.has(row.key)) this.persistentZombies.set(row.key, { ...ours.at(-1)!, command: commandOf(row.pid) });
      } else {
        this.zombieStreak.delete(row.key);
      }
    }
    for (const key of this.owners.keys()) if (!present.has(key)) this.owners.delete(key);
    for (const key of this.zombieStreak.keys()) if (!present.has(key)) this.zombieStreak.delete(key);
    return ours;
  }

  private ownerOf(pid: number): string {
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      return '';
    }
    if (!environ.includes(`${ENV_RUN}=${this.run}\0`)) return '';
    const start = environ.indexOf(`${ENV_CLI}=`);
    return start < 0 ? 'unknown' : environ.slice(start + ENV_CLI.length + 1, environ.indexOf('\0', start));
  }

  /** Whether `pid` descends from this process (the CLIs the gateway started, and theirs). */
  private descends(pid: number, byPid: Map<number, { ppid: number }>): boolean {
    let current = byPid.get(pid)?.ppid;
    for (let depth = 0; current !== undefined && current > 1 && depth < 32; depth++) {
      if (current === process.pid) return true;
      current = byPid.get(current)?.ppid;
    }
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '';
  }
}

// --- the clients -----------------------------------------------------------------------------

interface ClientResult {
  plan: RequestPlan;
  sentAt: number;
  abortedAt: number | undefined;
  status: number;
  outcome: 'answered' | 'aborted' | 'timeout' | 'error';
  detail: string;
  /** The answer's text (to continue the conversation). */
  text: string;
}

interface Conversation {
  messages: { role: string; content: string }[];
}

const ANSWER_TEXT = /"content":"((?:[^"\\]|\\.)*)"/g;

function textOfStream(body: string): string {
  let text = '';
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    for (const match of line.matchAll(ANSWER_TEXT)) text += JSON.parse(`"${match[1]}"`) as string;
  }
  return text;
}

/** `model`: the gateway's model name (`provider:model`, or an alias). */
async function sendRequest(gatewayUrl: string, model: string, plan: RequestPlan, messages: Conversation['messages'], timeoutMs?: number): Promise<ClientResult> {
  const controller = new AbortController();
  const result: ClientResult = { plan, sentAt: Date.now(), abortedAt: undefined, status: 0, outcome: 'error', detail: '', text: '' };
  const abort = (): void => {
    if (result.abortedAt !== undefined) return;
    result.abortedAt = Date.now();
    controller.abort();
  };
  let timer: NodeJS.Timeout | undefined;
  if (plan.client === 'early' || plan.client === 'random' || (plan.client === 'mid-stream' && !plan.stream)) timer = setTimeout(abort, plan.abortAfterMs);
  else if (timeoutMs !== undefined) timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, stream: plan.stream }),
      signal: controller.signal,
    });
    result.status = response.status;
    let body = '';
    if (plan.stream && plan.client === 'mid-stream' && response.status === 200) {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body += decoder.decode(value, { stream: true });
        if (timer === undefined && body.includes('"content":"')) timer = setTimeout(abort, plan.abortAfterMs);
      }
    } else {
      body = await response.text();
    }
    clearTimeout(timer);
    if (response.status !== 200) {
      result.outcome = /timeout/i.test(body) ? 'timeout' : 'error';
      result.detail = `${response.status} ${body.slice(0, 200)}`;
    } else if (plan.stream) {
      if (body.includes('data: [DONE]') && !body.includes('"error"')) {
        result.outcome = 'answered';
        result.text = textOfStream(body);
      } else {
        result.outcome = /timeout/i.test(body) ? 'timeout' : 'error';
        result.detail = `stream ended without [DONE]: ${body.slice(-200)}`;
      }
    } else {
      const json = JSON.parse(body) as { choices?: { message?: { content?: string } }[] };
      result.outcome = 'answered';
      result.text = json.choices?.[0]?.message?.content ?? '';
    }
  } catch (error) {
    clearTimeout(timer);
    if (result.abortedAt !== undefined) result.outcome = 'aborted';
    else result.detail = `client error: ${(error as Error).message}`;
  }
  if (result.abortedAt !== undefined && result.outcome !== 'aborted') {
    // the answer was complete before the abort landed: no abort then
    result.abortedAt = undefined;
  }
  return result;
}

// --- the soak --------------------------------------------------------------------------------

interface CliSetup {
  cli: SoakCli;
  provider: string;
  model: string;
  mock: MockUpstream;
  /** marker → the mock's request indices carrying it. */
  upstream: Map<number, number[]>;
  plans: Map<number, RequestPlan>;
  driver: SoakDriver | undefined;
}

const MODELS: Record<SoakCli, string> = {
  'claude-code': 'claude-soak-model',
  codex: 'switchyard-mock-model',
  'gemini-cli': 'gemini-2.5-pro',
  opencode: 'mock/mock-gpt',
};

const PROVIDER_NAMES: Record<SoakCli, string> = { 'claude-code': 'claude', codex: 'codex', 'gemini-cli': 'gemini', opencode: 'oc' };

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export function summary(values: readonly number[]): { n: number; p50: number; p99: number; max: number; over250: number } {
  return {
    n: values.length,
    p50: percentile(values, 0.5),
    p99: percentile(values, 0.99),
    max: values.length === 0 ? NaN : Math.max(...values),
    over250: values.filter((value) => value > 250).length,
  };
}

/** The CLIs that can run here (the others are reported missing). */
export function availableSoakClis(clis: readonly SoakCli[] = SOAK_CLIS): { available: SoakCli[]; missing: string[] } {
  const available: SoakCli[] = [];
  const missing: string[] = [];
  for (const cli of clis) {
    const reason = agentCliUnavailable(cli);
    if (reason === undefined) available.push(cli);
    else missing.push(`${cli}: ${reason}`);
  }
  return { available, missing };
}

export async function runAbortSoak(options: SoakOptions): Promise<SoakReport> {
  const clis = options.clis ?? SOAK_CLIS;
  const random = prng(options.seed ?? 14);
  const log = options.log ?? ((): void => {});
  const clientConcurrency = options.clientConcurrency ?? 3;
  const run = `soak-${process.pid}-${Date.now()}`;
  const stateDirectory = mkdtempSync(join(tmpdir(), 'swy-soak-'));
  const previousState = process.env.SWITCHYARD_STATE_DIR;
  process.env.SWITCHYARD_STATE_DIR = stateDirectory;

  const turns = new Map<number, TurnRecord>();
  const kills: KillRecord[] = [];
  const watch = new ProcessWatch(run);
  const sink: EgressSink = await startEgressSink();
  const setups = new Map<SoakCli, CliSetup>();
  for (const cli of clis) {
    const setup: CliSetup = { cli, provider: PROVIDER_NAMES[cli], model: MODELS[cli], mock: undefined as unknown as MockUpstream, upstream: new Map(), plans: new Map(), driver: undefined };
    setup.mock = await startMockUpstream({
      models: ['mock-gpt'],
      script: (request, index) => {
        const marker = markerIn(request.rawBody.toString('utf8'));
        if (marker !== undefined) {
          let list = setup.upstream.get(marker);
          if (list === undefined) setup.upstream.set(marker, (list = []));
          list.push(index);
        }
        return vendorAnswer(cli, request, marker === undefined ? undefined : setup.plans.get(marker)?.upstream);
      },
    });
    setups.set(cli, setup);
  }

  // the kills the drivers send while handling an abort, and when each group is gone
  const originalKill = process.kill.bind(process);
  const killed = new Set<number>();
  const watchGroup = (record: KillRecord): void => {
    const deadline = record.at + 5000;
    const check = (): void => {
      try {
        originalKill(-record.pgid, 0);
      } catch {
        record.goneAt = Date.now();
        return;
      }
      if (Date.now() < deadline) setTimeout(check, 2).unref();
    };
    check();
  };
  process.kill = ((pid: number, signal?: string | number): true => {
    if (pid < 0 && signal === 'SIGKILL') {
      const earlier = kills.find((kill) => kill.pgid === -pid && kill.goneAt === undefined && kill.escalatedAt === undefined);
      if (earlier !== undefined) earlier.escalatedAt = Date.now();
    }
    const turn = abortContext.getStore();
    if (turn !== undefined && pid < 0 && (signal === 'SIGTERM' || signal === 'SIGKILL') && !killed.has(-pid)) {
      let alive = true;
      try {
        originalKill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive) {
        killed.add(-pid);
        const record: KillRecord = { pgid: -pid, at: Date.now(), signal, turn, goneAt: undefined, escalatedAt: undefined };
        kills.push(record);
        queueMicrotask(() => watchGroup(record));
      }
    }
    return originalKill(pid, signal);
  }) as typeof process.kill;

  const providers = [];
  for (const cli of clis) {
    const workspace = makeAgentWorkspace();
    const mock = setups.get(cli)!.mock;
    const marks = { [ENV_RUN]: run, [ENV_CLI]: cli };
    let command = agentCliPath(cli);
    let args: string[] = [];
    let env: NodeJS.ProcessEnv;
    switch (cli) {
      case 'claude-code':
        env = claudeCodeEnv({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-ant-api03-soak-key', env: marks });
        break;
      case 'codex': {
        const settings = codexDriverSettings({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-codex-soak-key', env: marks });
        command = settings.command;
        args = [...settings.args];
        env = { ...settings.env } as NodeJS.ProcessEnv;
        break;
      }
      case 'gemini-cli':
        env = geminiCliEnv({ workspace, sink, baseUrl: mock.url, apiKey: 'gemini-soak-key-0123456789', env: marks });
        break;
      case 'opencode':
        env = opencodeEnv({ workspace, sink, config: { provider: { mock: opencodeMockProvider(mock.url, ['mock-gpt']) }, enabled_providers: ['mock'] }, env: marks });
        break;
    }
    providers.push(agentCliProvider(PROVIDER_NAMES[cli], { type: cli as AgentCliType, command, args, env: env as Record<string, string>, concurrency: options.concurrency ?? 2, queueSize: 16, queueTimeoutMs: 60_000 }, {
      models: [MODELS[cli]],
      timeouts: { connectMs: 5000, firstByteMs: options.firstByteMs ?? 6000, idleMs: options.idleMs ?? 1500, totalMs: 0 },
    }));
  }
  const factories: AgentCliDrivers = new Map([...agentCliDrivers].map(([type, factory]): [AgentCliType, AgentCliDriverFactory] => [type, (settings) => {
    const setup = setups.get(type);
    const inner = factory(settings);
    if (setup === undefined) return inner;
    setup.driver = new SoakDriver(type, inner, turns);
    return setup.driver;
  }]));

  const perCli = new Map<SoakCli, { maxWorkers: number; maxRunning: number; maxGroups: number; maxProcesses: number; peakRss: number }>();
  for (const cli of clis) perCli.set(cli, { maxWorkers: 0, maxRunning: 0, maxGroups: 0, maxProcesses: 0, peakRss: 0 });
  const gatewayRss = { start: process.memoryUsage().rss, peak: 0, end: 0 };
  const gatewayHeap = { afterWarmUp: 0, end: 0 };
  const sampleNow = (): ProcessRow[] => {
    const rows = watch.sample();
    for (const cli of clis) {
      const stats = perCli.get(cli)!;
      const mine = rows.filter((row) => row.cli === cli && row.state !== 'Z');
      stats.maxProcesses = Math.max(stats.maxProcesses, mine.length);
      stats.maxGroups = Math.max(stats.maxGroups, new Set(mine.map((row) => row.pgid)).size);
      stats.peakRss = Math.max(stats.peakRss, mine.reduce((total, row) => total + row.rssBytes, 0));
      const state = setups.get(cli)!.driver?.describe();
      if (state !== undefined) {
        stats.maxWorkers = Math.max(stats.maxWorkers, state.workers);
        stats.maxRunning = Math.max(stats.maxRunning, state.running);
      }
    }
    gatewayRss.peak = Math.max(gatewayRss.peak, process.memoryUsage().rss);
    return rows;
  };
  const sampler = setInterval(sampleNow, SAMPLE_MS);
  sampler.unref();

  let gateway: TestGateway | undefined;
  const started = Date.now();
  let soakMs = 0;
  const results: ClientResult[] = [];
  try {
    gateway = await startTestGateway({
      providers,
      // one attempt: a timed-out turn is not run again (the soak counts turns, not retries)
      routing: { ...DEFAULT_ROUTING, maxAttempts: 1, retry: { ...DEFAULT_ROUTING.retry, attempts: 0 } },
      // the warm-up's route waits as long as a cold start takes
      models: clis.map((cli) => ({ name: `warm-${PROVIDER_NAMES[cli]}`, targets: [{ provider: PROVIDER_NAMES[cli], model: MODELS[cli] }], timeouts: { firstByteMs: 120_000 } })),
      agentCliDrivers: factories,
    });
    const url = gateway.url;
    let nextMarker = 1;
    // each CLI answers once before the soak: a cold start (opencode's server takes seconds, more on
    // a loaded machine) is not what the timeouts are about
    await Promise.all(clis.map(async (cli) => {
      const setup = setups.get(cli)!;
      const plan: RequestPlan = { marker: nextMarker++, cli, stream: false, upstream: 'quick', client: 'complete', abortAfterMs: 0 };
      setup.plans.set(plan.marker, plan);
      const warm = await sendRequest(url, `warm-${setup.provider}`, plan, [{ role: 'user', content: `Warm up. [soak:${plan.marker}]` }], 120_000);
      if (warm.outcome !== 'answered') throw new Error(`${cli} did not answer the warm-up request: ${warm.detail}`);
    }));
    log(`warmed up in ${Math.round((Date.now() - started) / 1000)} s`);
    const soakStarted = Date.now();
    let done = 0;
    const total = options.requestsPerCli * clis.length;
    await Promise.all(clis.map(async (cli) => {
      const setup = setups.get(cli)!;
      const finished: Conversation[] = [];
      let sent = 0;
      const lane = async (): Promise<void> => {
        while (sent < options.requestsPerCli) {
          sent++;
          const marker = nextMarker++;
          const stream = random() < 0.6;
          const plan: RequestPlan = {
            marker, cli, stream,
            upstream: pick(random, UPSTREAM_PLANS),
            client: pick(random, CLIENT_PLANS),
            abortAfterMs: 0,
          };
          plan.abortAfterMs = plan.client === 'early' ? Math.floor(random() * 300) : plan.client === 'random' ? Math.floor(random() * 2500) : Math.floor(random() * 150);
          setup.plans.set(marker, plan);
          const prompt = `Answer briefly. [soak:${marker}]`;
          // a quarter of the requests continue a conversation that ended well (the driver's session path)
          const earlier = finished.length > 0 && random() < 0.25 ? finished.splice(Math.floor(random() * finished.length), 1)[0] : undefined;
          const messages = earlier === undefined ? [{ role: 'user', content: prompt }] : [...earlier.messages, { role: 'user', content: prompt }];
          const result = await sendRequest(url, `${setup.provider}:${setup.model}`, plan, messages);
          results.push(result);
          if (result.outcome === 'answered' && result.text !== '') {
            finished.push({ messages: [...messages, { role: 'assistant', content: result.text }] });
            if (finished.length > 8) finished.shift();
          }
          done++;
          if (done === Math.ceil(total / 10)) gatewayHeap.afterWarmUp = heapAfterGc();
          if (done % Math.max(1, Math.floor(total / 10)) === 0) log(`${done}/${total} requests (${Math.round((Date.now() - soakStarted) / 1000)} s)`);
        }
      };
      await Promise.all(Array.from({ length: clientConcurrency }, lane));
    }));

    soakMs = Date.now() - soakStarted;
    // every turn settles: drivers' running and the providers' queues back to 0
    const settle = new Map<SoakCli, number>();
    const settleStart = Date.now();
    const providerState = async (): Promise<Map<string, { running: number; queued: number; turns: number }>> => {
      const response = await fetch(`${url}/v1/providers`);
      const body = await response.json() as { data: { name: string; agent_cli?: { running: number; queued: number; turns: number } }[] };
      return new Map(body.data.filter((entry) => entry.agent_cli !== undefined).map((entry) => [entry.name, entry.agent_cli!]));
    };
    let queues = await providerState();
    while (settle.size < clis.length && Date.now() - settleStart < 15_000) {
      queues = await providerState();
      for (const cli of clis) {
        if (settle.has(cli)) continue;
        const queue = queues.get(PROVIDER_NAMES[cli]);
        if (setups.get(cli)!.driver?.describe().running === 0 && queue !== undefined && queue.running === 0 && queue.queued === 0) settle.set(cli, Date.now() - settleStart);
      }
      if (settle.size < clis.length) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // the timings: let the last kills' watchers finish
    await new Promise((resolve) => setTimeout(resolve, 500));
    const atRest = sampleNow();
    gatewayHeap.end = heapAfterGc();
    gatewayRss.end = process.memoryUsage().rss;

    const reports: SoakCliReport[] = [];
    for (const cli of clis) {
      const setup = setups.get(cli)!;
      const mine = results.filter((result) => result.plan.cli === cli);
      const stats = perCli.get(cli)!;
      const upstreamEndMs: number[] = [];
      let upstreamNeverEnded = 0;
      const abortPropagationMs: number[] = [];
      const slowAborts: string[] = [];
      let partsAfterAbort = 0;
      for (const result of mine) {
        const turn = turns.get(result.plan.marker);
        if (turn === undefined || turn.abortedAt === undefined) continue;
        partsAfterAbort += turn.partsAfterAbort;
        const from = result.abortedAt !== undefined && !turn.timedOut ? result.abortedAt : turn.abortedAt;
        if (result.abortedAt !== undefined && !turn.timedOut) abortPropagationMs.push(turn.abortedAt - result.abortedAt);
        let latest = -Infinity;
        let open = false;
        const calls: string[] = [];
        for (const index of setup.upstream.get(result.plan.marker) ?? []) {
          const request = setup.mock.requests[index]!;
          const closedAt = await settledValue(setup.mock.socketClosed(index));
          const endedAt = Math.min(closedAt ?? Infinity, request.respondedAt ?? Infinity);
          calls.push(`${request.method} ${request.path} (${requestSketch(request.body)}) received ${request.receivedAt - from} ms, ended ${endedAt === Infinity ? 'never' : `${endedAt - from} ms`} after the abort`);
          if (endedAt <= from) continue; // over before the abort
          if (endedAt === Infinity) open = true;
          else latest = Math.max(latest, endedAt);
        }
        if (open) upstreamNeverEnded++;
        else if (latest > -Infinity) upstreamEndMs.push(latest - from);
        if (open || latest - from > 250) {
          const { plan } = result;
          slowAborts.push(`[soak:${plan.marker}] ${plan.stream ? 'stream' : 'whole'} upstream=${plan.upstream} client=${plan.client}+${plan.abortAfterMs} ms ${result.outcome}${turn.timedOut ? ' (timed out)' : ''}; the turn ran ${turn.runAt - from} ms, its signal ${turn.abortedAt - from} ms after the abort; ${calls.join('; ')}`);
        }
      }
      const groupGoneMs: number[] = [];
      const killSentMs: number[] = [];
      let killsEscalated = 0;
      let groupsNeverGone = 0;
      for (const kill of kills) {
        if (kill.turn.cli !== cli) continue;
        const result = mine.find((entry) => entry.plan.marker === kill.turn.marker);
        const from = result?.abortedAt !== undefined && !kill.turn.timedOut ? result.abortedAt : kill.turn.abortedAt!;
        killSentMs.push(kill.at - from);
        if (kill.escalatedAt !== undefined && kill.signal === 'SIGTERM') killsEscalated++;
        if (kill.goneAt === undefined) groupsNeverGone++;
        else groupGoneMs.push(kill.goneAt - from);
      }
      const queue = queues.get(PROVIDER_NAMES[cli]) ?? { running: -1, queued: -1, turns: -1 };
      reports.push({
        cli,
        requests: mine.length,
        answered: mine.filter((result) => result.outcome === 'answered').length,
        clientAborts: mine.filter((result) => result.outcome === 'aborted').length,
        timeouts: mine.filter((result) => result.outcome === 'timeout').length,
        errors: mine.filter((result) => result.outcome === 'error').length,
        errorSamples: mine.filter((result) => result.outcome === 'error').slice(0, 5).map((result) => `${result.plan.upstream}/${result.plan.client}: ${result.detail}`),
        upstreamEndMs, slowAborts, upstreamNeverEnded, groupGoneMs, groupsNeverGone, killSentMs, killsEscalated, abortPropagationMs, partsAfterAbort,
        maxWorkers: stats.maxWorkers,
        maxRunning: stats.maxRunning,
        maxProcessGroups: stats.maxGroups,
        maxProcesses: stats.maxProcesses,
        peakCliRssBytes: stats.peakRss,
        settleMs: settle.get(cli) ?? -1,
        queueAfter: { running: queue.running, queued: queue.queued, turns: queue.turns },
        processGroupsAtRest: new Set(atRest.filter((row) => row.cli === cli && row.state !== 'Z').map((row) => row.pgid)).size,
      });
    }

    await gateway.close();
    gateway = undefined;
    // every CLI process ends with the gateway
    let left = sampleNow();
    const closeDeadline = Date.now() + 5000;
    // until nothing is left: a zombie the gateway's process has not reaped yet is given the same time
    while (left.length > 0 && Date.now() < closeDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = sampleNow();
    }
    const orphans = left.filter((row) => row.state !== 'Z').map((row) => ({ ...strip(row), command: commandOf(row.pid) }));
    const zombiesOfInit = left.filter((row) => row.state === 'Z' && row.ppid === 1).map(strip);
    for (const row of left) if (row.state === 'Z' && row.ppid !== 1) watch.persistentZombies.set(`end:${row.pid}`, strip(row));
    return {
      clis: reports,
      durationMs: soakMs,
      orphans,
      persistentZombies: [...watch.persistentZombies.values()],
      zombiesOfInit,
      gatewayRss,
      gatewayHeap,
      egressAttempts: sink.attempts.length,
    };
  } finally {
    clearInterval(sampler);
    process.kill = originalKill as typeof process.kill;
    if (gateway !== undefined) await gateway.close();
    for (const setup of setups.values()) await setup.mock.close();
    await sink.close();
    if (previousState === undefined) delete process.env.SWITCHYARD_STATE_DIR;
    else process.env.SWITCHYARD_STATE_DIR = previousState;
    rmSync(stateDirectory, { recursive: true, force: true });
  }
}

/** What an upstream call was, in a few words: its model, its messages, the start of its instructions. */
function requestSketch(body: unknown): string {
  if (typeof body !== 'object' || body === null) return 'no JSON body';
  const fields = body as Record<string, unknown>;
  const messages = Array.isArray(fields.messages) ? fields.messages : Array.isArray(fields.input) ? fields.input : Array.isArray(fields.contents) ? fields.contents : [];
  const system = JSON.stringify(fields.system ?? fields.instructions ?? fields.systemInstruction ?? (messages[0] as { content?: unknown } | undefined)?.content ?? '').slice(0, 80);
  return `model ${String(fields.model)}, ${messages.length} messages, tools ${Array.isArray(fields.tools) ? fields.tools.length : 0}, starts ${system}`;
}

function strip(row: ProcessRow): SoakProcess {
  const { rssBytes: _rss, ...rest } = row;
  return rest;
}

/** The promise's value if it has settled by now, else undefined. */
async function settledValue<T>(promise: Promise<T>): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
}

function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

// --- the table -------------------------------------------------------------------------------

function ms(value: number): string {
  return Number.isNaN(value) ? '-' : `${Math.round(value)}`;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1048576)}`;
}

/** The report as a table (and the process findings under it). */
export function formatSoakReport(report: SoakReport): string {
  const lines: string[] = [];
  const header = ['cli', 'reqs', 'ok', 'aborted', 'timeout', 'error', 'upstream end p50/p99/max ms (n, >250)', 'group gone p50/p99/max ms (n, >250)', 'kill sent p50/p99 ms (SIGKILL needed)', 'propagation p50/p99 ms', 'after-abort parts', 'max workers/groups/procs/running', 'CLI RSS peak MB', 'settle ms', 'queue after', 'groups at rest'];
  const rows = report.clis.map((cli) => {
    const upstream = summary(cli.upstreamEndMs);
    const gone = summary(cli.groupGoneMs);
    const propagation = summary(cli.abortPropagationMs);
    return [
      cli.cli, `${cli.requests}`, `${cli.answered}`, `${cli.clientAborts}`, `${cli.timeouts}`, `${cli.errors}`,
      `${ms(upstream.p50)}/${ms(upstream.p99)}/${ms(upstream.max)} (${upstream.n}, ${upstream.over250}${cli.upstreamNeverEnded > 0 ? `, ${cli.upstreamNeverEnded} never` : ''})`,
      `${ms(gone.p50)}/${ms(gone.p99)}/${ms(gone.max)} (${gone.n}, ${gone.over250}${cli.groupsNeverGone > 0 ? `, ${cli.groupsNeverGone} never` : ''})`,
      `${ms(summary(cli.killSentMs).p50)}/${ms(summary(cli.killSentMs).p99)} (${cli.killsEscalated})`,
      `${ms(propagation.p50)}/${ms(propagation.p99)}`,
      `${cli.partsAfterAbort}`,
      `${cli.maxWorkers}/${cli.maxProcessGroups}/${cli.maxProcesses}/${cli.maxRunning}`,
      mb(cli.peakCliRssBytes),
      `${cli.settleMs}`,
      `${cli.queueAfter.running}/${cli.queueAfter.queued}/${cli.queueAfter.turns}`,
      `${cli.processGroupsAtRest}`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  lines.push(format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(format));
  lines.push('');
  lines.push(`duration ${Math.round(report.durationMs / 1000)} s; gateway RSS start/peak/end ${mb(report.gatewayRss.start)}/${mb(report.gatewayRss.peak)}/${mb(report.gatewayRss.end)} MB; heap after warm-up ${mb(report.gatewayHeap.afterWarmUp)} MB, at the end ${mb(report.gatewayHeap.end)} MB`);
  lines.push(`orphans after close: ${report.orphans.length}${report.orphans.length > 0 ? ` ${JSON.stringify(report.orphans)}` : ''}`);
  lines.push(`persistent zombies: ${report.persistentZombies.length}${report.persistentZombies.length > 0 ? ` ${JSON.stringify(report.persistentZombies)}` : ''}`);
  lines.push(`zombies left to PID 1: ${report.zombiesOfInit.length}; egress attempts: ${report.egressAttempts}`);
  for (const cli of report.clis) for (const sample of cli.errorSamples) lines.push(`error (${cli.cli}) ${sample}`);
  for (const cli of report.clis) for (const sample of cli.slowAborts.slice(0, 10)) lines.push(`slow abort (${cli.cli}) ${sample}`);
  return lines.join('\n');
}
