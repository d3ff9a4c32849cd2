// The gemini provider (Google AI Studio's Generative Language API, key in `x-goog-api-key`).
// generateContent and streamGenerateContent from a Gemini caller pass through as bytes, the model
// only changed in the path; countTokens and embeddings are re-encoded, since their bodies name the
// model again (`models/…`) and must name the routed one.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { geminiCountTokensCodec } from './count-tokens.ts';
import { decodeGenerateResponse, usageFrom } from './decode-response.ts';
import { GeminiStreamDecoder } from './decode-stream.ts';
import { encodeGenerateRequest, modelPath } from './encode-request.ts';
import { geminiEmbeddingsCodec } from './embeddings.ts';
import { decodeGeminiError } from './errors.ts';
import { withoutQueryKey } from '../../util/query-key.ts';
import { objectFrom, textFrom } from '../../util/json-value.ts';
import { isListedModelId } from '../common/model-list.ts';

const GENERATION = new Set(['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents']);

/** The caller's query without its key, however encoded (the provider's own key goes in a header). */
function forwardedQuery(query: string): string {
  const rest = withoutQueryKey(query);
  return rest.length > 0 ? `?${rest}` : '';
}

export const geminiProvider: ProviderAdapter = {
  dialect: 'gemini',
  usage: { key: '"usageMetadata"', from: usageFrom },
  mediaUrls: 'inline',
  // Files API and Cloud Storage URIs are Gemini's own: sent as fileData, never downloaded
  keepsMediaUrl: (url: string) => url.startsWith('gs://') || url.startsWith('https://generativelanguage.googleapis.com/'),
  nativeWires: new Set<Wire>(['gemini-generate']),
  reencodes: (wire: Wire) => wire === 'gemini-generate',
  passThroughPath(_wire: Wire, model: string, request: SurfaceRequest, stream: boolean): string {
    return `${modelPath(model)}:${stream ? 'streamGenerateContent' : 'generateContent'}${forwardedQuery(request.query)}`;
  },
  forwardHeaders(_request: SurfaceRequest): string[] {
    return [];
  },
  modelListPath: '/models?pageSize=1000',
  decodeModelList(body: unknown): string[] {
    const models = objectFrom(body)?.models;
    if (!Array.isArray(models)) return [];
    const names: string[] = [];
    for (const item of models) {
      const entry = objectFrom(item);
      const name = entry?.name;
      if (!isListedModelId(name)) continue;
      const methods = entry?.supportedGenerationMethods;
      // models that only predict (Imagen, Veo) or answer questions (AQA) cannot be routed here
      if (Array.isArray(methods) && !methods.some((method) => GENERATION.has(textFrom(method)))) continue;
      names.push(name.replace(/^models\//, ''));
    }
    return names;
  },
  decodeError: decodeGeminiError,
  chat: {
    encodeRequest: encodeGenerateRequest,
    decodeResponse: decodeGenerateResponse,
    createStreamDecoder: (request: CanonicalRequest) => new GeminiStreamDecoder(request),
  },
  embeddings: geminiEmbeddingsCodec,
  countTokens: geminiCountTokensCodec,
};
