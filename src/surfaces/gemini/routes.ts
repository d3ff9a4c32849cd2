// Gemini's paths, under /v1beta (the SDKs' default) and /v1: `models/{model}:{method}` families
// (and `tunedModels/{model}:{method}`), the model lists, and a Gemini 404 for unknown methods.
// GET /v1/models is OpenAI's too: it answers in Gemini's shape only for a Google client (its key
// header or `?key=`, or the SDK's `x-goog-api-client`).
import type { DialectRoute, DialectSurfaces, SurfaceAdapter, SurfaceRequest } from '../../canonical/adapters.ts';
import { geminiBatchEmbed, geminiCountTokens, geminiEmbed, geminiGenerate, geminiStream, geminiStreamArray } from './index.ts';
import { getGeminiModel, listGeminiModels, unknownGeminiMethod } from './models.ts';
import { decodePathSegment } from '../../util/path-segment.ts';

/** `{model}:{method}` → params; the last colon splits, so `qwen3:8b:generateContent` keeps its tag. */
function method(name: string | undefined, modelPrefix: string): (rest: string) => Record<string, string> | undefined {
  return (rest) => {
    const colon = rest.lastIndexOf(':');
    if (colon <= 0) return undefined;
    const found = rest.slice(colon + 1);
    if (name !== undefined && found !== name) return undefined;
    const model = rest.slice(0, colon);
    if (model.includes('/')) return undefined;
    return { model: modelPrefix + decodePathSegment(model), method: found };
  };
}

function modelName(rest: string): Record<string, string> | undefined {
  if (rest.length === 0 || rest.includes('/') || rest.includes(':')) return undefined;
  return { model: decodePathSegment(rest) };
}

function header(request: SurfaceRequest, name: string): boolean {
  const value = request.headers[name];
  return value !== undefined && value.length > 0;
}

export function isGoogleClient(request: SurfaceRequest): boolean {
  return header(request, 'x-goog-api-key') || header(request, 'x-goog-api-client') || /(?:^|&)key=/.test(request.query);
}

function wantsSse(request: SurfaceRequest): boolean {
  return /(?:^|&)alt=sse(?:&|$)/.test(request.query);
}

const routes: DialectRoute[] = [];
const methods: [string, SurfaceAdapter, ((request: SurfaceRequest) => boolean) | undefined][] = [
  ['generateContent', geminiGenerate, undefined],
  ['streamGenerateContent', geminiStream, wantsSse],
  ['streamGenerateContent', geminiStreamArray, undefined],
  ['countTokens', geminiCountTokens, undefined],
  ['embedContent', geminiEmbed, undefined],
  ['batchEmbedContents', geminiBatchEmbed, undefined],
];
for (const version of ['/v1beta', '/v1']) {
  for (const [collection, modelPrefix] of [['models', ''], ['tunedModels', 'tunedModels/']] as const) {
    for (const [name, surface, when] of methods) {
      routes.push({ method: 'POST', path: `${version}/${collection}/`, match: method(name, modelPrefix), surface, ...(when !== undefined ? { when } : {}) });
    }
  }
  const only = version === '/v1' ? { when: isGoogleClient } : {};
  routes.push(
    { method: 'GET', path: `${version}/models`, local: listGeminiModels, errors: geminiGenerate, ...only },
    { method: 'GET', path: `${version}/models/`, match: modelName, local: getGeminiModel, errors: geminiGenerate, ...only },
    // any other `{model}:{method}`: a Gemini 404 rather than another dialect's 405
    { method: 'POST', path: `${version}/models/`, match: method(undefined, ''), local: unknownGeminiMethod, errors: geminiGenerate },
  );
}

export const geminiSurfaces: DialectSurfaces = { routes, errorPrefixes: [{ prefix: '/v1beta/', surface: geminiGenerate }] };
