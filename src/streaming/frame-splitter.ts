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

const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * A cheap structural check of whole SSE events whose data is JSON (every dialect we pass through):
 * each event's data must open with `{` or `[` and close with the matching bracket. Catches a
 * frame cut or garbled mid-JSON without parsing it; multi-line data is checked as one value.
 * Returns how many leading bytes hold only events that pass (`frames.length` when all do), so
 * the good events before a broken one can still be forwarded.
 */
export function sseWholePrefix(frames: Buffer): number {
  const length = frames.length;
  let first = -1;
  let last = -1;
  let start = 0;
  /** Start of the event being read: the prefix ends here if it turns out broken. */
  let eventStart = 0;
  while (start <= length) {
    let end = frames.indexOf(LF, start);
    if (end < 0) end = length;
    let lineEnd = end;
    if (lineEnd > start && frames[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === start) {
      // blank line: the event ends
      if (first !== -1 && !wholeJson(first, last)) return eventStart;
      first = -1;
      last = -1;
      eventStart = Math.min(end + 1, length);
    } else if (lineEnd - start >= 5 && frames[start] === 0x64 && frames[start + 1] === 0x61 && frames[start + 2] === 0x74 && frames[start + 3] === 0x61 && frames[start + 4] === 0x3a) {
      let i = start + 5;
      if (frames[i] === SPACE) i++;
      if (i < lineEnd) {
        if (first === -1) first = frames[i]!;
        last = frames[lineEnd - 1]!;
      }
    }
    if (end === length) break;
    start = end + 1;
  }
  return first === -1 || wholeJson(first, last) ? length : eventStart;
}

function wholeJson(first: number, last: number): boolean {
  return first === OPEN_BRACE ? last === CLOSE_BRACE : first === OPEN_BRACKET && last === CLOSE_BRACKET;
}

/** Whether every event in `frames` passes the check of `sseWholePrefix`. */
export function sseDataLooksWhole(frames: Buffer): boolean {
  return sseWholePrefix(frames) === frames.length;
}
