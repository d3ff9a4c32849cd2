// From the caller's messages to what an ACP session is sent: content blocks over the protocol
// (never argv), written by the shared transcript (../transcript.ts).
//
// What is Gemini CLI's own: images and audio go as inline (base64) blocks in the message it
// answers and as markers in a transcript, media by URL and files are refused (the CLI would fetch or
// read them itself); text that starts like one of its commands is made plain text; in agent mode the
// caller's system prompt travels as instructions ahead of the prompt, since it does not replace the
// CLI's own there.
import { invalidRequest } from '../../canonical/errors.ts';
import type { Message } from '../../canonical/request.ts';
import { mediaMarker, promptOf, type Carried, type MediaPart, type MediaPlace } from '../transcript.ts';

export type AcpContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; mimeType: string; data: string }
  | { type: 'audio'; mimeType: string; data: string };

/**
 * Gemini CLI runs a prompt whose text starts with `/` or `$` as one of its commands (`/memory add`,
 * `/extensions install <url>`, `/init`, …) instead of sending it to the model. A zero-width space
 * in front (which `trim()` keeps) makes any such text a plain message.
 */
const COMMAND_START = /^\s*[/$]/;
const ZERO_WIDTH_SPACE = '\u200B';

/**
 * The blocks of one prompt: the dialogue from `from` on (0 for a new session: earlier turns
 * written out before the new message). `instructions` (agent mode: the caller's system prompt)
 * go first.
 */
export function promptBlocks(dialogue: readonly Message[], from: number, instructions?: string): AcpContentBlock[] {
  const blocks = promptOf<AcpContentBlock>(dialogue, from, textBlock, carryMedia);
  if (blocks.length === 0) throw invalidRequest('The request has no message for the Gemini CLI to answer.', 'messages');
  if (instructions !== undefined) blocks.unshift(textBlock(`<instructions>\n${instructions}\n</instructions>\n\n`));
  const first = blocks[0]!;
  if (first.type === 'text' && COMMAND_START.test(first.text)) blocks[0] = textBlock(ZERO_WIDTH_SPACE + first.text);
  return blocks;
}

function textBlock(text: string): AcpContentBlock {
  return { type: 'text', text };
}

function carryMedia(part: MediaPart, place: MediaPlace): Carried<AcpContentBlock> {
  if (place.inTranscript) return { text: mediaMarker(part) };
  if (part.type === 'file') throw invalidRequest('The Gemini CLI provider does not take file attachments.', 'messages');
  if (part.source.kind !== 'base64') {
    throw invalidRequest(`The Gemini CLI takes ${part.type === 'image' ? 'images' : 'audio'} inline only (base64 data), not by URL.`, 'messages');
  }
  return { block: { type: part.type, mimeType: part.source.mediaType, data: part.source.data } };
}
