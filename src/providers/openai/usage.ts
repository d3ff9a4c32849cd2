// Token usage in any OpenAI-wire answer passed through as bytes. The APIs name it three ways:
// Chat Completions and Completions count `prompt_tokens` / `completion_tokens`; Responses, images
// (gpt-image), transcriptions and speech count `input_tokens` / `output_tokens`; embeddings and
// rerank (Jina, vLLM) give `total_tokens` alone, all of it input. A usage with no token count at
// all (whisper's `{ "type": "duration", "seconds": … }`) is no token usage.
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, isObject, objectFrom } from '../../util/json-value.ts';
import { usageFrom as chatUsageFrom } from './chat-decode.ts';

export function passThroughUsageFrom(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.prompt_tokens !== undefined || raw.completion_tokens !== undefined) return chatUsageFrom(raw);
  const input = countFrom(raw.input_tokens);
  const output = countFrom(raw.output_tokens);
  if (input === undefined && output === undefined) {
    const total = countFrom(raw.total_tokens);
    return total === undefined ? undefined : { inputTokens: total, outputTokens: 0 };
  }
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const cached = countFrom(objectFrom(raw.input_tokens_details)?.cached_tokens);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  const reasoning = countFrom(objectFrom(raw.output_tokens_details)?.reasoning_tokens);
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}
