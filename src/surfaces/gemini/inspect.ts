// Validation of Gemini request bodies, just enough to route them and to fail fast with a 400
// naming the field. The model comes from the path, so the body is never rewritten for routing.
import type { RequestSummary, SurfaceRequest } from '../../canonical/adapters.ts';
import { field } from './fields.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { describe, isObject, type JsonObject } from '../../util/json-value.ts';

export type GeminiKind = 'generate' | 'count-tokens' | 'embed' | 'batch-embed';

function checkContents(contents: unknown, param: string): void {
  if (!Array.isArray(contents)) throw invalidRequest(`Invalid '${param}': expected an array of contents, got ${describe(contents)}.`, param);
  if (contents.length === 0) throw invalidRequest(`Invalid '${param}': contents must not be empty.`, param);
  contents.forEach((content: unknown, i) => {
    if (!isObject(content) || !Array.isArray(content.parts)) throw invalidRequest(`Invalid '${param}[${i}]': expected an object with a 'parts' array.`, `${param}[${i}]`);
  });
}

function checkEmbedContent(request: JsonObject, param: string): void {
  const content = request.content;
  if (!isObject(content) || !Array.isArray(content.parts)) throw invalidRequest(`Invalid '${param}.content': expected a Content with a 'parts' array.`, `${param}.content`);
}

/** The body as a JSON object, or Gemini's 400 for anything else. */
export function requestObject(body: unknown): JsonObject {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, not ${describe(body)}.`, 'body');
  return body;
}

export function inspectGeminiRequest(kind: GeminiKind, raw: unknown, request: SurfaceRequest, stream: boolean): RequestSummary {
  const body = requestObject(raw);
  const model = request.params.model;
  if (model === undefined || model.length === 0) throw invalidRequest('The path names no model.', 'model');
  switch (kind) {
    case 'generate':
      checkContents(field(body, 'contents'), 'contents');
      break;
    case 'count-tokens': {
      const wrapped = field(body, 'generateContentRequest');
      if (isObject(wrapped)) checkContents(field(wrapped, 'contents'), 'generateContentRequest.contents');
      else checkContents(field(body, 'contents'), 'contents');
      break;
    }
    case 'embed':
      checkEmbedContent(body, 'request');
      break;
    case 'batch-embed': {
      const requests = body.requests;
      if (!Array.isArray(requests) || requests.length === 0) throw invalidRequest("Invalid 'requests': expected a non-empty array.", 'requests');
      requests.forEach((entry: unknown, i) => {
        if (!isObject(entry)) throw invalidRequest(`Invalid 'requests[${i}]': expected an object.`, `requests[${i}]`);
        checkEmbedContent(entry, `requests[${i}]`);
      });
      break;
    }
  }
  return { model, stream, modelInPath: true };
}
