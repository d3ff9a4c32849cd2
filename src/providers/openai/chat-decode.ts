// OpenAI Chat Completions response and SSE stream → canonical response and stream parts.
import type { PartSink } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import type { Citation } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, finiteFrom, firstOf, isObject, type JsonObject, listFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { decodeOpenAIErrorBody } from './errors.ts';
import { SseStreamDecoder } from '../common/sse-stream-decoder.ts';
import { ContentBlocks } from '../common/content-blocks.ts';
import { protocolError } from '../common/protocol-error.ts';

export function finishReasonFrom(raw: unknown): FinishReason {
  switch (raw) {
    case 'stop': return 'stop';
    case 'length': return 'length';
    case 'tool_calls':
    case 'function_call': return 'tool-calls';
    case 'content_filter': return 'content-filter';
    default: return 'other';
  }
}

export function usageFrom(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const usage: Usage = { inputTokens: countFrom(raw.prompt_tokens) ?? 0, outputTokens: countFrom(raw.completion_tokens) ?? 0 };
  const cached = countFrom(objectFrom(raw.prompt_tokens_details)?.cached_tokens);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  const reasoning = countFrom(objectFrom(raw.completion_tokens_details)?.reasoning_tokens);
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

function reasoningFromMessage(message: JsonObject): ResponsePart[] {
  const details = message.reasoning_details;
  if (Array.isArray(details) && details.length > 0) {
    const parts: ResponsePart[] = [];
    for (const item of details) {
      const detail = objectFrom(item);
      if (detail?.type === 'reasoning.encrypted') parts.push({ type: 'reasoning', text: '', redactedData: textFrom(detail.data) });
      else parts.push({ type: 'reasoning', text: textFrom(detail?.text ?? detail?.summary), ...(typeof detail?.signature === 'string' ? { signature: detail.signature } : {}) });
    }
    return parts;
  }
  const text = typeof message.reasoning_content === 'string' ? message.reasoning_content : typeof message.reasoning === 'string' ? message.reasoning : '';
  return text.length > 0 ? [{ type: 'reasoning', text }] : [];
}

/**
 * A `url_citation` annotation (OpenAI's search models) → a canonical citation, its offsets made
 * relative to a text that starts `base` characters into the message content.
 */
export function urlCitation(raw: unknown, base: number): Citation | undefined {
  const annotation = objectFrom(raw);
  const cited = objectFrom(annotation?.url_citation);
  if (annotation?.type !== 'url_citation' || typeof cited?.url !== 'string') return undefined;
  const citation: Citation = { url: cited.url, raw: annotation, dialect: 'openai' };
  if (typeof cited.title === 'string') citation.title = cited.title;
  const start = countFrom(cited.start_index);
  const end = countFrom(cited.end_index);
  if (start !== undefined && end !== undefined && start >= base && end >= start) {
    citation.start = start - base;
    citation.end = end - base;
  }
  return citation;
}

function urlCitations(raw: unknown): Citation[] | undefined {
  let out: Citation[] | undefined;
  for (const entry of listFrom(raw)) {
    const citation = urlCitation(entry, 0);
    if (citation !== undefined) (out ??= []).push(citation);
  }
  return out;
}

export function decodeChatResponse(raw: unknown): CanonicalResponse {
  const body = objectFrom(raw);
  const choice = firstOf(body?.choices);
  if (body === undefined || !isObject(choice)) throw protocolError('the response has no choices');
  const message: JsonObject = isObject(choice.message) ? choice.message : {};
  const content: ResponsePart[] = reasoningFromMessage(message);
  if (typeof message.content === 'string' && message.content.length > 0) {
    const citations = urlCitations(message.annotations);
    content.push(citations === undefined ? { type: 'text', text: message.content } : { type: 'text', text: message.content, citations });
  }
  if (typeof message.refusal === 'string' && message.refusal.length > 0) content.push({ type: 'text', text: message.refusal });
  for (const call of listFrom(message.tool_calls)) {
    if (!isObject(call)) continue;
    const fn: JsonObject = isObject(call.function) ? call.function : {};
    content.push({ type: 'tool-call', id: textFrom(call.id, `call_${content.length}`), name: textFrom(fn.name), arguments: typeof fn.arguments === 'string' ? fn.arguments : fn.arguments == null ? '' : JSON.stringify(fn.arguments) });
  }
  return {
    id: textFrom(body.id, 'chatcmpl-switchyard'),
    model: textFrom(body.model),
    created: finiteFrom(body.created) ?? Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonFrom(choice.finish_reason),
    ...(typeof choice.finish_reason === 'string' ? { rawFinishReason: choice.finish_reason } : {}),
    usage: usageFrom(body.usage) ?? { inputTokens: 0, outputTokens: 0 },
  };
}

/**
 * Synthesises the canonical lifecycle OpenAI chunks leave implicit: blocks start when their first
 * delta arrives and end when another kind (or another tool call) begins; `response-end` waits for
 * `[DONE]`, since the usage chunk comes after the one carrying finish_reason — or for the close,
 * when a server ends the stream after its finish_reason without [DONE].
 */
export class ChatStreamDecoder extends SseStreamDecoder {
  protected readonly terminal = '[DONE]';
  private started = false;
  private readonly blocks = new ContentBlocks();
  private toolIndex = -1;
  private toolId: string | undefined = undefined;
  private finishReason: FinishReason = 'other';
  private rawFinishReason: string | undefined = undefined;
  private usage: Usage | undefined = undefined;
  /** Characters of message content so far, and where the open text block began in it (annotation offsets count from the content's start). */
  private contentLength = 0;
  private textStart = 0;

  onEvent(_event: string, data: string): void {
    if (this.finished) return;
    const sink = this.sink!;
    if (data === '[DONE]') {
      this.finish(sink);
      return;
    }
    const chunk = this.eventObject(data);
    if (chunk === undefined) return;
    if (chunk.error !== undefined) {
      const { message } = decodeOpenAIErrorBody(chunk);
      this.fail(sink, new GatewayError(ErrorCode.upstreamStatus, `The provider failed mid-stream: ${message ?? 'unknown error'}`, { status: 502, origin: 'upstream', errorClass: 'server-error' }));
      return;
    }
    if (!this.started) this.start(sink, chunk);
    const usage = usageFrom(chunk.usage);
    if (usage !== undefined) {
      this.usage = usage;
      sink.onPart({ type: 'usage', usage });
    }
    const choice = firstOf(chunk.choices);
    if (!isObject(choice)) return;
    const delta: JsonObject = isObject(choice.delta) ? choice.delta : {};
    const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : undefined;
    if (Array.isArray(delta.reasoning_details)) this.reasoningDetails(sink, delta.reasoning_details, reasoning !== undefined);
    if (reasoning !== undefined && reasoning.length > 0) {
      const index = this.blocks.ensure(sink, 'reasoning');
      sink.onPart({ type: 'reasoning-delta', index, delta: reasoning });
    }
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      if (this.blocks.open !== 'text') this.textStart = this.contentLength;
      const index = this.blocks.ensure(sink, 'text');
      this.contentLength += delta.content.length;
      sink.onPart({ type: 'text-delta', index, delta: delta.content });
    }
    if (Array.isArray(delta.annotations) && this.blocks.open === 'text') {
      for (const annotation of delta.annotations) {
        const citation = urlCitation(annotation, this.textStart);
        if (citation !== undefined) sink.onPart({ type: 'text-citation', index: this.blocks.index, citation });
      }
    }
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (isObject(call)) this.toolCall(sink, call);
    if (typeof choice.finish_reason === 'string') {
      // the content is complete; only usage and [DONE] may follow
      this.blocks.close(sink);
      this.finishReason = finishReasonFrom(choice.finish_reason);
      this.rawFinishReason = choice.finish_reason;
    }
  }

  /** Closed without [DONE]: complete when the finish_reason came (only the usage chunk may be missing). */
  protected override onIncomplete(sink: PartSink): void {
    if (this.rawFinishReason === undefined) super.onIncomplete(sink);
    else this.finish(sink);
  }

  private finish(sink: PartSink): void {
    this.blocks.close(sink);
    this.finished = true;
    if (!this.started) this.start(sink, {});
    sink.onPart({ type: 'response-end', finishReason: this.finishReason, ...(this.rawFinishReason !== undefined ? { rawFinishReason: this.rawFinishReason } : {}), ...(this.usage !== undefined ? { usage: this.usage } : {}) });
  }

  private start(sink: PartSink, chunk: JsonObject): void {
    this.started = true;
    sink.onPart({ type: 'response-start', id: textFrom(chunk.id, 'chatcmpl-switchyard'), model: textFrom(chunk.model), created: finiteFrom(chunk.created) ?? Math.floor(Date.now() / 1000) });
  }

  private reasoningDetails(sink: PartSink, details: readonly unknown[], textAlsoSent: boolean): void {
    const blocks = this.blocks;
    for (const item of details) {
      const detail = objectFrom(item);
      if (detail?.type === 'reasoning.encrypted') {
        blocks.startReasoning(sink, textFrom(detail.data));
        blocks.close(sink);
        continue;
      }
      const text = typeof detail?.text === 'string' ? detail.text : '';
      if (!textAlsoSent && text.length > 0) {
        const index = blocks.ensure(sink, 'reasoning');
        sink.onPart({ type: 'reasoning-delta', index, delta: text });
      }
      if (typeof detail?.signature === 'string' && detail.signature.length > 0) {
        const index = blocks.ensure(sink, 'reasoning');
        sink.onPart({ type: 'reasoning-signature', index, signature: detail.signature });
      }
    }
  }

  private toolCall(sink: PartSink, call: JsonObject): void {
    const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : undefined;
    const index = finiteFrom(call.index) ?? (id !== undefined ? this.toolIndex + 1 : this.toolIndex);
    // a new call: another index, or (servers that number every call 0) another id
    const blocks = this.blocks;
    if (blocks.open !== 'tool' || index !== this.toolIndex || (id !== undefined && id !== this.toolId)) {
      this.toolIndex = index;
      this.toolId = id;
      blocks.startTool(sink, id ?? `call_${blocks.nextIndex}`, textFrom(objectFrom(call.function)?.name));
    }
    const args = objectFrom(call.function)?.arguments;
    if (typeof args === 'string' && args.length > 0) sink.onPart({ type: 'tool-call-delta', index: blocks.index, argumentsDelta: args });
  }
}
