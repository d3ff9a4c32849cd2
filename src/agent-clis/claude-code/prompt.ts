// The caller's request as Claude Code takes it: the system messages become the session's system
// prompt (the `initialize` control request, or a file in one-shot mode — never argv), and the
// conversation becomes the content of one `user` line of stream-json input.
//
// Claude Code has no faithful way to be handed a history (an `assistant` input line lands before
// the first user message of its transcript), so the first turn of a conversation flattens the
// earlier turns into one user message — each turn tagged with its speaker, images kept as image
// blocks where they stood — and later turns send only what is new, the CLI's session holding the
// rest.
import type { ContentPart, Message } from '../../canonical/request.ts';
import type { JsonObject } from '../../util/json-value.ts';
import { unsupportedInputError } from './errors.ts';

/** The texts of the system messages, in order (each one a block of the system prompt). */
export function systemPromptOf(messages: readonly Message[]): string[] {
  const prompt: string[] = [];
  for (const message of messages) {
    if (message.role !== 'system') continue;
    const text = plainText(message.content);
    if (text.length > 0) prompt.push(text);
  }
  return prompt;
}

function plainText(parts: readonly ContentPart[]): string {
  let text = '';
  for (const part of parts) if (part.type === 'text') text += text.length > 0 ? `\n${part.text}` : part.text;
  return text;
}

/** Content blocks of one user message, text merged into as few blocks as it can be. */
class ContentBuilder {
  readonly blocks: JsonObject[] = [];
  private text = '';
  private readonly provider: string;
  private readonly textOnly: string | undefined;

  /** `textOnly`: why media cannot be carried (one-shot mode), or undefined when they can. */
  constructor(provider: string, textOnly: string | undefined) {
    this.provider = provider;
    this.textOnly = textOnly;
  }

  addText(text: string): void {
    this.text += text;
  }

  addParts(parts: readonly ContentPart[]): void {
    let first = true;
    for (const part of parts) {
      switch (part.type) {
        case 'text':
          if (!first) this.text += '\n';
          this.text += part.text;
          break;
        case 'image':
          this.addMedia('an image', part.source.kind === 'base64'
            ? { type: 'image', source: { type: 'base64', media_type: part.source.mediaType, data: part.source.data } }
            : { type: 'image', source: { type: 'url', url: part.source.url } });
          break;
        case 'file':
          this.addFile(part);
          break;
        case 'audio':
          throw unsupportedInputError(this.provider, 'cannot take audio input.');
        case 'tool-call':
          this.text += `${first ? '' : '\n'}[called the tool ${part.name} with ${part.arguments}]`;
          break;
        case 'tool-result': {
          const content = typeof part.content === 'string' ? part.content : plainText(part.content);
          this.text += `${first ? '' : '\n'}[tool result${part.isError === true ? ' (error)' : ''}: ${content}]`;
          break;
        }
        case 'reasoning':
        case 'hosted-tool-call':
        case 'hosted-tool-result':
          // the provider's own records of an earlier answer: nothing Claude Code can take
          continue;
      }
      first = false;
    }
  }

  private addFile(part: Extract<ContentPart, { type: 'file' }>): void {
    const source = part.source;
    const mediaType = source.kind === 'base64' ? source.mediaType : (source.mediaType ?? '');
    if (mediaType === 'application/pdf') {
      this.addMedia('a PDF', source.kind === 'base64'
        ? { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: source.data } }
        : { type: 'document', source: { type: 'url', url: source.url } });
      return;
    }
    if (source.kind === 'base64' && mediaType.startsWith('text/')) {
      const name = part.filename === undefined ? '' : ` ${part.filename}`;
      this.text += `\n[file${name}]\n${Buffer.from(source.data, 'base64').toString('utf8')}\n[end of file${name}]\n`;
      return;
    }
    throw unsupportedInputError(this.provider, `cannot take a file of type '${mediaType || 'unknown'}' (PDFs and text files only).`);
  }

  private addMedia(what: string, block: JsonObject): void {
    if (this.textOnly !== undefined) throw unsupportedInputError(this.provider, `${this.textOnly}, which takes text only: the request carries ${what}.`);
    this.flush();
    this.blocks.push(block);
  }

  flush(): void {
    if (this.text.length > 0) this.blocks.push({ type: 'text', text: this.text });
    this.text = '';
  }

  finish(): JsonObject[] {
    this.flush();
    return this.blocks;
  }
}

/** Where the turn's own messages start: after the last assistant message (the trailing user and tool messages). */
function currentTurnStart(messages: readonly Message[]): number {
  let start = messages.length;
  while (start > 0 && messages[start - 1]!.role !== 'assistant') start--;
  return start;
}

/**
 * The first turn of a conversation (or a one-off turn): the whole history as one user message.
 * A lone user message goes as it is; earlier turns are written out, tagged by speaker, before the
 * new message. `textOnly` (one-shot mode) refuses media instead of sending image blocks.
 */
export function flattenedContent(messages: readonly Message[], provider: string, textOnly?: string): JsonObject[] {
  const conversation = messages.filter((message) => message.role !== 'system');
  const builder = new ContentBuilder(provider, textOnly);
  let start = currentTurnStart(conversation);
  // an answer to continue (the caller prefilled the assistant's turn): everything is history
  const prefill = start === conversation.length && conversation.length > 0;
  if (start === 0) {
    appendTurn(builder, conversation, 0);
    return nonEmpty(builder.finish());
  }
  builder.addText('The conversation so far, oldest first:\n');
  for (let index = 0; index < start; index++) {
    const message = conversation[index]!;
    const tag = message.role === 'assistant' ? 'assistant' : message.role === 'tool' ? 'tool_result' : 'user';
    builder.addText(`\n<${tag}>\n`);
    builder.addParts(message.content);
    builder.addText(`\n</${tag}>\n`);
  }
  if (prefill) {
    builder.addText('\nContinue the assistant\'s last message from where it stops.');
    start = conversation.length;
  } else {
    builder.addText('\nThe user\'s new message:\n');
  }
  appendTurn(builder, conversation, start);
  return nonEmpty(builder.finish());
}

/** A later turn of a live session: only the messages after the answer the session already holds. */
export function continuationContent(messages: readonly Message[], from: number, provider: string): JsonObject[] {
  const builder = new ContentBuilder(provider, undefined);
  appendTurn(builder, messages, from);
  return nonEmpty(builder.finish());
}

function appendTurn(builder: ContentBuilder, messages: readonly Message[], from: number): void {
  for (let index = from; index < messages.length; index++) {
    const message = messages[index]!;
    if (message.role === 'system') continue;
    if (index > from) builder.addText('\n\n');
    builder.addParts(message.content);
  }
}

/** Claude Code refuses an empty user message; a request with nothing to say still gets an answer. */
function nonEmpty(blocks: JsonObject[]): JsonObject[] {
  return blocks.length > 0 ? blocks : [{ type: 'text', text: '(empty message)' }];
}

/** One stream-json input line: a user message (a turn). */
export function userLine(content: readonly JsonObject[]): string {
  return `${JSON.stringify({ type: 'user', message: { role: 'user', content } })}\n`;
}

/** One-shot mode's prompt (stdin, text input format): the flattened conversation as text. */
export function textPrompt(messages: readonly Message[], provider: string): string {
  const blocks = flattenedContent(messages, provider, 'runs in one-shot mode (its stream-json mode failed to start)');
  let text = '';
  for (const block of blocks) text += block.text as string;
  return text;
}
