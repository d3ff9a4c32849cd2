import type { HostedToolCallPart, HostedToolResultPart, ReasoningPart, TextPart, ToolCallPart } from './request.ts';
import type { Usage } from './usage.ts';

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

export type ResponsePart = TextPart | ReasoningPart | ToolCallPart | HostedToolCallPart | HostedToolResultPart;

export interface CanonicalResponse {
  id: string;
  model: string;
  created: number;
  content: ResponsePart[];
  finishReason: FinishReason;
  /** The provider's own word for why it stopped, for surfaces that can carry it. */
  rawFinishReason?: string;
  stopSequence?: string;
  usage: Usage;
}
