// The byte-level stream decoders (SSE, NDJSON, the pass-through frame splitter) against floors
// in the same run. A normal stream (2,000 chat chunks, cut as a network cuts them) against the
// least a line reader does: find every newline with indexOf and decode each line to text (the
// NDJSON decoder also parses each line). An upstream that never ends its line, up to the 8 MiB
// frame limit, against one indexOf per chunk: linear in the bytes, never quadratic.
// `npx node bench/micro/frame-decoders.ts [--rounds 40]`
import { parseArgs } from 'node:util';
import { FrameSplitter, lastEventBoundary, lastLineBoundary } from '../../src/streaming/frame-splitter.ts';
import { MAX_FRAME_BYTES } from '../../src/streaming/frame-limit.ts';
import { NdjsonDecoder } from '../../src/streaming/ndjson.ts';
import { SseDecoder } from '../../src/streaming/sse-decoder.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);

const chunk = (i: number) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [{ index: 0, delta: { content: ` word${i}` }, finish_reason: null }] });
const sse = Buffer.from(Array.from({ length: 2000 }, (_, i) => `data: ${chunk(i)}\n\n`).join(''));
const ndjson = Buffer.from(Array.from({ length: 2000 }, (_, i) => `${chunk(i)}\n`).join(''));

function cut(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}

const sink = { onEvent() {}, onValue() {}, onMalformed() {}, onOversized() {} };

/** Median ms of `rounds` runs of `body`. */
function time(body: () => void): number {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    body();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** One indexOf per chunk. */
function floor(pieces: readonly Buffer[]): () => void {
  return () => {
    let found = 0;
    for (const piece of pieces) found += piece.indexOf(0x0a) >= 0 ? 1 : 0;
    if (found < 0) throw new Error('unreachable');
  };
}

/** Every line found with indexOf and decoded to text (pieces of a line simply concatenated). */
function lineFloor(pieces: readonly Buffer[]): () => void {
  return () => {
    let length = 0;
    let pending: Buffer | undefined;
    for (const piece of pieces) {
      const data = pending === undefined ? piece : Buffer.concat([pending, piece]);
      let start = 0;
      for (let at = data.indexOf(0x0a); at >= 0; at = data.indexOf(0x0a, start)) {
        length += data.toString('utf8', start, at).length;
        start = at + 1;
      }
      pending = start < data.length ? data.subarray(start) : undefined;
    }
    if (length < 0) throw new Error('unreachable');
  };
}

console.log(`median of ${rounds} rounds; ratio to the floor in brackets\n`);
for (const size of [333, 4096, 65536]) {
  const ssePieces = cut(sse, size);
  const ndjsonPieces = cut(ndjson, size);
  const base = time(lineFloor(ssePieces));
  const rows: [string, number][] = [
    ['SseDecoder', time(() => { const decoder = new SseDecoder(); for (const piece of ssePieces) decoder.push(piece, sink); })],
    ['FrameSplitter (events)', time(() => { const splitter = new FrameSplitter(lastEventBoundary); for (const piece of ssePieces) splitter.push(piece); })],
    ['NdjsonDecoder', time(() => { const decoder = new NdjsonDecoder(); for (const piece of ndjsonPieces) decoder.push(piece, sink); })],
    ['FrameSplitter (lines)', time(() => { const splitter = new FrameSplitter(lastLineBoundary); for (const piece of ndjsonPieces) splitter.push(piece); })],
  ];
  console.log(`2,000-event stream in ${size}-byte chunks: line floor ${base.toFixed(3)} ms`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(24)} ${ms.toFixed(3)} ms  (×${(ms / base).toFixed(1)})`);
}

for (const size of [1024, 65536]) {
  const piece = Buffer.alloc(size, 0x78);
  const count = Math.ceil((MAX_FRAME_BYTES + 1) / size);
  const pieces = Array.from({ length: count }, () => piece);
  const base = time(floor(pieces));
  const sseMs = time(() => { const decoder = new SseDecoder(); for (const item of pieces) decoder.push(item, sink); });
  const splitMs = time(() => { const splitter = new FrameSplitter(); try { for (const item of pieces) splitter.push(item); } catch { /* the limit */ } });
  console.log(`\nan unended line up to the 8 MiB limit in ${size}-byte chunks: floor ${base.toFixed(2)} ms`);
  console.log(`  ${'SseDecoder'.padEnd(24)} ${sseMs.toFixed(2)} ms  (×${(sseMs / base).toFixed(1)})`);
  console.log(`  ${'FrameSplitter'.padEnd(24)} ${splitMs.toFixed(2)} ms  (×${(splitMs / base).toFixed(1)})`);
}
