// The caller's conversation as opencode prompt parts, written by the shared transcript
// (../transcript.ts); the system prompt goes with each message (after the gateway agent's blank
// one), since opencode takes no assistant messages from a client and keeps the history itself.
//
// What is opencode's own: media go only inline, as data-URL file parts in the message it answers
// (a URL would be fetched, or a `file:` URL read, by opencode on the gateway host), and as markers
// in a transcript.
import type { Message } from '../../canonical/request.ts';
import { mediaMarker, promptOf, type Carried, type MediaPart, type MediaPlace } from '../transcript.ts';

/** A part of `POST /session/{id}/prompt_async`. */
export type PromptPart =
  | { type: 'text'; text: string }
  | { type: 'file'; mime: string; url: string; filename?: string };

/** Content opencode must not be given: a URL it would fetch (or a `file:` URL it would read) itself. */
export class UnsafeContent extends Error {
  readonly param: string;

  constructor(message: string, param: string) {
    super(message);
    this.param = param;
  }
}

/**
 * The parts for a turn: the dialogue from `from` on (0 for a new session: the earlier turns
 * written out ahead of the new message).
 */
export function promptParts(dialogue: readonly Message[], from: number): PromptPart[] {
  return promptOf<PromptPart>(dialogue, from, (text) => ({ type: 'text', text }), carryMedia);
}

function carryMedia(part: MediaPart, place: MediaPlace): Carried<PromptPart> {
  if (place.inTranscript) return { text: mediaMarker(part) };
  const source = part.source;
  if (source.kind !== 'base64') {
    throw new UnsafeContent('opencode takes media inline (base64) only: a URL would be fetched, or a file: URL read, by opencode on the gateway host', `messages[${place.message}].content[${place.part}]`);
  }
  const mime = source.mediaType;
  return { block: { type: 'file', mime, url: `data:${mime};base64,${source.data}`, ...(part.type === 'file' && part.filename !== undefined ? { filename: part.filename } : {}) } };
}
