// Canonical embeddings ↔ OpenAI /embeddings.
import type { EmbeddingsProviderCodec, ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { rejectForeignFields } from './chat-encode.ts';
import { countFrom, finiteFrom, isObject, type JsonObject, numbersFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { protocolError } from '../common/protocol-error.ts';

export const openaiEmbeddingsCodec: EmbeddingsProviderCodec = {
  encodeRequest(request: EmbeddingRequest, model: string, provider: ProviderContext): UpstreamRequest {
    const extra = rejectForeignFields(request, 'openai', provider.name);
    const body: JsonObject = { model, input: request.inputs, encoding_format: 'float' };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (extra !== undefined) for (const [key, value] of Object.entries(extra)) if (!(key in body)) body[key] = value;
    return { path: '/embeddings', headers: ['accept', 'application/json'], body: JSON.stringify(body) };
  },
  decodeResponse(raw: unknown): EmbeddingResponse {
    const body = objectFrom(raw);
    if (body === undefined || !Array.isArray(body.data)) throw protocolError('the embeddings answer has no data array');
    const entries = body.data.map((entry: unknown, position: number) => {
      if (!isObject(entry)) throw protocolError('an embedding entry is not an object');
      return { entry, index: finiteFrom(entry.index) ?? position };
    });
    entries.sort((a, b) => a.index - b.index);
    const embeddings = entries.map(({ entry }) => {
      const vector = numbersFrom(entry.embedding);
      if (vector !== undefined) return vector;
      if (typeof entry.embedding === 'string') {
        const bytes = Buffer.from(entry.embedding, 'base64');
        if (bytes.length % 4 !== 0) throw protocolError('a base64 embedding is not a whole number of floats');
        // copied, so the floats are read from an aligned buffer of their own
        return Array.from(new Float32Array(Uint8Array.from(bytes).buffer));
      }
      throw protocolError('an embedding is neither an array of numbers nor base64');
    });
    return { model: textFrom(body.model), embeddings, usage: { inputTokens: countFrom(objectFrom(body.usage)?.prompt_tokens) ?? 0 } };
  },
};
