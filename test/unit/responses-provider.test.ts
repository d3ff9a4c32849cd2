// The openai-responses provider's converters: canonical → Responses request, Responses JSON and
// SSE → canonical, upstream errors → gateway errors. Fixtures are shaped like OpenAI's traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink } from '../../src/canonical/adapters.ts';
import { ErrorCode, GatewayError, type ErrorInfo } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeResponsesResponse } from '../../src/providers/openai-responses/decode-response.ts';
import { ResponsesStreamDecoder } from '../../src/providers/openai-responses/decode-stream.ts';
import { effortFromBudget, encodeResponsesRequest } from '../../src/providers/openai-responses/encode-request.ts';
import { decodeResponsesError } from '../../src/providers/openai-responses/errors.ts';
import { openaiResponsesProvider } from '../../src/providers/openai-responses/index.ts';
import { StopMatcher } from '../../src/providers/openai-responses/stop.ts';

type Json = Record<string, any>;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/responses/${name}`, import.meta.url), 'utf8');
const provider = { name: 'oai', preset: 'openai-responses' };

function request(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'gpt-5-codex', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], sampling: {}, stream: false, ...overrides };
}

function encode(overrides: Partial<CanonicalRequest> = {}): Json {
  const upstream = encodeResponsesRequest(request(overrides), 'gpt-5-codex', provider);
  assert.equal(upstream.path, '/responses');
  return JSON.parse(upstream.body) as Json;
}

class Collector implements PartSink {
  parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

/** Feeds the bytes in small pieces (splitting events and multi-byte characters) and ends the stream. */
function decodeStream(sse: string, overrides: Partial<CanonicalRequest> = {}, pieceSize = 7): StreamPart[] {
  const decoder = new ResponsesStreamDecoder(request({ stream: true, ...overrides }));
  const sink = new Collector();
  const bytes = Buffer.from(sse, 'utf8');
  for (let at = 0; at < bytes.length; at += pieceSize) decoder.push(bytes.subarray(at, at + pieceSize), sink);
  decoder.end(sink);
  return sink.parts;
}

/** The stream-part lifecycle contract of src/canonical/stream.ts. */
function assertLifecycle(parts: StreamPart[]): void {
  assert.equal(parts[0]?.type, 'response-start');
  const last = parts.at(-1)!;
  assert.ok(last.type === 'response-end' || last.type === 'error');
  let open: { kind: string; index: number } | undefined;
  let next = 0;
  for (const part of parts.slice(1, -1)) {
    const [kind, phase] = part.type.startsWith('tool-call') ? ['tool-call', part.type.slice(10)] : part.type.split('-') as [string, string];
    if (part.type === 'usage' || part.type === 'reasoning-signature') continue;
    const index = (part as { index: number }).index;
    if (phase === 'start') {
      assert.equal(open, undefined, `${part.type} while a block is open`);
      assert.equal(index, next++, 'blocks are numbered in order');
      open = { kind, index };
    } else {
      assert.deepEqual(open, { kind, index }, `${part.type} belongs to the open block`);
      if (phase === 'end') open = undefined;
    }
  }
  assert.equal(open, undefined, 'every block ends before the response');
}

test('the system prompt becomes instructions, other system messages developer items; images, files, audio', () => {
  const body = encode({
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
      { role: 'system', content: [{ type: 'text', text: 'Use metric units.' }] },
      {
        role: 'user', content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' }, detail: 'high' },
          { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
          { type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBERi0=' }, filename: 'paper.pdf' },
          { type: 'audio', source: { kind: 'base64', mediaType: 'audio/wav', data: 'UklGRg==' }, format: 'wav' },
        ],
      },
      { role: 'system', content: [{ type: 'text', text: 'Late instruction.' }] },
    ],
  });
  assert.equal(body.instructions, 'Be terse.');
  assert.deepEqual(body.input, [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Use metric units.' }] },
    {
      type: 'message', role: 'user', content: [
        { type: 'input_text', text: 'What is this?' },
        { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' },
        { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
        { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'paper.pdf' },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
      ],
    },
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Late instruction.' }] },
  ]);
  assert.equal(body.store, false, 'stateless: nothing is stored upstream');
  assert.deepEqual(body.include, ['reasoning.encrypted_content']);
  assert.equal(body.stream, undefined);
});

test('history: reasoning with its encrypted content, text, calls and tool results (errors marked)', () => {
  const body = encode({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'assistant', content: [
          { type: 'reasoning', text: 'Two cities.', signature: 'gAAAA-sig' },
          { type: 'reasoning', text: '', redactedData: 'gAAAA-redacted' },
          { type: 'reasoning', text: 'Unsigned thoughts from another model.' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool-call', id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'tool-call', id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        ],
      },
      {
        role: 'tool', content: [
          { type: 'tool-result', toolCallId: 'call_a', content: '18°C' },
          { type: 'tool-result', toolCallId: 'call_b', content: 'timeout', isError: true },
        ],
      },
    ],
  });
  assert.deepEqual(body.input.slice(1), [
    { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Two cities.' }], encrypted_content: 'gAAAA-sig' },
    { type: 'reasoning', summary: [], encrypted_content: 'gAAAA-redacted' },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call', call_id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    { type: 'function_call_output', call_id: 'call_a', output: '18°C' },
    { type: 'function_call_output', call_id: 'call_b', output: 'Error: timeout' },
  ]);
});

test('tools (non-strict unless asked), tool choice, parallel calls, structured output, sampling, session', () => {
  const body = encode({
    tools: [
      { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'strict_tool', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true },
    ],
    toolChoice: { type: 'tool', name: 'get_weather' },
    parallelToolCalls: false,
    responseFormat: { type: 'json-schema', name: 'person', schema: { type: 'object' }, strict: true },
    sampling: { temperature: 0.2, topP: 0.9, maxTokens: 64, stop: ['END'] },
    metadata: { user: 'user-42', sessionId: 'session-7' },
    stream: true,
  });
  assert.deepEqual(body.tools, [
    { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false },
    { type: 'function', name: 'strict_tool', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true },
  ]);
  assert.deepEqual(body.tool_choice, { type: 'function', name: 'get_weather' });
  assert.equal(body.parallel_tool_calls, false);
  assert.deepEqual(body.text, { format: { type: 'json_schema', name: 'person', schema: { type: 'object' }, strict: true } });
  assert.equal(body.temperature, 0.2);
  assert.equal(body.top_p, 0.9);
  assert.equal(body.max_output_tokens, 64);
  assert.equal(body.stop, undefined, 'no stop field in Responses: the gateway applies stop sequences');
  assert.equal(body.safety_identifier, 'user-42');
  assert.equal(body.prompt_cache_key, 'session-7');
  assert.equal(body.stream, true);
  assert.deepEqual(encode({ toolChoice: { type: 'required' } }).tool_choice, 'required');
  assert.deepEqual(encode({ responseFormat: { type: 'json' } }).text, { format: { type: 'json_object' } });
});

test('reasoning: effort as given, budgets mapped to effort, summaries asked for', () => {
  assert.deepEqual(encode({ reasoning: { effort: 'high', includeThoughts: true } }).reasoning, { effort: 'high', summary: 'auto' });
  assert.deepEqual(encode({ reasoning: { budgetTokens: 2048 } }).reasoning, { effort: 'low', summary: 'auto' });
  assert.deepEqual(encode({ reasoning: { budgetTokens: 16_384, includeThoughts: false } }).reasoning, { effort: 'high' });
  assert.equal(effortFromBudget(0), 'minimal');
  assert.equal(effortFromBudget(8000), 'medium');
  assert.equal(encode().reasoning, undefined);
});

test('settings Responses lacks are refused, naming the field; top_k alone is dropped', () => {
  assert.equal(encode({ sampling: { topK: 40 } }).top_k, undefined, 'Gemini CLI sends topK on every request');
  for (const [sampling, name] of [[{ seed: 1 }, 'seed'], [{ presencePenalty: 0.5 }, 'presence_penalty'], [{ frequencyPenalty: 0.5 }, 'frequency_penalty']] as const) {
    assert.throws(() => encode({ sampling }), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === name && error.message.includes(name));
  }
});

test("another dialect's unmodelled fields are refused; its inert ones are dropped", () => {
  assert.throws(() => encode({ passThrough: { dialect: 'anthropic', fields: { mcp_servers: [] } } }), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.match(error.message, /'mcp_servers' \(anthropic\)/);
    return true;
  });
  const body = encode({ passThrough: { dialect: 'ollama', fields: {}, inert: { keep_alive: '5m' } } });
  assert.equal(body.keep_alive, undefined);
});

test("a Responses client's own fields go through: hosted tools, hosted tool choice, include, verbosity", () => {
  const body = encode({
    tools: [{ name: 'f', parameters: { type: 'object' } }],
    passThrough: {
      dialect: 'openai-responses',
      fields: { 'tools.web_search': [{ type: 'web_search' }], tool_choice: { type: 'web_search' }, max_tool_calls: 3 },
      inert: { store: true, include: ['message.output_text.logprobs'], metadata: { run: '1' }, 'text.verbosity': 'low' },
    },
  });
  assert.deepEqual(body.tools.map((tool: Json) => tool.type), ['function', 'web_search']);
  assert.deepEqual(body.tool_choice, { type: 'web_search' });
  assert.equal(body.max_tool_calls, 3);
  assert.equal(body.store, false, 'the gateway stays stateless');
  assert.deepEqual(body.include, ['reasoning.encrypted_content', 'message.output_text.logprobs']);
  assert.deepEqual(body.metadata, { run: '1' });
  assert.deepEqual(body.text, { verbosity: 'low' });
});

test('a response with reasoning summaries, text and parallel calls decodes in order, usage included', () => {
  const response = decodeResponsesResponse(JSON.parse(fixture('response-reasoning-tools.json')), request());
  assert.equal(response.id, 'resp_68c1f0a2b3c48190a1b2c3d4e5f60718');
  assert.equal(response.model, 'gpt-5-codex');
  assert.equal(response.created, 1757540514);
  assert.deepEqual(response.content, [
    { type: 'reasoning', text: '**Checking the weather**\n\nThe user asks about two cities.\n\n**Calling tools**\n\nI will call get_weather twice.', signature: 'gAAAAABowfCk-encrypted==' },
    { type: 'text', text: 'Let me check both.' },
    { type: 'tool-call', id: 'call_P4r1sW3ather', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'tool-call', id: 'call_0sl0W3ather', name: 'get_weather', arguments: '{"city":"Oslo"}' },
  ]);
  assert.equal(response.finishReason, 'tool-calls');
  assert.deepEqual(response.usage, { inputTokens: 1320, outputTokens: 210, cachedInputTokens: 1152, reasoningTokens: 128 });
});

test('incomplete (max_output_tokens) is a length finish; encrypted reasoning without text is redacted', () => {
  const response = decodeResponsesResponse(JSON.parse(fixture('response-incomplete.json')), request());
  assert.equal(response.finishReason, 'length');
  assert.equal(response.rawFinishReason, 'max_output_tokens');
  assert.deepEqual(response.content, [{ type: 'text', text: 'Once upon a' }]);
  const redacted = decodeResponsesResponse({ id: 'resp_1', status: 'completed', output: [{ id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gAAAA-opaque' }, { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' }] }, request());
  assert.deepEqual(redacted.content, [
    { type: 'reasoning', text: '', redactedData: 'gAAAA-opaque' },
    { type: 'tool-call', id: 'call_p', name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' },
  ]);
  assert.throws(() => decodeResponsesResponse({ status: 'failed', output: [], error: { code: 'server_error', message: 'boom' } }, request()), (error: unknown) => error instanceof GatewayError && error.status === 502);
  assert.throws(() => decodeResponsesResponse({ choices: [] }, request()), (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.upstreamProtocol);
});

test('stop sequences are applied by the gateway (non-stream)', () => {
  const body = { id: 'resp_1', status: 'completed', output: [{ id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'one two END three', annotations: [] }] }], usage: { input_tokens: 3, output_tokens: 4 } };
  const response = decodeResponsesResponse(body, request({ sampling: { stop: ['END'] } }));
  assert.deepEqual(response.content, [{ type: 'text', text: 'one two ' }]);
  assert.equal(response.finishReason, 'stop');
  assert.equal(response.stopSequence, 'END');
});

test('stream: reasoning summaries, text and a call become blocks with deltas, signature and usage', () => {
  const parts = decodeStream(fixture('stream-reasoning-tools.sse'));
  assertLifecycle(parts);
  assert.deepEqual(parts[0], { type: 'response-start', id: 'resp_68c1f0a2b3c48190a1b2c3d4e5f60718', model: 'gpt-5-codex', created: 1757540514 });
  const reasoning = parts.filter((part) => part.type === 'reasoning-delta').map((part) => (part as { delta: string }).delta).join('');
  assert.equal(reasoning, '**Checking the weather**\n\nThe user asks about Paris.\n\n**Calling the tool**');
  assert.deepEqual(parts.find((part) => part.type === 'reasoning-signature'), { type: 'reasoning-signature', index: 0, signature: 'gAAAAABowfCk-stream-encrypted==' });
  const text = parts.filter((part) => part.type === 'text-delta').map((part) => (part as { delta: string }).delta);
  assert.deepEqual(text, ['Let me', ' check that', ' — one moment.']);
  assert.deepEqual(parts.find((part) => part.type === 'tool-call-start'), { type: 'tool-call-start', index: 2, id: 'call_P4r1sW3ather', name: 'get_weather' });
  assert.deepEqual(parts.filter((part) => part.type === 'tool-call-delta').map((part) => (part as { argumentsDelta: string }).argumentsDelta), ['{"city":', '"Paris",', '"unit":"c"}']);
  assert.deepEqual(parts.at(-1), {
    type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'completed',
    usage: { inputTokens: 1320, outputTokens: 210, cachedInputTokens: 1152, reasoningTokens: 128 },
  });
});

test('stream: the first event goes out at once (no buffering)', () => {
  const sse = fixture('stream-reasoning-tools.sse');
  const decoder = new ResponsesStreamDecoder(request({ stream: true }));
  const sink = new Collector();
  const first = sse.indexOf('\n\n') + 2;
  decoder.push(Buffer.from(sse.slice(0, first)), sink);
  assert.equal(sink.parts.length, 1);
  assert.equal(sink.parts[0]!.type, 'response-start');
});

test('stream: response.failed and `error` become error parts; a stream cut short ends with an error', () => {
  const failed = decodeStream(fixture('stream-failed.sse'));
  assert.equal(failed.at(-1)!.type, 'error');
  assert.match((failed.at(-1) as { error: ErrorInfo }).error.message, /invalid content/);
  assert.ok(failed.some((part) => part.type === 'text-delta'), 'text before the failure was delivered');
  const rateLimited = decodeStream('event: error\ndata: {"type":"error","sequence_number":0,"code":"rate_limit_exceeded","message":"Slow down","param":null}\n\n');
  assert.equal((rateLimited.at(-1) as { error: ErrorInfo }).error.status, 429);
  const sse = fixture('stream-reasoning-tools.sse');
  const cut = decodeStream(sse.slice(0, sse.indexOf('event: response.completed')));
  const last = cut.at(-1)!;
  assert.equal(last.type, 'error');
  assert.equal((last as { error: ErrorInfo }).error.code, ErrorCode.upstreamProtocol);
});

test('stream: incomplete maps to length; redacted reasoning; custom tool input as a JSON argument', () => {
  const events = [
    { type: 'response.created', response: { id: 'resp_2', model: 'gpt-5', created_at: 1, status: 'in_progress', output: [] } },
    { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_2', type: 'reasoning', summary: [] } },
    { type: 'response.output_item.done', output_index: 0, item: { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'gAAAA-hidden' } },
    { type: 'response.output_item.added', output_index: 1, item: { id: 'ctc_2', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '' } },
    { type: 'response.custom_tool_call_input.delta', item_id: 'ctc_2', output_index: 1, delta: '*** Begin "Patch"\n' },
    { type: 'response.custom_tool_call_input.done', item_id: 'ctc_2', output_index: 1, input: '*** Begin "Patch"\n' },
    { type: 'response.output_item.done', output_index: 1, item: { id: 'ctc_2', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '*** Begin "Patch"\n' } },
    { type: 'response.incomplete', response: { id: 'resp_2', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [], usage: { input_tokens: 5, output_tokens: 9, output_tokens_details: { reasoning_tokens: 9 } } } },
  ];
  const parts = decodeStream(events.map((event, i) => `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: i })}\n\n`).join(''));
  assertLifecycle(parts);
  assert.deepEqual(parts[1], { type: 'reasoning-start', index: 0, redactedData: 'gAAAA-hidden' });
  const args = parts.filter((part) => part.type === 'tool-call-delta').map((part) => (part as { argumentsDelta: string }).argumentsDelta).join('');
  assert.deepEqual(JSON.parse(args), { input: '*** Begin "Patch"\n' });
  assert.deepEqual(parts.at(-1), { type: 'response-end', finishReason: 'length', rawFinishReason: 'max_output_tokens', usage: { inputTokens: 5, outputTokens: 9, reasoningTokens: 9 } });
});

test('stream: stop sequences cut the text, even split across deltas, and the finish is stop', () => {
  const deltas = ['Count: one, tw', 'o, ST', 'OP three'];
  const events = [
    { type: 'response.created', response: { id: 'resp_3', model: 'm', created_at: 1, output: [] } },
    { type: 'response.output_item.added', output_index: 0, item: { id: 'msg_3', type: 'message', role: 'assistant', content: [] } },
    ...deltas.map((delta) => ({ type: 'response.output_text.delta', item_id: 'msg_3', output_index: 0, content_index: 0, delta })),
    { type: 'response.output_item.done', output_index: 0, item: { id: 'msg_3', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: deltas.join('') }] } },
    { type: 'response.completed', response: { id: 'resp_3', status: 'completed', output: [], usage: { input_tokens: 2, output_tokens: 8 } } },
  ];
  const parts = decodeStream(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join(''), { sampling: { stop: ['STOP'] } });
  assertLifecycle(parts);
  assert.equal(parts.filter((part) => part.type === 'text-delta').map((part) => (part as { delta: string }).delta).join(''), 'Count: one, two, ');
  assert.deepEqual(parts.at(-1), { type: 'response-end', finishReason: 'stop', rawFinishReason: 'stop_sequence', stopSequence: 'STOP', usage: { inputTokens: 2, outputTokens: 8 } });
});

test('StopMatcher holds back only what could start a stop sequence', () => {
  const matcher = new StopMatcher(['</end>', 'XYZ']);
  assert.equal(matcher.push('hello <'), 'hello ');
  assert.equal(matcher.push('b>'), '<b>');
  assert.equal(matcher.push(' X'), ' ');
  assert.equal(matcher.flush(), 'X');
  assert.equal(matcher.push('a</en'), 'a');
  assert.equal(matcher.push('d> tail'), '');
  assert.equal(matcher.matched, '</end>');
  assert.equal(matcher.push('more'), '');
});

test('upstream errors: status, retry-after and message kept; model list decoded', () => {
  const error = decodeResponsesError(429, Buffer.from(fixture('error-429.json')), { 'retry-after': '2' }, 'oai');
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterSeconds, 2);
  assert.match(error.message, /Rate limit reached for gpt-5-codex/);
  const context = decodeResponsesError(400, Buffer.from(JSON.stringify({ error: { message: 'Your input exceeds the context window of this model.', type: 'invalid_request_error', param: 'input', code: 'context_length_exceeded' } })), {}, 'oai');
  assert.equal(context.code, ErrorCode.contextLength);
  assert.equal(decodeResponsesError(503, Buffer.from('upstream connect error'), {}, 'oai').status, 502);
  assert.deepEqual(openaiResponsesProvider.decodeModelList({ object: 'list', data: [{ id: 'gpt-5-codex', object: 'model' }, { id: 'o4-mini' }] }), ['gpt-5-codex', 'o4-mini']);
  assert.equal(openaiResponsesProvider.passThroughPath('openai-responses', 'gpt-5-codex', { params: {}, query: '', headers: {} }, true), '/responses');
  assert.ok(openaiResponsesProvider.nativeWires.has('openai-responses'));
});
