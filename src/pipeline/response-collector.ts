// Canonical stream parts → one canonical response, for a caller that did not ask to stream from a
// provider that only streams (an agent CLI). Parts come in the canonical order (stream.ts); the
// blocks are built as they come, each delta appended to its block.
import type { FinishReason, CanonicalResponse, ResponsePart } from '../canonical/response.ts';
import type { Citation, ReasoningPart, TextPart, ToolCallPart } from '../canonical/request.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { Usage } from '../canonical/usage.ts';

export class ResponseCollector {
  private id = '';
  private model: string;
  private created = 0;
  private readonly content: ResponsePart[] = [];
  /** The block being filled, by its stream index. */
  private open: TextPart | ReasoningPart | ToolCallPart | undefined = undefined;
  private usage: Usage | undefined = undefined;

  constructor(model: string) {
    this.model = model;
  }

  push(part: StreamPart): void {
    switch (part.type) {
      case 'response-start':
        this.id = part.id;
        if (part.model !== '') this.model = part.model;
        this.created = part.created;
        return;
      case 'text-start':
        this.begin({ type: 'text', text: '' });
        return;
      case 'text-delta':
        if (this.open?.type === 'text') this.open.text += part.delta;
        return;
      case 'text-citation':
        if (this.open?.type === 'text') (this.open.citations ??= [] as Citation[]).push(part.citation);
        return;
      case 'reasoning-start':
        this.begin(part.redactedData !== undefined ? { type: 'reasoning', text: '', redactedData: part.redactedData } : { type: 'reasoning', text: '' });
        return;
      case 'reasoning-delta':
        if (this.open?.type === 'reasoning') this.open.text += part.delta;
        return;
      case 'reasoning-signature':
        if (this.open?.type === 'reasoning') this.open.signature = part.signature;
        return;
      case 'tool-call-start':
        this.begin({ type: 'tool-call', id: part.id, name: part.name, arguments: '' });
        return;
      case 'tool-call-delta':
        if (this.open?.type === 'tool-call') this.open.arguments += part.argumentsDelta;
        return;
      case 'text-end':
      case 'reasoning-end':
      case 'tool-call-end':
        this.open = undefined;
        return;
      case 'hosted-tool-call':
        this.content.push(part.call);
        return;
      case 'hosted-tool-result':
        this.content.push(part.result);
        return;
      case 'usage':
        this.usage = this.usage === undefined ? { ...part.usage } : { ...this.usage, ...part.usage };
        return;
      case 'response-end':
      case 'error':
        return;
    }
  }

  /** The whole answer, once its `response-end` has come. */
  finish(end: Extract<StreamPart, { type: 'response-end' }>, fallbackId: string): CanonicalResponse {
    const usage = end.usage === undefined ? this.usage : this.usage === undefined ? { ...end.usage } : { ...this.usage, ...end.usage };
    const response: CanonicalResponse = {
      id: this.id !== '' ? this.id : fallbackId,
      model: this.model,
      created: this.created > 0 ? this.created : Math.floor(Date.now() / 1000),
      content: this.content,
      finishReason: end.finishReason satisfies FinishReason,
      usage: usage ?? { inputTokens: 0, outputTokens: 0 },
    };
    if (end.rawFinishReason !== undefined) response.rawFinishReason = end.rawFinishReason;
    if (end.stopSequence !== undefined) response.stopSequence = end.stopSequence;
    return response;
  }

  private begin(block: TextPart | ReasoningPart | ToolCallPart): void {
    this.content.push(block);
    this.open = block;
  }
}
