// Canonical stream parts → Gemini stream chunks. Every chunk is a whole GenerateContentResponse
// carrying the new parts only; `?alt=sse` frames them as `data:` events, otherwise they form one
// JSON array written element by element (`[{…}`, `,\r\n{…}`, …, `]`). A function call reaches a
// Gemini client whole, as Gemini sends it, so its streamed argument deltas are gathered first.
import type { StreamEncoder } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import { geminiErrorObject, geminiSseError } from './encode-error.ts';
import { functionCallPart, geminiFinishReason, geminiUsage } from './encode-response.ts';
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

  constructor(mode: GeminiStreamMode) {
    this.array = mode === 'array';
    this.contentType = this.array ? 'application/json; charset=UTF-8' : 'text/event-stream';
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
      case 'text-delta': {
        if (part.delta.length === 0) return '';
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
        const out = this.frame(`{"candidates":[{${content}"finishReason":"${finish}","index":0}]${this.usage}${this.tail}`);
        return this.array ? out + ']' : out;
      }
      case 'error':
        return this.encodeError(part.error);
      case 'text-start':
      case 'text-end':
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
