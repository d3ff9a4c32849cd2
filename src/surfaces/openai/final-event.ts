// A Chat Completions (or legacy Completions) stream's final event is the chunk that gives its last
// choice a finish_reason; only the usage chunk (when include_usage asked for one) and `data: [DONE]`
// follow it. Some OpenAI-compatible servers close the stream right after it, without [DONE].
import type { FinalEventWatch, RequestSummary } from '../../canonical/adapters.ts';
import { indexOfStringMember, lastMemberIsString } from '../../streaming/frame-scan.ts';
import { isObject, listFrom } from '../../util/json-value.ts';

const FINISH_REASON = Buffer.from('"finish_reason":');
const DONE_EVENT = Buffer.from('data: [DONE]\n\n');
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DATA = Buffer.from('data:');

/**
 * One choice (nearly every request): the chunk with a finish_reason is the final event. Every chunk
 * before it says `"finish_reason":null` and none after it has one, so the last in a batch tells —
 * one search from the end. Stateless: one watch serves every stream.
 */
class OneChoiceWatch implements FinalEventWatch {
  readonly terminator = DONE_EVENT;

  sees(events: Buffer): boolean {
    return lastMemberIsString(events, FINISH_REASON);
  }
}

/** Several choices (`n` > 1) finish one by one: the chunk carrying each finish is read for its index. */
class ChoicesWatch implements FinalEventWatch {
  readonly terminator = DONE_EVENT;
  private readonly choices: number;
  private readonly finished = new Set<number>();

  constructor(choices: number) {
    this.choices = choices;
  }

  sees(events: Buffer): boolean {
    for (let at = indexOfStringMember(events, FINISH_REASON); at >= 0; at = indexOfStringMember(events, FINISH_REASON, at)) {
      // one parse per data line holding a finish (once per choice), then on past that line
      let end = events.indexOf(LF, at);
      if (end < 0) end = events.length;
      this.note(events, events.lastIndexOf(LF, at) + 1, end);
      at = end;
    }
    return this.finished.size >= this.choices;
  }

  /** The choices a `data:` line finishes; a line that does not parse counts for none. */
  private note(events: Buffer, start: number, end: number): void {
    if (events.compare(DATA, 0, DATA.length, start, start + DATA.length) !== 0) return;
    let from = start + DATA.length;
    if (events[from] === SPACE) from++;
    if (end > from && events[end - 1] === CR) end--;
    let chunk: unknown;
    try {
      chunk = JSON.parse(events.toString('utf8', from, end));
    } catch {
      return;
    }
    if (!isObject(chunk)) return;
    for (const choice of listFrom(chunk.choices)) {
      if (isObject(choice) && typeof choice.finish_reason === 'string') this.finished.add(typeof choice.index === 'number' ? choice.index : 0);
    }
  }
}

const ONE_CHOICE = new OneChoiceWatch();

export function choicesFinishWatch(summary: RequestSummary): FinalEventWatch {
  const choices = summary.choices ?? 1;
  return choices > 1 ? new ChoicesWatch(choices) : ONE_CHOICE;
}
