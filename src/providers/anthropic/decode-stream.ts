// Anthropic Messages SSE → canonical stream parts. Anthropic's lifecycle maps one to one:
// message_start → response-start (+ usage), content_block_start/delta/stop → <kind>-start/delta/end,
// message_delta → usage (and the stop reason, held), message_stop → response-end. A stream that
// stops without message_stop ends with an error part, unless message_delta brought its stop reason:
// then the answer was whole and it ends as if message_stop had come.
import type { PartSink } from '../../canonical/adapters.ts';
import type { FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { finishReasonFrom, usageFrom } from './decode-response.ts';
import { streamError } from './errors.ts';
import { SseStreamDecoder } from '../common/sse-stream-decoder.ts';
import { ContentBlocks } from '../common/content-blocks.ts';
import { isObject, type JsonObject, listFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { isServerToolCall, isServerToolResult, serverToolCall, serverToolResult, webCitation } from '../../util/server-tool-blocks.ts';

/** A server tool's streamed input beyond this is not kept (a query is a few dozen bytes). */
const SERVER_INPUT_LIMIT = 64 * 1024;

export class MessagesStreamDecoder extends SseStreamDecoder {
  protected readonly terminal = 'message_stop';
  private started = false;
  /** The open block; its canonical index may lag Anthropic's, since server-tool blocks are skipped. */
  private readonly blocks = new ContentBlocks();
  private finishReason: FinishReason = 'other';
  private rawFinishReason: string | undefined = undefined;
  private stopSequence: string | undefined = undefined;
  /** Anthropic's own usage figures, merged as they come (message_delta carries cumulative totals). */
  private readonly rawUsage: JsonObject = {};
  private usage: Usage | undefined = undefined;
  /** A server_tool_use block being read: its start, and its input as streamed (sent whole at its stop). */
  private serverCall: JsonObject | undefined = undefined;
  private serverInput = '';

  onEvent(_event: string, data: string): void {
    if (this.finished) return;
    const sink = this.sink!;
    const event = this.eventObject(data);
    if (event === undefined) return;
    switch (event.type) {
      case 'message_start':
        this.start(sink, isObject(event.message) ? event.message : {});
        return;
      case 'content_block_start':
        this.ensureStarted(sink);
        this.blockStart(sink, isObject(event.content_block) ? event.content_block : {});
        return;
      case 'content_block_delta':
        this.blockDelta(sink, isObject(event.delta) ? event.delta : {});
        return;
      case 'content_block_stop':
        if (this.serverCall !== undefined) this.serverCallDone(sink);
        this.blocks.close(sink);
        return;
      case 'message_delta':
        this.ensureStarted(sink);
        this.messageDelta(sink, event);
        return;
      case 'message_stop':
        this.finish(sink);
        return;
      case 'error':
        this.fail(sink, streamError(event));
        return;
      default:
        return; // ping, and event types newer than this decoder
    }
  }

  /** Closed without message_stop: complete when message_delta brought the stop_reason (nothing but message_stop follows it). */
  protected override onIncomplete(sink: PartSink): void {
    if (this.rawFinishReason === undefined) super.onIncomplete(sink);
    else this.finish(sink);
  }

  private finish(sink: PartSink): void {
    this.ensureStarted(sink);
    this.blocks.close(sink);
    this.finished = true;
    sink.onPart({
      type: 'response-end', finishReason: this.finishReason,
      ...(this.rawFinishReason !== undefined ? { rawFinishReason: this.rawFinishReason } : {}),
      ...(this.stopSequence !== undefined ? { stopSequence: this.stopSequence } : {}),
      ...(this.usage !== undefined ? { usage: this.usage } : {}),
    });
  }

  private start(sink: PartSink, message: JsonObject): void {
    if (this.started) return;
    this.started = true;
    sink.onPart({ type: 'response-start', id: textFrom(message.id, 'msg_switchyard'), model: textFrom(message.model), created: Math.floor(Date.now() / 1000) });
    if (isObject(message.usage)) this.mergeUsage(sink, message.usage);
  }

  private ensureStarted(sink: PartSink): void {
    if (!this.started) this.start(sink, {});
  }

  private mergeUsage(sink: PartSink, usage: JsonObject): void {
    for (const key of Object.keys(usage)) if (usage[key] !== null && usage[key] !== undefined) this.rawUsage[key] = usage[key];
    this.usage = usageFrom(this.rawUsage);
    if (this.usage !== undefined) sink.onPart({ type: 'usage', usage: this.usage });
  }

  private blockStart(sink: PartSink, block: JsonObject): void {
    const blocks = this.blocks;
    switch (block.type) {
      case 'text': {
        const index = blocks.startText(sink);
        for (const raw of listFrom(block.citations)) {
          const citation = webCitation(raw);
          if (citation !== undefined) sink.onPart({ type: 'text-citation', index, citation });
        }
        if (typeof block.text === 'string' && block.text.length > 0) sink.onPart({ type: 'text-delta', index, delta: block.text });
        return;
      }
      case 'thinking': {
        const index = blocks.startReasoning(sink);
        if (typeof block.thinking === 'string' && block.thinking.length > 0) sink.onPart({ type: 'reasoning-delta', index, delta: block.thinking });
        if (typeof block.signature === 'string' && block.signature.length > 0) sink.onPart({ type: 'reasoning-signature', index, signature: block.signature });
        return;
      }
      case 'redacted_thinking':
        blocks.startReasoning(sink, textFrom(block.data));
        return;
      case 'tool_use': {
        const index = blocks.startTool(sink, textFrom(block.id, `toolu_${blocks.nextIndex}`), textFrom(block.name));
        // the input normally streams as input_json_delta; a start that already holds it is sent as one delta
        const input = block.input;
        if (input !== undefined && input !== null && typeof input === 'object' && Object.keys(input).length > 0) {
          sink.onPart({ type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(input) });
        }
        return;
      }
      default:
        // server tool blocks (server_tool_use, web_search_tool_result, …): run by Anthropic, not the
        // caller's to run; each becomes one whole hosted-tool part
        blocks.skip(sink);
        if (isServerToolCall(block.type)) {
          this.serverCall = block;
          this.serverInput = '';
        } else if (isServerToolResult(block.type)) {
          sink.onPart({ type: 'hosted-tool-result', index: blocks.whole(sink), result: serverToolResult(block) });
          blocks.skip(sink);
        }
    }
  }

  /** The call's input arrives as JSON deltas; the canonical call carries it whole. */
  private serverCallDone(sink: PartSink): void {
    const block = this.serverCall!;
    this.serverCall = undefined;
    let input: JsonObject | undefined = objectFrom(block.input);
    if (this.serverInput.length > 0) {
      try {
        input = objectFrom(JSON.parse(this.serverInput));
      } catch {
        // a malformed input is shown as none: the call already ran upstream
      }
    }
    const call = serverToolCall(this.serverInput.length > 0 && input !== undefined ? { ...block, input } : block, input ?? {});
    sink.onPart({ type: 'hosted-tool-call', index: this.blocks.whole(sink), call });
  }

  private blockDelta(sink: PartSink, delta: JsonObject): void {
    const index = this.blocks.index;
    switch (this.blocks.open) {
      case 'text':
        if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) sink.onPart({ type: 'text-delta', index, delta: delta.text });
        else if (delta.type === 'citations_delta') {
          const citation = webCitation(delta.citation);
          if (citation !== undefined) sink.onPart({ type: 'text-citation', index, citation });
        }
        return;
      case 'reasoning':
        if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string' && delta.thinking.length > 0) sink.onPart({ type: 'reasoning-delta', index, delta: delta.thinking });
        else if (delta.type === 'signature_delta' && typeof delta.signature === 'string') sink.onPart({ type: 'reasoning-signature', index, signature: delta.signature });
        return;
      case 'tool':
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json.length > 0) sink.onPart({ type: 'tool-call-delta', index, argumentsDelta: delta.partial_json });
        return;
      case 'skipped':
        if (this.serverCall !== undefined && delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && this.serverInput.length < SERVER_INPUT_LIMIT) this.serverInput += delta.partial_json;
        return;
      case 'none':
        return;
    }
  }

  private messageDelta(sink: PartSink, event: JsonObject): void {
    const delta: JsonObject = isObject(event.delta) ? event.delta : {};
    if (typeof delta.stop_reason === 'string') {
      this.finishReason = finishReasonFrom(delta.stop_reason);
      this.rawFinishReason = delta.stop_reason;
    }
    if (typeof delta.stop_sequence === 'string') this.stopSequence = delta.stop_sequence;
    if (isObject(event.usage)) this.mergeUsage(sink, event.usage);
  }
}
