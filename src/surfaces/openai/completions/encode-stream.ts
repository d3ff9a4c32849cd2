// Canonical stream parts → legacy Completions SSE chunks.
import type { StreamEncoder } from '../../../canonical/adapters.ts';
import type { ErrorInfo } from '../../../canonical/errors.ts';
import type { CanonicalRequest } from '../../../canonical/request.ts';
import type { StreamPart } from '../../../canonical/stream.ts';
import { completionId } from './encode-response.ts';
import { openaiErrorObject } from '../encode-error.ts';
import { openaiFinishReason, openaiUsage } from '../fields.ts';

/** Text deltas as `text_completion` chunks; reasoning and tool calls have no place in them. */
export class CompletionsStreamEncoder implements StreamEncoder {
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
