// The gemini provider's converters: canonical → GenerateContentRequest (every row of the matrix),
// GenerateContentResponse and its SSE stream → canonical, errors, embeddings, countTokens, model
// discovery and pass-through paths — against fixtures shaped like the Generative Language API's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink } from '../../src/canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { geminiCountTokensCodec } from '../../src/providers/gemini/count-tokens.ts';
import { decodeGenerateResponse } from '../../src/providers/gemini/decode-response.ts';
import { GeminiStreamDecoder } from '../../src/providers/gemini/decode-stream.ts';
import { EFFORT_BUDGETS, encodeGenerateRequest } from '../../src/providers/gemini/encode-request.ts';
import { geminiEmbeddingsCodec } from '../../src/providers/gemini/embeddings.ts';
import { decodeGeminiError } from '../../src/providers/gemini/errors.ts';
import { geminiProvider } from '../../src/providers/gemini/index.ts';

type Json = Record<string, any>;

const raw = (name: string) => readFileSync(new URL(`../fixtures/gemini/${name}`, import.meta.url), 'utf8');
const fixture = (name: string) => JSON.parse(raw(name)) as Json;
const context = { name: 'google', preset: 'gemini' };
const base = (overrides: Partial<CanonicalRequest>): CanonicalRequest => ({ model: 'x', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], sampling: {}, stream: false, ...overrides });
const body = (request: CanonicalRequest, model = 'gemini-2.5-flash') => JSON.parse(encodeGenerateRequest(request, model, context).body) as Json;

function badRequest(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof GatewayError && error.status === 400 && pattern.test(error.message));
}

/** A canonical request the way the OpenAI surface decodes a tool-heavy, reasoning chat. */
const conversation: CanonicalRequest = {
  model: 'smart',
  stream: true,
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'You are terse.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/jpeg', data: '/9j/4AAQ' } }] },
    {
      role: 'assistant', content: [
        { type: 'reasoning', text: 'Two cities.', signature: 'sig-gemini-thought', provider: 'gemini' },
        { type: 'reasoning', text: '', signature: 'sig-call' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool-call', id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool-call', id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      ],
    },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_a', content: '18°C and sunny' }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_b', content: [{ type: 'text', text: 'service timed out' }], isError: true }] },
    { role: 'user', content: [{ type: 'text', text: 'Summarise.' }] },
  ],
  tools: [{ name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }],
  toolChoice: { type: 'tool', name: 'get_weather' },
  sampling: { temperature: 0.2, topP: 0.9, topK: 20, maxTokens: 4096, stop: ['END'], seed: 3, presencePenalty: 0.5, frequencyPenalty: 0.25 },
  responseFormat: { type: 'json-schema', name: 'summary', schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false } },
  reasoning: { budgetTokens: 2048, includeThoughts: true },
};

test('encode: a whole conversation in Gemini shape', () => {
  const request = encodeGenerateRequest(conversation, 'gemini-2.5-flash', context);
  assert.equal(request.path, '/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.deepEqual(request.headers, ['accept', 'text/event-stream']);
  assert.deepEqual(JSON.parse(request.body), {
    contents: [
      { role: 'user', parts: [{ text: 'Weather in Paris and Oslo?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }] },
      {
        role: 'model', parts: [
          { text: 'Two cities.', thought: true, thoughtSignature: 'sig-gemini-thought' },
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-call' },
          { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } },
        ],
      },
      {
        role: 'user', parts: [
          { functionResponse: { name: 'get_weather', response: { output: '18°C and sunny' } } },
          { functionResponse: { name: 'get_weather', response: { error: 'service timed out' } } },
          { text: 'Summarise.' },
        ],
      },
    ],
    systemInstruction: { parts: [{ text: 'You are terse.' }] },
    tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
    toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    generationConfig: {
      temperature: 0.2, topP: 0.9, topK: 20, maxOutputTokens: 4096, stopSequences: ['END'], seed: 3, presencePenalty: 0.5, frequencyPenalty: 0.25,
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { text: { type: 'STRING' } }, required: ['text'], propertyOrdering: ['text'] },
      thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
    },
  });
});

test('encode: non-streaming path, tuned models, tool choices, JSON mode', () => {
  const plain = encodeGenerateRequest(base({}), 'tunedModels/my-tune', context);
  assert.equal(plain.path, '/tunedModels/my-tune:generateContent');
  assert.equal(encodeGenerateRequest(base({}), 'models/gemini-2.0-flash', context).path, '/models/gemini-2.0-flash:generateContent');
  const tools = [{ name: 'f', parameters: { type: 'object', properties: {} } }];
  assert.deepEqual(body(base({ tools, toolChoice: { type: 'auto' } })).toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
  assert.deepEqual(body(base({ tools, toolChoice: { type: 'none' } })).toolConfig, { functionCallingConfig: { mode: 'NONE' } });
  assert.deepEqual(body(base({ tools, toolChoice: { type: 'required' } })).toolConfig, { functionCallingConfig: { mode: 'ANY' } });
  assert.deepEqual(body(base({ tools })).tools, [{ functionDeclarations: [{ name: 'f' }] }], 'no parameters: none declared');
  assert.deepEqual(body(base({ responseFormat: { type: 'json' } })).generationConfig, { responseMimeType: 'application/json' });
  assert.equal(body(base({ responseFormat: { type: 'text' } })).generationConfig, undefined);
  assert.equal(body(base({ parallelToolCalls: false, metadata: { user: 'u' } })).generationConfig, undefined, 'inert: Gemini has no switch for them');
});

test('encode: reasoning effort and budget mapping', () => {
  const thinking = (reasoning: CanonicalRequest['reasoning'], model = 'gemini-2.5-flash') => body(base({ reasoning }), model).generationConfig?.thinkingConfig;
  assert.deepEqual(thinking({ budgetTokens: 16_384, includeThoughts: true }), { thinkingBudget: 16_384, includeThoughts: true });
  assert.deepEqual(thinking({ effort: 'low' }), { thinkingBudget: 1024, includeThoughts: true });
  assert.deepEqual(thinking({ effort: 'medium', includeThoughts: false }), { thinkingBudget: 8192 });
  assert.deepEqual(thinking({ effort: 'high' }), { thinkingBudget: 24_576, includeThoughts: true });
  assert.deepEqual(thinking({ effort: 'none', includeThoughts: false }), { thinkingBudget: 0 });
  assert.deepEqual(thinking({ effort: 'high' }, 'gemini-3-pro-preview'), { thinkingLevel: 'high', includeThoughts: true }, 'Gemini 3 takes levels');
  assert.deepEqual(thinking({ effort: 'minimal' }, 'gemini-3-flash-preview'), { thinkingLevel: 'minimal', includeThoughts: true });
  assert.deepEqual(thinking({ effort: 'medium' }, 'gemini-3-flash-preview'), { thinkingLevel: 'medium', includeThoughts: true });
  assert.deepEqual(thinking({ effort: 'medium' }, 'gemini-3-pro-preview'), { thinkingLevel: 'high', includeThoughts: true }, 'Pro knows low and high only');
  assert.deepEqual(thinking({ effort: 'minimal' }, 'gemini-3-pro-preview'), { thinkingLevel: 'low', includeThoughts: true });
  assert.deepEqual(thinking({ budgetTokens: 4096 }, 'gemini-3-pro-preview'), { thinkingBudget: 4096, includeThoughts: true });
  assert.deepEqual(thinking({ includeThoughts: true }), { includeThoughts: true });
  assert.deepEqual(Object.keys(EFFORT_BUDGETS), ['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
});

test('encode: signatures — foreign ones dropped, Gemini 3 calls without one get the documented placeholder', () => {
  const history = (content: CanonicalRequest['messages'][number]['content']): Json[] => body(base({
    messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }, { role: 'assistant', content }],
  }), 'gemini-3-pro-preview').contents[1].parts;
  assert.deepEqual(history([
    { type: 'reasoning', text: 'Claude thought.', signature: 'anthropic-sig', provider: 'anthropic' },
    { type: 'reasoning', text: '', redactedData: 'opaque' },
    { type: 'tool-call', id: 'toolu_1', name: 'f', arguments: '{}' },
    { type: 'tool-call', id: 'toolu_2', name: 'f', arguments: '{"a":1}' },
  ]), [
    { text: 'Claude thought.', thought: true },
    { functionCall: { name: 'f', args: {} }, thoughtSignature: 'skip_thought_signature_validator' },
    { functionCall: { name: 'f', args: { a: 1 } } },
  ]);
  assert.deepEqual(history([{ type: 'reasoning', text: '', signature: 'S' }, { type: 'text', text: 'Answer.' }]), [{ text: 'Answer.', thoughtSignature: 'S' }]);
  assert.deepEqual(history([{ type: 'text', text: 'Answer.' }, { type: 'reasoning', text: '', signature: 'S' }]), [{ text: 'Answer.', thoughtSignature: 'S' }]);
  assert.deepEqual(history([{ type: 'reasoning', text: '', signature: 'S' }]), [{ text: '', thoughtSignature: 'S' }]);
  assert.deepEqual(history([
    { type: 'reasoning', text: 'Thought.' }, { type: 'reasoning', text: '', signature: 'CALL' }, { type: 'text', text: 'Checking.' },
    { type: 'tool-call', id: 'a', name: 'f', arguments: '{}' }, { type: 'tool-call', id: 'b', name: 'f', arguments: '{}' },
  ]), [
    { text: 'Thought.', thought: true }, { text: 'Checking.' },
    { functionCall: { name: 'f', args: {} }, thoughtSignature: 'CALL' }, { functionCall: { name: 'f', args: {} } },
  ], 'reasoning moved ahead of the text (OpenAI reasoning_details) still signs the first call');
  assert.deepEqual(history([{ type: 'text', text: 'Checking.' }, { type: 'reasoning', text: '', signature: 'CALL' }, { type: 'tool-call', id: 'a', name: 'f', arguments: '{}' }]), [
    { text: 'Checking.' }, { functionCall: { name: 'f', args: {} }, thoughtSignature: 'CALL' },
  ], 'between a text and a call, the call (the one Gemini validates) takes it');
  const older = body(base({ messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }, { role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '{}' }] }] }), 'gemini-2.5-pro');
  assert.deepEqual(older.contents[1].parts, [{ functionCall: { name: 'f', args: {} } }], 'Gemini 2.5 validates nothing');
});

test('encode: tool results need their call; arguments must be JSON objects', () => {
  badRequest(() => body(base({ messages: [{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'nowhere', content: 'x' }] }] })), /a call the conversation does not contain/);
  const legacy = body(base({ tools: [{ name: 'lookup', parameters: {} }], messages: [{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'lookup', content: 'x' }] }] }));
  assert.equal(legacy.contents[0].parts[0].functionResponse.name, 'lookup', "OpenAI's legacy function role names the function");
  badRequest(() => body(base({ messages: [{ role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '{"a":' }] }] })), /not JSON/);
  badRequest(() => body(base({ messages: [{ role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: '[1]' }] }] })), /JSON object/);
  const image = body(base({
    messages: [
      { role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'shot', arguments: '{}' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', content: [{ type: 'text', text: 'here' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } }] }] },
    ],
  }));
  assert.deepEqual(image.contents[1].parts, [{ functionResponse: { name: 'shot', response: { output: 'here' } } }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }]);
  const fileUri = body(base({ messages: [{ role: 'user', content: [{ type: 'file', source: { kind: 'url', url: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mediaType: 'application/pdf' } }] }] }));
  assert.deepEqual(fileUri.contents[0].parts, [{ fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }]);
});

test("encode: a Gemini caller's extra fields are merged, another dialect's refused", () => {
  const merged = body(base({
    tools: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }],
    passThrough: {
      dialect: 'gemini',
      fields: { 'tools.googleSearch': {}, 'generationConfig.candidateCount': 2, 'toolConfig.retrievalConfig': { languageCode: 'en' }, cachedContent: 'cachedContents/abc' },
      inert: { safetySettings: [{ category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_NONE' }] },
    },
  }));
  assert.deepEqual(merged.tools[1], { googleSearch: {} });
  assert.equal(merged.generationConfig.candidateCount, 2);
  assert.deepEqual(merged.toolConfig, { retrievalConfig: { languageCode: 'en' } });
  assert.equal(merged.cachedContent, 'cachedContents/abc');
  assert.equal(merged.safetySettings[0].threshold, 'BLOCK_NONE');
  badRequest(() => body(base({ passThrough: { dialect: 'openai', fields: { logprobs: true } } })), /'logprobs' \(openai\) cannot be expressed for a gemini provider/);
  assert.equal(body(base({ passThrough: { dialect: 'ollama', fields: {}, inert: { keep_alive: '5m' } } })).keep_alive, undefined, "another dialect's inert fields are dropped");
});

test('decode: a response with thoughts, text and parallel calls', () => {
  const response = decodeGenerateResponse(fixture('generate-response-tools.json'));
  assert.equal(response.id, 'Il0taoSYJ5Cez7kPqvmX0Qk');
  assert.equal(response.model, 'gemini-2.5-flash');
  assert.deepEqual(response.content, [
    { type: 'reasoning', text: '**Planning the lookups**\n\nThe user wants two facts, so I will call both tools.', provider: 'gemini' },
    { type: 'text', text: 'Checking both.' },
    { type: 'reasoning', text: '', signature: 'CiQB0e2Kb7xJ8m0VHk3Zq9tNwQ2c1pGx3bRk5Lr0aYk=', provider: 'gemini' },
    { type: 'tool-call', id: 'call_Il0taoSYJ5Cez7kPqvmX0Qk_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'tool-call', id: 'call_Il0taoSYJ5Cez7kPqvmX0Qk_1', name: 'get_time', arguments: '{"city":"Tokyo"}' },
  ]);
  assert.equal(response.finishReason, 'tool-calls');
  assert.equal(response.rawFinishReason, 'STOP');
  assert.deepEqual(response.usage, { inputTokens: 70, outputTokens: 80, cachedInputTokens: 32, reasoningTokens: 50 });
});

test('decode: a signed text, MAX_TOKENS, blocked prompts, other finish reasons, non-text parts', () => {
  const text = decodeGenerateResponse(fixture('generate-response-text.json'));
  assert.deepEqual(text.content, [{ type: 'text', text: '1+1 equals 2.' }, { type: 'reasoning', text: '', signature: 'EjQKMgEMOdbHmYxRbH2LrZJk0w==', provider: 'gemini' }]);
  assert.equal(text.finishReason, 'length');
  assert.deepEqual(text.usage, { inputTokens: 15, outputTokens: 6 });
  const blocked = decodeGenerateResponse({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 }, modelVersion: 'gemini-2.5-flash' });
  assert.equal(blocked.finishReason, 'content-filter');
  assert.equal(blocked.rawFinishReason, 'PROHIBITED_CONTENT');
  const finish = (reason: string) => decodeGenerateResponse({ candidates: [{ content: { parts: [{ text: 'x' }], role: 'model' }, finishReason: reason, index: 0 }] }).finishReason;
  assert.deepEqual(['SAFETY', 'RECITATION', 'MALFORMED_FUNCTION_CALL', 'LANGUAGE', 'OTHER'].map(finish), ['content-filter', 'content-filter', 'error', 'other', 'other']);
  const mixed = decodeGenerateResponse({ candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }, { executableCode: { language: 'PYTHON', code: 'print(2)' } }], role: 'model' }, finishReason: 'STOP' }] });
  assert.deepEqual(mixed.content.map((part) => (part as { text: string }).text), ['![image](data:image/png;base64,AAAA)', '```python\nprint(2)\n```']);
  assert.throws(() => decodeGenerateResponse({}), (error: unknown) => error instanceof GatewayError && error.status === 502);
});

class Collector implements PartSink {
  parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

/** The lifecycle contract of src/canonical/stream.ts. */
function assertLifecycle(parts: readonly StreamPart[]): void {
  assert.equal(parts[0]?.type, 'response-start', 'response-start first');
  let open: { kind: string; index: number } | undefined;
  let next = 0;
  parts.slice(1, -1).forEach((part) => {
    const [kind, phase] = part.type.startsWith('tool-call') ? ['tool-call', part.type.slice(10)] : part.type.split('-') as [string, string];
    if (part.type === 'usage') return;
    assert.ok('index' in part, `${part.type} in the middle`);
    if (phase === 'start') {
      assert.equal(open, undefined, `${part.type} while a block is open`);
      assert.equal(part.index, next++, 'indices in order');
      open = { kind, index: part.index };
    } else {
      assert.deepEqual(open, { kind, index: part.index }, `${part.type} belongs to the open block`);
      if (phase === 'end') open = undefined;
    }
  });
  assert.equal(open, undefined, 'every block closed');
  assert.ok(['response-end', 'error'].includes(parts.at(-1)!.type), 'one terminal part last');
}

function decodeStream(text: string, pieceSize: number): StreamPart[] {
  const decoder = new GeminiStreamDecoder();
  const sink = new Collector();
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += pieceSize) decoder.push(bytes.subarray(at, at + pieceSize), sink);
  decoder.end(sink);
  return sink.parts;
}

test('stream: thoughts, text, a signed call and a plain one, at every chunking', () => {
  for (const size of [1, 7, 64, 100_000]) {
    const parts = decodeStream(raw('stream-thinking-tools.sse'), size);
    assertLifecycle(parts);
    const shape = parts.filter((part) => part.type !== 'usage').map((part) => part.type);
    assert.deepEqual(shape, [
      'response-start',
      'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end',
      'text-start', 'text-delta', 'text-delta', 'text-end',
      'reasoning-start', 'reasoning-signature', 'reasoning-end',
      'tool-call-start', 'tool-call-delta', 'tool-call-end',
      'tool-call-start', 'tool-call-delta', 'tool-call-end',
      'response-end',
    ]);
    assert.deepEqual(parts[0], { type: 'response-start', id: 'Il0taoSYJ5Cez7kPqvmX0Qk', model: 'gemini-2.5-flash', created: (parts[0] as { created: number }).created });
    const starts = parts.filter((part) => part.type === 'tool-call-start') as Extract<StreamPart, { type: 'tool-call-start' }>[];
    assert.deepEqual(starts.map((part) => [part.id, part.name]), [['call_Il0taoSYJ5Cez7kPqvmX0Qk_0', 'get_weather'], ['call_Il0taoSYJ5Cez7kPqvmX0Qk_1', 'get_time']]);
    const deltas = parts.filter((part) => part.type === 'tool-call-delta') as Extract<StreamPart, { type: 'tool-call-delta' }>[];
    assert.deepEqual(deltas.map((part) => part.argumentsDelta), ['{"city":"Paris"}', '{"city":"Tokyo"}']);
    const reasoning = parts.filter((part) => part.type === 'reasoning-delta').map((part) => (part as { delta: string }).delta).join('');
    assert.equal(reasoning, '**Planning the lookups**\n\nTwo facts, so both tools.');
    assert.deepEqual(parts.at(-1), { type: 'response-end', finishReason: 'tool-calls', rawFinishReason: 'STOP', usage: { inputTokens: 70, outputTokens: 80, cachedInputTokens: 32, reasoningTokens: 50 } });
    assert.deepEqual(parts[1], { type: 'usage', usage: { inputTokens: 70, outputTokens: 0 } }, 'usage as it arrives');
  }
});

test('stream: a trailing signature part and MAX_TOKENS', () => {
  const parts = decodeStream(raw('stream-text-length.sse'), 5);
  assertLifecycle(parts);
  assert.deepEqual(parts.filter((part) => part.type !== 'usage').slice(1).map((part) => part.type === 'reasoning-signature' ? part.signature : part.type), [
    'text-start', 'text-delta', 'text-delta', 'text-end', 'reasoning-start', 'EjQKMgEMOdbHmYxRbH2LrZJk0w==', 'reasoning-end', 'response-end',
  ]);
  assert.deepEqual(parts.at(-1), { type: 'response-end', finishReason: 'length', rawFinishReason: 'MAX_TOKENS', usage: { inputTokens: 12, outputTokens: 3 } });
});

test('stream: cut short, a mid-stream error, a signed thought part, a blocked prompt', () => {
  const text = raw('stream-thinking-tools.sse').split('\r\n\r\n').slice(0, 3).join('\r\n\r\n') + '\r\n\r\n';
  const cut = decodeStream(text, 50);
  assert.equal(cut.at(-1)!.type, 'error', 'no finishReason: an error, never a clean end');
  assert.equal((cut.at(-1) as unknown as { error: GatewayError }).error.status, 502);
  const failed = decodeStream('data: {"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"}}]}\r\n\r\ndata: {"error": {"code": 429,"message": "Resource has been exhausted (e.g. check quota).","status": "RESOURCE_EXHAUSTED"}}\r\n\r\n', 1000);
  assert.equal(failed.at(-1)!.type, 'error');
  assert.equal((failed.at(-1) as unknown as { error: GatewayError }).error.status, 429);
  assert.match((failed.at(-1) as unknown as { error: GatewayError }).error.message, /Resource has been exhausted/);
  const thoughts = decodeStream('data: {"candidates": [{"content": {"parts": [{"text": "a", "thought": true}, {"text": "b", "thought": true, "thoughtSignature": "S1"}, {"text": "c", "thought": true}],"role": "model"},"finishReason": "STOP"}]}\n\n', 1000);
  assertLifecycle(thoughts);
  assert.deepEqual(thoughts.filter((part) => part.type.startsWith('reasoning')).map((part) => part.type), [
    'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-signature', 'reasoning-end', 'reasoning-start', 'reasoning-delta', 'reasoning-end',
  ]);
  const blocked = decodeStream('data: {"promptFeedback": {"blockReason": "SAFETY"},"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8}}\n\n', 1000);
  assert.deepEqual(blocked.at(-1), { type: 'response-end', finishReason: 'content-filter', rawFinishReason: 'SAFETY', usage: { inputTokens: 8, outputTokens: 0 } });
  assert.equal(decodeStream('data: not json\n\n', 1000).at(-1)!.type, 'error');
});

test('errors: Google error bodies → status, retry delay, context length', () => {
  const limited = decodeGeminiError(429, Buffer.from(raw('error-429.json')), {}, 'google');
  assert.equal(limited.status, 429);
  assert.equal(limited.errorClass, 'rate-limited');
  assert.equal(limited.retryAfterSeconds, 37, 'RetryInfo.retryDelay when no retry-after header');
  assert.match(limited.message, /^Provider 'google' answered 429: You exceeded your current quota/);
  const context = decodeGeminiError(400, Buffer.from(raw('error-400-context.json')), {}, 'google');
  assert.equal(context.code, ErrorCode.contextLength, 'the JSON-array form and the context-length message');
  const server = decodeGeminiError(503, Buffer.from('{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}'), {}, 'google');
  assert.equal(server.status, 502);
  assert.equal(server.retryable, true);
  const html = decodeGeminiError(404, Buffer.from('<html>Not Found</html>'), {}, 'google');
  assert.match(html.message, /<html>Not Found<\/html>/);
  assert.equal(html.fallbackAllowed, true);
});

test('embeddings: batchEmbedContents for the routed model', () => {
  const request = { model: 'embedder', inputs: ['a', 'b'], taskType: 'RETRIEVAL_DOCUMENT', dimensions: 256, passThrough: { dialect: 'gemini', fields: { title: ['Doc A', null] } } };
  const upstream = geminiEmbeddingsCodec.encodeRequest(request, 'gemini-embedding-001', context);
  assert.equal(upstream.path, '/models/gemini-embedding-001:batchEmbedContents');
  assert.deepEqual(JSON.parse(upstream.body), {
    requests: [
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 256, title: 'Doc A' },
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 256 },
    ],
  });
  const decoded = geminiEmbeddingsCodec.decodeResponse(fixture('batch-embed-response.json'), request);
  assert.deepEqual(decoded.embeddings, [[0.0123, -0.0456, 0.0789, 0.0011], [-0.0321, 0.0654, -0.0987, 0.0022]]);
  assert.ok(decoded.usage.inputTokens > 0, 'an estimate: Gemini reports no usage for embeddings');
  assert.deepEqual(geminiEmbeddingsCodec.decodeResponse({ embedding: { values: [1, 2] } }, request).embeddings, [[1, 2]]);
  assert.throws(() => geminiEmbeddingsCodec.encodeRequest({ model: 'e', inputs: ['a'], passThrough: { dialect: 'openai', fields: { user: 'x' } } }, 'e', context), /cannot be expressed/);
});

test('countTokens: the whole request, wrapped', () => {
  const upstream = geminiCountTokensCodec.encodeRequest(conversation, 'gemini-2.5-flash', context);
  assert.equal(upstream.path, '/models/gemini-2.5-flash:countTokens');
  const sent = JSON.parse(upstream.body);
  assert.equal(sent.generateContentRequest.model, 'models/gemini-2.5-flash');
  assert.equal(sent.generateContentRequest.systemInstruction.parts[0].text, 'You are terse.');
  assert.equal(sent.generateContentRequest.tools[0].functionDeclarations[0].name, 'get_weather');
  assert.equal(geminiCountTokensCodec.decodeResponse({ totalTokens: 31, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 31 }] }), 31);
});

test('adapter: pass-through paths never carry the client key; discovery keeps generative models', () => {
  assert.equal(geminiProvider.mediaUrls, 'inline');
  assert.deepEqual([...geminiProvider.nativeWires], ['gemini-generate']);
  assert.equal(geminiProvider.passThroughPath('gemini-generate', 'gemini-2.5-flash', { params: {}, query: 'alt=sse&key=sk-client', headers: {} }, true), '/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.equal(geminiProvider.passThroughPath('gemini-generate', 'gemini-2.5-flash', { params: {}, query: 'key=sk-client', headers: {} }, false), '/models/gemini-2.5-flash:generateContent');
  assert.equal(geminiProvider.passThroughPath('gemini-generate', 'gemini-2.5-flash', { params: {}, query: '', headers: {} }, true), '/models/gemini-2.5-flash:streamGenerateContent', 'a JSON-array stream stays one');
  assert.equal(geminiProvider.passThroughPath('gemini-generate', 'tunedModels/t1', { params: {}, query: '', headers: {} }, false), '/tunedModels/t1:generateContent');
  assert.deepEqual(geminiProvider.forwardHeaders({ params: {}, query: '', headers: { 'x-goog-api-key': 'sk-client' } }), []);
  assert.equal(geminiProvider.modelListPath, '/models?pageSize=1000');
  assert.deepEqual(geminiProvider.decodeModelList(fixture('models-list.json')), ['gemini-2.5-flash', 'gemini-embedding-001']);
  assert.deepEqual(geminiProvider.decodeModelList({ error: {} }), []);
});
