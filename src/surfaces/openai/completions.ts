// Legacy Completions (`/v1/completions`) translated through the canonical chat model: the prompt
// becomes one user message (the nearest equivalent for chat-only providers).
import type { ChatSurfaceCodec, StreamEncoder, SurfaceRequest } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse } from '../../canonical/response.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import { num } from './chat-decode.ts';
import { openaiFinishReason, openaiUsage } from './chat-encode.ts';
import { openaiErrorObject } from './errors.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { objectFrom, textFrom } from '../../util/json-value.ts';
import { requestObject } from './inspect.ts';

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

function completionId(id: string): string {
  return id.startsWith('cmpl-') ? id : `cmpl-${id}`;
}

export function encodeCompletionsResponse(response: CanonicalResponse): string {
  const text = response.content.filter((part) => part.type === 'text').map((part) => part.text).join('');
  return JSON.stringify({
    id: completionId(response.id), object: 'text_completion', created: response.created, model: response.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: openaiFinishReason(response.finishReason) }],
    usage: openaiUsage(response.usage),
  });
}

class CompletionsStreamEncoder implements StreamEncoder {
  readonly contentType = 'text/event-stream';
  private readonly includeUsage: boolean;
  private prefix = '';

  constructor(request: CanonicalRequest) {
    this.includeUsage = request.surfaceHints?.includeUsage === true;
  }

  private chunk(text: string, finishReason: string | null): string {
    return `data: ${this.prefix}{"text":${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":${finishReason === null ? 'null' : JSON.stringify(finishReason)}}]}\n\n`;
  }

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start':
        this.prefix = `{"id":${JSON.stringify(completionId(part.id))},"object":"text_completion","created":${part.created},"model":${JSON.stringify(part.model)},"choices":[`;
        return '';
      case 'text-delta':
        return part.delta.length === 0 ? '' : this.chunk(part.delta, null);
      case 'response-end': {
        let out = this.chunk('', openaiFinishReason(part.finishReason));
        if (this.includeUsage && part.usage !== undefined) out += `data: ${this.prefix}],"usage":${JSON.stringify(openaiUsage(part.usage))}}\n\n`;
        return out + 'data: [DONE]\n\n';
      }
      case 'error':
        return this.encodeError(part.error);
      default:
        // reasoning and tool calls have no place in a text completion
        return '';
    }
  }

  encodeError(error: ErrorInfo): string {
    return `data: ${JSON.stringify({ error: openaiErrorObject(error) })}\n\n`;
  }
}

export const completionsCodec: ChatSurfaceCodec = {
  decodeRequest: decodeCompletionsRequest,
  encodeResponse: encodeCompletionsResponse,
  createStreamEncoder: (request) => new CompletionsStreamEncoder(request),
};
