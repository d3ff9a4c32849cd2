// Agent CLIs as providers, the gateway's side (issue #14): a scripted fake driver
// (test/helpers/fake-agent-cli.ts) stands in for Claude Code, Codex, Gemini CLI and opencode, so
// these tests cover what the gateway owes every driver — any dialect in, streamed or whole; the
// model passed; the caller's tools refused before anything runs; the turn queue (full → 429 with
// Retry-After, a client that leaves while waiting leaves the queue); errors before the first
// content answered in the caller's format (and failed over), after it as an error event; rate
// limits cooling the target down; conversation ids; usage as subscription usage; drivers kept
// across reloads and closed when their provider goes; model discovery; /v1/providers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorPart, FakeAgentCli, textAnswer, type Step } from '../helpers/fake-agent-cli.ts';
import { agentCliProvider, startTestGateway, testConfig, type TestGatewayOptions } from '../helpers/gateway.ts';
import { chat, openaiProvider, post, sleep, startGatewayFor, startMocks } from '../helpers/resilience.ts';
import type { Scenario } from '../conformance/types.ts';
import { client as anthropicClient } from '../conformance/dialects/anthropic.ts';
import { client as geminiClient } from '../conformance/dialects/gemini.ts';
import { client as ollamaClient } from '../conformance/dialects/ollama.ts';
import { client as openaiChatClient } from '../conformance/dialects/openai-chat.ts';
import { client as responsesClient } from '../conformance/dialects/openai-responses.ts';
import type { TestContext } from 'node:test';
import type { AgentCliConfig } from '../../src/config/types.ts';
import { DEFAULT_ROUTING } from '../../src/config/defaults.ts';

// the state directory (the CLIs' working directories) of every gateway here is a temporary one
const stateDirectory = mkdtempSync(join(tmpdir(), 'swy-agent-cli-'));
process.env.SWITCHYARD_STATE_DIR = stateDirectory;
process.on('exit', () => rmSync(stateDirectory, { recursive: true, force: true }));

const CLIENTS = [openaiChatClient, responsesClient, anthropicClient, geminiClient, ollamaClient];

const hello: Scenario = { name: 'hello', input: { system: 'Answer briefly.', messages: [{ role: 'user', text: 'Say hello.' }], maxTokens: 64 } };

function cliGateway(t: TestContext, cli: FakeAgentCli, options: Partial<TestGatewayOptions> & { cli?: Partial<AgentCliConfig> } = {}) {
  const { cli: settings, ...rest } = options;
  return startGatewayFor(t, {
    providers: [agentCliProvider('claude', { type: 'claude-code', ...settings }, { models: ['fake-large', 'fake-small'] })],
    agentCliDrivers: new Map([['claude-code', cli.factory]]),
    ...rest,
  });
}

async function send(gateway: { url: string }, dialect: typeof openaiChatClient, scenario: Scenario, model: string, stream: boolean, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const request = dialect.request(scenario, model, stream);
  const response = await fetch(`${gateway.url}${request.path}`, { method: 'POST', headers: { ...request.headers, ...headers }, body: request.body, ...(signal !== undefined ? { signal } : {}) });
  const body = await response.text();
  return { response, body, outcome: () => dialect.parse(response.status, response.headers, body, stream) };
}

const hang: Step[] = [{ type: 'response-start', id: 'x', model: '', created: 1 }, { hang: true }];

for (const dialect of CLIENTS) {
  for (const stream of [false, true]) {
    test(`${dialect.name} ${stream ? 'streamed' : 'whole'}: the turn runs on the driver with the model asked for, and the answer comes back in the dialect`, async (t) => {
      const cli = new FakeAgentCli();
      const gateway = await cliGateway(t, cli);
      const { response, outcome } = await send(gateway, dialect, hello, 'fake-large', stream);
      const result = outcome();
      assert.equal(result.status, 200);
      assert.equal(result.text, 'Hello from fake-large.');
      assert.equal(result.finish, 'stop');
      if (result.usage !== undefined) assert.deepEqual([result.usage.input, result.usage.output], [11, 7]);
      assert.equal(response.headers.get('x-switchyard-provider'), 'claude');
      assert.equal(cli.turns.length, 1);
      const turn = cli.turns[0]!.turn;
      assert.equal(turn.model, 'fake-large');
      assert.equal(turn.request.stream, stream);
      const texts = turn.request.messages.flatMap((message) => message.content.map((part) => `${message.role}:${part.type === 'text' ? part.text : part.type}`));
      assert.deepEqual(texts, ['system:Answer briefly.', 'user:Say hello.']);
      assert.match(turn.conversation ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  }
}

test('a driver that sends no response-start still gives a well-formed answer in every dialect', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = (turn) => textAnswer('No start part.', { model: turn.model }).slice(1);
  const gateway = await cliGateway(t, cli);
  for (const dialect of CLIENTS) {
    for (const stream of [false, true]) {
      const { outcome } = await send(gateway, dialect, hello, 'fake-large', stream);
      assert.equal(outcome().text, 'No start part.', `${dialect.name} ${stream}`);
    }
  }
});

test('the model is always passed: provider:model, and an alias target', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, { models: [{ name: 'smart', targets: [{ provider: 'claude', model: 'fake-small' }] }] });
  assert.equal((await chat(gateway, 'claude:fake-small')).status, 200);
  assert.equal((await chat(gateway, 'smart')).status, 200);
  // a name the config does not list still goes to the CLI, which decides whether it knows it
  assert.equal((await chat(gateway, 'claude:opus')).status, 200);
  assert.deepEqual(cli.turns.map((turn) => turn.turn.model), ['fake-small', 'fake-small', 'opus']);
});

test("the caller's own function tools are refused with a 400 naming the provider, before any turn runs", async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
  const reply = await chat(gateway, 'fake-large', { tools });
  assert.equal(reply.status, 400);
  assert.match(reply.json().error.message, /Provider 'claude' is an agent CLI \(claude-code\): it cannot call your own function tools/);
  assert.equal(reply.json().error.param, 'tools');
  const anthropic = await post(gateway, '/v1/messages', { model: 'fake-large', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'x', input_schema: { type: 'object' } }] }, { 'anthropic-version': '2023-06-01' });
  assert.equal(anthropic.status, 400);
  assert.equal(anthropic.json().type, 'error');
  assert.match(anthropic.json().error.message, /agent CLI/);
  assert.equal(cli.turns.length, 0, 'no turn ran');
});

test('a request with tools goes to another target of its route when there is one', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', targets: [{ provider: 'claude', model: 'fake-large' }, { provider: 'api', model: 'gpt-4o' }] }],
  });
  const reply = await chat(gateway, 'smart', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-provider'), 'api');
  assert.equal(cli.turns.length, 0);
});

test('a full queue answers 429 with Retry-After in the caller\'s dialect', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = () => hang;
  const gateway = await cliGateway(t, cli, { cli: { concurrency: 1, queueSize: 1 } });
  const controller = new AbortController();
  t.after(() => controller.abort());
  const running = chat(gateway, 'fake-large', {}, {}).catch(() => undefined);
  await waitFor(() => cli.turns.length === 1);
  const waiting = post(gateway, '/v1/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'hi' }] }, {}, controller.signal).catch(() => undefined);
  await waitFor(async () => (await agentCli(gateway)).queued === 1);
  const refused = await send(gateway, anthropicClient, hello, 'fake-large', false);
  assert.equal(refused.response.status, 429);
  assert.ok(Number(refused.response.headers.get('retry-after')) >= 1);
  assert.match(refused.outcome().errorMessage ?? '', /Provider 'claude' is busy: its queue is full/);
  const openai = await chat(gateway, 'fake-large');
  assert.equal(openai.status, 429);
  assert.equal(openai.json().error.type, 'rate_limit_error');
  assert.ok(Number(openai.headers.get('retry-after')) >= 1);
  controller.abort();
  await gateway.close();
  await Promise.all([running, waiting]);
});

test('a wait longer than queue_timeout_ms answers 429 with Retry-After; the full queue and the wait go to another target when the route has one', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  cli.script = () => hang;
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code', concurrency: 1, queueSize: 4, queueTimeoutMs: 100 }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', targets: [{ provider: 'claude', model: 'fake-large' }, { provider: 'api', model: 'gpt-4o' }] }],
  });
  const first = new AbortController();
  const running = post(gateway, '/v1/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'hi' }] }, {}, first.signal).catch(() => undefined);
  await waitFor(() => cli.turns.length === 1);
  const late = await chat(gateway, 'fake-large');
  assert.equal(late.status, 429);
  assert.ok(Number(late.headers.get('retry-after')) >= 1);
  assert.match(late.json().error.message, /no turn was free within queue_timeout_ms \(100 ms\)/);
  const moved = await chat(gateway, 'smart');
  assert.equal(moved.status, 200);
  assert.equal(moved.headers.get('x-switchyard-provider'), 'api');
  assert.equal(cli.turns.length, 1, 'only the first request ran a turn');
  const state = await agentCli(gateway);
  assert.equal(state.queued, 0);
  first.abort();
  await running;
});

test('a client that leaves while queued leaves the queue, and its turn never runs', async (t) => {
  const cli = new FakeAgentCli();
  let hold = true;
  cli.script = (turn) => (hold ? hang : textAnswer('next', { model: turn.model }));
  const gateway = await cliGateway(t, cli, { cli: { concurrency: 1, queueSize: 4 } });
  const first = new AbortController();
  const running = post(gateway, '/v1/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'one' }] }, {}, first.signal).catch(() => undefined);
  await waitFor(() => cli.turns.length === 1);
  const second = new AbortController();
  const queued = post(gateway, '/v1/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'two' }] }, {}, second.signal).catch(() => 'aborted');
  await waitFor(async () => (await agentCli(gateway)).queued === 1);
  second.abort();
  assert.equal(await queued, 'aborted');
  await waitFor(async () => (await agentCli(gateway)).queued === 0);
  hold = false;
  first.abort();
  await running;
  await waitFor(() => cli.turns[0]!.aborted);
  const third = await chat(gateway, 'fake-large');
  assert.equal(third.status, 200);
  assert.deepEqual(cli.turns.map((turn) => (turn.turn.request.messages[0]!.content[0] as { text: string }).text), ['one', 'hi'], 'the second request never ran');
  assert.equal((await agentCli(gateway)).running, 0);
});

test('a client that leaves mid-turn aborts the turn (the driver sees the signal) and frees the slot', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = (turn) => [...textAnswer('x', { model: turn.model }).slice(0, 3), { hang: true }];
  const gateway = await cliGateway(t, cli, { cli: { concurrency: 1 } });
  const controller = new AbortController();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fake-large', stream: true, messages: [{ role: 'user', content: 'hi' }] }), signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await waitFor(() => cli.turns[0]!.aborted);
  await waitFor(async () => (await agentCli(gateway)).running === 0);
});

/** concurrency 1: a turn that hangs, a second request queued behind it, then the first client leaves; returns the second's answer. */
async function abortWithOneQueued(t: TestContext, cli: FakeAgentCli) {
  let hold = true;
  cli.script = (turn) => (hold ? hang : textAnswer('next', { model: turn.model }));
  const gateway = await cliGateway(t, cli, { cli: { concurrency: 1, queueSize: 4 } });
  const first = new AbortController();
  const running = post(gateway, '/v1/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'one' }] }, {}, first.signal).catch(() => undefined);
  await waitFor(() => cli.turns.length === 1);
  const queued = chat(gateway, 'fake-large');
  await waitFor(async () => (await agentCli(gateway)).queued === 1);
  hold = false;
  first.abort();
  await running;
  return { gateway, second: await queued };
}

test('after an abort the slot waits for the driver to say the CLI has stopped: the next turn never runs beside the aborted one', async (t) => {
  const cli = new FakeAgentCli();
  cli.settleAfterAbortMs = 20;
  const { second } = await abortWithOneQueued(t, cli);
  assert.equal(second.status, 200);
  assert.equal(cli.turns.length, 2);
  assert.equal(cli.turns[1]!.unsettledAtStart, 0, 'the second turn started only once the first had settled');
});

test('a driver that never says an aborted turn settled holds its slot no longer than an abort may take', async (t) => {
  const cli = new FakeAgentCli();
  cli.settleAfterAbortMs = Infinity;
  const { gateway, second } = await abortWithOneQueued(t, cli);
  assert.equal(second.status, 200, 'the queued turn ran');
  assert.equal((await agentCli(gateway)).running, 0);
});

test('a driver error before the first content is answered in the caller\'s error format with its status', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, errorPart({ status: 400, message: 'Claude Code said: the prompt is invalid.' })];
  const gateway = await cliGateway(t, cli);
  for (const dialect of CLIENTS) {
    for (const stream of [false, true]) {
      const { response, outcome } = await send(gateway, dialect, hello, 'fake-large', stream);
      assert.equal(response.status, 400, `${dialect.name} ${stream}`);
      assert.match(outcome().errorMessage ?? '', /the prompt is invalid/, `${dialect.name} ${stream}`);
    }
  }
});

test("a secret from the provider's env that the CLI echoes in an error is redacted", async (t) => {
  const cli = new FakeAgentCli();
  const secret = 'sk-ant-api03-very-secret-value';
  cli.script = () => [errorPart({ status: 401, message: `invalid x-api-key: ${secret}` })];
  const gateway = await cliGateway(t, cli, { cli: { env: { ANTHROPIC_API_KEY: secret } }, routing: { retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } } });
  assert.equal(cli.drivers[0]!.settings.env.ANTHROPIC_API_KEY, secret, 'the CLI gets its env');
  const reply = await chat(gateway, 'fake-large');
  assert.equal(reply.status, 401);
  assert.ok(!reply.text.includes(secret), reply.text);
  assert.match(reply.json().error.message, /invalid x-api-key: \[redacted\]/);
});

test('a turn that ends without any content is an error (502), never an empty success', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, { type: 'response-end', finishReason: 'stop' }];
  const gateway = await cliGateway(t, cli, { routing: { retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } } });
  for (const stream of [false, true]) {
    const reply = await chat(gateway, 'fake-large', { stream });
    assert.equal(reply.status, 502);
    assert.match(reply.json().error.message, /ended the turn without any answer/);
  }
});

test('a driver failing before the first content fails over to the next target', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, errorPart({ status: 502, message: 'claude exited with code 1: boom' })];
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 }, targets: [{ provider: 'claude', model: 'fake-large' }, { provider: 'api', model: 'gpt-4o' }] }],
  });
  for (const stream of [false, true]) {
    const reply = await chat(gateway, 'smart', { stream });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-switchyard-provider'), 'api');
  }
  assert.ok(cli.turns.length >= 1);
});

test('mode: agent — the driver gets the mode and a working directory under the state directory; a turn that failed is never run again, here or elsewhere', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, errorPart({ status: 503, message: 'claude crashed mid-turn' })];
  const gateway = await cliGateway(t, cli, {
    keys: ['client-key'],
    providers: [agentCliProvider('claude', { type: 'claude-code', mode: 'agent' }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', targets: [{ provider: 'claude', model: 'fake-large' }, { provider: 'api', model: 'gpt-4o' }] }],
  });
  const settings = cli.drivers[0]!.settings;
  assert.equal(settings.mode, 'agent');
  assert.equal(settings.workDir, join(stateDirectory, 'agent-clis', 'claude'));
  const reply = await chat(gateway, 'smart', {}, { authorization: 'Bearer client-key' });
  assert.equal(reply.status, 503);
  assert.match(reply.json().error.message, /claude crashed mid-turn/);
  assert.equal(cli.turns.length, 1, 'not retried');
  assert.equal(api.requests.length, 0, 'not failed over');
});

test('a driver error after the first content ends a stream with the dialect\'s error event, a whole answer with an error answer', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = (turn) => [...textAnswer('partial answer', { model: turn.model, chunks: 1 }).slice(0, 3), errorPart({ status: 502, message: 'claude exited with code 1' })];
  const gateway = await cliGateway(t, cli);
  const streamed = await chat(gateway, 'fake-large', { stream: true });
  assert.equal(streamed.status, 200);
  assert.match(streamed.text, /partial answer/);
  const events = streamed.events().map((event) => event.data);
  assert.ok(events.some((data) => data.includes('"error"') && data.includes('claude exited with code 1')), streamed.text);
  assert.ok(!events.includes('[DONE]') || events.indexOf('[DONE]') > events.findIndex((data) => data.includes('"error"')));
  const anthropic = await send(gateway, anthropicClient, hello, 'fake-large', true);
  assert.equal(anthropic.response.status, 200);
  assert.match(anthropic.body, /event: error/);
  const whole = await chat(gateway, 'fake-large');
  assert.equal(whole.status, 502);
  assert.match(whole.json().error.message, /claude exited with code 1/);
});

test('a rate limit answers 429 with Retry-After and cools the target down, so routing moves on', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, errorPart({ status: 429, message: 'Claude usage limit reached; resets at 5pm.', retryAfterSeconds: 3600 })];
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', targets: [{ provider: 'claude', model: 'fake-large' }, { provider: 'api', model: 'gpt-4o' }] }],
  });
  const limited = await chat(gateway, 'fake-large');
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.match(limited.json().error.message, /usage limit reached/);
  const turns = cli.turns.length;
  const providers = (await (await fetch(`${gateway.url}/v1/providers`)).json()) as { data: { name: string; targets: { model: string; state: string; reason: string | null }[] }[] };
  const claude = providers.data.find((provider) => provider.name === 'claude')!;
  assert.deepEqual(claude.targets.map((target) => [target.model, target.reason]), [['fake-large', 'rate-limited']]);
  const moved = await chat(gateway, 'smart');
  assert.equal(moved.status, 200);
  assert.equal(moved.headers.get('x-switchyard-provider'), 'api');
  assert.equal(cli.turns.length, turns, 'the cooling target was not asked again');
  const again = await chat(gateway, 'fake-large');
  assert.equal(again.status, 429);
  assert.ok(Number(again.headers.get('retry-after')) > 60);
});

test('a rate limit whose reset the CLI did not say still answers Retry-After: the target\'s cooldown', async (t) => {
  const cli = new FakeAgentCli();
  // Claude Code and Codex with an API key report the vendor's 429 without its retry-after
  cli.script = () => [{ type: 'response-start', id: 'x', model: '', created: 1 }, errorPart({ status: 429, message: 'API Error: 429 rate limited' })];
  const gateway = await cliGateway(t, cli, { routing: { retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 }, cooldowns: { ...DEFAULT_ROUTING.cooldowns, rateLimitMs: 5000 } } });
  const limited = await chat(gateway, 'fake-large');
  assert.equal(limited.status, 429);
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After: ${limited.headers.get('retry-after')}`);
  const anthropic = await send(gateway, anthropicClient, hello, 'fake-small', false);
  assert.equal(anthropic.response.status, 429);
  assert.ok(Number(anthropic.response.headers.get('retry-after')) >= 1);
});

test('conversation ids: from the session header or the opening messages; a continuation keeps its id, anything else gets a new one', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const turn = async (messages: { role: string; content: string }[], headers: Record<string, string> = {}) => {
    const reply = await post(gateway, '/v1/chat/completions', { model: 'fake-large', messages }, headers);
    assert.equal(reply.status, 200);
    return cli.turns.at(-1)!.turn.conversation;
  };
  const first = [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'What is 2+2?' }];
  const second = [...first, { role: 'assistant', content: 'Hello from fake-large.' }, { role: 'user', content: 'And 3+3?' }];
  const a1 = await turn(first, { 'x-session-id': 'session-a' });
  const a2 = await turn(second, { 'x-session-id': 'session-a' });
  assert.ok(a1 !== undefined);
  assert.equal(a2, a1, 'the second turn continues the first');
  const b1 = await turn(first, { 'x-claude-code-session-id': 'session-b' });
  assert.notEqual(b1, a1, 'another session is another conversation');
  const derived1 = await turn(first);
  const derived2 = await turn(second);
  assert.equal(derived2, derived1, 'without a header the opening messages name the conversation');
  assert.notEqual(derived1, a1);
  const regenerated = await turn(second);
  assert.notEqual(regenerated, derived2, 'the same turn again (a regeneration) cannot continue the CLI session');
  const edited = await turn([...first, { role: 'assistant', content: 'Hello from fake-large.' }, { role: 'user', content: 'And 4+4?' }]);
  assert.notEqual(edited, regenerated);
});

test('usage is recorded as subscription usage: cost_usd 0, the CLI\'s reported cost apart', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'swy-usage-cli-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const cli = new FakeAgentCli();
  cli.script = (turn) => {
    const steps = textAnswer('Hi.', { model: turn.model, usage: { inputTokens: 1000, outputTokens: 100 } });
    steps.splice(steps.length - 1, 0, { report: { reportedCostUsd: 0.0125, session: 'abc' } });
    return steps;
  };
  const { api } = await startMocks(t, { api: {} });
  const gateway = await cliGateway(t, cli, {
    storage: { path: directory },
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['claude-sonnet-4-5'] }), openaiProvider('api', api)],
  });
  assert.equal((await chat(gateway, 'claude:claude-sonnet-4-5')).status, 200);
  assert.equal((await chat(gateway, 'api:gpt-4o')).status, 200);
  const usage = (await (await fetch(`${gateway.url}/v0/usage?group_by=provider`)).json()) as { data: Record<string, unknown>[]; totals: Record<string, unknown> };
  const byProvider = Object.fromEntries(usage.data.map((row) => [row.group, row]));
  assert.equal(byProvider.claude!.subscription_requests, 1);
  assert.equal(byProvider.claude!.cost_usd, 0, 'a subscription costs nothing per token, whatever the list price of the model');
  assert.equal(byProvider.claude!.reported_cost_usd, 0.0125);
  assert.equal(byProvider.claude!.input_tokens, 1000);
  assert.equal(byProvider.api!.subscription_requests, 0);
  assert.equal(byProvider.api!.reported_cost_usd, null);
  assert.equal(usage.totals.subscription_requests, 1);
});

test('a reload keeps the driver when the provider did not change, replaces it when it did, and closes it when the provider goes', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  const drivers = new Map([['claude-code' as const, cli.factory]]);
  const claude = agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] });
  const gateway = await startTestGateway({ providers: [claude], agentCliDrivers: drivers });
  t.after(() => gateway.close());
  assert.equal((await chat(gateway, 'fake-large')).status, 200);
  await gateway.reload(testConfig({ providers: [claude, openaiProvider('api', api)] }));
  assert.equal((await chat(gateway, 'fake-large')).status, 200);
  assert.equal(cli.drivers.length, 1, 'same settings: the same driver (its CLI workers live on)');
  assert.deepEqual(cli.closedDrivers, []);
  await gateway.reload(testConfig({ providers: [agentCliProvider('claude', { type: 'claude-code', args: ['--verbose'] }, { models: ['fake-large'] })] }));
  assert.equal((await chat(gateway, 'fake-large')).status, 200);
  assert.equal(cli.drivers.length, 2, 'other settings: a new driver');
  assert.deepEqual(cli.drivers[1]!.settings.args, ['--verbose']);
  await waitFor(() => cli.closedDrivers.length === 1);
  assert.ok(cli.drivers[0]!.closed, 'the old one closed once its runtime was done');
  await gateway.reload(testConfig({ providers: [openaiProvider('api', api)] }));
  await waitFor(() => cli.closedDrivers.length === 2);
  assert.ok(cli.drivers[1]!.closed, 'a removed provider\'s driver is closed');
});

test('a concurrency change on reload keeps the driver and applies the new limit', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, { cli: { concurrency: 1 } });
  await gateway.reload(testConfig({ providers: [agentCliProvider('claude', { type: 'claude-code', concurrency: 3 }, { models: ['fake-large', 'fake-small'] })] }));
  assert.equal(cli.drivers.length, 1);
  assert.equal((await agentCli(gateway)).concurrency, 3);
});

test('the gateway stopping closes every driver', async () => {
  const cli = new FakeAgentCli();
  const gateway = await startTestGateway({ providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['m'] })], agentCliDrivers: new Map([['claude-code', cli.factory]]) });
  await gateway.close();
  assert.deepEqual(cli.closedDrivers, ['claude']);
});

test('GET /v1/models lists the models the driver lists; its names route to the CLI', async (t) => {
  const cli = new FakeAgentCli();
  cli.models = ['sonnet', 'opus'];
  const gateway = await cliGateway(t, cli, { discover: true, providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: [], discover: true })] });
  const models = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: { id: string; owned_by: string }[] };
  assert.deepEqual(models.data.map((model) => [model.id, model.owned_by]), [['sonnet', 'claude'], ['opus', 'claude']]);
  assert.equal((await chat(gateway, 'opus')).status, 200);
  assert.equal(cli.turns[0]!.turn.model, 'opus');
  const refreshed = (await (await fetch(`${gateway.url}/v1/models/refresh`, { method: 'POST' })).json()) as { providers: { name: string; models: number }[] };
  assert.deepEqual(refreshed.providers, [{ name: 'claude', models: 2 }]);
});

test('/v1/providers and /v0/status show each CLI provider\'s protocol and fallback reason', async (t) => {
  const cli = new FakeAgentCli();
  cli.protocol = 'one-shot';
  cli.fallbackReason = 'stream-json input is not supported by claude 1.0.0';
  const gateway = await cliGateway(t, cli);
  const providers = (await (await fetch(`${gateway.url}/v1/providers`)).json()) as { data: Record<string, unknown>[] };
  const claude = providers.data[0]!;
  assert.equal(claude.dialect, 'agent-cli');
  assert.ok(!('base_url' in claude) && !('keys' in claude));
  const described = claude.agent_cli as Record<string, unknown>;
  assert.equal(described.type, 'claude-code');
  assert.equal(described.mode, 'llm');
  assert.equal(described.protocol, 'one-shot');
  assert.equal(described.fallback_reason, 'stream-json input is not supported by claude 1.0.0');
  assert.equal(described.version, '9.9.9-fake');
  assert.equal(described.concurrency, 2);
  const status = (await (await fetch(`${gateway.url}/v0/status`)).json()) as { providers: Record<string, unknown>[] };
  assert.equal((status.providers[0]!.agent_cli as Record<string, unknown>).protocol, 'one-shot');
});

test('token counting is answered with the gateway\'s estimate, without a turn', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const reply = await post(gateway, '/v1/messages/count_tokens', { model: 'fake-large', messages: [{ role: 'user', content: 'How many tokens is this?' }] }, { 'anthropic-version': '2023-06-01' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-token-count'), 'estimate');
  assert.ok(reply.json().input_tokens > 0);
  assert.equal(cli.turns.length, 0);
});

test('a turn with no content within first_byte_ms times out with 504, and the driver sees the abort', async (t) => {
  const cli = new FakeAgentCli();
  cli.script = () => hang;
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'], timeouts: { connectMs: 1000, firstByteMs: 100, idleMs: 0, totalMs: 0 } })],
    routing: { retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } },
  });
  const reply = await chat(gateway, 'fake-large');
  assert.equal(reply.status, 504);
  assert.match(reply.json().error.message, /100 ms/);
  await waitFor(() => cli.turns.every((turn) => turn.aborted));
});

test('a configured type with no driver in this build is a start-up error naming the provider', async () => {
  await assert.rejects(
    startTestGateway({ providers: [agentCliProvider('mycodex', { type: 'codex' }, { models: ['gpt-5'] })], agentCliDrivers: new Map() }),
    /Provider 'mycodex' \(type codex\): this build of Switchyard has no driver for codex/,
  );
});

test('hosted tools are dropped and reported (unsupported_tools: drop), never run', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const reply = await post(gateway, '/v1/responses', { model: 'fake-large', input: 'news?', tools: [{ type: 'web_search' }] });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search');
  assert.equal(cli.turns[0]!.turn.request.hostedTools, undefined, 'the driver never sees what was dropped');
});

// --- helpers -----------------------------------------------------------------------------------

async function agentCli(gateway: { url: string }, name = 'claude'): Promise<Record<string, number>> {
  const providers = (await (await fetch(`${gateway.url}/v1/providers`)).json()) as { data: { name: string; agent_cli?: Record<string, number> }[] };
  return providers.data.find((provider) => provider.name === name)!.agent_cli!;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}
