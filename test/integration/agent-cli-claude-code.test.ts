// The Claude Code driver against the real `claude` binary (from .tools/, see
// scripts/install-test-tools.sh) pointed at a loopback mock of the Anthropic Messages API: the
// driver's turns, sessions, errors, aborts and safety, without the gateway around it.
//
// Every run has a throw-away HOME, an API key for the mock only, and HTTP(S)_PROXY at an egress
// sink that records and refuses; the last test checks nothing tried to leave loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { CanonicalRequest, Message } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliDriver, AgentCliSettings, AgentTurnReport } from '../../src/agent-clis/driver.ts';
import { createClaudeCodeDriver, type ClaudeCodeTuning } from '../../src/agent-clis/claude-code/index.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { anthropicStream } from '../conformance/dialects/anthropic.ts';
import type { ScenarioAnswer } from '../conformance/types.ts';
import {
  agentCliPath, agentCliUnavailable, claudeCodeEnv, makeAgentWorkspace, startEgressSink, type AgentWorkspace, type EgressSink,
} from '../helpers/agent-cli.ts';

type Json = Record<string, any>;

const unavailable = agentCliUnavailable('claude-code');
const API_KEY = 'sk-ant-api03-switchyard-driver-test-key';
const MODEL = 'claude-test-model-1';
const TURN_TIMEOUT_MS = 60_000;

let sink: EgressSink;
let mock: MockUpstream;
let workspace: AgentWorkspace;
/** What the mock answers to each Messages request (count_tokens and others get a plain answer). */
let answer: (request: RecordedRequest, index: number) => Behavior;
const drivers: AgentCliDriver[] = [];

function textAnswer(text: string, usage = { input: 12, output: 7 }): ScenarioAnswer {
  return { text, finish: 'stop', usage };
}

function streamOf(scenario: ScenarioAnswer, request: RecordedRequest, intervalMs?: number): Behavior {
  return { kind: 'stream', events: anthropicStream(scenario, request.body?.model ?? MODEL), ...(intervalMs !== undefined ? { intervalMs } : {}) };
}

function messagesRequests(): RecordedRequest[] {
  return mock.requests.filter((request) => request.path.startsWith('/v1/messages') && !request.path.includes('count_tokens'));
}

before(async () => {
  if (unavailable !== undefined) return;
  sink = await startEgressSink();
  answer = (request) => streamOf(textAnswer('Hello there friend'), request);
  mock = await startMockUpstream({
    script: (request, index) => {
      if (request.path.startsWith('/v1/messages/count_tokens')) return { kind: 'json', status: 200, body: { input_tokens: 10 } };
      if (request.path.startsWith('/v1/messages')) return answer(request, index);
      return { kind: 'json', status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'not here' } } };
    },
  });
  workspace = makeAgentWorkspace();
});

after(async () => {
  for (const driver of drivers) await driver.close();
  await mock?.close();
  await sink?.close();
});

function settingsFor(overrides: Partial<AgentCliSettings> = {}, env: NodeJS.ProcessEnv = {}): AgentCliSettings {
  return {
    name: 'claude',
    type: 'claude-code',
    command: agentCliPath('claude-code'),
    args: [],
    env: claudeCodeEnv({ workspace, sink, baseUrl: mock.url, apiKey: API_KEY, env }),
    mode: 'llm',
    workDir: join(workspace.root, 'state', overrides.mode ?? 'llm'),
    models: [],
    ...overrides,
  };
}

/** A driver; without spares unless asked (each spare is a process start: CPU the other tests share). */
function newDriver(overrides: Partial<AgentCliSettings> = {}, tuning: ClaudeCodeTuning = {}, env: NodeJS.ProcessEnv = {}): AgentCliDriver {
  const driver = createClaudeCodeDriver(settingsFor(overrides, env), { spares: 0, ...tuning });
  drivers.push(driver);
  return driver;
}

function user(text: string): Message {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function assistant(text: string): Message {
  return { role: 'assistant', content: [{ type: 'text', text }] };
}

function requestOf(messages: Message[], model = MODEL): CanonicalRequest {
  return { model, messages, sampling: {}, stream: true };
}

interface TurnResult {
  parts: StreamPart[];
  reports: AgentTurnReport[];
  text: string;
  last: StreamPart;
}

interface TurnOptions {
  model?: string;
  conversation?: string;
  signal?: AbortSignal;
  /** Called with each part as it comes (e.g. to abort after the first delta). */
  onPart?: (part: StreamPart) => void;
}

/** Runs one turn and collects its parts up to the terminal one. */
function runTurn(driver: AgentCliDriver, messages: Message[], options: TurnOptions = {}): Promise<TurnResult> {
  const parts: StreamPart[] = [];
  const reports: AgentTurnReport[] = [];
  const controller = new AbortController();
  const signal = options.signal ?? controller.signal;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`the turn did not end within ${TURN_TIMEOUT_MS} ms; parts so far: ${JSON.stringify(parts).slice(0, 2000)}`));
    }, TURN_TIMEOUT_MS);
    // aborted by the caller: no terminal part comes
    options.signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve({ parts, reports, text: '', last: parts.at(-1) ?? { type: 'error', error: { code: 'aborted' } as never } });
    }, { once: true });
    driver.run(
      { request: requestOf(messages, options.model), model: options.model ?? MODEL, conversation: options.conversation, signal },
      {
        onPart(part) {
          parts.push(part);
          options.onPart?.(part);
          if (part.type === 'response-end' || part.type === 'error') {
            clearTimeout(timer);
            const text = parts.map((each) => (each.type === 'text-delta' ? each.delta : '')).join('');
            resolve({ parts, reports, text, last: part });
          }
        },
      },
      (report) => reports.push(report),
    );
  });
}

function errorOf(result: TurnResult): Json {
  assert.equal(result.last.type, 'error', `the turn ends with an error part: ${JSON.stringify(result.parts)}`);
  return (result.last as Extract<StreamPart, { type: 'error' }>).error as unknown as Json;
}

/** Process ids whose working directory is under `root` (Linux): the CLIs a driver started there. */
function processesUnder(root: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(root)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('Claude Code driver (real CLI, loopback mock)', { skip: unavailable }, () => {
  test('a streamed answer: response-start, text deltas in order, response-end with usage and the reported cost', async () => {
    const driver = newDriver();
    const before = messagesRequests().length;
    answer = (request) => streamOf(textAnswer('One two three four five six.', { input: 30, output: 9 }), request);
    const result = await runTurn(driver, [{ role: 'system', content: [{ type: 'text', text: 'You are terse.' }] }, user('Count to six.')]);
    const types = result.parts.map((part) => part.type);
    assert.equal(types[0], 'response-start');
    assert.equal(types.at(-1), 'response-end');
    assert.ok(types.filter((type) => type === 'text-delta').length >= 2, `the text came as deltas: ${types.join(',')}`);
    assert.deepEqual(types.filter((type) => type !== 'text-delta'), ['response-start', 'text-start', 'text-end', 'response-end']);
    assert.equal(result.text, 'One two three four five six.');
    const end = result.last as Extract<StreamPart, { type: 'response-end' }>;
    assert.equal(end.finishReason, 'stop');
    assert.deepEqual(end.usage, { inputTokens: 30, outputTokens: 9 });
    assert.equal(result.reports.length, 1);
    assert.ok((result.reports[0]!.reportedCostUsd ?? 0) > 0, 'Claude Code\'s own cost figure is reported');
    assert.match(result.reports[0]!.session ?? '', /^[0-9a-f-]{36}$/);

    const sent = messagesRequests().slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.body.model, MODEL, 'the model asked for reached the API');
    const system = (sent[0]!.body.system as Json[]).map((block) => block.text).join('\n');
    assert.match(system, /You are terse\./, 'the caller\'s system prompt is sent');
    assert.ok(system.length < 1000, `Claude Code's own system prompt is replaced (${system.length} characters)`);
    assert.deepEqual(sent[0]!.body.tools, [], 'llm mode offers the model no tools');
  });

  test('the model is always passed: each turn names its own', async () => {
    const driver = newDriver();
    const before = messagesRequests().length;
    await runTurn(driver, [user('hi')], { model: 'claude-other-model-2' });
    await runTurn(driver, [user('hi')], { model: 'sonnet' });
    const models = messagesRequests().slice(before).map((request) => request.body.model);
    assert.deepEqual(models, ['claude-other-model-2', 'claude-sonnet-5-5'], 'a full name goes as it is; an alias is resolved by Claude Code');
  });

  test('a spare for the model is started after a turn, and the next new session takes it', async () => {
    const root = join(workspace.root, 'state', 'spares');
    const driver = newDriver({ workDir: root }, { spares: 1 });
    answer = (request) => streamOf(textAnswer('ok'), request);
    await runTurn(driver, [user('one')]);
    assert.ok(await waitFor(() => processesUnder(root).length === 1), 'the one-off turn\'s process ended; one spare is up');
    const [spare] = processesUnder(root);
    await runTurn(driver, [user('two')]);
    assert.ok(await waitFor(() => processesUnder(root).length === 1 && !processesUnder(root).includes(spare!)), 'the spare ran the turn (and ended with it); a new spare is up');
    await runTurn(driver, [user('three')], { model: 'claude-test-model-other' });
    assert.ok(await waitFor(() => processesUnder(root).length === 1), 'one spare at most: the one for the model asked for last');
  });

  test('a conversation over two turns: the second turn sends only the new message, on the same session', async () => {
    const driver = newDriver({}, { spares: 1 });
    const before = messagesRequests().length;
    let calls = 0;
    answer = (request) => streamOf(textAnswer(calls++ === 0 ? 'First answer.' : 'Second answer.'), request);
    const history = [user('My name is Ada.')];
    const first = await runTurn(driver, history, { conversation: 'conversation-two-turns' });
    assert.equal(first.last.type, 'response-end');
    const firstText = first.text;
    const second = await runTurn(driver, [...history, assistant(firstText), user('What is my name?')], { conversation: 'conversation-two-turns' });
    assert.equal(second.last.type, 'response-end');
    assert.equal(first.reports[0]!.session, second.reports[0]!.session, 'one Claude Code session for the conversation');
    const sent = messagesRequests().slice(before);
    assert.equal(sent.length, 2);
    const userTexts = (sent[1]!.body.messages as Json[])
      .filter((message) => message.role === 'user')
      .map((message) => (typeof message.content === 'string' ? message.content : message.content.filter((block: Json) => block.type === 'text').map((block: Json) => block.text).join('')));
    assert.deepEqual(userTexts, ['My name is Ada.', 'What is my name?'], 'the history comes from the session, not flattened again');
    const assistantTexts = (sent[1]!.body.messages as Json[]).filter((message) => message.role === 'assistant');
    assert.equal(assistantTexts.length, 1);
  });

  test('a first turn with history: the earlier turns are flattened into one user message, speakers tagged', async () => {
    const driver = newDriver();
    const before = messagesRequests().length;
    const result = await runTurn(driver, [user('My name is Ada.'), assistant('Hello Ada.'), user('What is my name?')], { conversation: 'conversation-flattened' });
    assert.equal(result.last.type, 'response-end');
    const sent = messagesRequests().slice(before)[0]!;
    const userMessages = (sent.body.messages as Json[]).filter((message) => message.role === 'user');
    assert.equal(userMessages.length, 1);
    const text = userMessages[0]!.content.map((block: Json) => block.text ?? '').join('');
    assert.match(text, /<user>\nMy name is Ada\.\n<\/user>/);
    assert.match(text, /<assistant>\nHello Ada\.\n<\/assistant>/);
    assert.match(text, /What is my name\?$/);
  });

  test('an edited history is not a continuation: a fresh session gets the history flattened', async () => {
    const driver = newDriver();
    answer = (request) => streamOf(textAnswer('Noted.'), request);
    const first = await runTurn(driver, [user('Remember: blue.')], { conversation: 'conversation-edited' });
    const before = messagesRequests().length;
    const second = await runTurn(driver, [user('Remember: red.'), assistant(first.text), user('Which colour?')], { conversation: 'conversation-edited' });
    assert.equal(second.last.type, 'response-end');
    assert.notEqual(first.reports[0]!.session, second.reports[0]!.session);
    const sent = messagesRequests().slice(before)[0]!;
    const userMessages = (sent.body.messages as Json[]).filter((message) => message.role === 'user');
    assert.equal(userMessages.length, 1);
    assert.match(JSON.stringify(userMessages[0]), /Remember: red\./);
    assert.doesNotMatch(JSON.stringify(sent.body.messages), /blue/);
  });

  test('an image goes to the API as an image block', async () => {
    const driver = newDriver();
    const before = messagesRequests().length;
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==';
    await runTurn(driver, [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: png } }] }]);
    const blocks = ((messagesRequests().slice(before)[0]!.body.messages as Json[]).find((message) => message.role === 'user')!.content) as Json[];
    assert.deepEqual(blocks.map((block) => block.type), ['text', 'image']);
    assert.equal(blocks[1]!.source.data, png);
  });

  test('thinking deltas become reasoning parts before the text', async () => {
    const driver = newDriver();
    answer = (request) => streamOf({ reasoning: { text: 'Let me think about it.', signature: 'sig-abc' }, text: 'Forty-two.', finish: 'stop', usage: { input: 5, output: 9, reasoning: 4 } }, request);
    const result = await runTurn(driver, [user('The answer?')]);
    const reasoning = result.parts.filter((part) => part.type === 'reasoning-delta').map((part) => (part as { delta: string }).delta).join('');
    assert.equal(reasoning, 'Let me think about it.');
    assert.equal(result.text, 'Forty-two.');
    const kinds = result.parts.filter((part) => part.type.endsWith('-start') && part.type !== 'response-start').map((part) => part.type);
    assert.deepEqual(kinds, ['reasoning-start', 'text-start']);
    assert.equal((result.last as Extract<StreamPart, { type: 'response-end' }>).usage?.reasoningTokens, 4);
  });

  test('an API error surfaces as an error part with its status: 500 → 502 server-error, 400 → 400', async () => {
    const driver = newDriver();
    answer = () => ({ kind: 'json', status: 500, body: { type: 'error', error: { type: 'api_error', message: 'the mock broke' } } });
    const broken = errorOf(await runTurn(driver, [user('hi')]));
    assert.equal(broken.status, 502);
    assert.equal(broken.upstreamStatus, 500);
    assert.equal(broken.errorClass, 'server-error');
    assert.match(broken.message, /500/);
    answer = () => ({ kind: 'json', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages: bad shape' } } });
    const refused = errorOf(await runTurn(driver, [user('hi')]));
    assert.equal(refused.status, 400);
    assert.equal(refused.errorClass, 'client-error');
    assert.match(refused.message, /bad shape/);
  });

  test('a 429 is rate-limited; a subscription\'s rejected window gives Retry-After from resetsAt', async () => {
    const apiKeyDriver = newDriver();
    answer = () => ({ kind: 'json', status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } } });
    const plain = errorOf(await runTurn(apiKeyDriver, [user('hi')]));
    assert.equal(plain.status, 429);
    assert.equal(plain.errorClass, 'rate-limited');

    // with a subscription's OAuth token Claude Code reports its quota windows as rate_limit_event
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    answer = () => ({
      kind: 'json', status: 429,
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'rate limited' } },
      headers: { 'anthropic-ratelimit-unified-status': 'rejected', 'anthropic-ratelimit-unified-reset': String(resetsAt), 'anthropic-ratelimit-unified-representative-claim': 'five_hour' },
    });
    const subscription = newDriver({}, {}, { ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-switchyard-driver-test-token' });
    const limited = errorOf(await runTurn(subscription, [user('hi')]));
    assert.equal(limited.status, 429);
    assert.equal(limited.errorClass, 'rate-limited');
    assert.ok(limited.retryAfterSeconds > 3500 && limited.retryAfterSeconds <= 3600, `Retry-After from resetsAt: ${limited.retryAfterSeconds}`);
    assert.match(limited.message, /five_hour/);
    assert.doesNotMatch(limited.message, /sk-ant-oat01/);
  });

  test('llm mode: a Bash tool call from the model runs nothing; the turn ends with the text', async () => {
    const driver = newDriver();
    const target = join(workspace.root, 'pwned-llm');
    let calls = 0;
    answer = (request) => {
      calls++;
      return calls === 1
        ? streamOf({ text: 'Running it.', toolCalls: [{ id: 'toolu_01', name: 'Bash', args: { command: `touch ${target}`, description: 'create a file' } }], finish: 'tool-calls', usage: { input: 10, output: 5 } }, request)
        : streamOf(textAnswer('I cannot run commands here.'), request);
    };
    const result = await runTurn(driver, [user(`Run touch ${target}`)]);
    assert.equal(result.last.type, 'response-end');
    assert.equal(result.text, 'Running it.I cannot run commands here.');
    assert.ok(!result.parts.some((part) => part.type.startsWith('tool-call')), 'no tool call reaches the caller');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(existsSync(target), false, 'the file was never created');
  });

  test('llm mode: the user\'s CLAUDE.md files (config directory, working directory) never reach the model', async () => {
    const own = makeAgentWorkspace({ 'CLAUDE.md': 'MARKER-PROJECT-MEMORY' });
    mkdirSync(join(own.home, '.claude'), { recursive: true });
    writeFileSync(join(own.home, '.claude', 'CLAUDE.md'), 'MARKER-USER-MEMORY');
    const workDir = join(own.root, 'state');
    mkdirSync(workDir, { recursive: true });
    writeFileSync(join(workDir, 'CLAUDE.md'), 'MARKER-WORKDIR-MEMORY');
    const driver = newDriver({ workDir, env: claudeCodeEnv({ workspace: own, sink, baseUrl: mock.url, apiKey: API_KEY }) });
    answer = (request) => streamOf(textAnswer('Fine.'), request);
    const before = messagesRequests().length;
    const result = await runTurn(driver, [user('Hello?')]);
    assert.equal(result.last.type, 'response-end');
    const sent = messagesRequests().slice(before);
    assert.ok(sent.length > 0);
    for (const request of sent) assert.doesNotMatch(JSON.stringify(request.body), /MARKER-/);
  });

  test('llm mode: a model that keeps asking for tools is stopped after two calls, as an error', async () => {
    const driver = newDriver();
    const target = join(workspace.root, 'pwned-loop');
    const before = messagesRequests().length;
    answer = (request) => streamOf({ toolCalls: [{ id: 'toolu_02', name: 'Bash', args: { command: `touch ${target}` } }], finish: 'tool-calls', usage: { input: 10, output: 5 } }, request);
    const failed = errorOf(await runTurn(driver, [user('go')]));
    assert.equal(failed.status, 502);
    assert.match(failed.message, /error_max_turns/);
    assert.equal(messagesRequests().length - before, 2);
    assert.equal(existsSync(target), false);
  });

  test('agent mode: tools on, but a command that needs approval is denied, never run', async () => {
    const driver = newDriver({ mode: 'agent' });
    const target = join(workspace.root, 'pwned-agent');
    let calls = 0;
    const before = messagesRequests().length;
    answer = (request) => {
      calls++;
      return calls === 1
        ? streamOf({ toolCalls: [{ id: 'toolu_03', name: 'Bash', args: { command: `touch ${target}`, description: 'create a file' } }], finish: 'tool-calls', usage: { input: 10, output: 5 } }, request)
        : streamOf(textAnswer('That was blocked.'), request);
    };
    const result = await runTurn(driver, [user('make the file')], { conversation: 'agent-conversation' });
    assert.equal(result.last.type, 'response-end');
    assert.equal(result.text, 'That was blocked.');
    const sent = messagesRequests().slice(before);
    assert.ok((sent[0]!.body.tools as Json[]).some((tool) => tool.name === 'Bash'), 'agent mode offers Claude Code\'s tools');
    const toolResult = JSON.stringify(sent[1]!.body.messages);
    assert.match(toolResult, /denied/i, 'the tool result says the call was denied');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(existsSync(target), false, 'the file was never created');
  });

  test('agent mode: a conversation whose process has ended resumes its session from disk (--resume)', async () => {
    const driver = newDriver({ mode: 'agent' }, { idleSessions: 0 });
    let calls = 0;
    answer = (request) => streamOf(textAnswer(calls++ === 0 ? 'Hi Ada.' : 'Your name is Ada.'), request);
    const before = messagesRequests().length;
    const history = [user('My name is Ada.')];
    const first = await runTurn(driver, history, { conversation: 'agent-resume' });
    assert.equal(first.last.type, 'response-end');
    assert.ok(await waitFor(() => driver.describe().workers === 0), 'the process ended after the turn (idleSessions: 0)');
    const second = await runTurn(driver, [...history, assistant(first.text), user('What is my name?')], { conversation: 'agent-resume' });
    assert.equal(second.last.type, 'response-end');
    assert.equal(second.reports[0]!.session, first.reports[0]!.session, 'the same session, resumed');
    const sent = messagesRequests().slice(before);
    const texts = JSON.stringify(sent[1]!.body.messages);
    assert.match(texts, /My name is Ada\./);
    assert.match(texts, /What is my name\?/);
    const assistantTexts = (sent[1]!.body.messages as Json[]).filter((message) => message.role === 'assistant').map((message) => JSON.stringify(message.content));
    assert.ok(assistantTexts.some((text) => text.includes('Hi Ada.')), 'the earlier answer is the session\'s own assistant message, not flattened text');
  });

  test('a conversation\'s idle process ends after idleMs', async () => {
    const driver = newDriver({}, { idleMs: 300 });
    answer = (request) => streamOf(textAnswer('ok'), request);
    await runTurn(driver, [user('hi')], { conversation: 'idle-conversation' });
    assert.equal(driver.describe().workers, 1, 'kept for the conversation');
    assert.ok(await waitFor(() => driver.describe().workers === 0, 10_000), 'ended when idle');
  });

  test('turns of different conversations run side by side, each on its own process', async () => {
    const driver = newDriver();
    answer = (request) => streamOf(textAnswer('parallel'), request, 30);
    const [one, two] = await Promise.all([
      runTurn(driver, [user('first')], { conversation: 'side-1' }),
      runTurn(driver, [user('second')], { conversation: 'side-2' }),
    ]);
    assert.equal(one.last.type, 'response-end');
    assert.equal(two.last.type, 'response-end');
    assert.notEqual(one.reports[0]!.session, two.reports[0]!.session);
    assert.equal(driver.describe().workers, 2);
  });

  test('close() ends a turn in flight with an error part and every process', async () => {
    const root = join(workspace.root, 'state', 'closing');
    const driver = newDriver({ workDir: root });
    const words = Array.from({ length: 60 }, (_, index) => `w${index} `).join('');
    answer = (request) => streamOf(textAnswer(words), request, 100);
    const result = await runTurn(driver, [user('talk slowly')], { onPart: (part) => { if (part.type === 'text-start') void driver.close(); } });
    const failed = errorOf(result);
    assert.equal(failed.status, 503);
    assert.equal(failed.code, 'SWY_ERR_GATEWAY_SHUTTING_DOWN');
    assert.ok(await waitFor(() => processesUnder(root).length === 0), 'no process left');
  });

  test('abort mid-answer: no part after it, the upstream request ends, the process is interrupted or gone', async () => {
    const driver = newDriver();
    const words = Array.from({ length: 60 }, (_, index) => `w${index} `).join('');
    answer = (request) => ({ kind: 'stream', events: anthropicStream(textAnswer(words), request.body.model).flatMap((event) => [event]), intervalMs: 100 });
    const before = messagesRequests().length;
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    driver.run(
      { request: requestOf([user('talk slowly')]), model: MODEL, conversation: undefined, signal: controller.signal },
      { onPart: (part) => { parts.push(part); if (part.type === 'text-start') controller.abort(); } },
      () => {},
    );
    assert.ok(await waitFor(() => controller.signal.aborted, TURN_TIMEOUT_MS), 'the answer started');
    const countAtAbort = parts.length;
    await mock.socketClosed(mock.requests.indexOf(messagesRequests()[before]!));
    assert.ok(await waitFor(() => driver.describe().running === 0), 'the turn ended');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(parts.length, countAtAbort, 'nothing after the abort');
  });

  test('abort in a conversation: the turn is interrupted through the protocol and the worker stays for the next turn', async () => {
    const root = join(workspace.root, 'state', 'interrupt');
    // a loaded test machine may take longer than the default 100 ms to answer: this tests the path, not its speed
    const driver = newDriver({ workDir: root }, { interruptGraceMs: 10_000 });
    const words = Array.from({ length: 60 }, (_, index) => `w${index} `).join('');
    let calls = 0;
    answer = (request) => (calls++ === 0 ? streamOf(textAnswer(words), request, 100) : streamOf(textAnswer('Continuing.'), request));
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    driver.run(
      { request: requestOf([user('talk slowly')]), model: MODEL, conversation: 'interrupted-conversation', signal: controller.signal },
      { onPart: (part) => { parts.push(part); if (part.type === 'text-delta') controller.abort(); } },
      () => {},
    );
    assert.ok(await waitFor(() => controller.signal.aborted && driver.describe().running === 0, TURN_TIMEOUT_MS), 'the turn ended');
    const [pid] = processesUnder(root);
    assert.equal(processesUnder(root).length, 1, 'the worker was interrupted, not killed');
    const partial = parts.filter((part) => part.type === 'text-delta').map((part) => (part as { delta: string }).delta).join('');
    const next = await runTurn(driver, [user('talk slowly'), assistant(partial), user('go on')], { conversation: 'interrupted-conversation' });
    assert.equal(next.text, 'Continuing.');
    assert.deepEqual(processesUnder(root), [pid], 'the same process took the next turn');
  });

  test('llm mode: an aborted turn\'s process gets SIGKILL at once, and so does a worker that does not answer the interrupt', async () => {
    // which signals the driver sends to which process group (CliChild signals groups: kill(-pid))
    const signals: [number, string][] = [];
    const originalKill = process.kill;
    process.kill = ((pid: number, signal?: string | number) => {
      if (pid < 0 && typeof signal === 'string') signals.push([-pid, signal]);
      return originalKill.call(process, pid, signal);
    }) as typeof process.kill;
    try {
      const words = Array.from({ length: 60 }, (_, index) => `w${index} `).join('');
      answer = (request) => streamOf(textAnswer(words), request, 100);
      // a one-off turn: its process is discarded
      const oneOffRoot = join(workspace.root, 'state', 'sigkill-one-off');
      const oneOff = newDriver({ workDir: oneOffRoot });
      const controller = new AbortController();
      oneOff.run({ request: requestOf([user('talk slowly')]), model: MODEL, conversation: undefined, signal: controller.signal }, { onPart: (part) => { if (part.type === 'text-delta') controller.abort(); } }, () => {});
      assert.ok(await waitFor(() => controller.signal.aborted, TURN_TIMEOUT_MS), 'the answer started');
      assert.ok(await waitFor(() => oneOff.describe().running === 0 && processesUnder(oneOffRoot).length === 0), 'the turn and its process ended');
      const firstSignals = signals.map(([, signal]) => signal);
      assert.equal(firstSignals[0], 'SIGKILL', `signals sent: ${JSON.stringify(signals)}`);
      assert.ok(!firstSignals.includes('SIGTERM'), `no SIGTERM grace: ${JSON.stringify(signals)}`);

      // a conversation's worker that stopped answering: the interrupt goes unanswered, then SIGKILL
      signals.length = 0;
      const stuckRoot = join(workspace.root, 'state', 'sigkill-stuck');
      const stuck = newDriver({ workDir: stuckRoot }, { interruptGraceMs: 100 });
      const stuckController = new AbortController();
      stuck.run({ request: requestOf([user('talk slowly')]), model: MODEL, conversation: 'stuck-conversation', signal: stuckController.signal }, {
        onPart: (part) => {
          if (part.type !== 'text-delta' || stuckController.signal.aborted) return;
          for (const pid of processesUnder(stuckRoot)) originalKill.call(process, pid, 'SIGSTOP');
          stuckController.abort();
        },
      }, () => {});
      assert.ok(await waitFor(() => stuckController.signal.aborted, TURN_TIMEOUT_MS), 'the answer started');
      assert.ok(await waitFor(() => stuck.describe().running === 0 && processesUnder(stuckRoot).length === 0), `the stopped worker was killed: ${JSON.stringify(signals)}`);
      assert.deepEqual([...new Set(signals.map(([, signal]) => signal))], ['SIGKILL'], `SIGKILL only: ${JSON.stringify(signals)}`);
    } finally {
      process.kill = originalKill;
    }
  });

  test('a prompt over 200 KB goes through stdin, not argv', async () => {
    const driver = newDriver();
    answer = (request) => streamOf(textAnswer('Read it all.'), request);
    const big = `${'All work and no play makes Jack a dull boy. '.repeat(6000)}END-MARKER`;
    assert.ok(big.length > 200_000);
    const before = messagesRequests().length;
    const result = await runTurn(driver, [{ role: 'system', content: [{ type: 'text', text: `S${'y'.repeat(150_000)}` }] }, user(big)]);
    assert.equal(result.last.type, 'response-end', JSON.stringify(result.parts.slice(-1)));
    const sent = messagesRequests().slice(before)[0]!;
    assert.match(JSON.stringify(sent.body.messages), /END-MARKER/);
    assert.ok(JSON.stringify(sent.body.system).length > 150_000, 'the large system prompt arrived whole');
  });

  test('listModels returns the models of Claude Code\'s initialize response', async () => {
    const driver = newDriver();
    const models = await driver.listModels(AbortSignal.timeout(TURN_TIMEOUT_MS));
    for (const alias of ['opus', 'sonnet', 'haiku']) assert.ok(models.includes(alias), `${alias} in ${models.join(', ')}`);
    const state = driver.describe();
    assert.equal(state.protocol, 'stream-json');
    assert.match(state.version ?? '', /^\d+\.\d+\.\d+/);
  });

  test('when stream-json mode fails to start, the driver falls back to one-shot and says why', async () => {
    // a wrapper that refuses stream-json input, as an older or broken CLI would
    const wrapper = join(workspace.root, 'claude-without-stream-input');
    writeFileSync(wrapper, `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = "--input-format" ] && { echo "error: unknown option '--input-format'" >&2; exit 1; }; done\nexec '${agentCliPath('claude-code')}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const driver = newDriver({ command: wrapper });
    const before = messagesRequests().length;
    answer = (request) => streamOf(textAnswer('One-shot answer.'), request);
    const result = await runTurn(driver, [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] }, user('hi')]);
    assert.equal(result.last.type, 'response-end', JSON.stringify(result.parts));
    assert.equal(result.text, 'One-shot answer.');
    const state = driver.describe();
    assert.equal(state.protocol, 'one-shot');
    assert.match(state.fallbackReason ?? '', /unknown option '--input-format'/);
    const sent = messagesRequests().slice(before)[0]!;
    assert.equal(sent.body.model, MODEL);
    assert.match(JSON.stringify(sent.body.system), /Be brief\./);
    const second = await runTurn(driver, [user('again')]);
    assert.equal(second.text, 'One-shot answer.');
  });

  test('a command that does not exist: an error part, connect-failure', async () => {
    const driver = newDriver({ command: join(workspace.root, 'no-such-claude') });
    const failed = errorOf(await runTurn(driver, [user('hi')]));
    assert.equal(failed.status, 502);
    assert.equal(failed.errorClass, 'connect-failure');
  });

  test('random aborts over many turns leave no process behind', async () => {
    const root = join(workspace.root, 'state', 'aborts');
    const driver = newDriver({ workDir: root }, { spares: 1, idleSessions: 2 });
    answer = (request) => ({ kind: 'stream', events: anthropicStream(textAnswer('a b c d e f g h'), request.body.model), intervalMs: 15 });
    let ended = 0;
    for (let index = 0; index < 16; index++) {
      const controller = new AbortController();
      const conversation = index % 3 === 0 ? undefined : `abort-conversation-${index % 4}`;
      const delay = Math.floor(Math.random() * 400);
      const timer = setTimeout(() => controller.abort(), delay);
      const history = [user(`turn ${index}`)];
      const result = await runTurn(driver, history, { conversation, signal: controller.signal });
      if (result.last.type === 'response-end') ended++;
      clearTimeout(timer);
      await waitFor(() => driver.describe().running === 0, TURN_TIMEOUT_MS);
    }
    assert.ok(ended < 16, 'some turns were aborted');
    await driver.close();
    assert.equal(driver.describe().workers, 0);
    assert.ok(await waitFor(() => processesUnder(root).length === 0), `no process left in ${root}: ${processesUnder(root).join(', ')}`);
  });

  test('nothing tried to leave loopback', () => {
    assert.deepEqual(sink.attempts, []);
  });
});
