// Validation of Ollama request bodies, just enough to route them and to fail fast with a 400
// naming the field. `stream` defaults to true, as in Ollama.
import type { RequestSummary } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { describe, isObject, type JsonObject, objectFrom } from '../../util/json-value.ts';

export type OllamaKind = 'chat' | 'generate' | 'embed' | 'embeddings';

/** The body as a JSON object, or Ollama's 400 for anything else. */
export function requestObject(body: unknown): JsonObject {
  if (!isObject(body)) throw invalidRequest(`the request body must be a JSON object, not ${describe(body)}`);
  return body;
}

export function inspectOllamaRequest(kind: OllamaKind, body: unknown): RequestSummary {
  const record = requestObject(body);
  const model = record.model;
  if (model === undefined || model === '') throw invalidRequest('model is required', 'model');
  if (typeof model !== 'string') throw invalidRequest(`invalid model: expected a string, got ${describe(model)}`, 'model');
  const stream = record.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalidRequest(`invalid stream: expected a boolean, got ${describe(stream)}`, 'stream');
  switch (kind) {
    case 'chat': {
      const messages = record.messages;
      if (messages !== undefined && messages !== null) {
        if (!Array.isArray(messages)) throw invalidRequest(`invalid messages: expected an array, got ${describe(messages)}`, 'messages');
        for (let i = 0; i < messages.length; i++) {
          if (typeof objectFrom(messages[i])?.role !== 'string') {
            throw invalidRequest(`invalid messages[${i}]: expected an object with a string 'role'`, `messages[${i}]`);
          }
        }
      }
      break;
    }
    case 'generate': {
      const prompt = record.prompt;
      if (prompt !== undefined && prompt !== null && typeof prompt !== 'string') throw invalidRequest(`invalid prompt: expected a string, got ${describe(prompt)}`, 'prompt');
      break;
    }
    case 'embed': {
      const input = record.input;
      if (typeof input !== 'string' && !Array.isArray(input)) throw invalidRequest(`invalid input: expected a string or an array of strings, got ${describe(input)}`, 'input');
      break;
    }
    case 'embeddings': {
      const prompt = record.prompt;
      if (typeof prompt !== 'string') throw invalidRequest(`invalid prompt: expected a string, got ${describe(prompt)}`, 'prompt');
      break;
    }
  }
  // embeddings never stream; generation streams unless `stream` is false
  return { model, stream: kind === 'chat' || kind === 'generate' ? stream !== false : false };
}
