// A byte-level SSE parser (WHATWG event-stream rules): fields `event`, `data` (multi-line
// joined with \n), comments ignored, an event dispatched on a blank line. Bytes are decoded to
// text per complete line only, so multi-byte characters split across chunks stay intact.
// Every byte is scanned once: an unterminated line is kept as the pieces that arrived and joined
// when its end comes, and a line or an event growing past the frame limit stops the decoder.
import { MAX_FRAME_BYTES } from './frame-limit.ts';
import { PendingLine } from './pending-line.ts';

export interface SseEventSink {
  onEvent(event: string, data: string): void;
  /** A line or an event's data passed `limit` bytes: the decoder has stopped and delivers nothing more. */
  onOversized(limit: number): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseDecoder {
  /** The start of a line not ended yet, as it arrived (already scanned). */
  private readonly pending = new PendingLine();
  /** The last chunk ended with CR: an LF opening the next one completes that CRLF. */
  private afterCr = false;
  private eventName = '';
  private data: string[] = [];
  private hasData = false;
  /** Bytes of the data lines of the event being read. */
  private dataBytes = 0;
  private readonly limit: number;
  /** The frame limit was passed: the stream is over for this decoder. */
  private stopped = false;

  constructor(limit: number = MAX_FRAME_BYTES) {
    this.limit = limit;
  }

  push(chunk: Buffer, sink: SseEventSink): void {
    const length = chunk.length;
    if (this.stopped || length === 0) return;
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (chunk[0] === LF) start = 1;
    }
    // the next CR and LF at or after `start`, each searched again only once passed
    let lf = chunk.indexOf(LF, start);
    let cr = chunk.indexOf(CR, start);
    while (lf >= 0 || cr >= 0) {
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 === length) {
          // maybe half of a CRLF: the line is complete either way, the LF is skipped when it comes
          this.afterCr = true;
          next = length;
        } else {
          next = chunk[cr + 1] === LF ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(chunk, start, end, sink);
      if (this.stopped) return;
      start = next;
      if (lf >= 0 && lf < start) lf = chunk.indexOf(LF, start);
      if (cr >= 0 && cr < start) cr = chunk.indexOf(CR, start);
    }
    if (start < length) {
      this.pending.hold(chunk, start);
      if (this.pending.bytes > this.limit) this.oversized(sink);
    }
  }

  /** Dispatches a final event left without its blank line (lenient, as some servers end so). */
  end(sink: SseEventSink): void {
    if (this.stopped) return;
    this.afterCr = false;
    if (!this.pending.empty) {
      this.line(undefined, 0, 0, sink);
      if (this.stopped) return;
    }
    if (this.hasData) this.dispatch(sink);
  }

  /** One complete line: the pending pieces, then `chunk[start, end)`. */
  private line(chunk: Buffer | undefined, start: number, end: number, sink: SseEventSink): void {
    const bytes = this.pending.bytes + end - start;
    if (bytes > this.limit) {
      this.oversized(sink);
      return;
    }
    const text = this.pending.take(chunk, start, end);
    if (text.length === 0) {
      this.dispatch(sink);
      return;
    }
    if (text.charCodeAt(0) === 0x3a /* : */) return; // comment / keep-alive
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') {
      this.dataBytes += bytes;
      if (this.dataBytes > this.limit) {
        this.oversized(sink);
        return;
      }
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') {
      this.eventName = value;
    }
  }

  /** A blank line: the event read so far (if it has data) goes to the sink. */
  private dispatch(sink: SseEventSink): void {
    const name = this.eventName;
    this.eventName = '';
    if (!this.hasData) return;
    const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    this.data = [];
    this.hasData = false;
    this.dataBytes = 0;
    sink.onEvent(name, data);
  }

  private oversized(sink: SseEventSink): void {
    this.stopped = true;
    this.pending.clear();
    this.data = [];
    this.hasData = false;
    sink.onOversized(this.limit);
  }
}

/** `data: <json>\n\n`, optionally with an `event:` line. */
export function sseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
