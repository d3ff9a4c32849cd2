// Request parameters an agent CLI cannot carry (`unsupported_params`), through the gateway with the
// scripted fake driver: tuning knobs are dropped and named in `x-switchyard-dropped` (the driver
// never sees them); what changes the answer's contract is refused with a 400 in the caller's
// dialect naming the parameter and the provider, before any turn runs — unless the provider or
// the alias says `drop`; `reject` refuses the tuning knobs too. What a CLI carries (Codex: effort,
// a JSON schema) reaches the driver untouched and is not reported.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAgentCli } from '../helpers/fake-agent-cli.ts';
import { agentCliProvider, type TestGatewayOptions } from '../helpers/gateway.ts';
import { chat, openaiProvider, post, startGatewayFor, startMocks } from '../helpers/resilience.ts';
import type { AgentCliConfig, AliasConfig } from '../../src/config/types.ts';
import type { AgentCliType } from '../../src/agent-clis/driver.ts';

const stateDirectory = mkdtempSync(join(tmpdir(), 'swy-agent-cli-params-'));
process.env.SWITCHYARD_STATE_DIR = stateDirectory;
process.on('exit', () => rmSync(stateDirectory, { recursive: true, force: true }));

const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

function cliGateway(t: TestContext, cli: FakeAgentCli, options: Partial<TestGatewayOptions> & { cli?: Partial<AgentCliConfig>; type?: AgentCliType } = {}) {
  const { cli: settings, type = 'claude-code', ...rest } = options;
  return startGatewayFor(t, {
    providers: [agentCliProvider('claude', { type, ...settings }, { models: ['fake-large'] })],
    agentCliDrivers: new Map([[type, cli.factory]]),
    ...rest,
  });
}

const jsonSchema = { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }, strict: true } };

test('tuning knobs are dropped by default, named in x-switchyard-dropped as the caller spells them, and never reach the driver', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const reply = await chat(gateway, 'fake-large', { temperature: 0.2, top_p: 0.9, seed: 7, presence_penalty: 0.5, frequency_penalty: 0.1, max_tokens: 50, reasoning_effort: 'high' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-dropped'), 'temperature,top_p,seed,presence_penalty,frequency_penalty,max_tokens,reasoning_effort');
  const request = cli.turns[0]!.turn.request;
  assert.deepEqual(request.sampling, {});
  assert.equal(request.reasoning?.effort, undefined);

  // the same knobs by their Gemini and Anthropic names
  const gemini = await post(gateway, '/v1beta/models/fake-large:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 0.3, topK: 5, maxOutputTokens: 40 } });
  assert.equal(gemini.status, 200);
  assert.equal(gemini.headers.get('x-switchyard-dropped'), 'generationConfig.temperature,generationConfig.topK,generationConfig.maxOutputTokens');
  const anthropic = await post(gateway, '/v1/messages', { model: 'fake-large', max_tokens: 64, temperature: 1, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'hi' }] }, ANTHROPIC);
  assert.equal(anthropic.status, 200);
  assert.equal(anthropic.headers.get('x-switchyard-dropped'), 'temperature,max_tokens,thinking.budget_tokens');
  assert.equal(cli.turns[2]!.turn.request.reasoning?.budgetTokens, undefined);
});

test('a request with no parameter to decide has no x-switchyard-dropped header and reaches the driver as it was', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);
  const reply = await chat(gateway, 'fake-large');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-dropped'), null);
});

test('what changes the contract of the answer is refused by default: a 400 in the OpenAI, Anthropic and Gemini dialects naming the parameter and the provider, before any turn runs', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli);

  const openai = await chat(gateway, 'fake-large', { response_format: jsonSchema, temperature: 0.1 });
  assert.equal(openai.status, 400);
  const error = openai.json().error;
  assert.equal(error.param, 'response_format');
  assert.equal(error.type, 'invalid_request_error');
  assert.match(error.message, /Provider 'claude' \(agent CLI claude-code\) cannot carry 'response_format' to its model/);
  assert.match(error.message, /unsupported_params: drop/);

  for (const [field, value] of [['stop', ['END']], ['n', 2], ['logprobs', true], ['response_format', { type: 'json_object' }]] as const) {
    const reply = await chat(gateway, 'fake-large', { [field]: value });
    assert.equal(reply.status, 400, field);
    assert.equal(reply.json().error.param, field);
    assert.match(reply.json().error.message, new RegExp(`cannot carry '${field}'`));
  }

  const anthropic = await post(gateway, '/v1/messages', { model: 'fake-large', max_tokens: 64, stop_sequences: ['END'], messages: [{ role: 'user', content: 'hi' }] }, ANTHROPIC);
  assert.equal(anthropic.status, 400);
  assert.equal(anthropic.json().type, 'error');
  assert.equal(anthropic.json().error.type, 'invalid_request_error');
  assert.match(anthropic.json().error.message, /Provider 'claude' \(agent CLI claude-code\) cannot carry 'stop_sequences'/);

  const gemini = await post(gateway, '/v1beta/models/fake-large:generateContent', {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } },
  });
  assert.equal(gemini.status, 400);
  assert.equal(gemini.json().error.status, 'INVALID_ARGUMENT');
  assert.match(gemini.json().error.message, /cannot carry 'generationConfig.responseSchema'/);

  const responses = await post(gateway, '/v1/responses', { model: 'fake-large', input: 'hi', text: { format: { type: 'json_object' } } });
  assert.equal(responses.status, 400);
  assert.match(responses.json().error.message, /cannot carry 'text.format'/);

  assert.equal(cli.turns.length, 0, 'no turn ran');
});

test('unsupported_params: drop on the provider sends the request without them, each named', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, { cli: { unsupportedParams: 'drop' } });
  const reply = await chat(gateway, 'fake-large', { response_format: jsonSchema, stop: ['END'], n: 2, temperature: 0 });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-dropped'), 'temperature,stop,response_format,n');
  const request = cli.turns[0]!.turn.request;
  assert.equal(request.responseFormat, undefined);
  assert.deepEqual(request.sampling, {});
  assert.deepEqual(request.passThrough?.fields ?? {}, {});
  const anthropic = await post(gateway, '/v1/messages?beta=true', { model: 'fake-large', max_tokens: 64, stop_sequences: ['END'], messages: [{ role: 'user', content: 'hi' }], stream: true }, ANTHROPIC);
  assert.equal(anthropic.status, 200);
  assert.equal(anthropic.headers.get('x-switchyard-dropped'), 'max_tokens,stop_sequences');
});

test('unsupported_params: reject on the provider refuses the tuning knobs too', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, { cli: { unsupportedParams: 'reject' } });
  const reply = await chat(gateway, 'fake-large', { temperature: 0.2 });
  assert.equal(reply.status, 400);
  assert.equal(reply.json().error.param, 'temperature');
  assert.match(reply.json().error.message, /whose unsupported_params policy is reject/);
  assert.equal((await chat(gateway, 'fake-large')).status, 200, 'a request without parameters still runs');
});

test("an alias's unsupported_params wins over its targets' providers", async (t) => {
  const cli = new FakeAgentCli();
  const models: AliasConfig[] = [
    { name: 'lenient', targets: [{ provider: 'claude', model: 'fake-large', weight: 1 }], strategy: 'round-robin', fallbacks: [], retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 }, affinity: 'none', unsupportedParams: 'drop' },
    { name: 'strict', targets: [{ provider: 'claude', model: 'fake-large', weight: 1 }], strategy: 'round-robin', fallbacks: [], retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 }, affinity: 'none', unsupportedParams: 'reject' },
  ];
  const gateway = await cliGateway(t, cli, { models });
  const lenient = await chat(gateway, 'lenient', { stop: 'END' });
  assert.equal(lenient.status, 200);
  assert.equal(lenient.headers.get('x-switchyard-dropped'), 'stop');
  const strict = await chat(gateway, 'strict', { seed: 1 });
  assert.equal(strict.status, 400);
  assert.equal(strict.json().error.param, 'seed');
});

test('a request refused by the CLI provider goes to another target of its route that can take it', async (t) => {
  const { api } = await startMocks(t, { api: {} });
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] }), openaiProvider('api', api)],
    models: [{ name: 'smart', strategy: 'fill-first', targets: [{ provider: 'claude', model: 'fake-large', weight: 1 }, { provider: 'api', model: 'gpt-4o', weight: 1 }], fallbacks: [], retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 }, affinity: 'none' }],
  });
  const reply = await chat(gateway, 'smart', { response_format: { type: 'json_object' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-provider'), 'api');
  assert.equal(cli.turns.length, 0);
});

test('what the CLI carries reaches the driver untouched and is not reported (Codex: effort, a JSON schema)', async (t) => {
  const cli = new FakeAgentCli();
  const gateway = await cliGateway(t, cli, { type: 'codex' });
  const reply = await chat(gateway, 'fake-large', { response_format: jsonSchema, reasoning_effort: 'low', temperature: 0.5 });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-switchyard-dropped'), 'temperature');
  const request = cli.turns[0]!.turn.request;
  assert.equal(request.reasoning?.effort, 'low');
  assert.equal(request.responseFormat?.type, 'json-schema');
  // a JSON object without a schema is not what Codex's outputSchema takes
  const json = await chat(gateway, 'fake-large', { response_format: { type: 'json_object' } });
  assert.equal(json.status, 400);
  assert.match(json.json().error.message, /agent CLI codex\) cannot carry 'response_format'/);
});
