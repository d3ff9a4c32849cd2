// The `unsupported_params` policy of an agent-CLI provider: the request parameters its CLI cannot
// carry to the model (src/agent-clis/parameters.ts says which it can) are dropped — the turn goes
// on without them and the answer says so (`x-switchyard-dropped`, the access log's `dropped`, as
// the `unsupported_tools` policy does for hosted tools) — or refused with a 400 naming them and the
// provider (another target of the route may take the request).
//
// Not set, each parameter goes by its kind: a knob that only tunes the answer (temperature, a
// penalty, an effort level, the longest answer) is dropped; one that changes what the answer must
// be (stop sequences, JSON as the answer, a forced tool, fields the gateway does not model such as
// `n` or `logprobs`) is refused, so that nobody gets a different kind of answer than asked for
// without being told. `max_tokens` tunes: Anthropic's Messages API requires it on every request,
// and a CLI's answer is bounded by the CLI's own limit.
//
// Compiled once per provider and config snapshot; a request that sets none of these pays a few
// property checks.
import { invalidRequest } from '../canonical/errors.ts';
import type { CanonicalRequest, SamplingSettings } from '../canonical/request.ts';
import type { UnsupportedParams } from '../config/types.ts';
import { REQUEST_PARAMETERS, type RequestParameter } from '../agent-clis/parameters.ts';

/** Parameters that change what the answer must be: refused unless the policy says `drop`. */
const CONTRACT: ReadonlySet<RequestParameter> = new Set(['stop', 'json_object', 'json_schema', 'tool_choice']);

const DROP = 0;
const REJECT = 1;
const CARRY = 2;
type Decision = typeof DROP | typeof REJECT | typeof CARRY;

const OLLAMA_NAMES: Partial<Record<RequestParameter, string>> = {
  temperature: 'options.temperature', top_p: 'options.top_p', top_k: 'options.top_k', seed: 'options.seed', presence_penalty: 'options.presence_penalty',
  frequency_penalty: 'options.frequency_penalty', max_tokens: 'options.num_predict', stop: 'options.stop', reasoning_effort: 'think', reasoning_budget: 'think',
  json_object: 'format', json_schema: 'format',
};

/** The caller's own name for a parameter, per inbound wire (the default is the parameter's). */
const CALLER_NAMES: Readonly<Record<string, Partial<Record<RequestParameter, string>>>> = {
  'openai-chat': { reasoning_budget: 'reasoning.max_tokens', json_object: 'response_format', json_schema: 'response_format' },
  'openai-completions': {},
  'openai-responses': { max_tokens: 'max_output_tokens', reasoning_effort: 'reasoning.effort', json_object: 'text.format', json_schema: 'text.format' },
  'anthropic-messages': { stop: 'stop_sequences', reasoning_effort: 'output_config.effort', reasoning_budget: 'thinking.budget_tokens', json_schema: 'output_config.format' },
  'gemini-generate': {
    temperature: 'generationConfig.temperature', top_p: 'generationConfig.topP', top_k: 'generationConfig.topK', seed: 'generationConfig.seed',
    presence_penalty: 'generationConfig.presencePenalty', frequency_penalty: 'generationConfig.frequencyPenalty', max_tokens: 'generationConfig.maxOutputTokens',
    stop: 'generationConfig.stopSequences', reasoning_effort: 'generationConfig.thinkingConfig.thinkingLevel', reasoning_budget: 'generationConfig.thinkingConfig.thinkingBudget',
    json_object: 'generationConfig.responseMimeType', json_schema: 'generationConfig.responseSchema', tool_choice: 'toolConfig',
  },
  'ollama-chat': OLLAMA_NAMES,
  'ollama-generate': OLLAMA_NAMES,
};

/** The name `x-switchyard-dropped` and a refusal use for `parameter`, as the caller's dialect spells it. */
export function callerName(parameter: RequestParameter, wire: string): string {
  return CALLER_NAMES[wire]?.[parameter] ?? parameter;
}

/** The parameters `request` sets, in REQUEST_PARAMETERS order. */
export function requestedParameters(request: CanonicalRequest): RequestParameter[] {
  const found: RequestParameter[] = [];
  const sampling = request.sampling;
  if (sampling.temperature !== undefined) found.push('temperature');
  if (sampling.topP !== undefined) found.push('top_p');
  if (sampling.topK !== undefined) found.push('top_k');
  if (sampling.seed !== undefined) found.push('seed');
  if (sampling.presencePenalty !== undefined) found.push('presence_penalty');
  if (sampling.frequencyPenalty !== undefined) found.push('frequency_penalty');
  if (sampling.maxTokens !== undefined) found.push('max_tokens');
  if (sampling.stop !== undefined && sampling.stop.length > 0) found.push('stop');
  const reasoning = request.reasoning;
  if (reasoning?.effort !== undefined) found.push('reasoning_effort');
  if (reasoning?.budgetTokens !== undefined) found.push('reasoning_budget');
  const format = request.responseFormat?.type;
  if (format === 'json') found.push('json_object');
  else if (format === 'json-schema') found.push('json_schema');
  const choice = request.toolChoice?.type;
  if (choice === 'required' || choice === 'tool') found.push('tool_choice');
  return found;
}

/** What the policy made of a request: the request the driver gets, and what was left out (caller's names). */
export interface ParameterOutcome {
  request: CanonicalRequest;
  dropped: string[];
}

/** One agent-CLI provider's policy, compiled at config load. */
export class ParameterPolicy {
  private readonly provider: string;
  private readonly label: string;
  private readonly carried: ReadonlySet<RequestParameter>;
  private readonly setting: UnsupportedParams | undefined;
  /** The decision per parameter under the provider's own setting (the route may override it). */
  private readonly decisions: ReadonlyMap<RequestParameter, Decision>;

  constructor(provider: string, label: string, carried: ReadonlySet<RequestParameter>, setting: UnsupportedParams | undefined) {
    this.provider = provider;
    this.label = label;
    this.carried = carried;
    this.setting = setting;
    const decisions = new Map<RequestParameter, Decision>();
    for (const parameter of REQUEST_PARAMETERS) decisions.set(parameter, this.decide(parameter, setting));
    this.decisions = decisions;
  }

  /** What happens to `parameter` under `setting`: carried, dropped or refused. */
  decide(parameter: RequestParameter, setting: UnsupportedParams | undefined): Decision {
    if (this.carried.has(parameter)) return CARRY;
    if (setting !== undefined) return setting === 'drop' ? DROP : REJECT;
    return CONTRACT.has(parameter) ? REJECT : DROP;
  }

  /**
   * The request without what is dropped, and the caller's names of what was; throws the 400 when
   * anything is refused. `routeSetting`: the alias's `unsupported_params`, over the provider's.
   * A request with nothing to decide comes back as it was, with nothing allocated.
   */
  apply(request: CanonicalRequest, wire: string, routeSetting: UnsupportedParams | undefined): ParameterOutcome | undefined {
    if (setsNothing(request)) return undefined;
    const requested = requestedParameters(request);
    const unmodelled = request.passThrough === undefined ? undefined : Object.keys(request.passThrough.fields);
    if (requested.length === 0 && (unmodelled === undefined || unmodelled.length === 0)) return undefined;
    const setting = routeSetting ?? this.setting;
    const dropped: RequestParameter[] = [];
    const refused: string[] = [];
    for (const parameter of requested) {
      const decision = routeSetting === undefined ? this.decisions.get(parameter)! : this.decide(parameter, routeSetting);
      if (decision === DROP) dropped.push(parameter);
      else if (decision === REJECT) refused.push(callerName(parameter, wire));
    }
    // fields no surface models change the answer in ways no CLI can carry: refused unless `drop`
    const dropUnmodelled = setting === 'drop';
    if (unmodelled !== undefined && !dropUnmodelled) refused.push(...unmodelled);
    if (refused.length > 0) throw this.refusal(refused, setting);
    const names = dropped.map((parameter) => callerName(parameter, wire));
    if (unmodelled !== undefined && unmodelled.length > 0) names.push(...unmodelled);
    if (names.length === 0) return undefined;
    return { request: without(request, dropped, unmodelled !== undefined && unmodelled.length > 0), dropped: unique(names) };
  }

  private refusal(names: readonly string[], setting: UnsupportedParams | undefined) {
    const shown = unique(names);
    const one = shown.length === 1;
    const why = setting === 'reject'
      ? 'whose unsupported_params policy is reject'
      : `and ${one ? 'it changes' : 'they change'} what the answer must be, so ${one ? 'it is' : 'they are'} refused rather than silently ignored`;
    return invalidRequest(
      `Provider '${this.provider}' (agent CLI ${this.label}) cannot carry ${shown.map((name) => `'${name}'`).join(', ')} to its model, ${why}. Remove ${one ? 'it' : 'them'}, route the request to an API provider, or set unsupported_params: drop on the provider (or the alias) to send it without ${one ? 'it' : 'them'} (named in x-switchyard-dropped). See docs/agent-clis.md#request-parameters.`,
      shown[0],
    );
  }
}

const SAMPLING_KEYS: Partial<Record<RequestParameter, keyof SamplingSettings>> = {
  temperature: 'temperature', top_p: 'topP', top_k: 'topK', seed: 'seed', presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty', max_tokens: 'maxTokens', stop: 'stop',
};

/** `request` without the dropped parameters: dropped means not asked for, so the driver never sees them. */
function without(request: CanonicalRequest, dropped: readonly RequestParameter[], dropUnmodelled: boolean): CanonicalRequest {
  const copy: CanonicalRequest = { ...request, sampling: { ...request.sampling } };
  for (const parameter of dropped) {
    const key = SAMPLING_KEYS[parameter];
    if (key !== undefined) delete copy.sampling[key];
    else if (parameter === 'reasoning_effort') {
      const { effort: _effort, ...rest } = copy.reasoning ?? {};
      copy.reasoning = rest;
    } else if (parameter === 'reasoning_budget') {
      const { budgetTokens: _budget, ...rest } = copy.reasoning ?? {};
      copy.reasoning = rest;
    } else if (parameter === 'json_object' || parameter === 'json_schema') delete copy.responseFormat;
    else if (parameter === 'tool_choice') delete copy.toolChoice;
  }
  if (dropUnmodelled && copy.passThrough !== undefined) copy.passThrough = { ...copy.passThrough, fields: {} };
  return copy;
}

/** The common case, checked without allocating: no parameter, no unmodelled field. */
function setsNothing(request: CanonicalRequest): boolean {
  if (request.reasoning !== undefined || request.responseFormat !== undefined || request.toolChoice !== undefined || request.passThrough !== undefined) return false;
  for (const _key in request.sampling) return false;
  return true;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
