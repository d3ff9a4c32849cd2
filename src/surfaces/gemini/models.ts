// GET /v1beta/models and /v1beta/models/{model} answered by the gateway in Gemini's shape, from
// the models it can route (paged like Google's list: pageSize, pageToken, nextPageToken).
import type { LocalSurfaceHandler, WireResponse } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { encodeGeminiError } from './encode-error.ts';
import type { JsonObject } from '../../util/json-value.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

/** Embedding models are told apart by name: the catalog knows no more about them. */
function modelObject(id: string, ownedBy: string): JsonObject {
  const embedding = /embed/i.test(id);
  return {
    name: `models/${id}`,
    baseModelId: id,
    version: '001',
    displayName: id,
    description: `${id}, served by Switchyard through provider '${ownedBy}'.`,
    supportedGenerationMethods: embedding ? ['embedContent', 'batchEmbedContents', 'countTokens'] : ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

function json(body: unknown): WireResponse {
  return { status: 200, headers: ['content-type', 'application/json; charset=UTF-8'], body: JSON.stringify(body) };
}

export const listGeminiModels: LocalSurfaceHandler = (catalog, request) => {
  const query = new URLSearchParams(request.query);
  const size = Math.min(MAX_PAGE, Math.max(1, Number(query.get('pageSize') ?? query.get('page_size')) || DEFAULT_PAGE));
  const offset = Math.max(0, Number(query.get('pageToken') ?? query.get('page_token')) || 0);
  const models = catalog.list();
  const page = models.slice(offset, offset + size).map((model) => modelObject(model.id, model.ownedBy));
  const next = offset + size < models.length ? { nextPageToken: String(offset + size) } : {};
  return json({ models: page, ...next });
};

export const getGeminiModel: LocalSurfaceHandler = (catalog, request) => {
  const name = request.params.model ?? '';
  const model = catalog.find(name);
  if (model === undefined) {
    const version = request.path.startsWith('/v1beta/') ? 'v1beta' : 'v1';
    return encodeGeminiError(new GatewayError(ErrorCode.modelNotFound, `models/${name} is not found for API version ${version}: no provider serves it.`, {
      status: 404, origin: 'downstream', errorClass: 'client-error', param: 'model',
    }));
  }
  return json(modelObject(model.id, model.ownedBy));
};

export const unknownGeminiMethod: LocalSurfaceHandler = (_catalog, request) => encodeGeminiError(new GatewayError(ErrorCode.routeNotFound,
  `Unknown method: POST ${request.path}. Supported: generateContent, streamGenerateContent, countTokens, embedContent, batchEmbedContents.`,
  { status: 404, origin: 'downstream', errorClass: 'client-error' }));
