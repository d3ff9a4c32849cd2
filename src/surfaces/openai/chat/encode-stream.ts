// Canonical stream parts → OpenAI Chat Completions SSE chunks.
import type { StreamEncoder } from '../../../canonical/adapters.ts';
import type { ErrorInfo } from '../../../canonical/errors.ts';
import type { CanonicalRequest } from '../../../canonical/request.ts';
import type { StreamPart } from '../../../canonical/stream.ts';
import { reasoningDetails } from './encode-response.ts';
import { openaiErrorObject } from '../encode-error.ts';
import { openaiFinishReason, openaiUsage } from '../fields.ts';

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
