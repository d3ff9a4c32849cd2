// OpenAI /v1/embeddings ↔ canonical embeddings.
import type { EmbeddingsSurfaceCodec, SurfaceRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { objectFrom, stringsFrom, textFrom } from '../../util/json-value.ts';
import { requestObject } from './inspect.ts';

export const embeddingsCodec: EmbeddingsSurfaceCodec = {
  decodeRequest(raw: unknown, _request: SurfaceRequest): EmbeddingRequest {
    const body = requestObject(raw);
    const input = body.input;
    const inputs = typeof input === 'string' ? [input] : stringsFrom(input);
    if (inputs === undefined) throw invalidRequest("Invalid 'input': token-id inputs can only go to an OpenAI-compatible provider; send text.", 'input');
    const request: EmbeddingRequest = { model: textFrom(body.model), inputs };
    const dimensions = body.dimensions;
    if (dimensions !== undefined && dimensions !== null) {
      if (typeof dimensions !== 'number' || !Number.isSafeInteger(dimensions) || dimensions <= 0) throw invalidRequest("Invalid 'dimensions': expected a positive integer.", 'dimensions');
      request.dimensions = dimensions;
    }
    const extra: Record<string, unknown> = {};
    let hasExtra = false;
    for (const key of Object.keys(body)) {
      if (key === 'model' || key === 'input' || key === 'dimensions' || key === 'encoding_format' || key === 'user') continue;
      extra[key] = body[key];
      hasExtra = true;
    }
    if (hasExtra) request.passThrough = { dialect: 'openai', fields: extra };
    return request;
  },
  encodeResponse(response: EmbeddingResponse, _request: EmbeddingRequest, raw: unknown): string {
    const base64 = objectFrom(raw)?.encoding_format === 'base64';
    return JSON.stringify({
      object: 'list',
      data: response.embeddings.map((vector, index) => ({
        object: 'embedding', index,
        embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      })),
      model: response.model,
      usage: { prompt_tokens: response.usage.inputTokens, total_tokens: response.usage.inputTokens },
    });
  },
};
