// The Ollama native provider: `/api/chat`, `/api/generate`, `/api/embed` and `/api/embeddings`
// pass through untouched for Ollama callers; every other dialect is translated to `/api/chat`.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { decodeOllamaResponse, usageFrom } from './decode-response.ts';
import { OllamaStreamDecoder } from './decode-stream.ts';
import { ollamaEmbeddingsCodec } from './embeddings.ts';
import { encodeOllamaRequest } from './encode-request.ts';
import { decodeOllamaError } from './errors.ts';
import { objectFrom } from '../../util/json-value.ts';
import { isListedModelId } from '../common/model-list.ts';

const paths: Partial<Record<Wire, string>> = {
  'ollama-chat': '/api/chat',
  'ollama-generate': '/api/generate',
  'ollama-embed': '/api/embed',
  'ollama-embeddings': '/api/embeddings',
};

const LATEST = ':latest';

/**
 * `GET /api/tags` → model names. Ollama resolves `llama3.2` to `llama3.2:latest`, so a `:latest`
 * model is also listed under its bare name, the one clients usually send.
 */
export function decodeTags(body: unknown): string[] {
  const models = objectFrom(body)?.models;
  if (!Array.isArray(models)) return [];
  const names: string[] = [];
  for (const item of models) {
    const entry = objectFrom(item);
    const name = entry?.name ?? entry?.model;
    if (!isListedModelId(name)) continue;
    names.push(name);
    if (name.endsWith(LATEST)) names.push(name.slice(0, -LATEST.length));
  }
  return names;
}

export const ollamaProvider: ProviderAdapter = {
  dialect: 'ollama',
  usage: { key: '"eval_count"', wholeLine: true, from: usageFrom },
  // Ollama takes images as base64 only: the pipeline downloads URL images first
  mediaUrls: 'inline',
  nativeWires: new Set<Wire>(['ollama-chat', 'ollama-generate', 'ollama-embed', 'ollama-embeddings']),
  reencodes: (wire: Wire) => wire === 'ollama-chat',
  passThroughPath(wire: Wire): string {
    return paths[wire]!;
  },
  forwardHeaders(_request: SurfaceRequest): string[] {
    return [];
  },
  modelListPath: '/api/tags',
  decodeModelList: decodeTags,
  decodeError: decodeOllamaError,
  chat: {
    encodeRequest: encodeOllamaRequest,
    decodeResponse: decodeOllamaResponse,
    createStreamDecoder: (_request: CanonicalRequest) => new OllamaStreamDecoder(),
  },
  embeddings: ollamaEmbeddingsCodec,
};
