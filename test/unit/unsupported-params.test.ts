// The `unsupported_params` policy per agent-CLI type (src/pipeline/unsupported-params.ts and the
// table of what each CLI carries, src/agent-clis/parameters.ts): carried parameters pass, tuning
// knobs are dropped by default, contract-changing ones refused; `drop` / `reject` (the provider's,
// or the route's over it) decide for all; names are the caller's; the config key is agent-CLI only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CARRIED_PARAMETERS, REQUEST_PARAMETERS, type RequestParameter } from '../../src/agent-clis/parameters.ts';
import { AGENT_CLI_TYPES } from '../../src/config/defaults.ts';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';
import { GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { callerName, ParameterPolicy, requestedParameters } from '../../src/pipeline/unsupported-params.ts';

const base = (): CanonicalRequest => ({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling: {}, stream: false });

/** A request that sets exactly `parameter`. */
function setting(parameter: RequestParameter): CanonicalRequest {
  const request = base();
  switch (parameter) {
    case 'temperature': request.sampling.temperature = 0.5; break;
    case 'top_p': request.sampling.topP = 0.9; break;
    case 'top_k': request.sampling.topK = 40; break;
    case 'seed': request.sampling.seed = 1; break;
    case 'presence_penalty': request.sampling.presencePenalty = 0.1; break;
    case 'frequency_penalty': request.sampling.frequencyPenalty = 0.1; break;
    case 'max_tokens': request.sampling.maxTokens = 100; break;
    case 'stop': request.sampling.stop = ['END']; break;
    case 'reasoning_effort': request.reasoning = { effort: 'high' }; break;
    case 'reasoning_budget': request.reasoning = { budgetTokens: 1024 }; break;
    case 'json_object': request.responseFormat = { type: 'json' }; break;
    case 'json_schema': request.responseFormat = { type: 'json-schema', name: 'x', schema: { type: 'object' } }; break;
    case 'tool_choice': request.toolChoice = { type: 'required' }; break;
  }
  return request;
}

const CONTRACT = new Set<RequestParameter>(['stop', 'json_object', 'json_schema', 'tool_choice']);

type Outcome = 'carried' | 'dropped' | 'refused';

function outcome(policy: ParameterPolicy, request: CanonicalRequest, route?: 'drop' | 'reject'): Outcome {
  try {
    const result = policy.apply(request, 'openai-chat', route);
    return result === undefined ? 'carried' : 'dropped';
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    return 'refused';
  }
}

for (const type of AGENT_CLI_TYPES) {
  test(`${type}: every parameter is carried, dropped or refused as its kind and the CLI's table say`, () => {
    const carried = CARRIED_PARAMETERS[type];
    const byKind = new ParameterPolicy('p', type, carried, undefined);
    const drop = new ParameterPolicy('p', type, carried, 'drop');
    const reject = new ParameterPolicy('p', type, carried, 'reject');
    for (const parameter of REQUEST_PARAMETERS) {
      const request = setting(parameter);
      assert.deepEqual(requestedParameters(request), [parameter]);
      if (carried.has(parameter)) {
        for (const policy of [byKind, drop, reject]) assert.equal(outcome(policy, request), 'carried', `${type} ${parameter}`);
        continue;
      }
      assert.equal(outcome(byKind, request), CONTRACT.has(parameter) ? 'refused' : 'dropped', `${type} ${parameter} by kind`);
      assert.equal(outcome(drop, request), 'dropped', `${type} ${parameter} drop`);
      assert.equal(outcome(reject, request), 'refused', `${type} ${parameter} reject`);
      // the route's setting wins over the provider's
      assert.equal(outcome(reject, request, 'drop'), 'dropped', `${type} ${parameter} route drop`);
      assert.equal(outcome(drop, request, 'reject'), 'refused', `${type} ${parameter} route reject`);
    }
  });
}

test('what each CLI carries (verified against the real CLIs): Codex effort and JSON schema, nothing else yet', () => {
  assert.deepEqual([...CARRIED_PARAMETERS.codex].sort(), ['json_schema', 'reasoning_effort']);
  assert.deepEqual([...CARRIED_PARAMETERS['claude-code']], []);
  assert.deepEqual([...CARRIED_PARAMETERS['gemini-cli']], []);
  assert.deepEqual([...CARRIED_PARAMETERS.opencode], []);
});

test('a request with nothing to decide comes back untouched (no copy)', () => {
  const policy = new ParameterPolicy('p', 'claude-code', CARRIED_PARAMETERS['claude-code'], 'reject');
  assert.equal(policy.apply(base(), 'openai-chat', undefined), undefined);
  const choice = base();
  choice.toolChoice = { type: 'auto' };
  choice.responseFormat = { type: 'text' };
  assert.equal(policy.apply(choice, 'openai-chat', undefined), undefined, "tool_choice auto and a text format are what a CLI does anyway");
});

test('dropped parameters are removed from the request the driver gets; the rest stays, and the original is not changed', () => {
  const policy = new ParameterPolicy('p', 'codex', CARRIED_PARAMETERS.codex, undefined);
  const request = base();
  request.sampling = { temperature: 0.3, maxTokens: 10 };
  request.reasoning = { effort: 'low', budgetTokens: 500, includeThoughts: true };
  const result = policy.apply(request, 'anthropic-messages', undefined)!;
  assert.deepEqual(result.dropped, ['temperature', 'max_tokens', 'thinking.budget_tokens']);
  assert.deepEqual(result.request.sampling, {});
  assert.deepEqual(result.request.reasoning, { effort: 'low', includeThoughts: true });
  assert.deepEqual(request.sampling, { temperature: 0.3, maxTokens: 10 });
});

test('fields no surface models (n, logprobs …) are refused unless the policy is drop, then dropped and named', () => {
  const request = base();
  request.passThrough = { dialect: 'openai', fields: { n: 2, logprobs: true } };
  const byKind = new ParameterPolicy('cli', 'opencode', CARRIED_PARAMETERS.opencode, undefined);
  assert.throws(() => byKind.apply(request, 'openai-chat', undefined), (error: GatewayError) => {
    assert.equal(error.param, 'n');
    assert.match(error.message, /Provider 'cli' \(agent CLI opencode\) cannot carry 'n', 'logprobs' to its model, and they change what the answer must be/);
    return true;
  });
  const result = byKind.apply(request, 'openai-chat', 'drop')!;
  assert.deepEqual(result.dropped, ['n', 'logprobs']);
  assert.deepEqual(result.request.passThrough?.fields, {});
});

test("names are the caller's own, per dialect", () => {
  assert.equal(callerName('max_tokens', 'openai-chat'), 'max_tokens');
  assert.equal(callerName('max_tokens', 'openai-responses'), 'max_output_tokens');
  assert.equal(callerName('max_tokens', 'gemini-generate'), 'generationConfig.maxOutputTokens');
  assert.equal(callerName('max_tokens', 'ollama-chat'), 'options.num_predict');
  assert.equal(callerName('stop', 'anthropic-messages'), 'stop_sequences');
  assert.equal(callerName('json_schema', 'openai-responses'), 'text.format');
  assert.equal(callerName('json_object', 'ollama-generate'), 'format');
});

test('config: unsupported_params on an agent CLI and an alias; refused on an HTTP provider', () => {
  const { config } = parseConfigText(`
providers:
  - { name: codex, type: codex, unsupported_params: reject }
  - { name: claude, type: claude-code }
models:
  - { name: loose, targets: [{ provider: codex, model: gpt-5 }], unsupported_params: drop }
`, 'switchyard.yaml', {});
  assert.equal(config.providers[0]!.agentCli!.unsupportedParams, 'reject');
  assert.equal(config.providers[1]!.agentCli!.unsupportedParams, undefined, 'not set: by kind');
  assert.equal(config.models[0]!.unsupportedParams, 'drop');
  assert.throws(() => parseConfigText(`
providers:
  - { name: api, type: openai, api_key: sk-x, unsupported_params: drop }
`, 'switchyard.yaml', {}), (error: ConfigError) => {
    assert.ok(error.problems.some((problem) => /unsupported_params/.test(String(problem.path)) && /agent CLIs only/.test(problem.message)));
    return true;
  });
  assert.throws(() => parseConfigText(`
providers:
  - { name: codex, type: codex, unsupported_params: ignore }
`, 'switchyard.yaml', {}), ConfigError);
});
