// Canonical response → OpenAI Chat Completions JSON.
import type { CanonicalResponse } from '../../../canonical/response.ts';
import { openaiFinishReason, openaiUsage } from '../fields.ts';

export function reasoningDetails(text: string, signature: string | undefined, redacted: string | undefined, index: number): Record<string, unknown> {
  if (redacted !== undefined) return { type: 'reasoning.encrypted', data: redacted, index };
  return { type: 'reasoning.text', text, ...(signature !== undefined ? { signature } : {}), index };
}

export function encodeChatResponse(response: CanonicalResponse): string {
  let text = '';
  let reasoning = '';
  const details: Record<string, unknown>[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  for (const part of response.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') {
      reasoning += part.text;
      if (part.signature !== undefined || part.redactedData !== undefined) details.push(reasoningDetails(part.text, part.signature, part.redactedData, details.length));
    } else toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null, refusal: null };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (details.length > 0) message.reasoning_details = details;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return JSON.stringify({
    id: response.id,
    object: 'chat.completion',
    created: response.created,
    model: response.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinishReason(response.finishReason) }],
    usage: openaiUsage(response.usage),
  });
}
