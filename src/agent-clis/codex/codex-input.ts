// The caller's messages as Codex input, written by the shared transcript (../transcript.ts). A
// Codex thread keeps its own history, so a turn sends only what is new since the thread's last
// turn; the first turn of a thread carries the earlier history as a transcript. System messages
// become the thread's instructions. Pure functions, no I/O.
//
// What is Codex's own: a turn is one text input followed by image inputs, so images (in the
// transcript too) are marked `[image N]` in the text where they stood; audio and files are refused.
import { invalidRequest } from '../../canonical/errors.ts';
import type { Message } from '../../canonical/request.ts';
import { textPromptOf } from '../transcript.ts';

/** Codex's `UserInput` items that the gateway sends. */
export type CodexUserInput =
  | { type: 'text'; text: string; text_elements: never[] }
  | { type: 'image'; url: string };

/** The input of a turn: the dialogue from `from` on (0 for a new thread: earlier turns written out before the new message). */
export function turnInput(dialogue: readonly Message[], from: number): CodexUserInput[] {
  const images: CodexUserInput[] = [];
  const text = textPromptOf(dialogue, from, (part) => {
    if (part.type !== 'image') {
      throw invalidRequest(`Codex reads text and images only; this request carries ${part.type === 'audio' ? 'audio' : 'a file'}.`, 'messages');
    }
    const source = part.source;
    images.push({ type: 'image', url: source.kind === 'base64' ? `data:${source.mediaType};base64,${source.data}` : source.url });
    return { text: `[image ${images.length}]` };
  });
  if (text.length === 0 && images.length === 0) throw invalidRequest('The request has no message for Codex to answer.', 'messages');
  return [{ type: 'text', text, text_elements: [] }, ...images];
}
