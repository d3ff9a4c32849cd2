// Validation of OpenAI request bodies, just enough to route them and to fail fast with a 400
// naming the field. Fields we do not know are passed on untouched: vendor extensions
// (OpenRouter's `provider`, vLLM's `top_k`, …) are legitimate, and a same-dialect upstream
// judges them with its own rules.
import type { RequestSummary } from '../../canonical/adapters.ts';
import type { Operation } from '../../canonical/request.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { describe, isObject, type JsonObject, objectFrom } from '../../util/json-value.ts';

const required: Record<Operation, string | undefined> = {
  chat: 'messages',
  completions: 'prompt',
  embeddings: 'input',
  responses: undefined,
};

/** The body as a JSON object, or the 400 every OpenAI operation answers for anything else. */
export function requestObject(body: unknown): JsonObject {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, not ${describe(body)}.`);
  return body;
}

/**
 * What inspect reads, and all it reads: the body is skimmed for these members (SurfaceAdapter.topLevel),
 * a list or text as its kind only (and whether a list is empty). The messages are checked by `inspectOpenAIMessages` once the
 * body is parsed whole.
 */
export const OPENAI_TOP_LEVEL: Readonly<Record<string, 'value' | 'kind'>> = Object.freeze({
  model: 'value', stream: 'value', n: 'value', messages: 'kind', prompt: 'kind', input: 'kind',
});

/** The routing fields and the kinds of the required ones (the body's top level, as skimmed). */
export function inspectOpenAIRequest(operation: Operation, body: unknown): RequestSummary {
  const record = requestObject(body);
  const model = record.model;
  if (model === undefined) throw invalidRequest("Missing required parameter: 'model'.", 'model');
  if (typeof model !== 'string' || model.length === 0) throw invalidRequest(`Invalid 'model': expected a non-empty string, got ${describe(model)}.`, 'model');
  const stream = record.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw invalidRequest(`Invalid 'stream': expected a boolean, got ${describe(stream)}.`, 'stream');
  }
  const field = required[operation];
  if (field !== undefined && record[field] === undefined) throw invalidRequest(`Missing required parameter: '${field}'.`, field);
  if (operation === 'chat') {
    const messages = record.messages;
    if (!Array.isArray(messages)) throw invalidRequest(`Invalid 'messages': expected an array, got ${describe(messages)}.`, 'messages');
    if (messages.length === 0) throw invalidRequest("Invalid 'messages': expected at least one message.", 'messages');
  }
  if (operation === 'embeddings') {
    const input = record.input;
    if (typeof input !== 'string' && !Array.isArray(input)) throw invalidRequest(`Invalid 'input': expected a string or an array, got ${describe(input)}.`, 'input');
  }
  if (operation === 'completions') {
    const prompt = record.prompt;
    if (typeof prompt !== 'string' && !Array.isArray(prompt)) throw invalidRequest(`Invalid 'prompt': expected a string or an array, got ${describe(prompt)}.`, 'prompt');
  }
  // several choices (`n`) each finish on their own: the pass-through waits for the last
  const choices = record.n;
  if ((operation === 'chat' || operation === 'completions') && typeof choices === 'number' && Number.isInteger(choices) && choices > 1) {
    return { model, stream: stream === true, choices };
  }
  return { model, stream: stream === true };
}

/**
 * Each chat message an object with a string role, as the decoder expects: checked when the body is
 * parsed whole (a translated attempt); a pass-through body's messages are the upstream's to judge.
 */
export function inspectOpenAIMessages(operation: Operation, body: unknown): void {
  if (operation !== 'chat') return;
  const messages = (body as JsonObject).messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    if (typeof objectFrom(messages[i])?.role !== 'string') {
      throw invalidRequest(`Invalid 'messages[${i}]': expected an object with a string 'role'.`, `messages[${i}]`);
    }
  }
}
