// Newline-delimited JSON: one value per line (Ollama's streaming format). Every byte is scanned
// once: an unterminated line is kept as the pieces that arrived and joined when its newline
// comes, and a line growing past the frame limit stops the decoder.
import { MAX_FRAME_BYTES } from './frame-limit.ts';
import { PendingLine } from './pending-line.ts';

export interface NdjsonSink {
  onValue(value: unknown): void;
  /** A line that is not JSON. */
  onMalformed(line: string, error: Error): void;
  /** A line passed `limit` bytes: the decoder has stopped and delivers nothing more. */
  onOversized(limit: number): void;
}

const LF = 0x0a;

export class NdjsonDecoder {
  /** The start of a line not ended yet, as it arrived (already scanned). */
  private readonly pending = new PendingLine();
  private readonly limit: number;
  private stopped = false;

  constructor(limit: number = MAX_FRAME_BYTES) {
    this.limit = limit;
  }

  push(chunk: Buffer, sink: NdjsonSink): void {
    const length = chunk.length;
    if (this.stopped || length === 0) return;
    let start = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, start)) {
      this.line(chunk, start, i, sink);
      if (this.stopped) return;
      start = i + 1;
    }
    if (start < length) {
      this.pending.hold(chunk, start);
      if (this.pending.bytes > this.limit) this.oversized(sink);
    }
  }

  end(sink: NdjsonSink): void {
    if (this.stopped || this.pending.empty) return;
    this.line(undefined, 0, 0, sink);
  }

  /** One complete line: the pending pieces, then `chunk[start, end)`. */
  private line(chunk: Buffer | undefined, start: number, end: number, sink: NdjsonSink): void {
    const bytes = this.pending.bytes + end - start;
    if (bytes > this.limit) {
      this.oversized(sink);
      return;
    }
    const text = this.pending.take(chunk, start, end);
    const line = text.trim();
    if (line.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      sink.onMalformed(line, error as Error);
      return;
    }
    sink.onValue(value);
  }

  private oversized(sink: NdjsonSink): void {
    this.stopped = true;
    this.pending.clear();
    sink.onOversized(this.limit);
  }
}
