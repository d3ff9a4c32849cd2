// Driver-level measurements kept beside the standard benchmark (bench/agent-clis/gemini-cli.ts, `npm run bench:agent-clis`):
// the driver called in-process, without the gateway.
// Time to first token of the Gemini CLI driver against speaking ACP to `gemini --acp` directly,
// both on the same kind of worker (same flags, environment and settings) and the same loopback
// mock of the Gemini API, alternating in rounds so drift and neighbours hit both alike. The
// difference is what the driver adds: session bookkeeping, the conversation digest, prompt
// building, the parts. Also measured once: a worker's cold start and memory, how long an abort
// takes to close the upstream connection, and a one-shot turn (the fallback) for comparison.
// Needs the CLI in .tools/ (bash scripts/install-test-tools.sh).
// With --stress N, N more turns run two at a time with aborts at random moments; then the
// processes left are counted (only the driver's workers may remain, and none after close()).
// `npx node bench/agent-clis/driver/gemini-cli.ts [--rounds 5] [--turns 20] [--stress 0]`
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliChild } from '../../../src/agent-clis/child.ts';
import type { AgentCliDriver, AgentCliSettings } from '../../../src/agent-clis/driver.ts';
import { createGeminiCliDriver } from '../../../src/agent-clis/gemini-cli/index.ts';
import { acpArgs, cliEnv, NEUTRAL_SYSTEM_PROMPT, projectSettings } from '../../../src/agent-clis/gemini-cli/settings.ts';
import { JsonRpcPeer } from '../../../src/agent-clis/json-rpc.ts';
import type { Message } from '../../../src/canonical/request.ts';
import { agentCliPath, agentCliUnavailable, agentCliVersion, geminiCliEnv, geminiStreamEvents, makeAgentWorkspace, startEgressSink } from '../../../test/helpers/agent-cli.ts';
import { startMockUpstream } from '../../../test/helpers/mock-upstream.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, turns: { type: 'string', default: '20' }, stress: { type: 'string', default: '0' } } });
const rounds = Number(values.rounds);
const turnsPerRound = Number(values.turns);
const MODEL = 'gemini-2.5-pro';

const unavailable = agentCliUnavailable('gemini-cli');
if (unavailable !== undefined) {
  console.log(`skipped: ${unavailable}`);
  process.exit(0);
}

const upstream = await startMockUpstream({
  script: (request) => (String(request.body?.contents?.at(-1)?.parts?.at(-1)?.text ?? '').includes('stall')
    ? { kind: 'stream', events: geminiStreamEvents(['first']).map((event) => event.replace('"finishReason":"STOP",', '')), thenBehavior: 'stall' }
    : { kind: 'stream', events: geminiStreamEvents(['Hello', ' from', ' the', ' mock.']) }),
});
const sink = await startEgressSink();
const workspace = makeAgentWorkspace();
const env = geminiCliEnv({ workspace, sink, baseUrl: upstream.url, apiKey: 'bench-key-0123456789' });
const settings: AgentCliSettings = {
  name: 'gemini', type: 'gemini-cli', command: agentCliPath('gemini-cli'), args: [], env, mode: 'llm', workDir: join(workspace.root, 'driver'), models: [],
};

function user(text: string): Message {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) / 1024;
}

// --- ACP spoken directly ---------------------------------------------------------------------

class DirectAcp {
  readonly child: CliChild;
  readonly peer: JsonRpcPeer;
  private onChunk: (() => void) | undefined;

  constructor() {
    const workDir = join(workspace.root, 'direct');
    mkdirSync(join(workDir, '.gemini'), { recursive: true });
    writeFileSync(join(workDir, '.gemini', 'settings.json'), projectSettings('llm'));
    const systemFile = join(workDir, '.gemini', 'system.md');
    writeFileSync(systemFile, NEUTRAL_SYSTEM_PROMPT);
    const direct = { ...settings, workDir };
    this.peer = new JsonRpcPeer((line) => this.child.write(line), {
      onNotification: (method, params: any) => {
        if (method === 'session/update' && params?.update?.sessionUpdate === 'agent_message_chunk') this.onChunk?.();
      },
      onRequest: () => ({ outcome: { outcome: 'cancelled' } }),
    });
    this.child = new CliChild({ command: settings.command, args: acpArgs(direct), env: cliEnv(direct, systemFile), cwd: workDir, onLine: (line) => this.peer.receive(line), onExit: () => {} });
  }

  async start(): Promise<void> {
    await this.peer.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } });
  }

  /** ms to the first chunk: session/new + session/set_model + session/prompt for a new conversation, the prompt alone for a continuing one. */
  async turn(session: string | undefined, text: string): Promise<{ ms: number; session: string }> {
    const started = performance.now();
    let first = 0;
    this.onChunk = () => {
      if (first === 0) first = performance.now();
    };
    let sessionId = session;
    if (sessionId === undefined) {
      const created = (await this.peer.request('session/new', { cwd: join(workspace.root, 'direct'), mcpServers: [] })) as { sessionId: string };
      sessionId = created.sessionId;
      await this.peer.request('session/set_model', { sessionId, modelId: MODEL });
    }
    await this.peer.request('session/prompt', { sessionId, prompt: [{ type: 'text', text }] });
    return { ms: first - started, session: sessionId };
  }
}

// --- through the driver ----------------------------------------------------------------------

function driverTurn(driver: AgentCliDriver, messages: Message[], conversation: string | undefined, signal?: AbortSignal): Promise<number> {
  const started = performance.now();
  let first = 0;
  return new Promise((resolve, reject) => {
    signal?.addEventListener('abort', () => resolve(Number.NaN), { once: true });
    driver.run({ request: { model: MODEL, messages, sampling: {}, stream: true }, model: MODEL, conversation, signal: signal ?? new AbortController().signal }, {
      onPart(part) {
        if (part.type === 'text-delta' && first === 0) {
          first = performance.now();
          if (signal !== undefined) resolve(first - started);
        }
        if (part.type === 'response-end') resolve(first - started);
        if (part.type === 'error') reject(new Error(part.error.message));
      },
    }, () => {});
  });
}

/** Processes whose parent is this one (the workers run in process groups of their own, but stay our children). */
function childCount(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function line(label: string, samples: number[]): string {
  return `${label.padEnd(42)} median ${percentile(samples, 50).toFixed(2).padStart(7)} ms   p90 ${percentile(samples, 90).toFixed(2).padStart(7)} ms   (n=${samples.length})`;
}

const coldStarted = performance.now();
const direct = new DirectAcp();
await direct.start();
const directColdMs = performance.now() - coldStarted;
const driver = createGeminiCliDriver(settings);
const driverColdStarted = performance.now();
await driverTurn(driver, [user('warm up')], undefined);
const driverColdMs = performance.now() - driverColdStarted;
await direct.turn(undefined, 'warm up');

const samples = { directNew: [] as number[], driverNew: [] as number[], directNext: [] as number[], driverNext: [] as number[] };
for (let round = 0; round < rounds; round++) {
  // new conversations: a session each (kept under the worker's 64-session recycling)
  const perRound = Math.min(turnsPerRound, Math.floor(56 / rounds));
  for (let index = 0; index < perRound; index++) {
    samples.directNew.push((await direct.turn(undefined, `new ${round}-${index}`)).ms);
    samples.driverNew.push(await driverTurn(driver, [user(`new ${round}-${index}`)], undefined));
  }
  // one conversation continued turn after turn
  let session: string | undefined;
  let history: Message[] = [];
  const conversation = `bench-${round}`;
  for (let index = 0; index < turnsPerRound; index++) {
    const text = `next ${round}-${index}`;
    const result = await direct.turn(session, text);
    session = result.session;
    if (index > 0) samples.directNext.push(result.ms);
    history = [...history, user(text)];
    const ms = await driverTurn(driver, history, conversation);
    if (index > 0) samples.driverNext.push(ms);
    history = [...history, { role: 'assistant', content: [{ type: 'text', text: 'Hello from the mock.' }] }];
  }
}

// abort: from abort() to the upstream connection closing
const aborts: number[] = [];
for (let index = 0; index < 5; index++) {
  const controller = new AbortController();
  const requestIndex = upstream.requests.length;
  await driverTurn(driver, [user(`stall ${index}`)], undefined, controller.signal);
  const closed = upstream.socketClosed(requestIndex);
  const at = Date.now();
  controller.abort();
  aborts.push((await closed) - at);
}

// one-shot (the fallback): a process per turn
const oneShotWrapper = join(workspace.root, 'gemini-one-shot-only');
writeFileSync(oneShotWrapper, `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = "--acp" ] && exit 1; done\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(settings.command)} "$@"\n`, { mode: 0o755 });
const oneShot = createGeminiCliDriver({ ...settings, command: oneShotWrapper, workDir: join(workspace.root, 'one-shot') });
await driverTurn(oneShot, [user('fallback warm up')], undefined).catch(() => 0);
const oneShots: number[] = [];
for (let index = 0; index < 3; index++) oneShots.push(await driverTurn(oneShot, [user(`one-shot ${index}`)], undefined));

// random aborts: every turn must end (an end part, an error part, or the abort), no process may be left over
const stress = Number(values.stress);
let stressed = { ended: 0, aborted: 0, errors: 0 };
if (stress > 0) {
  const one = async (index: number): Promise<void> => {
    const controller = new AbortController();
    const delay = Math.random() * 150;
    const abortAt = Math.random() < 0.5 ? setTimeout(() => controller.abort(), delay) : undefined;
    const conversation = Math.random() < 0.5 ? `stress-${index % 7}` : undefined;
    try {
      await driverTurn(driver, [user(index % 5 === 0 ? `stall ${index}` : `stress ${index}`)], conversation, controller.signal);
      if (index % 5 === 0) controller.abort();
      if (controller.signal.aborted) stressed.aborted++;
      else stressed.ended++;
    } catch {
      stressed.errors++;
    } finally {
      clearTimeout(abortAt);
    }
  };
  for (let index = 0; index < stress; index += 2) await Promise.all([one(index), one(index + 1)]);
}

const workers = (driver as unknown as { pool: { workers: Set<{ pid: number | undefined }> } }).pool.workers;
const driverRss = [...workers].map((worker) => rssMb(worker.pid));

console.log(`Gemini CLI ${agentCliVersion('gemini-cli')}, Node ${process.version}, ${rounds} rounds`);
console.log(line('direct ACP, new session (new+set_model+prompt)', samples.directNew));
console.log(line('driver, new conversation', samples.driverNew));
console.log(line('direct ACP, next turn (prompt)', samples.directNext));
console.log(line('driver, next turn of a conversation', samples.driverNext));
console.log(`added by the driver (median): new ${(percentile(samples.driverNew, 50) - percentile(samples.directNew, 50)).toFixed(2)} ms, next turn ${(percentile(samples.driverNext, 50) - percentile(samples.directNext, 50)).toFixed(2)} ms`);
console.log(line('one-shot turn (fallback), run to first token', oneShots));
console.log(line('abort → upstream connection closed', aborts));
console.log(`cold start to first token: driver ${driverColdMs.toFixed(0)} ms; direct initialize ${directColdMs.toFixed(0)} ms`);
console.log(`worker RSS after the run: driver ${driverRss.map((mb) => mb.toFixed(0)).join(', ')} MB, direct ${rssMb(direct.child.pid).toFixed(0)} MB`);
console.log(`egress attempts: ${sink.attempts.length}`);
if (stress > 0) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(`stress: ${stress} turns with random aborts: ${stressed.ended} ended, ${stressed.aborted} aborted, ${stressed.errors} errors; driver workers now ${driver.describe().workers}, child processes of this process: ${childCount()}`);
}

await Promise.all([driver.close(), oneShot.close(), direct.child.kill()]);
if (stress > 0) console.log(`after close(): child processes of this process: ${childCount()}`);
await upstream.close();
await sink.close();
