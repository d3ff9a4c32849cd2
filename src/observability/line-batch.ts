// The access log's write path: lines gathered into 64 KB buffers before sonic-boom (see below).

/** Lines are gathered in a buffer of this size and handed to sonic-boom a buffer at a time. */
const CHUNK_BYTES = 65536;

export interface Boom {
  write(data: Buffer): boolean;
  flush(cb?: (error?: Error | null) => void): void;
  flushSync(): void;
}

/**
 * Gathers lines (UTF-8) into one buffer and hands sonic-boom (in buffer mode) a full buffer at a
 * time, or what there is on `flush()`. sonic-boom's string mode measures the byte length of its
 * whole pending string on every write (flattening it: O(buffer) per line), which cost ~6 µs a line
 * at the access log's rate; here a line costs one copy. Measured with a loop of 300,000 access
 * lines into a file: ~8.5 µs a line through sonic-boom's string mode, ~2.8 µs gathered here
 * (1.9 µs of which is building the line).
 */
export class LineBatch {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly target: Boom;

  constructor(target: Boom) {
    this.target = target;
    // runs after pino's own exit hook has flushed the target: writes whatever is still gathered
    process.once('exit', () => this.flushSync());
  }

  write(line: string): boolean {
    // a UTF-16 unit is at most 3 UTF-8 bytes
    if (this.used + line.length * 3 > CHUNK_BYTES) {
      this.handOver();
      if (line.length * 3 > CHUNK_BYTES) {
        this.target.write(Buffer.from(line, 'utf8'));
        return true;
      }
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    return true;
  }

  /** Hands the full buffer over (the destination keeps it until written) and starts a new one. */
  private handOver(): void {
    if (this.used === 0) return;
    this.target.write(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }

  /** Hands a copy of what is gathered to the destination (which writes it asynchronously). */
  drain(): void {
    if (this.used === 0) return;
    this.target.write(Buffer.from(this.buffer.subarray(0, this.used)));
    this.used = 0;
  }

  flush(cb?: (error?: Error | null) => void): void {
    this.drain();
    this.target.flush(cb);
  }

  flushSync(): void {
    try {
      this.drain();
      this.target.flushSync();
    } catch {
      // not open yet, or already closed: nothing more can be written
    }
  }
}
