// What a pass-through stream's marker checks cost per answer, before and after LineMarkers (issue
// #17): the first batch's in-stream error check, then on every batch the terminal check and the
// final-event watch, as PassThroughExchange.watch runs them. The answers are the bench mock's
// (bench/mock/dialects.ts) — Responses as Codex gets it, Anthropic Messages, OpenAI chat with
// usage — with 16 deltas (scenario 7's agent bodies, `/p/0/16/0`) and 64 (the agent-fleet soak),
// read as the mock writes them (one read per write: the first events, each delta, the tail), in
// 4 KiB reads, or in one read; the reads go through the pass-through's FrameSplitter beforehand, so
// only the checks are timed. Before: a native search per marker (Responses: six terminal markers
// on every batch, four error markers on the first; Anthropic and chat: two error markers). After:
// one RegExp pass per check (src/streaming/frame-scan.ts, LineMarkers). The terminal checks of
// Anthropic (two name searches) and chat (`[DONE]`) are unchanged: the same code in both columns.
// The second table is one Responses terminal check on batches of deltas by size: where the
// string pass stops paying. CPU time (process.cpuUsage), before and after interleaved round by
// round, median of the rounds, every case warmed first.
// `nice -n 19 npx node bench/micro/stream-markers.ts [--rounds 15] [--iterations 400]`
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import type { FinalEventWatch, SurfaceAdapter } from '../../src/canonical/adapters.ts';
import { FrameSplitter, lastEventBoundary } from '../../src/streaming/frame-splitter.ts';
import { LineMarkers } from '../../src/streaming/frame-scan.ts';
import { anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { openaiChat, openaiResponses } from '../../src/surfaces/openai/index.ts';
import { anthropicStream, openaiStream, responsesStream, type StreamScript } from '../mock/dialects.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, iterations: { type: 'string', default: '400' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

/** startsAnyLine as it was before LineMarkers: a native search per marker. */
function startsAnyLineBefore(events: Buffer, markers: readonly Buffer[]): boolean {
  for (const marker of markers) {
    for (let at = events.indexOf(marker); at >= 0; at = events.indexOf(marker, at + 1)) {
      if (at === 0 || events[at - 1] === 0x0a || events[at - 1] === 0x0d) return true;
    }
  }
  return false;
}
const bytes = (list: readonly string[]) => list.map((marker) => Buffer.from(marker));
const RESPONSE_TERMINALS = ['event: response.completed', 'event: response.failed', 'event: response.incomplete', 'data: {"type":"response.completed"', 'data: {"type":"response.failed"', 'data: {"type":"response.incomplete"'];
const OLD = {
  responseTerminals: bytes(RESPONSE_TERMINALS),
  responseErrors: bytes(['event: error', 'event: response.failed', 'data: {"type":"error"', 'data: {"type":"response.failed"']),
  chatErrors: bytes(['data: {"error"', 'data:{"error"']),
  anthropicErrors: bytes(['event: error', 'event:error']),
};

/** The two checks of a surface and its final-event watch. */
interface Checks {
  isStreamError(events: Buffer): boolean;
  isStreamTerminal(events: Buffer): boolean;
  finalWatch: FinalEventWatch | undefined;
}
const summary = { model: 'bench-model', stream: true };
const now = (surface: SurfaceAdapter): Checks => ({
  isStreamError: (events) => surface.isStreamError(events),
  isStreamTerminal: (events) => surface.isStreamTerminal(events),
  finalWatch: surface.finalEventWatch(summary),
});
const dialects: { name: string; script: (deltas: number) => StreamScript; before: Checks; after: Checks }[] = [
  {
    name: 'Responses', script: responsesStream, after: now(openaiResponses),
    before: { isStreamError: (events) => startsAnyLineBefore(events, OLD.responseErrors), isStreamTerminal: (events) => startsAnyLineBefore(events, OLD.responseTerminals), finalWatch: undefined },
  },
  {
    name: 'Anthropic', script: anthropicStream, after: now(anthropicMessages),
    before: { isStreamError: (events) => startsAnyLineBefore(events, OLD.anthropicErrors), isStreamTerminal: (events) => anthropicMessages.isStreamTerminal(events), finalWatch: anthropicMessages.finalEventWatch(summary) },
  },
  {
    name: 'OpenAI chat', script: openaiStream, after: now(openaiChat),
    before: { isStreamError: (events) => startsAnyLineBefore(events, OLD.chatErrors), isStreamTerminal: (events) => openaiChat.isStreamTerminal(events), finalWatch: openaiChat.finalEventWatch(summary) },
  },
];

/** The batches of whole events the pass-through gets from these reads. */
function batches(reads: readonly Buffer[]): Buffer[] {
  const splitter = new FrameSplitter(lastEventBoundary);
  const out: Buffer[] = [];
  for (const read of reads) {
    const frames = splitter.push(read);
    if (frames !== undefined) out.push(frames);
  }
  return out;
}

function readsOf(script: StreamScript, shape: string): Buffer[] {
  const whole = Buffer.concat([script.first, ...script.deltas, script.tail]);
  if (shape === 'as written') return [script.first, ...script.deltas, script.tail];
  if (shape === 'one read') return [whole];
  const out: Buffer[] = [];
  for (let at = 0; at < whole.length; at += 4096) out.push(whole.subarray(at, at + 4096));
  return out;
}

/** PassThroughExchange's checks on one answer's batches (onAnswerData's first-batch error check, then watch). */
function checkStream(checks: Checks, frames: readonly Buffer[]): void {
  let terminalSeen = false;
  let finalSeen = false;
  let errorAfterFinal = false;
  for (let index = 0; index < frames.length; index++) {
    const batch = frames[index]!;
    if (index === 0 && checks.isStreamError(batch)) throw new Error('the stream opened with an error');
    if (terminalSeen) continue;
    if (checks.isStreamTerminal(batch)) terminalSeen = true;
    else if (!finalSeen) {
      if (checks.finalWatch === undefined || !checks.finalWatch.sees(batch)) continue;
      finalSeen = true;
      errorAfterFinal = checks.isStreamError(batch);
    } else if (!errorAfterFinal) errorAfterFinal = checks.isStreamError(batch);
  }
  if (!terminalSeen || errorAfterFinal) throw new Error('the stream did not end cleanly');
}

/** CPU µs per call of each body, interleaved round by round; the median of the rounds. */
function medians(bodies: readonly (() => void)[], count: number): number[] {
  for (const body of bodies) for (let i = 0; i < count; i++) body();
  const samples: number[][] = bodies.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, body] of bodies.entries()) {
      const start = process.cpuUsage();
      for (let i = 0; i < count; i++) body();
      const used = process.cpuUsage(start);
      samples[index]!.push((used.user + used.system) / count);
    }
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
}

/** The table's rows, built first so every check is warm (and its RegExp compiled) before any is timed. */
const rows: { label: string; reads: string; batches: number; before: () => void; after: () => void }[] = [];
for (const dialect of dialects) {
  for (const deltas of [16, 64]) {
    const script = dialect.script(deltas);
    for (const shape of ['as written', '4 KiB', 'one read']) {
      const reads = readsOf(script, shape);
      const frames = batches(reads);
      const size = (reads.reduce((sum, read) => sum + read.length, 0) / 1024).toFixed(1);
      rows.push({ label: `${dialect.name}, ${deltas} deltas (${size} KB)`, reads: shape, batches: frames.length, before: () => checkStream(dialect.before, frames), after: () => checkStream(dialect.after, frames) });
    }
  }
}
for (const row of rows) for (let i = 0; i < iterations; i++) { row.before(); row.after(); }

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
console.log(`load average before: ${load()}; median of ${rounds} rounds × ${iterations} answers, CPU µs per answer\n`);
console.log('| answer | reads | batches | before | after | after ÷ before |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  const [before, after] = medians([row.before, row.after], iterations);
  console.log(`| ${row.label} | ${row.reads} | ${row.batches} | ${before!.toFixed(2)} | ${after!.toFixed(2)} | ${(after! / before!).toFixed(2)} |`);
}

console.log('\nOne Responses terminal check on a batch of n deltas (no terminal in it), CPU µs per batch:\n');
console.log('| batch | before: a search per marker | after: the string pass | after ÷ before |');
console.log('|---|---|---|---|');
const delta = responsesStream(2).deltas[0]!;
const terminals = new LineMarkers(RESPONSE_TERMINALS);
// the string pass itself, whatever the batch size (startAnyLine hands larger batches to the searches)
const pattern = new RegExp(`^(?:${RESPONSE_TERMINALS.map((marker) => marker.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|')})`, 'm');
for (const count of [1, 8, 32, 96, 192, 384, 1480]) {
  const batch = Buffer.concat(Array.from({ length: count }, () => delta));
  let sink = false;
  const [before, after] = medians([
    () => { sink = startsAnyLineBefore(batch, OLD.responseTerminals); },
    () => { sink = pattern.test(batch.toString('latin1')); },
  ], Math.max(5, Math.round(iterations * 40 / count)));
  if (sink !== terminals.startAnyLine(batch)) throw new Error('the checks disagree');
  console.log(`| ${count} × ${delta.length} B = ${(batch.length / 1024).toFixed(1)} KB | ${before!.toFixed(2)} | ${after!.toFixed(2)} | ${(after! / before!).toFixed(2)} |`);
}
console.log(`\nload average after: ${load()}`);
