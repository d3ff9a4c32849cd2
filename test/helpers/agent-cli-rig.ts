// A real gateway whose providers are the four agent CLIs (claude-code, codex, gemini-cli,
// opencode), each the real binary from .tools/ driven by its real driver and pointed at a loopback
// mock of its vendor's API; plus one plain OpenAI-compatible provider (`api`) for routes that fall
// back. Everything a CLI needs goes through the provider config as a user would write it:
// `command`, `args` (Codex's model provider as `-c` settings) and `env` (API base URLs and keys,
// a throw-away HOME, the egress sink as proxy, the telemetry switches) — the settings the drivers'
// own tests pass, from test/helpers/agent-cli.ts.
//
// Each CLI has a `Vendor`: its mock, which of the mock's requests are model turns, how to read the
// model, the user texts and the tool results out of one, and the vendor's own answers (a text, an
// error, a rate limit, a text that stalls, a shell tool call). A test sets `vendor.answer` and
// reads `vendor.turns()`.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AliasTarget } from '../../src/config/types.ts';
import { anthropicStream } from '../conformance/dialects/anthropic.ts';
import { upstream as openaiChatUpstream } from '../conformance/dialects/openai-chat.ts';
import { upstream as responsesUpstream } from '../conformance/dialects/openai-responses.ts';
import type { ScenarioAnswer, ToolCallSpec } from '../conformance/types.ts';
import {
  agentCliPath, agentCliUnavailable, claudeCodeEnv, codexDriverSettings, geminiCliEnv, geminiStreamEvents, makeAgentWorkspace,
  opencodeEnv, opencodeMockProvider, startEgressSink, type AgentCliName, type EgressSink,
} from './agent-cli.ts';
import { agentCliProvider, startTestGateway, type TestAlias, type TestGateway, type TestGatewayOptions } from './gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from './mock-upstream.ts';

type Json = Record<string, any>;

/** Which model a test asks for: each purpose its own target, so a cooldown or an ejection stays in its test. */
export type ModelPurpose = 'main' | 'errors' | 'limited' | 'queue';

export interface Vendor {
  cli: AgentCliName;
  /** The gateway provider's name. */
  provider: string;
  mock: MockUpstream;
  /** What answers the CLI's model turns now (set by each test). */
  answer: (request: RecordedRequest) => Behavior;
  /** The model name a caller asks for (`provider:model`), per purpose. */
  model(purpose?: ModelPurpose): string;
  /** The model name the vendor API must see for it. */
  upstreamModel(purpose?: ModelPurpose): string;
  /** The mock's requests that are model turns (not token counts or catalogue calls), in order. */
  turns(): RecordedRequest[];
  /** The model a turn request names. */
  modelOf(request: RecordedRequest): string;
  /** The user messages' texts of a turn request, in order (tool results left out). */
  userTexts(request: RecordedRequest): string[];
  /** Whether the request carries the result of a tool call (the CLI answering the model's call). */
  hasToolResult(request: RecordedRequest): boolean;
  /** The vendor's streamed answer with this text. */
  text(text: string, request: RecordedRequest): Behavior;
  /** The vendor's error answer. */
  error(status: number, message: string): Behavior;
  /** A 429 with `retry-after: 7`, in the vendor's shape. */
  rateLimit(): Behavior;
  /** Starts answering with `text`, then never ends (only the client leaving stops it). */
  stall(text: string, request: RecordedRequest): Behavior;
  /** Streams `text`, then breaks the answer with the vendor's mid-stream error (or a reset). */
  breakAfter(text: string, request: RecordedRequest): Behavior;
  /** The model asks for the CLI's own shell tool to run `command`. */
  shellCall(command: string, request: RecordedRequest): Behavior;
}

const USAGE = { input: 12, output: 7 };
const textAnswer = (text: string): ScenarioAnswer => ({ text, finish: 'stop', usage: USAGE });
const toolAnswer = (call: ToolCallSpec): ScenarioAnswer => ({ toolCalls: [call], finish: 'tool-calls', usage: USAGE });

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Json[]).filter((part) => part.type === 'text' || part.type === 'input_text' || typeof part.text === 'string').map((part) => part.text ?? '').join('');
}

/** The SSE events up to and including the last one that carries text: the whole text, and no end. */
function throughText(events: string[], isText: (event: string) => boolean): string[] {
  const index = events.findLastIndex(isText);
  return index < 0 ? events : events.slice(0, index + 1);
}

/**
 * Streams `events`, then breaks the answer: the last of them comes a moment after the text, so a
 * CLI that batches its output (opencode) has shown the text before the break.
 */
function broken(events: string[], last: string | undefined, then: 'end' | 'reset'): Behavior {
  return { kind: 'stream', events: [...events, last ?? ': a moment later'], intervalMs: 150, thenBehavior: then };
}

// --- the vendors ----------------------------------------------------------------------------

function anthropicVendor(mock: MockUpstream, provider: string): Vendor {
  const models: Record<ModelPurpose, string> = { main: 'claude-e2e-main', errors: 'claude-e2e-errors', limited: 'claude-e2e-limited', queue: 'claude-e2e-queue' };
  const stream = (answer: ScenarioAnswer, request: RecordedRequest): Behavior => ({ kind: 'stream', events: anthropicStream(answer, String(request.body?.model ?? models.main)) });
  const error = (status: number, message: string, headers: Record<string, string> = {}): Behavior => ({
    kind: 'json', status, headers,
    body: { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message } },
  });
  return {
    cli: 'claude-code', provider, mock, answer: (request) => stream(textAnswer('unset'), request),
    model: (purpose = 'main') => `${provider}:${models[purpose]}`,
    upstreamModel: (purpose = 'main') => models[purpose],
    turns: () => mock.requests.filter((request) => request.path.startsWith('/v1/messages') && !request.path.includes('count_tokens')),
    modelOf: (request) => String(request.body?.model),
    userTexts: (request) => ((request.body?.messages ?? []) as Json[])
      .filter((message) => message.role === 'user' && !(Array.isArray(message.content) && (message.content as Json[]).some((part) => part.type === 'tool_result')))
      .map((message) => contentText(message.content)),
    hasToolResult: (request) => JSON.stringify(request.body?.messages ?? []).includes('"tool_result"'),
    text: (text, request) => stream(textAnswer(text), request),
    error: (status, message) => error(status, message),
    rateLimit: () => error(429, 'Number of requests has exceeded your rate limit.', { 'retry-after': '7' }),
    stall: (text, request) => ({ kind: 'stream', events: throughText(anthropicStream(textAnswer(text), String(request.body?.model)), (event) => event.includes('text_delta')), thenBehavior: 'stall' }),
    breakAfter: (text, request) => broken(
      throughText(anthropicStream(textAnswer(text), String(request.body?.model)), (event) => event.includes('text_delta')),
      `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'The mock is overloaded mid-answer.' } })}`,
      'end',
    ),
    shellCall: (command, request) => stream(toolAnswer({ id: 'toolu_e2e_01', name: 'Bash', args: { command, description: 'create a file' } }), request),
  };
}

function responsesVendor(mock: MockUpstream, provider: string): Vendor {
  const models: Record<ModelPurpose, string> = { main: 'codex-e2e-main', errors: 'codex-e2e-errors', limited: 'codex-e2e-limited', queue: 'codex-e2e-queue' };
  const respond = (answer: ScenarioAnswer, request: RecordedRequest): Behavior => responsesUpstream.respond({ name: 'e2e', input: { messages: [] }, answer }, request);
  const events = (text: string, request: RecordedRequest): string[] => {
    const behavior = respond(textAnswer(text), request);
    return behavior.kind === 'stream' ? behavior.events : [];
  };
  const error = (status: number, message: string, headers: Record<string, string> = {}): Behavior => ({
    kind: 'json', status, headers,
    body: { error: { message, type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: status === 429 ? 'rate_limit_exceeded' : null } },
  });
  return {
    cli: 'codex', provider, mock, answer: (request) => respond(textAnswer('unset'), request),
    model: (purpose = 'main') => `${provider}:${models[purpose]}`,
    upstreamModel: (purpose = 'main') => models[purpose],
    turns: () => mock.requests.filter((request) => request.path === '/v1/responses'),
    modelOf: (request) => String(request.body?.model),
    userTexts: (request) => ((request.body?.input ?? []) as Json[])
      .filter((item) => item.type === 'message' && item.role === 'user')
      .map((item) => contentText(item.content)),
    hasToolResult: (request) => ((request.body?.input ?? []) as Json[]).some((item) => item.type === 'function_call_output'),
    text: (text, request) => respond(textAnswer(text), request),
    error: (status, message) => error(status, message),
    rateLimit: () => error(429, 'Rate limit reached for requests.', { 'retry-after': '7' }),
    stall: (text, request) => ({ kind: 'stream', events: throughText(events(text, request), (event) => event.startsWith('event: response.output_text.delta')), thenBehavior: 'stall' }),
    breakAfter: (text, request) => broken(
      throughText(events(text, request), (event) => event.startsWith('event: response.output_text.delta')),
      `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', response: { id: 'resp_e2e', object: 'response', status: 'failed', model: request.body?.model, output: [], error: { code: 'server_error', message: 'The mock failed mid-answer.' } } })}`,
      'end',
    ),
    shellCall: (command, request) => respond(toolAnswer({ id: 'call_e2e_01', name: 'exec_command', args: { cmd: command } }), request),
  };
}

function geminiVendor(mock: MockUpstream, provider: string): Vendor {
  const models: Record<ModelPurpose, string> = { main: 'gemini-2.5-pro', errors: 'gemini-e2e-errors', limited: 'gemini-e2e-limited', queue: 'gemini-e2e-queue' };
  const error = (status: number, message: string, details: Json[] = []): Behavior => ({
    kind: 'json', status, body: { error: { code: status, message, status: status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', details } },
  });
  const pieces = (text: string): string[] => text.split(/(?<= )/);
  const contents = (request: RecordedRequest): Json[] => (request.body?.contents ?? []) as Json[];
  return {
    cli: 'gemini-cli', provider, mock, answer: () => ({ kind: 'stream', events: geminiStreamEvents(['unset']) }),
    model: (purpose = 'main') => `${provider}:${models[purpose]}`,
    upstreamModel: (purpose = 'main') => models[purpose],
    turns: () => mock.requests.filter((request) => request.path.includes(':streamGenerateContent')),
    modelOf: (request) => /\/models\/([^/:]+):/.exec(request.path)?.[1] ?? '',
    userTexts: (request) => contents(request)
      .filter((content) => content.role === 'user' && !((content.parts ?? []) as Json[]).some((part) => part.functionResponse !== undefined))
      .map((content) => ((content.parts ?? []) as Json[]).map((part) => part.text ?? '').join('')),
    hasToolResult: (request) => ((contents(request).at(-1)?.parts ?? []) as Json[]).some((part) => part.functionResponse !== undefined),
    text: (text) => ({ kind: 'stream', events: geminiStreamEvents(pieces(text)) }),
    error: (status, message) => error(status, message),
    rateLimit: () => error(429, 'Resource has been exhausted (e.g. check quota).', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]),
    stall: (text) => ({ kind: 'stream', events: geminiStreamEvents([text]).map((event) => event.replace('"finishReason":"STOP",', '')), thenBehavior: 'stall' }),
    breakAfter: (text) => broken(geminiStreamEvents([text]).map((event) => event.replace('"finishReason":"STOP",', '')), undefined, 'reset'),
    shellCall: (command) => {
      const call = { functionCall: { name: 'run_shell_command', args: { command, description: 'create a file' } } };
      return { kind: 'stream', events: [JSON.stringify({ candidates: [{ content: { role: 'model', parts: [call] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 } })] };
    },
  };
}

/** opencode's models, as its config names them (`mock/<name>`); the caller asks for the bare name. */
const OPENCODE_MODELS: Record<ModelPurpose, string> = { main: 'mock-gpt', errors: 'mock-errors', limited: 'mock-limited', queue: 'mock-queue' };

function openaiVendor(mock: MockUpstream, provider: string): Vendor {
  const respond = (answer: ScenarioAnswer, request: RecordedRequest): Behavior => openaiChatUpstream.respond({ name: 'e2e', input: { messages: [] }, answer }, request);
  const chunk = (request: RecordedRequest, delta: Json, finish: string | null = null): string => JSON.stringify({
    id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1, model: request.body?.model, choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const error = (status: number, message: string, headers: Record<string, string> = {}): Behavior => ({
    kind: 'json', status, headers,
    body: { error: { message, type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: status === 429 ? 'rate_limit_exceeded' : null } },
  });
  return {
    cli: 'opencode', provider, mock, answer: (request) => respond(textAnswer('unset'), request),
    model: (purpose = 'main') => `${provider}:${OPENCODE_MODELS[purpose]}`,
    upstreamModel: (purpose = 'main') => OPENCODE_MODELS[purpose],
    turns: () => mock.requests.filter((request) => request.path === '/v1/chat/completions'),
    modelOf: (request) => String(request.body?.model),
    userTexts: (request) => ((request.body?.messages ?? []) as Json[]).filter((message) => message.role === 'user').map((message) => contentText(message.content)),
    hasToolResult: (request) => ((request.body?.messages ?? []) as Json[]).some((message) => message.role === 'tool'),
    text: (text, request) => respond(textAnswer(text), request),
    error: (status, message) => error(status, message),
    rateLimit: () => error(429, 'Rate limit reached for requests.', { 'retry-after': '7' }),
    stall: (text, request) => ({ kind: 'stream', events: [chunk(request, { role: 'assistant', content: '' }), chunk(request, { content: text })], thenBehavior: 'stall' }),
    breakAfter: (text, request) => broken([chunk(request, { role: 'assistant', content: '' }), chunk(request, { content: text })], undefined, 'reset'),
    shellCall: (command, request) => ({
      kind: 'stream',
      events: [
        chunk(request, { role: 'assistant', content: '' }),
        chunk(request, { tool_calls: [{ index: 0, id: 'call_e2e_01', type: 'function', function: { name: 'bash', arguments: JSON.stringify({ command, description: 'create a file' }) } }] }),
        chunk(request, {}, 'tool_calls'),
        '[DONE]',
      ],
    }),
  };
}

// --- the rig ----------------------------------------------------------------------------------

export const AGENT_CLIS: readonly AgentCliName[] = ['claude-code', 'codex', 'gemini-cli', 'opencode'];
const PROVIDER_NAMES: Record<AgentCliName, string> = { 'claude-code': 'claude', codex: 'codex', 'gemini-cli': 'gemini', opencode: 'oc' };
const API_KEYS: Record<AgentCliName, string> = {
  'claude-code': 'sk-ant-api03-e2e-gateway-test-key', codex: 'sk-codex-e2e-gateway-test-key', 'gemini-cli': 'gemini-e2e-gateway-test-key', opencode: 'sk-opencode-e2e-test-key',
};

/** Why the rig cannot run here (a CLI missing), or undefined. Throws in CI when one is missing. */
export function agentCliRigUnavailable(): string | undefined {
  const reasons = AGENT_CLIS.map((cli) => agentCliUnavailable(cli)).filter((reason) => reason !== undefined);
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

export interface AgentCliRig {
  gateway: TestGateway;
  vendors: Record<AgentCliName, Vendor>;
  /** The OpenAI-compatible provider `api` (model `api-model`), the fallback target. */
  api: MockUpstream;
  sink: EgressSink;
  /** The state directory (usage store, the drivers' work directories). */
  stateDirectory: string;
  /** The alias whose first target is the CLI's `limited` model and whose second is `api`. */
  fallbackAlias(cli: AgentCliName): string;
  /** The secrets the CLIs were given (for scans of what the caller got). */
  secrets: readonly string[];
  close(): Promise<void>;
}

export interface AgentCliRigOptions {
  /** Each CLI provider's queue: turns at once, waiting room, longest wait. */
  concurrency?: number;
  queueSize?: number;
  queueTimeoutMs?: number;
}

export async function startAgentCliRig(options: AgentCliRigOptions = {}): Promise<AgentCliRig> {
  const sink = await startEgressSink();
  const stateDirectory = mkdtempSync(join(tmpdir(), 'switchyard-e2e-cli-state-'));
  const vendors = {} as Record<AgentCliName, Vendor>;
  const factories: Record<AgentCliName, (mock: MockUpstream, provider: string) => Vendor> = {
    'claude-code': anthropicVendor, codex: responsesVendor, 'gemini-cli': geminiVendor, opencode: openaiVendor,
  };
  for (const cli of AGENT_CLIS) {
    let vendor: Vendor | undefined;
    const mock = await startMockUpstream({
      script: (request) => {
        if (vendor === undefined) return { kind: 'json', status: 503, body: { error: { message: 'not ready' } } };
        if (vendor.turns().includes(request)) return vendor.answer(request);
        // Claude Code's token counts; anything else a CLI asks for is not part of these tests
        if (request.path.startsWith('/v1/messages/count_tokens')) return { kind: 'json', status: 200, body: { input_tokens: 10 } };
        return { kind: 'json', status: 404, body: { error: { code: 404, message: `the e2e mock does not serve ${request.path}` } } };
      },
    });
    vendor = factories[cli](mock, PROVIDER_NAMES[cli]);
    vendors[cli] = vendor;
  }
  const api = await startMockUpstream({ models: ['api-model'], text: 'Answered by the API fallback.' });

  const queue = { concurrency: options.concurrency ?? 2, queueSize: options.queueSize ?? 16, queueTimeoutMs: options.queueTimeoutMs ?? 60_000 };
  const workspace = (cli: AgentCliName) => makeAgentWorkspace();
  const claude = workspace('claude-code');
  const codex = codexDriverSettings({ workspace: workspace('codex'), sink, baseUrl: vendors.codex.mock.url, apiKey: API_KEYS.codex });
  const opencodeModels = Object.values(OPENCODE_MODELS);
  // the CLIs' own models, listed by the CLIs (discovery), so the config names none
  const listed = { models: [], discover: true };
  const providers = [
    agentCliProvider(PROVIDER_NAMES['claude-code'], {
      type: 'claude-code', command: agentCliPath('claude-code'), ...queue,
      env: stringEnv(claudeCodeEnv({ workspace: claude, sink, baseUrl: vendors['claude-code'].mock.url, apiKey: API_KEYS['claude-code'] })),
    }, listed),
    agentCliProvider(PROVIDER_NAMES.codex, { type: 'codex', command: codex.command, args: [...codex.args], env: stringEnv(codex.env), ...queue }, listed),
    agentCliProvider(PROVIDER_NAMES['gemini-cli'], {
      type: 'gemini-cli', command: agentCliPath('gemini-cli'), ...queue,
      env: stringEnv(geminiCliEnv({ workspace: workspace('gemini-cli'), sink, baseUrl: vendors['gemini-cli'].mock.url, apiKey: API_KEYS['gemini-cli'] })),
    }, listed),
    agentCliProvider(PROVIDER_NAMES.opencode, {
      type: 'opencode', command: agentCliPath('opencode'), ...queue,
      env: stringEnv(opencodeEnv({
        workspace: workspace('opencode'), sink,
        config: { provider: { mock: opencodeMockProvider(vendors.opencode.mock.url, opencodeModels, API_KEYS.opencode) }, enabled_providers: ['mock'] },
      })),
    }, listed),
    { name: 'api', baseUrl: `${api.url}/v1`, models: ['api-model'] },
  ];
  const fallbackAlias = (cli: AgentCliName) => `fallback-${PROVIDER_NAMES[cli]}`;
  const models: TestAlias[] = AGENT_CLIS.map((cli) => {
    const vendor = vendors[cli];
    const targets: (Partial<AliasTarget> & { provider: string; model: string })[] = [{ provider: vendor.provider, model: vendor.upstreamModel('limited') }, { provider: 'api', model: 'api-model' }];
    return { name: fallbackAlias(cli), strategy: 'fill-first', targets };
  });
  const gatewayOptions: TestGatewayOptions = {
    providers, models, discover: true, storage: { path: stateDirectory },
    // one attempt per target: a mock's error reaches the caller as it is, and the counts of vendor requests stay exact
    routing: { retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } },
  };
  const gateway = await startTestGateway(gatewayOptions);
  let closed = false;
  return {
    gateway, vendors, api, sink, stateDirectory, fallbackAlias,
    secrets: Object.values(API_KEYS),
    async close() {
      if (closed) return;
      closed = true;
      await gateway.close();
      for (const vendor of Object.values(vendors)) await vendor.mock.close();
      await api.close();
      await sink.close();
    },
  };
}

/** Removes the rig's state directory (after close). */
export function removeStateDirectory(rig: AgentCliRig): void {
  if (process.env.SWITCHYARD_TEST_KEEP_CLI_HOMES === undefined) rmSync(rig.stateDirectory, { recursive: true, force: true });
}

function stringEnv(env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) result[name] = value;
  return result;
}

/** Process ids whose working directory is under `root` (Linux /proc): the CLIs the gateway started there. */
export function processesUnder(root: string): number[] {
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
