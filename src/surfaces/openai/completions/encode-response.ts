// Canonical response → legacy Completions JSON (`text_completion`): the answer's text, nothing else.
import type { CanonicalResponse } from '../../../canonical/response.ts';
import { openaiFinishReason, openaiUsage } from '../fields.ts';

export function completionId(id: string): string {
  return id.startsWith('cmpl-') ? id : `cmpl-${id}`;
}

export function encodeCompletionsResponse(response: CanonicalResponse): string {
  const text = response.content.filter((part) => part.type === 'text').map((part) => part.text).join('');
  return JSON.stringify({
    id: completionId(response.id), object: 'text_completion', created: response.created, model: response.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: openaiFinishReason(response.finishReason) }],
    usage: openaiUsage(response.usage),
  });
}
