export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (a subset of inputTokens). */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (a subset of outputTokens). */
  reasoningTokens?: number;
}
