// The caller's conversation as an agent CLI takes it, shared by the four drivers: the system
// prompt, the prompt of a turn, and what a CLI session already holds of the conversation.
//
// None of the CLIs can be handed a history as turns (Claude Code's input takes user lines only,
// Codex threads, ACP sessions and opencode sessions keep their own), so the first turn of a session
// writes the earlier turns out as a tagged transcript ahead of the new message, and later turns of
// the same session send only what follows the session's own answer. What differs per CLI is how
// media travel, and each driver says it with a `MediaRule`:
// - Claude Code: image and PDF blocks where they stood, text files inlined, audio refused;
// - Codex: images as input items after the text, marked `[image N]` where they stood;
// - Gemini CLI: inline image and audio blocks in the new message, markers in the transcript;
// - opencode: inline media as data-URL file parts in the new message, markers in the transcript.
import { createHash, type Hash } from 'node:crypto';
import type { AudioPart, ContentPart, FilePart, ImagePart, Message } from '../canonical/request.ts';

export type MediaPart = ImagePart | AudioPart | FilePart;

/** Where a media part stands, for a CLI's rule and its error messages. */
export interface MediaPlace {
  /** In an earlier turn written out as a transcript (false: in the message the CLI answers now). */
  readonly inTranscript: boolean;
  /** The message's index in the dialogue (system messages left out). */
  readonly message: number;
  /** The part's index in that message's content. */
  readonly part: number;
}

/**
 * How a CLI carries a media part: a block of its own (the text before it becomes a block), a text
 * written in its place (a marker, a text file's content), or an error thrown to refuse the request.
 */
export type MediaRule<Block> = (part: MediaPart, place: MediaPlace) => Carried<Block>;

/** A media part carried as a block of the CLI's own, or as text in its place. */
export type Carried<Block> = { readonly block: Block; readonly text?: undefined } | { readonly text: string };

/** The caller's system prompt: the texts of its system messages, a blank line apart; undefined when none. */
export function systemPromptOf(messages: readonly Message[]): string | undefined {
  let prompt: string | undefined;
  for (const message of messages) {
    if (message.role !== 'system') continue;
    const text = plainText(message.content);
    if (text.length > 0) prompt = prompt === undefined ? text : `${prompt}\n\n${text}`;
  }
  return prompt;
}

/** The messages a CLI session is sent: all but the system ones (they are its system prompt). */
export function dialogueOf(messages: readonly Message[]): Message[] {
  return messages.filter((message) => message.role !== 'system');
}

function plainText(parts: readonly ContentPart[]): string {
  let text = '';
  for (const part of parts) {
    if (part.type !== 'text' || part.text.length === 0) continue;
    text = text.length === 0 ? part.text : `${text}\n${part.text}`;
  }
  return text;
}

/** What a transcript says where a CLI does not carry a media part. */
export function mediaMarker(part: MediaPart): string {
  switch (part.type) {
    case 'image':
      return '[an image]';
    case 'audio':
      return '[an audio clip]';
    case 'file':
      return part.filename === undefined ? '[a file]' : `[a file: ${part.filename}]`;
  }
}

const TAGS: Readonly<Record<Message['role'], string>> = { system: 'system', user: 'user', assistant: 'assistant', tool: 'tool_result' };

/** Gathers text into blocks between the media blocks a CLI carries. */
class PromptBuilder<Block> {
  readonly blocks: Block[] = [];
  private text = '';
  private readonly textBlock: (text: string) => Block;
  private readonly media: MediaRule<Block>;

  constructor(textBlock: (text: string) => Block, media: MediaRule<Block>) {
    this.textBlock = textBlock;
    this.media = media;
  }

  write(text: string): void {
    this.text += text;
  }

  /** A message's content, its parts a line apart. */
  writeContent(content: readonly ContentPart[], inTranscript: boolean, message: number, partIndex = -1): void {
    let first = true;
    for (let index = 0; index < content.length; index++) {
      const part = content[index]!;
      const separator = first ? '' : '\n';
      const place = partIndex >= 0 ? partIndex : index;
      switch (part.type) {
        case 'text':
          this.text += separator + part.text;
          break;
        case 'image':
        case 'audio':
        case 'file': {
          const carried = this.media(part, { inTranscript, message, part: place });
          if (carried.text !== undefined) {
            this.text += separator + carried.text;
          } else {
            // the block's own boundary separates it from the text before
            this.flush();
            this.blocks.push(carried.block);
          }
          break;
        }
        case 'tool-call':
          this.text += `${separator}[called the tool ${part.name} with ${part.arguments}]`;
          break;
        case 'tool-result':
          this.text += `${separator}[result of the tool call ${part.toolCallId}${part.isError === true ? ' (an error)' : ''}: `;
          if (typeof part.content === 'string') this.text += part.content;
          else this.writeContent(part.content, inTranscript, message, place);
          this.text += ']';
          break;
        case 'reasoning':
        case 'hosted-tool-call':
        case 'hosted-tool-result':
          // a provider's own records of an earlier answer (thinking, its hosted tools): nothing a CLI can take
          continue;
      }
      first = false;
    }
  }

  private flush(): void {
    if (this.text.length > 0) this.blocks.push(this.textBlock(this.text));
    this.text = '';
  }

  finish(): Block[] {
    this.flush();
    return this.blocks;
  }
}

/**
 * The prompt of a turn: the dialogue's messages from `from` on (those the CLI session has not been
 * sent: all of them for a new session). The messages after the last assistant message are the
 * turn's own, written as they are, a blank line apart; anything before them is written out as a
 * tagged transcript ahead of them. A dialogue that ends with an assistant message (the caller
 * prefilled the answer) is all transcript, with the ask to continue it. Empty: nothing to say (each
 * CLI decides what that means).
 */
export function promptOf<Block>(dialogue: readonly Message[], from: number, textBlock: (text: string) => Block, media: MediaRule<Block>): Block[] {
  const builder = new PromptBuilder(textBlock, media);
  let current = dialogue.length;
  while (current > from && dialogue[current - 1]!.role !== 'assistant') current--;
  if (current > from) {
    builder.write('The conversation so far, oldest first:\n');
    for (let index = from; index < current; index++) {
      const message = dialogue[index]!;
      const tag = TAGS[message.role];
      builder.write(`\n<${tag}>\n`);
      builder.writeContent(message.content, true, index);
      builder.write(`\n</${tag}>\n`);
    }
    builder.write(current === dialogue.length ? '\nContinue the assistant\'s last message from where it stops.' : '\nThe user\'s new message:\n');
  }
  for (let index = current; index < dialogue.length; index++) {
    if (index > current) builder.write('\n\n');
    builder.writeContent(dialogue[index]!.content, false, index);
  }
  return builder.finish();
}

/** The prompt as text alone: a CLI that takes no media blocks (its rule returns text or refuses). */
export function textPromptOf(dialogue: readonly Message[], from: number, media: MediaRule<never>): string {
  let text = '';
  for (const block of promptOf(dialogue, from, (piece) => piece, media)) text += block;
  return text;
}

// --- what a session holds ---------------------------------------------------------------------

/**
 * What a CLI session holds of a conversation after a turn it answered: the dialogue it was sent
 * and its answer after it. The caller resends the whole history with every turn; the next request
 * continues the session when it repeats those messages and adds to them.
 */
export interface HeldHistory {
  /** Dialogue messages the session holds, its own answer (the last) included. */
  readonly messages: number;
  /** A digest of the caller's side of them: the system prompt, the user and tool messages, where the answers stand. */
  readonly digest: string;
}

/** What the session holds once it has answered `dialogue` under `system`. */
export function heldAfterAnswer(system: string | undefined, dialogue: readonly Message[]): HeldHistory {
  return { messages: dialogue.length + 1, digest: historyDigest(system, dialogue, dialogue.length) };
}

/**
 * Where the messages a session has not seen start in `dialogue`, when the request continues what
 * the session holds: the same system prompt, the same user and tool messages in the same places,
 * an assistant message where the session's answer stands, then only new user or tool messages,
 * ending with a user message. Undefined otherwise (an edited or removed earlier message, a
 * regenerated answer, a changed system prompt, a prefilled answer): the caller starts a new
 * session with the history written out.
 *
 * The wording of assistant messages is not compared: a client's copy of an answer can differ in
 * form from the one the CLI gave (blocks joined, whitespace trimmed); the gateway's conversation
 * tracker (src/pipeline/conversations.ts) already gives an edited answer a conversation of its own.
 */
export function unseenFrom(system: string | undefined, dialogue: readonly Message[], held: HeldHistory | undefined): number | undefined {
  if (held === undefined || dialogue.length <= held.messages) return undefined;
  if (dialogue[held.messages - 1]!.role !== 'assistant') return undefined;
  for (let index = held.messages; index < dialogue.length; index++) if (dialogue[index]!.role === 'assistant') return undefined;
  if (dialogue[dialogue.length - 1]!.role !== 'user') return undefined;
  return historyDigest(system, dialogue, held.messages - 1) === held.digest ? held.messages : undefined;
}

function historyDigest(system: string | undefined, dialogue: readonly Message[], count: number): string {
  const hash = createHash('sha256');
  hash.update(system ?? '\u0002');
  for (let index = 0; index < count; index++) {
    const message = dialogue[index]!;
    hash.update(`\u0001${message.role}`);
    if (message.role === 'assistant') continue;
    for (const part of message.content) hashPart(hash, part);
  }
  return hash.digest('base64url');
}

/** A part's content, fed to the hash as it is (no JSON copy of a long history on every turn). */
function hashPart(hash: Hash, part: ContentPart): void {
  hash.update(`\u0000${part.type}\u0000`);
  switch (part.type) {
    case 'text':
      hash.update(part.text);
      return;
    case 'image':
    case 'audio':
    case 'file':
      hash.update(part.source.kind === 'base64' ? part.source.data : part.source.url);
      return;
    case 'tool-call':
      hash.update(`${part.id}\u0000${part.name}\u0000${part.arguments}`);
      return;
    case 'tool-result':
      hash.update(`${part.toolCallId}\u0000${part.isError === true ? 'error' : ''}\u0000`);
      if (typeof part.content === 'string') hash.update(part.content);
      else for (const inner of part.content) hashPart(hash, inner);
      return;
    case 'reasoning':
    case 'hosted-tool-call':
    case 'hosted-tool-result':
      // never sent to a CLI: not part of what a session holds
      return;
  }
}
