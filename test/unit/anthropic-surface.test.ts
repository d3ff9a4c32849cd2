// The Anthropic Messages surface: requests as the SDK and Claude Code send them → canonical, and
// canonical answers → Anthropic's message JSON, event stream and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ModelCatalog } from '../../src/canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeMessagesRequest } from '../../src/surfaces/anthropic/decode-request.ts';
import { encodeAnthropicError, encodeAnthropicStreamError } from '../../src/surfaces/anthropic/encode-error.ts';
import { encodeMessagesResponse } from '../../src/surfaces/anthropic/encode-response.ts';
import { MessagesStreamEncoder } from '../../src/surfaces/anthropic/encode-stream.ts';
import { anthropicCountTokens, anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { inspectMessages, inspectMessagesRequest } from '../../src/surfaces/anthropic/inspect.ts';
import { anthropicSurfaces, listModels, speaksAnthropic } from '../../src/surfaces/anthropic/routes.ts';
import { parseSse } from '../helpers/sse.ts';

const surfaceRequest = { params: {}, query: '', headers: {} };
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
const decode = (body: Record<string, unknown>): CanonicalRequest => decodeMessagesRequest({ model: 'claude-x', max_tokens: 100, ...body }, surfaceRequest);
const user = (content: unknown) => ({ role: 'user', content });

function rejects(run: () => unknown, param: string): void {
  assert.throws(run, (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param);
}

test('inspect: routes on model and stream, fails fast on a malformed body with Anthropic-style paths', () => {
  assert.deepEqual(inspectMessagesRequest({ model: 'claude-x', max_tokens: 5, messages: [user('hi')], stream: true }, false), { model: 'claude-x', stream: true });
  assert.deepEqual(inspectMessagesRequest({ model: 'claude-x', messages: [user('hi')], stream: true }, true), { model: 'claude-x', stream: false }, 'count_tokens never streams');
  rejects(() => inspectMessagesRequest({ messages: [] }, false), 'model');
  rejects(() => inspectMessagesRequest({ model: 'm', messages: 'hi' }, false), 'messages');
  rejects(() => inspectMessagesRequest({ model: 'm', messages: [] }, false), 'messages');
  // each message: checked once the body is parsed whole (a translated attempt), not for routing
  rejects(() => inspectMessages({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }), 'messages.0.role');
  inspectMessages({ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'system', content: 'mid-conversation' }] }); // Claude Code's mid-conversation system messages are accepted
  rejects(() => inspectMessages({ model: 'm', messages: [{ role: 'user' }] }), 'messages.0.content');
  rejects(() => inspectMessages({ model: 'm', messages: ['x'] }), 'messages.0');
  rejects(() => inspectMessagesRequest({ model: 'm', messages: [user('x')], max_tokens: '5' }, false), 'max_tokens');
  rejects(() => inspectMessagesRequest({ model: 'm', messages: [user('x')], stream: 'yes' }, false), 'stream');
  rejects(() => inspectMessagesRequest([], false), undefined as unknown as string);
});

test('request: a Claude Code body decodes whole — system blocks, cache_control, thinking, tools, tool results, session', () => {
  const request = decodeMessagesRequest(JSON.parse(fixture('request-claude-code.json')), surfaceRequest);
  assert.equal(request.stream, true);
  assert.deepEqual(request.messages[0], {
    role: 'system',
    content: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cacheControl: { type: 'ephemeral' } },
      { type: 'text', text: request.messages[0]!.content[1]!.type === 'text' ? (request.messages[0]!.content[1] as { text: string }).text : '', cacheControl: { type: 'ephemeral' } },
    ],
  });
  assert.equal(request.messages[1]!.role, 'user');
  assert.equal(request.messages[1]!.content.length, 2);
  const assistant = request.messages[2]!;
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.content[0]!.type, 'reasoning');
  assert.match((assistant.content[0] as { signature: string }).signature, /^EqMCCkYIBhgCKkDq3wH8/);
  assert.deepEqual(assistant.content[2], { type: 'tool-call', id: 'toolu_01A9sQnVb7Kc3mJxT2yRdE4F', name: 'Bash', arguments: '{"command":"npm test","description":"Run the test suite"}' });
  assert.deepEqual(request.messages[3], {
    role: 'tool',
    content: [{ type: 'tool-result', toolCallId: 'toolu_01A9sQnVb7Kc3mJxT2yRdE4F', content: (request.messages[3]!.content[0] as { content: string }).content, isError: true, cacheControl: { type: 'ephemeral' } }],
  });
  assert.deepEqual(request.tools!.map((tool) => tool.name), ['Bash', 'Read', 'Edit']);
  assert.deepEqual(request.tools![2]!.cacheControl, { type: 'ephemeral' });
  assert.equal(request.tools![0]!.parameters.$schema, 'http://json-schema.org/draft-07/schema#', 'schemas pass as sent');
  assert.deepEqual(request.sampling, { maxTokens: 32000, temperature: 1 });
  assert.deepEqual(request.reasoning, { budgetTokens: 31999, includeThoughts: true });
  assert.equal(request.metadata?.sessionId, '5b0e8d3a-9c2f-4e71-a6b4-3d8f1c7e2a90', 'the session in metadata.user_id is kept for cache affinity');
  assert.match(request.metadata!.user!, /^user_2f4d/);
  assert.deepEqual(request.passThrough, { dialect: 'anthropic', fields: {}, serverSide: { context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] } } },
    'context_management is server-side: kept for Anthropic, left to the unsupported_tools policy for other providers');
});

test('request: images (base64 and URL), documents, string content, stop sequences, sampling', () => {
  const request = decode({
    system: 'Be brief.',
    messages: [
      user([
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/a.jpg' }, cache_control: { type: 'ephemeral', ttl: '1h' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' }, title: 'spec.pdf' },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
        { type: 'text', text: 'Describe.' },
      ]),
      { role: 'assistant', content: 'A picture.' },
    ],
    temperature: 0.3, top_p: 0.8, top_k: 40, stop_sequences: ['\n\nHuman:', 'END'],
  });
  assert.deepEqual(request.messages[0], { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] });
  assert.deepEqual(request.messages[1]!.content, [
    { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { kind: 'url', url: 'https://upload.wikimedia.org/a.jpg' }, cacheControl: { type: 'ephemeral', ttl: '1h' } },
    { type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBERi0x' }, filename: 'spec.pdf' },
    { type: 'file', source: { kind: 'base64', mediaType: 'text/plain', data: Buffer.from('plain words').toString('base64') } },
    { type: 'text', text: 'Describe.' },
  ]);
  assert.deepEqual(request.messages[2], { role: 'assistant', content: [{ type: 'text', text: 'A picture.' }] });
  assert.deepEqual(request.sampling, { maxTokens: 100, temperature: 0.3, topP: 0.8, topK: 40, stop: ['\n\nHuman:', 'END'] });
});

test('request: tool results split from text in order, errors flagged, content blocks kept', () => {
  const request = decode({
    messages: [
      user('Weather?'),
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'w', input: { city: 'Paris' } }, { type: 'tool_use', id: 'toolu_b', name: 'w', input: {} }] },
      user([
        { type: 'tool_result', tool_use_id: 'toolu_a', content: [{ type: 'text', text: '18°C' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] },
        { type: 'tool_result', tool_use_id: 'toolu_b', content: 'timeout', is_error: true },
        { type: 'text', text: 'Summarise.' },
      ]),
    ],
  });
  assert.deepEqual(request.messages.slice(2), [
    {
      role: 'tool',
      content: [
        { type: 'tool-result', toolCallId: 'toolu_a', content: [{ type: 'text', text: '18°C' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AA==' } }] },
        { type: 'tool-result', toolCallId: 'toolu_b', content: 'timeout', isError: true },
      ],
    },
    { role: 'user', content: [{ type: 'text', text: 'Summarise.' }] },
  ]);
  assert.equal((request.messages[1]!.content[1] as { arguments: string }).arguments, '{}');
});

test('request: thinking — budget, adaptive with effort, disabled, omitted display, redacted blocks', () => {
  assert.deepEqual(decode({ messages: [user('x')], thinking: { type: 'enabled', budget_tokens: 2048 } }).reasoning, { budgetTokens: 2048, includeThoughts: true });
  assert.deepEqual(decode({ messages: [user('x')], thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }).reasoning, { includeThoughts: true, effort: 'xhigh' });
  assert.deepEqual(decode({ messages: [user('x')], thinking: { type: 'enabled', budget_tokens: 4096, display: 'omitted' } }).reasoning, { budgetTokens: 4096, includeThoughts: false });
  assert.deepEqual(decode({ messages: [user('x')], thinking: { type: 'disabled' } }).reasoning, { effort: 'none', includeThoughts: false });
  assert.deepEqual(decode({ messages: [user('x')], output_config: { effort: 'low' } }).reasoning, { effort: 'low' });
  rejects(() => decode({ messages: [user('x')], thinking: { type: 'enabled' } }), 'thinking.budget_tokens');
  rejects(() => decode({ messages: [user('x')], output_config: { effort: 'extreme' } }), 'output_config.effort');
  const history = decode({
    messages: [user('q'), { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig-1' }, { type: 'redacted_thinking', data: 'EmwKAhgB' }, { type: 'thinking', thinking: 'unsigned', signature: '' }, { type: 'text', text: 'a' }] }],
  });
  assert.deepEqual(history.messages[1]!.content, [
    { type: 'reasoning', text: 'hmm', signature: 'sig-1' },
    { type: 'reasoning', text: '', redactedData: 'EmwKAhgB' },
    { type: 'reasoning', text: 'unsigned' },
    { type: 'text', text: 'a' },
  ]);
});

test('request: tools, tool_choice, parallel tool use, structured output', () => {
  const request = decode({
    messages: [user('x')],
    tools: [{ name: 'f', description: 'd', input_schema: { type: 'object', properties: {} }, strict: true, eager_input_streaming: true }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } },
  });
  assert.deepEqual(request.tools, [{ name: 'f', description: 'd', parameters: { type: 'object', properties: {} }, strict: true }]);
  assert.deepEqual(request.toolChoice, { type: 'required' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.responseFormat, { type: 'json-schema', name: 'response', schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, strict: true });
  assert.deepEqual(decode({ messages: [user('x')], tool_choice: { type: 'tool', name: 'f' } }).toolChoice, { type: 'tool', name: 'f' });
  assert.deepEqual(decode({ messages: [user('x')], tool_choice: { type: 'none' } }).toolChoice, { type: 'none' });
  assert.deepEqual(decode({ messages: [user('x')], tool_choice: { type: 'auto' } }).toolChoice, { type: 'auto' });
  assert.equal(decode({ messages: [user('x')], output_format: { type: 'json_schema', schema: { type: 'object' } } }).responseFormat?.type, 'json-schema', 'the beta output_format too');
  rejects(() => decode({ messages: [user('x')], tool_choice: { type: 'required' } }), 'tool_choice.type');
});

test('request: server tools become hosted tools; what canonical cannot carry rides in passThrough (client-side built-ins); the MCP connector is server-side; inert fields apart', () => {
  const webSearch = {
    type: 'web_search_20250305', name: 'web_search', max_uses: 3, allowed_domains: ['example.com'],
    user_location: { type: 'approximate', city: 'Lyon', country: 'FR', timezone: 'Europe/Paris' },
  };
  const request = decode({
    messages: [user('x')],
    tools: [
      webSearch, { type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 2 }, { type: 'code_execution_20250825', name: 'code_execution' },
      { type: 'bash_20250124', name: 'bash' }, { name: 'f', input_schema: { type: 'object' }, input_examples: [{}] }, { name: 'g', input_schema: { type: 'object' } },
    ],
    mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }],
    service_tier: 'auto', speed: 'fast',
  });
  assert.deepEqual(request.tools!.map((tool) => tool.name), ['g']);
  assert.deepEqual(request.hostedTools, [
    {
      kind: 'web-search', field: 'tools.web_search', dialect: 'anthropic', raw: webSearch,
      allowedDomains: ['example.com'], maxUses: 3, userLocation: { city: 'Lyon', country: 'FR', timezone: 'Europe/Paris' },
    },
    { kind: 'web-fetch', field: 'tools.web_fetch', dialect: 'anthropic', raw: { type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 2 }, maxUses: 2 },
    { kind: 'code-execution', field: 'tools.code_execution', dialect: 'anthropic', raw: { type: 'code_execution_20250825', name: 'code_execution' } },
  ]);
  assert.deepEqual(request.passThrough, {
    dialect: 'anthropic',
    fields: {
      tools: [{ type: 'bash_20250124', name: 'bash' }, { name: 'f', input_schema: { type: 'object' }, input_examples: [{}] }],
    },
    inert: { service_tier: 'auto', speed: 'fast' },
    // MCP servers Anthropic's servers call: Anthropic's to run, for another provider the unsupported_tools policy
    serverSide: { mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }] },
  });
});

test('request: top-level cache_control lands on the last cacheable block; untranslatable blocks are refused by path', () => {
  const request = decode({ cache_control: { type: 'ephemeral' }, messages: [user('a'), { role: 'assistant', content: [{ type: 'text', text: 'b' }, { type: 'tool_use', id: 't', name: 'f', input: {} }] }] });
  assert.deepEqual(request.messages[1]!.content[0], { type: 'text', text: 'b', cacheControl: { type: 'ephemeral' } });
  rejects(() => decode({ messages: [user([{ type: 'search_result', source: 'x', title: 't', content: [] }])] }), 'messages.0.content.0.type');
  rejects(() => decode({ messages: [user([{ type: 'image', source: { type: 'file', file_id: 'file_011' } }])] }), 'messages.0.content.0.source');
  rejects(() => decode({ messages: [user([{ type: 'tool_use', id: 't', name: 'f', input: {} }])] }), 'messages.0.content.0.type');
  rejects(() => decode({ messages: [user([{ type: 'text', text: 'x', cache_control: { type: 'persistent' } }])] }), 'messages.0.content.0.cache_control');
  rejects(() => decode({ system: [{ type: 'image' }], messages: [user('x')] }), 'system.0.type');
  rejects(() => decode({ cache_control: { type: 'forever' }, messages: [user('x')] }), 'cache_control');
});

const response: CanonicalResponse = {
  id: 'chatcmpl-abc', model: 'gpt-4o', created: 1, finishReason: 'tool-calls', rawFinishReason: 'tool_calls',
  content: [
    { type: 'reasoning', text: 'think', signature: 'sig-9' },
    { type: 'reasoning', text: '', redactedData: 'REDACTED' },
    { type: 'text', text: 'Calling.' },
    { type: 'tool-call', id: 'call_1', name: 'f', arguments: '{"a":1}' },
    { type: 'tool-call', id: 'call_2', name: 'g', arguments: '' },
  ],
  usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60, cacheWriteInputTokens: 10, reasoningTokens: 5 },
};

test('response: content blocks, stop reason, usage converted to Anthropic semantics (input excludes cache)', () => {
  const body = JSON.parse(encodeMessagesResponse(response, {} as CanonicalRequest));
  assert.deepEqual(body, {
    id: 'chatcmpl-abc', type: 'message', role: 'assistant', model: 'gpt-4o',
    content: [
      { type: 'thinking', thinking: 'think', signature: 'sig-9' },
      { type: 'redacted_thinking', data: 'REDACTED' },
      { type: 'text', text: 'Calling.' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'call_2', name: 'g', input: {} },
    ],
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 30, cache_creation_input_tokens: 10, cache_read_input_tokens: 60, output_tokens: 20, output_tokens_details: { thinking_tokens: 5 } },
  });
});

test('response: every finish reason maps to a stop reason', () => {
  const stop = (finishReason: CanonicalResponse['finishReason'], extra: Partial<CanonicalResponse> = {}) =>
    JSON.parse(encodeMessagesResponse({ ...response, content: [{ type: 'text', text: 'x' }], finishReason, rawFinishReason: undefined, ...extra }, {} as CanonicalRequest)).stop_reason;
  assert.equal(stop('stop'), 'end_turn');
  assert.equal(stop('stop', { stopSequence: 'END' }), 'stop_sequence');
  assert.equal(stop('length'), 'max_tokens');
  assert.equal(stop('tool-calls'), 'tool_use');
  assert.equal(stop('content-filter'), 'refusal');
  assert.equal(stop('other', { rawFinishReason: 'pause_turn' }), 'pause_turn', "Anthropic's own word passes");
  assert.equal(stop('stop', { content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '{}' }] }), 'tool_use', 'a "stop" after tool calls still asks the client to run them');
});

function encodeStream(parts: StreamPart[]): string {
  const encoder = new MessagesStreamEncoder();
  return parts.map((part) => encoder.encode(part)).join('');
}

test('stream: message_start, indexed blocks with text/thinking/signature/tool deltas, message_delta with usage, message_stop', () => {
  const text = encodeStream([
    { type: 'response-start', id: 'chatcmpl-1', model: 'gpt-4o', created: 1 },
    { type: 'reasoning-start', index: 0 },
    { type: 'reasoning-delta', index: 0, delta: 'Let me ' },
    { type: 'reasoning-delta', index: 0, delta: 'think.' },
    { type: 'reasoning-signature', index: 0, signature: 'sig-abc' },
    { type: 'reasoning-end', index: 0 },
    { type: 'reasoning-start', index: 1, redactedData: 'ENCRYPTED' },
    { type: 'reasoning-end', index: 1 },
    { type: 'text-start', index: 2 },
    { type: 'text-delta', index: 2, delta: 'Hi' },
    { type: 'text-delta', index: 2, delta: '' },
    { type: 'text-end', index: 2 },
    { type: 'tool-call-start', index: 3, id: 'call_1', name: 'get_weather' },
    { type: 'tool-call-delta', index: 3, argumentsDelta: '{"city":' },
    { type: 'tool-call-delta', index: 3, argumentsDelta: '"Paris"}' },
    { type: 'tool-call-end', index: 3 },
    { type: 'usage', usage: { inputTokens: 50, outputTokens: 12, cachedInputTokens: 20 } },
    { type: 'response-end', finishReason: 'tool-calls', usage: { inputTokens: 50, outputTokens: 12, cachedInputTokens: 20, reasoningTokens: 3 } },
  ]);
  const events = parseSse(text);
  for (const event of events) assert.equal(event.event, JSON.parse(event.data).type, 'each event is named after its type');
  const data = events.map((event) => JSON.parse(event.data));
  assert.deepEqual(data.map((event) => event.type), [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop',
  ]);
  assert.deepEqual(data[0].message, {
    id: 'chatcmpl-1', type: 'message', role: 'assistant', model: 'gpt-4o', content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
  });
  assert.deepEqual(data[1], { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
  assert.deepEqual(data[4], { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-abc' } });
  assert.deepEqual(data[6], { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'ENCRYPTED' } });
  assert.deepEqual(data[11], { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } });
  assert.deepEqual(data[12], { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{"city":' } });
  assert.deepEqual(data[15], {
    type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 20, output_tokens: 12, output_tokens_details: { thinking_tokens: 3 } },
  });
});

test('stream: usage parts fill in when response-end has none; stop sequences; blocks left open are closed', () => {
  const data = parseSse(encodeStream([
    { type: 'response-start', id: 'm', model: 'x', created: 1 },
    { type: 'usage', usage: { inputTokens: 9, outputTokens: 0 } },
    { type: 'text-start', index: 0 },
    { type: 'text-delta', index: 0, delta: '1, 2' },
    { type: 'usage', usage: { inputTokens: 9, outputTokens: 4 } },
    { type: 'response-end', finishReason: 'stop', stopSequence: '3' },
  ])).map((event) => JSON.parse(event.data));
  assert.deepEqual(data.slice(-3), [
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: '3' }, usage: { input_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 4 } },
    { type: 'message_stop' },
  ]);
});

test('stream: an error part becomes an event: error in Anthropic shape', () => {
  const encoder = new MessagesStreamEncoder();
  const error = new GatewayError(ErrorCode.upstreamProtocol, 'cut short', { status: 502, origin: 'upstream' });
  const events = parseSse(encoder.encode({ type: 'error', error }));
  assert.deepEqual(events, [{ event: 'error', data: '{"type":"error","error":{"type":"api_error","message":"cut short"}}' }]);
});

test('errors: status → Anthropic error type; upstream 529 stays overloaded; retry-after kept', () => {
  const error = (status: number, extra: Partial<GatewayError> = {}) => Object.assign(new GatewayError(ErrorCode.invalidRequest, `m${status}`, { status }), extra);
  const cases: [number, string][] = [[400, 'invalid_request_error'], [401, 'authentication_error'], [402, 'billing_error'], [403, 'permission_error'], [404, 'not_found_error'],
    [405, 'invalid_request_error'], [413, 'request_too_large'], [429, 'rate_limit_error'], [500, 'api_error'], [502, 'api_error'], [503, 'overloaded_error'], [504, 'timeout_error']];
  for (const [status, type] of cases) {
    const wire = encodeAnthropicError(error(status));
    assert.equal(wire.status, status);
    assert.deepEqual(JSON.parse(wire.body), { type: 'error', error: { type, message: `m${status}` } });
  }
  const overloaded = new GatewayError(ErrorCode.upstreamStatus, 'Overloaded', { status: 429, upstreamStatus: 529, retryAfterSeconds: 2.5 });
  const wire = encodeAnthropicError(overloaded);
  assert.equal(wire.status, 529);
  assert.equal(JSON.parse(wire.body).error.type, 'overloaded_error');
  assert.deepEqual(wire.headers.slice(-2), ['retry-after', '3']);
  assert.equal(encodeAnthropicStreamError(error(429)), 'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"m429"}}\n\n');
});

test('surface adapters: terminal events for pass-through, count_tokens answer', () => {
  assert.equal(anthropicMessages.isStreamTerminal(Buffer.from('event: message_delta\ndata: {}\n\nevent: message_stop\ndata: {"type":"message_stop"   }\n\n')), true);
  assert.equal(anthropicMessages.isStreamTerminal(Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')), true);
  assert.equal(anthropicMessages.isStreamTerminal(Buffer.from('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"event: message_stop"}}\n\n')), false);
  assert.equal(anthropicMessages.isStreamTerminal(Buffer.from('data: {"type":"message_stop"}\n\n')), true);
  assert.equal(anthropicCountTokens.countTokens!.encodeResponse(42), '{"input_tokens":42}');
  assert.equal(anthropicCountTokens.operation, 'count-tokens');
  assert.equal(anthropicMessages.wire, 'anthropic-messages');
  assert.equal(anthropicMessages.encodeStreamError(new GatewayError(ErrorCode.idleTimeout, 'idle', { status: 504 })).toString(), 'event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"idle"}}\n\n');
});

const catalog: ModelCatalog = {
  list: () => ['claude-a', 'claude-b', 'claude-c', 'gpt-d', 'gpt-e'].map((id) => ({ id, ownedBy: 'up' })),
  find: (name) => (name.startsWith('claude') || name.startsWith('gpt') ? { id: name, ownedBy: 'up' } : undefined),
};

test('models: Anthropic list shape with cursor pagination, retrieve, 404 in Anthropic shape', () => {
  const page = (query: string) => JSON.parse(listModels(catalog, query).body);
  const all = page('');
  assert.equal(all.data.length, 5);
  assert.equal(all.has_more, false);
  assert.deepEqual(Object.keys(all.data[0]).sort(), ['created_at', 'display_name', 'id', 'type']);
  assert.equal(all.data[0].type, 'model');
  assert.match(all.data[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(page('limit=2'), { data: page('limit=2').data, has_more: true, first_id: 'claude-a', last_id: 'claude-b' });
  assert.deepEqual(page('limit=2&after_id=claude-b').data.map((model: { id: string }) => model.id), ['claude-c', 'gpt-d']);
  const before = page('limit=2&before_id=gpt-d');
  assert.deepEqual(before.data.map((model: { id: string }) => model.id), ['claude-b', 'claude-c']);
  assert.equal(before.has_more, true);
  assert.equal(listModels(catalog, 'limit=0').status, 400);
  assert.equal(listModels(catalog, 'after_id=nope').status, 400);
  const retrieve = anthropicSurfaces.routes.find((route) => route.method === 'GET' && route.match !== undefined)!;
  const found = retrieve.local!(catalog, { ...surfaceRequest, method: 'GET', path: '/v1/models/claude-a', params: { id: 'claude-a' } });
  assert.equal(JSON.parse(found.body).id, 'claude-a');
  const missing = retrieve.local!(catalog, { ...surfaceRequest, method: 'GET', path: '/v1/models/nope', params: { id: 'nope' } });
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).error.type, 'not_found_error');
});

test('routes: messages and count_tokens; the models list only for requests that carry anthropic-version', () => {
  const paths = anthropicSurfaces.routes.map((route) => `${route.method} ${route.path}`);
  assert.deepEqual(paths, ['POST /v1/messages', 'POST /v1/messages/count_tokens', 'GET /v1/models', 'GET /v1/models/']);
  assert.equal(speaksAnthropic({ ...surfaceRequest, headers: { 'anthropic-version': '2023-06-01' } }), true);
  assert.equal(speaksAnthropic({ ...surfaceRequest, headers: { authorization: 'Bearer x' } }), false);
  assert.deepEqual(anthropicSurfaces.errorPrefixes.map((entry) => entry.prefix), ['/v1/messages']);
});
