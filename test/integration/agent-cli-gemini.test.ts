// The Gemini CLI driver against the real CLI (from .tools/, see scripts/install-test-tools.sh),
// which talks to a loopback mock of the Gemini API (GOOGLE_GEMINI_BASE_URL, API-key auth): driver
// → `gemini --acp` → mock. What the mock receives shows what the CLI sent on the driver's behalf
// (the model in the URL, the system prompt, the history, no tools); the parts the driver emits are
// what a caller would get.
//
// Safety is checked the way it would be attacked: the mock answers with a shell tool call that
// would create a file, the user's own settings define MCP servers, hooks and a tool-discovery
// command that would create files, a prompt starts with a CLI command; nothing may appear and the
// command must reach the model as text. Nothing may try to leave loopback (the egress sink).
//
// Without the CLI these tests skip, saying how to install it; with SWITCHYARD_TEST_AGENT_CLIS set
// they fail instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { CanonicalRequest, Message } from '../../src/canonical/request.ts';
import type { AgentCliDriver, AgentCliMode, AgentCliSettings, AgentTurnReport } from '../../src/agent-clis/driver.ts';
import { createGeminiCliDriver } from '../../src/agent-clis/gemini-cli/index.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import {
  agentCliPath, agentCliUnavailable, agentCliVersion, geminiCliEnv, geminiStreamEvents, makeAgentWorkspace, startEgressSink,
  type AgentWorkspace, type EgressSink,
} from '../helpers/agent-cli.ts';

const unavailable = agentCliUnavailable('gemini-cli');
const API_KEY = 'gemini-test-key-0123456789';
const MODEL = 'gemini-2.5-pro';

type Json = Record<string, any>;

// --- the mock Gemini API: answers by the last user text of the request --------------------------

/** The text of the last user turn the CLI sent (the prompt, or the function response after a tool call). */
function lastUserText(request: RecordedRequest): string {
  const contents = (request.body?.contents ?? []) as Json[];
  const last = contents.at(-1);
  return ((last?.parts ?? []) as Json[]).map((part) => part.text ?? '').join('');
}

function hasFunctionResponse(request: RecordedRequest): boolean {
  const last = ((request.body?.contents ?? []) as Json[]).at(-1);
  return ((last?.parts ?? []) as Json[]).some((part) => part.functionResponse !== undefined);
}

function geminiError(status: number, message: string, details: Json[] = []): Behavior {
  return { kind: 'json', status, body: { error: { code: status, message, status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', details } } };
}

/** Per prompt keyword: what the mock answers. Anything else: a short streamed answer. */
function answer(request: RecordedRequest, pwnedFile: string): Behavior {
  const text = lastUserText(request);
  if (hasFunctionResponse(request)) return { kind: 'stream', events: geminiStreamEvents(['I could not run that.']) };
  if (text.includes('please fail')) return geminiError(500, 'mock internal failure');
  if (text.includes('slow down')) return geminiError(429, 'Resource has been exhausted (e.g. check quota).', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]);
  if (text.includes('run a command')) {
    const call = { functionCall: { name: 'run_shell_command', args: { command: `touch ${pwnedFile}`, description: 'create a file' } } };
    return { kind: 'stream', events: [JSON.stringify({ candidates: [{ content: { role: 'model', parts: [call] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 } })] };
  }
  if (text.includes('take your time')) {
    // one piece, then nothing: only an abort ends this
    return { kind: 'stream', events: geminiStreamEvents(['Thinking about it']).map((event) => event.replace('"finishReason":"STOP",', '')), thenBehavior: 'stall' };
  }
  if (text.includes('think first')) {
    const thought = { text: '**Planning**\nLet me see.', thought: true };
    return {
      kind: 'stream',
      events: [
        JSON.stringify({ candidates: [{ content: { role: 'model', parts: [thought] }, index: 0 }] }),
        ...geminiStreamEvents(['Done', ' thinking.']),
      ],
    };
  }
  return { kind: 'stream', events: geminiStreamEvents(['Hello', ' from', ' the', ' mock.']), intervalMs: 5 };
}

// --- driving turns ---------------------------------------------------------------------------

function request(messages: Message[], model = MODEL): CanonicalRequest {
  return { model, messages, sampling: {}, stream: true };
}

function user(text: string): Message {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function assistant(text: string): Message {
  return { role: 'assistant', content: [{ type: 'text', text }] };
}

function system(text: string): Message {
  return { role: 'system', content: [{ type: 'text', text }] };
}

interface TurnRun {
  parts: StreamPart[];
  reports: AgentTurnReport[];
  /** Settles with the terminal part (or when the signal aborts). */
  done: Promise<void>;
  /** Resolves at the first text delta. */
  firstText: Promise<void>;
}

function startTurn(driver: AgentCliDriver, messages: Message[], options: { conversation?: string; model?: string; signal?: AbortSignal } = {}): TurnRun {
  const parts: StreamPart[] = [];
  const reports: AgentTurnReport[] = [];
  const signal = options.signal ?? new AbortController().signal;
  let finish!: () => void;
  let textSeen!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const firstText = new Promise<void>((resolve) => { textSeen = resolve; });
  signal.addEventListener('abort', () => finish(), { once: true });
  const model = options.model ?? MODEL;
  driver.run({ request: request(messages, model), model, conversation: options.conversation, signal }, {
    onPart(part) {
      parts.push(part);
      if (part.type === 'text-delta') textSeen();
      if (part.type === 'response-end' || part.type === 'error') finish();
    },
  }, (report) => reports.push(report));
  return { parts, reports, done, firstText };
}

async function turn(driver: AgentCliDriver, messages: Message[], options: { conversation?: string; model?: string } = {}): Promise<TurnRun> {
  const run = startTurn(driver, messages, options);
  await run.done;
  return run;
}

function textOf(parts: StreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
}

function errorOf(parts: StreamPart[]): Json | undefined {
  const last = parts.at(-1);
  return last?.type === 'error' ? (last.error as unknown as Json) : undefined;
}

function streamRequests(upstream: MockUpstream): RecordedRequest[] {
  return upstream.requests.filter((entry) => entry.path.includes(':streamGenerateContent'));
}

/** A process is gone (signal 0 fails). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

// --- the fixture: one mock, one sink, one llm-mode driver for most tests ------------------------

let upstream: MockUpstream;
let sink: EgressSink;
let workspace: AgentWorkspace;
let driver: AgentCliDriver;
let pwnedFile: string;
/** The shared driver's work directory. */
let driverDir: string;
const drivers: AgentCliDriver[] = [];

/** The user's own settings try everything that would run something on the host. */
function hostileUserSettings(marker: string): Json {
  return {
    tools: { core: ['run_shell_command'], allowed: ['run_shell_command'], discoveryCommand: `touch ${marker}-discovery` },
    mcpServers: { evil: { command: 'sh', args: ['-c', `touch ${marker}-mcp`] } },
    hooksConfig: { enabled: true },
    hooks: {
      SessionStart: [{ hooks: [{ type: 'command', command: `touch ${marker}-hook-start` }] }],
      BeforeAgent: [{ hooks: [{ type: 'command', command: `touch ${marker}-hook-agent` }] }],
      BeforeTool: [{ hooks: [{ type: 'command', command: `touch ${marker}-hook-tool` }] }],
    },
    general: { maxAttempts: 5, defaultApprovalMode: 'auto_edit' },
    // folder trust on: the driver's directory must still be trusted, or its settings would not apply
    security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: true } },
  };
}

/**
 * A driver of the real CLI. `home`: the HOME it runs with (default: the shared one, whose user
 * settings are hostile — llm mode must hold against them; agent mode honours a user's own
 * settings by design, so its test runs with a HOME of its own).
 */
function makeDriver(mode: AgentCliMode, overrides: Partial<AgentCliSettings> = {}, home: AgentWorkspace = workspace): AgentCliDriver {
  const userSettings = home === workspace ? hostileUserSettings(join(workspace.root, 'pwned')) : {};
  const settings: AgentCliSettings = {
    name: `gemini-${mode}`,
    type: 'gemini-cli',
    command: agentCliPath('gemini-cli'),
    args: [],
    env: geminiCliEnv({ workspace: home, sink, baseUrl: upstream.url, apiKey: API_KEY, settings: userSettings }),
    mode,
    workDir: join(home.root, `driver-${mode}-${drivers.length}`),
    models: [],
    ...overrides,
  };
  const created = createGeminiCliDriver(settings);
  drivers.push(created);
  return created;
}

function pwnedFiles(): string[] {
  return ['', '-discovery', '-mcp', '-hook-start', '-hook-agent', '-hook-tool'].map((suffix) => join(workspace.root, `pwned${suffix}`)).filter((path) => existsSync(path));
}

describe('Gemini CLI driver (gemini --acp against a mock Gemini API)', { skip: unavailable, timeout: 300_000 }, () => {
  before(async () => {
    sink = await startEgressSink();
    workspace = makeAgentWorkspace();
    pwnedFile = join(workspace.root, 'pwned');
    upstream = await startMockUpstream({ script: (entry) => answer(entry, pwnedFile) });
    driverDir = join(workspace.root, 'driver-llm-0');
    driver = makeDriver('llm');
  });

  after(async () => {
    await Promise.all(drivers.map((each) => each.close()));
    await upstream?.close();
    await sink?.close();
  });

  test('streams the answer in order, with the model asked for in the URL and the usage at the end', async () => {
    const run = await turn(driver, [system('Answer in one line.'), user('Say hello')]);
    const types = run.parts.map((part) => part.type);
    assert.deepEqual(types, ['response-start', 'text-start', 'text-delta', 'text-delta', 'text-delta', 'text-delta', 'text-end', 'response-end'], JSON.stringify(run.parts));
    assert.equal(textOf(run.parts), 'Hello from the mock.');
    const end = run.parts.at(-1) as Extract<StreamPart, { type: 'response-end' }>;
    assert.equal(end.finishReason, 'stop');
    assert.deepEqual(end.usage, { inputTokens: 12, outputTokens: 5 });
    const sent = streamRequests(upstream).at(-1)!;
    // the model the caller asked for, never the CLI's `auto` (which would first call a router model)
    assert.match(sent.path, /^\/v1beta\/models\/gemini-2\.5-pro:streamGenerateContent\?alt=sse$/);
    assert.equal(upstream.requests.filter((entry) => entry.path.includes(':generateContent')).length, 0, 'no router call');
    assert.equal(sent.headers['x-goog-api-key'], API_KEY);
    // the caller's system prompt replaces the CLI's own; no tool is offered to the model
    assert.equal(sent.body.systemInstruction.parts[0].text, 'Answer in one line.');
    assert.deepEqual(sent.body.tools ?? [{ functionDeclarations: [] }], [{ functionDeclarations: [] }]);
    assert.match(lastUserText(sent), /Say hello$/);
    assert.equal(run.reports.length, 1);
    assert.ok(run.reports[0]!.session !== undefined);
  });

  test('the CLI\'s thoughts come as reasoning before the text', async () => {
    const run = await turn(driver, [user('think first, then answer')]);
    const types = run.parts.map((part) => part.type);
    assert.deepEqual(types.slice(0, 4), ['response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-end'], JSON.stringify(run.parts));
    const reasoning = run.parts.find((part) => part.type === 'reasoning-delta') as Extract<StreamPart, { type: 'reasoning-delta' }>;
    assert.match(reasoning.delta, /Planning/);
    assert.equal(textOf(run.parts), 'Done thinking.');
  });

  test('two turns of a conversation share one session: the second sends only the new message', async () => {
    const first = await turn(driver, [system('Be terse.'), user('first question')], { conversation: 'conversation-1' });
    assert.equal(textOf(first.parts), 'Hello from the mock.');
    const before = streamRequests(upstream).length;
    const second = await turn(driver, [system('Be terse.'), user('first question'), assistant('Hello from the mock.'), user('second question')], { conversation: 'conversation-1', model: 'gemini-2.5-flash' });
    assert.equal(textOf(second.parts), 'Hello from the mock.');
    assert.equal(second.reports[0]!.session, first.reports[0]!.session, 'the same ACP session');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 1);
    // the model changed for this turn, and the CLI's own history carried the first turn
    assert.match(sent[0]!.path, /\/models\/gemini-2\.5-flash:streamGenerateContent/);
    const contents = sent[0]!.body.contents as Json[];
    assert.deepEqual(contents.map((content) => content.role), ['user', 'model', 'user']);
    assert.match(contents[0]!.parts.map((part: Json) => part.text).join(''), /first question$/);
    assert.equal(contents[1]!.parts[0].text, 'Hello from the mock.');
    assert.equal(lastUserText(sent[0]!), 'second question', 'not flattened');
    assert.equal(sent[0]!.body.systemInstruction.parts[0].text, 'Be terse.');
  });

  test('a conversation the driver has not seen starts a session with the history flattened', async () => {
    const before = streamRequests(upstream).length;
    const run = await turn(driver, [user('what is 2+2?'), assistant('4'), user('and times 3?')], { conversation: 'conversation-new' });
    assert.equal(textOf(run.parts), 'Hello from the mock.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 1);
    const contents = sent[0]!.body.contents as Json[];
    assert.equal(contents.length, 1, 'one user turn');
    const prompt = lastUserText(sent[0]!);
    assert.match(prompt, /<user>\nwhat is 2\+2\?\n<\/user>\n\n<assistant>\n4\n<\/assistant>/);
    assert.match(prompt, /and times 3\?$/);
  });

  test('each session gets its own system prompt, even when created at the same time', async () => {
    const before = streamRequests(upstream).length;
    const runs = await Promise.all(['alpha', 'beta', 'gamma'].map((name) => turn(driver, [system(`You are ${name}.`), user(`hello ${name}`)])));
    for (const run of runs) assert.equal(textOf(run.parts), 'Hello from the mock.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 3);
    for (const entry of sent) {
      const name = /hello (\w+)$/.exec(lastUserText(entry))![1];
      assert.equal(entry.body.systemInstruction.parts[0].text, `You are ${name}.`);
    }
  });

  test('an upstream error surfaces as an error part with its status, not as an empty answer', async () => {
    const run = await turn(driver, [user('please fail')]);
    const error = errorOf(run.parts);
    assert.ok(error !== undefined, JSON.stringify(run.parts));
    assert.equal(run.parts.length, 1, 'nothing before the error: the gateway can still answer with a status');
    assert.equal(error.status, 502);
    assert.equal(error.errorClass, 'server-error');
    assert.equal(error.upstreamStatus, 500);
    assert.match(error.message, /mock internal failure/);
    assert.ok(!String(error.message).includes(API_KEY));
    // one attempt: the gateway retries and fails over itself
    assert.equal(streamRequests(upstream).filter((entry) => lastUserText(entry).includes('please fail')).length, 1);
    // the CLI's error report (the whole conversation) is written in the driver's directory, then removed
    const reports = (directory: string) => (existsSync(directory) ? readdirSync(directory).filter((name) => name.startsWith('gemini-client-error-')) : []);
    for (let tries = 0; tries < 100 && reports(join(driverDir, 'tmp')).length > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(reports(join(driverDir, 'tmp')), []);
    assert.deepEqual(reports(join(workspace.home, 'tmp')), []);
  });

  test('a 429 becomes rate-limited, with the retry delay the upstream gave', async () => {
    const run = await turn(driver, [user('slow down')]);
    const error = errorOf(run.parts);
    assert.ok(error !== undefined, JSON.stringify(run.parts));
    assert.equal(error.status, 429);
    assert.equal(error.errorClass, 'rate-limited');
    assert.equal(error.retryAfterSeconds, 7);
  });

  test('abort ends the upstream call and emits nothing more', async () => {
    const controller = new AbortController();
    const index = upstream.requests.length;
    const run = startTurn(driver, [user('take your time')], { signal: controller.signal });
    await run.firstText;
    const count = run.parts.length;
    controller.abort();
    // the CLI drops the upstream connection (cancel, else the process is ended)
    await upstream.socketClosed(index);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(run.parts.length, count, 'no part after the abort');
    // the worker is still usable
    const next = await turn(driver, [user('still there?')]);
    assert.equal(textOf(next.parts), 'Hello from the mock.');
  });

  test('llm mode: a tool call from the model runs nothing, whatever the user\'s own settings ask', async () => {
    const before = streamRequests(upstream).length;
    const run = await turn(driver, [user('run a command please')]);
    assert.equal(textOf(run.parts), 'I could not run that.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 2, 'the tool call, then the answer to the refusal');
    const response = (sent[1]!.body.contents as Json[]).at(-1)!.parts[0].functionResponse;
    assert.equal(response.name, 'run_shell_command');
    assert.match(JSON.stringify(response.response), /not found/);
    assert.deepEqual(pwnedFiles(), []);
  });

  test('a prompt that looks like a CLI command goes to the model as text; @paths are not read', async () => {
    const before = streamRequests(upstream).length;
    const first = await turn(driver, [user('/memory add remember this')]);
    assert.equal(textOf(first.parts), 'Hello from the mock.');
    const second = await turn(driver, [user('@/etc/hostname what is in it?')]);
    assert.equal(textOf(second.parts), 'Hello from the mock.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 2);
    assert.match(lastUserText(sent[0]!), /\/memory add remember this$/);
    assert.match(lastUserText(sent[1]!), /<\/session_context>@\/etc\/hostname what is in it\?$/, 'the path as written, no file content');
  });

  test('a prompt over 200 KB reaches the model whole (stdin, never argv)', async () => {
    const big = `start ${'0123456789abcdef'.repeat(16 * 1024)} end`;
    const before = streamRequests(upstream).length;
    const run = await turn(driver, [user(big)]);
    assert.equal(textOf(run.parts), 'Hello from the mock.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(lastUserText(sent[0]!).endsWith(big), true);
    assert.ok(big.length > 200 * 1024);
  });

  test('listModels lists the CLI\'s models without `auto`', async () => {
    const models = await driver.listModels(new AbortController().signal);
    assert.ok(models.includes('gemini-2.5-pro'), models.join(', '));
    assert.ok(!models.includes('auto'));
  });

  test('describe() reports the protocol, the workers and the CLI version', () => {
    const state = driver.describe();
    assert.equal(state.protocol, 'acp');
    assert.ok(state.workers >= 1);
    assert.equal(state.version, agentCliVersion('gemini-cli'));
    assert.equal(state.fallbackReason, undefined);
  });

  test('agent mode: a tool the model asks for is not approved by the driver', async () => {
    const agent = makeDriver('agent', {}, makeAgentWorkspace());
    const before = streamRequests(upstream).length;
    const run = await turn(agent, [user('run a command in agent mode')]);
    assert.equal(textOf(run.parts), 'I could not run that.');
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 2);
    const response = (sent[1]!.body.contents as Json[]).at(-1)!.parts[0].functionResponse;
    assert.match(JSON.stringify(response.response), /cancel|reject|denied|not found/i);
    assert.equal(existsSync(pwnedFile), false);
  });

  test('when gemini --acp cannot start, turns run one-shot and describe() says why', async () => {
    // a `gemini` that refuses --acp, as an old version would
    const wrapper = join(workspace.root, 'gemini-without-acp');
    writeFileSync(wrapper, `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = "--acp" ] && { echo "Unknown argument: acp" >&2; exit 1; }; done\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(agentCliPath('gemini-cli'))} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const oneShot = makeDriver('llm', { command: wrapper });
    const before = streamRequests(upstream).length;
    const run = await turn(oneShot, [system('One shot.'), user('hello one-shot')]);
    assert.equal(textOf(run.parts), 'Hello from the mock.', JSON.stringify(run.parts));
    const state = oneShot.describe();
    assert.equal(state.protocol, 'one-shot');
    assert.match(state.fallbackReason ?? '', /acp/i);
    const sent = streamRequests(upstream).slice(before);
    assert.equal(sent.length, 1);
    assert.match(sent[0]!.path, /\/models\/gemini-2\.5-pro:/);
    assert.equal(sent[0]!.body.systemInstruction.parts[0].text, 'One shot.');
    const failed = await turn(oneShot, [user('please fail')]);
    assert.equal(errorOf(failed.parts)?.status, 502);
  });

  test('close() ends every worker: no process is left', async () => {
    const extra = makeDriver('llm');
    await turn(extra, [user('hello before close')]);
    const pids = (extra as unknown as { pool: { workers: Set<{ pid: number }> } }).pool.workers;
    const before = [...pids].map((worker) => worker.pid);
    assert.ok(before.length >= 1);
    await extra.close();
    for (const pid of before) assert.ok(isGone(pid), `worker ${pid} is gone`);
    const after = await turn(extra, [user('hello after close')]);
    assert.equal(errorOf(after.parts)?.status, 503);
  });

  test('nothing tried to leave loopback; no file was created by any tool, hook or server', () => {
    assert.deepEqual(sink.attempts, []);
    assert.deepEqual(pwnedFiles(), []);
  });
});
