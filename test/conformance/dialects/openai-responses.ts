// OpenAI Responses, as the `openai` SDK and Codex speak it (client: stateless, `store: false`,
// encrypted reasoning asked for) and as OpenAI's /v1/responses answers (upstream), streaming
// events with sequence numbers through response.completed.
import assert from 'node:assert/strict';
import type { Behavior, RecordedRequest } from '../../helpers/mock-upstream.ts';
import { parseSse } from '../../helpers/sse.ts';
import { scenarioFromModel } from '../scenarios.ts';
import type { Skip } from '../skips.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, ScenarioAnswer, UpstreamDialect } from '../types.ts';

type Json = Record<string, any>;

export const responsesTraits: DialectTraits = {
  toolCallIds: true, reasoning: true, signatures: true, cachedTokens: true, reasoningTokens: true,
  // no error flag on function_call_output; no stop sequences; effort levels, not token budgets
  toolErrorFlag: false, images: true, jsonSchemaName: true, reasoningBudget: false, stop: false,
};

/** The scenario's conversation as Responses input items (what Codex sends with store: false). */
export function responsesInput(scenario: Scenario): Json[] {
  const items: Json[] = [];
  for (const message of scenario.input.messages) {
    if (message.role === 'user') {
      const content: Json[] = [{ type: 'input_text', text: message.text }];
      if (message.image !== undefined) content.push({ type: 'input_image', image_url: `data:${message.image.mediaType};base64,${message.image.base64}`, detail: 'auto' });
      items.push({ type: 'message', role: 'user', content });
    } else if (message.role === 'assistant') {
      if (message.reasoning !== undefined) {
        items.push({ type: 'reasoning', summary: [{ type: 'summary_text', text: message.reasoning.text }], encrypted_content: message.reasoning.signature });
      }
      if (message.text !== undefined) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: message.text, annotations: [] }] });
      for (const call of message.toolCalls ?? []) items.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: JSON.stringify(call.args) });
    } else {
      items.push({ type: 'function_call_output', call_id: message.toolCallId, output: message.result });
    }
  }
  return items;
}

function finishOf(response: Json): Outcome['finish'] {
  if (response.status === 'incomplete') return response.incomplete_details?.reason === 'max_output_tokens' ? 'length' : 'other';
  if (response.status !== 'completed') return 'other';
  return (response.output as Json[]).some((item) => item.type === 'function_call') ? 'tool-calls' : 'stop';
}

function usageOf(usage: Json | null | undefined): Outcome['usage'] {
  if (usage === undefined || usage === null) return undefined;
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens, 'total_tokens');
  return {
    input: usage.input_tokens, output: usage.output_tokens,
    ...(usage.input_tokens_details?.cached_tokens ? { cached: usage.input_tokens_details.cached_tokens } : {}),
    ...(usage.output_tokens_details?.reasoning_tokens ? { reasoning: usage.output_tokens_details.reasoning_tokens } : {}),
  };
}

/** Reads a response object's output the way SDKs do. */
function outcomeOf(status: number, response: Json): Outcome {
  assert.equal(response.object, 'response');
  assert.match(response.id, /^resp_/, 'response id');
  const outcome: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [], finish: finishOf(response), usage: usageOf(response.usage) };
  const ids = new Set<string>();
  for (const item of response.output as Json[]) {
    assert.ok(typeof item.id === 'string' && !ids.has(item.id), 'output item ids are unique');
    ids.add(item.id);
    if (item.type === 'message') {
      assert.equal(item.role, 'assistant');
      for (const part of item.content) if (part.type === 'output_text') outcome.text += part.text;
    } else if (item.type === 'reasoning') {
      outcome.reasoning += (item.summary as Json[]).map((part) => part.text).join('');
      if (typeof item.encrypted_content === 'string') outcome.signatures.push(item.encrypted_content);
    } else if (item.type === 'function_call') {
      outcome.toolCalls.push({ id: item.call_id, name: item.name, args: JSON.parse(item.arguments) });
    }
  }
  return outcome;
}

/** Checks the event grammar (names, sequence numbers, item lifecycles) and rebuilds what a client sees. */
function parseStream(status: number, body: string): Outcome {
  const events = parseSse(body);
  const parsed = events.map((event) => JSON.parse(event.data) as Json);
  parsed.forEach((event, i) => {
    assert.equal(events[i]!.event, event.type, 'the SSE event name is the type');
    assert.equal(event.sequence_number, i, 'sequence numbers count up from 0');
  });
  const failure = parsed.find((event) => event.type === 'error' || event.type === 'response.failed');
  if (failure !== undefined) throw new Error(`stream error event: ${JSON.stringify(failure)}`);
  assert.equal(parsed[0]?.type, 'response.created', 'response.created comes first');
  assert.equal(parsed[1]?.type, 'response.in_progress');
  const last = parsed.at(-1)!;
  assert.ok(last.type === 'response.completed' || last.type === 'response.incomplete', `terminal event, got ${last.type}`);
  const streamed: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [] };
  const args = new Map<string, string>();
  const open = new Set<number>();
  for (const event of parsed) {
    switch (event.type) {
      case 'response.output_item.added':
        assert.ok(!open.has(event.output_index), 'an output index is added once');
        open.add(event.output_index);
        if (event.item.type === 'function_call') args.set(event.item.id, '');
        break;
      case 'response.output_item.done':
        assert.ok(open.delete(event.output_index), 'an item is done after it was added');
        if (event.item.type === 'reasoning' && typeof event.item.encrypted_content === 'string') streamed.signatures.push(event.item.encrypted_content);
        if (event.item.type === 'function_call') {
          assert.equal(args.get(event.item.id), event.item.arguments, 'argument deltas add up to the arguments');
          streamed.toolCalls.push({ id: event.item.call_id, name: event.item.name, args: JSON.parse(event.item.arguments) });
        }
        break;
      case 'response.output_text.delta': streamed.text += event.delta; break;
      case 'response.reasoning_summary_text.delta': streamed.reasoning += event.delta; break;
      case 'response.function_call_arguments.delta': args.set(event.item_id, (args.get(event.item_id) ?? '') + event.delta); break;
      default: break;
    }
  }
  assert.equal(open.size, 0, 'every item is done before the response');
  const final = outcomeOf(status, last.response);
  assert.equal(final.text, streamed.text, 'the final response repeats the streamed text');
  assert.deepEqual(final.toolCalls, streamed.toolCalls, 'the final response repeats the streamed calls');
  return { ...streamed, finish: final.finish, usage: final.usage };
}

export const responsesClient: ClientDialect = {
  name: 'openai-responses',
  traits: responsesTraits,
  request(scenario, model, stream) {
    const input = scenario.input;
    const body: Json = { model, input: responsesInput(scenario), store: false, include: ['reasoning.encrypted_content'] };
    if (input.system !== undefined) body.instructions = input.system;
    if (input.tools !== undefined) body.tools = input.tools.map((tool) => ({ type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters, strict: false }));
    if (input.toolChoice !== undefined) body.tool_choice = typeof input.toolChoice === 'string' ? input.toolChoice : { type: 'function', name: input.toolChoice.name };
    if (input.maxTokens !== undefined) body.max_output_tokens = input.maxTokens;
    if (input.temperature !== undefined) body.temperature = input.temperature;
    if (input.topP !== undefined) body.top_p = input.topP;
    if (input.jsonSchema !== undefined) body.text = { format: { type: 'json_schema', name: input.jsonSchema.name, schema: input.jsonSchema.schema, strict: true } };
    if (input.reasoning !== undefined) body.reasoning = { effort: 'medium', summary: 'auto' };
    if (stream) body.stream = true;
    return { method: 'POST', path: '/v1/responses', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' }, body: JSON.stringify(body) };
  },
  parse(status, _headers, body, stream) {
    if (status >= 400) {
      const error = JSON.parse(body).error;
      assert.equal(typeof error.message, 'string');
      assert.ok('type' in error && 'code' in error && 'param' in error, 'OpenAI error shape');
      return { status, text: '', reasoning: '', signatures: [], toolCalls: [], errorMessage: error.message };
    }
    return stream ? parseStream(status, body) : outcomeOf(status, JSON.parse(body) as Json);
  },
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((part: Json) => part.type === 'input_text' || part.type === 'output_text').map((part: Json) => part.text).join('');
  return '';
}

export function receivedResponses(request: RecordedRequest): Received {
  const body = request.body as Json;
  assert.equal(request.path, '/v1/responses');
  const received: Received = {
    model: body.model, stream: body.stream === true, userTexts: [], images: [], assistantTexts: [], toolCalls: [], toolResults: [], reasoningSignatures: [],
    tools: (body.tools ?? []).map((tool: Json) => tool.name),
  };
  if (typeof body.instructions === 'string') received.system = body.instructions;
  const input = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : (body.input as Json[]);
  for (const item of input) {
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (item.role === 'system' || item.role === 'developer') received.system = (received.system ?? '') + textOf(item.content);
      else if (item.role === 'user') {
        received.userTexts.push(textOf(item.content));
        for (const part of Array.isArray(item.content) ? item.content : []) {
          const match = part.type === 'input_image' ? /^data:([^;]+);base64,(.*)$/.exec(part.image_url) : null;
          if (match !== null) received.images.push({ mediaType: match[1]!, base64: match[2]! });
        }
      } else if (item.role === 'assistant') {
        const text = textOf(item.content);
        if (text.length > 0) received.assistantTexts.push(text);
      }
    } else if (type === 'function_call') {
      received.toolCalls.push({ id: item.call_id, name: item.name, args: JSON.parse(item.arguments) });
    } else if (type === 'function_call_output') {
      received.toolResults.push({ id: item.call_id, content: textOf(item.output) });
    } else if (type === 'reasoning') {
      if (typeof item.encrypted_content === 'string') received.reasoningSignatures.push(item.encrypted_content);
    }
  }
  const choice = body.tool_choice;
  if (choice !== undefined) received.toolChoice = typeof choice === 'string' ? (choice as Received['toolChoice']) : { name: choice.name };
  if (body.max_output_tokens !== undefined) received.maxTokens = body.max_output_tokens;
  if (body.temperature !== undefined) received.temperature = body.temperature;
  if (body.top_p !== undefined) received.topP = body.top_p;
  if (body.text?.format?.type === 'json_schema') received.jsonSchemaName = body.text.format.name;
  return received;
}

function usageJson(usage: ScenarioAnswer['usage']): Json {
  return {
    input_tokens: usage.input, input_tokens_details: { cached_tokens: usage.cached ?? 0 },
    output_tokens: usage.output, output_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
    total_tokens: usage.input + usage.output,
  };
}

/** The answer as OpenAI's /v1/responses returns it: output items, status, usage. */
function responseJson(body: Json, answer: ScenarioAnswer, done: boolean): Json {
  const output: Json[] = [];
  if (answer.reasoning !== undefined) {
    output.push({ id: 'rs_conformance', type: 'reasoning', summary: [{ type: 'summary_text', text: answer.reasoning.text }], encrypted_content: answer.reasoning.signature });
  }
  if (answer.text !== undefined) {
    output.push({ id: 'msg_conformance', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: answer.text }] });
  }
  answer.toolCalls?.forEach((call, i) => output.push({ id: `fc_conformance_${i}`, type: 'function_call', status: 'completed', call_id: call.id, name: call.name, arguments: JSON.stringify(call.args) }));
  const incomplete = answer.finish === 'length';
  return {
    id: 'resp_conformance', object: 'response', created_at: 1_700_000_000,
    status: done ? (incomplete ? 'incomplete' : 'completed') : 'in_progress',
    error: null, incomplete_details: done && incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, model: body.model,
    output: done ? output : [], parallel_tool_calls: true, previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null }, store: false, temperature: 1, text: { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], top_p: 1, truncation: 'disabled',
    usage: done ? usageJson(answer.usage) : null, metadata: {},
  };
}

function half(text: string): [string, string] {
  const middle = Math.floor(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

/** OpenAI's event sequence for the answer, in order, with sequence numbers. */
function responseEvents(body: Json, answer: ScenarioAnswer): string[] {
  const events: string[] = [];
  const emit = (type: string, fields: Json) => events.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: events.length, ...fields })}`);
  emit('response.created', { response: responseJson(body, answer, false) });
  emit('response.in_progress', { response: responseJson(body, answer, false) });
  const final = responseJson(body, answer, true);
  (final.output as Json[]).forEach((item, index) => {
    const at = { item_id: item.id, output_index: index };
    if (item.type === 'reasoning') {
      emit('response.output_item.added', { output_index: index, item: { id: item.id, type: 'reasoning', summary: [] } });
      emit('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } });
      for (const delta of half(item.summary[0].text)) emit('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta });
      emit('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: item.summary[0].text });
      emit('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: item.summary[0] });
    } else if (item.type === 'message') {
      emit('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', content: [] } });
      emit('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      for (const delta of half(item.content[0].text)) emit('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] });
      emit('response.output_text.done', { ...at, content_index: 0, text: item.content[0].text, logprobs: [] });
      emit('response.content_part.done', { ...at, content_index: 0, part: item.content[0] });
    } else {
      emit('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of half(item.arguments)) emit('response.function_call_arguments.delta', { ...at, delta });
      emit('response.function_call_arguments.done', { ...at, arguments: item.arguments });
    }
    emit('response.output_item.done', { output_index: index, item });
  });
  emit(final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: final });
  return events;
}

export const responsesUpstream: UpstreamDialect = {
  type: 'openai-responses',
  traits: responsesTraits,
  basePath: '/v1',
  scenarioOf: (request) => scenarioFromModel(String((request.body as Json)?.model ?? '')),
  received: receivedResponses,
  respond(scenario, request): Behavior {
    const body = request.body as Json;
    if (scenario.error !== undefined) {
      const rateLimited = scenario.error.status === 429;
      return {
        kind: 'json', status: scenario.error.status,
        body: { error: { message: scenario.error.message, type: rateLimited ? 'requests' : 'invalid_request_error', param: null, code: rateLimited ? 'rate_limit_exceeded' : null } },
        headers: rateLimited ? { 'retry-after': '7' } : {},
      };
    }
    const answer = scenario.answer!;
    if (body.stream !== true) return { kind: 'json', status: 200, body: responseJson(body, answer, true) };
    return { kind: 'stream', events: responseEvents(body, answer) };
  },
};

export const client = responsesClient;
export const upstream = responsesUpstream;

export const skips: Skip[] = [];
