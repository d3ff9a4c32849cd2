// The opencode driver against the real opencode CLI (from .tools/, see
// scripts/install-test-tools.sh): driver → `opencode serve` (started and managed by the driver, or
// one already running) → a loopback mock of the model vendor's API (OpenAI-compatible), which
// opencode is configured to use through OPENCODE_CONFIG_CONTENT. No pipeline: the driver's parts
// are checked as they come.
//
// Without the CLI installed these tests skip, saying how to install it; with
// SWITCHYARD_TEST_AGENT_CLIS set (as .ci/run does) they fail instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { Message } from '../../src/canonical/request.ts';
import type { AgentCliSettings, AgentTurnReport } from '../../src/agent-clis/driver.ts';
import { createOpencodeDriver, type OpencodeDriver } from '../../src/agent-clis/opencode/index.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import {
  agentCliPath, agentCliUnavailable, makeAgentWorkspace, opencodeEnv, opencodeMockProvider, startEgressSink,
  type AgentWorkspace, type EgressSink,
} from '../helpers/agent-cli.ts';

type Json = Record<string, any>;

const unavailable = agentCliUnavailable('opencode');
const MODELS = ['mock-gpt', 'mock-other'];
const TEST_TIMEOUT = 180_000;

interface TurnResult {
  parts: StreamPart[];
  text: string;
  reasoning: string;
  terminal: StreamPart;
  reports: AgentTurnReport[];
}

function chunk(delta: Json, finish: string | null = null): string {
  return JSON.stringify({ id: 'chatcmpl-oc', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta, finish_reason: finish }] });
}

/** A streamed chat answer that calls one tool (`name` with `args`), after optional text. */
function toolCallStream(name: string, args: Json, text?: string): Behavior {
  return {
    kind: 'stream',
    events: [
      chunk({ role: 'assistant', content: text ?? '' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name, arguments: JSON.stringify(args) } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ],
  };
}

function chatRequests(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter((request) => request.path === '/v1/chat/completions');
}

function messages(...items: [Message['role'], string][]): Message[] {
  return items.map(([role, text]) => ({ role, content: [{ type: 'text', text }] }));
}

function contentText(message: Json): string {
  return typeof message.content === 'string' ? message.content : (message.content as Json[]).map((part) => part.text ?? '').join('');
}

describe('opencode driver (real opencode serve → mock vendor API)', { skip: unavailable, timeout: TEST_TIMEOUT * 4 }, () => {
  let mock: MockUpstream;
  let sink: EgressSink;
  let workspace: AgentWorkspace;
  let settings: AgentCliSettings;
  let driver: OpencodeDriver;

  /** Runs one turn to its last part; `onPart` sees each part as it comes (to abort mid-answer). */
  function runTurn(
    options: { messages: Message[]; model?: string; conversation?: string; signal?: AbortSignal; onPart?: (part: StreamPart) => void; on?: OpencodeDriver },
  ): Promise<TurnResult> {
    const parts: StreamPart[] = [];
    const reports: AgentTurnReport[] = [];
    const model = options.model ?? 'mock/mock-gpt';
    return new Promise((resolve) => {
      (options.on ?? driver).run(
        {
          request: { model, messages: options.messages, sampling: {}, stream: true },
          model,
          conversation: options.conversation,
          signal: options.signal ?? new AbortController().signal,
        },
        {
          onPart(part) {
            parts.push(part);
            options.onPart?.(part);
            if (part.type === 'response-end' || part.type === 'error') {
              const text = parts.map((item) => (item.type === 'text-delta' ? item.delta : '')).join('');
              const reasoning = parts.map((item) => (item.type === 'reasoning-delta' ? item.delta : '')).join('');
              resolve({ parts, text, reasoning, terminal: part, reports });
            }
          },
        },
        (report) => reports.push(report),
      );
    });
  }

  before(async () => {
    mock = await startMockUpstream({ models: MODELS });
    sink = await startEgressSink();
    workspace = makeAgentWorkspace();
    settings = {
      name: 'oc',
      type: 'opencode',
      command: agentCliPath('opencode'),
      args: [],
      env: opencodeEnv({ workspace, sink, config: { provider: { mock: opencodeMockProvider(mock.url, MODELS) }, enabled_providers: ['mock'] } }),
      mode: 'llm',
      workDir: join(workspace.root, 'work'),
      models: [],
    };
    driver = createOpencodeDriver(settings) as OpencodeDriver;
  });

  after(async () => {
    await driver?.close();
    await mock?.close();
    await sink?.close();
  });

  test('streams the answer: deltas in order, one text block, usage, the model and system prompt passed', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const before = chatRequests(mock).length;
    const result = await runTurn({ messages: [{ role: 'system', content: [{ type: 'text', text: 'You are terse.' }] }, ...messages(['user', 'Say hello'])] });
    assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
    const types = result.parts.map((part) => part.type);
    assert.deepEqual(types, ['response-start', 'text-start', 'text-delta', 'text-delta', 'text-delta', 'text-delta', 'text-end', 'response-end']);
    assert.deepEqual(result.parts.filter((part) => part.type === 'text-delta').map((part) => part.delta), ['Hello', ' from', ' the', ' mock.']);
    const end = result.terminal as Extract<StreamPart, { type: 'response-end' }>;
    assert.equal(end.finishReason, 'stop');
    assert.ok(end.usage !== undefined && end.usage.inputTokens > 0 && end.usage.outputTokens > 0, JSON.stringify(end.usage));
    assert.equal(result.reports.length, 1);
    assert.match(result.reports[0]!.session ?? '', /^ses/);

    // the model reached the vendor as named, with the caller's system prompt instead of opencode's own, and no tool
    const requests = chatRequests(mock).slice(before);
    assert.equal(requests.length, 1, 'one request: no title generation, no retries');
    const body = requests[0]!.body as Json;
    assert.equal(body.model, 'mock-gpt');
    assert.ok(body.tools === undefined || body.tools.length === 0, `tools offered: ${JSON.stringify(body.tools)}`);
    const system = contentText(body.messages[0]);
    assert.equal(body.messages[0].role, 'system');
    assert.match(system, /You are terse\.$/);
    assert.ok(system.length < 2000, `opencode's own prompt was sent (${system.length} chars)`);
    assert.deepEqual(body.messages.slice(1).map((message: Json) => [message.role, contentText(message)]), [['user', 'Say hello']]);
    assert.equal(requests[0]!.headers.authorization, 'Bearer sk-opencode-test');

    const state = driver.describe();
    assert.equal(state.protocol, 'http');
    assert.equal(state.workers, 1);
    assert.equal(state.running, 0);
    assert.equal(state.version, '1.18.33');
  });

  test('reasoning streams as reasoning parts; cached and reasoning tokens are counted', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({
      kind: 'stream',
      events: [
        chunk({ role: 'assistant', reasoning_content: 'Let me ' }), chunk({ reasoning_content: 'think.' }),
        chunk({ content: 'Forty' }), chunk({ content: '-two.' }), chunk({}, 'stop'),
        JSON.stringify({ id: 'chatcmpl-oc', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 8 } } }),
        '[DONE]',
      ],
    }));
    const result = await runTurn({ messages: messages(['user', 'Think, then answer']) });
    assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
    assert.deepEqual(result.parts.map((part) => part.type), [
      'response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end',
      'text-start', 'text-delta', 'text-delta', 'text-end', 'response-end',
    ]);
    assert.equal(result.reasoning, 'Let me think.');
    assert.equal(result.text, 'Forty-two.');
    const end = result.terminal as Extract<StreamPart, { type: 'response-end' }>;
    assert.deepEqual(end.usage, { inputTokens: 100, outputTokens: 20, cachedInputTokens: 30, reasoningTokens: 8 });
  });

  test('two turns of one conversation share an opencode session, which carries the history', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const before = chatRequests(mock).length;
    const first = await runTurn({ conversation: 'conversation-1', messages: messages(['system', 'Be brief.'], ['user', 'My name is Ada.']) });
    assert.equal(first.terminal.type, 'response-end', JSON.stringify(first.terminal));
    const second = await runTurn({
      conversation: 'conversation-1',
      messages: messages(['system', 'Be brief.'], ['user', 'My name is Ada.'], ['assistant', first.text], ['user', 'What is my name?']),
    });
    assert.equal(second.terminal.type, 'response-end', JSON.stringify(second.terminal));
    assert.equal(first.reports[0]!.session, second.reports[0]!.session, 'the same opencode session');
    const requests = chatRequests(mock).slice(before);
    assert.equal(requests.length, 2);
    // opencode sent the whole history from its session; the driver sent only the new message
    const history = (requests[1]!.body as Json).messages.map((message: Json) => [message.role, contentText(message)]);
    assert.deepEqual(history.slice(1), [['user', 'My name is Ada.'], ['assistant', 'Hello from the mock.'], ['user', 'What is my name?']]);
    assert.match(history[0][1], /Be brief\.$/);

    // a conversation the driver has not seen (or one that changed) starts a session with the history flattened
    const third = await runTurn({
      conversation: 'conversation-2',
      messages: messages(['user', 'My name is Grace.'], ['assistant', 'Noted.'], ['user', 'What is my name?']),
    });
    assert.equal(third.terminal.type, 'response-end');
    assert.notEqual(third.reports[0]!.session, first.reports[0]!.session);
    const flattened = (chatRequests(mock).at(-1)!.body as Json).messages.slice(1);
    assert.equal(flattened.length, 1, 'one user message');
    const prompt = contentText(flattened[0]);
    assert.match(prompt, /<user>\nMy name is Grace\.\n<\/user>\n\n<assistant>\nNoted\.\n<\/assistant>/);
    assert.match(prompt, /What is my name\?$/);
  });

  test('an error from the vendor surfaces with its status: a 400 at once, a 5xx as 502 without opencode retrying', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'json', status: 400, body: { error: { message: 'mock says no to this request', type: 'invalid_request_error', param: null, code: null } } }));
    const refused = await runTurn({ messages: messages(['user', 'hi']) });
    assert.equal(refused.terminal.type, 'error');
    const error = (refused.terminal as Extract<StreamPart, { type: 'error' }>).error;
    assert.equal(error.status, 400);
    assert.equal(error.errorClass, 'client-error');
    assert.equal(error.upstreamStatus, 400);
    assert.match(error.message, /mock says no to this request/);
    assert.ok(!refused.parts.some((part) => part.type === 'response-start' || part.type === 'text-delta'), 'nothing before the error');

    mock.setScript(() => ({ kind: 'json', status: 503, body: { error: { message: 'the mock is down', type: 'server_error', param: null, code: null } } }));
    const before = chatRequests(mock).length;
    const failed = await runTurn({ messages: messages(['user', 'hi']) });
    assert.equal(failed.terminal.type, 'error');
    const serverError = (failed.terminal as Extract<StreamPart, { type: 'error' }>).error;
    assert.equal(serverError.status, 502);
    assert.equal(serverError.errorClass, 'server-error');
    assert.match(serverError.message, /the mock is down/);
    // opencode would retry after 2 s (with jitter, at most 2.5 s): the driver stopped it
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.equal(chatRequests(mock).length - before, 1, 'opencode did not retry on its own');
  });

  test('a rate limit from the vendor becomes 429 rate-limited with its Retry-After', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({
      kind: 'json', status: 429, headers: { 'retry-after': '7' },
      body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    }));
    const result = await runTurn({ messages: messages(['user', 'hi']) });
    assert.equal(result.terminal.type, 'error');
    const error = (result.terminal as Extract<StreamPart, { type: 'error' }>).error;
    assert.equal(error.status, 429);
    assert.equal(error.errorClass, 'rate-limited');
    assert.ok(error.retryAfterSeconds !== undefined && error.retryAfterSeconds >= 1 && error.retryAfterSeconds <= 7, `retryAfterSeconds ${error.retryAfterSeconds}`);
  });

  test('a model opencode does not have is a 404', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const named = await runTurn({ model: 'mock/no-such-model', messages: messages(['user', 'hi']) });
    assert.equal(named.terminal.type, 'error');
    assert.equal((named.terminal as Extract<StreamPart, { type: 'error' }>).error.status, 404);
    // a bare model name is looked up among opencode's providers
    const bare = await runTurn({ model: 'mock-other', messages: messages(['user', 'hi']) });
    assert.equal(bare.terminal.type, 'response-end', JSON.stringify(bare.terminal));
    assert.equal((chatRequests(mock).at(-1)!.body as Json).model, 'mock-other');
    const unknown = await runTurn({ model: 'nowhere', messages: messages(['user', 'hi']) });
    assert.equal((unknown.terminal as Extract<StreamPart, { type: 'error' }>).error.status, 404);
  });

  test('abort: no part after it, and opencode stops reading the vendor', { timeout: TEST_TIMEOUT }, async (t) => {
    const deltas = Array.from({ length: 60 }, (_, index) => chunk({ content: `w${index} ` }));
    mock.setScript(() => ({ kind: 'stream', intervalMs: 100, events: [chunk({ role: 'assistant', content: '' }), ...deltas, chunk({}, 'stop'), '[DONE]'] }));
    const index = mock.requests.length;
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    let abortedAt = 0;
    driver.run(
      { request: { model: 'mock/mock-gpt', messages: messages(['user', 'count']), sampling: {}, stream: true }, model: 'mock/mock-gpt', conversation: undefined, signal: controller.signal },
      {
        onPart(part) {
          parts.push(part);
          if (part.type === 'text-delta' && abortedAt === 0) {
            abortedAt = Date.now();
            controller.abort();
          }
        },
      },
      () => {},
    );
    const closedAt = await mock.socketClosed(index);
    t.diagnostic(`the vendor connection closed ${closedAt - abortedAt} ms after the abort`);
    assert.ok(abortedAt > 0);
    assert.equal(parts.filter((part) => part.type === 'text-delta').length, 1, 'no delta after the abort');
    assert.ok(!parts.some((part) => part.type === 'response-end' || part.type === 'error'), 'no terminal part: the caller left');
    assert.equal(driver.describe().running, 0);
    // the connection closed long before the 6 s answer could have ended by itself (keep-alive would hold it open)
    assert.ok(closedAt - abortedAt < 5000, `closed ${closedAt - abortedAt} ms after the abort`);
  });

  test('an abort while the server starts ends the turn at once; nothing of it reaches opencode afterwards', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const fresh = createOpencodeDriver({ ...settings, name: 'oc-starting', workDir: join(workspace.root, 'work-starting') }) as OpencodeDriver;
    try {
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      fresh.run(
        { request: { model: 'mock/mock-gpt', messages: messages(['user', 'never-sent-while-starting']), sampling: {}, stream: true }, model: 'mock/mock-gpt', conversation: undefined, signal: controller.signal },
        { onPart: (part) => parts.push(part) },
        () => {},
      );
      assert.equal(fresh.describe().running, 1, 'a turn waiting for the server counts as running');
      controller.abort();
      assert.equal(fresh.describe().running, 0, 'the abort ended it, not the server being ready');
      // the server comes up for the next turn; the aborted one never reaches it
      const next = await runTurn({ on: fresh, messages: messages(['user', 'hi']) });
      assert.equal(next.terminal.type, 'response-end', JSON.stringify(next.terminal));
      assert.deepEqual(parts, []);
      assert.ok(!chatRequests(mock).some((request) => JSON.stringify(request.body).includes('never-sent-while-starting')), 'the aborted turn was not prompted');
      assert.equal(fresh.describe().running, 0);
    } finally {
      await fresh.close();
    }
  });

  test('close() while the server starts: the turn fails, and no server is left running', { timeout: TEST_TIMEOUT }, async () => {
    const workDir = join(workspace.root, 'work-closing');
    const closing = createOpencodeDriver({ ...settings, name: 'oc-closing', workDir }) as OpencodeDriver;
    const result = runTurn({ on: closing, messages: messages(['user', 'hi']) });
    await closing.close();
    const ended = await result;
    assert.equal(ended.terminal.type, 'error');
    assert.equal((ended.terminal as Extract<StreamPart, { type: 'error' }>).error.status, 503);
    assert.equal(closing.serverPid, undefined);
    const serversIn = (): string[] => readdirSync('/proc').filter((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        return readlinkSync(`/proc/${entry}/cwd`) === workDir;
      } catch {
        return false;
      }
    });
    for (let tries = 0; tries < 40 && serversIn().length > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(serversIn(), [], 'no opencode serve started after close()');
  });

  test('safety: in llm mode a shell tool call from the model runs nothing', { timeout: TEST_TIMEOUT }, async () => {
    const target = join(workspace.root, 'pwned.txt');
    const command = `touch ${target} && echo owned > ${target}`;
    const before = chatRequests(mock).length;
    mock.setScript(() => toolCallStream('bash', { command, description: 'create a file' }));
    const result = await runTurn({ messages: messages(['user', 'Create the file, please.']) });
    assert.equal(result.terminal.type, 'error', JSON.stringify(result.terminal));
    const error = (result.terminal as Extract<StreamPart, { type: 'error' }>).error;
    assert.match(error.message, /tool 'bash'.*nothing ran/);

    // the same with a file-writing tool, and with text before the call: the text is the answer
    mock.setScript(() => toolCallStream('write', { filePath: target, content: 'owned' }, 'I will write it.'));
    const withText = await runTurn({ messages: messages(['user', 'Write the file, please.']) });
    assert.equal(withText.terminal.type, 'response-end', JSON.stringify(withText.terminal));
    assert.equal(withText.text, 'I will write it.');

    // opencode offered no tool, and did not loop back to the model with the failed call's result
    // (the driver ends a turn at the model's first tool call, but on a loaded machine opencode may
    // have started its next model call before the abort reaches it: a few more than two; the loop
    // this guards against is dozens)
    const requests = chatRequests(mock).slice(before);
    assert.ok(requests.length <= 10, `${requests.length} vendor requests for two turns`);
    for (const request of requests) {
      const tools = (request.body as Json).tools;
      assert.ok(tools === undefined || tools.length === 0, `tools offered: ${JSON.stringify(tools)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(existsSync(target), false, 'the file was created: a tool ran on the host');
  });

  test('a prompt of more than 200 KB reaches the model whole', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const big = `${'lorem ipsum dolor sit amet '.repeat(10_000)}THE-END-MARKER`;
    assert.ok(Buffer.byteLength(big) > 200 * 1024);
    const result = await runTurn({ messages: messages(['user', big]) });
    assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
    const sent = (chatRequests(mock).at(-1)!.body as Json).messages.at(-1);
    assert.equal(contentText(sent), big);
  });

  test('listModels lists the models of opencode\'s providers', { timeout: TEST_TIMEOUT }, async () => {
    const models = await driver.listModels(AbortSignal.timeout(60_000));
    assert.deepEqual([...models].sort(), ['mock/mock-gpt', 'mock/mock-other']);
  });

  test('the managed server refuses a request without the password, or with a wrong one', { timeout: TEST_TIMEOUT }, async () => {
    const url = driver.serverUrl;
    assert.ok(url !== undefined && url.startsWith('http://127.0.0.1:'), url);
    const anonymous = await fetch(`${url}/config/providers`);
    assert.equal(anonymous.status, 401);
    const wrong = await fetch(`${url}/session`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('opencode:guess').toString('base64')}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrong.status, 401);
    const events = await fetch(`${url}/event`);
    assert.equal(events.status, 401);
  });

  test('a server that dies is started again for the next turn; close() ends it', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const pid = driver.serverPid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    // the next turn may start before the exit is noticed: it finds the server gone and starts a new one
    const result = await runTurn({ messages: messages(['user', 'hi']) });
    assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
    const restarted = driver.serverPid;
    assert.ok(restarted !== undefined && restarted !== pid);

    const second = createOpencodeDriver({ ...settings, name: 'oc-2', workDir: join(workspace.root, 'work-2') }) as OpencodeDriver;
    const answer = await runTurn({ on: second, messages: messages(['user', 'hi']) });
    assert.equal(answer.terminal.type, 'response-end');
    const secondPid = second.serverPid!;
    await second.close();
    assert.throws(() => process.kill(secondPid, 0), /ESRCH/, 'the server process is gone after close()');
    const late = await runTurn({ on: second, messages: messages(['user', 'hi']) });
    assert.equal(late.terminal.type, 'error');
    assert.equal((late.terminal as Extract<StreamPart, { type: 'error' }>).error.status, 503);
  });

  test('a server left running by a gateway that died is ended when the next one starts its own', { timeout: TEST_TIMEOUT }, async () => {
    mock.setScript(() => ({ kind: 'default' }));
    const shared = { ...settings, name: 'oc-crash', workDir: join(workspace.root, 'work-crash') };
    const crashed = createOpencodeDriver(shared) as OpencodeDriver;
    assert.equal((await runTurn({ on: crashed, messages: messages(['user', 'hi']) })).terminal.type, 'response-end');
    const left = crashed.serverPid!;
    // the gateway "dies": its driver is never closed; the next gateway process uses the same work directory
    const next = createOpencodeDriver(shared) as OpencodeDriver;
    try {
      assert.equal((await runTurn({ on: next, messages: messages(['user', 'hi']) })).terminal.type, 'response-end');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.throws(() => process.kill(left, 0), /ESRCH/, 'the old server was ended');
      assert.notEqual(next.serverPid, left);
    } finally {
      await next.close();
      await crashed.close();
    }
  });

  test('a server the user runs (base_url) is used with its password, and left running', { timeout: TEST_TIMEOUT }, async () => {
    const password = 'user-server-secret-0123456789';
    const env = { ...settings.env, OPENCODE_SERVER_PASSWORD: password, OPENCODE_CONFIG_CONTENT: settings.env.OPENCODE_CONFIG_CONTENT };
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const server = spawn(settings.command, ['serve', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: workspace.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (data: Buffer) => {
          out += data.toString();
          if (out.includes('listening on')) resolve();
        });
        server.once('exit', (code) => reject(new Error(`opencode serve exited ${code}`)));
      });
      const baseUrl = `http://127.0.0.1:${port}`;
      const user = createOpencodeDriver({ ...settings, name: 'oc-user', baseUrl, env: { ...settings.env, OPENCODE_SERVER_PASSWORD: password } }) as OpencodeDriver;
      mock.setScript(() => ({ kind: 'default' }));
      const result = await runTurn({ on: user, messages: messages(['user', 'hi']) });
      assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
      assert.equal(user.describe().workers, 0, 'no worker of the gateway\'s own');
      // on a server the gateway did not configure, the session's ruleset and the prompt's tools still turn every tool off
      mock.setScript(() => toolCallStream('bash', { command: `touch ${join(workspace.root, 'pwned-2.txt')}` }));
      const unsafe = await runTurn({ on: user, messages: messages(['user', 'do it']) });
      assert.equal(unsafe.terminal.type, 'error');
      await user.close();
      const health = await fetch(`${baseUrl}/global/health`, { headers: { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}` } });
      assert.equal(health.status, 200, 'the user\'s server still runs');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(existsSync(join(workspace.root, 'pwned-2.txt')), false);

      // a wrong password is a clear error, not a hang
      const locked = createOpencodeDriver({ ...settings, name: 'oc-locked', baseUrl, env: { ...settings.env, OPENCODE_SERVER_PASSWORD: 'wrong-password-123' } }) as OpencodeDriver;
      const refused = await runTurn({ on: locked, messages: messages(['user', 'hi']) });
      assert.equal(refused.terminal.type, 'error');
      assert.match((refused.terminal as Extract<StreamPart, { type: 'error' }>).error.message, /refused the gateway's credentials/);
      await locked.close();
    } finally {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });

  test('agent mode: opencode runs its tools in a working directory of the conversation\'s own; what it asks to approve is refused', { timeout: TEST_TIMEOUT }, async () => {
    // the vendor asks for a shell command, then answers in text once it has the result
    mock.setScript((request) => {
      const last = (request.body as Json | undefined)?.messages?.at(-1);
      if (last?.role === 'tool') return { kind: 'stream', events: [chunk({ role: 'assistant', content: `tool said: ${contentText(last).slice(0, 60)}` }), chunk({}, 'stop'), '[DONE]'] };
      return toolCallStream('bash', { command: 'echo made > made-by-agent.txt && pwd', description: 'make a file' });
    });
    const agentSettings: AgentCliSettings = { ...settings, name: 'oc-agent', mode: 'agent', workDir: join(workspace.root, 'agent-work') };
    const agent = createOpencodeDriver(agentSettings) as OpencodeDriver;
    try {
      const result = await runTurn({ on: agent, conversation: 'agent-conversation', messages: messages(['user', 'make the file']), signal: AbortSignal.timeout(90_000) });
      assert.equal(result.terminal.type, 'response-end', JSON.stringify(result.terminal));
      assert.match(result.text, /^tool said: /);
      const made = readdirSync(join(agentSettings.workDir, 'conversations')).map((name) => join(agentSettings.workDir, 'conversations', name, 'made-by-agent.txt'));
      assert.equal(made.length, 1);
      assert.ok(existsSync(made[0]!), 'the tool ran in the conversation\'s directory');
    } finally {
      await agent.close();
    }

    // a permission opencode's config says to ask for is refused, never approved for the caller
    const asking = createOpencodeDriver({
      ...agentSettings, name: 'oc-agent-ask', workDir: join(workspace.root, 'agent-ask'),
      env: { ...settings.env, OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...JSON.parse(settings.env.OPENCODE_CONFIG_CONTENT!), permission: { bash: 'ask' } }) },
    }) as OpencodeDriver;
    try {
      const result = await runTurn({ on: asking, messages: messages(['user', 'make the file']), signal: AbortSignal.timeout(90_000) });
      assert.equal(result.terminal.type, 'error', JSON.stringify(result.terminal));
      assert.match((result.terminal as Extract<StreamPart, { type: 'error' }>).error.message, /asked for approval to use 'bash'/);
      assert.equal(existsSync(join(workspace.root, 'agent-ask')) && readdirSync(join(workspace.root, 'agent-ask'), { recursive: true }).some((name) => String(name).endsWith('made-by-agent.txt')), false, 'the asked-for command ran');
    } finally {
      await asking.close();
    }
  });

  test('nothing tried to leave loopback', () => {
    assert.deepEqual(sink.attempts, []);
  });
});
