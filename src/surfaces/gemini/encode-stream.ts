// Canonical stream parts → Gemini stream chunks. Every chunk is a whole GenerateContentResponse
// carrying the new parts only; `?alt=sse` frames them as `data:` events, otherwise they form one
// JSON array written element by element (`[{…}`, `,\r\n{…}`, …, `]`). A function call reaches a
// Gemini client whole, as Gemini sends it, so its streamed argument deltas are gathered first.
// A web search the provider ran goes out as grounding metadata on the last chunk, as Gemini's
// does; only then is the answer's text followed (to place the citations, in UTF-8 bytes).
import type { StreamEncoder } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { Citation } from '../../canonical/request.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import { geminiErrorObject, geminiSseError } from './encode-error.ts';
import { functionCallPart, geminiFinishReason, geminiUsage, GroundingBuilder } from './encode-response.ts';
import { redactedSignature } from './fields.ts';
import type { JsonObject } from '../../util/json-value.ts';

export type GeminiStreamMode = 'sse' | 'array';

export class GeminiStreamEncoder implements StreamEncoder {
  readonly contentType: string;
  private readonly array: boolean;
  /** `,"modelVersion":…,"responseId":…}`: the tail every chunk shares. */
  private tail = '}';
  private opened = false;
  private needComma = false;
  private usage = '';
  private blockHasText = false;
  /** A signature from an empty reasoning block, waiting for the part it belongs to. */
  private pendingSignature: string | undefined = undefined;
  private toolId = '';
  private toolName = '';
  private toolArguments = '';
  private malformed = false;
  /** Set when the request asked for a web search. */
  private readonly grounding: GroundingBuilder | undefined;
  /** The open text block, where it starts in the answer's text (bytes), and its citations (placed as it ends). */
  private blockText = '';
  private blockStart = 0;
  private textBytes = 0;
  private blockCitations: Citation[] | undefined = undefined;

  constructor(mode: GeminiStreamMode, webSearch = false) {
    this.array = mode === 'array';
    this.contentType = this.array ? 'application/json; charset=UTF-8' : 'text/event-stream';
    this.grounding = webSearch ? new GroundingBuilder() : undefined;
  }

  /** The open text block's citations, placed now its text is known. */
  private endBlock(): void {
    const citations = this.blockCitations;
    if (citations === undefined) return;
    this.blockCitations = undefined;
    for (const citation of citations) this.grounding!.citation(citation, this.blockText, this.blockStart);
  }

  private frame(json: string): string {
    if (!this.array) return `data: ${json}\n\n`;
    let prefix = '';
    if (!this.opened) {
      prefix = '[';
      this.opened = true;
    } else if (this.needComma) prefix = ',\r\n';
    this.needComma = true;
    return prefix + json;
  }

  private chunk(part: JsonObject): string {
    return this.frame(`{"candidates":[{"content":{"parts":[${JSON.stringify(part)}],"role":"model"},"index":0}]${this.usage}${this.tail}`);
  }

  private flushPending(): string {
    const signature = this.pendingSignature;
    if (signature === undefined) return '';
    this.pendingSignature = undefined;
    return this.chunk({ text: '', thoughtSignature: signature });
  }

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start':
        this.tail = `,"modelVersion":${JSON.stringify(part.model)},"responseId":${JSON.stringify(part.id)}}`;
        if (this.array && !this.opened) {
          this.opened = true;
          return '[';
        }
        return '';
      case 'text-start':
        if (this.grounding !== undefined) {
          this.blockStart = this.textBytes;
          this.blockText = '';
        }
        return '';
      case 'text-end':
        if (this.grounding !== undefined) this.endBlock();
        return '';
      case 'text-citation':
        if (this.grounding !== undefined) (this.blockCitations ??= []).push(part.citation);
        return '';
      case 'hosted-tool-call':
        this.grounding?.call(part.call);
        return '';
      case 'hosted-tool-result':
        this.grounding?.result(part.result);
        return '';
      case 'text-delta': {
        if (part.delta.length === 0) return '';
        if (this.grounding !== undefined) {
          this.blockText += part.delta;
          this.textBytes += Buffer.byteLength(part.delta, 'utf8');
        }
        const text: JsonObject = { text: part.delta };
        if (this.pendingSignature !== undefined) {
          text.thoughtSignature = this.pendingSignature;
          this.pendingSignature = undefined;
        }
        return this.chunk(text);
      }
      case 'reasoning-start': {
        const out = this.flushPending();
        this.blockHasText = part.redactedData !== undefined;
        if (part.redactedData === undefined) return out;
        return out + this.chunk({ text: '', thought: true, thoughtSignature: redactedSignature(part.redactedData) });
      }
      case 'reasoning-delta':
        if (part.delta.length === 0) return '';
        this.blockHasText = true;
        return this.chunk({ text: part.delta, thought: true });
      case 'reasoning-signature': {
        if (this.blockHasText) return this.chunk({ text: '', thought: true, thoughtSignature: part.signature });
        const out = this.flushPending();
        this.pendingSignature = part.signature;
        return out;
      }
      case 'tool-call-start':
        this.toolId = part.id;
        this.toolName = part.name;
        this.toolArguments = '';
        return '';
      case 'tool-call-delta':
        this.toolArguments += part.argumentsDelta;
        return '';
      case 'tool-call-end': {
        let args: unknown;
        try {
          args = this.toolArguments.trim().length === 0 ? {} : JSON.parse(this.toolArguments);
        } catch {
          this.malformed = true;
          return '';
        }
        const signature = this.pendingSignature;
        this.pendingSignature = undefined;
        return this.chunk(functionCallPart(this.toolId, this.toolName, args, signature));
      }
      case 'usage':
        this.usage = `,"usageMetadata":${JSON.stringify(geminiUsage(part.usage))}`;
        return '';
      case 'response-end': {
        if (part.usage !== undefined) this.usage = `,"usageMetadata":${JSON.stringify(geminiUsage(part.usage))}`;
        const finish = this.malformed && part.finishReason !== 'length' ? 'MALFORMED_FUNCTION_CALL' : geminiFinishReason(part.finishReason, part.rawFinishReason);
        const signature = this.pendingSignature;
        this.pendingSignature = undefined;
        const content = signature === undefined ? '' : `"content":{"parts":[${JSON.stringify({ text: '', thoughtSignature: signature })}],"role":"model"},`;
        let grounding = '';
        if (this.grounding !== undefined) {
          this.endBlock();
          const metadata = this.grounding.metadata();
          if (metadata !== undefined) grounding = `"groundingMetadata":${JSON.stringify(metadata)},`;
        }
        const out = this.frame(`{"candidates":[{${content}"finishReason":"${finish}",${grounding}"index":0}]${this.usage}${this.tail}`);
        return this.array ? out + ']' : out;
      }
      case 'error':
        return this.encodeError(part.error);
      case 'reasoning-end':
        return '';
    }
  }

  encodeError(error: ErrorInfo): string {
    if (!this.array) return geminiSseError(error);
    const prefix = !this.opened ? '[' : this.needComma ? ',\r\n' : '';
    this.opened = true;
    return `${prefix}${JSON.stringify({ error: geminiErrorObject(error) })}]`;
  }
}
