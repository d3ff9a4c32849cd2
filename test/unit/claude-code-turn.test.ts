// The pure parts of the Claude Code driver: its stream-json turn decoder (fed lines recorded from
// Claude Code 2.1.332, trimmed to the fields it reads), the prompt it builds from a canonical
// request, and its check that a request continues a live session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentTurnReport } from '../../src/agent-clis/driver.ts';
import { ClaudeTurnDecoder } from '../../src/agent-clis/claude-code/turn-decoder.ts';
import { promptContent, textPrompt } from '../../src/agent-clis/claude-code/prompt.ts';
import { claudeArgs } from '../../src/agent-clis/claude-code/launch.ts';

type Json = Record<string, any>;

const SESSION = '5cd5fc9c-0191-4e29-bfa3-ac9502d213e9';
const MESSAGE = 'msg_01XFDUDYJgAACzvnptvVoYEL';

function streamEvent(event: Json, parent: string | null = null): Json {
  return { type: 'stream_event', event, session_id: SESSION, parent_tool_use_id: parent, uuid: 'u', api_message_id: MESSAGE };
}

const init = { type: 'system', subtype: 'init', cwd: '/state', session_id: SESSION, tools: [], model: 'claude-sonnet-5-5', permissionMode: 'default' };
const messageStart = streamEvent({ type: 'message_start', message: { id: MESSAGE, type: 'message', role: 'assistant', model: 'claude-sonnet-5-5', content: [], usage: { input_tokens: 10, output_tokens: 1 } } });
const textStart = (index: number) => streamEvent({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
const textDelta = (index: number, text: string) => streamEvent({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const blockStop = (index: number) => streamEvent({ type: 'content_block_stop', index });
const messageDelta = (stop: string) => streamEvent({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } });
const messageStop = streamEvent({ type: 'message_stop' });

function success(extra: Json = {}): Json {
  return {
    type: 'result', subtype: 'success', is_error: false, stop_reason: 'end_turn', session_id: SESSION, total_cost_usd: 0.00014, num_turns: 1,
    usage: { input_tokens: 10, cache_creation_input_tokens: 4, cache_read_input_tokens: 100, output_tokens: 5, output_tokens_details: { thinking_tokens: 2 } },
    modelUsage: { 'claude-sonnet-5-5': { inputTokens: 20, outputTokens: 10, costUSD: 0.00014 } },
    model_usage_since_last_result: { 'claude-sonnet-5-5': { inputTokens: 10, outputTokens: 5, costUSD: 0.00007 } },
    api_error_status: null, result: 'Hello there', terminal_reason: 'completed',
    ...extra,
  };
}

function decode(lines: Json[], previousTotal = 0): { parts: StreamPart[]; reports: AgentTurnReport[]; decoder: ClaudeTurnDecoder; ended: boolean[] } {
  const parts: StreamPart[] = [];
  const reports: AgentTurnReport[] = [];
  const decoder = new ClaudeTurnDecoder({ onPart: (part) => parts.push(part) }, (report) => reports.push(report), 'claude', 'sonnet', previousTotal);
  const ended = lines.map((line) => decoder.onMessage(line));
  return { parts, reports, decoder, ended };
}

test('a streamed answer: deltas in order, usage from the result (cache reads and writes counted in), the turn\'s own cost', () => {
  const { parts, reports, ended } = decode([init, messageStart, textStart(0), textDelta(0, 'Hello '), textDelta(0, 'there'), blockStop(0), messageDelta('end_turn'), messageStop, success()]);
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-start', 'text-delta', 'text-delta', 'text-end', 'response-end']);
  assert.deepEqual(parts[0], { type: 'response-start', id: MESSAGE, model: 'claude-sonnet-5-5', created: (parts[0] as { created: number }).created });
  assert.deepEqual(parts.at(-1), {
    type: 'response-end', finishReason: 'stop', rawFinishReason: 'end_turn',
    usage: { inputTokens: 114, outputTokens: 5, cachedInputTokens: 100, cacheWriteInputTokens: 4, reasoningTokens: 2 },
  });
  assert.deepEqual(reports, [{ reportedCostUsd: 0.00007, session: SESSION }]);
  assert.deepEqual(ended, [false, false, false, false, false, false, false, false, true]);
});

test('without per-turn model usage the cost is the growth of the process\'s running total', () => {
  const { reports, decoder } = decode([messageStart, success({ model_usage_since_last_result: undefined, total_cost_usd: 0.0005 })], 0.0002);
  assert.ok(Math.abs(reports[0]!.reportedCostUsd! - 0.0003) < 1e-12);
  assert.equal(decoder.totalCostUsd, 0.0005);
});

test('several API calls in one turn (a refused tool call between): each text block its own index, tool_use never shown', () => {
  const toolStart = streamEvent({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: {} } });
  const toolDelta = streamEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"command":"touch x"}' } });
  const toolResult = { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', content: 'No such tool available: Bash', is_error: true, tool_use_id: 'toolu_01' }] } };
  const { parts } = decode([
    messageStart, textStart(0), textDelta(0, 'Running it.'), blockStop(0), toolStart, toolDelta, blockStop(1), messageDelta('tool_use'), messageStop,
    toolResult,
    messageStart, textStart(0), textDelta(0, 'I cannot.'), blockStop(0), messageDelta('end_turn'), messageStop,
    success(),
  ]);
  assert.deepEqual(parts.map((part) => `${part.type}${'index' in part ? `#${part.index}` : ''}`), [
    'response-start', 'text-start#0', 'text-delta#0', 'text-end#0', 'text-start#1', 'text-delta#1', 'text-end#1', 'response-end',
  ]);
});

test('thinking deltas are reasoning, with the signature; a subagent\'s stream is not the answer', () => {
  const thinkingStart = streamEvent({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
  const thinking = streamEvent({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm.' } });
  const signature = streamEvent({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } });
  const subagent = streamEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'from a subagent' } }, 'toolu_task');
  const { parts } = decode([messageStart, thinkingStart, thinking, signature, blockStop(0), subagent, textStart(1), textDelta(1, 'Yes.'), blockStop(1), success()]);
  assert.deepEqual(parts.slice(1, -1), [
    { type: 'reasoning-start', index: 0 }, { type: 'reasoning-delta', index: 0, delta: 'Hmm.' }, { type: 'reasoning-signature', index: 0, signature: 'sig' }, { type: 'reasoning-end', index: 0 },
    { type: 'text-start', index: 1 }, { type: 'text-delta', index: 1, delta: 'Yes.' }, { type: 'text-end', index: 1 },
  ]);
});

test('an API call that did not stream is read from its assistant line; the synthetic error message is not an answer', () => {
  const assistant = { type: 'assistant', message: { id: 'msg_2', model: 'claude-sonnet-5-5', role: 'assistant', content: [{ type: 'text', text: 'Whole.' }] }, parent_tool_use_id: null, session_id: SESSION };
  const { parts } = decode([init, assistant, success()]);
  assert.deepEqual(parts.slice(1, -1), [{ type: 'text-start', index: 0 }, { type: 'text-delta', index: 0, delta: 'Whole.' }, { type: 'text-end', index: 0 }]);
  // streamed, then repeated whole: only once
  const repeated = { ...assistant, message: { ...assistant.message, id: MESSAGE } };
  const once = decode([messageStart, textStart(0), textDelta(0, 'Whole.'), repeated, blockStop(0), success()]);
  assert.equal(once.parts.filter((part) => part.type === 'text-delta').length, 1);
});

test('an is_error result with subtype success is an error: the API status decides the class (429 → rate-limited)', () => {
  const synthetic = {
    type: 'assistant', message: { id: 'x', model: '<synthetic>', role: 'assistant', content: [{ type: 'text', text: 'API Error: Request rejected (429) · rate limited' }] },
    parent_tool_use_id: null, error: 'rate_limit', is_api_error_message: true, api_error_status: 429,
  };
  const result = success({ is_error: true, subtype: 'success', api_error_status: 429, api_error_type: 'rate_limit_error', result: 'API Error: Request rejected (429) · rate limited', terminal_reason: 'api_error', total_cost_usd: 0, model_usage_since_last_result: {} });
  const { parts, reports } = decode([init, synthetic, result]);
  assert.equal(parts.length, 1);
  const error = (parts[0] as Extract<StreamPart, { type: 'error' }>).error;
  assert.equal(error.status, 429);
  assert.equal(error.errorClass, 'rate-limited');
  assert.equal(error.upstreamStatus, 429);
  assert.equal(error.retryAfterSeconds, undefined);
  assert.deepEqual(reports, [{ reportedCostUsd: 0, session: SESSION }]);
});

test('a rejected rate_limit_event gives the 429 its Retry-After (resetsAt) and names the window', () => {
  const resetsAt = Math.floor(Date.now() / 1000) + 600;
  const event = { type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt, rateLimitType: 'seven_day', isUsingOverage: false }, session_id: SESSION };
  const allowed = { type: 'rate_limit_event', rate_limit_info: { status: 'allowed_warning', resetsAt, rateLimitType: 'five_hour' } };
  const { parts } = decode([allowed, event, success({ is_error: true, api_error_status: 429, result: "You've hit your limit" })]);
  const error = (parts[0] as Extract<StreamPart, { type: 'error' }>).error;
  assert.equal(error.status, 429);
  assert.ok(error.retryAfterSeconds! > 590 && error.retryAfterSeconds! <= 600);
  assert.match(error.message, /seven_day/);
});

test('other failures: 5xx → 502 server-error, 401 → auth-refused, a turn limit → 502 with the reason', () => {
  const of = (result: Json) => (decode([result]).parts[0] as Extract<StreamPart, { type: 'error' }>).error;
  assert.deepEqual([of(success({ is_error: true, api_error_status: 503, result: 'overloaded' })).status, of(success({ is_error: true, api_error_status: 503 })).errorClass], [502, 'server-error']);
  assert.equal(of(success({ is_error: true, api_error_status: 401, result: 'invalid x-api-key' })).errorClass, 'auth-refused');
  assert.equal(of(success({ is_error: true, api_error_status: 400, result: 'prompt is too long: 300000 tokens' })).errorClass, 'context-length');
  const limit = of(success({ is_error: true, subtype: 'error_max_turns', api_error_status: null, result: undefined, errors: ['Reached maximum number of turns (2)'] }));
  assert.equal(limit.status, 502);
  assert.match(limit.message, /error_max_turns: Reached maximum number of turns \(2\)/);
});

test('silenced (the client left): nothing more goes out, but the result still ends the turn', () => {
  const parts: StreamPart[] = [];
  const decoder = new ClaudeTurnDecoder({ onPart: (part) => parts.push(part) }, () => {}, 'claude', 'sonnet');
  decoder.onMessage(messageStart);
  decoder.onMessage(textStart(0));
  decoder.silence();
  decoder.onMessage(textDelta(0, 'more'));
  assert.equal(decoder.onMessage(success()), true);
  assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-start']);
  assert.equal(decoder.succeeded, true);
});

// --- the prompt ------------------------------------------------------------------------------

const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }] });

test('a lone user message goes as it is; an empty one as a placeholder (Claude Code refuses an empty user message)', () => {
  assert.deepEqual(promptContent([user('hi')], 0, 'claude'), [{ type: 'text', text: 'hi' }]);
  assert.deepEqual(promptContent([user('')], 0, 'claude'), [{ type: 'text', text: '(empty message)' }]);
});

test('a history is written out in one message, images kept as blocks where they stood; one-shot mode takes text only', () => {
  const image = { type: 'image' as const, source: { kind: 'base64' as const, mediaType: 'image/png', data: 'AAAA' } };
  const messages: Message[] = [
    { role: 'user', content: [{ type: 'text', text: 'Look:' }, image] },
    { role: 'assistant', content: [{ type: 'reasoning', text: 'private' }, { type: 'text', text: 'A square.' }] },
    user('What colour?'),
  ];
  assert.deepEqual(promptContent(messages, 0, 'claude'), [
    { type: 'text', text: 'The conversation so far, oldest first:\n\n<user>\nLook:' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
    { type: 'text', text: '\n</user>\n\n<assistant>\nA square.\n</assistant>\n\nThe user\'s new message:\nWhat colour?' },
  ]);
  assert.throws(() => textPrompt(messages, 'claude'), /takes text only: the request carries an image/);
  assert.equal(textPrompt([user('one'), assistant('two'), user('three')], 'claude'), 'The conversation so far, oldest first:\n\n<user>\none\n</user>\n\n<assistant>\ntwo\n</assistant>\n\nThe user\'s new message:\nthree');
  assert.throws(() => promptContent([{ role: 'user', content: [{ type: 'audio', source: { kind: 'base64', mediaType: 'audio/wav', data: 'AA' } }] }], 0, 'claude'), /cannot take audio/);
});

test('PDFs are document blocks, text files are inlined, other files refused', () => {
  const pdf: Message = { role: 'user', content: [{ type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBER' } }] };
  assert.deepEqual(promptContent([pdf], 0, 'claude'), [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } }]);
  const notes: Message = { role: 'user', content: [{ type: 'text', text: 'Read:' }, { type: 'file', filename: 'a.txt', source: { kind: 'base64', mediaType: 'text/plain', data: Buffer.from('hello').toString('base64') } }] };
  assert.deepEqual(promptContent([notes], 0, 'claude'), [{ type: 'text', text: 'Read:\n[file a.txt]\nhello\n[end of file a.txt]' }]);
  const zip: Message = { role: 'user', content: [{ type: 'file', source: { kind: 'base64', mediaType: 'application/zip', data: 'UEs' } }] };
  assert.throws(() => promptContent([zip], 0, 'claude'), /PDFs and text files only/);
});

test('arguments: the model in one argument, tools off and nothing to approve in llm mode, never a bypass', () => {
  const llm = claudeArgs({ mode: 'llm', model: '--dangerously-skip-permissions', persistent: true, extra: [] });
  assert.ok(llm.includes('--model=--dangerously-skip-permissions'), 'a model name cannot become a flag');
  assert.ok(!llm.includes('--dangerously-skip-permissions'));
  for (const flag of ['--tools', '--strict-mcp-config', '--disable-slash-commands', '--setting-sources', '--no-session-persistence', '--permission-prompts']) assert.ok(llm.includes(flag), flag);
  assert.equal(llm[llm.indexOf('--tools') + 1], '');
  assert.equal(llm[llm.indexOf('--permission-mode') + 1], 'default');
  const agent = claudeArgs({ mode: 'agent', model: 'sonnet', persistent: true, session: { kind: 'resume', id: SESSION }, extra: ['--add-dir', '/data'] });
  assert.ok(!agent.includes('--tools'));
  assert.ok(!agent.includes('--no-session-persistence'));
  assert.deepEqual(agent.slice(-4), ['--resume', SESSION, '--add-dir', '/data']);
  assert.ok(!agent.some((arg) => /dangerously|bypass/i.test(arg)));
});
