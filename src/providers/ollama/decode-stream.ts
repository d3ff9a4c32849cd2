// Ollama's NDJSON stream → canonical stream parts. Each line is a whole object; the line with
// `done: true` is the terminal event and carries the counts. Thinking and text arrive as deltas;
// tool calls arrive whole, so each becomes start + one delta + end at once.
import type { PartSink, StreamDecoder } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { NdjsonDecoder, type NdjsonSink } from '../../streaming/ndjson.ts';
import { frameTooLargeError, incompleteStreamError } from '../common/stream-errors.ts';
import { ContentBlocks } from '../common/content-blocks.ts';
import { isObject, type JsonObject, textFrom } from '../../util/json-value.ts';
import { argumentsText, createdFrom, finishReasonFrom, functionOf, newId, toolCallId, usageFrom } from './decode-response.ts';
import { protocolError } from '../common/protocol-error.ts';

export class OllamaStreamDecoder implements StreamDecoder, NdjsonSink {
  private readonly ndjson = new NdjsonDecoder();
  private sink: PartSink | undefined = undefined;
  private started = false;
  private finished = false;
  private readonly blocks = new ContentBlocks();
  private sawToolCalls = false;

  push(chunk: Buffer, sink: PartSink): void {
    this.sink = sink;
    this.ndjson.push(chunk, this);
  }

  end(sink: PartSink): void {
    this.sink = sink;
    this.ndjson.end(this);
    if (this.finished) return;
    this.fail(incompleteStreamError('line with "done": true'));
  }

  onMalformed(_line: string, _error: Error): void {
    if (!this.finished) this.fail(protocolError('a stream line is not JSON'));
  }

  onOversized(limit: number): void {
    if (!this.finished) this.fail(frameTooLargeError(limit));
  }

  onValue(line: unknown): void {
    if (this.finished) return;
    const sink = this.sink!;
    if (!isObject(line)) {
      this.fail(protocolError('a stream line is not a JSON object'));
      return;
    }
    if (line.error !== undefined) {
      const message = typeof line.error === 'string' ? line.error : JSON.stringify(line.error);
      this.fail(new GatewayError(ErrorCode.upstreamStatus, `The provider failed mid-stream: ${message}`, { status: 502, origin: 'upstream', errorClass: 'server-error' }));
      return;
    }
    if (!this.started) {
      this.started = true;
      sink.onPart({ type: 'response-start', id: newId('ollama-'), model: textFrom(line.model), created: createdFrom(line) });
    }
    const message: JsonObject = isObject(line.message) ? line.message : {};
    // /api/chat streams `message`; /api/generate streams top-level `response` and `thinking`
    const thinking = message.thinking ?? line.thinking;
    const blocks = this.blocks;
    if (typeof thinking === 'string' && thinking.length > 0) {
      const index = blocks.ensure(sink, 'reasoning');
      sink.onPart({ type: 'reasoning-delta', index, delta: thinking });
    }
    const text = typeof message.content === 'string' ? message.content : line.response;
    if (typeof text === 'string' && text.length > 0) {
      const index = blocks.ensure(sink, 'text');
      sink.onPart({ type: 'text-delta', index, delta: text });
    }
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) {
        this.sawToolCalls = true;
        const fn = functionOf(call);
        // a call arrives whole: start, its arguments, end
        const index = blocks.startTool(sink, toolCallId(call), textFrom(fn?.name));
        sink.onPart({ type: 'tool-call-delta', index, argumentsDelta: argumentsText(fn?.arguments) });
        blocks.close(sink);
      }
    }
    if (line.done === true) {
      blocks.close(sink);
      this.finished = true;
      sink.onPart({
        type: 'response-end',
        finishReason: finishReasonFrom(line.done_reason, this.sawToolCalls),
        ...(typeof line.done_reason === 'string' ? { rawFinishReason: line.done_reason } : {}),
        usage: usageFrom(line),
      });
    }
  }

  private fail(error: GatewayError): void {
    this.finished = true;
    this.sink!.onPart({ type: 'error', error });
  }
}
