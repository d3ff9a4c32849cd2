// Ollama `/api/embed` (many inputs) and the older `/api/embeddings` (one prompt) ↔ canonical
// embeddings. They answer in different shapes: `{model, embeddings: [[…]], prompt_eval_count}`
// and `{embedding: […]}`.
import type { EmbeddingsSurfaceCodec, SurfaceRequest } from '../../canonical/adapters.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import type { PassThrough } from '../../canonical/request.ts';
import { INERT_OPTIONS } from './decode-request.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { isObject, type JsonObject, stringsFrom, textFrom } from '../../util/json-value.ts';
import { requestObject } from './inspect.ts';

/**
 * `keep_alive`, `truncate` (other providers refuse over-long input, Ollama's `truncate: false`)
 * and the runner options are inert; any other option is passed on, refused by other dialects.
 */
function passThrough(body: JsonObject, modelled: ReadonlySet<string>): PassThrough | undefined {
  let fields: Record<string, unknown> | undefined;
  let inert: Record<string, unknown> | undefined;
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (modelled.has(key) || value === undefined || value === null) continue;
    if (key === 'keep_alive' || key === 'truncate') (inert ??= {})[key] = value;
    else if (key === 'options' && isObject(value)) {
      for (const [name, setting] of Object.entries(value)) {
        if (INERT_OPTIONS.has(name)) (inert ??= {})[`options.${name}`] = setting;
        else (fields ??= {})[`options.${name}`] = setting;
      }
    } else (fields ??= {})[key] = value;
  }
  if (fields === undefined && inert === undefined) return undefined;
  return { dialect: 'ollama', fields: fields ?? {}, ...(inert !== undefined ? { inert } : {}) };
}

const EMBED_FIELDS = new Set(['model', 'input', 'dimensions']);
const EMBEDDINGS_FIELDS = new Set(['model', 'prompt']);

export const embedCodec: EmbeddingsSurfaceCodec = {
  decodeRequest(raw: unknown, _request: SurfaceRequest): EmbeddingRequest {
    const body = requestObject(raw);
    const input = body.input;
    const inputs = typeof input === 'string' ? [input] : stringsFrom(input);
    if (inputs === undefined) throw invalidRequest('invalid input: expected a string or an array of strings', 'input');
    const request: EmbeddingRequest = { model: textFrom(body.model), inputs };
    if (body.dimensions !== undefined && body.dimensions !== null) {
      if (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions) || body.dimensions <= 0) throw invalidRequest('invalid dimensions: expected a positive integer', 'dimensions');
      request.dimensions = body.dimensions;
    }
    const extra = passThrough(body, EMBED_FIELDS);
    if (extra !== undefined) request.passThrough = extra;
    return request;
  },
  encodeResponse(response: EmbeddingResponse): string {
    return JSON.stringify({ model: response.model, embeddings: response.embeddings, prompt_eval_count: response.usage.inputTokens });
  },
};

export const legacyEmbeddingsCodec: EmbeddingsSurfaceCodec = {
  decodeRequest(raw: unknown, _request: SurfaceRequest): EmbeddingRequest {
    const body = requestObject(raw);
    // inspect checked the model and the prompt, both strings
    const request: EmbeddingRequest = { model: textFrom(body.model), inputs: [textFrom(body.prompt)] };
    const extra = passThrough(body, EMBEDDINGS_FIELDS);
    if (extra !== undefined) request.passThrough = extra;
    return request;
  },
  encodeResponse(response: EmbeddingResponse): string {
    return JSON.stringify({ embedding: response.embeddings[0] ?? [] });
  },
};
