// One canonical response → the canonical stream parts that would have carried it, rendered by a
// surface's stream encoder: how an answer stored whole (the response cache) is sent to a caller
// that asked for a stream. The inverse of response-collector.ts: one start/delta/end per block,
// the usage on the final part.
import type { StreamEncoder } from '../canonical/adapters.ts';
import type { CanonicalResponse } from '../canonical/response.ts';
import type { StreamPart } from '../canonical/stream.ts';

/** The parts of `response`, in stream order. */
export function streamPartsOf(response: CanonicalResponse): StreamPart[] {
  const parts: StreamPart[] = [{ type: 'response-start', id: response.id, model: response.model, created: response.created }];
  const content = response.content;
  for (let index = 0; index < content.length; index++) {
    const block = content[index]!;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text-start', index });
        if (block.text !== '') parts.push({ type: 'text-delta', index, delta: block.text });
        for (const citation of block.citations ?? []) parts.push({ type: 'text-citation', index, citation });
        parts.push({ type: 'text-end', index });
        break;
      case 'reasoning':
        parts.push(block.redactedData !== undefined ? { type: 'reasoning-start', index, redactedData: block.redactedData } : { type: 'reasoning-start', index });
        if (block.text !== '') parts.push({ type: 'reasoning-delta', index, delta: block.text });
        if (block.signature !== undefined) parts.push({ type: 'reasoning-signature', index, signature: block.signature });
        parts.push({ type: 'reasoning-end', index });
        break;
      case 'tool-call':
        parts.push({ type: 'tool-call-start', index, id: block.id, name: block.name });
        if (block.arguments !== '') parts.push({ type: 'tool-call-delta', index, argumentsDelta: block.arguments });
        parts.push({ type: 'tool-call-end', index });
        break;
      case 'hosted-tool-call':
        parts.push({ type: 'hosted-tool-call', index, call: block });
        break;
      case 'hosted-tool-result':
        parts.push({ type: 'hosted-tool-result', index, result: block });
        break;
    }
  }
  const end: StreamPart = { type: 'response-end', finishReason: response.finishReason, usage: response.usage };
  if (response.rawFinishReason !== undefined) end.rawFinishReason = response.rawFinishReason;
  if (response.stopSequence !== undefined) end.stopSequence = response.stopSequence;
  parts.push(end);
  return parts;
}

/** The whole stream of `response` in the encoder's dialect. */
export function replayResponse(response: CanonicalResponse, encoder: StreamEncoder): string {
  let out = '';
  for (const part of streamPartsOf(response)) out += encoder.encode(part);
  return out;
}
