// A byte-level SSE parser (WHATWG event-stream rules): fields `event`, `data` (multi-line
// joined with \n), comments ignored, an event dispatched on a blank line. Bytes are decoded to
// text per complete line only, so multi-byte characters split across chunks stay intact.

export interface SseEventSink {
  onEvent(event: string, data: string): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseDecoder {
  private pending: Buffer | undefined = undefined;
  private eventName = '';
  private data: string[] = [];
  private hasData = false;
  /** True once any complete event was dispatched. */
  dispatched = 0;

  push(chunk: Buffer, sink: SseEventSink): void {
    let buffer = chunk;
    if (this.pending !== undefined) {
      buffer = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let start = 0;
    const length = buffer.length;
    for (let i = 0; i < length; i++) {
      const byte = buffer[i];
      if (byte !== LF && byte !== CR) continue;
      let end = i;
      if (byte === CR) {
        if (i + 1 >= length) {
          // a CR at the end of the chunk may be half of CRLF: keep the line for the next chunk
          this.pending = buffer.subarray(start);
          return;
        }
        if (buffer[i + 1] === LF) i++;
      }
      this.line(buffer.toString('utf8', start, end), sink);
      start = i + 1;
    }
    if (start < length) this.pending = buffer.subarray(start);
  }

  /** Dispatches a final event left without its blank line (lenient, as some servers end so). */
  end(sink: SseEventSink): void {
    if (this.pending !== undefined) {
      const rest = this.pending.toString('utf8').replace(/\r$/, '');
      this.pending = undefined;
      if (rest.length > 0) this.line(rest, sink);
    }
    if (this.hasData) this.line('', sink);
  }

  private line(line: string, sink: SseEventSink): void {
    if (line.length === 0) {
      if (this.hasData) {
        const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
        const name = this.eventName;
        this.data = [];
        this.hasData = false;
        this.eventName = '';
        this.dispatched++;
        sink.onEvent(name, data);
      } else {
        this.eventName = '';
      }
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* : */) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') {
      this.eventName = value;
    }
  }
}

/** `data: <json>\n\n`, optionally with an `event:` line. */
export function sseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
