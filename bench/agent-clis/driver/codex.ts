// Driver-level measurements kept beside the standard benchmark (bench/agent-clis/codex.ts, `npm run bench:agent-clis`):
// the driver called in-process, without the gateway.
// Time to first token through the Codex driver against `codex app-server` driven directly, same
// binary, same arguments and thread settings, same loopback mock of the Responses API: the
// difference is what the driver adds (issue #14 asks ≤ 5 ms). Both start their own app-server once
// and run turns alternately, in rounds, so drift and neighbours hit both alike. Two kinds of turn:
// one-off (a new ephemeral thread per turn: thread/start + turn/start) and a conversation's next
// turn (the thread exists: turn/start only). The one-shot fallback (`codex exec --json`, a
// process per turn) is timed too, as the cost the persistent worker saves, with the app-server's
// resident memory.
//
// `npx node bench/agent-clis/driver/codex.ts [--rounds 5] [--turns 20] [--one-shot 5]`
// Needs Codex in .tools/ (bash scripts/install-test-tools.sh).
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliChild } from '../../../src/agent-clis/child.ts';
import { JsonRpcPeer } from '../../../src/agent-clis/json-rpc.ts';
import { CodexDriver } from '../../../src/agent-clis/codex/index.ts';
import { planLaunch, prepareHome } from '../../../src/agent-clis/codex/codex-launch.ts';
import type { PartSink } from '../../../src/canonical/adapters.ts';
import type { StreamPart } from '../../../src/canonical/stream.ts';
import { startMockUpstream } from '../../../test/helpers/mock-upstream.ts';
import { agentCliPath, agentCliVersion, codexDriverSettings, makeAgentWorkspace, startEgressSink } from '../../../test/helpers/agent-cli.ts';
import { median } from '../../lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, turns: { type: 'string', default: '20' }, 'one-shot': { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const turnsPerRound = Number(values.turns);
const oneShotTurns = Number(values['one-shot']);
const MODEL = 'bench-model';

const mock = await startMockUpstream({ streamDeltas: ['Hello', ' from', ' the', ' mock.'] });
const sink = await startEgressSink();

// --- the baseline: app-server spoken to directly ---------------------------------------------

class DirectClient {
  private readonly child: CliChild;
  private nextId = 1;
  private readonly waiting = new Map<number, (result: any) => void>();
  private onDelta: (() => void) | undefined;
  private onDone: (() => void) | undefined;

  constructor(command: string, args: readonly string[], env: Record<string, string | undefined>, cwd: string) {
    this.child = new CliChild({
      command, args, env, cwd,
      onLine: (line) => {
        const message = JSON.parse(line);
        if (message.method === undefined) {
          this.waiting.get(message.id)?.(message.result ?? message.error);
          this.waiting.delete(message.id);
        } else if (message.method === 'item/agentMessage/delta') {
          const resolve = this.onDelta;
          this.onDelta = undefined;
          resolve?.();
        } else if (message.method === 'turn/completed') {
          this.onDone?.();
        }
      },
      onExit: () => {},
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    this.child.write(`${JSON.stringify({ id, method, params })}\n`);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  notify(method: string): void {
    this.child.write(`${JSON.stringify({ method })}\n`);
  }

  /** Starts a turn; resolves at its first delta (the time) and at its end. */
  async turn(params: unknown): Promise<{ firstDelta: Promise<number>; done: Promise<void> }> {
    const firstDelta = new Promise<number>((resolve) => { this.onDelta = () => resolve(performance.now()); });
    const done = new Promise<void>((resolve) => { this.onDone = resolve; });
    await this.request('turn/start', params);
    return { firstDelta, done };
  }

  kill(): Promise<void> {
    return this.child.kill();
  }
}

const workspace = makeAgentWorkspace();
const settings = codexDriverSettings({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-bench' });
const launch = planLaunch({ ...settings, workDir: join(workspace.root, 'direct') });
prepareHome(launch);
const direct = new DirectClient(launch.command, launch.appServerArgs, launch.appServerEnv as Record<string, string | undefined>, launch.llmDirectory);
await direct.request('initialize', { clientInfo: { name: 'bench', title: null, version: '1' }, capabilities: { experimentalApi: true } });
direct.notify('initialized');
const threadSettings = {
  model: MODEL, cwd: launch.llmDirectory, approvalPolicy: 'never', sandbox: 'read-only', config: launch.policy.config,
  environments: [], baseInstructions: 'You are a helpful assistant.',
};
const turnSettings = (threadId: string, text: string) => ({
  threadId, input: [{ type: 'text', text, text_elements: [] }], model: MODEL, approvalPolicy: 'never',
  environments: [], sandboxPolicy: { type: 'readOnly', networkAccess: false },
});

async function directOneOff(): Promise<number> {
  const began = performance.now();
  const started = await direct.request('thread/start', { ...threadSettings, ephemeral: true });
  const { firstDelta, done } = await direct.turn(turnSettings(started.thread.id, 'Say hello.'));
  const at = await firstDelta;
  await done;
  await direct.request('thread/unsubscribe', { threadId: started.thread.id });
  return at - began;
}

let directThread: string | undefined;
async function directNext(): Promise<number> {
  directThread ??= (await direct.request('thread/start', { ...threadSettings, ephemeral: false })).thread.id as string;
  const began = performance.now();
  const { firstDelta, done } = await direct.turn(turnSettings(directThread, 'And again.'));
  const at = await firstDelta;
  await done;
  return at - began;
}

// --- through the driver ------------------------------------------------------------------------

// The driver's own time in a turn, measured inside this process (immune to the machine's noise):
// from run() to its thread/start (or turn/start) written, from the thread/start answer read to
// turn/start written, and from the first delta read to the text part delivered. Everything else
// in the time to first token is Codex and the mock.
const marks = { run: 0, threadStartWritten: 0, threadStartAnswered: 0, turnStartWritten: 0, firstDeltaRead: 0 };
const ownTime: number[] = [];
const peerRequest = JsonRpcPeer.prototype.request;
JsonRpcPeer.prototype.request = function (this: JsonRpcPeer, method: string, params?: unknown) {
  const promise = peerRequest.call(this, method, params);
  if (method === 'thread/start') {
    marks.threadStartWritten = performance.now();
    promise.then(() => { marks.threadStartAnswered = performance.now(); }, () => {});
  } else if (method === 'turn/start') {
    marks.turnStartWritten = performance.now();
  }
  return promise;
};
const peerReceive = JsonRpcPeer.prototype.receive;
JsonRpcPeer.prototype.receive = function (this: JsonRpcPeer, line: string) {
  if (marks.firstDeltaRead === 0 && line.includes('"item/agentMessage/delta"')) marks.firstDeltaRead = performance.now();
  return peerReceive.call(this, line);
};

class FirstText implements PartSink {
  firstAt = 0;
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise((resolve) => { this.resolve = resolve; });
  }
  onPart(part: StreamPart): void {
    if (part.type === 'text-delta' && this.firstAt === 0) this.firstAt = performance.now();
    if (part.type === 'response-end' || part.type === 'error') {
      if (part.type === 'error') throw new Error(part.error.message);
      this.resolve();
    }
  }
}

const driver = new CodexDriver(settings);
const conversationMessages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Say hello.' }] }];
let conversationTurns = 0;

async function driverTurn(conversation: string | undefined): Promise<number> {
  const sinkPart = new FirstText();
  let messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Say hello.' }] }];
  if (conversation !== undefined) {
    // every turn repeats the history and adds a message, as a client does
    if (conversationTurns > 0) {
      conversationMessages.push({ role: 'assistant' as any, content: [{ type: 'text', text: 'Hello from the mock.' }] }, { role: 'user', content: [{ type: 'text', text: 'And again.' }] });
    }
    conversationTurns++;
    messages = [...conversationMessages];
  }
  marks.threadStartWritten = 0;
  marks.threadStartAnswered = 0;
  marks.firstDeltaRead = 0;
  const began = performance.now();
  marks.run = began;
  driver.run({ request: { model: MODEL, messages, sampling: {}, stream: true }, model: MODEL, conversation, signal: new AbortController().signal }, sinkPart, () => {});
  await sinkPart.done;
  const toFirstWrite = (marks.threadStartWritten > began ? marks.threadStartWritten : marks.turnStartWritten) - began;
  // the answer's promise callback runs a microtask after the line was read: that is the driver's too
  const between = marks.threadStartWritten > began ? marks.turnStartWritten - marks.threadStartAnswered : 0;
  ownTime.push(toFirstWrite + between + (sinkPart.firstAt - marks.firstDeltaRead));
  return sinkPart.firstAt - began;
}

/** Lets both processes finish what a turn left behind (unsubscribes, rollout writes) before the next pair. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30));
}

// warm both: process start, first thread, caches
await driverTurn(undefined);
await driverTurn('bench-conversation');
await directOneOff();
await directNext();

ownTime.length = 0;
const samples = { directOneOff: [] as number[], driverOneOff: [] as number[], directNext: [] as number[], driverNext: [] as number[] };
for (let round = 0; round < rounds; round++) {
  for (let index = 0; index < turnsPerRound; index++) {
    // ABBA: each side goes first half the time
    if ((index + round) % 2 === 0) {
      samples.directOneOff.push(await directOneOff());
      samples.driverOneOff.push(await driverTurn(undefined));
      samples.driverNext.push(await driverTurn('bench-conversation'));
      samples.directNext.push(await directNext());
    } else {
      samples.driverOneOff.push(await driverTurn(undefined));
      samples.directOneOff.push(await directOneOff());
      samples.directNext.push(await directNext());
      samples.driverNext.push(await driverTurn('bench-conversation'));
    }
    await settle();
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
const driverRss = rssMb(driver.workerPid!);
const directRss = rssMb(direct.pid);

// --- one-shot: a process per turn (the fallback) ---------------------------------------------
const wrapper = join(workspace.root, 'codex-without-app-server');
writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "app-server" ]; then exit 2; fi\nexec ${JSON.stringify(agentCliPath('codex'))} "$@"\n`);
chmodSync(wrapper, 0o755);
const oneShot = new CodexDriver({ ...settings, command: wrapper, workDir: join(workspace.root, 'one-shot') });
const oneShotSamples: number[] = [];
for (let index = 0; index < oneShotTurns; index++) {
  const sinkPart = new FirstText();
  const began = performance.now();
  oneShot.run({ request: { model: MODEL, messages: conversationMessages.slice(0, 1), sampling: {}, stream: true }, model: MODEL, conversation: undefined, signal: new AbortController().signal }, sinkPart, () => {});
  await sinkPart.done;
  oneShotSamples.push(sinkPart.firstAt - began);
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const row = (name: string, directSamples: number[], driverSamples: number[]) =>
  `| ${name} | ${ms(median(directSamples))} | ${ms(median(driverSamples))} | ${ms(median(driverSamples) - median(directSamples))} |`;
console.log(`Codex ${agentCliVersion('codex')}, ${rounds} rounds × ${turnsPerRound} turns each, time to first token (median)\n`);
console.log('| turn | app-server directly | through the driver | driver adds |');
console.log('|---|---|---|---|');
console.log(row('one-off (thread/start + turn/start)', samples.directOneOff, samples.driverOneOff));
console.log(row('conversation, next turn (turn/start)', samples.directNext, samples.driverNext));
console.log(`\nPer-round medians of the difference (one-off): ${Array.from({ length: rounds }, (_, round) => ms(median(samples.driverOneOff.slice(round * turnsPerRound, (round + 1) * turnsPerRound)) - median(samples.directOneOff.slice(round * turnsPerRound, (round + 1) * turnsPerRound)))).join(', ')}`);
console.log(`The driver's own time per turn (run → first request written, answer → next request, first delta read → text part), median ${ms(median(ownTime))}, max ${ms(Math.max(...ownTime))}`);
console.log(`One-shot fallback (codex exec --json, a process per turn): ${ms(median(oneShotSamples))} to the (whole) answer, median of ${oneShotTurns}`);
console.log(`app-server resident memory after the runs: driver's ${driverRss.toFixed(0)} MB, direct ${directRss.toFixed(0)} MB`);
console.log(`egress attempts: ${sink.attempts.length}`);

await driver.close();
await oneShot.close();
await direct.kill();
await mock.close();
await sink.close();
process.exit(0);
