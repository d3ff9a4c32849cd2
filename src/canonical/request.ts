// The canonical request: what every surface decodes into and every provider encodes from.
// Types only; this module imports nothing.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export type MediaSource =
  | { kind: 'base64'; mediaType: string; data: string }
  | { kind: 'url'; url: string; mediaType?: string };

export interface CacheControl { type: 'ephemeral'; ttl?: string }

/**
 * A source a passage of the answer cites (a web search result). `start`/`end` are offsets in the
 * text part that carries it (UTF-16 code units, as JavaScript counts); absent, the citation
 * covers the whole part (Anthropic splits cited text into parts of their own).
 */
export interface Citation {
  url: string;
  title?: string;
  /** The passage of the source that is cited (Anthropic's `cited_text`). */
  citedText?: string;
  start?: number;
  end?: number;
  /** The citation as its provider wrote it, sent back verbatim to a provider of `dialect` only (Anthropic's `encrypted_index`). */
  raw?: Record<string, unknown>;
  dialect?: string;
}

export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
  citations?: Citation[];
  /**
   * In a tool result: the text stands for a reference that loads this deferred tool (Anthropic's
   * `tool_reference` block). An Anthropic provider gets the block back; another, the text.
   */
  toolReference?: string;
}
export interface ImagePart { type: 'image'; source: MediaSource; detail?: 'auto' | 'low' | 'high'; cacheControl?: CacheControl }
export interface AudioPart { type: 'audio'; source: MediaSource; format?: string }
export interface FilePart { type: 'file'; source: MediaSource; filename?: string }
/** Thinking text with its provider signature, or an opaque redacted block; both kept verbatim. */
export interface ReasoningPart { type: 'reasoning'; text: string; signature?: string; redactedData?: string; provider?: string }
export interface ToolCallPart { type: 'tool-call'; id: string; name: string; arguments: string }
export interface ToolResultPart { type: 'tool-result'; toolCallId: string; content: string | ContentPart[]; isError?: boolean; cacheControl?: CacheControl }

/** What a hosted (server-side) tool does, as far as dialects share it; `other` maps nowhere. */
export type HostedToolKind = 'web-search' | 'web-fetch' | 'code-execution' | 'tool-search' | 'other';

/** One result of a hosted web search or fetch. */
export interface WebResult { url: string; title?: string; pageAge?: string }

/**
 * A hosted tool the provider ran during an answer (Anthropic `server_tool_use`, Responses
 * `web_search_call`, Gemini's grounding queries). `raw` and `dialect` keep the provider's own
 * block: a provider of that dialect gets it back verbatim in a later turn, any other never sees it
 * (the answer text that followed carries what it found).
 */
export interface HostedToolCallPart {
  type: 'hosted-tool-call';
  id: string;
  kind: HostedToolKind;
  /** The provider's name for the tool (`web_search`, `code_execution`, …). */
  name: string;
  /** What the tool was asked (`{ query }` for a web search). */
  input: Record<string, unknown>;
  raw?: Record<string, unknown>;
  dialect?: string;
}

/** The results of a hosted tool call (Anthropic `web_search_tool_result`, Gemini's grounding chunks). */
export interface HostedToolResultPart {
  type: 'hosted-tool-result';
  /** The id of the call it answers. */
  callId: string;
  kind: HostedToolKind;
  results: WebResult[];
  /** The provider's error code when the tool failed (`max_uses_exceeded`, …). */
  errorCode?: string;
  raw?: Record<string, unknown>;
  dialect?: string;
}

export type ContentPart = TextPart | ImagePart | AudioPart | FilePart | ReasoningPart | ToolCallPart | ToolResultPart | HostedToolCallPart | HostedToolResultPart;

export interface Message { role: Role; content: ContentPart[]; name?: string }

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments, as the caller sent it. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
  /**
   * Loaded only when a tool search finds it (Anthropic's `defer_loading`): until a tool result
   * references it (a text part's `toolReference`), the model does not see it. An Anthropic provider
   * gets the flag; another is offered the tool once it is referenced.
   */
  deferred?: boolean;
}

/** An approximate user location for a hosted web search. */
export interface UserLocation { city?: string; region?: string; country?: string; timezone?: string }

/**
 * A tool the provider runs itself (Responses `web_search`, Anthropic's server tools, Gemini's
 * `googleSearch`, Chat Completions' `web_search_options`). A provider of the caller's dialect sends
 * `raw` verbatim; another maps what has an equivalent (a web search, with the options below) and
 * reports the rest as unsupported, for the route's `unsupported_tools` policy to drop or refuse.
 */
export interface HostedTool {
  kind: HostedToolKind;
  /** The caller's name for it, as `x-switchyard-dropped` reports it: `tools.web_search`, `web_search_options`. */
  field: string;
  /** The caller's dialect (`openai-responses`, `anthropic`, `gemini`, `openai`). */
  dialect: string;
  /** The definition as the caller sent it. */
  raw: Record<string, unknown>;
  /** Web search: only results from these domains / never from these. */
  allowedDomains?: string[];
  blockedDomains?: string[];
  userLocation?: UserLocation;
  /** Most uses of the tool in one answer (Anthropic's `max_uses`). */
  maxUses?: number;
  /** How much search context the model gets (OpenAI's `search_context_size`). */
  searchContextSize?: 'low' | 'medium' | 'high';
  /**
   * Only results from a cached index, no live fetching (Codex's default `external_web_access:
   * false`). No other dialect offers that, so such a search maps nowhere: a live search would do
   * more than the caller allowed.
   */
  cachedOnly?: boolean;
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
  /**
   * Server-side features with no equivalent in another dialect (Anthropic's `context_management`,
   * a Responses `tool_choice` naming a hosted tool): a provider of the same dialect merges them, any
   * other reports them as unsupported, for the `unsupported_tools` policy to drop or refuse.
   */
  serverSide?: Record<string, unknown>;
}

export interface CanonicalRequest {
  model: string;
  messages: Message[];
  tools?: ToolDefinition[];
  /** Tools the provider runs itself (web search, …); never the caller's own function tools. */
  hostedTools?: HostedTool[];
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
