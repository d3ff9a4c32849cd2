// The conformance scenarios for the Responses client against an OpenAI-compatible upstream that
// does not serve /v1/responses (capability off), so every request is translated to Chat
// Completions. The shared matrix cannot run this pair: its `type: openai` rig assumes the server
// has /v1/responses and passes Responses requests through (see the skip in dialects/openai-responses.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openaiUpstream } from '../conformance/dialects/openai-chat.ts';
import { responsesClient } from '../conformance/dialects/openai-responses.ts';
import { scenarioByName, scenarios } from '../conformance/scenarios.ts';
import type { DialectTraits, Outcome, Received, Scenario } from '../conformance/types.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

let mock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  mock = await startMockUpstream({ script: (request) => openaiUpstream.respond(scenarioByName(openaiUpstream.scenarioOf(request)), request) });
  gateway = await startTestGateway({
    providers: [{
      name: 'chat', baseUrl: `${mock.url}/v1`, models: ['scenario-*'],
      capabilities: { chat: true, completions: false, embeddings: false, responses: false },
    }],
    // the 429 scenario is about its rendering; it must not cool the model down for the next one
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, rateLimitMs: 0, rateLimitMaxMs: 0 } },
  });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

function both(trait: keyof DialectTraits): boolean {
  return responsesClient.traits[trait] !== false && openaiUpstream.traits[trait] !== false;
}

function checkOutcome(scenario: Scenario, outcome: Outcome): void {
  if (scenario.error !== undefined) {
    assert.equal(outcome.status, scenario.error.status, 'error status');
    assert.ok(outcome.errorMessage?.includes(scenario.error.message), `error message: ${outcome.errorMessage}`);
    return;
  }
  const answer = scenario.answer!;
  assert.equal(outcome.status, 200);
  assert.equal(outcome.text, answer.text ?? '', 'text');
  assert.equal(outcome.finish, answer.finish, 'finish reason');
  assert.deepEqual(outcome.toolCalls, (answer.toolCalls ?? []).map((call) => ({ id: call.id, name: call.name, args: call.args })), 'tool calls');
  if (answer.reasoning !== undefined) assert.equal(outcome.reasoning, answer.reasoning.text, 'reasoning text');
  assert.equal(outcome.usage?.input, answer.usage.input, 'input tokens');
  assert.equal(outcome.usage?.output, answer.usage.output, 'output tokens');
  if (answer.usage.cached !== undefined) assert.equal(outcome.usage?.cached, answer.usage.cached, 'cached tokens');
  if (answer.usage.reasoning !== undefined) assert.equal(outcome.usage?.reasoning, answer.usage.reasoning, 'reasoning tokens');
}

function checkReceived(scenario: Scenario, received: Received, stream: boolean): void {
  const input = scenario.input;
  assert.equal(received.model, `scenario-${scenario.name}`);
  assert.equal(received.stream, stream, 'stream flag');
  if (input.system !== undefined) assert.equal(received.system, input.system, 'system prompt');
  assert.deepEqual(received.userTexts, input.messages.flatMap((message) => (message.role === 'user' ? [message.text] : [])), 'user messages');
  assert.deepEqual(received.images, input.messages.flatMap((message) => (message.role === 'user' && message.image !== undefined ? [message.image] : [])), 'images');
  assert.deepEqual(received.assistantTexts, input.messages.flatMap((message) => (message.role === 'assistant' && message.text !== undefined ? [message.text] : [])), 'assistant history');
  assert.deepEqual(received.toolCalls, input.messages.flatMap((message) => (message.role === 'assistant' ? message.toolCalls ?? [] : [])).map((call) => ({ id: call.id, name: call.name, args: call.args })), 'tool calls in history');
  const results = input.messages.flatMap((message) => (message.role === 'tool' ? [message] : []));
  assert.deepEqual(received.toolResults.map((result) => result.id), results.map((result) => result.toolCallId), 'tool result ids');
  results.forEach((result, i) => assert.ok(received.toolResults[i]!.content.includes(result.result), 'tool result content'));
  assert.deepEqual(received.tools, (input.tools ?? []).map((tool) => tool.name), 'tool definitions');
  if (input.toolChoice !== undefined) assert.deepEqual(received.toolChoice, input.toolChoice, 'tool choice');
  if (input.maxTokens !== undefined) assert.equal(received.maxTokens, input.maxTokens, 'max tokens');
  if (input.temperature !== undefined) assert.equal(received.temperature, input.temperature, 'temperature');
  if (input.topP !== undefined) assert.equal(received.topP, input.topP, 'top_p');
  if (input.jsonSchema !== undefined && both('jsonSchemaName')) assert.equal(received.jsonSchemaName, input.jsonSchema.name, 'json schema');
  const signatures = input.messages.flatMap((message) => (message.role === 'assistant' && message.reasoning !== undefined ? [message.reasoning.signature] : []));
  if (both('signatures')) assert.deepEqual(received.reasoningSignatures, signatures, 'signatures sent back verbatim');
}

for (const scenario of scenarios) {
  for (const stream of [false, true]) {
    test(`openai-responses → openai chat (translated): ${scenario.name}${stream ? ' (stream)' : ''}`, async () => {
      const seen = mock.requests.length;
      const request = responsesClient.request(scenario, `scenario-${scenario.name}`, stream);
      const response = await fetch(gateway.url + request.path, { method: request.method, headers: request.headers, body: request.body });
      const body = await response.text();
      let outcome: Outcome;
      try {
        outcome = responsesClient.parse(response.status, response.headers, body, stream && scenario.error === undefined);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- status ${response.status}, body:\n${body.slice(0, 3000)}`);
      }
      checkOutcome(scenario, outcome);
      assert.equal(mock.requests.length, seen + 1, 'exactly one upstream request');
      assert.equal(mock.requests[seen]!.path, '/v1/chat/completions');
      checkReceived(scenario, openaiUpstream.received(mock.requests[seen]!), stream);
    });
  }
}
