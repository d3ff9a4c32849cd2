// The start of a line that has not ended yet, kept as the pieces that arrived (each byte is
// scanned once, by the decoder that owns this) and joined once, when the line ends. Shared by the
// SSE and NDJSON decoders; the pass-through frame splitter keeps whole frames its own way.

export class PendingLine {
  private pieces: Buffer[] = [];
  /** Bytes held. */
  bytes = 0;

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** Keeps `chunk[start..]` (the unterminated tail of a read). */
  hold(chunk: Buffer, start: number): void {
    this.pieces.push(start === 0 ? chunk : chunk.subarray(start));
    this.bytes += chunk.length - start;
  }

  /** The whole line: what is held, then `chunk[start, end)` (absent at the stream's end), decoded; nothing is held after. */
  take(chunk: Buffer | undefined, start: number, end: number): string {
    if (this.pieces.length === 0) return chunk === undefined ? '' : chunk.toString('utf8', start, end);
    if (chunk !== undefined && end > start) this.pieces.push(chunk.subarray(start, end));
    const text = Buffer.concat(this.pieces, this.bytes + end - start).toString('utf8');
    this.clear();
    return text;
  }

  clear(): void {
    this.pieces = [];
    this.bytes = 0;
  }
}
