// Canonical embeddings → Gemini batchEmbedContents (one request per input, all for the routed
// model), and back. Gemini reports no token usage for embeddings: the gateway's estimate stands in.
import type { EmbeddingsProviderCodec, ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { estimateTokens } from '../../util/estimate-tokens.ts';
import { type JsonObject, numbersFrom, objectFrom } from '../../util/json-value.ts';
import { geminiExtras, modelPath, modelResource } from './encode-request.ts';
import { protocolError } from '../common/protocol-error.ts';

export const geminiEmbeddingsCodec: EmbeddingsProviderCodec = {
  encodeRequest(request: EmbeddingRequest, model: string, provider: ProviderContext): UpstreamRequest {
    const extras = geminiExtras(request.passThrough, provider.name);
    const fields: JsonObject = { ...extras?.fields };
    const title = fields.title;
    delete fields.title;
    const resource = modelResource(model);
    const requests = request.inputs.map((text, i) => {
      const entry: JsonObject = { model: resource, content: { parts: [{ text }] } };
      if (request.taskType !== undefined) entry.taskType = request.taskType;
      if (request.dimensions !== undefined) entry.outputDimensionality = request.dimensions;
      const entryTitle = Array.isArray(title) ? title[i] : title;
      if (typeof entryTitle === 'string') entry.title = entryTitle;
      for (const [key, value] of Object.entries(fields)) entry[key] ??= value;
      return entry;
    });
    return { path: `${modelPath(model)}:batchEmbedContents`, headers: ['accept', 'application/json'], body: JSON.stringify({ requests }) };
  },
  decodeResponse(raw: unknown, request: EmbeddingRequest): EmbeddingResponse {
    const body = objectFrom(raw);
    const list: readonly unknown[] | undefined = Array.isArray(body?.embeddings) ? body.embeddings : body?.embedding !== undefined ? [body.embedding] : undefined;
    if (list === undefined) throw protocolError('the embeddings answer has no embeddings');
    const embeddings = list.map((entry) => {
      const values = numbersFrom(objectFrom(entry)?.values);
      if (values === undefined) throw protocolError('an embedding has no values (an array of numbers)');
      return values;
    });
    return { model: request.model, embeddings, usage: { inputTokens: estimateTokens(request.inputs) } };
  },
};
