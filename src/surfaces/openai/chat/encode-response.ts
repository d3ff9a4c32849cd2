// Canonical response → OpenAI Chat Completions JSON.
import type { Citation } from '../../../canonical/request.ts';
import type { CanonicalResponse } from '../../../canonical/response.ts';
import { openaiFinishReason, openaiUsage } from '../fields.ts';

export function reasoningDetails(text: string, signature: string | undefined, redacted: string | undefined, index: number): Record<string, unknown> {
  if (redacted !== undefined) return { type: 'reasoning.encrypted', data: redacted, index };
  return { type: 'reasoning.text', text, ...(signature !== undefined ? { signature } : {}), index };
}

/**
 * A citation as a `url_citation` annotation over the message content; `base` is where the cited
 * text starts in it, `length` its length (the span of a citation without offsets).
 */
export function urlAnnotation(citation: Citation, base: number, length: number): Record<string, unknown> {
  return {
    type: 'url_citation',
    url_citation: { start_index: base + (citation.start ?? 0), end_index: base + (citation.end ?? length), url: citation.url, title: citation.title ?? citation.url },
  };
}

export function encodeChatResponse(response: CanonicalResponse): string {
  let text = '';
  let reasoning = '';
  const details: Record<string, unknown>[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  let annotations: Record<string, unknown>[] | undefined;
  for (const part of response.content) {
    switch (part.type) {
      case 'text':
        if (part.citations !== undefined) for (const citation of part.citations) (annotations ??= []).push(urlAnnotation(citation, text.length, part.text.length));
        text += part.text;
        break;
      case 'reasoning':
        reasoning += part.text;
        if (part.signature !== undefined || part.redactedData !== undefined) details.push(reasoningDetails(part.text, part.signature, part.redactedData, details.length));
        break;
      case 'tool-call':
        toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
        break;
      case 'hosted-tool-call':
      case 'hosted-tool-result':
        break; // Chat Completions shows what a search found only as the text's annotations
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null, refusal: null };
  if (annotations !== undefined) message.annotations = annotations;
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
