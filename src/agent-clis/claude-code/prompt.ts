// The caller's request as Claude Code takes it: the system prompt goes in the `initialize` control
// request (or a file in one-shot mode — never argv), and the turn becomes the content of one `user`
// line of stream-json input, written by the shared transcript (../transcript.ts).
//
// What is Claude Code's own: images stay image blocks where they stood, in the transcript too; a
// PDF is a document block, a text file is inlined, audio and other files are refused; one-shot mode
// (`claude -p`, text on stdin) takes no media at all; and an empty prompt is sent as a placeholder,
// since Claude Code refuses an empty user message.
import type { Message } from '../../canonical/request.ts';
import type { JsonObject } from '../../util/json-value.ts';
import { promptOf, textPromptOf, type Carried, type MediaPart } from '../transcript.ts';
import { unsupportedInputError } from './errors.ts';

/**
 * The content of the turn's user line: the dialogue from `from` on (0 for a new session: the
 * history written out before the new message).
 */
export function promptContent(dialogue: readonly Message[], from: number, provider: string): JsonObject[] {
  const blocks = promptOf(dialogue, from, textBlock, (part) => carryMedia(part, provider, undefined));
  return blocks.length > 0 ? blocks : [textBlock('(empty message)')];
}

function textBlock(text: string): JsonObject {
  return { type: 'text', text };
}

function carryMedia(part: MediaPart, provider: string, textOnly: string | undefined): Carried<JsonObject> {
  if (part.type === 'audio') throw unsupportedInputError(provider, 'cannot take audio input.');
  const source = part.source;
  if (part.type === 'image') {
    if (textOnly !== undefined) throw unsupportedInputError(provider, `${textOnly}, which takes text only: the request carries an image.`);
    return { block: source.kind === 'base64'
      ? { type: 'image', source: { type: 'base64', media_type: source.mediaType, data: source.data } }
      : { type: 'image', source: { type: 'url', url: source.url } } };
  }
  const mediaType = source.kind === 'base64' ? source.mediaType : (source.mediaType ?? '');
  if (mediaType === 'application/pdf') {
    if (textOnly !== undefined) throw unsupportedInputError(provider, `${textOnly}, which takes text only: the request carries a PDF.`);
    return { block: source.kind === 'base64'
      ? { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: source.data } }
      : { type: 'document', source: { type: 'url', url: source.url } } };
  }
  if (source.kind === 'base64' && mediaType.startsWith('text/')) {
    const name = part.filename === undefined ? '' : ` ${part.filename}`;
    return { text: `[file${name}]\n${Buffer.from(source.data, 'base64').toString('utf8')}\n[end of file${name}]` };
  }
  throw unsupportedInputError(provider, `cannot take a file of type '${mediaType || 'unknown'}' (PDFs and text files only).`);
}

/** One stream-json input line: a user message (a turn). */
export function userLine(content: readonly JsonObject[]): string {
  return `${JSON.stringify({ type: 'user', message: { role: 'user', content } })}\n`;
}

/** One-shot mode's prompt (stdin, text input format): the whole dialogue as text; media refused. */
export function textPrompt(dialogue: readonly Message[], provider: string): string {
  // text-only: carryMedia refuses every part it would carry as a block
  const text = textPromptOf(dialogue, 0, (part) => carryMedia(part, provider, 'runs in one-shot mode (its stream-json mode failed to start)') as Carried<never>);
  return text.length > 0 ? text : '(empty message)';
}
