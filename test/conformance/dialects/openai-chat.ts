// OpenAI Chat Completions, as the `openai` SDK speaks it (client) and as OpenAI answers (upstream).
import assert from 'node:assert/strict';
import type { RecordedRequest, Behavior } from '../../helpers/mock-upstream.ts';
import { parseSse } from '../../helpers/sse.ts';
import { scenarioFromModel } from '../scenarios.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, UpstreamDialect } from '../types.ts';

type Json = Record<string, any>;

export const openaiTraits: DialectTraits = {
  toolCallIds: true, reasoning: true, signatures: true, cachedTokens: true, reasoningTokens: true,
  toolErrorFlag: false, images: true, jsonSchemaName: true, reasoningBudget: false, stop: true,
};

function finishFrom(reason: unknown): Outcome['finish'] {
  return reason === 'stop' ? 'stop' : reason === 'length' ? 'length' : reason === 'tool_calls' ? 'tool-calls' : 'other';
}

function usageFrom(usage: Json | undefined): Outcome['usage'] {
  if (usage === undefined || usage === null) return undefined;
  return {
    input: usage.prompt_tokens, output: usage.completion_tokens,
    ...(usage.prompt_tokens_details?.cached_tokens ? { cached: usage.prompt_tokens_details.cached_tokens } : {}),
    ...(usage.completion_tokens_details?.reasoning_tokens ? { reasoning: usage.completion_tokens_details.reasoning_tokens } : {}),
  };
}

export function openaiMessages(scenario: Scenario): Json[] {
  const input = scenario.input;
  const messages: Json[] = [];
  if (input.system !== undefined) messages.push({ role: 'system', content: input.system });
  for (const message of input.messages) {
    if (message.role === 'user') {
      messages.push(message.image === undefined
        ? { role: 'user', content: message.text }
        : { role: 'user', content: [{ type: 'text', text: message.text }, { type: 'image_url', image_url: { url: `data:${message.image.mediaType};base64,${message.image.base64}` } }] });
    } else if (message.role === 'assistant') {
      const entry: Json = { role: 'assistant', content: message.text ?? null };
      if (message.reasoning !== undefined) entry.reasoning_details = [{ type: 'reasoning.text', text: message.reasoning.text, signature: message.reasoning.signature, index: 0 }];
      if (message.toolCalls !== undefined) entry.tool_calls = message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } }));
      messages.push(entry);
    } else {
      messages.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.result });
    }
  }
  return messages;
}

export const openaiChatClient: ClientDialect = {
  name: 'openai-chat',
  traits: openaiTraits,
  request(scenario, model, stream) {
    const input = scenario.input;
    const body: Json = { model, messages: openaiMessages(scenario) };
    if (input.tools !== undefined) body.tools = input.tools.map((tool) => ({ type: 'function', function: tool }));
    if (input.toolChoice !== undefined) body.tool_choice = typeof input.toolChoice === 'string' ? input.toolChoice : { type: 'function', function: { name: input.toolChoice.name } };
    if (input.maxTokens !== undefined) body.max_completion_tokens = input.maxTokens;
    if (input.temperature !== undefined) body.temperature = input.temperature;
    if (input.topP !== undefined) body.top_p = input.topP;
    if (input.stop !== undefined) body.stop = input.stop;
    if (input.jsonSchema !== undefined) body.response_format = { type: 'json_schema', json_schema: { name: input.jsonSchema.name, schema: input.jsonSchema.schema, strict: true } };
    if (input.reasoning !== undefined) body.reasoning_effort = 'medium';
    if (stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    return { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' }, body: JSON.stringify(body) };
  },
  parse(status, _headers, body, stream) {
    if (status >= 400) {
      const error = JSON.parse(body).error;
      assert.equal(typeof error.message, 'string');
      assert.ok('type' in error && 'code' in error && 'param' in error, 'OpenAI error shape');
      return { status, text: '', reasoning: '', signatures: [], toolCalls: [], errorMessage: error.message };
    }
    if (!stream) {
      const json = JSON.parse(body) as Json;
      assert.equal(json.object, 'chat.completion');
      const message = json.choices[0].message;
      return {
        status,
        text: message.content ?? '',
        reasoning: message.reasoning_content ?? '',
        signatures: (message.reasoning_details ?? []).map((detail: Json) => detail.signature).filter((value: unknown) => typeof value === 'string'),
        toolCalls: (message.tool_calls ?? []).map((call: Json) => ({ id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) })),
        finish: finishFrom(json.choices[0].finish_reason),
        usage: usageFrom(json.usage),
      };
    }
    const events = parseSse(body);
    assert.equal(events.at(-1)?.data, '[DONE]', 'the stream ends with [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as Json);
    const errorChunk = chunks.find((chunk) => chunk.error !== undefined);
    if (errorChunk !== undefined) throw new Error(`stream error event: ${JSON.stringify(errorChunk.error)}`);
    assert.deepEqual(chunks[0]!.choices[0].delta, { role: 'assistant', content: '' }, 'first delta is role-only');
    const outcome: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [] };
    const calls = new Map<number, { id?: string; name: string; args: string }>();
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) outcome.usage = usageFrom(chunk.usage);
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') outcome.text += delta.content;
      if (typeof delta.reasoning_content === 'string') outcome.reasoning += delta.reasoning_content;
      for (const detail of delta.reasoning_details ?? []) if (typeof detail.signature === 'string') outcome.signatures.push(detail.signature);
      for (const call of delta.tool_calls ?? []) {
        const entry = calls.get(call.index) ?? { name: '', args: '' };
        if (call.id !== undefined) entry.id = call.id;
        if (call.function?.name !== undefined) entry.name = call.function.name;
        if (call.function?.arguments !== undefined) entry.args += call.function.arguments;
        calls.set(call.index, entry);
      }
      if (choice.finish_reason) outcome.finish = finishFrom(choice.finish_reason);
    }
    outcome.toolCalls = [...calls.values()].map((call) => ({ id: call.id, name: call.name, args: JSON.parse(call.args) }));
    return outcome;
  },
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((part: Json) => part.type === 'text').map((part: Json) => part.text).join('');
  return '';
}

export function receivedOpenAIChat(request: RecordedRequest): Received {
  const body = request.body as Json;
  const received: Received = {
    model: body.model, stream: body.stream === true, userTexts: [], images: [], assistantTexts: [], toolCalls: [], toolResults: [], reasoningSignatures: [],
    tools: (body.tools ?? []).map((tool: Json) => tool.function.name),
  };
  for (const message of body.messages as Json[]) {
    if (message.role === 'system' || message.role === 'developer') received.system = (received.system ?? '') + textOf(message.content);
    else if (message.role === 'user') {
      received.userTexts.push(textOf(message.content));
      if (Array.isArray(message.content)) {
        for (const part of message.content) {
          const match = part.type === 'image_url' ? /^data:([^;]+);base64,(.*)$/.exec(part.image_url.url) : null;
          if (match !== null) received.images.push({ mediaType: match[1]!, base64: match[2]! });
        }
      }
    } else if (message.role === 'assistant') {
      const text = textOf(message.content);
      if (text.length > 0) received.assistantTexts.push(text);
      for (const call of message.tool_calls ?? []) received.toolCalls.push({ id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) });
      for (const detail of message.reasoning_details ?? []) if (typeof detail.signature === 'string') received.reasoningSignatures.push(detail.signature);
    } else if (message.role === 'tool') {
      received.toolResults.push({ id: message.tool_call_id, content: textOf(message.content) });
    }
  }
  const choice = body.tool_choice;
  if (choice !== undefined) received.toolChoice = typeof choice === 'string' ? (choice as Received['toolChoice']) : { name: choice.function.name };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined) received.maxTokens = maxTokens;
  if (body.temperature !== undefined) received.temperature = body.temperature;
  if (body.top_p !== undefined) received.topP = body.top_p;
  if (body.stop !== undefined) received.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.response_format?.json_schema?.name !== undefined) received.jsonSchemaName = body.response_format.json_schema.name;
  return received;
}

function openaiUsage(usage: Scenario['answer'] extends infer A ? A extends { usage: infer U } ? U : never : never): Json {
  return {
    prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
  };
}

export const openaiUpstream: UpstreamDialect = {
  type: 'openai',
  traits: { ...openaiTraits, signatures: false },
  basePath: '/v1',
  scenarioOf: (request) => scenarioFromModel(String((request.body as Json)?.model ?? '')),
  received: receivedOpenAIChat,
  respond(scenario, request): Behavior {
    const body = request.body as Json;
    if (scenario.error !== undefined) {
      const type = scenario.error.status === 429 ? 'requests' : 'invalid_request_error';
      return { kind: 'json', status: scenario.error.status, body: { error: { message: scenario.error.message, type, param: null, code: null } }, headers: scenario.error.status === 429 ? { 'retry-after': '7' } : {} };
    }
    const answer = scenario.answer!;
    const finish = answer.finish === 'tool-calls' ? 'tool_calls' : answer.finish;
    const toolCalls = answer.toolCalls?.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } }));
    const id = 'chatcmpl-conformance';
    if (body.stream !== true) {
      const message: Json = { role: 'assistant', content: answer.text ?? null, refusal: null };
      if (answer.reasoning !== undefined) message.reasoning_content = answer.reasoning.text;
      if (toolCalls !== undefined) message.tool_calls = toolCalls;
      return { kind: 'json', status: 200, body: { id, object: 'chat.completion', created: 1_700_000_000, model: body.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: openaiUsage(answer.usage) } };
    }
    const chunk = (delta: Json, finishReason: string | null = null) => JSON.stringify({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    const events: string[] = [chunk({ role: 'assistant', content: '' })];
    if (answer.reasoning !== undefined) {
      const half = Math.floor(answer.reasoning.text.length / 2);
      events.push(chunk({ reasoning_content: answer.reasoning.text.slice(0, half) }), chunk({ reasoning_content: answer.reasoning.text.slice(half) }));
    }
    if (answer.text !== undefined) {
      const half = Math.floor(answer.text.length / 2);
      events.push(chunk({ content: answer.text.slice(0, half) }), chunk({ content: answer.text.slice(half) }));
    }
    answer.toolCalls?.forEach((call, index) => {
      const args = JSON.stringify(call.args);
      events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      events.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(0, 5) } }] }));
      events.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(5) } }] }));
    });
    events.push(chunk({}, finish));
    if (body.stream_options?.include_usage === true) events.push(JSON.stringify({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model, choices: [], usage: openaiUsage(answer.usage) }));
    events.push('[DONE]');
    return { kind: 'stream', events };
  },
};

export const client = openaiChatClient;
export const upstream = openaiUpstream;
