import type { FinishReason } from './response.ts';
import type { Usage } from './usage.ts';
import type { ErrorInfo } from './errors.ts';

// Stream parts: a discriminated union on `type` with start/delta/end lifecycles per content
// block (indexed in order of appearance) and one final `response-end` or `error`.
export type StreamPart =
  | { type: 'response-start'; id: string; model: string; created: number }
  | { type: 'text-start'; index: number }
  | { type: 'text-delta'; index: number; delta: string }
  | { type: 'text-end'; index: number }
  | { type: 'reasoning-start'; index: number; redactedData?: string }
  | { type: 'reasoning-delta'; index: number; delta: string }
  | { type: 'reasoning-signature'; index: number; signature: string }
  | { type: 'reasoning-end'; index: number }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'tool-call-end'; index: number }
  | { type: 'usage'; usage: Usage }
  | { type: 'response-end'; finishReason: FinishReason; rawFinishReason?: string; stopSequence?: string; usage?: Usage }
  | { type: 'error'; error: ErrorInfo };

export type StreamPartType = StreamPart['type'];
