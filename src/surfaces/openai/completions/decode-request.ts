// Legacy Completions (`/v1/completions`) request → canonical request: the prompt becomes one user
// message (the nearest equivalent for chat-only providers).
import type { SurfaceRequest } from '../../../canonical/adapters.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import type { CanonicalRequest } from '../../../canonical/request.ts';
import { objectFrom, textFrom } from '../../../util/json-value.ts';
import { num } from '../fields.ts';
import { requestObject } from '../inspect.ts';

const MODELLED = new Set(['model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'stop', 'stream', 'stream_options', 'seed', 'presence_penalty', 'frequency_penalty', 'user']);
const INERT = new Set(['n', 'best_of', 'logit_bias']);

export function decodeCompletionsRequest(raw: unknown, _request: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  let prompt = body.prompt;
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1 || typeof prompt[0] !== 'string') throw invalidRequest("Invalid 'prompt': only a single text prompt can be translated to a chat provider.", 'prompt');
    prompt = prompt[0];
  }
  if (typeof prompt !== 'string') throw invalidRequest("Invalid 'prompt': expected a string.", 'prompt');
  const request: CanonicalRequest = { model: textFrom(body.model), messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }], sampling: {}, stream: body.stream === true };
  const sampling = request.sampling;
  const maxTokens = num(body, 'max_tokens'); if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  const temperature = num(body, 'temperature'); if (temperature !== undefined) sampling.temperature = temperature;
  const topP = num(body, 'top_p'); if (topP !== undefined) sampling.topP = topP;
  const seed = num(body, 'seed'); if (seed !== undefined) sampling.seed = seed;
  const presence = num(body, 'presence_penalty'); if (presence !== undefined) sampling.presencePenalty = presence;
  const frequency = num(body, 'frequency_penalty'); if (frequency !== undefined) sampling.frequencyPenalty = frequency;
  if (typeof body.stop === 'string') sampling.stop = [body.stop];
  else if (Array.isArray(body.stop)) sampling.stop = body.stop.filter((value): value is string => typeof value === 'string');
  if (typeof body.user === 'string') request.metadata = { user: body.user };
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const key of Object.keys(body)) {
    if (MODELLED.has(key) || (INERT.has(key) && (key !== 'n' || body.n === 1))) continue;
    extra[key] = body[key];
    hasExtra = true;
  }
  if (hasExtra) request.passThrough = { dialect: 'openai-completions', fields: extra };
  if (objectFrom(body.stream_options)?.include_usage === true) request.surfaceHints = { includeUsage: true };
  return request;
}
