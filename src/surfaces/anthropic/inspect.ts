// Validation of Anthropic Messages bodies, just enough to route them and to fail fast with a 400
// naming the field (Anthropic's dotted paths: `messages.0.content`). Everything else is judged by
// the decoder (translation) or by Anthropic itself (pass-through).
import type { RequestSummary } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { describe, isObject, type JsonObject } from '../../util/json-value.ts';

/**
 * `max_tokens` is required by Anthropic but not checked here: a pass-through request gets
 * Anthropic's own answer, and a translated one gets the provider's default (docs/translation/anthropic.md).
 */
/** The body as a JSON object, or Anthropic's 400 for anything else. */
export function requestObject(body: unknown): JsonObject {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, not ${describe(body)}.`);
  return body;
}

/** What inspect reads, and all it reads (SurfaceAdapter.topLevel); the messages are checked by inspectMessages. */
export const MESSAGES_TOP_LEVEL: Readonly<Record<string, 'value' | 'kind'>> = Object.freeze({ model: 'value', messages: 'kind', max_tokens: 'value', stream: 'value' });

/** The routing fields and the kinds of the required ones (the body's top level, as skimmed). */
export function inspectMessagesRequest(body: unknown, countTokens: boolean): RequestSummary {
  const record = requestObject(body);
  const model = record.model;
  if (model === undefined) throw invalidRequest('model: Field required', 'model');
  if (typeof model !== 'string' || model.length === 0) throw invalidRequest(`model: Input should be a non-empty string, got ${describe(model)}`, 'model');
  const messages = record.messages;
  if (messages === undefined) throw invalidRequest('messages: Field required', 'messages');
  if (!Array.isArray(messages)) throw invalidRequest(`messages: Input should be a valid list, got ${describe(messages)}`, 'messages');
  if (messages.length === 0) throw invalidRequest('messages: at least one message is required', 'messages');
  const maxTokens = record.max_tokens;
  if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 0)) {
    throw invalidRequest(`max_tokens: Input should be a non-negative integer, got ${describe(maxTokens)}`, 'max_tokens');
  }
  const stream = record.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalidRequest(`stream: Input should be a valid boolean, got ${describe(stream)}`, 'stream');
  return { model, stream: !countTokens && stream === true };
}

/**
 * Each message's role and the kind of its content, as the decoder expects: checked when the body is
 * parsed whole (a translated attempt); a pass-through body's messages are Anthropic's to judge.
 */
export function inspectMessages(body: unknown): void {
  const messages = (body as JsonObject).messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isObject(message)) throw invalidRequest(`messages.${i}: Input should be an object`, `messages.${i}`);
    // `system` mid-conversation: Claude Code sends it (the mid-conversation-system beta)
    if (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system') {
      throw invalidRequest(`messages.${i}.role: Input should be 'user', 'assistant' or 'system'`, `messages.${i}.role`);
    }
    const content = message.content;
    if (typeof content !== 'string' && !Array.isArray(content)) throw invalidRequest(`messages.${i}.content: Input should be a string or a list of content blocks`, `messages.${i}.content`);
  }
}
