// LineMarkers (one RegExp pass over a batch) answers exactly what a plain line-by-line check
// answers, on random streams with markers at line starts, inside JSON strings, cut short, behind
// LF, CR or CRLF, with non-ASCII bytes (U+2028 among them: a line terminator to JavaScript, not to
// SSE), cut into pieces at random places and passed through the pass-through's FrameSplitter; and
// the surfaces' checks built on it answer what their per-marker searches answered before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineMarkers, startsAnyLine } from '../../src/streaming/frame-scan.ts';
import { FrameSplitter, lastEventBoundary } from '../../src/streaming/frame-splitter.ts';
import { anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { openaiChat, openaiResponses } from '../../src/surfaces/openai/index.ts';

const LF = 0x0a;
const CR = 0x0d;

/** The reference: every line start (the batch's start, after each LF, after each CR) against every marker. */
function referenceStartsAnyLine(events: Buffer, markers: readonly string[]): boolean {
  const bytes = markers.map((marker) => Buffer.from(marker));
  for (let start = 0; start <= events.length; start++) {
    if (start > 0 && events[start - 1] !== LF && events[start - 1] !== CR) continue;
    for (const marker of bytes) {
      if (start + marker.length <= events.length && events.subarray(start, start + marker.length).equals(marker)) return true;
    }
  }
  return false;
}

/** The surfaces' marker sets, and Anthropic's terminal events spelled as markers (more leads per name). */
const SURFACE_MARKERS: readonly (readonly string[])[] = [
  ['event: response.completed', 'event: response.failed', 'event: response.incomplete', 'data: {"type":"response.completed"', 'data: {"type":"response.failed"', 'data: {"type":"response.incomplete"'],
  ['event: error', 'event: response.failed', 'data: {"type":"error"', 'data: {"type":"response.failed"'],
  ['data: {"error"', 'data:{"error"'],
  ['event: error', 'event:error'],
  ['message_stop', 'error'].flatMap((type) => [`event: ${type}`, `event:${type}`, `data: {"type":"${type}"`, `data: {"type": "${type}"`]),
];

/** Marker sets beyond the surfaces': RegExp syntax, non-ASCII, markers that are prefixes of others. */
const markerSet = fc.oneof(
  fc.constantFrom(...SURFACE_MARKERS),
  fc.array(fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '(', ')', '[', ']', '{', '}', '|', '\\', '^', '$', '?', '+', '/', '-', ':', ' ', '"', 'é', '€'), minLength: 1, maxLength: 6 }),
    fc.constantFrom('event: error', 'event: e', 'data: [DONE]', 'data: {"type":"x"'),
  ), { minLength: 1, maxLength: 5 }),
);

/** Stream text: markers and pieces of them where lines start, markers inside strings, line breaks, noise. */
function streamOf(markers: readonly string[]) {
  const marker = fc.constantFrom(...markers);
  const piece = fc.oneof(
    { weight: 4, arbitrary: marker },
    { weight: 2, arbitrary: marker.chain((text) => fc.integer({ min: 0, max: text.length }).map((cut) => text.slice(0, cut))) },
    { weight: 2, arbitrary: marker.map((text) => `data: {"text":${JSON.stringify(text)}}`) },
    { weight: 4, arbitrary: fc.constantFrom('\n', '\r', '\r\n', '\n\n', '\r\n\r\n') },
    { weight: 2, arbitrary: fc.constantFrom('event: response.output_text.delta', 'data: {"type":"response.output_text.delta","delta":"x"}', 'event: content_block_delta', 'data: {"choices":[]}', ': ping') },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('e', 'd', 'a', ':', ' ', '{', '"', 'é', '\u2028', '\u0085', '\n', '\r'), maxLength: 8 }) },
  );
  return fc.array(piece, { maxLength: 30 }).map((pieces) => pieces.join(''));
}

const pieceCuts = fc.array(fc.nat(), { maxLength: 8 });

/** `bytes` cut at the given places (taken modulo its length), as views into one buffer like a socket's reads. */
function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) pieces.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

test('LineMarkers agrees with the line-by-line reference on random streams and every piece of them', () => {
  fc.assert(fc.property(markerSet.chain((markers) => fc.tuple(fc.constant(markers), streamOf(markers), pieceCuts)), ([markers, text, cuts]) => {
    const compiled = new LineMarkers(markers);
    const bytes = Buffer.from(text);
    assert.equal(compiled.startAnyLine(bytes), referenceStartsAnyLine(bytes, markers));
    assert.equal(startsAnyLine(bytes, markers.map((marker) => Buffer.from(marker))), referenceStartsAnyLine(bytes, markers));
    // a read cut anywhere (mid-line, mid-marker, between CR and LF) is a batch of its own
    for (const piece of cutAt(bytes, cuts)) assert.equal(compiled.startAnyLine(piece), referenceStartsAnyLine(piece, markers));
  }), { numRuns: 3000 });
});

test('through the FrameSplitter, as the pass-through sees a stream: each batch of whole events agrees with the reference', () => {
  fc.assert(fc.property(fc.constantFrom(...SURFACE_MARKERS).chain((markers) => fc.tuple(fc.constant(markers), streamOf(markers), pieceCuts)), ([markers, text, cuts]) => {
    const compiled = new LineMarkers(markers);
    const splitter = new FrameSplitter(lastEventBoundary);
    let anyBatch = false;
    for (const piece of cutAt(Buffer.from(text), cuts)) {
      const batch = splitter.push(piece);
      if (batch === undefined) continue;
      const expected = referenceStartsAnyLine(batch, markers);
      assert.equal(compiled.startAnyLine(batch), expected);
      anyBatch ||= expected;
    }
    // a marker in the stream's whole events is seen however the stream was cut
    const whole = Buffer.from(text);
    const end = lastEventBoundary(whole);
    assert.equal(anyBatch, end > 0 && referenceStartsAnyLine(whole.subarray(0, end), markers));
  }), { numRuns: 2000 });
});

test('batches larger than the string pass (searched marker by marker) agree with the reference too', () => {
  const filler = Buffer.from('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"event: response.completed"}\n\n'.repeat(800));
  fc.assert(fc.property(fc.constantFrom(...SURFACE_MARKERS).chain((markers) => fc.tuple(fc.constant(markers), streamOf(markers), fc.boolean())), ([markers, text, before]) => {
    const tail = Buffer.from(text);
    const bytes = before ? Buffer.concat([tail, filler]) : Buffer.concat([filler, tail]);
    assert.ok(bytes.length > 64 * 1024);
    assert.equal(new LineMarkers(markers).startAnyLine(bytes), referenceStartsAnyLine(bytes, markers));
  }), { numRuns: 200 });
});

test('LineMarkers: the cases by hand', () => {
  const markers = new LineMarkers(['event: error', 'data: {"error"']);
  assert.equal(markers.startAnyLine(Buffer.from('event: error\n')), true);
  assert.equal(markers.startAnyLine(Buffer.from('data: {}\r\ndata: {"error":1}\r\n')), true);
  assert.equal(markers.startAnyLine(Buffer.from('data: {}\rdata: {"error":1}\r')), true, 'bare CR');
  assert.equal(markers.startAnyLine(Buffer.from('data: {"t":"x\u2028event: error"}\n')), false, 'U+2028 ends no SSE line');
  assert.equal(markers.startAnyLine(Buffer.from('data: {"text":"event: error"}\n\n')), false);
  assert.equal(markers.startAnyLine(Buffer.from('event: erro')), false, 'a marker cut short');
  assert.equal(markers.startAnyLine(Buffer.from('')), false);
  assert.equal(markers.startAnyLine(Buffer.from('xxevent: error\n').subarray(2)), true, 'a view that starts mid-buffer starts a line');
  assert.equal(new LineMarkers(['a.c']).startAnyLine(Buffer.from('abc')), false, 'RegExp syntax in a marker is literal');
  assert.equal(new LineMarkers(['data: é']).startAnyLine(Buffer.from('\ndata: é')), true, 'non-ASCII markers match their UTF-8 bytes');
  assert.throws(() => new LineMarkers([]), RangeError);
  assert.throws(() => new LineMarkers(['event: error', '']), RangeError);
});

// The surfaces' checks as they were before LineMarkers: a native search per marker or per name.
const before = {
  responsesTerminal: (events: Buffer) => startsAnyLine(events, SURFACE_MARKERS[0]!.map((marker) => Buffer.from(marker))),
  responsesError: (events: Buffer) => startsAnyLine(events, SURFACE_MARKERS[1]!.map((marker) => Buffer.from(marker))),
  chatError: (events: Buffer) => startsAnyLine(events, SURFACE_MARKERS[2]!.map((marker) => Buffer.from(marker))),
  anthropicError: (events: Buffer) => startsAnyLine(events, SURFACE_MARKERS[3]!.map((marker) => Buffer.from(marker))),
};

test('the surfaces answer what their per-marker searches answered', () => {
  const allMarkers = SURFACE_MARKERS.flat();
  fc.assert(fc.property(streamOf(allMarkers), fc.constantFrom('', '"', ' ', 'x', '\n'), (text, after) => {
    // `after` follows the stream: a marker closed by a quote, or not
    const events = Buffer.from(text + after);
    assert.equal(openaiResponses.isStreamTerminal(events), before.responsesTerminal(events));
    assert.equal(openaiResponses.isStreamError(events), before.responsesError(events));
    assert.equal(openaiChat.isStreamError(events), before.chatError(events));
    assert.equal(anthropicMessages.isStreamError(events), before.anthropicError(events));
  }), { numRuns: 3000 });
});
