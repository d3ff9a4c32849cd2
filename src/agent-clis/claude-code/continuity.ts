// Whether a request continues what a live Claude Code session already holds. The caller resends
// the whole history with each turn; the session has seen its first `consumed` messages and
// answered them. The request continues it when those messages are unchanged (the caller's side
// of them: system, user and tool messages — the caller's copy of an answer may differ in form
// from the one the session holds), the next message is the session's answer, and only user or
// tool messages follow. Anything else (an edited or regenerated turn, a shorter history) starts
// a fresh session with the history flattened.
import { createHash } from 'node:crypto';
import type { Message } from '../../canonical/request.ts';

/** A digest of the caller's side of the first `count` messages. */
export function historyDigest(messages: readonly Message[], count: number): string {
  const hash = createHash('sha256');
  for (let index = 0; index < count && index < messages.length; index++) {
    const message = messages[index]!;
    if (message.role === 'assistant') continue;
    hash.update(message.role);
    hash.update('\u0000');
    hash.update(JSON.stringify(message.content));
    hash.update('\u0001');
  }
  return hash.digest('base64');
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
