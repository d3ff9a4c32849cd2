// Splits a stream at frame boundaries (SSE events, NDJSON lines) without decoding it, so a
// pass-through stream is forwarded whole frames at a time and a failure can never leave half a
// frame on the wire before the error event we append. Each byte is scanned for a boundary once:
// an unterminated frame is kept as the chunks that arrived, joined when its end comes.
import { MAX_FRAME_BYTES } from './frame-limit.ts';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Index just past the last frame boundary in `chunk`, or -1. `before` and `beforeThat` are the
 * last two bytes that came before the chunk (-1 when none), for a boundary split across chunks.
 */
export type FrameBoundary = (chunk: Buffer, before: number, beforeThat: number) => number;

/** Index just past the last event terminator (blank line) in `chunk`, or -1. */
export function lastEventBoundary(chunk: Buffer, before = -1, beforeThat = -1): number {
  // A blank line ends an event: "\n\n" or "\n\r\n" (that is, the tail of "\r\n\r\n").
  // Bare-CR line endings are legal SSE but no provider sends them.
  const last = chunk.length - 1;
  // the common case, read without a native call: the chunk ends with whole events
  if (last >= 1 && chunk[last] === LF && (chunk[last - 1] === LF || (last >= 2 && chunk[last - 1] === CR && chunk[last - 2] === LF))) return last + 1;
  for (let i = chunk.lastIndexOf(LF); i >= 0; i = i === 0 ? -1 : chunk.lastIndexOf(LF, i - 1)) {
    const previous = i >= 1 ? chunk[i - 1] : before;
    if (previous === LF) return i + 1;
    if (previous === CR && (i >= 2 ? chunk[i - 2] : i === 1 ? before : beforeThat) === LF) return i + 1;
  }
  return -1;
}

/** Index just past the last newline (NDJSON line boundary), or -1. */
export function lastLineBoundary(chunk: Buffer): number {
  const index = chunk.lastIndexOf(LF);
  return index < 0 ? -1 : index + 1;
}

/** A frame held back grew past the limit (the upstream never ended it). */
export class FrameTooLargeError extends RangeError {
  readonly limit: number;

  constructor(limit: number) {
    super(`stream frame larger than the limit (${limit} bytes)`);
    this.name = 'FrameTooLargeError';
    this.limit = limit;
  }
}

/**
 * Holds back an unterminated tail so only whole frames (SSE events, NDJSON lines) are forwarded.
 */
export class FrameSplitter {
  /** The unterminated tail, as the pieces that arrived (scanned already). */
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  /** The last two bytes held back (-1 when fewer), for boundaries split across chunks. */
  private last = -1;
  private beforeLast = -1;
  private readonly boundary: FrameBoundary;
  /** Bytes held back because they do not yet end a frame; bounded by `maxPending`. */
  private readonly maxPending: number;

  constructor(boundary: FrameBoundary = lastEventBoundary, maxPending: number = MAX_FRAME_BYTES) {
    this.boundary = boundary;
    this.maxPending = maxPending;
  }

  /**
   * Returns the complete frames now available (possibly several), or undefined when the input
   * so far ends mid-frame. Throws a FrameTooLargeError when an unterminated frame grows beyond
   * the bound.
   */
  push(chunk: Buffer): Buffer | undefined {
    const length = chunk.length;
    if (length === 0) return undefined;
    const boundary = this.boundary(chunk, this.last, this.beforeLast);
    if (boundary < 0) {
      this.hold(chunk);
      if (this.pendingBytes > this.maxPending) throw new FrameTooLargeError(this.maxPending);
      return undefined;
    }
    let frames: Buffer;
    if (this.pieces.length === 0) {
      frames = boundary === length ? chunk : chunk.subarray(0, boundary);
    } else {
      if (boundary > 0) this.pieces.push(chunk.subarray(0, boundary));
      frames = Buffer.concat(this.pieces, this.pendingBytes + boundary);
      this.pieces = [];
      this.pendingBytes = 0;
    }
    this.last = -1;
    this.beforeLast = -1;
    if (boundary < length) this.hold(chunk.subarray(boundary));
    return frames;
  }

  /** The unterminated tail held back, joined (undefined when none): what a close cut off, or a last line without its newline. */
  held(): Buffer | undefined {
    if (this.pendingBytes === 0) return undefined;
    return this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pendingBytes);
  }

  private hold(piece: Buffer): void {
    this.pieces.push(piece);
    this.pendingBytes += piece.length;
    const length = piece.length;
    this.beforeLast = length >= 2 ? piece[length - 2]! : this.last;
    this.last = piece[length - 1]!;
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
