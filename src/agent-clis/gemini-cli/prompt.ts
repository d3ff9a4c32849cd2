// From the caller's messages to what an ACP session is sent: content blocks over the protocol
// (never argv), the history flattened into one prompt when a session starts mid-conversation, and
// a digest of the conversation so a later turn can be matched to the session that saw it.
import { createHash } from 'node:crypto';
import { invalidRequest } from '../../canonical/errors.ts';
import type { ContentPart, Message } from '../../canonical/request.ts';

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

/** The caller's system prompt: the text of its system messages, joined; undefined when none. */
export function systemPromptOf(messages: readonly Message[]): string | undefined {
  let prompt: string | undefined;
  for (const message of messages) {
    if (message.role !== 'system') continue;
    const text = textOf(message.content);
    if (text.length > 0) prompt = prompt === undefined ? text : `${prompt}\n\n${text}`;
  }
  return prompt;
}

/** The messages a CLI session sees: all but the system ones. */
export function conversationOf(messages: readonly Message[]): Message[] {
  return messages.filter((message) => message.role !== 'system');
}

/**
 * The blocks of one prompt. `messages` are what the session has not seen yet: the whole
 * conversation for a new session, the caller's new message(s) for a session that continues.
 * Earlier turns among them become one transcript; the last user message keeps its own blocks.
 * `instructions` (agent mode: the caller's system prompt, which does not replace the CLI's there)
 * go first.
 */
export function promptBlocks(messages: readonly Message[], instructions?: string): AcpContentBlock[] {
  let current = messages.length;
  while (current > 0 && messages[current - 1]!.role === 'user') current--;
  const blocks: AcpContentBlock[] = [];
  const preface: string[] = [];
  if (instructions !== undefined) preface.push(`<instructions>\n${instructions}\n</instructions>`);
  if (current > 0) {
    preface.push(`Earlier turns of this conversation:\n\n${transcriptOf(messages.slice(0, current))}`);
    preface.push(current === messages.length ? 'Continue the last assistant message.' : 'The new message:');
  }
  if (preface.length > 0) blocks.push({ type: 'text', text: preface.join('\n\n') });
  for (let index = current; index < messages.length; index++) {
    for (const part of messages[index]!.content) pushBlock(blocks, part);
  }
  if (blocks.length === 0) throw invalidRequest('The request has no message for the Gemini CLI to answer.', 'messages');
  const first = blocks[0]!;
  if (first.type === 'text' && COMMAND_START.test(first.text)) blocks[0] = { type: 'text', text: ZERO_WIDTH_SPACE + first.text };
  return blocks;
}

function pushBlock(blocks: AcpContentBlock[], part: ContentPart): void {
  switch (part.type) {
    case 'text':
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
      return;
    case 'image':
    case 'audio': {
      if (part.source.kind !== 'base64') {
        throw invalidRequest(`The Gemini CLI takes ${part.type === 'image' ? 'images' : 'audio'} inline only (base64 data), not by URL.`, 'messages');
      }
      blocks.push({ type: part.type, mimeType: part.source.mediaType, data: part.source.data });
      return;
    }
    case 'file':
      throw invalidRequest('The Gemini CLI provider does not take file attachments.', 'messages');
    case 'tool-call':
    case 'tool-result':
      blocks.push({ type: 'text', text: inlineText(part) });
      return;
    case 'reasoning':
    case 'hosted-tool-call':
    case 'hosted-tool-result':
      return;
  }
}

/** Earlier turns as tagged text: what a new session needs to know of them. */
function transcriptOf(messages: readonly Message[]): string {
  const turns: string[] = [];
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'assistant' : message.role === 'tool' ? 'tool' : 'user';
    turns.push(`<${role}>\n${textOf(message.content, true)}\n</${role}>`);
  }
  return turns.join('\n\n');
}

function inlineText(part: ContentPart): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
      return '[image]';
    case 'audio':
      return '[audio]';
    case 'file':
      return `[file${part.filename !== undefined ? ` ${part.filename}` : ''}]`;
    case 'tool-call':
      return `[tool call ${part.name}(${part.arguments})]`;
    case 'tool-result':
      return `[tool result: ${typeof part.content === 'string' ? part.content : textOf(part.content, true)}]`;
    case 'reasoning':
    case 'hosted-tool-call':
    case 'hosted-tool-result':
      return '';
  }
}

/** The text of some content; `withMedia` puts a marker where media was (for transcripts). */
function textOf(content: readonly ContentPart[], withMedia = false): string {
  let text = '';
  for (const part of content) {
    const piece = part.type === 'text' ? part.text : withMedia ? inlineText(part) : '';
    if (piece.length === 0) continue;
    text = text.length === 0 ? piece : `${text}\n${piece}`;
  }
  return text;
}

/**
 * A digest of a conversation: its system prompt and each message's role and text (trimmed, so a
 * client that trims an answer it sends back still matches; reasoning left out, as clients drop it).
 * Two requests whose first messages digest alike continue the same session.
 */
export function conversationDigest(system: string | undefined, messages: readonly Message[]): string {
  const hash = createHash('sha256');
  hash.update(system ?? '');
  for (const message of messages) {
    hash.update(`\u0000${message.role}\u0000`);
    for (const part of message.content) {
      if (part.type === 'reasoning') continue;
      if (part.type === 'image' || part.type === 'audio' || part.type === 'file') {
        hash.update(`\u0001${part.source.kind === 'base64' ? part.source.data : part.source.url}`);
        continue;
      }
      hash.update(`\u0001${inlineText(part).trim()}`);
    }
  }
  return hash.digest('base64url');
}
