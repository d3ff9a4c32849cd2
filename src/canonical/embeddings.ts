// Canonical embeddings: one vector per input, in input order.
import type { PassThrough } from './request.ts';
import type { Usage } from './usage.ts';

export interface EmbeddingRequest {
  model: string;
  /** Texts to embed (token-id inputs are carried as pass-through for same-dialect providers only). */
  inputs: string[];
  dimensions?: number;
  /** Gemini's task type (RETRIEVAL_QUERY, …), carried when the caller gave one. */
  taskType?: string;
  /** Fields the surface did not model, for a provider of the same dialect. */
  passThrough?: PassThrough;
}

export interface EmbeddingResponse {
  model: string;
  embeddings: number[][];
  usage: Pick<Usage, 'inputTokens'>;
}
