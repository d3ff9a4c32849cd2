// Ollama's native API, as the `ollama` clients speak it (client: /api/chat, NDJSON streams,
// `stream` left out to get the default stream) and as an Ollama server answers (upstream).
import assert from 'node:assert/strict';
import type { Behavior, RecordedRequest } from '../../helpers/mock-upstream.ts';
import { scenarioFromModel } from '../scenarios.ts';
import type { Skip } from '../skips.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, UpstreamDialect } from '../types.ts';

type Json = Record<string, any>;

export const ollamaTraits: DialectTraits = {
  // no tool-call ids, no signatures, no cache or reasoning token counts, no tool error flag,
  // `format` is a bare schema (no name), `think` is a switch or a level (no budget), no tool_choice
  toolCallIds: false, reasoning: true, signatures: false, cachedTokens: false, reasoningTokens: false,
  toolErrorFlag: false, images: true, jsonSchemaName: false, reasoningBudget: false, stop: true, toolChoice: false,
};

const CREATED_AT = '2025-06-12T09:30:15.123456789Z';

function sniff(base64: string): string {
  if (base64.startsWith('iVBORw0KGgo')) return 'image/png';
  if (base64.startsWith('/9j/')) return 'image/jpeg';
  if (base64.startsWith('R0lGOD')) return 'image/gif';
  if (base64.startsWith('UklGR')) return 'image/webp';
  return 'application/octet-stream';
}

export function ollamaMessages(scenario: Scenario): Json[] {
  const input = scenario.input;
  const messages: Json[] = [];
  if (input.system !== undefined) messages.push({ role: 'system', content: input.system });
  for (const message of input.messages) {
    if (message.role === 'user') {
      messages.push(message.image === undefined ? { role: 'user', content: message.text } : { role: 'user', content: message.text, images: [message.image.base64] });
    } else if (message.role === 'assistant') {
      const entry: Json = { role: 'assistant', content: message.text ?? '' };
      if (message.reasoning !== undefined) entry.thinking = message.reasoning.text;
      if (message.toolCalls !== undefined) entry.tool_calls = message.toolCalls.map((call) => ({ function: { name: call.name, arguments: call.args } }));
      messages.push(entry);
    } else {
      messages.push({ role: 'tool', content: message.result, tool_name: message.name });
    }
  }
  return messages;
}

function finishFrom(doneReason: unknown, toolCalls: number): Outcome['finish'] {
  if (doneReason === 'length') return 'length';
  if (doneReason === 'stop') return toolCalls > 0 ? 'tool-calls' : 'stop';
  return 'other';
}

function usageFrom(line: Json): Outcome['usage'] {
  return { input: line.prompt_eval_count ?? 0, output: line.eval_count ?? 0 };
}

function checkLine(line: Json, done: boolean): void {
  assert.equal(typeof line.model, 'string', 'every line names the model');
  assert.ok(!Number.isNaN(Date.parse(line.created_at)), `created_at is a timestamp: ${line.created_at}`);
  assert.equal(line.done, done, done ? 'the last line is done' : 'only the last line is done');
  assert.equal(line.message?.role, 'assistant', 'message.role');
  assert.equal(typeof line.message.content, 'string', 'message.content is a string');
}

export const ollamaClient: ClientDialect = {
  name: 'ollama',
  traits: ollamaTraits,
  request(scenario, model, stream) {
    const input = scenario.input;
    const body: Json = { model, messages: ollamaMessages(scenario) };
    if (input.tools !== undefined) body.tools = input.tools.map((tool) => ({ type: 'function', function: tool }));
    const options: Json = {};
    if (input.maxTokens !== undefined) options.num_predict = input.maxTokens;
    if (input.temperature !== undefined) options.temperature = input.temperature;
    if (input.topP !== undefined) options.top_p = input.topP;
    if (input.stop !== undefined) options.stop = input.stop;
    if (Object.keys(options).length > 0) body.options = options;
    if (input.jsonSchema !== undefined) body.format = input.jsonSchema.schema;
    if (input.reasoning !== undefined) body.think = true;
    // Ollama streams unless told not to: the streaming case leaves `stream` out
    if (!stream) body.stream = false;
    return { method: 'POST', path: '/api/chat', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' }, body: JSON.stringify(body) };
  },
  parse(status, headers, body, stream) {
    if (status >= 400) {
      const error = JSON.parse(body).error;
      assert.equal(typeof error, 'string', 'Ollama error shape: {"error": "message"}');
      return { status, text: '', reasoning: '', signatures: [], toolCalls: [], errorMessage: error };
    }
    if (!stream) {
      const json = JSON.parse(body) as Json;
      checkLine(json, true);
      const calls = (json.message.tool_calls ?? []) as Json[];
      return {
        status,
        text: json.message.content,
        reasoning: json.message.thinking ?? '',
        signatures: [],
        toolCalls: calls.map((call) => ({ name: call.function.name, args: call.function.arguments })),
        finish: finishFrom(json.done_reason, calls.length),
        usage: usageFrom(json),
      };
    }
    assert.match(headers.get('content-type') ?? '', /application\/x-ndjson/, 'NDJSON content type');
    assert.ok(body.endsWith('\n'), 'every line ends with a newline');
    const lines = body.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Json);
    const failure = lines.find((line) => line.error !== undefined);
    if (failure !== undefined) throw new Error(`stream error line: ${JSON.stringify(failure)}`);
    const outcome: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [] };
    lines.forEach((line, i) => {
      checkLine(line, i === lines.length - 1);
      outcome.text += line.message.content;
      if (typeof line.message.thinking === 'string') outcome.reasoning += line.message.thinking;
      for (const call of line.message.tool_calls ?? []) {
        assert.equal(typeof call.function.arguments, 'object', 'tool calls arrive whole, arguments as an object');
        outcome.toolCalls.push({ name: call.function.name, args: call.function.arguments });
      }
    });
    const last = lines.at(-1)!;
    outcome.finish = finishFrom(last.done_reason, outcome.toolCalls.length);
    outcome.usage = usageFrom(last);
    assert.ok(typeof last.total_duration === 'number' && typeof last.eval_duration === 'number', 'the final line carries durations');
    return outcome;
  },
};

export function receivedOllamaChat(request: RecordedRequest): Received {
  const body = request.body as Json;
  const received: Received = {
    model: body.model, stream: body.stream !== false, userTexts: [], images: [], assistantTexts: [], toolCalls: [], toolResults: [], reasoningSignatures: [],
    tools: (body.tools ?? []).map((tool: Json) => tool.function.name),
  };
  for (const message of (body.messages ?? []) as Json[]) {
    if (message.role === 'system') received.system = (received.system === undefined ? '' : `${received.system}\n`) + message.content;
    else if (message.role === 'user') {
      received.userTexts.push(message.content);
      for (const image of message.images ?? []) received.images.push({ mediaType: sniff(image), base64: image });
    } else if (message.role === 'assistant') {
      if (typeof message.content === 'string' && message.content.length > 0) received.assistantTexts.push(message.content);
      for (const call of message.tool_calls ?? []) {
        assert.equal(typeof call.function.arguments, 'object', 'Ollama takes tool-call arguments as an object');
        received.toolCalls.push({ name: call.function.name, args: call.function.arguments });
      }
    } else if (message.role === 'tool') {
      assert.equal(typeof message.tool_name, 'string', 'tool results name their tool');
      received.toolResults.push({ name: message.tool_name, content: message.content });
    }
  }
  const options: Json = body.options ?? {};
  if (options.num_predict !== undefined) received.maxTokens = options.num_predict;
  if (options.temperature !== undefined) received.temperature = options.temperature;
  if (options.top_p !== undefined) received.topP = options.top_p;
  if (options.stop !== undefined) received.stop = options.stop;
  return received;
}

function finalCounts(answer: NonNullable<Scenario['answer']>): Json {
  return {
    total_duration: 1_284_502_917, load_duration: 21_345_083,
    prompt_eval_count: answer.usage.input, prompt_eval_duration: 112_030_000,
    eval_count: answer.usage.output, eval_duration: 1_140_871_000,
  };
}

export const ollamaUpstream: UpstreamDialect = {
  type: 'ollama',
  traits: ollamaTraits,
  basePath: '',
  scenarioOf: (request) => scenarioFromModel(String((request.body as Json)?.model ?? '')),
  received: receivedOllamaChat,
  respond(scenario, request): Behavior {
    const body = request.body as Json;
    assert.equal(request.path, '/api/chat', 'chat goes to /api/chat');
    if (scenario.error !== undefined) {
      return { kind: 'json', status: scenario.error.status, body: { error: scenario.error.message }, headers: scenario.error.status === 429 ? { 'retry-after': '7' } : {} };
    }
    const answer = scenario.answer!;
    const doneReason = answer.finish === 'length' ? 'length' : 'stop';
    const calls = answer.toolCalls?.map((call) => ({ function: { name: call.name, arguments: call.args } }));
    const model = body.model as string;
    if (body.stream === false) {
      const message: Json = { role: 'assistant', content: answer.text ?? '' };
      if (answer.reasoning !== undefined) message.thinking = answer.reasoning.text;
      if (calls !== undefined) message.tool_calls = calls;
      return { kind: 'json', status: 200, body: { model, created_at: CREATED_AT, message, done_reason: doneReason, done: true, ...finalCounts(answer) } };
    }
    const line = (message: Json) => `${JSON.stringify({ model, created_at: CREATED_AT, message: { role: 'assistant', content: '', ...message }, done: false })}\n`;
    const chunks: string[] = [];
    if (answer.reasoning !== undefined) {
      const half = Math.floor(answer.reasoning.text.length / 2);
      chunks.push(line({ thinking: answer.reasoning.text.slice(0, half) }), line({ thinking: answer.reasoning.text.slice(half) }));
    }
    if (answer.text !== undefined) {
      const half = Math.floor(answer.text.length / 2);
      chunks.push(line({ content: answer.text.slice(0, half) }), line({ content: answer.text.slice(half) }));
    }
    // Ollama sends tool calls whole; parallel calls parsed together come in one line
    if (calls !== undefined) chunks.push(line({ tool_calls: calls }));
    chunks.push(`${JSON.stringify({ model, created_at: CREATED_AT, message: { role: 'assistant', content: '' }, done_reason: doneReason, done: true, ...finalCounts(answer) })}\n`);
    return { kind: 'chunks', chunks, contentType: 'application/x-ndjson' };
  },
};

export const client = ollamaClient;
export const upstream = ollamaUpstream;
export const skips: Skip[] = [];
