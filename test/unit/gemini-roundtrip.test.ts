// Gemini → canonical → Gemini, both ways: what a Gemini caller sends reaches a Gemini upstream
// with every part, signature and setting in place (the path a thinking suffix such as
// `gemini-2.5-flash(8192)` takes), and a Gemini answer reaches a Gemini caller unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeGenerateResponse } from '../../src/providers/gemini/decode-response.ts';
import { GeminiStreamDecoder } from '../../src/providers/gemini/decode-stream.ts';
import { encodeGenerateRequest } from '../../src/providers/gemini/encode-request.ts';
import { decodeGenerateRequest } from '../../src/surfaces/gemini/decode-request.ts';
import { encodeGenerateResponse } from '../../src/surfaces/gemini/encode-response.ts';
import { GeminiStreamEncoder } from '../../src/surfaces/gemini/encode-stream.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;

const raw = (name: string) => readFileSync(new URL(`../fixtures/gemini/${name}`, import.meta.url), 'utf8');
const fixture = (name: string) => JSON.parse(raw(name)) as Json;
const context = { name: 'google', preset: 'gemini' };

test('request: contents, signatures, tools and settings survive the trip', () => {
  const original = fixture('generate-request.json');
  const canonical = decodeGenerateRequest(original, { params: { model: 'gemini-2.5-flash' }, query: '', headers: {} }, false);
  canonical.reasoning = { ...canonical.reasoning, budgetTokens: 8192 }; // what a `(8192)` suffix does
  const sent = JSON.parse(encodeGenerateRequest(canonical, 'gemini-2.5-flash', context).body) as Json;
  assert.deepEqual(sent.contents, original.contents, 'every content and part, signatures where Gemini put them');
  assert.deepEqual(sent.systemInstruction, { parts: [{ text: 'You are terse.\nAnswer in English.' }] });
  assert.deepEqual(sent.tools[1], { googleSearch: {} });
  assert.deepEqual(sent.tools[0].functionDeclarations[0].parameters, {
    type: 'OBJECT',
    properties: { city: { type: 'STRING', description: 'City name' }, unit: { type: 'STRING', enum: ['celsius', 'fahrenheit'], nullable: true }, days: { type: 'INTEGER', minimum: 1 } },
    required: ['city'],
  });
  assert.deepEqual(sent.tools[0].functionDeclarations[1].parameters, { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] });
  assert.deepEqual(sent.toolConfig, original.toolConfig);
  assert.deepEqual(sent.safetySettings, original.safetySettings);
  const { candidateCount: _one, ...generation } = original.generationConfig;
  assert.deepEqual(sent.generationConfig, {
    ...generation,
    responseSchema: { ...generation.responseSchema, propertyOrdering: ['summary'] },
    thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
  });
});

test('response: a Gemini answer comes back part for part', () => {
  for (const name of ['generate-response-tools.json', 'generate-response-text.json']) {
    const original = fixture(name);
    const canonical = decodeGenerateResponse(original);
    const back = JSON.parse(encodeGenerateResponse(canonical, {} as never)) as Json;
    const withoutIds = back.candidates[0].content.parts.map((part: Json) => {
      if (part.functionCall === undefined) return part;
      const { id: _id, ...call } = part.functionCall;
      return { ...part, functionCall: call };
    });
    assert.deepEqual(withoutIds, original.candidates[0].content.parts, name);
    assert.equal(back.candidates[0].finishReason, original.candidates[0].finishReason);
    const { promptTokensDetails: _p, cacheTokensDetails: _c, ...usage } = original.usageMetadata;
    assert.deepEqual(back.usageMetadata, usage);
    assert.equal(back.responseId, original.responseId);
    assert.equal(back.modelVersion, original.modelVersion);
  }
});

class Relay implements PartSink {
  out = '';
  private readonly encoder: GeminiStreamEncoder;
  constructor(encoder: GeminiStreamEncoder) {
    this.encoder = encoder;
  }
  onPart(part: StreamPart): void {
    this.out += this.encoder.encode(part);
  }
}

test('stream: the same parts, signatures and finish reach a Gemini caller', () => {
  for (const name of ['stream-thinking-tools.sse', 'stream-text-length.sse']) {
    const decoder = new GeminiStreamDecoder();
    const relay = new Relay(new GeminiStreamEncoder('sse'));
    decoder.push(Buffer.from(raw(name)), relay);
    decoder.end(relay);
    const parts = (text: string) => parseSse(text).flatMap((event) => (JSON.parse(event.data).candidates[0].content?.parts ?? []) as Json[])
      .map((part) => (part.functionCall !== undefined ? { ...part, functionCall: { name: part.functionCall.name, args: part.functionCall.args } } : part));
    const merged = (list: Json[]) => list.reduce<Json[]>((all, part) => {
      const last = all.at(-1);
      // consecutive plain text or thought chunks read the same when concatenated
      if (last !== undefined && typeof part.text === 'string' && typeof last.text === 'string' && last.thought === part.thought && last.thoughtSignature === undefined && part.functionCall === undefined) {
        all[all.length - 1] = { ...last, text: last.text + part.text, ...(part.thoughtSignature !== undefined ? { thoughtSignature: part.thoughtSignature } : {}) };
      } else all.push(part);
      return all;
    }, []);
    assert.deepEqual(merged(parts(relay.out)), merged(parts(raw(name))), name);
    const last = (text: string) => JSON.parse(parseSse(text).at(-1)!.data).candidates[0].finishReason;
    assert.equal(last(relay.out), last(raw(name)));
  }
});
