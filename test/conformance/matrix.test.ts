// The shared conformance suite: every client dialect × every upstream dialect × every scenario,
// streaming and not, through the real gateway (real config loading, real sockets) and mock
// upstreams that answer in each provider's own wire format.
import type { RequestObserver } from '../../src/pipeline/context.ts';
import type { Usage } from '../../src/canonical/usage.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { loadDialects } from './registry.ts';
import { scenarioByName, scenarios } from './scenarios.ts';
import { skipFor } from './skips.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, UpstreamDialect } from './types.ts';

const { clients, upstreams, skips } = await loadDialects();
const only = process.env.CONFORMANCE_ONLY; // e.g. "anthropic" to run the rows and columns of one dialect

interface Rig { mock: MockUpstream; gateway: RunningGateway; finished: { usage: Usage | undefined; status: number }[] }
const rigs = new Map<string, Rig>();

before(async () => {
  for (const upstream of upstreams) {
    const mock = await startMockUpstream({ script: (request) => upstream.respond(scenarioByName(upstream.scenarioOf(request)), request) });
    const yaml = `providers:\n  - name: up\n    type: ${upstream.type}\n    base_url: ${mock.url}${upstream.basePath}\n    api_key: sk-upstream-conformance\n    models: ["scenario-*"]\n    discover: false\n`
      // the matrix checks how each upstream 429 is rendered, so 429s must not cool the model
      // down for the scenarios after it (cooldowns have their own tests)
      + 'routing:\n  cooldowns: { rate_limit_s: 0, rate_limit_max_s: 0 }\n'
      // tests never write usage to the home directory
      + 'storage: { enabled: false }\n';
    const { config } = parseConfigText(yaml, `conformance-${upstream.type}.yaml`, {});
    const logger = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    const finished: Rig['finished'] = [];
    const observer: RequestObserver = { requestEnded: (context) => finished.push({ usage: context.usage, status: context.response.statusCode }) };
    const gateway = await startGateway({ config, logger, host: '127.0.0.1', port: 0, discover: false, observers: [observer] });
    rigs.set(upstream.type, { mock, gateway, finished });
  }
});

after(async () => {
  for (const { mock, gateway } of rigs.values()) {
    await gateway.close();
    await mock.close();
  }
});

function both(client: DialectTraits, upstream: DialectTraits, trait: keyof DialectTraits): boolean {
  return client[trait] !== false && upstream[trait] !== false;
}

function checkOutcome(scenario: Scenario, outcome: Outcome, client: ClientDialect, upstream: UpstreamDialect): void {
  if (scenario.error !== undefined) {
    assert.equal(outcome.status, scenario.error.status, 'error status');
    assert.ok(outcome.errorMessage?.includes(scenario.error.message), `error message carries the upstream's: ${outcome.errorMessage}`);
    return;
  }
  const answer = scenario.answer!;
  assert.equal(outcome.status, 200);
  assert.equal(outcome.text, answer.text ?? '', 'text');
  assert.equal(outcome.finish, answer.finish, 'finish reason');
  const calls = answer.toolCalls ?? [];
  assert.equal(outcome.toolCalls.length, calls.length, 'tool call count');
  calls.forEach((call, i) => {
    assert.equal(outcome.toolCalls[i]!.name, call.name, 'tool name');
    assert.deepEqual(outcome.toolCalls[i]!.args, call.args, 'tool arguments');
    if (both(client.traits, upstream.traits, 'toolCallIds')) assert.equal(outcome.toolCalls[i]!.id, call.id, 'tool call id');
    else assert.ok(typeof outcome.toolCalls[i]!.id === 'string' || !client.traits.toolCallIds, 'a client that needs ids gets one');
  });
  if (answer.reasoning !== undefined && both(client.traits, upstream.traits, 'reasoning')) assert.equal(outcome.reasoning, answer.reasoning.text, 'reasoning text');
  if (answer.reasoning !== undefined && both(client.traits, upstream.traits, 'signatures')) assert.deepEqual(outcome.signatures, [answer.reasoning.signature], 'signature');
  assert.ok(outcome.usage !== undefined, 'usage is reported');
  assert.equal(outcome.usage.input, answer.usage.input, 'input tokens');
  assert.equal(outcome.usage.output, answer.usage.output, 'output tokens');
  if (answer.usage.cached !== undefined && both(client.traits, upstream.traits, 'cachedTokens')) assert.equal(outcome.usage.cached, answer.usage.cached, 'cached tokens');
  if (answer.usage.reasoning !== undefined && both(client.traits, upstream.traits, 'reasoningTokens')) assert.equal(outcome.usage.reasoning, answer.usage.reasoning, 'reasoning tokens');
}

function checkReceived(scenario: Scenario, received: Received, client: ClientDialect, upstream: UpstreamDialect, stream: boolean): void {
  const input = scenario.input;
  assert.equal(received.model, `scenario-${scenario.name}`, 'model');
  assert.equal(received.stream, stream, 'stream flag');
  if (input.system !== undefined) assert.equal(received.system, input.system, 'system prompt');
  assert.deepEqual(received.userTexts, input.messages.filter((message) => message.role === 'user').map((message) => message.text), 'user messages');
  const images = input.messages.flatMap((message) => (message.role === 'user' && message.image !== undefined ? [message.image] : []));
  if (both(client.traits, upstream.traits, 'images')) assert.deepEqual(received.images, images, 'images');
  assert.deepEqual(received.assistantTexts, input.messages.flatMap((message) => (message.role === 'assistant' && message.text !== undefined ? [message.text] : [])), 'assistant history');
  const historyCalls = input.messages.flatMap((message) => (message.role === 'assistant' ? message.toolCalls ?? [] : []));
  assert.deepEqual(received.toolCalls.map((call) => ({ name: call.name, args: call.args })), historyCalls.map((call) => ({ name: call.name, args: call.args })), 'tool calls in history');
  const results = input.messages.flatMap((message) => (message.role === 'tool' ? [message] : []));
  assert.equal(received.toolResults.length, results.length, 'tool results');
  results.forEach((result, i) => {
    assert.ok(received.toolResults[i]!.content.includes(result.result), `tool result content: ${received.toolResults[i]!.content}`);
    if (both(client.traits, upstream.traits, 'toolCallIds')) assert.equal(received.toolResults[i]!.id, result.toolCallId, 'tool result id');
    if (result.isError === true && both(client.traits, upstream.traits, 'toolErrorFlag')) assert.equal(received.toolResults[i]!.isError, true, 'tool error flag');
  });
  assert.deepEqual(received.tools, (input.tools ?? []).map((tool) => tool.name), 'tool definitions');
  if (input.toolChoice !== undefined && both(client.traits, upstream.traits, 'toolChoice')) assert.deepEqual(received.toolChoice, input.toolChoice, 'tool choice');
  if (input.maxTokens !== undefined) assert.equal(received.maxTokens, input.maxTokens, 'max tokens');
  if (input.temperature !== undefined) assert.equal(received.temperature, input.temperature, 'temperature');
  if (input.topP !== undefined) assert.equal(received.topP, input.topP, 'top_p');
  if (input.stop !== undefined && both(client.traits, upstream.traits, 'stop')) assert.deepEqual(received.stop, input.stop, 'stop sequences');
  if (input.jsonSchema !== undefined && both(client.traits, upstream.traits, 'jsonSchemaName')) assert.equal(received.jsonSchemaName, input.jsonSchema.name, 'json schema');
  if (input.reasoning !== undefined && both(client.traits, upstream.traits, 'reasoningBudget')) assert.equal(received.reasoningBudget, input.reasoning.budgetTokens, 'reasoning budget');
  const signatures = input.messages.flatMap((message) => (message.role === 'assistant' && message.reasoning !== undefined ? [message.reasoning.signature] : []));
  if (both(client.traits, upstream.traits, 'signatures')) assert.deepEqual(received.reasoningSignatures, signatures, 'signatures sent back verbatim');
}

for (const client of clients) {
  for (const upstream of upstreams) {
    if (only !== undefined && !client.name.includes(only) && !upstream.type.includes(only)) continue;
    for (const scenario of scenarios) {
      for (const stream of [false, true]) {
        const name = `${client.name} → ${upstream.type}: ${scenario.name}${stream ? ' (stream)' : ''}`;
        const skip = skipFor(skips, client.name, upstream.type, scenario.name, stream);
        test(name, skip !== undefined ? { skip } : {}, async () => {
          const rig = rigs.get(upstream.type)!;
          const seen = rig.mock.requests.length;
          const ended = rig.finished.length;
          const request = client.request(scenario, `scenario-${scenario.name}`, stream);
          const response = await fetch(rig.gateway.url + request.path, { method: request.method, headers: request.headers, body: request.body });
          const body = await response.text();
          let outcome: Outcome;
          try {
            outcome = client.parse(response.status, response.headers, body, stream && scenario.error === undefined);
          } catch (error) {
            throw new Error(`${(error as Error).message}\n--- status ${response.status}, body:\n${body.slice(0, 3000)}`);
          }
          checkOutcome(scenario, outcome, client, upstream);
          // the gateway's own record of the usage (what metrics and the usage store see)
          for (let i = 0; i < 100 && rig.finished.length === ended; i++) await new Promise((resolve) => setTimeout(resolve, 5));
          assert.equal(rig.finished.length, ended + 1, 'the request was observed once');
          if (scenario.answer !== undefined) {
            const usage = rig.finished[ended]!.usage;
            const expected = scenario.answer.usage;
            assert.ok(usage !== undefined, 'the gateway recorded the usage');
            assert.equal(usage.inputTokens, expected.input, 'recorded input tokens');
            assert.equal(usage.outputTokens, expected.output, 'recorded output tokens');
            if (expected.cached !== undefined && upstream.traits.cachedTokens !== false) assert.equal(usage.cachedInputTokens, expected.cached, 'recorded cached tokens');
            if (expected.reasoning !== undefined && upstream.traits.reasoningTokens !== false) assert.equal(usage.reasoningTokens, expected.reasoning, 'recorded reasoning tokens');
          }
          assert.equal(rig.mock.requests.length, seen + 1, 'exactly one upstream request');
          checkReceived(scenario, upstream.received(rig.mock.requests[seen]!), client, upstream, stream);
        });
      }
    }
  }
}
