// Anthropic's deferred tools (`defer_loading`, beta advanced-tool-use-2025-11-20) as Claude Code
// sends them (test/fixtures/clients/claude-code-request.json, recorded from 2.1.332): decoded into
// the canonical request, sent back as they were to an Anthropic provider, and to a provider of
// any other dialect offered the way Anthropic shows them to the model — a deferred tool once a
// tool_reference in a tool result has loaded it, never before. Also Anthropic's other server-side
// features under the unsupported_tools policy: the MCP connector and hosted tool search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { UpstreamRequest } from '../../src/canonical/adapters.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { encodeMessagesRequest } from '../../src/providers/anthropic/encode-request.ts';
import { encodeGenerateRequest } from '../../src/providers/gemini/encode-request.ts';
import { encodeOllamaRequest } from '../../src/providers/ollama/encode-request.ts';
import { encodeChatRequest } from '../../src/providers/openai/chat-encode.ts';
import { encodeResponsesRequest } from '../../src/providers/openai-responses/encode-request.ts';
import { decodeMessagesRequest } from '../../src/surfaces/anthropic/decode-request.ts';

type Json = Record<string, any>;

const claudeCode = JSON.parse(readFileSync(new URL('../fixtures/clients/claude-code-request.json', import.meta.url), 'utf8')) as { requests: Record<string, { body: Json }> };
const surfaceRequest = { params: {}, query: '', headers: {} };
const provider = (name: string) => ({ name, preset: undefined });
const decode = (body: Json): CanonicalRequest => decodeMessagesRequest(structuredClone(body), surfaceRequest);
const bodyOf = (upstream: UpstreamRequest): Json => JSON.parse(upstream.body as string);

/** Tool names each non-Anthropic encoder offers, by dialect. */
function offered(request: CanonicalRequest): Record<string, string[]> {
  return {
    openai: (bodyOf(encodeChatRequest(request, 'gpt-4o', provider('chat'))).tools ?? []).map((tool: Json) => tool.function.name),
    gemini: (bodyOf(encodeGenerateRequest(request, 'gemini-2.5-flash', provider('gemini'))).tools?.[0]?.functionDeclarations ?? []).map((tool: Json) => tool.name),
    ollama: (bodyOf(encodeOllamaRequest(request, 'qwen3', provider('local'))).tools ?? []).map((tool: Json) => tool.function.name),
    'openai-responses': (bodyOf(encodeResponsesRequest(request, 'gpt-5', provider('responses'))).tools ?? []).map((tool: Json) => tool.name),
  };
}

const EAGER = ['Agent', 'Bash', 'Edit', 'ListAgents', 'Read', 'ReportFindings', 'ScheduleWakeup', 'Skill', 'ToolSearch', 'Workflow', 'Write'];

test('Claude Code\'s first request: the placeholder is a deferred tool (no passThrough, no 400); no provider of another dialect is offered it', () => {
  const request = decode(claudeCode.requests['default-model']!.body);
  const placeholder = request.tools!.find((tool) => tool.name === 'DeferredToolPlaceholder')!;
  assert.equal(placeholder.deferred, true);
  assert.equal(request.tools!.filter((tool) => tool.deferred === true).length, 1);
  assert.equal(request.passThrough?.fields.tools, undefined, 'nothing foreign left');
  for (const [dialect, names] of Object.entries(offered(request))) assert.deepEqual(names, EAGER, dialect);
  for (const upstream of [encodeChatRequest(request, 'gpt-4o', provider('chat')), encodeOllamaRequest(request, 'qwen3', provider('local'))]) {
    assert.deepEqual(upstream.unsupported, ['context_management'], 'the unloaded placeholder is not a drop: Anthropic would not show it either');
  }
});

test('the tool-search turn: the tool_reference loads WebFetch for other providers, as a sentence in the tool result; the placeholder stays unseen', () => {
  const request = decode(claudeCode.requests['tool-search-turn']!.body);
  const result = request.messages.find((message) => message.role === 'tool')!.content[0]!;
  assert.equal(result.type, 'tool-result');
  assert.deepEqual(result.type === 'tool-result' && result.content, [{ type: 'text', text: 'Tool \'WebFetch\' loaded: it can be called now.', toolReference: 'WebFetch' }]);
  const expected = [...EAGER.slice(0, 9), 'WebFetch', ...EAGER.slice(9)];
  for (const [dialect, names] of Object.entries(offered(request))) assert.deepEqual(names, expected, dialect);
  const chat = bodyOf(encodeChatRequest(request, 'gpt-4o', provider('chat')));
  assert.deepEqual(chat.messages.find((message: Json) => message.role === 'tool'), {
    role: 'tool', tool_call_id: 'call_lab_2', content: 'Tool \'WebFetch\' loaded: it can be called now.',
  });
});

test('an Anthropic provider (a translated same-dialect request) gets defer_loading and the tool_reference block back', () => {
  const request = decode(claudeCode.requests['tool-search-turn']!.body);
  const body = bodyOf(encodeMessagesRequest(request, 'claude-opus-5-5', provider('anthropic')));
  const deferred = (body.tools as Json[]).filter((tool) => tool.defer_loading === true).map((tool) => tool.name);
  assert.deepEqual(deferred, ['WebFetch', 'DeferredToolPlaceholder']);
  assert.equal((body.tools as Json[]).length, 13, 'every tool, in order');
  const last = body.messages.at(-1);
  assert.deepEqual(last.content[0], { type: 'tool_result', tool_use_id: 'call_lab_2', content: [{ type: 'tool_reference', tool_name: 'WebFetch' }] });
});

const deferred = (name: string): Json => ({ name, description: `${name}.`, input_schema: { type: 'object', properties: {} }, defer_loading: true });

test('with Anthropic\'s own tool search (server-side, which no other provider runs) every deferred tool is offered: nothing could load them', () => {
  const request = decode({
    model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }],
    tools: [{ type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }, deferred('get_weather'), deferred('get_time'), { name: 'now', input_schema: { type: 'object' } }],
  });
  assert.equal(request.hostedTools![0]!.kind, 'tool-search');
  for (const [dialect, names] of Object.entries(offered(request))) assert.deepEqual(names, ['get_weather', 'get_time', 'now'], dialect);
  assert.deepEqual(encodeChatRequest(request, 'gpt-4o', provider('chat')).unsupported, ['tools.tool_search_tool_regex'], 'the search itself is left to the policy');
  const anthropic = bodyOf(encodeMessagesRequest(request, 'claude', provider('anthropic')));
  assert.deepEqual((anthropic.tools as Json[]).map((tool) => [tool.name, tool.defer_loading ?? false]), [['get_weather', true], ['get_time', true], ['now', false], ['tool_search_tool_regex', false]]);
});

test('only deferred tools, none loaded: no tools, and no tool settings (providers refuse those without tools)', () => {
  const request = decode({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], tools: [deferred('later')], tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
  const chat = bodyOf(encodeChatRequest(request, 'gpt-4o', provider('chat')));
  assert.deepEqual([chat.tools, chat.tool_choice, chat.parallel_tool_calls], [undefined, undefined, undefined]);
  const gemini = bodyOf(encodeGenerateRequest(request, 'gemini-2.5-flash', provider('gemini')));
  assert.deepEqual([gemini.tools, gemini.toolConfig], [undefined, undefined]);
});

test('the MCP connector is server-side: mcp_servers and mcp_toolset tools go to Anthropic as sent, to others the unsupported_tools policy decides', () => {
  const servers = [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }];
  const toolset = { type: 'mcp_toolset', mcp_server_name: 'example' };
  const request = decode({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], mcp_servers: servers, tools: [toolset, { name: 'f', input_schema: { type: 'object' } }] });
  assert.deepEqual(request.passThrough?.serverSide, { mcp_servers: servers });
  assert.deepEqual(request.hostedTools!.map((tool) => [tool.field, tool.kind]), [['tools.mcp_toolset', 'other']]);
  const anthropic = bodyOf(encodeMessagesRequest(request, 'claude', provider('anthropic')));
  assert.deepEqual(anthropic.mcp_servers, servers);
  assert.deepEqual(anthropic.tools.at(-1), toolset);
  for (const upstream of [
    encodeChatRequest(request, 'gpt-4o', provider('chat')), encodeOllamaRequest(request, 'qwen3', provider('local')),
    encodeGenerateRequest(request, 'gemini-2.5-flash', provider('gemini')), encodeResponsesRequest(request, 'gpt-5', provider('responses')),
  ]) {
    assert.deepEqual(upstream.unsupported, ['tools.mcp_toolset', 'mcp_servers']);
    assert.doesNotMatch(upstream.body as string, /mcp/);
  }
});
