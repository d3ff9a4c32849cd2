// Whether a request continues what a live Claude Code session already holds. The caller resends
// the whole history with each turn; the session has seen its first `consumed` messages and
// answered them. The request continues it when those messages are unchanged (the caller's side
// of them: system, user and tool messages — the caller's copy of an answer may differ in form
// from the one the session holds), the next message is the session's answer, and only user or
// tool messages follow. Anything else (an edited or regenerated turn, a shorter history) starts
// a fresh session with the history flattened.
import { createHash, type Hash } from 'node:crypto';
import type { ContentPart, Message } from '../../canonical/request.ts';

/** A digest of the caller's side of the first `count` messages. */
export function historyDigest(messages: readonly Message[], count: number): string {
  const hash = createHash('sha256');
  for (let index = 0; index < count && index < messages.length; index++) {
    const message = messages[index]!;
    if (message.role === 'assistant') continue;
    hash.update(message.role);
    for (const part of message.content) hashPart(hash, part);
    hash.update('\u0001');
  }
  return hash.digest('base64');
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
      hash.update(part.toolCallId);
      if (typeof part.content === 'string') hash.update(part.content);
      else for (const inner of part.content) hashPart(hash, inner);
      return;
    default:
      // reasoning and hosted-tool records: never sent to Claude Code, not part of what it holds
      return;
  }
}

/**
 * Where the new messages start when `messages` continues a session that consumed `consumed`
 * messages with this `digest`; undefined when it does not.
 */
export function continuationStart(messages: readonly Message[], consumed: number, digest: string): number | undefined {
  if (messages.length < consumed + 2 || messages[consumed]!.role !== 'assistant') return undefined;
  // a new system message changes the system prompt, which only a fresh session takes
  for (let index = consumed + 1; index < messages.length; index++) {
    const role = messages[index]!.role;
    if (role === 'assistant' || role === 'system') return undefined;
  }
  if (messages[messages.length - 1]!.role !== 'user') return undefined;
  return historyDigest(messages, consumed) === digest ? consumed + 1 : undefined;
}
