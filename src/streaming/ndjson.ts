// Newline-delimited JSON: one value per line (Ollama's streaming format).

export interface NdjsonSink {
  onValue(value: unknown): void;
  /** A line that is not JSON. */
  onMalformed(line: string, error: Error): void;
}

const LF = 0x0a;

export class NdjsonDecoder {
  private pending: Buffer | undefined = undefined;

  push(chunk: Buffer, sink: NdjsonSink): void {
    let buffer = chunk;
    if (this.pending !== undefined) {
      buffer = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let start = 0;
    for (let i = buffer.indexOf(LF); i >= 0; i = buffer.indexOf(LF, start)) {
      this.line(buffer.toString('utf8', start, i), sink);
      start = i + 1;
    }
    if (start < buffer.length) this.pending = buffer.subarray(start);
  }

  end(sink: NdjsonSink): void {
    if (this.pending === undefined) return;
    const rest = this.pending.toString('utf8');
    this.pending = undefined;
    this.line(rest, sink);
  }

  private line(text: string, sink: NdjsonSink): void {
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
}
