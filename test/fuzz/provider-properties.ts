// The properties the provider fuzzer checks, apart from the test file so they can be run by hand
// over many samples (test/fuzz/explore.ts). Every provider decoder, given JSON shaped like its
// upstream's real answers (or events, or lines), either gives well-formed canonical output that
// every surface can encode, or a typed upstream error; nothing else is thrown. Streams decode the
// same in any chunking and always end with exactly one terminal part.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ProviderAdapter, SurfaceAdapter, SurfaceRequest } from '../../src/canonical/adapters.ts';
import type { EmbeddingRequest } from '../../src/canonical/embeddings.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { providerAdapters } from '../../src/main.ts';
import { assertTypedError, checkEmbeddings, checkResponse, checkStream } from './canonical-checks.ts';
import { anyJsonText, chunked, cuts, shapedJsonText } from './shapes.ts';
import { loadTemplates, type ProviderTemplates, type RequestTemplate } from './templates.ts';

const { requests, providers: templates } = await loadTemplates();

export const providers: [string, ProviderAdapter, ProviderTemplates][] = [...providerAdapters].map(([dialect, adapter]) => [dialect, adapter, templates.get(dialect)!]);

/** Each surface with one of its decoded requests, to encode what the providers decoded. */
interface SurfaceCase { surface: SurfaceAdapter; request: CanonicalRequest; surfaceRequest: SurfaceRequest; body: unknown }
const chatSurfaces: SurfaceCase[] = [];
const embeddingSurfaces: { surface: SurfaceAdapter; request: EmbeddingRequest; body: unknown }[] = [];
const countSurfaces: SurfaceAdapter[] = [];
const seen = new Set<SurfaceAdapter>();
for (const template of requests) {
  const surface = template.surface;
  if (seen.has(surface)) continue;
  seen.add(surface);
  const surfaceRequest = requestOf(template);
  if (surface.chat !== undefined) chatSurfaces.push({ surface, request: surface.chat.decodeRequest(template.body, surfaceRequest), surfaceRequest, body: template.body });
  if (surface.embeddings !== undefined) embeddingSurfaces.push({ surface, request: surface.embeddings.decodeRequest(template.body, surfaceRequest), body: template.body });
  if (surface.countTokens !== undefined) countSurfaces.push(surface);
}

function requestOf(template: RequestTemplate): SurfaceRequest {
  return { params: template.params, query: template.query, headers: template.headers };
}

/** The request the providers decode answers for: OpenAI chat's `text` scenario (it has stop sequences). */
const canonical = chatSurfaces.find((entry) => entry.surface.name === 'openai-chat')!.request;
const embeddingRequest: EmbeddingRequest = { model: 'm', inputs: ['first', 'second'] };

const upstreamError = (what: string) => (error: unknown) => {
  assertTypedError(error, (status) => status >= 400 && status < 600, what);
  assert.equal(error.origin, 'upstream', `${what}: an upstream error`);
};

export function checkChatResponse(dialect: string, adapter: ProviderAdapter, body: unknown): void {
  let response;
  try {
    response = adapter.chat!.decodeResponse(body, canonical);
  } catch (error) {
    upstreamError(`${dialect} decodeResponse`)(error);
    return;
  }
  checkResponse(response);
  for (const { surface, request } of chatSurfaces) JSON.parse(surface.chat!.encodeResponse(structuredClone(response), request));
}

/** Parts with what is made up per call (ids, timestamps) left out, for comparing two decodings. */
function comparable(parts: readonly StreamPart[]): unknown[] {
  return parts.map((part) => {
    if (part.type === 'error') return { type: 'error', code: part.error.code, message: part.error.message };
    const { id: _id, created: _created, ...rest } = part as StreamPart & { id?: string; created?: number };
    return rest;
  });
}

function decodeStream(adapter: ProviderAdapter, pieces: readonly Buffer[]): StreamPart[] {
  const parts: StreamPart[] = [];
  const sink = { onPart: (part: StreamPart) => parts.push(part) };
  const decoder = adapter.chat!.createStreamDecoder(canonical);
  for (const piece of pieces) decoder.push(piece, sink);
  decoder.end(sink);
  return parts;
}

export function checkChatStream(adapter: ProviderAdapter, bytes: Buffer, points: readonly number[]): void {
  const whole = decodeStream(adapter, [bytes]);
  checkStream(whole);
  const pieces = decodeStream(adapter, chunked(bytes, points));
  assert.deepEqual(comparable(pieces), comparable(whole), 'the chunking changes nothing');
  for (const { surface, request, surfaceRequest } of chatSurfaces) {
    const encoder = surface.chat!.createStreamEncoder(request, surfaceRequest);
    for (const part of whole) {
      const out = part.type === 'error' ? encoder.encodeError(part.error) : encoder.encode(structuredClone(part));
      assert.equal(typeof out, 'string', `${surface.name} encodes ${part.type}`);
    }
  }
}

export function checkError(dialect: string, adapter: ProviderAdapter, status: number, body: Buffer, headers: Record<string, string>): void {
  const error = adapter.decodeError(status, body, headers, 'fuzz');
  assertTypedError(error, (code) => code >= 400 && code < 600, `${dialect} decodeError`);
  for (const { surface } of chatSurfaces) {
    JSON.parse(surface.encodeError(error).body);
    assert.ok(Buffer.isBuffer(surface.encodeStreamError(error)));
  }
}

export function checkEmbeddingsResponse(dialect: string, adapter: ProviderAdapter, body: unknown): void {
  let response;
  try {
    response = adapter.embeddings!.decodeResponse(body, embeddingRequest);
  } catch (error) {
    upstreamError(`${dialect} embeddings decodeResponse`)(error);
    return;
  }
  checkEmbeddings(response);
  for (const { surface, request, body: raw } of embeddingSurfaces) JSON.parse(surface.embeddings!.encodeResponse(structuredClone(response), request, raw));
}

export function checkCount(dialect: string, adapter: ProviderAdapter, body: unknown): void {
  let count: number;
  try {
    count = adapter.countTokens!.decodeResponse(body);
  } catch (error) {
    upstreamError(`${dialect} countTokens decodeResponse`)(error);
    return;
  }
  assert.ok(Number.isSafeInteger(count) && count >= 0, `a token count, got ${count}`);
  for (const surface of countSurfaces) JSON.parse(surface.countTokens!.encodeResponse(count));
}

export function checkModelList(adapter: ProviderAdapter, body: unknown): void {
  const models = adapter.decodeModelList(body);
  assert.ok(Array.isArray(models));
  for (const model of models) assert.equal(typeof model, 'string');
}

const eventNames = fc.constantFrom('message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'error', 'ping', 'response.completed', 'response.output_text.delta', 'x');

/** A stream shaped like `events`: each event mutated, some dropped or added, maybe cut short. */
export function sseStream(events: readonly { event?: string; data: string }[]): fc.Arbitrary<Buffer> {
  const one = (event: { event?: string; data: string }) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      parsed = undefined;
    }
    const data = parsed === undefined ? fc.constant(event.data) : shapedJsonText(parsed);
    const name = event.event === undefined ? fc.constant(undefined) : fc.oneof({ weight: 20, arbitrary: fc.constant(event.event) }, { weight: 1, arbitrary: eventNames });
    return fc.oneof(
      { weight: 30, arbitrary: fc.record({ event: name, data }) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
  };
  const stray = fc.record({ event: fc.option(eventNames, { nil: undefined }), data: anyJsonText });
  return fc.record({
    events: fc.tuple(...events.map(one)),
    extra: fc.array(fc.tuple(fc.nat(), stray), { maxLength: 2 }),
    cutAt: fc.option(fc.nat(), { freq: 8, nil: undefined }),
    crlf: fc.boolean(),
  }).map(({ events: kept, extra, cutAt, crlf }) => {
    const list = kept.filter((event) => event !== undefined);
    for (const [at, event] of extra) list.splice(at % (list.length + 1), 0, event);
    const end = crlf ? '\r\n' : '\n';
    const text = list.map((event) => `${event.event === undefined ? '' : `event: ${event.event}${end}`}data: ${event.data}${end}${end}`).join('');
    const bytes = Buffer.from(text, 'utf8');
    return cutAt === undefined ? bytes : bytes.subarray(0, cutAt % (bytes.length + 1));
  });
}

/** An NDJSON stream shaped like `lines`. */
export function ndjsonStream(lines: readonly string[]): fc.Arbitrary<Buffer> {
  const one = (line: string) => fc.oneof({ weight: 30, arbitrary: shapedJsonText(JSON.parse(line)) }, { weight: 1, arbitrary: fc.constant(undefined) });
  return fc.record({
    lines: fc.tuple(...lines.map(one)),
    extra: fc.array(fc.tuple(fc.nat(), anyJsonText), { maxLength: 2 }),
    cutAt: fc.option(fc.nat(), { freq: 8, nil: undefined }),
  }).map(({ lines: kept, extra, cutAt }) => {
    const list = kept.filter((line) => line !== undefined);
    for (const [at, line] of extra) list.splice(at % (list.length + 1), 0, line);
    const bytes = Buffer.from(list.map((line) => `${line}\n`).join(''), 'utf8');
    return cutAt === undefined ? bytes : bytes.subarray(0, cutAt % (bytes.length + 1));
  });
}

export { cuts };
