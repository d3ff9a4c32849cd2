// The Gemini surface's converters: request decoding, response, stream and error encoding, the
// embeddings and countTokens codecs, routes and model lists — against fixtures shaped like the
// traffic @google/genai and the Generative Language API exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DialectRoute, ModelCatalog, SurfaceRequest } from '../../src/canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { countTokensCodec } from '../../src/surfaces/gemini/count-tokens.ts';
import { decodeGenerateRequest } from '../../src/surfaces/gemini/decode-request.ts';
import { encodeGeminiError, googleStatus } from '../../src/surfaces/gemini/encode-error.ts';
import { encodeGenerateResponse, geminiParts } from '../../src/surfaces/gemini/encode-response.ts';
import { GeminiStreamEncoder } from '../../src/surfaces/gemini/encode-stream.ts';
import { batchEmbedCodec, embedCodec } from '../../src/surfaces/gemini/embeddings.ts';
import { geminiGenerate, geminiStream, geminiStreamArray } from '../../src/surfaces/gemini/index.ts';
import { inspectGeminiRequest } from '../../src/surfaces/gemini/inspect.ts';
import { getGeminiModel, listGeminiModels } from '../../src/surfaces/gemini/models.ts';
import { geminiSurfaces } from '../../src/surfaces/gemini/routes.ts';
import { redactedSignature } from '../../src/surfaces/gemini/fields.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/gemini/${name}`, import.meta.url), 'utf8')) as Json;
const surfaceRequest = (model = 'gemini-2.5-flash', query = '', headers: Record<string, string> = {}): SurfaceRequest => ({ params: { model }, query, headers });

function badRequest(fn: () => unknown, param: string): void {
  assert.throws(fn, (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param);
}

test('decode: the full request maps every field', () => {
  const request = decodeGenerateRequest(fixture('generate-request.json'), surfaceRequest(), false);
  assert.equal(request.model, 'gemini-2.5-flash');
  assert.equal(request.stream, false);
  const [system, user, model, result1, result2, answer, last] = request.messages;
  assert.deepEqual(system, { role: 'system', content: [{ type: 'text', text: 'You are terse.\nAnswer in English.' }] });
  assert.equal(user!.role, 'user');
  assert.deepEqual(user!.content[1], { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: fixture('generate-request.json').contents[0].parts[1].inlineData.data } });
  assert.deepEqual(model!.content.map((part) => part.type), ['reasoning', 'reasoning', 'tool-call', 'tool-call']);
  assert.equal((model!.content[0] as Json).signature, undefined, 'thought text without its own signature');
  assert.equal((model!.content[1] as Json).signature, 'CiQB0e2Kb7xJ8m0VHk3Zq9tNwQ2c1pGx3bRk5Lr0aYk=', "the call's signature travels just before it");
  assert.deepEqual(model!.content[2], { type: 'tool-call', id: 'call_1_1', name: 'get_weather', arguments: '{"city":"Paris"}' });
  assert.deepEqual(result1, { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1_1', content: '18°C and sunny' }] });
  assert.deepEqual(result2, { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1_2', content: 'service timed out', isError: true }] });
  assert.deepEqual(answer!.content, [{ type: 'text', text: 'Paris is 18°C and sunny; Oslo is unknown.' }, { type: 'reasoning', text: '', signature: 'EpYBCpMBAdHtim9xYz3kQ=' }]);
  assert.deepEqual(last, { role: 'user', content: [{ type: 'text', text: 'Thanks. Answer in JSON now.' }] });
  assert.deepEqual(request.tools!.map((tool) => tool.name), ['get_weather', 'get_time']);
  assert.deepEqual(request.tools![0]!.parameters, {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name' },
      unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maxItems: 5 },
    },
    required: ['city'],
  });
  assert.deepEqual(request.tools![1]!.parameters, { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, 'parametersJsonSchema as given');
  assert.deepEqual(request.toolChoice, { type: 'tool', name: 'get_weather' });
  assert.deepEqual(request.sampling, { temperature: 0.2, topP: 0.9, topK: 40, maxTokens: 4096, seed: 7, presencePenalty: 0.1, frequencyPenalty: 0.3, stop: ['END'] });
  assert.deepEqual(request.responseFormat, { type: 'json-schema', name: 'response', schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] } });
  assert.deepEqual(request.reasoning, { includeThoughts: true, budgetTokens: 2048 });
  assert.deepEqual(request.hostedTools, [{ kind: 'web-search', field: 'tools.googleSearch', dialect: 'gemini', raw: { googleSearch: {} } }]);
  assert.deepEqual(request.passThrough, {
    dialect: 'gemini',
    fields: {},
    inert: { safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }] },
  });
});

test('decode: snake_case field names are read like camelCase ones', () => {
  const request = decodeGenerateRequest({
    system_instruction: { parts: [{ text: 'Be brief.' }] },
    contents: [{ role: 'user', parts: [{ text: 'Hi' }, { inline_data: { mime_type: 'audio/wav', data: 'UklGRg==' } }, { file_data: { mime_type: 'application/pdf', file_uri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }] }],
    tools: [{ function_declarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { x: { type: 'NUMBER' } } } }] }],
    tool_config: { function_calling_config: { mode: 'NONE' } },
    generation_config: { max_output_tokens: 10, stop_sequences: ['x'], top_p: 0.5, thinking_config: { thinking_level: 'HIGH' } },
  }, surfaceRequest(), true);
  assert.equal(request.messages[0]!.role, 'system');
  assert.deepEqual(request.messages[1]!.content.slice(1), [
    { type: 'audio', source: { kind: 'base64', mediaType: 'audio/wav', data: 'UklGRg==' }, format: 'wav' },
    { type: 'file', source: { kind: 'url', url: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mediaType: 'application/pdf' } },
  ]);
  assert.equal(request.tools![0]!.name, 'f');
  assert.deepEqual(request.toolChoice, { type: 'none' });
  assert.deepEqual(request.sampling, { topP: 0.5, maxTokens: 10, stop: ['x'] });
  assert.deepEqual(request.reasoning, { effort: 'high' });
  assert.equal(request.passThrough, undefined);
});

test('decode: thinking budgets and levels', () => {
  const reasoning = (thinkingConfig: Json) => decodeGenerateRequest({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { thinkingConfig } }, surfaceRequest(), false).reasoning;
  assert.deepEqual(reasoning({ thinkingBudget: 0 }), { effort: 'none' });
  assert.deepEqual(reasoning({ thinkingBudget: -1, includeThoughts: true }), { includeThoughts: true }, 'dynamic: the provider default');
  assert.equal(reasoning({ thinkingBudget: -1 }), undefined);
  assert.deepEqual(reasoning({ thinkingLevel: 'low' }), { effort: 'low' });
  badRequest(() => reasoning({ thinkingLevel: 'extreme' }), 'generationConfig.thinkingConfig.thinkingLevel');
  badRequest(() => reasoning({ thinkingBudget: 'lots' }), 'generationConfig.thinkingConfig.thinkingBudget');
});

test('decode: function calling modes', () => {
  const decode = (config: Json) => decodeGenerateRequest({
    contents: [{ parts: [{ text: 'x' }] }],
    tools: [{ functionDeclarations: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }],
    toolConfig: { functionCallingConfig: config },
  }, surfaceRequest(), false);
  assert.deepEqual(decode({ mode: 'AUTO' }).toolChoice, { type: 'auto' });
  assert.deepEqual(decode({ mode: 'ANY' }).toolChoice, { type: 'required' });
  const some = decode({ mode: 'ANY', allowedFunctionNames: ['a', 'c'] });
  assert.deepEqual(some.toolChoice, { type: 'required' });
  assert.deepEqual(some.tools!.map((tool) => tool.name), ['a', 'c'], 'only the allowed functions are offered');
  assert.deepEqual(decode({ mode: 'VALIDATED' }).toolChoice, { type: 'auto' });
  assert.deepEqual(decode({ mode: 'ANY' }).tools![0]!.parameters, { type: 'object', properties: {} }, 'no parameters: an empty object schema');
  badRequest(() => decode({ mode: 'SOMETIMES' }), 'toolConfig.functionCallingConfig.mode');
});

test('decode: function responses find their calls by id, else by name in order', () => {
  const request = decodeGenerateRequest({
    contents: [
      { role: 'user', parts: [{ text: 'go' }] },
      { role: 'model', parts: [{ functionCall: { id: 'a1', name: 'f', args: {} } }, { functionCall: { id: 'b2', name: 'f', args: {} } }, { functionCall: { name: 'g' } }] },
      { role: 'user', parts: [{ functionResponse: { id: 'b2', name: 'f', response: { x: 1 } } }, { functionResponse: { name: 'g', response: { output: { deep: true } } } }, { functionResponse: { name: 'f', response: { output: 'ok' } } }, { text: 'and?' }] },
    ],
  }, surfaceRequest(), false);
  const results = request.messages.filter((message) => message.role === 'tool').map((message) => message.content[0] as Json);
  assert.deepEqual(results.map((result) => result.toolCallId), ['b2', 'call_1_2', 'a1']);
  assert.deepEqual(results.map((result) => result.content), ['{"x":1}', '{"deep":true}', 'ok']);
  assert.deepEqual(request.messages.at(-1), { role: 'user', content: [{ type: 'text', text: 'and?' }] });
});

test('decode: thought runs merge; redacted thinking comes back; code execution becomes text', () => {
  const request = decodeGenerateRequest({
    contents: [
      { role: 'user', parts: [{ text: 'x' }] },
      {
        role: 'model', parts: [
          { text: 'Thinking ', thought: true }, { text: 'hard.', thought: true, thoughtSignature: 'U0lH' }, { text: 'More.', thought: true },
          { text: '', thought: true, thoughtSignature: redactedSignature('opaque-data') },
          { executableCode: { language: 'PYTHON', code: 'print(1)' } }, { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } },
        ],
      },
    ],
  }, surfaceRequest(), false);
  assert.deepEqual(request.messages[1]!.content, [
    { type: 'reasoning', text: 'Thinking hard.', signature: 'U0lH' },
    { type: 'reasoning', text: 'More.' },
    { type: 'reasoning', text: '', redactedData: 'opaque-data' },
    { type: 'text', text: '```python\nprint(1)\n```' },
    { type: 'text', text: '```output\n1\n```' },
  ]);
});

test('decode: fields the surface does not model', () => {
  const request = decodeGenerateRequest({
    contents: [{ parts: [{ text: 'x' }] }],
    cachedContent: 'cachedContents/abc',
    generationConfig: { candidateCount: 2, responseModalities: ['TEXT'], responseMimeType: 'text/x.enum', responseSchema: { type: 'STRING', enum: ['a'] }, mediaResolution: 'MEDIA_RESOLUTION_LOW' },
  }, surfaceRequest(), false);
  assert.equal(request.responseFormat, undefined);
  assert.deepEqual(request.passThrough, {
    dialect: 'gemini',
    fields: {
      'generationConfig.responseMimeType': 'text/x.enum', 'generationConfig.responseSchema': { type: 'STRING', enum: ['a'] },
      'generationConfig.candidateCount': 2, 'generationConfig.mediaResolution': 'MEDIA_RESOLUTION_LOW', cachedContent: 'cachedContents/abc',
    },
  });
  badRequest(() => decodeGenerateRequest({ contents: [{ parts: [{ videoMetadata: {} }] }] }, surfaceRequest(), false), 'contents[0].parts[0]');
  badRequest(() => decodeGenerateRequest({ contents: [{ role: 'system', parts: [{ text: 'x' }] }] }, surfaceRequest(), false), 'contents[0].role');
  badRequest(() => decodeGenerateRequest({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { temperature: 'hot' } }, surfaceRequest(), false), 'generationConfig.temperature');
});

test('inspect: routes on the path model and fails fast on malformed bodies', () => {
  assert.deepEqual(inspectGeminiRequest('generate', { contents: [{ parts: [] }] }, surfaceRequest(), true), { model: 'gemini-2.5-flash', stream: true, modelInPath: true });
  badRequest(() => inspectGeminiRequest('generate', [], surfaceRequest(), false), 'body');
  badRequest(() => inspectGeminiRequest('generate', {}, surfaceRequest(), false), 'contents');
  badRequest(() => inspectGeminiRequest('generate', { contents: [] }, surfaceRequest(), false), 'contents');
  badRequest(() => inspectGeminiRequest('generate', { contents: [{ role: 'user' }] }, surfaceRequest(), false), 'contents[0]');
  assert.equal(inspectGeminiRequest('count-tokens', { generateContentRequest: { model: 'models/x', contents: [{ parts: [] }] } }, surfaceRequest(), false).model, 'gemini-2.5-flash');
  badRequest(() => inspectGeminiRequest('batch-embed', { requests: [] }, surfaceRequest(), false), 'requests');
  badRequest(() => inspectGeminiRequest('embed', { content: 'x' }, surfaceRequest(), false), 'request.content');
});

const response: CanonicalResponse = {
  id: 'chatcmpl-1', model: 'gpt-5', created: 1, finishReason: 'tool-calls', rawFinishReason: 'tool_calls',
  content: [
    { type: 'reasoning', text: 'Let me look.', signature: 'sig-anthropic' },
    { type: 'text', text: 'Checking.' },
    { type: 'reasoning', text: '', signature: 'sig-call' },
    { type: 'tool-call', id: 'call_9', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'tool-call', id: 'call_10', name: 'get_time', arguments: '' },
  ],
  usage: { inputTokens: 100, outputTokens: 40, cachedInputTokens: 60, reasoningTokens: 25 },
};

test('encode: a response in Gemini shape', () => {
  const body = JSON.parse(encodeGenerateResponse(response, decodeGenerateRequest({ contents: [{ parts: [{ text: 'x' }] }] }, surfaceRequest(), false)));
  assert.deepEqual(body, {
    candidates: [{
      content: {
        parts: [
          { text: 'Let me look.', thought: true, thoughtSignature: 'sig-anthropic' },
          { text: 'Checking.' },
          { functionCall: { id: 'call_9', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-call' },
          { functionCall: { id: 'call_10', name: 'get_time', args: {} } },
        ],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 15, totalTokenCount: 140, cachedContentTokenCount: 60, thoughtsTokenCount: 25 },
    modelVersion: 'gpt-5',
    responseId: 'chatcmpl-1',
  });
});

test('encode: finish reasons, signatures on text, redacted thinking, malformed arguments', () => {
  const finish = (finishReason: CanonicalResponse['finishReason'], raw?: string) => JSON.parse(encodeGenerateResponse({ ...response, content: [], finishReason, ...(raw !== undefined ? { rawFinishReason: raw } : { rawFinishReason: undefined }) } as CanonicalResponse, {} as never)).candidates[0].finishReason;
  assert.equal(finish('stop'), 'STOP');
  assert.equal(finish('length', 'max_tokens'), 'MAX_TOKENS');
  assert.equal(finish('content-filter'), 'SAFETY');
  assert.equal(finish('content-filter', 'RECITATION'), 'RECITATION', "Gemini's own reason verbatim");
  assert.equal(finish('other'), 'OTHER');
  assert.deepEqual(geminiParts([{ type: 'text', text: 'Hi' }, { type: 'reasoning', text: '', signature: 'S' }]).parts, [{ text: 'Hi', thoughtSignature: 'S' }]);
  assert.deepEqual(geminiParts([{ type: 'reasoning', text: '', signature: 'S' }]).parts, [{ text: '', thoughtSignature: 'S' }]);
  assert.deepEqual(geminiParts([{ type: 'reasoning', text: '', redactedData: 'opaque' }]).parts, [{ text: '', thought: true, thoughtSignature: redactedSignature('opaque') }]);
  const broken = geminiParts([{ type: 'tool-call', id: 'c', name: 'f', arguments: '{"city":' }]);
  assert.equal(broken.malformed, true);
  const body = JSON.parse(encodeGenerateResponse({ ...response, content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '{"a"' }] }, {} as never));
  assert.equal(body.candidates[0].finishReason, 'MALFORMED_FUNCTION_CALL');
});

const streamParts: StreamPart[] = [
  { type: 'response-start', id: 'msg_1', model: 'claude-sonnet-4-5', created: 1 },
  { type: 'reasoning-start', index: 0 },
  { type: 'reasoning-delta', index: 0, delta: 'Six times ' },
  { type: 'reasoning-delta', index: 0, delta: 'seven.' },
  { type: 'reasoning-signature', index: 0, signature: 'sig-1' },
  { type: 'reasoning-end', index: 0 },
  { type: 'text-start', index: 1 },
  { type: 'text-delta', index: 1, delta: '4' },
  { type: 'text-delta', index: 1, delta: '2' },
  { type: 'text-end', index: 1 },
  { type: 'usage', usage: { inputTokens: 15, outputTokens: 1 } },
  { type: 'reasoning-start', index: 2 },
  { type: 'reasoning-signature', index: 2, signature: 'sig-call' },
  { type: 'reasoning-end', index: 2 },
  { type: 'tool-call-start', index: 3, id: 'toolu_1', name: 'calc' },
  { type: 'tool-call-delta', index: 3, argumentsDelta: '{"expr":' },
  { type: 'tool-call-delta', index: 3, argumentsDelta: '"6*7"}' },
  { type: 'tool-call-end', index: 3 },
  { type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'tool_use', usage: { inputTokens: 15, outputTokens: 20, reasoningTokens: 12 } },
];

test('stream (SSE): one whole GenerateContentResponse per event, the finish in the last', () => {
  const encoder = new GeminiStreamEncoder('sse');
  assert.equal(encoder.contentType, 'text/event-stream');
  const text = streamParts.map((part) => encoder.encode(part)).join('');
  const chunks = parseSse(text).map((event) => JSON.parse(event.data) as Json);
  assert.deepEqual(chunks.map((chunk) => chunk.candidates[0].content?.parts), [
    [{ text: 'Six times ', thought: true }],
    [{ text: 'seven.', thought: true }],
    [{ text: '', thought: true, thoughtSignature: 'sig-1' }],
    [{ text: '4' }],
    [{ text: '2' }],
    [{ functionCall: { id: 'toolu_1', name: 'calc', args: { expr: '6*7' } }, thoughtSignature: 'sig-call' }],
    undefined,
  ]);
  for (const chunk of chunks) {
    assert.equal(chunk.modelVersion, 'claude-sonnet-4-5');
    assert.equal(chunk.responseId, 'msg_1');
    assert.equal(chunk.candidates[0].index, 0);
  }
  const last = chunks.at(-1)!;
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.deepEqual(last.usageMetadata, { promptTokenCount: 15, candidatesTokenCount: 8, totalTokenCount: 35, thoughtsTokenCount: 12 });
  assert.equal(chunks.slice(0, -1).some((chunk) => chunk.candidates[0].finishReason !== undefined), false);
  assert.equal(chunks[5].usageMetadata.promptTokenCount, 15, 'usage known mid-stream rides along');
});

test('stream (SSE): a trailing signature and a length finish; an error event', () => {
  const encoder = new GeminiStreamEncoder('sse');
  const out = [
    encoder.encode({ type: 'response-start', id: 'r', model: 'm', created: 1 }),
    encoder.encode({ type: 'text-start', index: 0 }),
    encoder.encode({ type: 'text-delta', index: 0, delta: 'Once upon a' }),
    encoder.encode({ type: 'text-end', index: 0 }),
    encoder.encode({ type: 'reasoning-start', index: 1 }),
    encoder.encode({ type: 'reasoning-signature', index: 1, signature: 'S' }),
    encoder.encode({ type: 'reasoning-end', index: 1 }),
    encoder.encode({ type: 'response-end', finishReason: 'length', usage: { inputTokens: 12, outputTokens: 3 } }),
  ].join('');
  const last = JSON.parse(parseSse(out).at(-1)!.data);
  assert.deepEqual(last.candidates[0], { content: { parts: [{ text: '', thoughtSignature: 'S' }], role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 });
  const error = new GatewayError(ErrorCode.upstreamProtocol, 'cut', { status: 502 });
  assert.deepEqual(JSON.parse(parseSse(new GeminiStreamEncoder('sse').encode({ type: 'error', error })).at(-1)!.data).error.status, 'UNAVAILABLE');
});

test('stream (JSON array): written element by element, valid JSON when complete or failed', () => {
  const encoder = new GeminiStreamEncoder('array');
  assert.equal(encoder.contentType, 'application/json; charset=UTF-8');
  const pieces = streamParts.map((part) => encoder.encode(part));
  assert.equal(pieces[0], '[', 'the array opens when the upstream commits');
  const whole = JSON.parse(pieces.join('')) as Json[];
  assert.equal(whole.length, 7);
  assert.ok(pieces.join('').includes('},\r\n{'), "Gemini's element separator");
  assert.equal(whole.at(-1)!.candidates[0].finishReason, 'STOP');

  const failing = new GeminiStreamEncoder('array');
  const cut = [failing.encode(streamParts[0]!), failing.encode({ type: 'text-delta', index: 0, delta: 'Hel' }), failing.encode({ type: 'error', error: new GatewayError(ErrorCode.idleTimeout, 'silent upstream', { status: 504 }) })].join('');
  const parsed = JSON.parse(cut) as Json[];
  assert.deepEqual(parsed.at(-1)!.error.status, 'DEADLINE_EXCEEDED');
  const early = new GeminiStreamEncoder('array');
  assert.equal(JSON.parse(early.encodeError(new GatewayError(ErrorCode.upstreamReset, 'reset', { status: 502 })))[0].error.code, 502);
  const opened = new GeminiStreamEncoder('array');
  assert.equal(JSON.parse(opened.encode(streamParts[0]!) + opened.encodeError(new GatewayError(ErrorCode.upstreamReset, 'reset', { status: 502 })))[0].error.code, 502);
});

test('stream: malformed tool arguments end with MALFORMED_FUNCTION_CALL', () => {
  const encoder = new GeminiStreamEncoder('sse');
  const out = [
    encoder.encode({ type: 'response-start', id: 'r', model: 'm', created: 1 }),
    encoder.encode({ type: 'tool-call-start', index: 0, id: 'c', name: 'f' }),
    encoder.encode({ type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":' }),
    encoder.encode({ type: 'tool-call-end', index: 0 }),
    encoder.encode({ type: 'response-end', finishReason: 'tool-calls' }),
  ].join('');
  const events = parseSse(out);
  assert.equal(events.length, 1);
  assert.equal(JSON.parse(events[0]!.data).candidates[0].finishReason, 'MALFORMED_FUNCTION_CALL');
});

test('errors: Google status names, RetryInfo and BadRequest details', () => {
  assert.deepEqual([400, 401, 403, 404, 405, 408, 413, 429, 499, 500, 502, 503, 504].map(googleStatus),
    ['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'NOT_FOUND', 'UNIMPLEMENTED', 'DEADLINE_EXCEEDED', 'INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'CANCELLED', 'INTERNAL', 'UNAVAILABLE', 'UNAVAILABLE', 'DEADLINE_EXCEEDED']);
  const limited = encodeGeminiError(new GatewayError(ErrorCode.upstreamStatus, 'Slow down.', { status: 429, retryAfterSeconds: 6.2 }));
  assert.equal(limited.status, 429);
  assert.deepEqual(limited.headers.slice(-2), ['retry-after', '7']);
  const body = JSON.parse(limited.body);
  assert.equal(body.error.code, 429);
  assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
  assert.deepEqual(body.error.details.at(-1), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' });
  const invalid = JSON.parse(encodeGeminiError(new GatewayError(ErrorCode.invalidRequest, 'bad', { status: 400, param: 'contents' })).body);
  assert.deepEqual(invalid.error.details[1], { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'contents', description: 'bad' }] });
  assert.equal(geminiStream.encodeStreamError(new GatewayError(ErrorCode.upstreamReset, 'x', { status: 502 })).toString().startsWith('data: {"error":'), true);
  assert.equal(geminiStreamArray.encodeStreamError(new GatewayError(ErrorCode.upstreamReset, 'x', { status: 502 })).toString().startsWith(',\r\n{"error":'), true);
});

test('pass-through: the chunk with a finishReason or a blockReason ends a stream', () => {
  assert.equal(geminiStream.isStreamTerminal(Buffer.from('data: {"candidates": [{"content": {"parts": [{"text": "say \\"finishReason\\""}]}}]}\r\n\r\n')), false);
  assert.equal(geminiStream.isStreamTerminal(Buffer.from('data: {"candidates": [{"finishReason": "STOP"}]}\r\n\r\n')), true);
  assert.equal(geminiStream.isStreamTerminal(Buffer.from('data: {"promptFeedback": {"blockReason": "SAFETY"}}\n\n')), true);
  assert.equal(geminiStream.streamFraming, 'sse');
  assert.equal(geminiStreamArray.streamFraming, 'json-array');
  assert.equal(geminiGenerate.wire, 'gemini-generate');
});

test('embeddings: embedContent and batchEmbedContents both ways', () => {
  const single = embedCodec.decodeRequest({ model: 'models/text-embedding-004', content: { parts: [{ text: 'Hello' }, { text: 'world' }] }, taskType: 'RETRIEVAL_DOCUMENT', title: 'Greeting', outputDimensionality: 256 }, surfaceRequest('text-embedding-004'));
  assert.deepEqual(single, { model: 'text-embedding-004', inputs: ['Hello\nworld'], taskType: 'RETRIEVAL_DOCUMENT', dimensions: 256, passThrough: { dialect: 'gemini', fields: { title: 'Greeting' } } });
  assert.deepEqual(JSON.parse(embedCodec.encodeResponse({ model: 'm', embeddings: [[0.1, 0.2]], usage: { inputTokens: 2 } }, single, {})), { embedding: { values: [0.1, 0.2] } });
  const batch = batchEmbedCodec.decodeRequest({
    requests: [
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_QUERY' },
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, taskType: 'RETRIEVAL_QUERY' },
    ],
  }, surfaceRequest('gemini-embedding-001'));
  assert.deepEqual(batch, { model: 'gemini-embedding-001', inputs: ['a', 'b'], taskType: 'RETRIEVAL_QUERY' });
  assert.deepEqual(JSON.parse(batchEmbedCodec.encodeResponse({ model: 'm', embeddings: [[1], [2]], usage: { inputTokens: 2 } }, batch, {})), { embeddings: [{ values: [1] }, { values: [2] }] });
  badRequest(() => batchEmbedCodec.decodeRequest({ requests: [{ content: { parts: [{ text: 'a' }] }, taskType: 'A' }, { content: { parts: [{ text: 'b' }] } }] }, surfaceRequest()), 'requests[1].taskType');
  badRequest(() => embedCodec.decodeRequest({ content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'x' } }] } }, surfaceRequest()), 'request.content.parts[0]');
});

test('countTokens: bare contents or a whole generateContentRequest', () => {
  const bare = countTokensCodec.decodeRequest({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, surfaceRequest());
  assert.deepEqual(bare.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  const whole = countTokensCodec.decodeRequest({ generateContentRequest: { model: 'models/gemini-2.5-flash', contents: [{ parts: [{ text: 'Hi' }] }], systemInstruction: { parts: [{ text: 'S' }] }, tools: [{ functionDeclarations: [{ name: 'f' }] }] } }, surfaceRequest());
  assert.equal(whole.messages[0]!.role, 'system');
  assert.equal(whole.tools![0]!.name, 'f');
  assert.equal(whole.passThrough, undefined, "the wrapped request's model field is the path's model");
  assert.equal(countTokensCodec.encodeResponse(42), '{"totalTokens":42}');
});

function route(method: 'GET' | 'POST', path: string, request: SurfaceRequest = surfaceRequest()): { route: DialectRoute; params: Record<string, string> | undefined } | undefined {
  for (const candidate of [...geminiSurfaces.routes].sort((a, b) => Number(b.when !== undefined) - Number(a.when !== undefined))) {
    if (candidate.method !== method) continue;
    if (candidate.when !== undefined && !candidate.when(request)) continue;
    if (candidate.match === undefined) {
      if (candidate.path === path) return { route: candidate, params: undefined };
      continue;
    }
    if (!path.startsWith(candidate.path)) continue;
    const params = candidate.match(path.slice(candidate.path.length));
    if (params !== undefined) return { route: candidate, params };
  }
  return undefined;
}

test('routes: path families under /v1beta and /v1, models with tags, tuned models', () => {
  assert.equal(route('POST', '/v1beta/models/gemini-2.5-flash:generateContent')!.route.surface, geminiGenerate);
  assert.equal(route('POST', '/v1beta/models/gemini-2.5-flash:streamGenerateContent', surfaceRequest('x', 'alt=sse'))!.route.surface, geminiStream);
  assert.equal(route('POST', '/v1beta/models/gemini-2.5-flash:streamGenerateContent')!.route.surface, geminiStreamArray);
  assert.deepEqual(route('POST', '/v1/models/qwen3:8b:generateContent')!.params, { model: 'qwen3:8b', method: 'generateContent' });
  assert.deepEqual(route('POST', '/v1beta/models/my%20model:countTokens')!.params, { model: 'my model', method: 'countTokens' });
  assert.deepEqual(route('POST', '/v1beta/tunedModels/my-tune:generateContent')!.params, { model: 'tunedModels/my-tune', method: 'generateContent' });
  assert.equal(route('POST', '/v1beta/models/gemini-embedding-001:batchEmbedContents')!.route.surface!.wire, 'gemini-batch-embed');
  assert.equal(route('POST', '/v1beta/models/gemini-embedding-001:embedContent')!.route.surface!.wire, 'gemini-embed');
  const unknown = route('POST', '/v1/models/gemini-2.5-flash:predict')!;
  assert.equal(unknown.route.local !== undefined, true, 'unknown methods get a Gemini 404');
  assert.equal(JSON.parse(unknown.route.local!({} as ModelCatalog, { ...surfaceRequest(), method: 'POST', path: '/v1/models/x:predict' }).body).error.status, 'NOT_FOUND');
  assert.equal(route('GET', '/v1beta/models')!.route.local, listGeminiModels);
  assert.equal(route('GET', '/v1/models'), undefined, 'GET /v1/models stays OpenAI’s for other clients');
  assert.equal(route('GET', '/v1/models', surfaceRequest('x', '', { 'x-goog-api-key': 'k' }))!.route.local, listGeminiModels);
  assert.equal(route('GET', '/v1/models', surfaceRequest('x', 'key=k'))!.route.local, listGeminiModels);
  assert.deepEqual(route('GET', '/v1/models/gemini-2.5-flash', surfaceRequest('x', '', { 'x-goog-api-client': 'google-genai-sdk/2.32.0 gl-node/v24' }))!.params, { model: 'gemini-2.5-flash' });
  assert.deepEqual(geminiSurfaces.errorPrefixes.map((entry) => entry.prefix), ['/v1beta/']);
});

const catalog: ModelCatalog = {
  list: () => [{ id: 'gemini-2.5-flash', ownedBy: 'google' }, { id: 'gpt-5', ownedBy: 'openai' }, { id: 'text-embedding-3-small', ownedBy: 'openai' }],
  find: (name) => catalog.list().find((model) => model.id === name),
};

test('model lists in Gemini shape, paged', () => {
  const local = (query: string) => JSON.parse(listGeminiModels(catalog, { params: {}, query, headers: {}, method: 'GET', path: '/v1beta/models' }).body);
  const all = local('');
  assert.deepEqual(all.models.map((model: Json) => model.name), ['models/gemini-2.5-flash', 'models/gpt-5', 'models/text-embedding-3-small']);
  assert.deepEqual(all.models[0].supportedGenerationMethods, ['generateContent', 'streamGenerateContent', 'countTokens']);
  assert.deepEqual(all.models[2].supportedGenerationMethods, ['embedContent', 'batchEmbedContents', 'countTokens']);
  assert.equal(all.nextPageToken, undefined);
  const first = local('pageSize=2');
  assert.equal(first.models.length, 2);
  assert.equal(first.nextPageToken, '2');
  assert.deepEqual(local('pageSize=2&pageToken=2').models.map((model: Json) => model.displayName), ['text-embedding-3-small']);
  const found = getGeminiModel(catalog, { params: { model: 'gpt-5' }, query: '', headers: {}, method: 'GET', path: '/v1beta/models/gpt-5' });
  assert.equal(JSON.parse(found.body).name, 'models/gpt-5');
  const missing = getGeminiModel(catalog, { params: { model: 'nope' }, query: '', headers: {}, method: 'GET', path: '/v1beta/models/nope' });
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).error.status, 'NOT_FOUND');
});
