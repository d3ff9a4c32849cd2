// The Responses surface's converters: Responses requests (as Codex and the SDK send them) →
// canonical, canonical answers → a response object and the Responses event stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { openaiResponses } from '../../src/surfaces/openai/index.ts';
import { decodeResponsesRequest } from '../../src/surfaces/openai/responses/decode-request.ts';
import { encodeResponsesResponse } from '../../src/surfaces/openai/responses/encode-response.ts';
import { ResponsesStreamEncoder } from '../../src/surfaces/openai/responses/encode-stream.ts';
import { responsesClient } from '../conformance/dialects/openai-responses.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;
const surfaceRequest = { params: {}, query: '', headers: {} };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/responses/${name}`, import.meta.url), 'utf8');
const decode = (body: Json) => decodeResponsesRequest(body, surfaceRequest);

function rejects(body: Json, param: string, pattern: RegExp): void {
  assert.throws(() => decode(body), (error: unknown) => {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a Codex request decodes into system prompts, one turn per assistant step, tools and settings', () => {
  const request = decode(JSON.parse(fixture('codex-request.json')));
  assert.equal(request.model, 'gpt-5-codex');
  assert.equal(request.stream, true);
  assert.deepEqual(request.messages.map((message) => message.role), ['system', 'system', 'user', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'user']);
  assert.match((request.messages[0]!.content[0] as { text: string }).text, /^You are Codex/);
  assert.match((request.messages[1]!.content[0] as { text: string }).text, /permissions instructions/);
  assert.deepEqual(request.messages[4]!.content, [
    { type: 'reasoning', text: '**Listing files**\n\nI should look at the repository first.', signature: 'gAAAAABo1-encrypted-reasoning-blob==' },
    { type: 'tool-call', id: 'call_Xk2Y8dL0sQw1', name: 'shell', arguments: '{"command":["bash","-lc","ls"],"workdir":"/home/dev/repo"}' },
  ]);
  assert.deepEqual(request.messages[5]!.content, [{ type: 'tool-result', toolCallId: 'call_Xk2Y8dL0sQw1', content: 'README.md\nsrc\npackage.json' }]);
  assert.deepEqual(request.messages[6]!.content, [{ type: 'tool-call', id: 'call_patch_7', name: 'apply_patch', arguments: JSON.stringify({ input: '*** Begin Patch\n*** Update File: README.md\n-teh\n+the\n*** End Patch' }) }]);
  assert.deepEqual(request.messages[8]!.content, [{ type: 'text', text: 'Fixed the typo.' }]);
  assert.deepEqual(request.tools!.map((tool) => tool.name), ['shell', 'apply_patch']);
  assert.equal(request.tools![0]!.strict, false);
  assert.deepEqual(request.tools![1]!.parameters.required, ['input'], 'a custom tool becomes a one-string-argument function');
  assert.match(JSON.stringify(request.tools![1]!.parameters), /lark grammar/);
  assert.deepEqual(request.toolChoice, { type: 'auto' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.reasoning, { effort: 'medium', includeThoughts: true });
  assert.deepEqual(request.metadata, { sessionId: '0199d0c1-5a8e-7c22-9b1e-3f4e5d6c7b8a' });
  assert.deepEqual(request.passThrough, {
    dialect: 'openai-responses', fields: {},
    inert: { store: false, include: ['reasoning.encrypted_content'], 'text.verbosity': 'low' },
  });
  assert.deepEqual([...(request.surfaceHints!.responses as Json).calls], [['apply_patch', { item: 'custom_tool_call', name: 'apply_patch' }]]);
});

test('input as a string, messages without a type, content parts of every kind', () => {
  const simple = decode({ model: 'm', input: 'Hello', instructions: 'Be brief.', max_output_tokens: 20, temperature: 0.5, top_p: 0.8, user: 'u-1' });
  assert.deepEqual(simple.messages, [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] }, { role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
  assert.deepEqual(simple.sampling, { temperature: 0.5, topP: 0.8, maxTokens: 20 });
  assert.deepEqual(simple.metadata, { user: 'u-1' });
  assert.equal(simple.stream, false);
  assert.equal(simple.passThrough, undefined);
  const rich = decode({
    model: 'm',
    input: [
      { role: 'system', content: 'Sys.' },
      { role: 'user', content: [
        { type: 'input_text', text: 'Look:' },
        { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
        { type: 'input_image', image_url: 'https://example.com/a.jpg', detail: 'auto' },
        { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
        { type: 'input_file', file_url: 'https://example.com/b.pdf' },
      ] },
      { role: 'assistant', content: 'Earlier answer.' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'result' }, { type: 'input_image', image_url: 'https://example.com/chart.png' }] },
    ],
  });
  assert.deepEqual(rich.messages[1]!.content, [
    { type: 'text', text: 'Look:' },
    { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' }, detail: 'low' },
    { type: 'image', source: { kind: 'url', url: 'https://example.com/a.jpg' }, detail: 'auto' },
    { type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBERi0=' }, filename: 'a.pdf' },
    { type: 'file', source: { kind: 'url', url: 'https://example.com/b.pdf' } },
  ]);
  assert.deepEqual(rich.messages[2], { role: 'assistant', content: [{ type: 'text', text: 'Earlier answer.' }] });
  assert.deepEqual(rich.messages[3], { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: 'result' }, { type: 'image', source: { kind: 'url', url: 'https://example.com/chart.png' } }] }] });
});

test('reasoning items: summary + encrypted content is signed text; encrypted content alone is redacted', () => {
  const request = decode({
    model: 'm',
    input: [
      { role: 'user', content: 'Q' },
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAA-opaque' },
      { type: 'reasoning', id: 'rs_2', summary: [{ type: 'summary_text', text: 'A' }, { type: 'summary_text', text: 'B' }], encrypted_content: 'gAAAA-sig' },
      { type: 'reasoning', id: 'rs_3', summary: [], content: [{ type: 'reasoning_text', text: 'raw thoughts' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Answer', annotations: [] }] },
    ],
  });
  assert.deepEqual(request.messages[1]!.content, [
    { type: 'reasoning', text: '', redactedData: 'gAAAA-opaque' },
    { type: 'reasoning', text: 'A\n\nB', signature: 'gAAAA-sig' },
    { type: 'reasoning', text: 'raw thoughts' },
    { type: 'text', text: 'Answer' },
  ]);
});

test('tool choice, allowed tools, structured output, reasoning effort', () => {
  const tools = [{ type: 'function', name: 'a', parameters: { type: 'object' } }, { type: 'function', name: 'b', parameters: null }];
  assert.deepEqual(decode({ model: 'm', input: 'x', tools, tool_choice: 'required' }).toolChoice, { type: 'required' });
  assert.deepEqual(decode({ model: 'm', input: 'x', tools, tool_choice: { type: 'function', name: 'b' } }).toolChoice, { type: 'tool', name: 'b' });
  const allowed = decode({ model: 'm', input: 'x', tools, tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'b' }] } });
  assert.deepEqual(allowed.tools, [{ name: 'b', parameters: { type: 'object', properties: {} } }]);
  assert.deepEqual(allowed.toolChoice, { type: 'required' });
  assert.deepEqual(decode({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } }).responseFormat, { type: 'json' });
  assert.deepEqual(decode({ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'p', schema: { type: 'object' }, strict: true, description: 'd' } } }).responseFormat, { type: 'json-schema', name: 'p', schema: { type: 'object' }, strict: true, description: 'd' });
  assert.deepEqual(decode({ model: 'm', input: 'x', reasoning: { effort: 'high' } }).reasoning, { effort: 'high', includeThoughts: false });
  rejects({ model: 'm', input: 'x', reasoning: { effort: 'extreme' } }, 'reasoning.effort', /extreme/);
});

test('hosted tools become canonical hosted tools, client-run built-ins and unknown fields are carried for a Responses provider; stateful fields are refused', () => {
  const webSearch = {
    type: 'web_search', filters: { allowed_domains: ['example.com'] }, search_context_size: 'low',
    user_location: { type: 'approximate', city: 'Lyon', country: 'FR' }, external_web_access: false,
  };
  const request = decode({
    model: 'm', input: 'x', tools: [webSearch, { type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'web_search_preview' }, { type: 'local_shell' }],
    tool_choice: { type: 'web_search_preview' }, max_tool_calls: 2, background: false,
  });
  assert.equal(request.tools, undefined);
  assert.deepEqual(request.hostedTools, [
    {
      kind: 'web-search', field: 'tools.web_search', dialect: 'openai-responses', raw: webSearch,
      allowedDomains: ['example.com'], userLocation: { city: 'Lyon', country: 'FR' }, searchContextSize: 'low', cachedOnly: true,
    },
    { kind: 'other', field: 'tools.file_search', dialect: 'openai-responses', raw: { type: 'file_search', vector_store_ids: ['vs_1'] } },
    { kind: 'web-search', field: 'tools.web_search_preview', dialect: 'openai-responses', raw: { type: 'web_search_preview' } },
  ]);
  assert.deepEqual(request.passThrough!.fields, { 'tools.local_shell': [{ type: 'local_shell' }], max_tool_calls: 2 });
  assert.deepEqual(request.passThrough!.serverSide, { tool_choice: { type: 'web_search_preview' } }, 'a hosted tool choice is left to the unsupported_tools policy');
  rejects({ model: 'm', input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id', /stateless|no conversation state/);
  rejects({ model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation', /no conversation state/);
  rejects({ model: 'm', input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt', /stored prompt/);
  rejects({ model: 'm', input: 'x', background: true }, 'background', /background/);
  rejects({ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].id', /not one this gateway answered with/);
  rejects({ model: 'm', input: [{ type: 'computer_call', id: 'cu_1', status: 'completed' }] }, 'input[0].type', /Responses API provider/);
  rejects({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].image_url', /file_id/);
  rejects({ model: 'm', input: [{ role: 'critic', content: 'x' }] }, 'input[0].role', /critic/);
  rejects({ model: 'm', instructions: 'only instructions' }, 'input', /nothing to answer/);
  rejects({ model: 'm', input: 'x', temperature: 'hot' }, 'temperature', /number/);
});

function canonicalResponse(overrides: Partial<CanonicalResponse> = {}): CanonicalResponse {
  return {
    id: 'chatcmpl-abc123', model: 'claude-sonnet-4', created: 1_700_000_000,
    content: [
      { type: 'reasoning', text: 'Thinking.', signature: 'sig-anthropic' },
      { type: 'reasoning', text: '', redactedData: 'redacted-blob' },
      { type: 'text', text: 'Hello ' },
      { type: 'text', text: 'world' },
      { type: 'tool-call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'tool-call', id: 'toolu_2', name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60, reasoningTokens: 7 },
    ...overrides,
  };
}

const codexLike = () => decode({
  model: 'gpt-5-codex', instructions: 'Be Codex.', input: 'hi', stream: true, prompt_cache_key: 'pck',
  tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }, { type: 'custom', name: 'apply_patch' }],
});

test('a canonical answer becomes a response object: items in order, usage, echoed request fields', () => {
  const json = JSON.parse(encodeResponsesResponse(canonicalResponse(), codexLike())) as Json;
  assert.equal(json.object, 'response');
  assert.equal(json.id, 'resp_chatcmplabc123');
  assert.equal(json.status, 'completed');
  assert.equal(json.model, 'claude-sonnet-4');
  assert.equal(json.instructions, 'Be Codex.');
  assert.equal(json.prompt_cache_key, 'pck');
  assert.equal(json.tools.length, 2);
  assert.deepEqual(json.output.map((item: Json) => item.type), ['reasoning', 'reasoning', 'message', 'function_call', 'custom_tool_call']);
  assert.deepEqual(json.output[0].summary, [{ type: 'summary_text', text: 'Thinking.' }]);
  assert.equal(json.output[0].encrypted_content, 'sig-anthropic');
  assert.deepEqual(json.output[1].summary, []);
  assert.equal(json.output[1].encrypted_content, 'redacted-blob');
  assert.equal(json.output[2].content[0].text, 'Hello world');
  assert.deepEqual([json.output[3].call_id, json.output[3].name, json.output[3].arguments], ['toolu_1', 'get_weather', '{"city":"Paris"}']);
  assert.deepEqual([json.output[4].call_id, json.output[4].input], ['toolu_2', '*** Begin Patch']);
  assert.deepEqual(json.usage, { input_tokens: 100, input_tokens_details: { cached_tokens: 60 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 7 }, total_tokens: 120 });
  const outcome = responsesClient.parse(200, new Headers(), JSON.stringify(json), false);
  assert.equal(outcome.finish, 'tool-calls');
  const truncated = JSON.parse(encodeResponsesResponse(canonicalResponse({ content: [{ type: 'text', text: 'Once' }], finishReason: 'length' }), codexLike())) as Json;
  assert.equal(truncated.status, 'incomplete');
  assert.deepEqual(truncated.incomplete_details, { reason: 'max_output_tokens' });
});

function encodeStream(parts: StreamPart[], request: CanonicalRequest = codexLike()): { text: string; events: Json[] } {
  const encoder = new ResponsesStreamEncoder(request);
  assert.equal(encoder.contentType, 'text/event-stream');
  const text = parts.map((part) => encoder.encode(part)).join('');
  return { text, events: parseSse(text).map((event) => JSON.parse(event.data) as Json) };
}

const start: StreamPart = { type: 'response-start', id: 'msg_01Anthropic', model: 'claude-sonnet-4', created: 1_700_000_000 };

test('stream: reasoning with its signature, text, parallel calls — every event, in order, and response.completed', () => {
  const { text, events } = encodeStream([
    start,
    { type: 'reasoning-start', index: 0 },
    { type: 'reasoning-delta', index: 0, delta: 'Two ' },
    { type: 'reasoning-delta', index: 0, delta: 'cities.' },
    { type: 'reasoning-signature', index: 0, signature: 'sig-1' },
    { type: 'reasoning-end', index: 0 },
    { type: 'text-start', index: 1 },
    { type: 'text-delta', index: 1, delta: 'Checking ' },
    { type: 'text-delta', index: 1, delta: 'both.' },
    { type: 'text-end', index: 1 },
    { type: 'tool-call-start', index: 2, id: 'toolu_a', name: 'get_weather' },
    { type: 'tool-call-delta', index: 2, argumentsDelta: '{"city":' },
    { type: 'tool-call-delta', index: 2, argumentsDelta: '"Paris"}' },
    { type: 'tool-call-end', index: 2 },
    { type: 'tool-call-start', index: 3, id: 'toolu_b', name: 'get_weather' },
    { type: 'tool-call-delta', index: 3, argumentsDelta: '{"city":"Oslo"}' },
    { type: 'tool-call-end', index: 3 },
    { type: 'usage', usage: { inputTokens: 50, outputTokens: 0 } },
    { type: 'response-end', finishReason: 'tool-calls', usage: { inputTokens: 50, outputTokens: 30, cachedInputTokens: 10, reasoningTokens: 5 } },
  ]);
  assert.deepEqual(events.map((event) => event.type), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
    'response.completed',
  ]);
  const outcome = responsesClient.parse(200, new Headers(), text, true);
  assert.equal(outcome.text, 'Checking both.');
  assert.equal(outcome.reasoning, 'Two cities.');
  assert.deepEqual(outcome.signatures, ['sig-1']);
  assert.deepEqual(outcome.toolCalls, [{ id: 'toolu_a', name: 'get_weather', args: { city: 'Paris' } }, { id: 'toolu_b', name: 'get_weather', args: { city: 'Oslo' } }]);
  assert.equal(outcome.finish, 'tool-calls');
  assert.deepEqual(outcome.usage, { input: 50, output: 30, cached: 10, reasoning: 5 });
  const completed = events.at(-1)!.response;
  assert.equal(completed.id, 'resp_msg01Anthropic');
  assert.equal(completed.output[0].encrypted_content, 'sig-1');
});

test('stream: each part is written as it arrives (the first events go out at once)', () => {
  const encoder = new ResponsesStreamEncoder(codexLike());
  const first = encoder.encode(start);
  assert.match(first, /^event: response\.created\n/);
  assert.match(encoder.encode({ type: 'text-start', index: 0 }), /response\.output_item\.added/);
  assert.match(encoder.encode({ type: 'text-delta', index: 0, delta: 'H' }), /"delta":"H"/);
});

test('stream: redacted reasoning, a custom tool call, and an incomplete end', () => {
  const { events } = encodeStream([
    start,
    { type: 'reasoning-start', index: 0, redactedData: 'opaque' },
    { type: 'reasoning-end', index: 0 },
    { type: 'tool-call-start', index: 1, id: 'call_p', name: 'apply_patch' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '{"input":"*** Be' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: 'gin Patch"}' },
    { type: 'tool-call-end', index: 1 },
    { type: 'response-end', finishReason: 'length', usage: { inputTokens: 5, outputTokens: 64 } },
  ]);
  const done = events.filter((event) => event.type === 'response.output_item.done').map((event) => event.item);
  assert.deepEqual(done[0], { id: 'rs_msg01Anthropic_0', type: 'reasoning', summary: [], encrypted_content: 'opaque' });
  assert.deepEqual([done[1].type, done[1].call_id, done[1].input], ['custom_tool_call', 'call_p', '*** Begin Patch']);
  assert.deepEqual(events.find((event) => event.type === 'response.custom_tool_call_input.done')?.input, '*** Begin Patch');
  assert.equal(events.at(-1)!.type, 'response.incomplete');
  assert.deepEqual(events.at(-1)!.response.incomplete_details, { reason: 'max_output_tokens' });
});

test('stream: a failure mid-stream is an `error` event, then response.failed in the vocabulary Codex reads', () => {
  const rateLimited = new GatewayError(ErrorCode.upstreamStatus, "Provider 'up' answered 429: slow down", { status: 429, origin: 'upstream', errorClass: 'rate-limited', retryAfterSeconds: 7 });
  const { events } = encodeStream([start, { type: 'text-start', index: 0 }, { type: 'text-delta', index: 0, delta: 'Hel' }, { type: 'error', error: rateLimited }]);
  assert.deepEqual(events.slice(-2).map((event) => event.type), ['error', 'response.failed']);
  assert.equal(events.at(-2)!.message, "Provider 'up' answered 429: slow down");
  const failed = events.at(-1)!.response;
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.error, { code: 'rate_limit_exceeded', message: "Provider 'up' answered 429: slow down Please try again in 7s." });
  events.forEach((event, i) => assert.equal(event.sequence_number, i));
  // an error before anything was streamed still names a response
  const early = encodeStream([{ type: 'error', error: new GatewayError(ErrorCode.upstreamReset, 'reset', { status: 502 }) }]).events;
  assert.equal(early.at(-1)!.response.error.code, 'server_error');
  assert.match(early.at(-1)!.response.id, /^resp_/);
});

test('the surface has its translation codec; errors keep the OpenAI shape', () => {
  assert.ok(openaiResponses.chat !== undefined);
  const wire = openaiResponses.encodeError(new GatewayError(ErrorCode.invalidRequest, 'bad', { status: 400, param: 'input' }));
  assert.equal(wire.status, 400);
  assert.deepEqual(JSON.parse(wire.body), { error: { message: 'bad', type: 'invalid_request_error', param: 'input', code: 'invalid_request' } });
  assert.ok(openaiResponses.isStreamTerminal(Buffer.from('event: response.completed\ndata: {}\n\n')));
});

test('item_reference resolves items this gateway answered with; the store is bounded', async () => {
  const { BoundedItemStore } = await import('../../src/pipeline/item-store.ts');
  const items = new BoundedItemStore(2);
  items.set('fc_1', { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{"a":1}', status: 'completed' });
  items.set('msg_1', { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] });
  const request = decodeResponsesRequest({ model: 'm', input: [
    { role: 'user', content: 'hello' },
    { type: 'item_reference', id: 'msg_1' },
    { type: 'item_reference', id: 'fc_1' },
    { type: 'function_call_output', call_id: 'call_1', output: 'done' },
  ] }, { ...surfaceRequest, items });
  assert.deepEqual(request.messages.map((message) => message.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(request.messages[1]!.content, [{ type: 'text', text: 'Hi' }, { type: 'tool-call', id: 'call_1', name: 'f', arguments: '{"a":1}' }]);
  items.set('rs_1', { type: 'reasoning', id: 'rs_1', summary: [] });
  assert.equal(items.size, 2, 'the least recently used item was evicted');
  assert.equal(items.get('msg_1'), undefined);
  assert.notEqual(items.get('fc_1'), undefined);
});
