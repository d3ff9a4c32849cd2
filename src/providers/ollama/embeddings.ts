// Canonical embeddings ↔ Ollama `/api/embed` (`{model, input, dimensions?}` →
// `{model, embeddings, prompt_eval_count}`).
import type { EmbeddingsProviderCodec, ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { countFrom, type JsonObject, numbersFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { mergeExtras, ollamaExtras } from './encode-request.ts';
import { protocolError } from '../common/protocol-error.ts';

export const ollamaEmbeddingsCodec: EmbeddingsProviderCodec = {
  encodeRequest(request: EmbeddingRequest, model: string, provider: ProviderContext): UpstreamRequest {
    const extras = ollamaExtras(request.passThrough, provider.name);
    const body: JsonObject = { model, input: request.inputs };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    mergeExtras(body, extras);
    return { path: '/api/embed', headers: ['accept', 'application/json'], body: JSON.stringify(body) };
  },
  decodeResponse(raw: unknown, request: EmbeddingRequest): EmbeddingResponse {
    const body = objectFrom(raw);
    if (body === undefined || !Array.isArray(body.embeddings)) throw protocolError('the embed answer has no embeddings array');
    if (body.embeddings.length !== request.inputs.length) throw protocolError(`the embed answer has ${body.embeddings.length} embeddings for ${request.inputs.length} inputs`);
    const embeddings = body.embeddings.map((entry: unknown) => {
      const vector = numbersFrom(entry);
      if (vector === undefined) throw protocolError('an embedding is not an array of numbers');
      return vector;
    });
    return { model: textFrom(body.model), embeddings, usage: { inputTokens: countFrom(body.prompt_eval_count) ?? 0 } };
  },
};
