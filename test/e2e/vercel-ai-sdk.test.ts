// The Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`, `@ai-sdk/openai` chat and Responses
// models, `@ai-sdk/anthropic`) pointed at the gateway by base URL, each against an upstream of a
// different dialect (the conformance suite's mock upstreams, configured from YAML as a user
// would). Checked through the SDK's own results: generateText and streamText with tools (names,
// arguments, streamed text and tool-input parts complete and in order), an agent loop that runs
// the tools and sends their results back, usage, and upstream failures surfacing as the SDK's
// APICallError (before the stream) or as an error part (mid-stream).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel, type TextStreamPart, type ToolSet } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { parseConfigText } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { upstream as anthropicUpstream } from '../conformance/dialects/anthropic.ts';
import { upstream as geminiUpstream } from '../conformance/dialects/gemini.ts';
import { upstream as openaiUpstream } from '../conformance/dialects/openai-chat.ts';
import { scenarioByName } from '../conformance/scenarios.ts';
import type { Scenario, UpstreamDialect } from '../conformance/types.ts';

// The SDK prints a warning for settings a model ignores (stop sequences on Responses, …).
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const CLIENT_KEY = 'sk-e2e-vercel-client';
const UPSTREAM_KEY = 'sk-e2e-vercel-upstream';

// --- tools, with JSON-Schema inputs (the SDK's jsonSchema() helper) ---------------------------

const citySchema = jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'], additionalProperties: false });
const declaredTools = {
  get_weather: tool({ description: 'Current weather for a city', inputSchema: citySchema }),
  get_time: tool({ description: 'Local time in a city', inputSchema: citySchema }),
};
const executedTools = {
  get_weather: tool({ description: 'Current weather for a city', inputSchema: citySchema, execute: async ({ city }) => `${city}: 18°C and sunny` }),
  get_time: tool({ description: 'Local time in a city', inputSchema: citySchema, execute: async ({ city }) => ({ city, time: '09:00' }) }),
};

// --- an agent loop the conformance scenarios do not have: calls first, an answer once the results are back

const agentCalls: Scenario = {
  name: 'agent', input: { messages: [] },
  answer: {
    text: 'Checking both.',
    toolCalls: [{ id: 'call_agent_w', name: 'get_weather', args: { city: 'Paris' } }, { id: 'call_agent_t', name: 'get_time', args: { city: 'Tokyo' } }],
    finish: 'tool-calls', usage: { input: 70, output: 30 },
  },
};
const agentAnswer: Scenario = { name: 'agent', input: { messages: [] }, answer: { text: 'Sunny in Paris; 09:00 in Tokyo.', finish: 'stop', usage: { input: 120, output: 9 } } };
const BROKEN_TEXT = scenarioByName('multi-turn').answer!.text!;

/** The upstream's own answer for a scenario model; `scenario-agent` and `scenario-broken` are extra. */
function respond(upstream: UpstreamDialect, request: RecordedRequest): Behavior {
  const name = upstream.scenarioOf(request);
  if (name === 'agent') return upstream.respond(upstream.received(request).toolResults.length > 0 ? agentAnswer : agentCalls, request);
  if (name === 'broken') {
    // the multi-turn answer, cut by a connection reset after its first text piece
    const behavior = upstream.respond(scenarioByName('multi-turn'), request);
    assert.equal(behavior.kind, 'stream');
    const firstPiece = BROKEN_TEXT.slice(0, Math.floor(BROKEN_TEXT.length / 2));
    const cut = behavior.events.findIndex((event) => event.includes(firstPiece));
    assert.ok(cut >= 0, 'the first text piece is in the stream');
    return { ...behavior, events: behavior.events.slice(0, cut + 1), thenBehavior: 'reset' };
  }
  return upstream.respond(scenarioByName(name), request);
}

// --- the combinations: each client against an upstream of another dialect --------------------

interface Case {
  name: string;
  upstream: UpstreamDialect;
  model(gatewayUrl: string, id: string, apiKey?: string): LanguageModel;
  /** The SDK sends stop sequences (the Responses API has none; the SDK drops them with a warning). */
  sendsStop: boolean;
  /** Provider options the agent loop needs (the Responses model must not refer to stored items). */
  agentOptions?: Record<string, Record<string, string | boolean>>;
}

const cases: Case[] = [
  {
    name: '@ai-sdk/openai-compatible → Anthropic upstream',
    upstream: anthropicUpstream,
    model: (url, id, apiKey = CLIENT_KEY) => createOpenAICompatible({ name: 'switchyard', baseURL: `${url}/v1`, apiKey, includeUsage: true }).chatModel(id),
    sendsStop: true,
  },
  {
    name: '@ai-sdk/openai .chat() → Gemini upstream',
    upstream: geminiUpstream,
    model: (url, id, apiKey = CLIENT_KEY) => createOpenAI({ baseURL: `${url}/v1`, apiKey }).chat(id),
    sendsStop: true,
  },
  {
    name: '@ai-sdk/openai Responses (default model) → Anthropic upstream',
    upstream: anthropicUpstream,
    model: (url, id, apiKey = CLIENT_KEY) => createOpenAI({ baseURL: `${url}/v1`, apiKey })(id),
    sendsStop: false,
    agentOptions: { openai: { store: false } },
  },
  {
    name: '@ai-sdk/openai .responses() → Gemini upstream',
    upstream: geminiUpstream,
    model: (url, id, apiKey = CLIENT_KEY) => createOpenAI({ baseURL: `${url}/v1`, apiKey }).responses(id),
    sendsStop: false,
    agentOptions: { openai: { store: false } },
  },
  {
    name: '@ai-sdk/anthropic → OpenAI chat upstream',
    upstream: openaiUpstream,
    model: (url, id, apiKey = CLIENT_KEY) => createAnthropic({ baseURL: `${url}/v1`, apiKey })(id),
    sendsStop: true,
  },
];

interface Rig { mock: MockUpstream; gateway: RunningGateway }

async function startRig(upstream: UpstreamDialect): Promise<Rig> {
  const mock = await startMockUpstream({ script: (request) => respond(upstream, request) });
  const yaml = [
    'storage: { enabled: false }', // tests never write to the home directory
    'auth:',
    `  keys: ["${CLIENT_KEY}"]`,
    'providers:',
    '  - name: up',
    `    type: ${upstream.type}`,
    `    base_url: ${mock.url}${upstream.basePath}`,
    `    api_key: ${UPSTREAM_KEY}`,
    '    models: ["scenario-*"]',
    '    discover: false',
    '',
  ].join('\n');
  const { config } = parseConfigText(yaml, `vercel-${upstream.type}.yaml`, {});
  const logger = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  const gateway = await startGateway({ config, logger, host: '127.0.0.1', port: 0, discover: false });
  return { mock, gateway };
}

type Part = TextStreamPart<ToolSet>;

async function collect(stream: AsyncIterable<Part>): Promise<Part[]> {
  const parts: Part[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Checks that each tool call's input parts open, stream and close before the call, and returns the streamed inputs by id. */
function toolInputs(parts: Part[]): Map<string, string> {
  const inputs = new Map<string, string>();
  const open = new Set<string>();
  for (const part of parts) {
    if (part.type === 'tool-input-start') {
      assert.ok(!inputs.has(part.id), `one tool-input-start per call (${part.id})`);
      inputs.set(part.id, '');
      open.add(part.id);
    } else if (part.type === 'tool-input-delta') {
      assert.ok(open.has(part.id), 'a delta for an open tool input');
      inputs.set(part.id, inputs.get(part.id)! + part.delta);
    } else if (part.type === 'tool-input-end') {
      assert.ok(open.delete(part.id), 'tool-input-end for an open input');
    } else if (part.type === 'tool-call') {
      assert.ok(inputs.has(part.toolCallId) && !open.has(part.toolCallId), 'the call comes after its streamed input is complete');
    }
  }
  assert.equal(open.size, 0, 'every tool input is closed');
  return inputs;
}

for (const testCase of cases) {
  describe(testCase.name, () => {
    let rig: Rig;
    const upstream = testCase.upstream;
    const model = (id: string, apiKey?: string): LanguageModel => testCase.model(rig.gateway.url, id, apiKey);
    const hasIds = upstream.traits.toolCallIds;

    before(async () => { rig = await startRig(upstream); });
    after(async () => {
      await rig?.gateway.close();
      await rig?.mock.close();
    });

    test('generateText: text, finish reason and usage (cached tokens included); the settings reach the upstream', async () => {
      const seen = rig.mock.requests.length;
      const result = await generateText({
        model: model('scenario-text'), system: 'You are terse.', prompt: 'Say hello.',
        maxOutputTokens: 64, temperature: 0.2, topP: 0.9, stopSequences: ['END'], maxRetries: 0,
      });
      assert.equal(result.text, 'Hello there! ✓');
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.usage.inputTokens, 21);
      assert.equal(result.usage.outputTokens, 4);
      assert.equal(result.usage.totalTokens, 25);
      assert.equal(result.usage.inputTokenDetails.cacheReadTokens, 8);
      assert.equal(result.response.headers?.['x-switchyard-provider'], 'up');

      assert.equal(rig.mock.requests.length, seen + 1, 'one upstream request');
      const sent = rig.mock.requests[seen]!;
      assert.ok(!JSON.stringify(sent.headers).includes(CLIENT_KEY), "the client's key stays at the gateway");
      assert.ok(JSON.stringify(sent.headers).includes(UPSTREAM_KEY), 'the upstream gets its own key');
      const received = upstream.received(sent);
      assert.equal(received.model, 'scenario-text');
      assert.equal(received.stream, false);
      assert.equal(received.system, 'You are terse.');
      assert.deepEqual(received.userTexts, ['Say hello.']);
      assert.deepEqual([received.maxTokens, received.temperature, received.topP], [64, 0.2, 0.9]);
      if (testCase.sendsStop) assert.deepEqual(received.stop, ['END']);
    });

    test('generateText with a tool: the call arrives with its name and parsed arguments', async () => {
      const seen = rig.mock.requests.length;
      const result = await generateText({ model: model('scenario-tool-call'), prompt: 'Weather in Paris?', tools: declaredTools, toolChoice: 'auto', maxRetries: 0 });
      assert.equal(result.finishReason, 'tool-calls');
      assert.equal(result.toolCalls.length, 1);
      const call = result.toolCalls[0]!;
      assert.equal(call.toolName, 'get_weather');
      assert.deepEqual(call.input, { city: 'Paris' });
      if (hasIds) assert.equal(call.toolCallId, 'call_weather_1');
      else assert.match(call.toolCallId, /\S/, 'an id is synthesised for an upstream without ids');
      assert.equal(result.usage.inputTokens, 50);
      assert.equal(result.usage.outputTokens, 12);

      const received = upstream.received(rig.mock.requests[seen]!);
      assert.deepEqual(received.tools, ['get_weather', 'get_time']);
      assert.equal(received.toolChoice, 'auto');
      assert.deepEqual(received.userTexts, ['Weather in Paris?']);
    });

    test('streamText with parallel tool calls: text deltas, tool-input parts and calls complete, usage at the end', async () => {
      const seen = rig.mock.requests.length;
      const result = streamText({ model: model('scenario-parallel-tools'), prompt: 'Weather in Paris and time in Tokyo?', tools: declaredTools, toolChoice: 'required', maxRetries: 0 });
      const parts = await collect(result.fullStream);
      const types = parts.map((part) => part.type);
      assert.equal(types[0], 'start');
      assert.equal(types.at(-1), 'finish');
      assert.ok(!types.includes('error'), `no error part: ${types.join(' ')}`);

      const textDeltas = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []));
      assert.ok(textDeltas.length >= 2, 'text arrives in pieces, not in one');
      assert.equal(textDeltas.join(''), 'Checking both.');

      const calls = parts.flatMap((part) => (part.type === 'tool-call' ? [part] : []));
      assert.deepEqual(calls.map((call) => [call.toolName, call.input]), [['get_weather', { city: 'Paris' }], ['get_time', { city: 'Tokyo' }]]);
      if (hasIds) assert.deepEqual(calls.map((call) => call.toolCallId), ['call_weather_2', 'call_time_3']);
      else assert.equal(new Set(calls.map((call) => call.toolCallId)).size, 2, 'distinct synthesised ids');
      const inputs = toolInputs(parts);
      for (const call of calls) assert.deepEqual(JSON.parse(inputs.get(call.toolCallId)!), call.input, 'the streamed input deltas add up to the call');

      const finish = parts.at(-1)!;
      assert.ok(finish.type === 'finish');
      assert.equal(finish.finishReason, 'tool-calls');
      assert.equal(finish.totalUsage.inputTokens, 70);
      assert.equal(finish.totalUsage.outputTokens, 30);
      assert.equal(await result.text, 'Checking both.');
      assert.equal((await result.toolCalls).length, 2);

      const received = upstream.received(rig.mock.requests[seen]!);
      assert.equal(received.stream, true);
      assert.equal(received.toolChoice, 'required');
    });

    test('streamText agent loop: the tools run, their results go back to the upstream, the final answer streams', async () => {
      const seen = rig.mock.requests.length;
      const result = streamText({
        model: model('scenario-agent'), prompt: 'Weather in Paris and time in Tokyo?', tools: executedTools, stopWhen: stepCountIs(3), maxRetries: 0,
        ...(testCase.agentOptions !== undefined ? { providerOptions: testCase.agentOptions } : {}),
      });
      const parts = await collect(result.fullStream);
      assert.ok(!parts.some((part) => part.type === 'error'), `no error part: ${JSON.stringify(parts.find((part) => part.type === 'error'))}`);
      assert.equal(await result.text, 'Sunny in Paris; 09:00 in Tokyo.');
      const steps = await result.steps;
      assert.equal(steps.length, 2);
      assert.deepEqual(steps[0]!.toolResults.map((toolResult) => [toolResult.toolName, toolResult.output]), [['get_weather', 'Paris: 18°C and sunny'], ['get_time', { city: 'Tokyo', time: '09:00' }]]);
      const usage = await result.totalUsage;
      assert.deepEqual([usage.inputTokens, usage.outputTokens], [190, 39], 'usage of both steps');

      assert.equal(rig.mock.requests.length, seen + 2);
      const second = upstream.received(rig.mock.requests[seen + 1]!);
      assert.deepEqual(second.assistantTexts, ['Checking both.']);
      assert.deepEqual(second.toolCalls.map((call) => [call.name, call.args]), [['get_weather', { city: 'Paris' }], ['get_time', { city: 'Tokyo' }]]);
      assert.equal(second.toolResults.length, 2);
      assert.match(second.toolResults[0]!.content, /Paris: 18°C and sunny/);
      assert.match(second.toolResults[1]!.content, /09:00/);
      if (hasIds) assert.deepEqual(second.toolResults.map((toolResult) => toolResult.id), ['call_agent_w', 'call_agent_t'], 'results matched to their calls by id');
    });

    test('an upstream 400 raises APICallError with the status and the upstream message (not retryable)', async () => {
      await assert.rejects(generateText({ model: model('scenario-upstream-400'), prompt: 'Break.', maxRetries: 0 }), (error: unknown) => {
        assert.ok(APICallError.isInstance(error), String(error));
        assert.equal(error.statusCode, 400);
        assert.match(error.message, /Invalid value for temperature: must be at most 2\./);
        assert.equal(error.isRetryable, false);
        return true;
      });
    });

    test('an upstream 429 reaches streamText as an APICallError error part with retry-after (retryable)', async () => {
      const errors: unknown[] = [];
      const result = streamText({ model: model('scenario-upstream-429'), prompt: 'Again.', maxRetries: 0, onError: ({ error }) => { errors.push(error); } });
      const parts = await collect(result.fullStream);
      const errorPart = parts.find((part) => part.type === 'error');
      assert.ok(errorPart !== undefined && errorPart.type === 'error', 'an error part');
      const error = errorPart.error;
      assert.ok(APICallError.isInstance(error), String(error));
      assert.equal(error.statusCode, 429);
      assert.equal(error.isRetryable, true);
      assert.equal(error.responseHeaders?.['retry-after'], '7');
      assert.match(error.message, /Rate limit reached for requests\./);
      assert.equal(errors.length, 1, 'onError is called');
    });

    test('a stream cut mid-answer ends with an error part after the text before it, never a clean finish', async () => {
      const result = streamText({ model: model('scenario-broken'), prompt: 'Tell me a joke.', maxRetries: 0, onError: () => {} });
      const parts = await collect(result.fullStream);
      const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
      assert.ok(text.length > 0 && BROKEN_TEXT.startsWith(text), `the text before the break arrives: ${JSON.stringify(text)}`);
      assert.ok(text.length < BROKEN_TEXT.length, 'not the whole answer');
      assert.ok(parts.some((part) => part.type === 'error'), `an error part: ${parts.map((part) => part.type).join(' ')}`);
      const finish = parts.find((part) => part.type === 'finish');
      assert.ok(finish === undefined || (finish.type === 'finish' && finish.finishReason !== 'stop'), 'not a clean stop');
    });

    test('a wrong client key raises APICallError 401', async () => {
      await assert.rejects(generateText({ model: model('scenario-text', 'sk-wrong'), prompt: 'Say hello.', maxRetries: 0 }), (error: unknown) => {
        assert.ok(APICallError.isInstance(error), String(error));
        assert.equal(error.statusCode, 401);
        return true;
      });
    });
  });
}

describe('@ai-sdk/openai Responses with its default store: true', () => {
  let rig: Rig;
  before(async () => { rig = await startRig(anthropicUpstream); });
  after(async () => {
    await rig?.gateway.close();
    await rig?.mock.close();
  });

  // With store left at its default (true) the SDK sends the previous step's assistant text back
  // as {"type":"item_reference","id":"msg_…"} — an id the gateway itself minted. A stateless
  // gateway translating to a non-Responses provider refuses it with a 400, so every agent loop
  // whose first step said something fails on its second step unless the caller sets
  // providerOptions.openai.store = false (tested above).
  test('an agent loop works without providerOptions.openai.store = false', async () => {
    const result = streamText({ model: createOpenAI({ baseURL: `${rig.gateway.url}/v1`, apiKey: CLIENT_KEY })('scenario-agent'), prompt: 'Weather in Paris and time in Tokyo?', tools: executedTools, stopWhen: stepCountIs(3), maxRetries: 0, onError: () => {} });
    const parts = await collect(result.fullStream);
    const error = parts.find((part) => part.type === 'error');
    assert.ok(error === undefined, `the second step failed: ${error !== undefined && error.type === 'error' ? (error.error as Error).message : ''}`);
    assert.equal(await result.text, 'Sunny in Paris; 09:00 in Tokyo.');
  });
});
