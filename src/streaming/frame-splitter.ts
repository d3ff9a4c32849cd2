// Splits a stream at frame boundaries (SSE events, NDJSON lines) without decoding it, so a
// pass-through stream is forwarded whole frames at a time and a failure can never leave half a
// frame on the wire before the error event we append.

const LF = 0x0a;
const CR = 0x0d;

/** Index just past the last event terminator (blank line) in `chunk`, or -1. */
export function lastEventBoundary(chunk: Buffer): number {
  // A blank line ends an event: "\n\n" or "\n\r\n" (that is, the tail of "\r\n\r\n").
  // Bare-CR line endings are legal SSE but no provider sends them.
  for (let i = chunk.length - 1; i >= 1; i--) {
    if (chunk[i] !== LF) continue;
    const previous = chunk[i - 1];
    if (previous === LF) return i + 1;
    if (previous === CR && i >= 2 && chunk[i - 2] === LF) return i + 1;
  }
  return -1;
}

const LINE_FEED = 0x0a;

/** Index just past the last newline (NDJSON line boundary), or -1. */
export function lastLineBoundary(chunk: Buffer): number {
  const index = chunk.lastIndexOf(LINE_FEED);
  return index < 0 ? -1 : index + 1;
}

/**
 * Holds back an unterminated tail so only whole frames (SSE events, NDJSON lines) are forwarded.
 */
export class FrameSplitter {
  private pending: Buffer | undefined = undefined;
  private readonly boundary: (chunk: Buffer) => number;
  /** Bytes held back because they do not yet end a frame; bounded by `maxPending`. */
  private readonly maxPending: number;

  constructor(boundary: (chunk: Buffer) => number = lastEventBoundary, maxPending = 8 * 1024 * 1024) {
    this.boundary = boundary;
    this.maxPending = maxPending;
  }

  /**
   * Returns the complete frames now available (possibly several), or undefined when the input
   * so far ends mid-frame. Throws when an unterminated frame grows beyond the bound.
   */
  push(chunk: Buffer): Buffer | undefined {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    const boundary = this.boundary(data);
    if (boundary === data.length) {
      this.pending = undefined;
      return data;
    }
    if (boundary < 0) {
      if (data.length > this.maxPending) throw new RangeError('stream frame larger than the limit');
      this.pending = data;
      return undefined;
    }
    this.pending = data.subarray(boundary);
    return data.subarray(0, boundary);
  }

  /** Whatever arrived after the last complete event (an unterminated tail), if any. */
  get remainder(): Buffer | undefined {
    return this.pending;
  }
}
