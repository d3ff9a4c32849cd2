// The Codex driver (src/agent-clis/codex) against the real `codex` binary (from .tools/, see
// scripts/install-test-tools.sh), whose model provider is a loopback mock of the OpenAI Responses
// API: driver → codex app-server → mock, without the gateway's pipeline. Every network path but
// loopback goes to an egress sink that records and refuses.
//
// Without Codex installed these tests skip (saying how to install it); with
// SWITCHYARD_TEST_AGENT_CLIS set they fail instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { Message } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliSettings, AgentTurnReport } from '../../src/agent-clis/driver.ts';
import { CodexDriver, createCodexDriver } from '../../src/agent-clis/codex/index.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import {
  agentCliPath, agentCliUnavailable, agentCliVersion, codexDriverSettings, makeAgentWorkspace, startEgressSink,
  type AgentWorkspace, type EgressSink,
} from '../helpers/agent-cli.ts';
import { responsesUpstream } from '../conformance/dialects/openai-responses.ts';
import type { ScenarioAnswer } from '../conformance/types.ts';

type Json = Record<string, any>;

const unavailable = agentCliUnavailable('codex');
const API_KEY = 'sk-codex-driver-test-key';
/** A model Codex's catalogue does not know: it must reach the mock as asked. */
const MODEL = 'switchyard-mock-model';

// --- turns through the driver --------------------------------------------------------------

class Collected implements PartSink {
  readonly parts: StreamPart[] = [];
  readonly reports: AgentTurnReport[] = [];
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor() {
    this.done = new Promise((resolve) => { this.resolve = resolve; });
  }

  onPart(part: StreamPart): void {
    this.parts.push(part);
    if (part.type === 'response-end' || part.type === 'error') this.resolve();
  }

  get text(): string {
    return this.parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
  }

  get reasoning(): string {
    return this.parts.map((part) => (part.type === 'reasoning-delta' ? part.delta : '')).join('');
  }

  get error(): Json | undefined {
    const last = this.parts.at(-1);
    return last?.type === 'error' ? (last.error as unknown as Json) : undefined;
  }

  get end(): Extract<StreamPart, { type: 'response-end' }> | undefined {
    const last = this.parts.at(-1);
    return last?.type === 'response-end' ? last : undefined;
  }
}

const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }] });
const system = (text: string): Message => ({ role: 'system', content: [{ type: 'text', text }] });

interface TurnOptions {
  conversation?: string;
  signal?: AbortSignal;
  model?: string;
}

function startTurn(driver: { run: CodexDriver['run'] }, messages: Message[], options: TurnOptions = {}): Collected {
  const collected = new Collected();
  const model = options.model ?? MODEL;
  driver.run({
    request: { model, messages, sampling: {}, stream: true },
    model,
    conversation: options.conversation,
    signal: options.signal ?? new AbortController().signal,
  }, collected, (report) => collected.reports.push(report));
  return collected;
}

async function turn(driver: { run: CodexDriver['run'] }, messages: Message[], options: TurnOptions = {}): Promise<Collected> {
  const collected = startTurn(driver, messages, options);
  await collected.done;
  return collected;
}

function describeParts(collected: Collected): string {
  return JSON.stringify(collected.parts, null, 1).slice(0, 3000);
}

// --- the mock's answers -------------------------------------------------------------------

const usage = { input: 11, output: 7 };

function answer(request: RecordedRequest, scenario: ScenarioAnswer): Behavior {
  return responsesUpstream.respond({ name: 'codex-driver', input: { messages: [] }, answer: scenario }, request);
}

/** Calls `tool` once, then answers with text quoting what the tool call returned. */
function toolThenText(name: string, args: Json): (request: RecordedRequest) => Behavior {
  return (request) => {
    const outputs = (request.body.input as Json[]).filter((item) => item.type === 'function_call_output');
    if (outputs.length === 0) return answer(request, { toolCalls: [{ id: `call_${name}`, name, args }], finish: 'tool-calls', usage });
    return answer(request, { text: `The tool said: ${JSON.stringify(outputs.map((item) => item.output))}`, finish: 'stop', usage });
  };
}

/** The user texts, assistant texts and developer texts of a Responses request. */
function conversationOf(request: RecordedRequest): { user: string[]; assistant: string[]; developer: string[] } {
  const result = { user: [] as string[], assistant: [] as string[], developer: [] as string[] };
  for (const item of request.body.input as Json[]) {
    if (item.type !== 'message') continue;
    const text = (item.content as Json[]).map((part) => part.text ?? '').join('');
    if (item.role === 'user') result.user.push(text);
    else if (item.role === 'assistant') result.assistant.push(text);
    else if (item.role === 'developer' || item.role === 'system') result.developer.push(text);
  }
  return result;
}

/** The state letter of every process left in the group (`/proc`), for a failure's message. */
function processState(pid: number): string {
  const states: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pid) states.push(`${entry}:${fields[0]}`);
    } catch {
      // gone meanwhile
    }
  }
  return states.length === 0 ? 'no process in the group' : `group ${pid}: ${states.join(' ')}`;
}

/**
 * Stops every thread of every process in the group and waits until each one is stopped: a thread
 * that is runnable when SIGSTOP is sent may still run (and answer a request written meanwhile)
 * until the stop reaches it, which on a loaded machine has been seen to take milliseconds.
 */
async function stopGroup(pid: number): Promise<void> {
  process.kill(-pid, 'SIGSTOP');
  await waitFor(() => groupStopped(pid), () => `every thread of group ${pid} to stop (${processState(pid)})`);
}

function groupStopped(pid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pid) continue;
      for (const task of readdirSync(`/proc/${entry}/task`)) {
        const taskStat = readFileSync(`/proc/${entry}/task/${task}/stat`, 'utf8');
        const state = taskStat.slice(taskStat.lastIndexOf(')') + 2, taskStat.lastIndexOf(')') + 3);
        if (state !== 'T' && state !== 't' && state !== 'Z' && state !== 'X') return false;
      }
    } catch {
      // gone meanwhile
    }
  }
  return true;
}

function processGone(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Waits for the upstream request that carries `text` as a user message: a request of another turn is not it. */
async function waitForTurnRequest(mock: MockUpstream, text: string, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = mock.requests.findIndex((request) => request.path === '/v1/responses' && conversationOf(request).user.includes(text));
    if (index >= 0) return index;
    if (Date.now() > deadline) throw new Error(`no upstream request carried "${text}" within ${timeoutMs} ms (${mock.requests.length} requests)`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// --- the suite ------------------------------------------------------------------------------

describe(`Codex ${agentCliVersion('codex') ?? '(not installed)'} driver (codex app-server) → mock Responses API`, { skip: unavailable }, () => {
  let sink: EgressSink;
  let mock: MockUpstream;
  const drivers: CodexDriver[] = [];

  function driverFor(settings: Partial<AgentCliSettings> & { workspace?: AgentWorkspace; providerSettings?: string[] } = {}): { driver: CodexDriver; workspace: AgentWorkspace } {
    const workspace = settings.workspace ?? makeAgentWorkspace();
    const base = codexDriverSettings({
      workspace, sink, baseUrl: mock.url, apiKey: API_KEY,
      ...(settings.providerSettings !== undefined ? { providerSettings: settings.providerSettings } : {}),
    });
    const { workspace: _workspace, providerSettings: _providerSettings, ...overrides } = settings;
    const driver = createCodexDriver({ ...base, ...overrides }) as CodexDriver;
    drivers.push(driver);
    return { driver, workspace };
  }

  before(async () => {
    sink = await startEgressSink();
    mock = await startMockUpstream({ streamDeltas: ['Hel', 'lo ', 'from ', 'the ', 'mock.'] });
  });

  after(async () => {
    for (const driver of drivers) {
      const pid = driver.workerPid;
      await driver.close();
      if (pid !== undefined) assert.ok(processGone(pid), `the worker ${pid} is gone`);
    }
    await mock?.close();
    await sink?.close();
  });

  let shared: CodexDriver;
  before(() => {
    shared = driverFor().driver;
  });

  test('streams the answer as it comes, in order, with the usage of the turn', async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const collected = await turn(shared, [user('Say hello.')]);
    assert.equal(collected.error, undefined, describeParts(collected));
    const types = collected.parts.map((part) => part.type);
    assert.deepEqual(types, ['response-start', 'text-start', 'text-delta', 'text-delta', 'text-delta', 'text-delta', 'text-delta', 'text-end', 'response-end']);
    assert.deepEqual(collected.parts.filter((part) => part.type === 'text-delta').map((part) => (part as { delta: string }).delta), ['Hel', 'lo ', 'from ', 'the ', 'mock.']);
    const end = collected.end!;
    assert.equal(end.finishReason, 'stop');
    assert.ok(end.usage !== undefined && end.usage.inputTokens > 0 && end.usage.outputTokens > 0, `usage: ${JSON.stringify(end.usage)}`);
    assert.equal(shared.describe().protocol, 'app-server');
    assert.equal(shared.describe().workers, 1);
    assert.equal(shared.describe().version, agentCliVersion('codex'));
    const requests = mock.requests.slice(before);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.path, '/v1/responses');
    assert.equal(requests[0]!.body.model, MODEL, 'the model the caller asked for reaches the upstream');
    assert.equal(requests[0]!.headers.authorization, `Bearer ${API_KEY}`);
  });

  test('llm mode: the caller\'s system prompt replaces Codex\'s, and the model is offered no tool', async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const collected = await turn(shared, [system('You are a terse pirate.'), user('Say hello.')]);
    assert.equal(collected.error, undefined, describeParts(collected));
    const request = mock.requests[before]!;
    const seen = conversationOf(request);
    assert.deepEqual(seen.developer, ['You are a terse pirate.'], 'only the caller\'s system prompt, no coding-agent prompt, no sandbox or skills text');
    assert.deepEqual(seen.user, ['Say hello.'], 'no environment context (cwd, shell) either');
    assert.deepEqual(request.body.tools, [], `no tools: ${JSON.stringify(request.body.tools?.map((tool: Json) => tool.name ?? tool.type))}`);
  });

  test('reasoning deltas come as a reasoning block before the text', async () => {
    mock.setScript((request) => answer(request, { reasoning: { text: 'Thinking it over.', signature: 'sig' }, text: 'Answer.', finish: 'stop', usage }));
    const collected = await turn(shared, [user('Think, then answer.')]);
    assert.equal(collected.error, undefined, describeParts(collected));
    assert.equal(collected.reasoning, 'Thinking it over.');
    assert.equal(collected.text, 'Answer.');
    const kinds = collected.parts.map((part) => part.type).filter((type) => type.endsWith('-start') || type.endsWith('-end'));
    assert.deepEqual(kinds, ['response-start', 'reasoning-start', 'reasoning-end', 'text-start', 'text-end', 'response-end']);
  });

  test('a conversation is one thread: the second turn sends only the new message and the upstream sees the whole history', async () => {
    mock.setScript((request) => answer(request, { text: `Answer ${conversationOf(request).user.length}.`, finish: 'stop', usage }));
    const before = mock.requests.length;
    const first = await turn(shared, [user('First question.')], { conversation: 'conversation-two-turns' });
    assert.equal(first.text, 'Answer 1.', describeParts(first));
    const second = await turn(shared, [user('First question.'), assistant('Answer 1.'), user('Second question.')], { conversation: 'conversation-two-turns' });
    assert.equal(second.text, 'Answer 2.', describeParts(second));
    const upstream = conversationOf(mock.requests[before + 1]!);
    assert.deepEqual(upstream.user, ['First question.', 'Second question.'], 'the second request carries the first turn, not a transcript of it');
    assert.deepEqual(upstream.assistant, ['Answer 1.']);
    assert.ok(first.reports[0]?.session !== undefined && first.reports[0].session === second.reports[0]?.session, 'the same thread');
    // the usage is the turn's, not the thread's running total
    assert.equal(second.end!.usage!.inputTokens, usage.input);
  });

  test('a first turn with earlier history carries it as a transcript', async () => {
    mock.setScript((request) => answer(request, { text: 'Fine.', finish: 'stop', usage }));
    const before = mock.requests.length;
    const collected = await turn(shared, [user('Earlier question.'), assistant('Earlier answer.'), user('Now this.')], { conversation: 'conversation-with-history' });
    assert.equal(collected.text, 'Fine.', describeParts(collected));
    const [text] = conversationOf(mock.requests[before]!).user;
    assert.match(text!, /<user>\nEarlier question\.\n<\/user>\n\n<assistant>\nEarlier answer\.\n<\/assistant>[\s\S]*Now this\.$/);
  });

  test('a worker that dies is replaced, and the conversation resumes its thread from disk', async () => {
    const { driver } = driverFor();
    mock.setScript((request) => answer(request, { text: `Answer ${conversationOf(request).user.length}.`, finish: 'stop', usage }));
    const first = await turn(driver, [user('One.')], { conversation: 'conversation-crash' });
    assert.equal(first.text, 'Answer 1.', describeParts(first));
    const pid = driver.workerPid!;
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => driver.describe().workers === 0, 'the worker to be gone');
    const before = mock.requests.length;
    const second = await turn(driver, [user('One.'), assistant('Answer 1.'), user('Two.')], { conversation: 'conversation-crash' });
    assert.equal(second.text, 'Answer 2.', describeParts(second));
    assert.notEqual(driver.workerPid, pid, 'a new worker');
    assert.deepEqual(conversationOf(mock.requests[before]!).user, ['One.', 'Two.'], 'the resumed thread carries the first turn');
    assert.equal(first.reports[0]?.session, second.reports[0]?.session);
    assert.ok(processGone(pid));
  });

  test('a turn running when the worker dies ends with an error part carrying the exit', async () => {
    const { driver } = driverFor();
    mock.setScript(() => ({ kind: 'headers-then-stall' }));
    const collected = startTurn(driver, [user('Hang.')]);
    await waitForTurnRequest(mock, 'Hang.');
    process.kill(-driver.workerPid!, 'SIGKILL');
    await collected.done;
    assert.equal(collected.error?.status, 502, describeParts(collected));
    assert.equal(collected.error?.errorClass, 'reset');
    assert.match(collected.error?.message, /SIGKILL/);
    assert.equal(driver.describe().running, 0);
  });

  test('an upstream error surfaces as an error part with the upstream\'s message', async () => {
    mock.setScript(() => ({ kind: 'json', status: 400, body: { error: { message: 'The mock refuses this request.', type: 'invalid_request_error' } } }));
    const bad = await turn(shared, [user('Fail, please.')]);
    assert.equal(bad.parts.length, 1, 'an error alone: nothing reached the caller, the gateway may still answer with a status');
    assert.match(bad.error?.message, /The mock refuses this request\./);
    assert.equal(bad.error?.provider, 'codex-test');
    mock.setScript(() => ({ kind: 'json', status: 500, body: { error: { message: 'upstream exploded', type: 'server_error' } } }));
    const down = await turn(shared, [user('Fail again.')]);
    assert.equal(down.error?.status, 502, describeParts(down));
    assert.equal(down.error?.errorClass, 'server-error');
    mock.setScript(() => ({ kind: 'default' }));
    const fine = await turn(shared, [user('And now?')]);
    assert.equal(fine.error, undefined, 'the worker carries on after failed turns');
  });

  test('a usage limit (429 with Codex\'s rate-limit headers) is 429 rate-limited with the window\'s reset time', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 120;
    mock.setScript(() => ({
      kind: 'json', status: 429,
      body: { error: { type: 'usage_limit_reached', message: 'You have hit your usage limit.', resets_in_seconds: 120 } },
      headers: { 'x-codex-primary-used-percent': '100', 'x-codex-primary-window-minutes': '300', 'x-codex-primary-reset-at': String(resetsAt) },
    }));
    const limited = await turn(shared, [user('Over the limit.')]);
    assert.equal(limited.error?.status, 429, describeParts(limited));
    assert.equal(limited.error?.errorClass, 'rate-limited');
    const retryAfter = limited.error?.retryAfterSeconds as number;
    assert.ok(retryAfter > 60 && retryAfter <= 121, `retry after ${retryAfter} s`);
    mock.setScript(() => ({ kind: 'json', status: 429, body: { error: { message: 'Rate limit reached.', type: 'requests', code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '7' } }));
    const plain = await turn(shared, [user('Too fast.')]);
    assert.equal(plain.error?.status, 429, describeParts(plain));
    assert.equal(plain.error?.errorClass, 'rate-limited');
  });

  test('abort interrupts the turn: no part after it, the upstream request is cancelled, the worker carries on', async (context) => {
    mock.setScript(() => ({ kind: 'headers-then-stall' }));
    const controller = new AbortController();
    const collected = startTurn(shared, [user('Take your time.')], { signal: controller.signal });
    const before = await waitForTurnRequest(mock, 'Take your time.');
    const partsBefore = collected.parts.length;
    const abortedAt = Date.now();
    controller.abort();
    const closedAt = await mock.socketClosed(before);
    await waitFor(() => shared.describe().running === 0, 'the turn to end');
    const endedAt = Date.now();
    assert.equal(collected.parts.length, partsBefore, 'no part after the abort');
    assert.equal(shared.describe().workers, 1, 'the interrupt was enough: the worker was not killed');
    context.diagnostic(`abort → upstream socket closed ${closedAt - abortedAt} ms, turn ended ${endedAt - abortedAt} ms`);
    mock.setScript(() => ({ kind: 'default' }));
    const next = await turn(shared, [user('Still there?')]);
    assert.equal(next.error, undefined, describeParts(next));
  });

  test('abort when the interrupt goes unanswered: the process group is killed', async () => {
    const { driver } = driverFor();
    mock.setScript(() => ({ kind: 'headers-then-stall' }));
    const controller = new AbortController();
    const collected = startTurn(driver, [user('Hang on.')], { signal: controller.signal });
    await waitForTurnRequest(mock, 'Hang on.');
    const pid = driver.workerPid!;
    // a worker that cannot answer anything any more
    await stopGroup(pid);
    assert.equal(driver.describe().running, 1, `the turn still runs when its worker is stopped (${describeParts(collected)})`);
    controller.abort();
    await waitFor(() => processGone(pid), () => `the stopped worker to be killed (${processState(pid)}, ${JSON.stringify(driver.describe())}, parts ${describeParts(collected)})`);
    await waitFor(() => driver.describe().running === 0, 'the turn to end');
    assert.deepEqual(collected.parts, [], 'the caller left: no part');
    mock.setScript(() => ({ kind: 'default' }));
    const next = await turn(driver, [user('Back?')]);
    assert.equal(next.error, undefined, describeParts(next));
  });

  test('two turns at once run on workers of their own: a worker that does not end its aborted turn in time is killed, the other turn completes', async () => {
    const { driver } = driverFor();
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    mock.setScript((request) => (conversationOf(request).user.includes('Stay.') ? { kind: 'hold', until: held, then: { kind: 'default' } } : { kind: 'headers-then-stall' }));
    const other = startTurn(driver, [user('Stay.')]);
    await waitForTurnRequest(mock, 'Stay.');
    const otherPid = driver.workerPid!;
    const controller = new AbortController();
    const aborted = startTurn(driver, [user('Leave.')], { signal: controller.signal });
    await waitForTurnRequest(mock, 'Leave.');
    const pid = driver.workerPid!;
    assert.notEqual(pid, otherPid, 'the second turn has a worker of its own');
    assert.equal(driver.describe().workers, 2);
    // the worker cannot end the turn (a loaded machine, or Codex reading the stream on)
    await stopGroup(pid);
    controller.abort();
    await waitFor(() => processGone(pid), () => `the stopped worker to be killed (${processState(pid)}, ${JSON.stringify(driver.describe())})`);
    await waitFor(() => driver.describe().running === 1, 'the aborted turn to end');
    assert.ok(!processGone(otherPid), 'the worker carrying the other turn was not killed');
    release();
    await other.done;
    assert.equal(other.error, undefined, describeParts(other));
    assert.deepEqual(aborted.parts, []);
  });

  test('a conversation whose worker is busy goes on on another worker, its history as a transcript', async () => {
    const { driver } = driverFor();
    mock.setScript((request) => answer(request, { text: `Answer ${conversationOf(request).user.length}.`, finish: 'stop', usage }));
    const first = await turn(driver, [user('First question.')], { conversation: 'moving' });
    assert.equal(first.text, 'Answer 1.', describeParts(first));
    const firstPid = driver.workerPid!;
    // the conversation's worker takes another turn and holds it: the conversation's next turn goes to a new worker
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    mock.setScript((request) => (conversationOf(request).user.includes('Busy.')
      ? { kind: 'hold', until: held, then: { kind: 'default' } }
      : answer(request, { text: `Answer ${conversationOf(request).user.length}.`, finish: 'stop', usage })));
    const busy = startTurn(driver, [user('Busy.')]);
    await waitForTurnRequest(mock, 'Busy.');
    assert.equal(driver.workerPid, firstPid, 'the idle worker took the other turn');
    const before = mock.requests.length;
    const second = await turn(driver, [user('First question.'), assistant('Answer 1.'), user('Second question.')], { conversation: 'moving' });
    assert.equal(second.error, undefined, describeParts(second));
    assert.notEqual(driver.workerPid, firstPid, 'a worker of its own');
    const sent = mock.requests.slice(before).map((request) => JSON.stringify(conversationOf(request).user)).find((text) => text.includes('Second question.'));
    assert.ok(sent !== undefined && sent.includes('First question.') && sent.includes('Answer 1.'), `the history went along: ${sent}`);
    assert.notEqual(second.reports[0]?.session, first.reports[0]?.session, 'a new thread (Codex lets one process write a thread)');
    release();
    await busy.done;
  });

  test('abort while the worker does not answer thread/start: the stuck worker is killed, the turn ends', async () => {
    const { driver } = driverFor();
    mock.setScript(() => ({ kind: 'default' }));
    await turn(driver, [user('Warm up.')]);
    const pid = driver.workerPid!;
    await stopGroup(pid);
    const controller = new AbortController();
    const collected = startTurn(driver, [user('Anyone?')], { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await waitFor(() => driver.describe().running === 0, 'the turn to end');
    assert.ok(processGone(pid), 'the stuck worker was killed');
    assert.deepEqual(collected.parts, []);
  });

  test('random aborts over many turns leave no turn running and no process behind', async () => {
    const { driver } = driverFor();
    mock.setScript((request, index) => (index % 3 === 0 ? { kind: 'headers-then-stall' } : { kind: 'delay', ms: 30, then: { kind: 'default' } }));
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let batch = 0; batch < 10; batch++) {
      const turns = [0, 1].map(() => {
        const controller = new AbortController();
        const collected = startTurn(driver, [user(`Batch ${batch}.`)], { signal: controller.signal });
        const timer = setTimeout(() => controller.abort(), Math.floor(random() * 150));
        return { collected, controller, timer };
      });
      await waitFor(() => driver.describe().running === 0, `batch ${batch} to end`, 20_000);
      for (const { collected, timer } of turns) {
        clearTimeout(timer);
        const last = collected.parts.at(-1);
        // a turn either ended (answer or error part) or was aborted without a last part
        if (last !== undefined) assert.ok(last.type === 'response-end' || last.type === 'error' || last.type === 'text-delta' || last.type === 'text-start' || last.type === 'response-start', JSON.stringify(last));
      }
    }
    assert.equal(driver.describe().running, 0);
    const pid = driver.workerPid!;
    await driver.close();
    assert.ok(processGone(pid), 'no process left in the worker\'s group');
  });

  test('an abort before the turn has started ends it too', async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const controller = new AbortController();
    const before = mock.requests.length;
    const collected = startTurn(shared, [user('Never mind.')], { signal: controller.signal });
    controller.abort();
    await waitFor(() => shared.describe().running === 0, 'the turn to end');
    assert.deepEqual(collected.parts, []);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(mock.requests.length - before <= 1);
  });

  for (const [name, args] of [
    ['exec_command', { cmd: 'touch PWNED' }],
    ['shell', { command: ['touch', 'PWNED'] }],
    ['apply_patch', { input: '*** Begin Patch\n*** Add File: PWNED\n+pwned\n*** End Patch\n' }],
  ] as const) {
    test(`safety, llm mode: the model's ${name} call that would create a file runs nothing`, async () => {
      const workspace = makeAgentWorkspace();
      const target = join(workspace.root, 'PWNED');
      const absolute: Json = name === 'exec_command' ? { cmd: `touch ${target}` } : name === 'shell' ? { command: ['touch', target] } : { input: (args as Json).input.replace('PWNED', target) };
      const { driver } = driverFor({ workspace });
      mock.setScript(toolThenText(name, absolute));
      const before = mock.requests.length;
      const collected = await turn(driver, [user('Create the file, please.')]);
      assert.equal(collected.error, undefined, describeParts(collected));
      assert.equal(existsSync(target), false, 'the file was never created');
      // nothing was created in the working directory either
      assert.equal(existsSync(join(workspace.root, 'state', 'codex', 'llm', 'PWNED')), false);
      const requests = mock.requests.slice(before);
      assert.equal(requests.length, 2, 'the call went back to the model with its refusal');
      const output = (requests[1]!.body.input as Json[]).find((item) => item.type === 'function_call_output');
      assert.match(String(output?.output), /unsupported call/);
    });
  }

  test('safety, llm mode: a thread resumed after a crash still runs nothing and offers no tool', async () => {
    const workspace = makeAgentWorkspace();
    const target = join(workspace.root, 'PWNED');
    const { driver } = driverFor({ workspace });
    mock.setScript((request) => answer(request, { text: 'First.', finish: 'stop', usage }));
    const first = await turn(driver, [user('One.')], { conversation: 'conversation-resumed-safety' });
    assert.equal(first.text, 'First.', describeParts(first));
    process.kill(-driver.workerPid!, 'SIGKILL');
    await waitFor(() => driver.describe().workers === 0, 'the worker to be gone');
    mock.setScript(toolThenText('exec_command', { cmd: `touch ${target}` }));
    const before = mock.requests.length;
    const second = await turn(driver, [user('One.'), assistant('First.'), user('Now create the file.')], { conversation: 'conversation-resumed-safety' });
    assert.equal(second.error, undefined, describeParts(second));
    assert.equal(existsSync(target), false, 'the file was never created');
    const requests = mock.requests.slice(before);
    assert.deepEqual(requests[0]!.body.tools, []);
    assert.deepEqual(conversationOf(requests[0]!).user, ['One.', 'Now create the file.'], 'it was the resumed thread');
    assert.match(String((requests[1]!.body.input as Json[]).find((item) => item.type === 'function_call_output')?.output), /unsupported call/);
  });

  test('control, agent mode: the same exec_command call runs, in the conversation\'s own directory', async () => {
    const workspace = makeAgentWorkspace();
    const { driver } = driverFor({ workspace, mode: 'agent' });
    mock.setScript(toolThenText('exec_command', { cmd: 'touch agent-was-here && pwd' }));
    const collected = await turn(driver, [user('Touch a file.')], { conversation: 'agent-conversation' });
    assert.equal(collected.error, undefined, describeParts(collected));
    const sessions = join(workspace.root, 'state', 'codex', 'sessions');
    const directories = readdirSync(sessions);
    assert.equal(directories.length, 1, 'one working directory for the conversation');
    assert.ok(existsSync(join(sessions, directories[0]!, 'agent-was-here')), `the command ran in ${directories[0]}: ${collected.text}`);
    assert.match(collected.text, new RegExp(directories[0]!));
  });

  test('the user\'s ~/.codex/config.toml is not read (its MCP server and notify command never run), its auth.json is', async () => {
    const workspace = makeAgentWorkspace();
    const userHome = join(workspace.home, '.codex');
    mkdirSync(userHome, { recursive: true });
    const mcpMarker = join(workspace.root, 'MCP_STARTED');
    const notifyMarker = join(workspace.root, 'NOTIFIED');
    writeFileSync(join(userHome, 'config.toml'), [
      `notify = ["/bin/sh", "-c", "touch ${notifyMarker}"]`,
      'model = "a-model-from-the-user-config"',
      '[mcp_servers.user_tool]',
      'command = "/bin/sh"',
      `args = ["-c", "touch ${mcpMarker}; sleep 5"]`,
      '',
    ].join('\n'));
    writeFileSync(join(userHome, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-from-the-user-login-0123456789' }));
    // the provider authenticates with Codex's own login (auth.json), not an environment key
    const { driver } = driverFor({ workspace, providerSettings: ['requires_openai_auth = true'] });
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const collected = await turn(driver, [user('Hello?')]);
    assert.equal(collected.error, undefined, describeParts(collected));
    const request = mock.requests[before]!;
    assert.equal(request.headers.authorization, 'Bearer sk-from-the-user-login-0123456789', 'the user\'s login reached Codex through the gateway\'s home');
    assert.equal(request.body.model, MODEL, 'the model of the user\'s config plays no part');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(existsSync(mcpMarker), false, 'the user\'s MCP server never started');
    assert.equal(existsSync(notifyMarker), false, 'the user\'s notify command never ran');
  });

  test('listModels lists Codex\'s catalogue (model/list), or the models named in the config', async () => {
    const models = await shared.listModels(AbortSignal.timeout(20_000));
    assert.ok(models.length > 0, 'some models');
    assert.ok(models.every((model) => typeof model === 'string' && model.length > 0));
    assert.equal(new Set(models).size, models.length, 'no duplicates');
    const { driver } = driverFor({ models: ['gpt-one', 'gpt-two'] });
    assert.deepEqual(await driver.listModels(AbortSignal.timeout(1000)), ['gpt-one', 'gpt-two']);
    assert.equal(driver.describe().workers, 0, 'no worker started for that');
  });

  test('a prompt over 200 KB goes through the protocol whole', async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const line = 'All work and no play makes a very long prompt. ';
    const prompt = `${line.repeat(Math.ceil(210_000 / line.length))}END-OF-PROMPT`;
    assert.ok(Buffer.byteLength(prompt) > 200_000);
    const collected = await turn(shared, [user(prompt)]);
    assert.equal(collected.error, undefined, describeParts(collected));
    assert.equal(conversationOf(mock.requests[before]!).user.at(-1), prompt);
  });

  test('two requests for one conversation at once: the second gets a thread of its own', async () => {
    mock.setScript((request) => ({ kind: 'delay', ms: 300, then: answer(request, { text: 'Done.', finish: 'stop', usage }) }));
    const [first, second] = await Promise.all([
      turn(shared, [user('Same conversation.')], { conversation: 'conversation-concurrent' }),
      turn(shared, [user('Same conversation.')], { conversation: 'conversation-concurrent' }),
    ]);
    assert.equal(first.text, 'Done.', describeParts(first));
    assert.equal(second.text, 'Done.', describeParts(second));
    assert.equal(first.reports.length + second.reports.length, 1, 'one of them ran on the conversation\'s thread, the other on a one-off thread');
  });

  test('close() ends the worker\'s process group: no orphan', async () => {
    const { driver } = driverFor();
    mock.setScript(() => ({ kind: 'default' }));
    await turn(driver, [user('Hi.')]);
    const pid = driver.workerPid!;
    assert.equal(processGone(pid), false);
    await driver.close();
    assert.ok(processGone(pid), 'the process group is gone');
    const late = await turn(driver, [user('After close.')]);
    assert.equal(late.error?.status, 503);
  });

  test('without a usable app-server the driver runs `codex exec --json` per turn and says why', async () => {
    const workspace = makeAgentWorkspace();
    // a Codex whose app-server subcommand is missing (as in old versions): clap's usage error, exit 2
    const wrapper = join(workspace.root, 'old-codex');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "app-server" ]; then echo "error: unrecognized subcommand 'app-server'" >&2; exit 2; fi\nexec ${JSON.stringify(agentCliPath('codex'))} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const { driver } = driverFor({ workspace, command: wrapper });
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const collected = await turn(driver, [system('Be brief.'), user('Say hello.')]);
    assert.equal(collected.error, undefined, describeParts(collected));
    assert.equal(collected.text, 'Hello from the mock.', 'the answer whole');
    const state = driver.describe();
    assert.equal(state.protocol, 'one-shot');
    assert.match(state.fallbackReason ?? '', /app-server/);
    const request = mock.requests[before]!;
    assert.equal(request.body.model, MODEL);
    assert.ok(conversationOf(request).user.at(-1)!.includes('Say hello.'));
    assert.ok(conversationOf(request).user.at(-1)!.includes('Be brief.'));
    assert.deepEqual(request.body.tools?.filter((tool: Json) => tool.name === 'exec_command' || tool.type === 'web_search') ?? [], [], 'llm mode holds in one-shot too');
    const target = join(workspace.root, 'PWNED');
    mock.setScript(toolThenText('exec_command', { cmd: `touch ${target}` }));
    const refused = await turn(driver, [user('Create the file, please.')]);
    assert.equal(refused.error, undefined, describeParts(refused));
    assert.match(refused.text, /unsupported call/);
    assert.equal(existsSync(target), false, 'nothing ran in one-shot either');
  });

  test('nothing tried to leave loopback', () => {
    assert.deepEqual(sink.attempts, []);
  });
});
