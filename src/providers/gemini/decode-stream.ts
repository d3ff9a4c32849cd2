// Gemini's SSE stream (`?alt=sse`) → canonical stream parts. Every event is a whole
// GenerateContentResponse holding the new parts; the canonical block lifecycle is synthesised
// around them. A function call arrives whole, so it becomes start + one delta + end. Gemini has no
// end marker: a stream is complete when a chunk carried a finishReason (or a prompt block reason),
// and `response-end` goes out when the upstream closes, since a last chunk may still follow.
// Grounding metadata (a Google Search) is read from the last chunk that carries it and sent at the
// end: the citations of the open text block, then the search and its sources as hosted-tool parts.
import type { PartSink } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { Usage } from '../../canonical/usage.ts';
import { asksWebSearch } from '../common/hosted-tools.ts';
import { CallIds, citationsIn, finishReasonFrom, groundingOf, textOfOtherPart, usageFrom } from './decode-response.ts';
import { SseStreamDecoder } from '../common/sse-stream-decoder.ts';
import { ContentBlocks } from '../common/content-blocks.ts';
import { firstOf, isObject, type JsonObject, objectFrom, textFrom } from '../../util/json-value.ts';
import { protocolError } from '../common/protocol-error.ts';

export class GeminiStreamDecoder extends SseStreamDecoder {
  protected readonly terminal = 'finishReason';
  private started = false;
  private readonly blocks = new ContentBlocks();
  /** The open reasoning block already has its signature: more thoughts start a new block. */
  private reasoningSigned = false;
  private ids: CallIds | undefined = undefined;
  private hasCalls = false;
  private rawFinish: string | undefined = undefined;
  private blocked: string | undefined = undefined;
  private usage: Usage | undefined = undefined;
  /** The request asked for a web search: the text is followed, so grounding offsets can be placed. */
  private readonly grounded: boolean;
  private grounding: unknown = undefined;
  private responseId = '';
  /** The open text block's text, and where it starts in the candidate's text (UTF-8 bytes); kept only when grounded. */
  private blockText = '';
  private blockStart = 0;
  private textBytes = 0;

  constructor(request?: CanonicalRequest) {
    super();
    this.grounded = request !== undefined && asksWebSearch(request);
  }

  /** Gemini has no end event: a finishReason (or a block reason) seen means the stream is complete. */
  protected override onIncomplete(sink: PartSink): void {
    if (this.rawFinish === undefined && this.blocked === undefined) {
      super.onIncomplete(sink);
      return;
    }
    if (!this.started) this.start(sink, {});
    if (this.grounding !== undefined) this.ground(sink);
    this.blocks.close(sink);
    const finishReason = this.rawFinish === undefined ? 'content-filter' : finishReasonFrom(this.rawFinish, this.hasCalls);
    sink.onPart({
      type: 'response-end', finishReason, rawFinishReason: this.rawFinish ?? this.blocked!,
      ...(this.usage !== undefined ? { usage: this.usage } : {}),
    });
  }

  onEvent(_event: string, data: string): void {
    if (this.finished) return;
    const sink = this.sink!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.fail(sink, protocolError('a stream event is not JSON'));
      return;
    }
    if (parsed === null || typeof parsed !== 'object') {
      this.fail(sink, protocolError('a stream event is not an object'));
      return;
    }
    // a list carries none of a chunk's fields: it reads as an empty chunk
    const chunk: JsonObject = isObject(parsed) ? parsed : {};
    if (chunk.error !== undefined) {
      this.fail(sink, midStreamError(chunk.error));
      return;
    }
    if (!this.started) this.start(sink, chunk);
    const usage = usageFrom(chunk.usageMetadata);
    if (usage !== undefined) {
      this.usage = usage;
      sink.onPart({ type: 'usage', usage });
    }
    const candidate = objectFrom(firstOf(chunk.candidates));
    const parts = objectFrom(candidate?.content)?.parts;
    if (Array.isArray(parts)) for (const part of parts) if (isObject(part)) this.part(sink, part);
    if (typeof candidate?.finishReason === 'string') this.rawFinish = candidate.finishReason;
    if (this.grounded && candidate?.groundingMetadata !== undefined) this.grounding = candidate.groundingMetadata;
    const blockReason = objectFrom(chunk.promptFeedback)?.blockReason;
    if (typeof blockReason === 'string') this.blocked = blockReason;
  }

  private start(sink: PartSink, chunk: JsonObject): void {
    this.started = true;
    this.ids = new CallIds(chunk.responseId);
    if (typeof chunk.responseId === 'string') this.responseId = chunk.responseId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
    sink.onPart({
      type: 'response-start',
      id: typeof chunk.responseId === 'string' ? chunk.responseId : `gemini-${Date.now().toString(36)}`,
      model: typeof chunk.modelVersion === 'string' ? chunk.modelVersion : '',
      created: Math.floor(Date.now() / 1000),
    });
  }

  private part(sink: PartSink, part: JsonObject): void {
    const signature = typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0 ? part.thoughtSignature : undefined;
    const blocks = this.blocks;
    if (part.thought === true) {
      if (blocks.open !== 'reasoning' || this.reasoningSigned) {
        blocks.startReasoning(sink);
        this.reasoningSigned = false;
      }
      if (typeof part.text === 'string' && part.text.length > 0) sink.onPart({ type: 'reasoning-delta', index: blocks.index, delta: part.text });
      if (signature !== undefined) {
        sink.onPart({ type: 'reasoning-signature', index: blocks.index, signature });
        this.reasoningSigned = true;
      }
      return;
    }
    const call = part.functionCall;
    if (isObject(call)) {
      blocks.close(sink);
      if (signature !== undefined) this.signatureBlock(sink, signature);
      // a call arrives whole: start, its arguments, end
      const index = blocks.startTool(sink, this.ids!.next(call.id), textFrom(call.name));
      sink.onPart({ type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.args ?? {}) });
      blocks.close(sink);
      this.hasCalls = true;
      return;
    }
    const text = typeof part.text === 'string' ? part.text : textOfOtherPart(part);
    if (text !== undefined && text.length > 0) {
      const opening = blocks.open !== 'text';
      const index = blocks.ensure(sink, 'text');
      if (this.grounded) this.follow(text, opening);
      sink.onPart({ type: 'text-delta', index, delta: text });
    }
    if (signature !== undefined) {
      blocks.close(sink);
      this.signatureBlock(sink, signature);
    }
  }

  /** Keeps the open text block's text and its place in the candidate's text, for grounding offsets. */
  private follow(text: string, opening: boolean): void {
    if (opening) {
      this.blockStart = this.textBytes;
      this.blockText = '';
    }
    this.blockText += text;
    this.textBytes += Buffer.byteLength(text, 'utf8');
  }

  /** The search Gemini grounded the answer in: citations on the open text block, then the call and its sources. */
  private ground(sink: PartSink): void {
    const grounding = groundingOf(this.grounding, `ws_${this.responseId.length > 0 ? this.responseId : Date.now().toString(36)}`);
    if (grounding === undefined) return;
    const blocks = this.blocks;
    if (blocks.open === 'text') {
      const citations = citationsIn(this.blockText, this.blockStart, grounding.supports);
      if (citations !== undefined) for (const citation of citations) sink.onPart({ type: 'text-citation', index: blocks.index, citation });
    }
    sink.onPart({ type: 'hosted-tool-call', index: blocks.whole(sink), call: grounding.call });
    sink.onPart({ type: 'hosted-tool-result', index: blocks.whole(sink), result: grounding.result });
  }

  /** A signature Gemini attached to a non-thought part, carried in an empty reasoning block. */
  private signatureBlock(sink: PartSink, signature: string): void {
    const index = this.blocks.startReasoning(sink);
    sink.onPart({ type: 'reasoning-signature', index, signature });
    this.blocks.close(sink);
  }
}

/** `data: {"error": {...}}` in the middle of a stream. */
function midStreamError(raw: unknown): GatewayError {
  const error = objectFrom(raw);
  const code = typeof error?.code === 'number' ? error.code : 500;
  const message = typeof error?.message === 'string' ? error.message : 'unknown error';
  const limited = code === 429;
  return new GatewayError(ErrorCode.upstreamStatus, `The provider failed mid-stream: ${message}`, {
    status: limited ? 429 : code === 504 ? 504 : 502, origin: 'upstream', errorClass: limited ? 'rate-limited' : 'server-error', upstreamStatus: code,
  });
}
