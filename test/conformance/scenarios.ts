// The conformance scenarios: each is one row of the translation matrix (docs/translation.md),
// described once, dialect-neutral. Upstream dialects answer them; client dialects ask them.
import type { Scenario } from './types.ts';

// a 1×1 red PNG
export const RED_DOT_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};
const timeTool = {
  name: 'get_time',
  description: 'Local time in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

export const scenarios: readonly Scenario[] = [
  {
    name: 'text',
    input: { system: 'You are terse.', messages: [{ role: 'user', text: 'Say hello.' }], maxTokens: 64, temperature: 0.2, topP: 0.9, stop: ['END'] },
    answer: { text: 'Hello there! ✓', finish: 'stop', usage: { input: 21, output: 4, cached: 8 } },
  },
  {
    name: 'multi-turn',
    input: {
      system: 'Be funny.',
      messages: [{ role: 'user', text: 'Hi' }, { role: 'assistant', text: 'Hello!' }, { role: 'user', text: 'Tell me a joke.' }],
    },
    answer: { text: 'Why did the gateway cross the road? Low latency.', finish: 'stop', usage: { input: 30, output: 11 } },
  },
  {
    name: 'image',
    input: { messages: [{ role: 'user', text: 'What is in this image?', image: { mediaType: 'image/png', base64: RED_DOT_PNG } }] },
    answer: { text: 'A red dot.', finish: 'stop', usage: { input: 90, output: 4 } },
  },
  {
    name: 'tool-call',
    input: { messages: [{ role: 'user', text: 'Weather in Paris?' }], tools: [weatherTool], toolChoice: 'auto' },
    answer: { toolCalls: [{ id: 'call_weather_1', name: 'get_weather', args: { city: 'Paris' } }], finish: 'tool-calls', usage: { input: 50, output: 12 } },
  },
  {
    name: 'parallel-tools',
    input: { messages: [{ role: 'user', text: 'Weather in Paris and time in Tokyo?' }], tools: [weatherTool, timeTool], toolChoice: 'required' },
    answer: {
      text: 'Checking both.',
      toolCalls: [
        { id: 'call_weather_2', name: 'get_weather', args: { city: 'Paris' } },
        { id: 'call_time_3', name: 'get_time', args: { city: 'Tokyo' } },
      ],
      finish: 'tool-calls',
      usage: { input: 70, output: 30 },
    },
  },
  {
    name: 'tool-result',
    input: {
      tools: [weatherTool],
      toolChoice: { name: 'get_weather' },
      messages: [
        { role: 'user', text: 'Weather in Paris and Oslo?' },
        { role: 'assistant', toolCalls: [{ id: 'call_a', name: 'get_weather', args: { city: 'Paris' } }, { id: 'call_b', name: 'get_weather', args: { city: 'Oslo' } }] },
        { role: 'tool', toolCallId: 'call_a', name: 'get_weather', result: '18°C and sunny' },
        { role: 'tool', toolCallId: 'call_b', name: 'get_weather', result: 'service timed out', isError: true },
      ],
    },
    answer: { text: 'Paris is 18°C and sunny; Oslo is unknown.', finish: 'stop', usage: { input: 120, output: 12 } },
  },
  {
    name: 'json-schema',
    input: {
      messages: [{ role: 'user', text: 'Give me a person.' }],
      jsonSchema: { name: 'person', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } },
    },
    answer: { text: '{"name":"Ada"}', finish: 'stop', usage: { input: 40, output: 6 } },
  },
  {
    name: 'reasoning',
    input: { messages: [{ role: 'user', text: 'What is 6*7?' }], reasoning: { budgetTokens: 2048 }, maxTokens: 4096 },
    answer: {
      reasoning: { text: 'Six times seven is forty-two.', signature: 'sig-EqQBCgIYAhIMabc123' },
      text: '42',
      finish: 'stop',
      usage: { input: 15, output: 20, reasoning: 12 },
    },
  },
  {
    name: 'reasoning-history',
    input: {
      reasoning: { budgetTokens: 2048 },
      maxTokens: 4096,
      messages: [
        { role: 'user', text: 'What is 6*7?' },
        { role: 'assistant', reasoning: { text: 'Six times seven is forty-two.', signature: 'sig-EqQBCgIYAhIMabc123' }, text: '42' },
        { role: 'user', text: 'And doubled?' },
      ],
    },
    answer: { text: '84', finish: 'stop', usage: { input: 40, output: 3 } },
  },
  {
    name: 'length',
    input: { messages: [{ role: 'user', text: 'Tell a long story.' }], maxTokens: 3 },
    answer: { text: 'Once upon a', finish: 'length', usage: { input: 12, output: 3 } },
  },
  {
    name: 'upstream-400',
    input: { messages: [{ role: 'user', text: 'Break.' }] },
    error: { status: 400, message: 'Invalid value for temperature: must be at most 2.' },
  },
  {
    name: 'upstream-429',
    input: { messages: [{ role: 'user', text: 'Again.' }] },
    error: { status: 429, message: 'Rate limit reached for requests.' },
  },
];

export function scenarioByName(name: string): Scenario {
  const scenario = scenarios.find((candidate) => candidate.name === name);
  if (scenario === undefined) throw new Error(`unknown scenario '${name}'`);
  return scenario;
}

/** Scenario model names look like `scenario-<name>`; upstreams find the scenario from the model. */
export function scenarioFromModel(model: string): string {
  const match = /scenario-([a-z0-9-]+)/.exec(model);
  if (match === null) throw new Error(`not a scenario model: ${model}`);
  return match[1]!;
}
