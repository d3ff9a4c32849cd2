import type { FinishReason } from './response.ts';
import type { Usage } from './usage.ts';
import type { ErrorInfo } from './errors.ts';
import type { Citation, HostedToolCallPart, HostedToolResultPart } from './request.ts';

// Stream parts: a discriminated union on `type`. The contract every decoder keeps and every
// encoder relies on:
// - exactly one `response-start` comes first;
// - content blocks are strictly sequential: `<kind>-start`, its deltas, `<kind>-end`, with at most
//   one block open at a time; `index` numbers blocks from 0 in order of appearance, across kinds;
// - a hosted tool's call and its result are whole blocks of one part each (`hosted-tool-call`,
//   `hosted-tool-result`), sent between other blocks (never while one is open), each with its index;
// - `text-citation` belongs to the open text block (its index) and may come before, between or
//   after its deltas; a citation without offsets covers the whole block;
// - `usage` may come at any point after `response-start` (fields present override earlier ones);
// - the stream ends with exactly one `response-end` (carrying the final usage when known) or one
//   `error`; a decoder that sees its upstream stop without a terminal event emits `error`.
export type StreamPart =
  | { type: 'response-start'; id: string; model: string; created: number }
  | { type: 'text-start'; index: number }
  | { type: 'text-delta'; index: number; delta: string }
  | { type: 'text-citation'; index: number; citation: Citation }
  | { type: 'text-end'; index: number }
  | { type: 'reasoning-start'; index: number; redactedData?: string }
  | { type: 'reasoning-delta'; index: number; delta: string }
  | { type: 'reasoning-signature'; index: number; signature: string }
  | { type: 'reasoning-end'; index: number }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'tool-call-end'; index: number }
  | { type: 'hosted-tool-call'; index: number; call: HostedToolCallPart }
  | { type: 'hosted-tool-result'; index: number; result: HostedToolResultPart }
  | { type: 'usage'; usage: Usage }
  | { type: 'response-end'; finishReason: FinishReason; rawFinishReason?: string; stopSequence?: string; usage?: Usage }
  | { type: 'error'; error: ErrorInfo };

export type StreamPartType = StreamPart['type'];
