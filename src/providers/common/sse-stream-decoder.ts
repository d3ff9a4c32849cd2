// What every SSE-based provider stream decoder shares: byte-level event parsing, the sink of the
// current push, and the rules that a stream stopping before its final event ends in an error part,
// never a clean end, and that a line or event past the frame limit ends it with one too. A dialect
// whose terminator follows its final event (OpenAI's [DONE], Anthropic's message_stop) overrides
// `onIncomplete` to end cleanly when only the terminator is missing.
import type { PartSink, StreamDecoder } from '../../canonical/adapters.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import { SseDecoder, type SseEventSink } from '../../streaming/sse-decoder.ts';
import { isObject, type JsonObject } from '../../util/json-value.ts';
import { protocolError } from './protocol-error.ts';
import { frameTooLargeError, incompleteStreamError } from './stream-errors.ts';

export abstract class SseStreamDecoder implements StreamDecoder, SseEventSink {
  private readonly sse = new SseDecoder();
  protected sink: PartSink | undefined = undefined;
  /** Set once the terminal part (response-end or error) has been emitted. */
  protected finished = false;
  /** The dialect's terminal event, named in the error when the stream stops early. */
  protected abstract readonly terminal: string;

  push(chunk: Buffer, sink: PartSink): void {
    this.sink = sink;
    this.sse.push(chunk, this);
  }

  end(sink: PartSink): void {
    this.sink = sink;
    this.sse.end(this);
    if (this.finished) return;
    this.finished = true;
    this.onIncomplete(sink);
  }

  /** The upstream stopped without its terminal event (an error part unless a dialect knows better). */
  protected onIncomplete(sink: PartSink): void {
    sink.onPart({ type: 'error', error: incompleteStreamError(this.terminal) });
  }

  /** Ends the stream with an error part; nothing more is emitted after it. */
  protected fail(sink: PartSink, error: GatewayError): void {
    this.finished = true;
    sink.onPart({ type: 'error', error });
  }

  /** An event's data as a JSON object; anything else ends the stream with a protocol error (then undefined). */
  protected eventObject(data: string): JsonObject | undefined {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      this.fail(this.sink!, protocolError('a stream event is not JSON'));
      return undefined;
    }
    if (isObject(event)) return event;
    this.fail(this.sink!, protocolError('a stream event is not a JSON object'));
    return undefined;
  }

  /** The upstream sent a line or event larger than the frame limit; the SSE decoder has stopped. */
  onOversized(limit: number): void {
    if (!this.finished) this.fail(this.sink!, frameTooLargeError(limit));
  }

  abstract onEvent(event: string, data: string): void;
}
