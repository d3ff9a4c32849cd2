// The property the surface fuzzer checks, apart from the test file so it can be run by hand
// over many samples (see test/fuzz/README.md).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SurfaceAdapter, SurfaceRequest } from '../../src/canonical/adapters.ts';
import type { CanonicalRequest, ContentPart } from '../../src/canonical/request.ts';
import { providerAdapters } from '../../src/main.ts';
import { BoundedItemStore } from '../../src/pipeline/item-store.ts';
import { presets } from '../../src/providers/presets/index.ts';
import { assertTypedError, checkEmbeddingRequest, checkRequest } from './canonical-checks.ts';
import { loadTemplates, type RequestTemplate } from './templates.ts';

const { requests } = await loadTemplates();
export const surfaces = new Map<SurfaceAdapter, RequestTemplate[]>();
for (const template of requests) {
  const list = surfaces.get(template.surface);
  if (list === undefined) surfaces.set(template.surface, [template]);
  else list.push(template);
}

const clientError = (status: number) => status === 400;
const refused = (status: number) => status >= 400 && status < 500;
export const preset = fc.constantFrom(undefined, ...Object.keys(presets));

/** What the pipeline does before encoding for a provider that only takes inline media. */
function inlined(request: CanonicalRequest, keep: ((url: string) => boolean) | undefined): CanonicalRequest {
  const copy = structuredClone(request);
  const visit = (parts: ContentPart[]) => {
    for (const part of parts) {
      if ((part.type === 'image' || part.type === 'audio' || part.type === 'file') && part.source.kind === 'url' && keep?.(part.source.url) !== true) {
        part.source = { kind: 'base64', mediaType: part.source.mediaType ?? 'image/png', data: 'iVBORw0KGgo=' };
      } else if (part.type === 'tool-result' && Array.isArray(part.content)) visit(part.content);
    }
  };
  for (const message of copy.messages) visit(message.content);
  return copy;
}

function encodesEverywhere(request: CanonicalRequest, operation: 'chat' | 'count-tokens', presetName: string | undefined): void {
  for (const [dialect, adapter] of providerAdapters) {
    const codec = operation === 'chat' ? adapter.chat : adapter.countTokens;
    if (codec === undefined) continue;
    const input = adapter.mediaUrls === 'inline' ? inlined(request, adapter.keepsMediaUrl?.bind(adapter)) : structuredClone(request);
    try {
      const upstream = codec.encodeRequest(input, 'fuzz-model', { name: 'fuzz', preset: dialect === 'openai' ? presetName : undefined });
      string(upstream.path, `${dialect} path`);
      JSON.parse(upstream.body);
    } catch (error) {
      assertTypedError(error, refused, `${dialect} ${operation} encodeRequest`);
    }
  }
}

function string(value: unknown, what: string): void {
  assert.equal(typeof value, 'string', what);
}

export function exercise(surface: SurfaceAdapter, template: RequestTemplate, body: unknown, presetName: string | undefined): void {
  const request: SurfaceRequest = { params: template.params, query: template.query, headers: template.headers, items: new BoundedItemStore(16, 1 << 20) };
  try {
    const summary = surface.inspect(body, request);
    assert.ok(typeof summary.model === 'string' && summary.model.length > 0, 'inspect names a model');
    assert.equal(typeof summary.stream, 'boolean');
    // the checks left for the body parsed whole, as a translated attempt runs them before decoding
    surface.inspectWhole?.(body);
  } catch (error) {
    assertTypedError(error, clientError, `${surface.name} inspect`);
    return;
  }
  if (surface.chat !== undefined || surface.countTokens !== undefined) {
    const codec = (surface.chat ?? surface.countTokens)!;
    let canonical: CanonicalRequest;
    try {
      canonical = codec.decodeRequest(body, request);
    } catch (error) {
      assertTypedError(error, clientError, `${surface.name} decodeRequest`);
      return;
    }
    checkRequest(canonical);
    encodesEverywhere(canonical, surface.chat !== undefined ? 'chat' : 'count-tokens', presetName);
    if (surface.chat !== undefined) surface.chat.createStreamEncoder(canonical, request);
    return;
  }
  const embeddings = surface.embeddings!;
  let decoded;
  try {
    decoded = embeddings.decodeRequest(body, request);
  } catch (error) {
    assertTypedError(error, clientError, `${surface.name} decodeRequest`);
    return;
  }
  checkEmbeddingRequest(decoded);
  for (const [dialect, adapter] of providerAdapters) {
    if (adapter.embeddings === undefined) continue;
    try {
      JSON.parse(adapter.embeddings.encodeRequest(structuredClone(decoded), 'fuzz-model', { name: 'fuzz', preset: undefined }).body);
    } catch (error) {
      assertTypedError(error, refused, `${dialect} embeddings encodeRequest`);
    }
  }
}

