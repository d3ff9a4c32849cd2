// The caller's conversation as opencode prompts: the system prompt (sent with each message, after
// the gateway agent's blank one), and the parts of one user message. A conversation opencode
// already holds (its session) gets only what is new since the last turn; a new session gets the
// earlier turns flattened into a transcript ahead of the last message, since opencode takes no
// assistant messages from a client.
import { createHash } from 'node:crypto';
import type { ContentPart, Message } from '../../canonical/request.ts';

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

/** The caller's system prompt: the text of its system messages, joined. */
export function systemPrompt(messages: readonly Message[]): string | undefined {
  const texts: string[] = [];
  for (const message of messages) {
    if (message.role !== 'system') continue;
    for (const part of message.content) if (part.type === 'text' && part.text !== '') texts.push(part.text);
  }
  return texts.length === 0 ? undefined : texts.join('\n\n');
}

/** The conversation without its system messages. */
export function dialogue(messages: readonly Message[]): Message[] {
  return messages.filter((message) => message.role !== 'system');
}

/** A digest of the first `count` messages, to know a later request continues the same conversation. */
export function fingerprint(messages: readonly Message[], count: number): string {
  const hash = createHash('sha256');
  for (let index = 0; index < count; index++) hash.update(JSON.stringify(messages[index])).update('\n');
  return hash.digest('base64url');
}

/** A part as a line of a transcript. */
function partText(part: ContentPart): string | undefined {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
      return '[an image]';
    case 'audio':
      return '[an audio clip]';
    case 'file':
      return `[a file${part.filename !== undefined ? `: ${part.filename}` : ''}]`;
    case 'reasoning':
      return undefined;
    case 'tool-call':
      return `[called ${part.name}(${part.arguments})]`;
    case 'tool-result':
      return `[result of a tool call: ${typeof part.content === 'string' ? part.content : part.content.map((inner) => partText(inner) ?? '').join('\n')}]`;
    case 'hosted-tool-call':
      return `[used ${part.name}]`;
    case 'hosted-tool-result':
      return undefined;
    default: {
      const unknown: never = part;
      return String(unknown);
    }
  }
}

const ROLE_LABEL: Record<string, string> = { user: 'User', assistant: 'Assistant', tool: 'Tool', system: 'System' };

function transcript(messages: readonly Message[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    const text = message.content.map(partText).filter((piece) => piece !== undefined && piece !== '').join('\n');
    if (text !== '') lines.push(`${ROLE_LABEL[message.role] ?? message.role}: ${text}`);
  }
  return lines.join('\n\n');
}

/** The parts of the message(s) sent now; only inline (base64) media become file parts. */
function currentParts(messages: readonly Message[], offset: number): PromptPart[] {
  const parts: PromptPart[] = [];
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    const label = messages.length > 1 ? `${ROLE_LABEL[message.role] ?? message.role}: ` : '';
    let labelled = label === '';
    for (let partIndex = 0; partIndex < message.content.length; partIndex++) {
      const part = message.content[partIndex]!;
      if (part.type === 'image' || part.type === 'file' || part.type === 'audio') {
        const source = part.source;
        if (source.kind !== 'base64') {
          throw new UnsafeContent('opencode takes media inline (base64) only: a URL would be fetched, or a file: URL read, by opencode on the gateway host', `messages[${offset + index}].content[${partIndex}]`);
        }
        const mime = source.mediaType;
        parts.push({ type: 'file', mime, url: `data:${mime};base64,${source.data}`, ...(part.type === 'file' && part.filename !== undefined ? { filename: part.filename } : {}) });
        continue;
      }
      const text = partText(part);
      if (text === undefined || text === '') continue;
      parts.push({ type: 'text', text: labelled ? text : `${label}${text}` });
      labelled = true;
    }
  }
  return parts;
}

/**
 * The parts for a turn. `messages` is the dialogue; `from` is where the new part of it begins
 * (the session holds everything before, and an assistant message at `from` is its own last
 * answer); from 0 in a new session, everything before the last run of non-assistant messages
 * becomes a transcript ahead of it.
 */
export function promptParts(messages: readonly Message[], from: number): PromptPart[] {
  let start = from;
  if (from > 0 && messages[start]?.role === 'assistant') start++;
  if (from > 0) return currentParts(messages.slice(start), start);
  let current = messages.length;
  while (current > 0 && messages[current - 1]!.role !== 'assistant') current--;
  const parts: PromptPart[] = [];
  if (current > 0) {
    const ending = current < messages.length ? 'Continue it: answer the message that follows.' : 'Continue it from there.';
    parts.push({ type: 'text', text: `The conversation so far:\n\n${transcript(messages.slice(0, current))}\n\n(End of the conversation so far. ${ending})` });
  }
  parts.push(...currentParts(messages.slice(current), current));
  return parts;
}
