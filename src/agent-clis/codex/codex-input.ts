// The caller's messages as Codex input. A Codex thread keeps its own history, so a turn sends only
// what is new since the thread's last turn; the first turn of a thread carries the history the
// caller sent before it as a transcript (the CLI has no way to be handed earlier turns as turns).
// System messages become the thread's instructions. Pure functions, no I/O.
import { invalidRequest } from '../../canonical/errors.ts';
import type { ContentPart, Message, MediaSource } from '../../canonical/request.ts';

/** Codex's `UserInput` items that the gateway sends. */
export type CodexUserInput =
  | { type: 'text'; text: string; text_elements: never[] }
  | { type: 'image'; url: string };

/** The caller's system prompt: every system message's text, joined; undefined when there is none. */
export function systemPromptOf(messages: readonly Message[]): string | undefined {
  let prompt: string | undefined;
  for (const message of messages) {
    if (message.role !== 'system') continue;
    const text = textOf(message.content, undefined);
    if (text.length > 0) prompt = prompt === undefined ? text : `${prompt}\n\n${text}`;
  }
  return prompt;
}

function imageUrl(source: MediaSource): string {
  return source.kind === 'base64' ? `data:${source.mediaType};base64,${source.data}` : source.url;
}

/** The text of a message; images are collected into `images` (when given) and marked in the text. */
function textOf(content: readonly ContentPart[], images: CodexUserInput[] | undefined): string {
  let text = '';
  const add = (piece: string): void => {
    if (piece.length === 0) return;
    text = text.length === 0 ? piece : `${text}\n${piece}`;
  };
  for (const part of content) {
    switch (part.type) {
      case 'text':
        add(part.text);
        break;
      case 'image':
        if (images === undefined) break;
        images.push({ type: 'image', url: imageUrl(part.source) });
        add(`[image ${images.length}]`);
        break;
      case 'tool-call':
        add(`[called the tool ${part.name} with ${part.arguments}]`);
        break;
      case 'tool-result':
        add(`[the tool call ${part.toolCallId} returned: ${typeof part.content === 'string' ? part.content : textOf(part.content, images)}]`);
        break;
      case 'audio':
      case 'file':
        throw invalidRequest(`Codex reads text and images only; this request carries ${part.type === 'audio' ? 'audio' : 'a file'}.`, 'messages');
      case 'reasoning':
      case 'hosted-tool-call':
      case 'hosted-tool-result':
        // another model's thinking and a provider's own tools mean nothing to Codex
        break;
    }
  }
  return text;
}

const SPEAKERS: Readonly<Record<Message['role'], string>> = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' };

/**
 * The input of a turn: the caller's messages from `from` on (system messages left out: they are
 * the thread's instructions). One user message goes as it is; several, or a history that does not
 * end with the user, go as a transcript with the last user message after it.
 */
export function turnInput(messages: readonly Message[], from: number): CodexUserInput[] {
  const turn: Message[] = [];
  for (let index = from; index < messages.length; index++) if (messages[index]!.role !== 'system') turn.push(messages[index]!);
  const images: CodexUserInput[] = [];
  const last = turn.at(-1);
  const ask = last !== undefined && last.role === 'user' ? last : undefined;
  const earlier = ask === undefined ? turn : turn.slice(0, -1);
  let text = '';
  if (earlier.length > 0) {
    const lines: string[] = [];
    for (const message of earlier) {
      const said = textOf(message.content, images);
      if (said.length > 0) lines.push(`${SPEAKERS[message.role]}: ${said}`);
    }
    if (lines.length > 0) text = `<conversation_so_far>\n${lines.join('\n\n')}\n</conversation_so_far>`;
  }
  if (ask !== undefined) {
    const said = textOf(ask.content, images);
    text = text.length === 0 ? said : `${text}\n\n${said}`;
  }
  if (text.length === 0 && images.length === 0) throw invalidRequest('The request has no message for Codex to answer.', 'messages');
  return [{ type: 'text', text, text_elements: [] }, ...images];
}
