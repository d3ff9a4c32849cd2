// The canonical request: what every surface decodes into and every provider encodes from.
// Types only; this module imports nothing.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export type MediaSource =
  | { kind: 'base64'; mediaType: string; data: string }
  | { kind: 'url'; url: string; mediaType?: string };

export interface CacheControl { type: 'ephemeral'; ttl?: string }

export interface TextPart { type: 'text'; text: string; cacheControl?: CacheControl }
export interface ImagePart { type: 'image'; source: MediaSource; detail?: 'auto' | 'low' | 'high'; cacheControl?: CacheControl }
export interface AudioPart { type: 'audio'; source: MediaSource; format?: string }
export interface FilePart { type: 'file'; source: MediaSource; filename?: string }
/** Thinking text with its provider signature, or an opaque redacted block; both kept verbatim. */
export interface ReasoningPart { type: 'reasoning'; text: string; signature?: string; redactedData?: string; provider?: string }
export interface ToolCallPart { type: 'tool-call'; id: string; name: string; arguments: string }
export interface ToolResultPart { type: 'tool-result'; toolCallId: string; content: string | ContentPart[]; isError?: boolean; cacheControl?: CacheControl }

export type ContentPart = TextPart | ImagePart | AudioPart | FilePart | ReasoningPart | ToolCallPart | ToolResultPart;

export interface Message { role: Role; content: ContentPart[]; name?: string }

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments, as the caller sent it. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json' }
  | { type: 'json-schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export interface ReasoningSettings {
  effort?: ReasoningEffort;
  budgetTokens?: number;
  /** Whether the caller wants thinking text back (Anthropic `thinking`, OpenAI `reasoning.summary`). */
  includeThoughts?: boolean;
}

export interface SamplingSettings {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface RequestMetadata { user?: string; sessionId?: string }

/**
 * Fields the surface did not model. `fields` change what is generated: a provider of the same
 * dialect merges them, any other rejects them with a 400. `inert` ones change nothing about the
 * answer (Ollama's `keep_alive`): a provider of the same dialect merges them, any other drops them.
 */
export interface PassThrough {
  dialect: string;
  fields: Record<string, unknown>;
  inert?: Record<string, unknown>;
}

export interface CanonicalRequest {
  model: string;
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  sampling: SamplingSettings;
  responseFormat?: ResponseFormat;
  reasoning?: ReasoningSettings;
  stream: boolean;
  metadata?: RequestMetadata;
  /**
   * Fields the surface did not model, keyed by the dialect they came from, so a provider of the
   * same dialect can send them on instead of silently dropping them.
   */
  passThrough?: PassThrough;
  /**
   * Facts only the inbound surface needs when it renders the answer (OpenAI's
   * `stream_options.include_usage`, Gemini's `alt=sse`, …); providers ignore them.
   */
  surfaceHints?: Record<string, unknown>;
}

/** The kinds of work a request asks for; surfaces declare one, providers declare which they serve. */
export type Operation = 'chat' | 'completions' | 'embeddings' | 'responses';
