// Canonical stream parts → OpenAI Chat Completions SSE chunks.
import type { StreamEncoder } from '../../../canonical/adapters.ts';
import type { ErrorInfo } from '../../../canonical/errors.ts';
import type { CanonicalRequest, Citation } from '../../../canonical/request.ts';
import type { StreamPart } from '../../../canonical/stream.ts';
import { reasoningDetails, urlAnnotation } from './encode-response.ts';
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
  /** Characters of content sent, where the open text block began, and its citations without offsets (sent as it ends). */
  private contentLength = 0;
  private textStart = 0;
  private wholeCitations: Citation[] | undefined = undefined;

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
      case 'text-start':
        this.textStart = this.contentLength;
        return '';
      case 'text-delta':
        if (part.delta.length === 0) return '';
        this.contentLength += part.delta.length;
        return this.chunk(`{"content":${JSON.stringify(part.delta)}}`);
      case 'text-citation':
        if (part.citation.start === undefined || part.citation.end === undefined) {
          (this.wholeCitations ??= []).push(part.citation);
          return '';
        }
        return this.chunk(`{"annotations":[${JSON.stringify(urlAnnotation(part.citation, this.textStart, 0))}]}`);
      case 'text-end': {
        const whole = this.wholeCitations;
        if (whole === undefined) return '';
        this.wholeCitations = undefined;
        const length = this.contentLength - this.textStart;
        return this.chunk(`{"annotations":${JSON.stringify(whole.map((citation) => urlAnnotation(citation, this.textStart, length)))}}`);
      }
      case 'hosted-tool-call':
      case 'hosted-tool-result':
        return ''; // Chat Completions shows what a search found only as the text's annotations
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
