// The tool shapes Codex sends (test/fixtures/clients/codex-request.json, recorded from 0.171.0) in
// the Responses surface, for providers of other dialects: a client-executed tool search, freeform
// (custom) tools, tools in namespaces, tools declared in an `additional_tools` input item (its
// responses-lite requests) and the tools a tool search answered with — each a function tool the
// model can call — and the model's calls of them turned back into the items Codex expects
// (tool_search_call, custom_tool_call, a function_call naming its namespace), streamed and not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeResponsesRequest } from '../../src/surfaces/openai/responses/decode-request.ts';
import { flatName } from '../../src/surfaces/openai/responses/decode-tools.ts';
import { encodeResponsesResponse } from '../../src/surfaces/openai/responses/encode-response.ts';
import { ResponsesStreamEncoder } from '../../src/surfaces/openai/responses/encode-stream.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;

const codex = JSON.parse(readFileSync(new URL('../fixtures/clients/codex-request.json', import.meta.url), 'utf8')) as { requests: Record<string, { body: Json }> };
const surfaceRequest = { params: {}, query: '', headers: {} };
const decode = (body: Json): CanonicalRequest => decodeResponsesRequest(structuredClone(body), surfaceRequest);
const recorded = (name: string): CanonicalRequest => decode(codex.requests[name]!.body);
const names = (request: CanonicalRequest): string[] => (request.tools ?? []).map((tool) => tool.name);

test('flatName: plain names, the functions namespace as plain, namespace__name, and a fold (prefix and hash) past 64 characters', () => {
  assert.equal(flatName(undefined, 'exec_command'), 'exec_command');
  assert.equal(flatName('functions', 'exec'), 'exec');
  assert.equal(flatName('clock', 'sleep'), 'clock__sleep');
  const long = flatName('mcp__a_rather_long_server_name_for_the_tracker', 'list_issues_in_the_current_project');
  assert.equal(long.length, 64);
  assert.match(long, /^mcp__a_rather_long_server_name_for_the_tracker__list_is_[0-9a-f]{8}$/);
  assert.equal(flatName('mcp__a_rather_long_server_name_for_the_tracker', 'list_issues_in_the_current_project'), long, 'the same name each time');
});

test('a catalogue model (gpt-5.5): tool_search (client) and apply_patch (custom) are function tools; nothing foreign is left', () => {
  const request = recorded('catalogue-model');
  assert.deepEqual(names(request), ['exec_command', 'write_stdin', 'request_user_input', 'apply_patch', 'view_image', 'get_goal', 'create_goal', 'update_goal', 'tool_search']);
  const search = request.tools!.find((tool) => tool.name === 'tool_search')!;
  assert.match(search.description ?? '', /^# Tool discovery/);
  assert.deepEqual(search.parameters.required, ['query']);
  assert.deepEqual(request.hostedTools!.map((tool) => tool.field), ['tools.web_search']);
  assert.equal(request.passThrough?.fields.tools, undefined);
  assert.deepEqual(Object.keys(request.passThrough?.fields ?? {}), []);
  const calls = (request.surfaceHints!.responses as Json).calls as Map<string, Json>;
  assert.deepEqual([...calls], [['apply_patch', { item: 'custom_tool_call', name: 'apply_patch' }], ['tool_search', { item: 'tool_search_call', name: 'tool_search' }]]);
});

test('a hosted (server-executed) tool search is a hosted tool under the unsupported_tools policy, not a function', () => {
  const request = decode({ model: 'm', input: 'hi', tools: [{ type: 'tool_search' }, { type: 'function', name: 'f', defer_loading: true, parameters: { type: 'object' } }] });
  assert.deepEqual(request.hostedTools!.map((tool) => [tool.field, tool.kind]), [['tools.tool_search', 'tool-search']]);
  assert.deepEqual(names(request), ['f']);
});

test('the tool-search turn: the client tool_search_call and its output are a call and its result', () => {
  const request = recorded('tool-search-turn');
  const [call, result] = request.messages.slice(-2);
  assert.deepEqual(call, { role: 'assistant', content: [{ type: 'tool-call', id: 'call_lab_2', name: 'tool_search', arguments: '{"query":"goal","limit":3}' }] });
  assert.deepEqual(result, { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_lab_2', content: 'No tools found.' }] });
});

test('tools a tool search found (a namespace, a plain function) join the request\'s tools once; a server search stays with OpenAI', () => {
  const list = { type: 'function', name: 'list_issues', description: 'List issues.', defer_loading: true, parameters: { type: 'object', properties: {} } };
  const request = decode({
    model: 'm', tools: [{ type: 'function', name: 'exec_command', parameters: { type: 'object' } }],
    input: [
      { type: 'message', role: 'user', content: 'Open issues?' },
      { type: 'tool_search_call', call_id: 's1', execution: 'client', status: 'completed', arguments: { query: 'issues' } },
      { type: 'tool_search_output', call_id: 's1', execution: 'client', status: 'completed', tools: [{ type: 'namespace', name: 'mcp__tracker', description: 'Tracker', tools: [list] }, { type: 'function', name: 'exec_command', parameters: { type: 'object' } }] },
      { type: 'tool_search_call', id: 'tsc_srv', execution: 'server', status: 'completed', arguments: { query: 'calendar' } },
      { type: 'tool_search_output', id: 'tso_srv', execution: 'server', status: 'completed', tools: [] },
    ],
  });
  assert.deepEqual(names(request), ['exec_command', 'mcp__tracker__list_issues']);
  assert.deepEqual(request.messages[2], { role: 'tool', content: [{ type: 'tool-result', toolCallId: 's1', content: 'Found 2 tools, which can be called now: mcp__tracker__list_issues, exec_command.' }] });
  const hosted = request.messages[3]!.content;
  assert.deepEqual(hosted.map((part) => [part.type, 'raw' in part ? (part.raw as Json).id : undefined]), [['hosted-tool-call', 'tsc_srv'], ['hosted-tool-result', 'tso_srv']]);
  const calls = (request.surfaceHints!.responses as Json).calls as Map<string, Json>;
  assert.deepEqual(calls.get('mcp__tracker__list_issues'), { item: 'function_call', name: 'list_issues', namespace: 'mcp__tracker' });
});

test('no model set (responses-lite): the additional_tools item\'s namespaces become tools; no message comes of it', () => {
  const request = recorded('lite-first-turn');
  assert.deepEqual(names(request), [
    'exec', 'wait', 'request_user_input', 'request_user_input_async', 'send_message_to_user_async', 'clock__sleep',
    'collaboration__followup_task', 'collaboration__interrupt_agent', 'collaboration__list_agents', 'collaboration__send_message', 'collaboration__spawn_agent', 'collaboration__wait_agent',
  ]);
  assert.deepEqual(request.tools![0]!.parameters.required, ['input'], 'exec, a freeform tool, takes its JavaScript as one string');
  assert.ok(request.messages.every((message) => message.role !== 'user' || message.content.every((part) => part.type === 'text')));
  assert.equal(request.messages.filter((message) => message.role === 'system').length, 4, 'the developer messages only');
  const calls = (request.surfaceHints!.responses as Json).calls as Map<string, Json>;
  assert.deepEqual(calls.get('exec'), { item: 'custom_tool_call', name: 'exec' });
  assert.deepEqual(calls.get('clock__sleep'), { item: 'function_call', name: 'sleep', namespace: 'clock' });
  assert.equal(calls.get('wait'), undefined, 'a plain function');
});

test('the responses-lite exec turn: the custom_tool_call and its output (input_text parts) are a call and its result; namespaced calls in the history take the flat name', () => {
  const request = recorded('lite-exec-turn');
  const [call, result] = request.messages.slice(-2);
  assert.equal(call!.content[0]!.type === 'tool-call' && call!.content[0]!.name, 'exec');
  assert.match(call!.content[0]!.type === 'tool-call' ? call!.content[0]!.arguments : '', /^\{"input":"const r = await tools\.exec_command/);
  assert.equal(result!.role, 'tool');
  const content = result!.content[0]!.type === 'tool-result' ? result!.content[0]!.content : '';
  assert.ok(Array.isArray(content) && content.some((part) => part.type === 'text' && part.text.includes('switchyard-tool-ok')));
  const history = decode({ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'sleep', namespace: 'clock', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: 'ok' }] });
  assert.equal(history.messages[0]!.content[0]!.type === 'tool-call' && history.messages[0]!.content[0]!.name, 'clock__sleep');
});

// --- the answer: the model's calls back in the items Codex expects -------------------------------------

const start: StreamPart = { type: 'response-start', id: 'msg_1', model: 'claude', created: 1_700_000_000 };

function calls(...list: [string, string][]): StreamPart[] {
  const parts: StreamPart[] = [start];
  list.forEach(([name, args], index) => {
    parts.push({ type: 'tool-call-start', index, id: `call_${index}`, name });
    // arguments in two pieces, as providers stream them
    parts.push({ type: 'tool-call-delta', index, argumentsDelta: args.slice(0, 5) }, { type: 'tool-call-delta', index, argumentsDelta: args.slice(5) });
    parts.push({ type: 'tool-call-end', index });
  });
  parts.push({ type: 'response-end', finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 5 } });
  return parts;
}

const answerCalls: [string, string][] = [
  ['tool_search', '{"query":"issues","limit":2}'], ['exec', '{"input":"text(1);"}'], ['clock__sleep', '{"duration_ms":5}'], ['wait', '{"cell_id":"1"}'],
];
const liteWithSearch = (): CanonicalRequest => {
  const body = structuredClone(codex.requests['lite-first-turn']!.body);
  body.input[0].tools.push({ type: 'tool_search', execution: 'client', description: 'Search deferred tools.', parameters: { type: 'object', properties: { query: { type: 'string' } } } });
  return decode(body);
};
const expectedItems = [
  { type: 'tool_search_call', status: 'completed', call_id: 'call_0', execution: 'client', arguments: { query: 'issues', limit: 2 } },
  { type: 'custom_tool_call', status: 'completed', call_id: 'call_1', name: 'exec', input: 'text(1);' },
  { type: 'function_call', status: 'completed', arguments: '{"duration_ms":5}', call_id: 'call_2', name: 'sleep', namespace: 'clock' },
  { type: 'function_call', status: 'completed', arguments: '{"cell_id":"1"}', call_id: 'call_3', name: 'wait' },
];
const withoutIds = (items: Json[]): Json[] => items.map(({ id: _id, ...rest }) => rest);

test('streamed: a tool search → tool_search_call (its arguments an object, sent whole), exec → custom_tool_call, clock__sleep → sleep in namespace clock', () => {
  const encoder = new ResponsesStreamEncoder(liteWithSearch());
  const events = parseSse(calls(...answerCalls).map((part) => encoder.encode(part)).join('')).map((event) => JSON.parse(event.data) as Json);
  const done = events.filter((event) => event.type === 'response.output_item.done').map((event) => event.item);
  assert.deepEqual(withoutIds(done), expectedItems);
  assert.deepEqual(done.map((item) => item.id.slice(0, 4)), ['tsc_', 'ctc_', 'fc_m', 'fc_m']);
  const added = events.filter((event) => event.type === 'response.output_item.added').map((event) => event.item);
  assert.deepEqual(added[0], { id: done[0].id, type: 'tool_search_call', status: 'in_progress', call_id: 'call_0', execution: 'client', arguments: {} });
  assert.deepEqual(events.filter((event) => event.type === 'response.function_call_arguments.done').map((event) => event.name), ['sleep', 'wait']);
  assert.deepEqual(events.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => event.item_id), [done[2].id, done[2].id, done[3].id, done[3].id], 'only function calls stream their arguments');
  assert.deepEqual(withoutIds(events.at(-1)!.response.output), expectedItems);
});

test('not streamed: the same items in the response object', () => {
  const json = JSON.parse(encodeResponsesResponse({
    id: 'msg_1', model: 'claude', created: 1, finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 5 },
    content: answerCalls.map(([name, args], i) => ({ type: 'tool-call', id: `call_${i}`, name, arguments: args })),
  }, liteWithSearch())) as Json;
  assert.deepEqual(withoutIds(json.output), expectedItems);
});
