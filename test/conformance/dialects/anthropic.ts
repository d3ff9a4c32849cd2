// Anthropic Messages, as the `@anthropic-ai/sdk` and Claude Code speak it (client) and as the
// Anthropic API answers (upstream). Shapes from the Messages API reference and its streaming guide.
import assert from 'node:assert/strict';
import type { Behavior, RecordedRequest } from '../../helpers/mock-upstream.ts';
import { parseSse } from '../../helpers/sse.ts';
import { scenarioFromModel } from '../scenarios.ts';
import type { Skip } from '../skips.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, ScenarioAnswer, UpstreamDialect } from '../types.ts';

type Json = Record<string, any>;

export const anthropicTraits: DialectTraits = {
  toolCallIds: true, reasoning: true, signatures: true, cachedTokens: true, reasoningTokens: true,
  toolErrorFlag: true, images: true, jsonSchemaName: false, reasoningBudget: true, stop: true,
};

const CACHE = { type: 'ephemeral' };

function finishFrom(reason: unknown): Outcome['finish'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence': return 'stop';
    case 'max_tokens': return 'length';
    case 'tool_use': return 'tool-calls';
    default: return 'other';
  }
}

function usageFrom(usage: Json | undefined): Outcome['usage'] {
  if (usage === undefined || usage === null) return undefined;
  const cached = usage.cache_read_input_tokens ?? 0;
  return {
    input: usage.input_tokens + cached + (usage.cache_creation_input_tokens ?? 0),
    output: usage.output_tokens,
    ...(cached > 0 ? { cached } : {}),
    ...(usage.output_tokens_details?.thinking_tokens ? { reasoning: usage.output_tokens_details.thinking_tokens } : {}),
  };
}

/** The conversation as Claude Code sends it: system blocks and the last user turn marked for caching. */
export function anthropicMessages(scenario: Scenario): Json[] {
  const messages: Json[] = [];
  for (const message of scenario.input.messages) {
    if (message.role === 'user') {
      const content: Json[] = [];
      if (message.image !== undefined) content.push({ type: 'image', source: { type: 'base64', media_type: message.image.mediaType, data: message.image.base64 } });
      content.push({ type: 'text', text: message.text });
      messages.push({ role: 'user', content });
    } else if (message.role === 'assistant') {
      const content: Json[] = [];
      if (message.reasoning !== undefined) content.push({ type: 'thinking', thinking: message.reasoning.text, signature: message.reasoning.signature });
      if (message.text !== undefined) content.push({ type: 'text', text: message.text });
      for (const call of message.toolCalls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.args });
      messages.push({ role: 'assistant', content });
    } else {
      const block = { type: 'tool_result', tool_use_id: message.toolCallId, content: message.result, ...(message.isError === true ? { is_error: true } : {}) };
      const last = messages.at(-1);
      // consecutive results go in one user turn, as Anthropic requires
      if (last?.role === 'user' && last.content.every((item: Json) => item.type === 'tool_result')) last.content.push(block);
      else messages.push({ role: 'user', content: [block] });
    }
  }
  const lastBlock = messages.at(-1)?.content.at(-1);
  if (lastBlock !== undefined) lastBlock.cache_control = CACHE;
  return messages;
}

export const anthropicClient: ClientDialect = {
  name: 'anthropic',
  traits: anthropicTraits,
  request(scenario, model, stream) {
    const input = scenario.input;
    const body: Json = { model, max_tokens: input.maxTokens ?? 1024, messages: anthropicMessages(scenario) };
    if (input.system !== undefined) body.system = [{ type: 'text', text: input.system, cache_control: CACHE }];
    if (input.tools !== undefined) body.tools = input.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters }));
    if (input.toolChoice !== undefined) {
      body.tool_choice = input.toolChoice === 'auto' ? { type: 'auto' } : input.toolChoice === 'required' ? { type: 'any' } : { type: 'tool', name: input.toolChoice.name };
    }
    if (input.temperature !== undefined) body.temperature = input.temperature;
    if (input.topP !== undefined) body.top_p = input.topP;
    if (input.stop !== undefined) body.stop_sequences = input.stop;
    if (input.jsonSchema !== undefined) body.output_config = { format: { type: 'json_schema', schema: input.jsonSchema.schema } };
    if (input.reasoning !== undefined) body.thinking = { type: 'enabled', budget_tokens: input.reasoning.budgetTokens };
    body.metadata = { user_id: 'user_3f9a_account__session_8c1e2d34-5f6a-4b7c-8d9e-0f1a2b3c4d5e' };
    if (stream) body.stream = true;
    // Claude Code streams on /v1/messages?beta=true with beta flags; the SDK sends the key as x-api-key
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': 'sk-client', 'anthropic-version': '2023-06-01' };
    if (stream) headers['anthropic-beta'] = 'fine-grained-tool-streaming-2025-05-14';
    return { method: 'POST', path: stream ? '/v1/messages?beta=true' : '/v1/messages', headers, body: JSON.stringify(body) };
  },
  parse(status, _headers, body, stream) {
    if (status >= 400) {
      const json = JSON.parse(body) as Json;
      assert.equal(json.type, 'error', 'Anthropic error envelope');
      assert.equal(typeof json.error?.type, 'string');
      assert.equal(typeof json.error?.message, 'string');
      return { status, text: '', reasoning: '', signatures: [], toolCalls: [], errorMessage: json.error.message };
    }
    if (!stream) return outcomeOf(status, JSON.parse(body) as Json);
    return outcomeOf(status, accumulate(body));
  },
};

function outcomeOf(status: number, message: Json): Outcome {
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  const outcome: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [], finish: finishFrom(message.stop_reason), usage: usageFrom(message.usage) };
  for (const block of message.content as Json[]) {
    if (block.type === 'text') outcome.text += block.text;
    else if (block.type === 'thinking') {
      outcome.reasoning += block.thinking;
      if (typeof block.signature === 'string' && block.signature.length > 0) outcome.signatures.push(block.signature);
    } else if (block.type === 'tool_use') outcome.toolCalls.push({ id: block.id, name: block.name, args: block.input });
  }
  return outcome;
}

/** Rebuilds the message from its events the way the SDK's MessageStream does, checking order and shapes. */
function accumulate(body: string): Json {
  const events = parseSse(body);
  let message: Json | undefined;
  let open = -1;
  const json: string[] = [];
  for (const event of events) {
    const data = JSON.parse(event.data) as Json;
    assert.equal(event.event, data.type, 'every event names its type on an event: line');
    switch (data.type) {
      case 'message_start':
        assert.equal(message, undefined, 'one message_start');
        message = { ...data.message, content: [] } as Json;
        assert.equal(typeof message.usage?.input_tokens, 'number', 'message_start carries usage');
        break;
      case 'content_block_start':
        assert.ok(message !== undefined, 'message_start first');
        assert.equal(open, -1, 'blocks are sequential');
        assert.equal(data.index, message.content.length, 'block indexes count from 0');
        open = data.index;
        message.content.push({ ...data.content_block });
        json[data.index] = '';
        break;
      case 'content_block_delta': {
        assert.equal(data.index, open, 'delta for the open block');
        const block = message!.content[data.index];
        const delta = data.delta;
        if (delta.type === 'text_delta') block.text += delta.text;
        else if (delta.type === 'thinking_delta') block.thinking += delta.thinking;
        else if (delta.type === 'signature_delta') block.signature = delta.signature;
        else if (delta.type === 'input_json_delta') json[data.index] += delta.partial_json;
        else if (delta.type === 'citations_delta') {
          assert.equal(block.type, 'text', 'citations belong to a text block');
          (block.citations ??= []).push(delta.citation);
        } else throw new Error(`unknown delta ${delta.type}`);
        break;
      }
      case 'content_block_stop': {
        assert.equal(data.index, open, 'stop for the open block');
        const block = message!.content[data.index];
        if (block.type === 'tool_use' && json[data.index]!.length > 0) block.input = JSON.parse(json[data.index]!);
        open = -1;
        break;
      }
      case 'message_delta':
        assert.equal(open, -1, 'message_delta after the last block');
        message!.stop_reason = data.delta.stop_reason;
        message!.stop_sequence = data.delta.stop_sequence;
        for (const [key, value] of Object.entries(data.usage as Json)) if (value !== null) message!.usage[key] = value;
        break;
      case 'message_stop':
        assert.equal(event, events.at(-1), 'message_stop is last');
        break;
      case 'ping':
        break;
      case 'error':
        throw new Error(`stream error event: ${event.data}`);
      default:
        throw new Error(`unknown event ${data.type}`);
    }
  }
  assert.equal(events.at(-1)?.event, 'message_stop', 'the stream ends with message_stop');
  return message!;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((block: Json) => block.type === 'text').map((block: Json) => block.text).join('');
  return '';
}

export function receivedAnthropic(request: RecordedRequest): Received {
  const body = request.body as Json;
  const received: Received = {
    model: body.model, stream: body.stream === true, userTexts: [], images: [], assistantTexts: [], toolCalls: [], toolResults: [], reasoningSignatures: [],
    tools: (body.tools ?? []).map((tool: Json) => tool.name),
  };
  if (body.system !== undefined) received.system = textOf(body.system);
  for (const message of body.messages as Json[]) {
    const blocks: Json[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (message.role === 'user') {
      const text = textOf(blocks);
      if (blocks.some((block) => block.type === 'text')) received.userTexts.push(text);
      for (const block of blocks) {
        if (block.type === 'image' && block.source.type === 'base64') received.images.push({ mediaType: block.source.media_type, base64: block.source.data });
        if (block.type === 'tool_result') received.toolResults.push({ id: block.tool_use_id, content: textOf(block.content), ...(block.is_error === true ? { isError: true } : {}) });
      }
    } else {
      const text = textOf(blocks);
      if (text.length > 0) received.assistantTexts.push(text);
      for (const block of blocks) {
        if (block.type === 'tool_use') received.toolCalls.push({ id: block.id, name: block.name, args: block.input });
        if (block.type === 'thinking') received.reasoningSignatures.push(block.signature);
      }
    }
  }
  const choice = body.tool_choice;
  if (choice !== undefined) received.toolChoice = choice.type === 'any' ? 'required' : choice.type === 'tool' ? { name: choice.name } : choice.type;
  if (body.max_tokens !== undefined) received.maxTokens = body.max_tokens;
  if (body.temperature !== undefined) received.temperature = body.temperature;
  if (body.top_p !== undefined) received.topP = body.top_p;
  if (body.stop_sequences !== undefined) received.stop = body.stop_sequences;
  if (body.thinking?.type === 'enabled') received.reasoningBudget = body.thinking.budget_tokens;
  return received;
}

function stopReasonOf(answer: ScenarioAnswer): string {
  return answer.finish === 'tool-calls' ? 'tool_use' : answer.finish === 'length' ? 'max_tokens' : 'end_turn';
}

/** Anthropic's usage: input_tokens excludes cache reads; thinking tokens are inside output_tokens. */
function usageOf(answer: ScenarioAnswer): Json {
  const cached = answer.usage.cached ?? 0;
  return {
    input_tokens: answer.usage.input - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: answer.usage.output,
    ...(answer.usage.reasoning !== undefined ? { output_tokens_details: { thinking_tokens: answer.usage.reasoning } } : {}),
    service_tier: 'standard',
  };
}

function contentOf(answer: ScenarioAnswer): Json[] {
  const content: Json[] = [];
  if (answer.reasoning !== undefined) content.push({ type: 'thinking', thinking: answer.reasoning.text, signature: answer.reasoning.signature });
  if (answer.text !== undefined) content.push({ type: 'text', text: answer.text });
  for (const call of answer.toolCalls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.args });
  return content;
}

function sse(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}`;
}

/** The event stream Anthropic sends for an answer: every delta split in two, a ping after message_start. */
export function anthropicStream(answer: ScenarioAnswer, model: string, id = 'msg_01XFDUDYJgAACzvnptvVoYEL'): string[] {
  const usage = usageOf(answer);
  const events = [
    sse('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }),
    sse('ping', {}),
  ];
  contentOf(answer).forEach((block, index) => {
    const split = (text: string): string[] => [text.slice(0, Math.floor(text.length / 2)), text.slice(Math.floor(text.length / 2))];
    if (block.type === 'thinking') {
      events.push(sse('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const piece of split(block.thinking)) events.push(sse('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }));
      events.push(sse('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature } }));
    } else if (block.type === 'text') {
      events.push(sse('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const piece of split(block.text)) events.push(sse('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
    } else {
      events.push(sse('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      events.push(sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
      for (const piece of split(JSON.stringify(block.input))) events.push(sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }));
    }
    events.push(sse('content_block_stop', { index }));
  });
  const { service_tier: _tier, ...finalUsage } = usage;
  events.push(sse('message_delta', { delta: { stop_reason: stopReasonOf(answer), stop_sequence: null }, usage: finalUsage }));
  events.push(sse('message_stop', {}));
  return events;
}

export const anthropicUpstream: UpstreamDialect = {
  type: 'anthropic',
  traits: anthropicTraits,
  basePath: '/v1',
  scenarioOf: (request) => scenarioFromModel(String((request.body as Json)?.model ?? '')),
  received: receivedAnthropic,
  respond(scenario, request): Behavior {
    const body = request.body as Json;
    if (scenario.error !== undefined) {
      const type = scenario.error.status === 429 ? 'rate_limit_error' : 'invalid_request_error';
      return {
        kind: 'json', status: scenario.error.status,
        body: { type: 'error', error: { type, message: scenario.error.message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' },
        headers: scenario.error.status === 429 ? { 'retry-after': '7', 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' } : { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' },
      };
    }
    const answer = scenario.answer!;
    if (body.stream === true) return { kind: 'stream', events: anthropicStream(answer, body.model), headers: { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' } };
    return {
      kind: 'json', status: 200,
      body: {
        id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: body.model, content: contentOf(answer),
        stop_reason: stopReasonOf(answer), stop_sequence: null, usage: usageOf(answer),
      },
    };
  },
};

export const skips: Skip[] = [];

export const client = anthropicClient;
export const upstream = anthropicUpstream;
