// Anthropic's paths. The SDK and Claude Code append `/v1/messages` (Claude Code with `?beta=true`)
// to the base URL. `GET /v1/models` is shared with OpenAI: it is answered in Anthropic's shape only
// when the request carries `anthropic-version`, which every Anthropic client sends.
import type { DialectRoute, DialectSurfaces, LocalSurfaceHandler, ModelCatalog, SurfaceRequest } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError, invalidRequest } from '../../canonical/errors.ts';
import { encodeAnthropicError } from './encode-error.ts';
import { anthropicCountTokens, anthropicMessages } from './index.ts';
import { modelIdParams } from '../../util/path-segment.ts';

/** Anthropic wants an RFC 3339 release date; the gateway knows none, so it shows when it started. */
const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

function modelObject(model: { id: string }): Record<string, unknown> {
  return { type: 'model', id: model.id, display_name: model.id, created_at: createdAt };
}

function json(body: unknown): ReturnType<LocalSurfaceHandler> {
  return { status: 200, headers: ['content-type', 'application/json'], body: JSON.stringify(body) };
}

function badRequest(message: string, param: string): ReturnType<LocalSurfaceHandler> {
  return encodeAnthropicError(invalidRequest(message, param));
}

/** `GET /v1/models?limit=&after_id=&before_id=`: Anthropic's cursor pagination over the catalog. */
export function listModels(catalog: ModelCatalog, query: string): ReturnType<LocalSurfaceHandler> {
  const params = new URLSearchParams(query);
  const rawLimit = params.get('limit');
  const limit = rawLimit === null ? DEFAULT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return badRequest(`limit: Input should be an integer between 1 and ${MAX_LIMIT}`, 'limit');
  const models = catalog.list();
  const afterId = params.get('after_id');
  const beforeId = params.get('before_id');
  let start = 0;
  let end = models.length;
  if (afterId !== null) {
    const at = models.findIndex((model) => model.id === afterId);
    if (at < 0) return badRequest(`after_id: no model '${afterId}' in the list`, 'after_id');
    start = at + 1;
  }
  if (beforeId !== null) {
    const at = models.findIndex((model) => model.id === beforeId);
    if (at < 0) return badRequest(`before_id: no model '${beforeId}' in the list`, 'before_id');
    end = at;
  }
  // before_id pages backwards: the page is the `limit` models just before the cursor
  const page = beforeId !== null && afterId === null ? models.slice(Math.max(start, end - limit), end) : models.slice(start, Math.min(end, start + limit));
  const hasMore = beforeId !== null && afterId === null ? end - page.length > start : start + page.length < end;
  return json({
    data: page.map(modelObject),
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
  });
}

const listHandler: LocalSurfaceHandler = (catalog, request) => listModels(catalog, request.query);

const retrieveHandler: LocalSurfaceHandler = (catalog, request) => {
  const model = catalog.find(request.params.id ?? '');
  if (model === undefined) {
    return encodeAnthropicError(new GatewayError(ErrorCode.modelNotFound, `model: ${request.params.id}`, {
      status: 404, origin: 'downstream', errorClass: 'client-error', param: 'model',
    }));
  }
  return json(modelObject(model));
};

export function speaksAnthropic(request: SurfaceRequest): boolean {
  const version = request.headers['anthropic-version'];
  return typeof version === 'string' ? version.length > 0 : Array.isArray(version) && version.length > 0;
}

const routes: DialectRoute[] = [
  { method: 'POST', path: '/v1/messages', surface: anthropicMessages },
  { method: 'POST', path: '/v1/messages/count_tokens', surface: anthropicCountTokens },
  { method: 'GET', path: '/v1/models', local: listHandler, errors: anthropicMessages, when: speaksAnthropic },
  { method: 'GET', path: '/v1/models/', match: modelIdParams, local: retrieveHandler, errors: anthropicMessages, when: speaksAnthropic },
];

export const anthropicSurfaces: DialectSurfaces = {
  routes,
  errorPrefixes: [{ prefix: '/v1/messages', surface: anthropicMessages }],
};
