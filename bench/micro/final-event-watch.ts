// The pass-through's per-batch work before and after it watched for a stream's final event (issue
// #13). Each batch of whole SSE events goes through what PassThroughExchange does with it: the
// structural JSON check, the terminator check, the usage sniffer, and now the final-event watch.
// The baseline is the terminator check as it was (a search per marker: two for OpenAI's
// `data: [DONE]` / `data:[DONE]`, eight for Anthropic's message_stop and error lines, copied here);
// the new one searches each name once and checks the line around a hit, which pays for the watch
// (one search from the end). A 2,000-chunk OpenAI stream with include_usage (so the sniffer hits
// every chunk's `"usage":null`) and a 2,000-delta Anthropic stream, one event per read (the worst
// case) and 4 KiB reads.
// `npx node bench/micro/final-event-watch.ts [--rounds 40]`
import { parseArgs } from 'node:util';
import type { SurfaceAdapter } from '../../src/canonical/adapters.ts';
import { FrameSplitter, lastEventBoundary, sseWholePrefix } from '../../src/streaming/frame-splitter.ts';
import { UsageSniffer } from '../../src/streaming/usage-sniffer.ts';
import { anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);

const openaiChunk = (i: number) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [{ index: 0, delta: { content: ` word${i}` }, logprobs: null, finish_reason: null }], usage: null });
const openai = Array.from({ length: 2000 }, (_, i) => `data: ${openaiChunk(i)}\n\n`).join('')
  + `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null })}\n\ndata: [DONE]\n\n`;
const anthropicEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const anthropic = anthropicEvent('message_start', { message: { id: 'msg', model: 'claude', content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } })
  + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
  + Array.from({ length: 2000 }, (_, i) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` word${i}` } })).join('')
  + anthropicEvent('content_block_stop', { index: 0 })
  + anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2000 } })
  + anthropicEvent('message_stop', {});

/** The stream as one piece per event, or cut every `size` bytes. */
function pieces(text: string, size: number | 'event'): Buffer[] {
  const bytes = Buffer.from(text);
  if (size === 'event') return text.split(/(?<=\n\n)/).map((event) => Buffer.from(event));
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** The terminator checks before issue #13: every marker searched on its own at a line start. */
function startsAnyLine(events: Buffer, markers: readonly Buffer[]): boolean {
  for (const marker of markers) {
    for (let at = events.indexOf(marker); at >= 0; at = events.indexOf(marker, at + 1)) {
      if (at === 0 || events[at - 1] === 0x0a || events[at - 1] === 0x0d) return true;
    }
  }
  return false;
}
const OLD_DONE = [Buffer.from('data: [DONE]'), Buffer.from('data:[DONE]')];
const OLD_ANTHROPIC = ['event: message_stop', 'event:message_stop', 'event: error', 'event:error', 'data: {"type":"message_stop"', 'data: {"type": "message_stop"', 'data: {"type":"error"', 'data: {"type": "error"'].map((marker) => Buffer.from(marker));
const baseline: Record<string, SurfaceAdapter> = {
  openai: { ...openaiChat, isStreamTerminal: (events: Buffer) => startsAnyLine(events, OLD_DONE) } as SurfaceAdapter,
  anthropic: { ...anthropicMessages, isStreamTerminal: (events: Buffer) => startsAnyLine(events, OLD_ANTHROPIC) } as SurfaceAdapter,
};

/** PassThroughExchange's work on each batch, with or without the final-event watch. */
function run(surface: SurfaceAdapter, input: readonly Buffer[], watch: boolean): () => void {
  return () => {
    const splitter = new FrameSplitter(lastEventBoundary);
    const sniffer = new UsageSniffer('"usage"');
    const finalWatch = watch ? surface.finalEventWatch({ model: 'm', stream: true }) : undefined;
    const isTerminal = surface.isStreamTerminal;
    let terminalSeen = false;
    let finalSeen = false;
    for (const piece of input) {
      const frames = splitter.push(piece);
      if (frames === undefined) continue;
      if (sseWholePrefix(frames) < frames.length) throw new Error('broken');
      if (!terminalSeen) {
        if (isTerminal.call(surface, frames)) terminalSeen = true;
        else if (!finalSeen && finalWatch !== undefined && finalWatch.sees(frames)) finalSeen = true;
      }
      sniffer.scan(frames);
    }
    if (!terminalSeen) throw new Error('the stream did not end');
  };
}

/** Median ms of `rounds` runs of `body`, the two bodies interleaved round by round. */
function timePair(a: () => void, b: () => void): [number, number] {
  const samples: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    for (const [index, body] of [a, b].entries()) {
      const start = performance.now();
      body();
      samples[index]!.push(performance.now() - start);
    }
  }
  return samples.map((list) => list.sort((x, y) => x - y)[Math.floor(list.length / 2)]!) as [number, number];
}

console.log(`median of ${rounds} rounds, interleaved; the difference to the baseline in brackets\n`);
for (const [name, surface, old, text] of [['OpenAI chat', openaiChat, baseline.openai!, openai], ['Anthropic', anthropicMessages, baseline.anthropic!, anthropic]] as const) {
  for (const size of ['event', 4096] as const) {
    const input = pieces(text, size);
    const before = run(old, input, false);
    const after = run(surface, input, true);
    for (let warm = 0; warm < 5; warm++) { before(); after(); }
    const [beforeMs, afterMs] = timePair(before, after);
    console.log(`${name}, ${size === 'event' ? 'one event per read' : '4 KiB reads'} (${input.length} reads): before ${beforeMs.toFixed(3)} ms, with the watch ${afterMs.toFixed(3)} ms  (${afterMs >= beforeMs ? '+' : ''}${(((afterMs - beforeMs) / beforeMs) * 100).toFixed(1)} %)`);
  }
}
