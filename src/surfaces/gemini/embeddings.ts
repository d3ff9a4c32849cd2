// Gemini embedContent and batchEmbedContents ↔ canonical embeddings.
import type { EmbeddingsSurfaceCodec, SurfaceRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { camel, field } from './fields.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { isObject, type JsonObject, listFrom, objectFrom } from '../../util/json-value.ts';
import { requestObject } from './inspect.ts';

const MODELLED = new Set(['model', 'content', 'taskType', 'outputDimensionality', 'title']);

function textOf(content: unknown, param: string): string {
  // inspect checked the content: an object with a list of parts
  return listFrom(objectFrom(content)?.parts).map((part, j) => {
    if (isObject(part) && typeof part.text === 'string') return part.text;
    throw invalidRequest(`Invalid '${param}.parts[${j}]': only text can be embedded through the gateway.`, `${param}.parts[${j}]`);
  }).join('\n');
}

interface Entry { text: string; taskType?: string; dimensions?: number; title?: string; extra: JsonObject }

function entry(item: unknown, param: string): Entry {
  const raw = objectFrom(item) ?? {}; // inspect refused a request that is not an object
  const taskType = field(raw, 'taskType');
  const dimensions = field(raw, 'outputDimensionality');
  const title = raw.title;
  if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions))) throw invalidRequest(`Invalid '${param}.outputDimensionality': expected an integer.`, `${param}.outputDimensionality`);
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) if (!MODELLED.has(camel(key))) extra[camel(key)] = value;
  return {
    text: textOf(raw.content, `${param}.content`),
    ...(typeof taskType === 'string' ? { taskType } : {}),
    ...(typeof dimensions === 'number' ? { dimensions } : {}),
    ...(typeof title === 'string' ? { title } : {}),
    extra,
  };
}

function toRequest(model: string, entries: Entry[], batch: boolean): EmbeddingRequest {
  const first = entries[0]!;
  entries.forEach((item, i) => {
    if (item.taskType !== first.taskType) throw invalidRequest(`Invalid 'requests[${i}].taskType': every request of a batch must use the same task type to be translated.`, `requests[${i}].taskType`);
    if (item.dimensions !== first.dimensions) throw invalidRequest(`Invalid 'requests[${i}].outputDimensionality': every request of a batch must use the same value to be translated.`, `requests[${i}].outputDimensionality`);
  });
  const request: EmbeddingRequest = { model, inputs: entries.map((item) => item.text) };
  if (first.taskType !== undefined) request.taskType = first.taskType;
  if (first.dimensions !== undefined) request.dimensions = first.dimensions;
  const fields: JsonObject = { ...first.extra };
  // a title only steers RETRIEVAL_DOCUMENT embeddings; it is kept per input
  if (entries.some((item) => item.title !== undefined)) fields.title = batch ? entries.map((item) => item.title ?? null) : first.title;
  if (Object.keys(fields).length > 0) request.passThrough = { dialect: 'gemini', fields };
  return request;
}

export const embedCodec: EmbeddingsSurfaceCodec = {
  decodeRequest(raw: unknown, surfaceRequest: SurfaceRequest): EmbeddingRequest {
    return toRequest(surfaceRequest.params.model ?? '', [entry(requestObject(raw), 'request')], false);
  },
  encodeResponse(response: EmbeddingResponse): string {
    return JSON.stringify({ embedding: { values: response.embeddings[0] ?? [] } });
  },
};

export const batchEmbedCodec: EmbeddingsSurfaceCodec = {
  decodeRequest(raw: unknown, surfaceRequest: SurfaceRequest): EmbeddingRequest {
    const requests = listFrom(requestObject(raw).requests);
    return toRequest(surfaceRequest.params.model ?? '', requests.map((item, i) => entry(item, `requests[${i}]`)), true);
  },
  encodeResponse(response: EmbeddingResponse): string {
    return JSON.stringify({ embeddings: response.embeddings.map((values) => ({ values })) });
  },
};
