// Canonical embeddings ↔ OpenAI /embeddings.
import type { EmbeddingsProviderCodec, ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { rejectForeignFields } from './chat-encode.ts';
import { protocolError } from './chat-decode.ts';

type Json = Record<string, any>;

export const openaiEmbeddingsCodec: EmbeddingsProviderCodec = {
  encodeRequest(request: EmbeddingRequest, model: string, provider: ProviderContext): UpstreamRequest {
    const extra = rejectForeignFields(request, 'openai', provider.name);
    const body: Json = { model, input: request.inputs, encoding_format: 'float' };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (extra !== undefined) for (const [key, value] of Object.entries(extra)) if (!(key in body)) body[key] = value;
    return { path: '/embeddings', headers: ['accept', 'application/json'], body: JSON.stringify(body) };
  },
  decodeResponse(raw: unknown): EmbeddingResponse {
    const body = raw as Json;
    if (!Array.isArray(body?.data)) throw protocolError('the embeddings answer has no data array');
    const sorted = [...body.data].sort((a: Json, b: Json) => (a.index ?? 0) - (b.index ?? 0));
    const embeddings = sorted.map((entry: Json) => {
      if (Array.isArray(entry.embedding)) return entry.embedding as number[];
      if (typeof entry.embedding === 'string') {
        const bytes = Buffer.from(entry.embedding, 'base64');
        return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
      }
      throw protocolError('an embedding is neither an array nor base64');
    });
    return { model: String(body.model ?? ''), embeddings, usage: { inputTokens: body.usage?.prompt_tokens ?? 0 } };
  },
};
