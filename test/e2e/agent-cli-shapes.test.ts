// Requests recorded from the real agent CLIs pointed at Switchyard by base URL (Claude Code
// 2.1.332, Codex 0.171.0, Gemini CLI 0.61.0, opencode 1.18.33; see test/fixtures/clients/ and
// docs/clients.md), replayed through the gateway to upstreams of other dialects, so CI checks the
// shapes these clients really send without any CLI installed. Each answer is read back with the
// conformance suite's parser for the client's dialect, which checks the stream is well formed
// (event order, terminal event) the way the CLI would need it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { anthropicClient, upstream as anthropicUpstream } from '../conformance/dialects/anthropic.ts';
import { geminiClient, upstream as geminiUpstream } from '../conformance/dialects/gemini.ts';
import { upstream as ollamaUpstream } from '../conformance/dialects/ollama.ts';
import { openaiChatClient, upstream as openaiUpstream } from '../conformance/dialects/openai-chat.ts';
import { responsesClient, upstream as responsesUpstream } from '../conformance/dialects/openai-responses.ts';
import type { ClientDialect, Outcome, Scenario, UpstreamDialect } from '../conformance/types.ts';

type Json = Record<string, any>;

interface RecordedClientRequest { note: string; method: string; path: string; headers: Record<string, string>; body: Json }
interface ClientFixture { client: string; version: string; requests: Record<string, RecordedClientRequest> }

function fixture(name: string): ClientFixture {
  return JSON.parse(readFileSync(new URL(`../fixtures/clients/${name}-request.json`, import.meta.url), 'utf8')) as ClientFixture;
}

const claudeCode = fixture('claude-code');
const codex = fixture('codex');
const geminiCli = fixture('gemini-cli');
const opencode = fixture('opencode');

const CLIENT_KEY = 'sk-e2e-agent-cli-client';
const UPSTREAM_KEY = 'sk-e2e-agent-cli-upstream';

// --- upstreams: one mock per dialect, answering what the current test plans ------------------

type ProviderName = 'anthropic' | 'chat' | 'gemini' | 'ollama' | 'responses';
const dialects: Record<ProviderName, UpstreamDialect> = { anthropic: anthropicUpstream, chat: openaiUpstream, gemini: geminiUpstream, ollama: ollamaUpstream, responses: responsesUpstream };

interface Plan { text?: string; call?: { name: string; args: Json } }
let plan: Plan = { text: 'Done.' };

function planned(): Scenario {
  const answer: NonNullable<Scenario['answer']> = {
    finish: plan.call !== undefined ? 'tool-calls' : 'stop',
    usage: { input: 21_000, output: 40, cached: 20_000 },
  };
  if (plan.text !== undefined) answer.text = plan.text;
  if (plan.call !== undefined) answer.toolCalls = [{ id: 'call_replay_1', name: plan.call.name, args: plan.call.args }];
  return { name: 'replay', input: { messages: [] }, answer };
}

const mocks = new Map<ProviderName, MockUpstream>();
let gateway: RunningGateway;

before(async () => {
  // storage off: tests never write to the home directory
  const lines = ['storage: { enabled: false }', 'auth:', `  keys: ["${CLIENT_KEY}"]`, 'providers:'];
  for (const [name, dialect] of Object.entries(dialects) as [ProviderName, UpstreamDialect][]) {
    const mock = await startMockUpstream({ script: (request) => dialect.respond(planned(), request) });
    mocks.set(name, mock);
    lines.push(`  - name: ${name}`, `    type: ${dialect.type}`, `    base_url: ${mock.url}${dialect.basePath}`, `    api_key: ${UPSTREAM_KEY}`, '    models: ["*"]', '    discover: false');
  }
  const { config } = parseConfigText(lines.join('\n') + '\n', 'agent-cli-shapes.yaml', {});
  const logger = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  gateway = await startGateway({ config, logger, host: '127.0.0.1', port: 0, discover: false });
});

after(async () => {
  await gateway?.close();
  for (const mock of mocks.values()) await mock.close();
});

// --- replaying a recorded request ------------------------------------------------------------

interface Replayed {
  status: number;
  headers: Headers;
  body: string;
  /** The answer as the client's dialect parser read it (throws on a malformed stream). */
  outcome: Outcome;
  /** What the upstream received, when the gateway sent anything. */
  upstream?: RecordedRequest;
}

/** How each CLI sends its key (the gateway has client keys on). */
const keyHeaders: Record<string, Record<string, string>> = {
  'Claude Code': { 'x-api-key': CLIENT_KEY },
  'Codex CLI': { authorization: `Bearer ${CLIENT_KEY}` },
  'Gemini CLI': { 'x-goog-api-key': CLIENT_KEY },
  opencode: { authorization: `Bearer ${CLIENT_KEY}` },
};

const parsers: Record<string, ClientDialect> = { 'Claude Code': anthropicClient, 'Codex CLI': responsesClient, 'Gemini CLI': geminiClient, opencode: openaiChatClient };

/** A deep copy of a recorded body, for a test to change. */
function bodyOf(source: ClientFixture, name: string): Json {
  return structuredClone(source.requests[name]!.body);
}

async function replay(source: ClientFixture, name: string, provider: ProviderName, body: Json = bodyOf(source, name)): Promise<Replayed> {
  const recorded = source.requests[name]!;
  let path = recorded.path;
  const sent = structuredClone(body);
  // route with `provider:model`; the upstream still gets the model name the CLI asked for
  if (/\/models\/[^/:]+:/.test(path)) path = path.replace(/\/models\/([^/:]+):/, `/models/${provider}:$1:`);
  else sent.model = `${provider}:${String(sent.model)}`;
  const mock = mocks.get(provider)!;
  const seen = mock.requests.length;
  const response = await fetch(gateway.url + path, {
    method: recorded.method,
    headers: { ...recorded.headers, ...keyHeaders[source.client] },
    body: JSON.stringify(sent),
  });
  const text = await response.text();
  const stream = sent.stream === true || path.includes(':streamGenerateContent');
  let outcome: Outcome;
  try {
    outcome = parsers[source.client]!.parse(response.status, response.headers, text, stream && response.status < 400);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- status ${response.status}, body:\n${text.slice(0, 2000)}`);
  }
  const upstream = mock.requests[seen];
  if (upstream !== undefined) assert.ok(!JSON.stringify(upstream.headers).includes(CLIENT_KEY), "the client's key stays at the gateway");
  return { status: response.status, headers: response.headers, body: text, outcome, ...(upstream !== undefined ? { upstream } : {}) };
}

function expectOk(replayed: Replayed): void {
  assert.equal(replayed.status, 200, `status ${replayed.status}: ${replayed.outcome.errorMessage ?? replayed.body.slice(0, 500)}`);
  assert.ok(replayed.upstream !== undefined, 'the upstream was called');
}

const toolNames = (tools: Json[]): string[] => tools.map((tool) => tool.name ?? tool.function?.name);

/** The output items of a streamed Responses answer (its response.completed event). */
function outputOf(replayed: Replayed): Json[] {
  const completed = replayed.body.trim().split('\n\n').find((event) => event.startsWith('event: response.completed'));
  assert.ok(completed !== undefined, 'the stream ends with response.completed');
  return JSON.parse(completed.slice(completed.indexOf('data: ') + 6)).response.output as Json[];
}

// --- Claude Code -----------------------------------------------------------------------------

describe(`Claude Code ${claudeCode.version} (Anthropic Messages, /v1/messages?beta=true, always streamed)`, () => {
  const withoutMidConversationSystem = (): Json => {
    const body = bodyOf(claudeCode, 'default-model');
    body.messages = body.messages.filter((message: Json) => message.role !== 'system');
    return body;
  };
  /** The tools a provider without deferred loading is offered: all but the deferred ones nothing has loaded. */
  const eager = (tools: Json[], loaded: string[] = []): string[] => tools.filter((tool) => tool.defer_loading !== true || loaded.includes(tool.name)).map((tool) => tool.name);

  test('the default model\'s request (a role "system" message inside messages, a deferred tool) passes through to an Anthropic upstream', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(claudeCode, 'default-model', 'anthropic');
    expectOk(replayed);
    assert.deepEqual(replayed.upstream!.body, claudeCode.requests['default-model']!.body, 'passed on as sent');
    assert.equal(replayed.upstream!.headers['anthropic-beta'], claudeCode.requests['default-model']!.headers['anthropic-beta']);
    assert.equal(replayed.outcome.text, 'Hello.');
  });

  test('the default model\'s request translates to an OpenAI chat upstream, the mid-conversation system message in place', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(claudeCode, 'default-model', 'chat');
    expectOk(replayed);
    const roles = (replayed.upstream!.body.messages as Json[]).map((message) => message.role);
    assert.deepEqual(roles, ['system', 'user', 'system']);
    assert.match(JSON.stringify(replayed.upstream!.body.messages[2].content), /# Environment/);
  });

  for (const provider of ['chat', 'gemini', 'ollama'] as const) {
    test(`the rest of the default model's request (thinking adaptive, output_config.effort, context_management, 12 tools of which one deferred) translates to ${provider}`, async () => {
      plan = { text: 'Hello.' };
      const body = withoutMidConversationSystem();
      const replayed = await replay(claudeCode, 'default-model', provider, body);
      expectOk(replayed);
      assert.equal(replayed.outcome.text, 'Hello.');
      assert.equal(replayed.outcome.finish, 'stop');
      const received = dialects[provider].received(replayed.upstream!);
      assert.equal(received.model, claudeCode.requests['default-model']!.body.model);
      assert.equal(received.stream, true);
      // Claude Code's DeferredToolPlaceholder is deferred and nothing loads it: Anthropic never shows it to the model, nor does the gateway
      assert.deepEqual(received.tools, eager(body.tools), 'every tool the model can call arrives, in order');
      assert.ok(!received.tools.includes('DeferredToolPlaceholder'));
      assert.match(received.system ?? '', /x-anthropic-billing-header/);
      assert.equal(replayed.upstream!.body.context_management, undefined, 'context_management has no equivalent: dropped');
      assert.equal(replayed.headers.get('x-switchyard-dropped'), 'context_management', 'and the answer says so (the unloaded deferred tool is not a drop)');
      assert.equal(replayed.upstream!.headers['anthropic-beta'], undefined, 'beta flags are Anthropic\'s alone');
      if (provider === 'chat') {
        assert.deepEqual(replayed.outcome.usage, { input: 21_000, output: 40, cached: 20_000 });
        assert.equal(received.maxTokens, 128000);
        assert.equal(replayed.upstream!.body.reasoning_effort, 'medium', 'output_config.effort medium');
      } else if (provider === 'gemini') {
        assert.ok(replayed.upstream!.body.generationConfig.thinkingConfig !== undefined, 'thinking is asked for');
        const schemas = JSON.stringify(replayed.upstream!.body.tools);
        assert.ok(!schemas.includes('$schema'), 'tool schemas cleaned to Gemini\'s subset');
      }
    });
  }

  test('the tool-result turn → an OpenAI chat upstream: Bash call and its result keep their id; a new Bash call streams back as tool_use', async () => {
    plan = { text: 'Running the tests.', call: { name: 'Bash', args: { command: 'npm test', description: 'Run the tests' } } };
    const replayed = await replay(claudeCode, 'tool-result-turn', 'chat');
    expectOk(replayed);
    assert.equal(replayed.outcome.finish, 'tool-calls');
    assert.deepEqual(replayed.outcome.toolCalls, [{ id: 'call_replay_1', name: 'Bash', args: { command: 'npm test', description: 'Run the tests' } }]);
    const messages = replayed.upstream!.body.messages as Json[];
    const assistant = messages.find((message) => message.role === 'assistant')!;
    assert.deepEqual(assistant.tool_calls, [{ id: 'call_lab_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"echo switchyard-tool-ok","description":"Print a marker"}' } }]);
    const result = messages.at(-1)!;
    assert.deepEqual([result.role, result.tool_call_id], ['tool', 'call_lab_1']);
    assert.match(result.content, /^switchyard-tool-ok\n/);
    assert.deepEqual(replayed.upstream!.body.stream_options, { include_usage: true });
  });

  test('the tool-result turn → a Gemini upstream: the result is matched to its call by name', async () => {
    plan = { text: 'The marker printed.' };
    const replayed = await replay(claudeCode, 'tool-result-turn', 'gemini');
    expectOk(replayed);
    assert.equal(replayed.outcome.text, 'The marker printed.');
    const received = dialects.gemini.received(replayed.upstream!);
    assert.deepEqual(received.toolCalls, [{ name: 'Bash', args: { command: 'echo switchyard-tool-ok', description: 'Print a marker' } }]);
    assert.deepEqual(received.toolResults.map((result) => result.name), ['Bash']);
    assert.match(received.toolResults[0]!.content, /^switchyard-tool-ok\n/);
  });

  test('the tool-search turn (ToolSearch answered with a tool_reference, WebFetch now deferred) passes through to an Anthropic upstream', async () => {
    plan = { text: 'Example Domain.' };
    const replayed = await replay(claudeCode, 'tool-search-turn', 'anthropic');
    expectOk(replayed);
    assert.deepEqual(replayed.upstream!.body, claudeCode.requests['tool-search-turn']!.body, 'passed on as sent');
  });

  for (const provider of ['chat', 'gemini', 'ollama'] as const) {
    test(`the tool-search turn → ${provider}: WebFetch, loaded by the tool_reference, is offered as an ordinary tool (the placeholder still not); the reference becomes a sentence`, async () => {
      plan = { text: 'Fetching it.', call: { name: 'WebFetch', args: { url: 'https://example.com', prompt: 'The title?' } } };
      const body = bodyOf(claudeCode, 'tool-search-turn');
      const replayed = await replay(claudeCode, 'tool-search-turn', provider, body);
      expectOk(replayed);
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.tools, eager(body.tools, ['WebFetch']));
      assert.ok(received.tools.includes('WebFetch') && !received.tools.includes('DeferredToolPlaceholder'));
      assert.equal(received.toolResults.length, 1);
      assert.match(received.toolResults[0]!.content, /Tool 'WebFetch' loaded: it can be called now\./);
      assert.equal(replayed.headers.get('x-switchyard-dropped'), 'context_management');
      // the model's call of the loaded tool comes back to Claude Code as a plain tool_use
      assert.deepEqual(replayed.outcome.toolCalls.map((call) => [call.name, call.args]), [['WebFetch', { url: 'https://example.com', prompt: 'The title?' }]]);
    });
  }
});

// --- Codex -----------------------------------------------------------------------------------

describe(`Codex ${codex.version} (Responses API, streamed, needs response.completed)`, () => {
  /** The first turn with the fields a non-Responses provider refused before they were translated, handled as the fix would. */
  const translatable = (name: string, keep: { clientMetadata?: boolean; namespace?: boolean } = {}): Json => {
    const body = bodyOf(codex, name);
    if (keep.clientMetadata !== true) delete body.client_metadata;
    if (keep.namespace !== true) body.tools = (body.tools as Json[]).flatMap((tool) => (tool.type === 'namespace' ? tool.tools : [tool]));
    body.tools = (body.tools as Json[]).filter((tool) => tool.type !== 'web_search'); // Codex: web_search = "disabled"
    return body;
  };
  /** The first turn as Codex sends it with `web_search = "live"`: the hosted tool may reach the live web. */
  const liveSearch = (name: string): Json => {
    const body = bodyOf(codex, name);
    body.tools = (body.tools as Json[]).map((tool) => (tool.type === 'web_search' ? { type: 'web_search' } : tool));
    return body;
  };

  test('the first turn passes through to a Responses upstream unchanged', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(codex, 'first-turn', 'responses');
    expectOk(replayed);
    assert.equal(replayed.upstream!.path, '/v1/responses');
    assert.deepEqual(replayed.upstream!.body, codex.requests['first-turn']!.body, 'passed on as sent');
    assert.equal(replayed.outcome.text, 'Hello.');
  });

  for (const provider of ['anthropic', 'gemini', 'chat', 'ollama'] as const) {
    for (const turn of ['first-turn', 'tool-result-turn']) {
      test(`as sent (cached web_search, namespace tool, client_metadata), the ${turn} goes to ${provider}: the search dropped and named in x-switchyard-dropped`, async () => {
        plan = { text: 'Hello.' };
        const replayed = await replay(codex, turn, provider);
        expectOk(replayed);
        assert.equal(replayed.outcome.text, 'Hello.');
        // Codex's default web_search reads a cached index only (external_web_access: false): no other provider offers that
        assert.equal(replayed.headers.get('x-switchyard-dropped'), 'tools.web_search');
        assert.doesNotMatch(JSON.stringify(replayed.upstream!.body), /web_search|googleSearch/, 'no search reaches the upstream');
        const events = replayed.body.trim().split('\n\n');
        assert.match(events.at(-1)!, /^event: response\.completed/, 'the stream ends with response.completed');
      });
    }
  }

  test('with web_search = "live", the first turn → Anthropic: the search is mapped to Anthropic\'s web_search server tool, nothing dropped', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(codex, 'first-turn', 'anthropic', liveSearch('first-turn'));
    expectOk(replayed);
    assert.equal(replayed.headers.get('x-switchyard-dropped'), null);
    const tools = replayed.upstream!.body.tools as Json[];
    assert.deepEqual(tools.at(-1), { type: 'web_search_20250305', name: 'web_search' }, 'after the function tools');
    assert.ok(tools.slice(0, -1).every((tool) => typeof tool.input_schema === 'object'), 'every other tool is a function tool');
  });

  test('with web_search = "live", the first turn → Gemini: Google Search cannot join function tools there, so it is dropped and named', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(codex, 'first-turn', 'gemini', liveSearch('first-turn'));
    expectOk(replayed);
    assert.equal(replayed.headers.get('x-switchyard-dropped'), 'tools.web_search');
    assert.doesNotMatch(JSON.stringify(replayed.upstream!.body.tools), /googleSearch/);
  });

  test('client_metadata (Codex\'s session and turn ids) is inert for a non-Responses upstream', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(codex, 'first-turn', 'anthropic', translatable('first-turn', { clientMetadata: true }));
    expectOk(replayed);
    assert.equal(replayed.upstream!.body.client_metadata, undefined);
  });

  test('a namespace tool (multi_agent_v1) is flattened into namespace__name tools for a non-Responses upstream; a call names its namespace again', async () => {
    plan = { text: 'Spawning.', call: { name: 'multi_agent_v1__spawn_agent', args: { task_name: 'tests', message: 'Run the tests.' } } };
    const body = translatable('first-turn', { namespace: true });
    const replayed = await replay(codex, 'first-turn', 'anthropic', body);
    expectOk(replayed);
    const nested = (body.tools as Json[]).find((tool) => tool.type === 'namespace')!.tools as Json[];
    const names = toolNames(replayed.upstream!.body.tools);
    for (const tool of nested) assert.ok(names.includes(`multi_agent_v1__${tool.name}`), `${tool.name} offered`);
    const call = outputOf(replayed).find((item) => item.type === 'function_call')!;
    assert.deepEqual([call.namespace, call.name, JSON.parse(call.arguments)], ['multi_agent_v1', 'spawn_agent', { task_name: 'tests', message: 'Run the tests.' }]);
  });

  // --- a catalogue model (gpt-5.5): a client tool search and a freeform apply_patch ---

  test('a catalogue model\'s request (tool_search, custom apply_patch) passes through to a Responses upstream unchanged', async () => {
    plan = { text: 'Hello.' };
    for (const name of ['catalogue-model', 'tool-search-turn', 'lite-first-turn', 'lite-exec-turn']) {
      const replayed = await replay(codex, name, 'responses');
      expectOk(replayed);
      assert.deepEqual(replayed.upstream!.body, codex.requests[name]!.body, `${name} passed on as sent`);
    }
  });

  for (const provider of ['anthropic', 'gemini', 'chat', 'ollama'] as const) {
    test(`a catalogue model's request → ${provider}: tool_search and apply_patch are tools the model can call; a tool_search call comes back as tool_search_call`, async () => {
      plan = { text: 'Searching.', call: { name: 'tool_search', args: { query: 'calendar', limit: 2 } } };
      const body = bodyOf(codex, 'catalogue-model');
      const replayed = await replay(codex, 'catalogue-model', provider, body);
      expectOk(replayed);
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.tools, (body.tools as Json[]).filter((tool) => tool.type !== 'web_search').map((tool) => tool.name ?? tool.type));
      assert.equal(replayed.headers.get('x-switchyard-dropped'), 'tools.web_search', 'only the cached-only web search is dropped');
      const call = outputOf(replayed).find((item) => item.type === 'tool_search_call')!;
      // Gemini and Ollama issue no call ids: the gateway makes one up
      assert.deepEqual(call, { id: call.id, type: 'tool_search_call', status: 'completed', call_id: call.call_id, execution: 'client', arguments: { query: 'calendar', limit: 2 } });
      if (provider === 'anthropic' || provider === 'chat') assert.equal(call.call_id, 'call_replay_1');
    });
  }

  test('apply_patch (freeform, with its grammar) → a chat upstream as a one-string function; its call comes back as custom_tool_call with the raw patch', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n';
    plan = { call: { name: 'apply_patch', args: { input: patch } } };
    const replayed = await replay(codex, 'catalogue-model', 'chat');
    expectOk(replayed);
    const tool = (replayed.upstream!.body.tools as Json[]).find((entry) => entry.function.name === 'apply_patch')!;
    assert.deepEqual(tool.function.parameters.required, ['input']);
    assert.match(tool.function.parameters.properties.input.description, /lark grammar:\nstart: begin_patch hunk\+ end_patch/);
    const call = outputOf(replayed).find((item) => item.type === 'custom_tool_call')!;
    assert.deepEqual([call.name, call.input, call.namespace], ['apply_patch', patch, undefined]);
  });

  for (const provider of ['anthropic', 'gemini', 'chat', 'ollama'] as const) {
    test(`the tool-search turn → ${provider}: the tool_search_call and its (empty) output are a call and its result`, async () => {
      plan = { text: 'Found none.' };
      const replayed = await replay(codex, 'tool-search-turn', provider);
      expectOk(replayed);
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.toolCalls.map((call) => [call.name, call.args]), [['tool_search', { query: 'goal', limit: 3 }]]);
      assert.deepEqual(received.toolResults.map((result) => result.content), ['No tools found.']);
    });
  }

  test('a tool search that found tools (an MCP server\'s, in a namespace): they join the tools offered, and a call of one names its namespace', async () => {
    plan = { text: 'Listing.', call: { name: 'mcp__tracker__list_issues', args: { state: 'open' } } };
    const body = bodyOf(codex, 'tool-search-turn');
    const output = body.input.find((item: Json) => item.type === 'tool_search_output');
    output.tools = [{ type: 'namespace', name: 'mcp__tracker', description: 'Issue tracker', tools: [{ type: 'function', name: 'list_issues', description: 'List issues.', defer_loading: true, parameters: { type: 'object', properties: { state: { type: 'string' } } } }] }];
    const replayed = await replay(codex, 'tool-search-turn', 'chat', body);
    expectOk(replayed);
    const received = dialects.chat.received(replayed.upstream!);
    assert.equal(received.tools.at(-1), 'mcp__tracker__list_issues');
    assert.deepEqual(received.toolResults.map((result) => result.content), ['Found 1 tool, which can be called now: mcp__tracker__list_issues.']);
    const call = outputOf(replayed).find((item) => item.type === 'function_call')!;
    assert.deepEqual([call.namespace, call.name, call.arguments], ['mcp__tracker', 'list_issues', '{"state":"open"}']);
  });

  // --- no model set (gpt-6.2-sol): tools only in an additional_tools input item ---

  for (const provider of ['anthropic', 'gemini', 'chat', 'ollama'] as const) {
    test(`the responses-lite first turn → ${provider}: the additional_tools item's tools are offered (namespaces flattened, exec a one-string function); an exec call comes back as custom_tool_call`, async () => {
      plan = { text: 'Running it.', call: { name: 'exec', args: { input: 'text(1 + 1);' } } };
      const body = bodyOf(codex, 'lite-first-turn');
      const replayed = await replay(codex, 'lite-first-turn', provider, body);
      expectOk(replayed);
      const declared = (body.input[0].tools as Json[]).flatMap((namespace) => (namespace.tools as Json[]).map((tool) => (namespace.name === 'functions' ? tool.name : `${namespace.name}__${tool.name}`)));
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.tools, declared);
      assert.ok(received.tools.includes('exec') && received.tools.includes('clock__sleep') && received.tools.includes('collaboration__spawn_agent'));
      assert.match(received.system ?? '', /You are Codex/);
      assert.equal(replayed.headers.get('x-switchyard-dropped'), null);
      const call = outputOf(replayed).find((item) => item.type === 'custom_tool_call')!;
      assert.deepEqual([call.name, call.input, call.namespace], ['exec', 'text(1 + 1);', undefined]);
    });
  }

  test('the responses-lite first turn → a chat upstream: a call of a namespaced tool (clock.sleep) comes back naming its namespace', async () => {
    plan = { call: { name: 'clock__sleep', args: { duration_ms: 5 } } };
    const replayed = await replay(codex, 'lite-first-turn', 'chat');
    expectOk(replayed);
    const call = outputOf(replayed).find((item) => item.type === 'function_call')!;
    assert.deepEqual([call.namespace, call.name, call.arguments], ['clock', 'sleep', '{"duration_ms":5}']);
  });

  for (const provider of ['anthropic', 'gemini', 'chat', 'ollama'] as const) {
    test(`the responses-lite exec turn → ${provider}: the custom_tool_call (JavaScript) and its output are a call and its result`, async () => {
      plan = { text: 'The marker printed.' };
      const replayed = await replay(codex, 'lite-exec-turn', provider);
      expectOk(replayed);
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.toolCalls.map((call) => call.name), ['exec']);
      assert.match(String((received.toolCalls[0]!.args as Json).input), /tools\.exec_command\(\{ cmd: "echo switchyard-tool-ok" \}\)/);
      assert.equal(received.toolResults.length, 1);
      assert.match(received.toolResults[0]!.content, /switchyard-tool-ok/);
    });
  }

  for (const provider of ['anthropic', 'gemini', 'chat'] as const) {
    test(`the first turn, with those fields handled, translates to ${provider}: developer items, tools, a streamed exec_command call`, async () => {
      plan = { text: 'Running it.', call: { name: 'exec_command', args: { cmd: 'echo hi' } } };
      const body = translatable('first-turn');
      const replayed = await replay(codex, 'first-turn', provider, body);
      expectOk(replayed);
      assert.equal(replayed.outcome.text, 'Running it.');
      assert.equal(replayed.outcome.toolCalls.length, 1);
      assert.equal(replayed.outcome.toolCalls[0]!.name, 'exec_command');
      assert.deepEqual(replayed.outcome.toolCalls[0]!.args, { cmd: 'echo hi' });
      assert.deepEqual(replayed.outcome.usage, { input: 21_000, output: 40, cached: 20_000 });
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.tools, toolNames(body.tools));
      assert.match(received.system ?? '', /You are a coding agent running in the Codex CLI/);
      assert.match(received.userTexts.at(-1) ?? '', /Say hello$/);
      assert.equal(received.stream, true);
      const events = replayed.body.trim().split('\n\n');
      assert.match(events.at(-1)!, /^event: response\.completed/, 'the stream ends with response.completed');
    });
  }

  test('the tool-result turn → an Anthropic upstream: function_call and function_call_output become tool_use and tool_result with the same id', async () => {
    plan = { text: 'The marker printed.' };
    const replayed = await replay(codex, 'tool-result-turn', 'anthropic', translatable('tool-result-turn'));
    expectOk(replayed);
    assert.equal(replayed.outcome.text, 'The marker printed.');
    const received = dialects.anthropic.received(replayed.upstream!);
    assert.deepEqual(received.assistantTexts, ['Running it.']);
    assert.deepEqual(received.toolCalls, [{ id: 'call_lab_1', name: 'exec_command', args: { cmd: 'echo switchyard-tool-ok' } }]);
    assert.equal(received.toolResults[0]!.id, 'call_lab_1');
    assert.match(received.toolResults[0]!.content, /switchyard-tool-ok/);
  });
});

// --- Gemini CLI ------------------------------------------------------------------------------

describe('Gemini CLI 0.61.0 (Gemini API, streamGenerateContent?alt=sse, parametersJsonSchema tools)', () => {
  test('the router\'s classifier request (JSON output, thinkingLevel, topK) → an OpenAI chat upstream answers JSON', async () => {
    plan = { text: '{"complexity_reasoning":"A greeting.","complexity_score":5}' };
    const replayed = await replay(geminiCli, 'router-classifier', 'chat');
    expectOk(replayed);
    assert.deepEqual(JSON.parse(replayed.outcome.text), { complexity_reasoning: 'A greeting.', complexity_score: 5 });
    const body = replayed.upstream!.body;
    assert.equal(body.stream, undefined);
    assert.equal(body.response_format.type, 'json_schema');
    assert.deepEqual(body.response_format.json_schema.schema.required, ['complexity_reasoning', 'complexity_score']);
    assert.equal(body.reasoning_effort, 'high', 'thinkingLevel HIGH');
    assert.deepEqual([body.temperature, body.top_p, body.top_k], [1, 0.95, 64]);
  });

  test('the classifier\'s responseJsonSchema (upper-case type names, as Gemini CLI writes it) reaches a non-Gemini upstream as valid JSON Schema', async () => {
    plan = { text: '{"complexity_reasoning":"A greeting.","complexity_score":5}' };
    const replayed = await replay(geminiCli, 'router-classifier', 'chat');
    expectOk(replayed);
    const schema = replayed.upstream!.body.response_format.json_schema.schema;
    assert.equal(schema.type, 'object');
    assert.equal(schema.properties.complexity_score.type, 'integer');
  });

  for (const provider of ['anthropic', 'chat'] as const) {
    test(`the first turn → ${provider}: tools from parametersJsonSchema, a run_shell_command call streams back with its arguments`, async () => {
      plan = { text: 'Running it.', call: { name: 'run_shell_command', args: { command: 'ls', description: 'List files' } } };
      const replayed = await replay(geminiCli, 'first-turn', provider);
      expectOk(replayed);
      assert.equal(replayed.outcome.text, 'Running it.');
      assert.equal(replayed.outcome.toolCalls.length, 1);
      assert.equal(replayed.outcome.toolCalls[0]!.name, 'run_shell_command');
      assert.deepEqual(replayed.outcome.toolCalls[0]!.args, { command: 'ls', description: 'List files' });
      const body = bodyOf(geminiCli, 'first-turn');
      const received = dialects[provider].received(replayed.upstream!);
      assert.deepEqual(received.tools, (body.tools as Json[]).flatMap((tool) => tool.functionDeclarations.map((declaration: Json) => declaration.name)));
      assert.equal(received.model, 'gemini-3.1-pro-preview');
      assert.equal(received.stream, true);
      assert.match(received.system ?? '', /\S/);
      if (provider === 'anthropic') {
        assert.equal(replayed.upstream!.body.thinking?.type, 'enabled', 'thinkingLevel HIGH');
        assert.equal(replayed.upstream!.body.top_k, undefined, 'topK is left out with thinking on, as Anthropic requires');
      }
    });
  }

  test('the tool-result turn → an Anthropic upstream: call and response keep their id', async () => {
    plan = { text: 'The marker printed.' };
    const replayed = await replay(geminiCli, 'tool-result-turn', 'anthropic');
    expectOk(replayed);
    assert.equal(replayed.outcome.text, 'The marker printed.');
    const received = dialects.anthropic.received(replayed.upstream!);
    assert.deepEqual(received.toolCalls, [{ id: 'call_lab_1', name: 'run_shell_command', args: { command: 'echo switchyard-tool-ok', description: 'Print a marker' } }]);
    assert.deepEqual(received.toolResults.map((result) => result.id), ['call_lab_1']);
    assert.match(received.toolResults[0]!.content, /switchyard-tool-ok/);
  });

  // Gemini CLI puts Gemini's documented placeholder thoughtSignature on a function call that has
  // no real signature (here: one answered by a non-Gemini upstream). It is no signature at all:
  // sent to Anthropic as a thinking block (empty text, after the text block) or to a Responses
  // provider as encrypted_content, the real services refuse the whole request.
  for (const provider of ['anthropic', 'responses'] as const) {
    test(`the "skip_thought_signature_validator" placeholder is not sent to ${provider} as a signature`, async () => {
      plan = { text: 'The marker printed.' };
      const body = bodyOf(geminiCli, 'tool-result-turn');
      delete body.generationConfig.topK; // refused by a Responses provider today: see the next test
      const replayed = await replay(geminiCli, 'tool-result-turn', provider, body);
      expectOk(replayed);
      assert.ok(!JSON.stringify(replayed.upstream!.body).includes('skip_thought_signature_validator'), 'no placeholder signature upstream');
    });
  }

  test('Gemini CLI\'s ever-present topK does not shut it out of a Responses-only provider', async () => {
    plan = { text: 'Hello.' };
    const replayed = await replay(geminiCli, 'first-turn', 'responses');
    expectOk(replayed);
    assert.equal(replayed.upstream!.body.top_k, undefined);
  });

  test('the tool-result turn → an OpenAI chat upstream', async () => {
    plan = { text: 'The marker printed.' };
    const replayed = await replay(geminiCli, 'tool-result-turn', 'chat');
    expectOk(replayed);
    const received = dialects.chat.received(replayed.upstream!);
    assert.deepEqual(received.toolCalls.map((call) => [call.id, call.name]), [['call_lab_1', 'run_shell_command']]);
    assert.deepEqual(received.toolResults.map((result) => result.id), ['call_lab_1']);
  });
});

// --- opencode --------------------------------------------------------------------------------

describe('opencode 1.18.33 (@ai-sdk/openai-compatible: chat completions, streamed with include_usage)', () => {
  test('the title request → a Gemini upstream: streamed chunks, [DONE], usage', async () => {
    plan = { text: 'Marker command' };
    const replayed = await replay(opencode, 'title', 'gemini');
    expectOk(replayed);
    assert.equal(replayed.outcome.text, 'Marker command');
    assert.deepEqual(replayed.outcome.usage, { input: 21_000, output: 40, cached: 20_000 });
    assert.equal(dialects.gemini.received(replayed.upstream!).model, 'gemini-2.5-flash-lite');
  });

  test('the tool-result turn → a Gemini upstream: the synthesised call id is matched back by name, a new bash call gets an id', async () => {
    plan = { call: { name: 'bash', args: { command: 'ls', description: 'List files' } } };
    const replayed = await replay(opencode, 'tool-result-turn', 'gemini');
    expectOk(replayed);
    assert.equal(replayed.outcome.finish, 'tool-calls');
    assert.equal(replayed.outcome.toolCalls.length, 1);
    assert.equal(replayed.outcome.toolCalls[0]!.name, 'bash');
    assert.match(replayed.outcome.toolCalls[0]!.id ?? '', /\S/);
    const received = dialects.gemini.received(replayed.upstream!);
    assert.deepEqual(received.toolCalls, [{ name: 'bash', args: { command: 'echo switchyard-tool-ok' } }]);
    assert.deepEqual(received.toolResults.map((result) => [result.name, result.content]), [['bash', 'switchyard-tool-ok\n']]);
  });

  test('the tool-result turn → an Anthropic upstream: ids kept, max_tokens and top_p carried', async () => {
    plan = { text: 'The marker printed.' };
    const replayed = await replay(opencode, 'tool-result-turn', 'anthropic');
    expectOk(replayed);
    const body = bodyOf(opencode, 'tool-result-turn');
    const id = (body.messages as Json[]).find((message) => message.role === 'tool')!.tool_call_id;
    const received = dialects.anthropic.received(replayed.upstream!);
    assert.deepEqual(received.toolCalls.map((call) => call.id), [id]);
    assert.deepEqual(received.toolResults.map((result) => result.id), [id]);
    assert.deepEqual([received.maxTokens, received.topP], [32000, 0.95]);
    assert.deepEqual(received.tools, toolNames(body.tools));
  });
});
