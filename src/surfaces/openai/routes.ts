// OpenAI's paths. Clients send them with /v1 when their base URL ends in /v1, and without it when
// configured with the bare host; both are accepted, nothing else is guessed.
import type { DialectRoute, DialectSurfaces, LocalSurfaceHandler } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { encodeOpenAIError } from './encode-error.ts';
import { openaiChat, openaiCompletions, openaiEmbeddings, openaiResponses } from './index.ts';
import { openaiImageEdits, openaiImageGenerations, openaiModerations, openaiRerank, openaiSpeech, openaiTranscriptions, openaiTranslations } from './media.ts';
import { modelIdParams } from '../../util/path-segment.ts';

const created = Math.floor(Date.now() / 1000);

const listModels: LocalSurfaceHandler = (catalog) => ({
  status: 200,
  headers: ['content-type', 'application/json'],
  body: JSON.stringify({ object: 'list', data: catalog.list().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy })) }),
});

const retrieveModel: LocalSurfaceHandler = (catalog, request) => {
  const model = catalog.find(request.params.id ?? '');
  if (model === undefined) {
    return encodeOpenAIError(new GatewayError(ErrorCode.modelNotFound, `The model '${request.params.id}' does not exist or no provider serves it.`, {
      status: 404, origin: 'downstream', errorClass: 'client-error', param: 'model',
    }));
  }
  return { status: 200, headers: ['content-type', 'application/json'], body: JSON.stringify({ id: model.id, object: 'model', created, owned_by: model.ownedBy }) };
};

const routes: DialectRoute[] = [];
for (const prefix of ['/v1', '']) {
  routes.push(
    { method: 'POST', path: `${prefix}/chat/completions`, surface: openaiChat },
    { method: 'POST', path: `${prefix}/completions`, surface: openaiCompletions },
    { method: 'POST', path: `${prefix}/embeddings`, surface: openaiEmbeddings },
    { method: 'POST', path: `${prefix}/responses`, surface: openaiResponses },
    { method: 'POST', path: `${prefix}/images/generations`, surface: openaiImageGenerations },
    { method: 'POST', path: `${prefix}/images/edits`, surface: openaiImageEdits },
    { method: 'POST', path: `${prefix}/audio/transcriptions`, surface: openaiTranscriptions },
    { method: 'POST', path: `${prefix}/audio/translations`, surface: openaiTranslations },
    { method: 'POST', path: `${prefix}/audio/speech`, surface: openaiSpeech },
    { method: 'POST', path: `${prefix}/moderations`, surface: openaiModerations },
    { method: 'POST', path: `${prefix}/rerank`, surface: openaiRerank },
    { method: 'GET', path: `${prefix}/models`, local: listModels, errors: openaiChat },
    { method: 'GET', path: `${prefix}/models/`, match: modelIdParams, local: retrieveModel, errors: openaiChat },
  );
}

export const openaiSurfaces: DialectSurfaces = { routes, errorPrefixes: [{ prefix: '/', surface: openaiChat }] };
