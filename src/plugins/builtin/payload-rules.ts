// Built-in plugin `payload-rules` (issue #18): per model name or glob, parameters set when absent
// (`defaults`), forced (`overrides`), bounded (`caps`), and a system prompt to add — as
// CLIProxyAPI's and switchAILocal's payload rules. Everything is compiled at setup: a request pays
// one pattern test per rule and a handful of property writes per matching rule.
import { Type, type Static } from '@sinclair/typebox';
import type { CanonicalRequest, Message, PluginDefinition, PluginInstance } from '../api.ts';
import type { ReasoningEffort } from '../../canonical/request.ts';
import { compileGlob, isGlob } from '../../util/glob.ts';

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const satisfies readonly ReasoningEffort[];
const POSITIONS = ['prepend', 'append', 'replace'] as const;

function effortSchema(description: string) {
  return Type.Union(EFFORTS.map((effort) => Type.Literal(effort)), { description });
}

/** The parameters a rule may set or force, in OpenAI's snake_case. */
const parameterProperties = {
  temperature: Type.Optional(Type.Number({ minimum: 0, description: 'Sampling temperature.' })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling: the probability mass the next token is drawn from.' })),
  top_k: Type.Optional(Type.Integer({ minimum: 1, description: 'Sample from the k most likely tokens (providers without it ignore or refuse it).' })),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Most tokens the answer may have.' })),
  seed: Type.Optional(Type.Integer({ description: 'Seed for reproducible sampling, where the provider supports it.' })),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Stop sequence(s).' })),
  presence_penalty: Type.Optional(Type.Number({ description: 'Penalty for tokens already present in the text.' })),
  frequency_penalty: Type.Optional(Type.Number({ description: 'Penalty by how often a token already appeared.' })),
  reasoning_effort: Type.Optional(effortSchema('Reasoning effort: `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.')),
};
const ParametersSchema = Type.Object(parameterProperties, { additionalProperties: false });

/** Upper bounds: only the parameters that are ordered. */
const CapsSchema = Type.Object({
  temperature: Type.Optional(Type.Number({ minimum: 0, description: 'Highest temperature: a larger one is lowered to it.' })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Highest top_p: a larger one is lowered to it.' })),
  top_k: Type.Optional(Type.Integer({ minimum: 1, description: 'Highest top_k: a larger one is lowered to it.' })),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Highest max_tokens: a larger one is lowered to it, and a request without max_tokens gets this one (an absent limit means the model\'s own maximum, which a cap is there to bound).' })),
  presence_penalty: Type.Optional(Type.Number({ description: 'Highest presence_penalty: a larger one is lowered to it.' })),
  frequency_penalty: Type.Optional(Type.Number({ description: 'Highest frequency_penalty: a larger one is lowered to it.' })),
  reasoning_effort: Type.Optional(effortSchema('Highest reasoning effort, in the order none < minimal < low < medium < high < xhigh: a higher one is lowered to it.')),
}, { additionalProperties: false, description: 'Upper bounds: a larger value is lowered to the cap; an absent value stays absent, except `max_tokens`, which is set to its cap.' });

const RuleSchema = Type.Object({
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Model names the rule applies to, matched against the model the request names (`gpt-4o`, or a glob: `gpt-*`, `claude-?-*`). Absent = every model.' })),
  defaults: Type.Optional(Type.Object(parameterProperties, { additionalProperties: false, description: 'Parameters set when the request does not carry them.' })),
  overrides: Type.Optional(Type.Object(parameterProperties, { additionalProperties: false, description: 'Parameters forced, whatever the request says.' })),
  caps: Type.Optional(CapsSchema),
  system_prompt: Type.Optional(Type.Object({
    text: Type.String({ minLength: 1, description: 'The system prompt text.' }),
    position: Type.Optional(Type.Union(POSITIONS.map((position) => Type.Literal(position)), { default: 'prepend', description: '`prepend`: a system message before the request\'s own; `append`: after its leading system messages; `replace`: instead of every system message of the request.' })),
  }, { additionalProperties: false, description: 'A system prompt to add to the request.' })),
}, { additionalProperties: false, description: 'One rule. Within a rule: defaults, then overrides, then caps, then the system prompt.' });

export const PayloadRulesConfigSchema = Type.Object({
  rules: Type.Array(RuleSchema, { description: 'The rules, applied in order; every rule whose `models` match applies (a later rule wins where two set the same parameter).' }),
}, { additionalProperties: false, description: 'Per model name or glob: parameters set when absent, forced, capped, and a system prompt to add.' });

export type PayloadRulesConfig = Static<typeof PayloadRulesConfigSchema>;
type Parameters = Static<typeof ParametersSchema>;
type Caps = Static<typeof CapsSchema>;
type ParameterName = keyof Parameters;
type ParameterValue = Parameters[ParameterName];

/** Reads and writes one parameter on the canonical request. */
interface Accessor {
  get(request: CanonicalRequest): unknown;
  set(request: CanonicalRequest, value: ParameterValue): void;
}

// Spelled out rather than generated so each mapping reads at a glance.
const ACCESSORS: Readonly<Record<ParameterName, Accessor>> = {
  temperature: { get: (request) => request.sampling.temperature, set: (request, value) => { request.sampling.temperature = value as number; } },
  top_p: { get: (request) => request.sampling.topP, set: (request, value) => { request.sampling.topP = value as number; } },
  top_k: { get: (request) => request.sampling.topK, set: (request, value) => { request.sampling.topK = value as number; } },
  max_tokens: { get: (request) => request.sampling.maxTokens, set: (request, value) => { request.sampling.maxTokens = value as number; } },
  seed: { get: (request) => request.sampling.seed, set: (request, value) => { request.sampling.seed = value as number; } },
  stop: {
    get: (request) => request.sampling.stop,
    set: (request, value) => { request.sampling.stop = typeof value === 'string' ? [value] : [...(value as string[])]; },
  },
  presence_penalty: { get: (request) => request.sampling.presencePenalty, set: (request, value) => { request.sampling.presencePenalty = value as number; } },
  frequency_penalty: { get: (request) => request.sampling.frequencyPenalty, set: (request, value) => { request.sampling.frequencyPenalty = value as number; } },
  reasoning_effort: {
    get: (request) => request.reasoning?.effort,
    set: (request, value) => {
      if (request.reasoning === undefined) request.reasoning = { effort: value as ReasoningEffort };
      else request.reasoning.effort = value as ReasoningEffort;
    },
  },
};

interface Assignment { accessor: Accessor; value: ParameterValue }
interface Cap { accessor: Accessor; limit: number; setWhenAbsent: boolean }
interface EffortCap { limit: ReasoningEffort }

/** A rule as a request runs it: a model test and lists of writes, nothing left to interpret. */
class CompiledRule {
  readonly names: ReadonlySet<string>;
  readonly pattern: RegExp | undefined;
  readonly matchesAll: boolean;
  readonly defaults: readonly Assignment[];
  readonly overrides: readonly Assignment[];
  readonly caps: readonly Cap[];
  readonly effortCap: EffortCap | undefined;
  readonly systemText: string | undefined;
  readonly systemPosition: (typeof POSITIONS)[number];

  constructor(rule: Static<typeof RuleSchema>) {
    const models = rule.models ?? [];
    this.matchesAll = rule.models === undefined;
    this.names = new Set(models.filter((model) => !isGlob(model)));
    const globs = models.filter(isGlob).map((model) => compileGlob(model).source);
    this.pattern = globs.length === 0 ? undefined : new RegExp(globs.join('|'));
    this.defaults = assignments(rule.defaults);
    this.overrides = assignments(rule.overrides);
    this.caps = caps(rule.caps);
    this.effortCap = rule.caps?.reasoning_effort === undefined ? undefined : { limit: rule.caps.reasoning_effort };
    this.systemText = rule.system_prompt?.text;
    this.systemPosition = rule.system_prompt?.position ?? 'prepend';
  }

  matches(model: string): boolean {
    return this.matchesAll || this.names.has(model) || (this.pattern !== undefined && this.pattern.test(model));
  }

  apply(request: CanonicalRequest): void {
    for (const { accessor, value } of this.defaults) if (accessor.get(request) === undefined) accessor.set(request, value);
    for (const { accessor, value } of this.overrides) accessor.set(request, value);
    for (const { accessor, limit, setWhenAbsent } of this.caps) {
      const current = accessor.get(request);
      if (typeof current === 'number' ? current > limit : current === undefined && setWhenAbsent) accessor.set(request, limit);
    }
    if (this.effortCap !== undefined) {
      const current = request.reasoning?.effort;
      if (current !== undefined && EFFORTS.indexOf(current) > EFFORTS.indexOf(this.effortCap.limit)) request.reasoning!.effort = this.effortCap.limit;
    }
    if (this.systemText !== undefined) addSystemPrompt(request.messages, this.systemText, this.systemPosition);
  }
}

function assignments(parameters: Parameters | undefined): Assignment[] {
  if (parameters === undefined) return [];
  return (Object.keys(parameters) as ParameterName[])
    .filter((name) => parameters[name] !== undefined)
    .map((name) => ({ accessor: ACCESSORS[name], value: parameters[name] }));
}

function caps(limits: Caps | undefined): Cap[] {
  if (limits === undefined) return [];
  const list: Cap[] = [];
  for (const name of Object.keys(limits) as (keyof Caps)[]) {
    const limit = limits[name];
    if (name === 'reasoning_effort' || typeof limit !== 'number') continue;
    list.push({ accessor: ACCESSORS[name], limit, setWhenAbsent: name === 'max_tokens' });
  }
  return list;
}

/**
 * Adds the system prompt as a message of its own, so the request's own system parts (and their
 * cache markers) stay as they were; every provider joins several system messages into its one
 * system prompt.
 */
function addSystemPrompt(messages: Message[], text: string, position: (typeof POSITIONS)[number]): void {
  const message: Message = { role: 'system', content: [{ type: 'text', text }] };
  if (position === 'prepend') {
    messages.unshift(message);
    return;
  }
  if (position === 'replace') {
    let kept = 0;
    for (const candidate of messages) if (candidate.role !== 'system') messages[kept++] = candidate;
    messages.length = kept;
    messages.unshift(message);
    return;
  }
  let leading = 0;
  while (leading < messages.length && messages[leading]!.role === 'system') leading++;
  messages.splice(leading, 0, message);
}

export const payloadRules: PluginDefinition<PayloadRulesConfig> = {
  name: 'payload-rules',
  configSchema: PayloadRulesConfigSchema,
  setup(config): PluginInstance<PayloadRulesConfig> {
    const rules = config.rules.map((rule) => new CompiledRule(rule));
    return {
      onRequest(_ctx, request) {
        for (const rule of rules) if (rule.matches(request.model)) rule.apply(request);
      },
    };
  },
};
