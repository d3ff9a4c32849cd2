// Fuzzing the byte-level stream decoders (SSE, NDJSON, the pass-through frame splitter): any
// chunking of a stream decodes to what the whole stream decodes to (checked against a plain
// reference parser), random bytes never throw, and a line or event past the frame limit is
// reported once — never earlier, never later than the limit — after which nothing is delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseDecoder, type SseEventSink } from '../../src/streaming/sse-decoder.ts';
import { NdjsonDecoder, type NdjsonSink } from '../../src/streaming/ndjson.ts';
import { FrameSplitter, FrameTooLargeError, lastEventBoundary, lastLineBoundary } from '../../src/streaming/frame-splitter.ts';
import { MAX_FRAME_BYTES } from '../../src/streaming/frame-limit.ts';
import { anyJsonText, chunked, cuts, RUNS } from './shapes.ts';

const LF = 0x0a;
const CR = 0x0d;

class SseRecorder implements SseEventSink {
  readonly events: [string, string][] = [];
  oversized = 0;
  onEvent(event: string, data: string): void {
    if (this.oversized > 0) throw new Error('an event after the oversized report');
    this.events.push([event, data]);
  }
  onOversized(limit: number): void {
    assert.equal(typeof limit, 'number');
    this.oversized++;
  }
}

class NdjsonRecorder implements NdjsonSink {
  readonly values: unknown[] = [];
  readonly malformed: string[] = [];
  oversized = 0;
  onValue(value: unknown): void {
    if (this.oversized > 0) throw new Error('a value after the oversized report');
    this.values.push(value);
  }
  onMalformed(line: string): void {
    if (this.oversized > 0) throw new Error('a line after the oversized report');
    this.malformed.push(line);
  }
  onOversized(): void {
    this.oversized++;
  }
}

/** The lines of `bytes` split at CR, LF or CRLF, each decoded alone; the unterminated rest apart. */
function splitLines(bytes: Buffer): { lines: { text: string; bytes: number }[]; rest: Buffer } {
  const lines: { text: string; bytes: number }[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== LF && byte !== CR) continue;
    lines.push({ text: bytes.toString('utf8', start, i), bytes: i - start });
    if (byte === CR && bytes[i + 1] === LF) i++;
    start = i + 1;
  }
  return { lines, rest: bytes.subarray(start) };
}

/** WHATWG event-stream dispatch over whole text, as the reference the decoder must agree with. */
function referenceSse(bytes: Buffer, withEnd: boolean): [string, string][] {
  const events: [string, string][] = [];
  let name = '';
  let data: string[] | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (data !== undefined) events.push([name, data.join('\n')]);
      name = '';
      data = undefined;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') (data ??= []).push(value);
    else if (field === 'event') name = value;
  };
  const { lines, rest } = splitLines(bytes);
  for (const entry of lines) line(entry.text);
  if (withEnd) {
    if (rest.length > 0) line(rest.toString('utf8'));
    line('');
  }
  return events;
}

/** Bytes from a small alphabet that makes SSE structure (fields, colons, CR/LF pairs, UTF-8 split points) likely. */
const sseBytes = fc.array(fc.oneof(
  fc.constantFrom('data:', 'data: ', 'event: ', 'event:', ': ping', 'id: 1', 'retry: 5', 'data'),
  fc.constantFrom('\n', '\r', '\r\n', '\n\n', '\r\n\r\n'),
  fc.constantFrom('x', '{"a":1}', '[DONE]', 'é', '✓', '😀', ' ', ':'),
  fc.string({ maxLength: 6 }),
), { maxLength: 40 }).map((pieces) => Buffer.from(pieces.join(''), 'utf8'));

function decodeSse(pieces: readonly Buffer[], withEnd: boolean, limit = MAX_FRAME_BYTES): SseRecorder {
  const decoder = new SseDecoder(limit);
  const recorder = new SseRecorder();
  for (const piece of pieces) decoder.push(piece, recorder);
  if (withEnd) decoder.end(recorder);
  return recorder;
}

test('SSE: any chunking decodes to what the reference parser reads from the whole stream', () => {
  fc.assert(fc.property(sseBytes, cuts, fc.boolean(), (bytes, points, withEnd) => {
    const expected = referenceSse(bytes, withEnd);
    assert.deepEqual(decodeSse([bytes], withEnd).events, expected);
    assert.deepEqual(decodeSse(chunked(bytes, points), withEnd).events, expected);
    // one byte at a time: every CR/LF pair and every UTF-8 sequence split
    assert.deepEqual(decodeSse([...bytes].map((byte) => Buffer.of(byte)), withEnd).events, expected);
  }), { numRuns: RUNS.light });
});

test('SSE: random bytes never throw, whatever the chunking', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), cuts, (raw, points) => {
    const recorder = decodeSse(chunked(Buffer.from(raw), points), true, 64);
    assert.ok(recorder.oversized <= 1);
  }), { numRuns: RUNS.light });
});

/**
 * With a small limit: the decoder reports exactly when an unended line (or an event's data lines)
 * has passed the limit — the bound on what it holds — and never for a stream within it.
 */
test('SSE: the frame limit is reported once, exactly when a line or an event passes it', () => {
  const limit = 48;
  const longStream = fc.array(fc.oneof(
    fc.constantFrom('data: ', 'event: e', ': c', '\n', '\r\n', '\n\n'),
    fc.integer({ min: 1, max: 70 }).map((length) => 'x'.repeat(length)),
  ), { maxLength: 30 }).map((pieces) => Buffer.from(pieces.join('')));
  fc.assert(fc.property(longStream, cuts, (bytes, points) => {
    const pieces = chunked(bytes, points);
    const decoder = new SseDecoder(limit);
    const recorder = new SseRecorder();
    // the reference: the unended line's length, and the data-line bytes of the event being read
    let seen = Buffer.alloc(0);
    let crossed = false;
    for (const piece of pieces) {
      decoder.push(piece, recorder);
      seen = Buffer.concat([seen, piece]);
      if (!crossed) crossed = passesLimit(seen, limit);
      assert.equal(recorder.oversized, crossed ? 1 : 0, `after ${seen.length} bytes: ${JSON.stringify(seen.toString())}`);
    }
    decoder.end(recorder);
    // end() completes the unended line, which may pass the limit only then
    const crossedAtEnd = passesLimit(Buffer.concat([bytes, Buffer.from('\n')]), limit);
    assert.equal(recorder.oversized, crossedAtEnd ? 1 : 0);
    if (!crossedAtEnd) assert.deepEqual(recorder.events, referenceSse(bytes, true));
  }), { numRuns: RUNS.light });
});

function passesLimit(bytes: Buffer, limit: number): boolean {
  const { lines, rest } = splitLines(bytes);
  let eventData = 0;
  for (const line of lines) {
    if (line.bytes > limit) return true;
    if (line.text === '') eventData = 0;
    else if (line.text === 'data' || line.text.startsWith('data:')) {
      eventData += line.bytes;
      if (eventData > limit) return true;
    }
  }
  // a CR ending the input already ended its line; an unended rest counts as it is
  return rest.length > limit;
}

test('SSE: a huge line without a newline is cut at the frame limit, holding no more than it', () => {
  const piece = Buffer.alloc(256 * 1024, 0x78);
  const decoder = new SseDecoder();
  const recorder = new SseRecorder();
  decoder.push(Buffer.from('data: {"a":"'), recorder);
  let sent = 0;
  while (recorder.oversized === 0 && sent < MAX_FRAME_BYTES * 4) {
    decoder.push(piece, recorder);
    sent += piece.length;
  }
  assert.equal(recorder.oversized, 1);
  assert.ok(sent <= MAX_FRAME_BYTES + piece.length, 'reported as soon as the limit was passed');
  decoder.push(Buffer.from('\n\ndata: {}\n\n'), recorder);
  decoder.end(recorder);
  assert.deepEqual(recorder.events, [], 'nothing after the report');
});

/** NDJSON reference: lines split at LF, trimmed, blank ones skipped. */
function referenceNdjson(bytes: Buffer, withEnd: boolean): { values: unknown[]; malformed: string[] } {
  const values: unknown[] = [];
  const malformed: string[] = [];
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, start)) {
    parts.push(bytes.subarray(start, i));
    start = i + 1;
  }
  if (withEnd && start < bytes.length) parts.push(bytes.subarray(start));
  for (const part of parts) {
    const line = part.toString('utf8').trim();
    if (line.length === 0) continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      malformed.push(line);
    }
  }
  return { values, malformed };
}

const ndjsonBytes = fc.array(fc.oneof(
  { weight: 4, arbitrary: anyJsonText.map((text) => `${text}\n`) },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r\n', '  \n', '{"a":', '}\n', 'é', '😀', '{"done":true}') },
), { maxLength: 12 }).map((pieces) => Buffer.from(pieces.join(''), 'utf8'));

function decodeNdjson(pieces: readonly Buffer[], withEnd: boolean, limit = MAX_FRAME_BYTES): NdjsonRecorder {
  const decoder = new NdjsonDecoder(limit);
  const recorder = new NdjsonRecorder();
  for (const piece of pieces) decoder.push(piece, recorder);
  if (withEnd) decoder.end(recorder);
  return recorder;
}

test('NDJSON: any chunking decodes to the values and malformed lines of the whole stream', () => {
  fc.assert(fc.property(ndjsonBytes, cuts, fc.boolean(), (bytes, points, withEnd) => {
    const expected = referenceNdjson(bytes, withEnd);
    for (const pieces of [[bytes], chunked(bytes, points), [...bytes].map((byte) => Buffer.of(byte))]) {
      const recorder = decodeNdjson(pieces, withEnd);
      assert.deepEqual({ values: recorder.values, malformed: recorder.malformed }, expected);
    }
  }), { numRuns: RUNS.light });
});

test('NDJSON: random bytes never throw; a line past the limit is reported once, exactly then', () => {
  const limit = 40;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (raw, points) => {
    const bytes = Buffer.from(raw);
    const decoder = new NdjsonDecoder(limit);
    const recorder = new NdjsonRecorder();
    let seen = Buffer.alloc(0);
    let crossed = false;
    for (const piece of chunked(bytes, points)) {
      decoder.push(piece, recorder);
      seen = Buffer.concat([seen, piece]);
      if (!crossed) {
        let start = 0;
        for (let i = seen.indexOf(LF); i >= 0 && !crossed; i = seen.indexOf(LF, start)) {
          crossed = i - start > limit;
          start = i + 1;
        }
        crossed ||= seen.length - start > limit;
      }
      assert.equal(recorder.oversized, crossed ? 1 : 0);
    }
    decoder.end(recorder);
  }), { numRuns: RUNS.light });
});

/**
 * Feeds a splitter, returning every forwarded byte, whether it refused the input, and the most it
 * held back after a push beyond the bytes of that push itself (its bound: the limit, or one read).
 */
function split(splitter: FrameSplitter, pieces: readonly Buffer[]): { forwarded: Buffer; tooLarge: boolean; held: number; heldBeyondRead: number } {
  const out: Buffer[] = [];
  let consumed = 0;
  let forwarded = 0;
  let heldBeyondRead = 0;
  let lastRead = 0;
  for (const piece of pieces) {
    try {
      const frames = splitter.push(piece);
      if (frames !== undefined) {
        out.push(Buffer.from(frames));
        forwarded += frames.length;
      }
    } catch (error) {
      assert.ok(error instanceof FrameTooLargeError, `only FrameTooLargeError escapes, got ${String(error)}`);
      return { forwarded: Buffer.concat(out), tooLarge: true, held: consumed + piece.length - forwarded, heldBeyondRead };
    }
    consumed += piece.length;
    if (piece.length > 0) lastRead = piece.length;
    const held = consumed - forwarded;
    if (held > lastRead) heldBeyondRead = Math.max(heldBeyondRead, held);
  }
  return { forwarded: Buffer.concat(out), tooLarge: false, held: consumed - forwarded, heldBeyondRead };
}

const frameBytes = fc.array(fc.oneof(
  fc.constantFrom('data: {"a":1}', 'event: x', '\n', '\r\n', '\n\n', '\r\n\r\n', '\r', 'x'),
  fc.string({ maxLength: 8 }),
), { maxLength: 30 }).map((pieces) => Buffer.from(pieces.join('')));

for (const [name, boundary, ends] of [
  ['SSE events', lastEventBoundary, (frames: Buffer) => frames.subarray(-2).equals(Buffer.from('\n\n')) || frames.subarray(-3).equals(Buffer.from('\n\r\n'))],
  ['NDJSON lines', lastLineBoundary, (frames: Buffer) => frames.at(-1) === LF],
] as const) {
  test(`frame splitter (${name}): in any chunking, forwards a prefix ending at a boundary and holds a tail with none`, () => {
    fc.assert(fc.property(frameBytes, cuts, (bytes, points) => {
      const whole = split(new FrameSplitter(boundary), [bytes]);
      const pieces = split(new FrameSplitter(boundary), chunked(bytes, points));
      for (const result of [whole, pieces]) {
        assert.ok(bytes.subarray(0, result.forwarded.length).equals(result.forwarded), 'forwarded bytes are the input, in order');
        if (result.forwarded.length > 0) assert.ok(ends(result.forwarded), 'what is forwarded ends at a boundary');
        assert.equal(boundary(bytes.subarray(result.forwarded.length), -1, -1), -1, 'what is held holds no boundary');
      }
    }), { numRuns: RUNS.light });
  });

  test(`frame splitter (${name}): a tail growing past the limit is refused with FrameTooLargeError, never held`, () => {
    const limit = 32;
    fc.assert(fc.property(frameBytes, cuts, (bytes, points) => {
      const result = split(new FrameSplitter(boundary, limit), chunked(bytes, points));
      if (result.tooLarge) assert.ok(result.held > limit, 'refused only past the limit');
      assert.ok(result.heldBeyondRead <= limit, `held ${result.heldBeyondRead} bytes across reads`);
    }), { numRuns: RUNS.light });
  });
}
