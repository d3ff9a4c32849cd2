// Canonical response and stream parts → OpenAI Chat Completions JSON and SSE chunks.
import type { StreamEncoder } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason } from '../../canonical/response.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { Usage } from '../../canonical/usage.ts';
import { openaiErrorObject } from './errors.ts';

export function openaiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop': return 'stop';
    case 'length': return 'length';
    case 'tool-calls': return 'tool_calls';
    case 'content-filter': return 'content_filter';
    default: return 'stop';
  }
}

export function openaiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

function reasoningDetails(text: string, signature: string | undefined, redacted: string | undefined, index: number): Record<string, unknown> {
  if (redacted !== undefined) return { type: 'reasoning.encrypted', data: redacted, index };
  return { type: 'reasoning.text', text, ...(signature !== undefined ? { signature } : {}), index };
}

export function encodeChatResponse(response: CanonicalResponse): string {
  let text = '';
  let reasoning = '';
  const details: Record<string, unknown>[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  for (const part of response.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') {
      reasoning += part.text;
      if (part.signature !== undefined || part.redactedData !== undefined) details.push(reasoningDetails(part.text, part.signature, part.redactedData, details.length));
    } else toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null, refusal: null };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (details.length > 0) message.reasoning_details = details;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return JSON.stringify({
    id: response.id,
    object: 'chat.completion',
    created: response.created,
    model: response.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinishReason(response.finishReason) }],
    usage: openaiUsage(response.usage),
  });
}

/** Streams chunks in OpenAI's shape: a role-only first delta, then content, finish, usage, [DONE]. */
export class ChatStreamEncoder implements StreamEncoder {
  readonly contentType = 'text/event-stream';
  private readonly includeUsage: boolean;
  private prefix = '';
  /** OpenAI numbers tool calls separately from other content. */
  private toolIndex = -1;
  private reasoningIndex = -1;
  private pendingSignature: string | undefined = undefined;

  constructor(request: CanonicalRequest) {
    this.includeUsage = request.surfaceHints?.includeUsage === true;
  }

  private chunk(delta: string, finishReason: string | null = null): string {
    return `data: ${this.prefix}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : JSON.stringify(finishReason)}}]}\n\n`;
  }

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start':
        this.prefix = `{"id":${JSON.stringify(part.id)},"object":"chat.completion.chunk","created":${part.created},"model":${JSON.stringify(part.model)},"choices":[`;
        return this.chunk('{"role":"assistant","content":""}');
      case 'text-delta':
        return part.delta.length === 0 ? '' : this.chunk(`{"content":${JSON.stringify(part.delta)}}`);
      case 'reasoning-start':
        this.reasoningIndex++;
        if (part.redactedData !== undefined) {
          return this.chunk(`{"reasoning_details":[${JSON.stringify(reasoningDetails('', undefined, part.redactedData, this.reasoningIndex))}]}`);
        }
        return '';
      case 'reasoning-delta':
        return part.delta.length === 0 ? '' : this.chunk(`{"reasoning_content":${JSON.stringify(part.delta)},"reasoning_details":[${JSON.stringify(reasoningDetails(part.delta, undefined, undefined, this.reasoningIndex))}]}`);
      case 'reasoning-signature':
        this.pendingSignature = part.signature;
        return this.chunk(`{"reasoning_details":[${JSON.stringify(reasoningDetails('', part.signature, undefined, this.reasoningIndex))}]}`);
      case 'reasoning-end':
        this.pendingSignature = undefined;
        return '';
      case 'tool-call-start':
        this.toolIndex++;
        return this.chunk(`{"tool_calls":[{"index":${this.toolIndex},"id":${JSON.stringify(part.id)},"type":"function","function":{"name":${JSON.stringify(part.name)},"arguments":""}}]}`);
      case 'tool-call-delta':
        return part.argumentsDelta.length === 0 ? '' : this.chunk(`{"tool_calls":[{"index":${this.toolIndex},"function":{"arguments":${JSON.stringify(part.argumentsDelta)}}}]}`);
      case 'text-start':
      case 'text-end':
      case 'tool-call-end':
      case 'usage':
        return '';
      case 'response-end': {
        let out = this.chunk('{}', openaiFinishReason(part.finishReason));
        if (this.includeUsage && part.usage !== undefined) {
          out += `data: ${this.prefix}],"usage":${JSON.stringify(openaiUsage(part.usage))}}\n\n`;
        }
        return out + 'data: [DONE]\n\n';
      }
      case 'error':
        return this.encodeError(part.error);
    }
  }

  encodeError(error: ErrorInfo): string {
    return `data: ${JSON.stringify({ error: openaiErrorObject(error) })}\n\n`;
  }
}
