// Canonical stream parts → Anthropic Messages SSE: message_start, then each content block as
// content_block_start / deltas / content_block_stop with its own index, then message_delta
// (stop reason and the final usage) and message_stop. Every event carries its `event:` line: the
// Anthropic SDK ignores events without one.
import type { StreamEncoder } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { Usage } from '../../canonical/usage.ts';
import { encodeAnthropicStreamError } from './encode-error.ts';
import { anthropicStopReason, anthropicUsage, citationBlock, serverToolResultBlock, serverToolUseBlock } from './encode-response.ts';

type OpenBlock = 'none' | 'text' | 'thinking' | 'redacted' | 'tool' | 'server';

const EMPTY_USAGE = '{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}';

export class MessagesStreamEncoder implements StreamEncoder {
  readonly contentType = 'text/event-stream';
  private index = -1;
  private open: OpenBlock = 'none';
  private usage: Usage | undefined = undefined;
  private sawToolCall = false;

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start':
        // usage is rarely known this early; the final figures go in message_delta, which the SDK merges
        return `event: message_start\ndata: {"type":"message_start","message":{"id":${JSON.stringify(part.id)},"type":"message","role":"assistant","model":${JSON.stringify(part.model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":${EMPTY_USAGE}}}\n\n`;
      case 'text-start':
        return this.start('text', '{"type":"text","text":""}');
      case 'text-delta':
        return part.delta.length === 0 ? '' : this.delta(`{"type":"text_delta","text":${JSON.stringify(part.delta)}}`);
      case 'text-citation':
        return this.open !== 'text' ? '' : this.delta(`{"type":"citations_delta","citation":${JSON.stringify(citationBlock(part.citation))}}`);
      case 'hosted-tool-call': {
        // a whole block: its input as one delta, as Anthropic streams server_tool_use
        const block = serverToolUseBlock(part.call);
        if (block === undefined) return '';
        const input = JSON.stringify(block.input ?? {});
        return this.start('server', JSON.stringify({ ...block, input: {} })) + this.delta(`{"type":"input_json_delta","partial_json":${JSON.stringify(input)}}`) + this.stop();
      }
      case 'hosted-tool-result': {
        const block = serverToolResultBlock(part.result);
        return block === undefined ? '' : this.start('server', JSON.stringify(block)) + this.stop();
      }
      case 'reasoning-start':
        if (part.redactedData !== undefined) return this.start('redacted', `{"type":"redacted_thinking","data":${JSON.stringify(part.redactedData)}}`);
        return this.start('thinking', '{"type":"thinking","thinking":"","signature":""}');
      case 'reasoning-delta':
        return part.delta.length === 0 || this.open !== 'thinking' ? '' : this.delta(`{"type":"thinking_delta","thinking":${JSON.stringify(part.delta)}}`);
      case 'reasoning-signature':
        return this.open !== 'thinking' ? '' : this.delta(`{"type":"signature_delta","signature":${JSON.stringify(part.signature)}}`);
      case 'tool-call-start':
        this.sawToolCall = true;
        return this.start('tool', `{"type":"tool_use","id":${JSON.stringify(part.id)},"name":${JSON.stringify(part.name)},"input":{}}`);
      case 'tool-call-delta':
        return part.argumentsDelta.length === 0 ? '' : this.delta(`{"type":"input_json_delta","partial_json":${JSON.stringify(part.argumentsDelta)}}`);
      case 'text-end':
      case 'reasoning-end':
      case 'tool-call-end':
        return this.stop();
      case 'usage':
        this.usage = this.usage === undefined ? part.usage : { ...this.usage, ...part.usage };
        return '';
      case 'response-end': {
        const usage = part.usage ?? this.usage;
        const stopReason = anthropicStopReason(part.finishReason, part.rawFinishReason, part.stopSequence, this.sawToolCall);
        const delta = `{"stop_reason":${JSON.stringify(stopReason)},"stop_sequence":${part.stopSequence === undefined ? 'null' : JSON.stringify(part.stopSequence)}}`;
        return `${this.stop()}event: message_delta\ndata: {"type":"message_delta","delta":${delta},"usage":${JSON.stringify(anthropicUsage(usage))}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
      }
      case 'error':
        return this.encodeError(part.error);
    }
  }

  encodeError(error: ErrorInfo): string {
    return encodeAnthropicStreamError(error);
  }

  private start(kind: OpenBlock, block: string): string {
    const closing = this.stop();
    this.index++;
    this.open = kind;
    return `${closing}event: content_block_start\ndata: {"type":"content_block_start","index":${this.index},"content_block":${block}}\n\n`;
  }

  private delta(delta: string): string {
    if (this.open === 'none') return '';
    return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":${delta}}\n\n`;
  }

  private stop(): string {
    if (this.open === 'none') return '';
    this.open = 'none';
    return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.index}}\n\n`;
  }
}
