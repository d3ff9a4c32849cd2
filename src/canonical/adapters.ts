// The contracts between the pipeline and the dialect adapters (types only).
//
// A surface is an inbound dialect endpoint (one wire API, e.g. Anthropic Messages); a provider
// is an outbound dialect. When the provider speaks the surface's wire natively the pipeline
// passes bytes through (fast path); otherwise the surface decodes to the canonical model and the
// provider encodes from it, and back: N surfaces + M providers converters, not N × M.
import type { Usage } from './usage.ts';
import type { EmbeddingRequest, EmbeddingResponse } from './embeddings.ts';
import type { ErrorInfo, GatewayError } from './errors.ts';
import type { CanonicalRequest } from './request.ts';
import type { CanonicalResponse } from './response.ts';
import type { StreamPart } from './stream.ts';

/** One concrete wire API. A provider that speaks a surface's wire gets the bytes as they are. */
export type Wire =
  | 'openai-chat'
  | 'openai-completions'
  | 'openai-embeddings'
  | 'openai-responses'
  | 'anthropic-messages'
  | 'anthropic-count-tokens'
  | 'gemini-generate'
  | 'gemini-count-tokens'
  | 'gemini-embed'
  | 'gemini-batch-embed'
  | 'ollama-chat'
  | 'ollama-generate'
  | 'ollama-embed'
  /** Ollama's older single-prompt `/api/embeddings`. */
  | 'ollama-embeddings'
  // OpenAI's media and utility APIs: served only by providers that speak them (bytes through)
  | 'openai-image-generations'
  | 'openai-image-edits'
  | 'openai-transcriptions'
  | 'openai-translations'
  | 'openai-speech'
  | 'openai-moderations'
  | 'openai-rerank';

/**
 * Operations with no canonical model and no translation: only a provider whose capabilities name
 * them, speaking the surface's own wire, can serve them (the request's bytes go through).
 */
export type PassThroughOperation = 'images' | 'image-edits' | 'transcriptions' | 'translations' | 'speech' | 'moderations' | 'rerank';

/** What a request asks for, once decoded: every generation wire decodes to `chat`. */
export type CanonicalOperation = 'chat' | 'embeddings' | 'count-tokens' | PassThroughOperation;

/**
 * How a surface's request body is read: JSON (parsed whole, within the body limit), or
 * multipart/form-data (text fields kept, file parts spooled to disk, the form replayed per attempt).
 */
export type BodyKind = 'json' | 'multipart';

/**
 * Items the gateway answered with, kept (bounded, in memory, per process) so a stateful client
 * that refers back to them by id (Responses `item_reference`) still works when translated.
 */
export interface ItemStore {
  get(id: string): unknown;
  set(id: string, item: unknown): void;
}

/** The parts of the HTTP request a surface may need besides the JSON body. */
export interface SurfaceRequest {
  /** The gateway's item store, for surfaces of stateful APIs. */
  items?: ItemStore;
  /** Path parameters, e.g. the model in Gemini's `/v1beta/models/{model}:generateContent`. */
  params: Readonly<Record<string, string>>;
  /** Query string without the `?` (may contain `alt=sse`, `beta=true`). */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the pipeline needs to know of a request before routing it. */
export interface RequestSummary {
  model: string;
  stream: boolean;
  /** The model came from the path (Gemini), so a pass-through body needs no model rename. */
  modelInPath?: boolean;
  /** How many answers the request asks for (OpenAI's `n`) when more than one. */
  choices?: number;
}

/**
 * Watches a pass-through stream for its final event where the dialect sends a terminator after it
 * (OpenAI's finish_reason before `data: [DONE]`, Anthropic's message_delta with a stop_reason
 * before message_stop). A stream that closes after its final event but without the terminator is
 * complete: the gateway writes the terminator itself.
 */
export interface FinalEventWatch {
  /** Whether this batch of whole events completes the answer (for several choices: its last one). */
  sees(events: Buffer): boolean;
  /** The dialect's terminator, as the bytes of a whole event. */
  readonly terminator: Buffer;
}

/** A response rendered for the wire. */
export interface WireResponse {
  status: number;
  /** Flat name/value list. */
  headers: string[];
  body: string;
}

/** Receives canonical stream parts; an interface, not a callback, so no closure per chunk. */
export interface PartSink {
  onPart(part: StreamPart): void;
}

/** Turns canonical stream parts into one dialect's stream bytes (SSE, NDJSON or a JSON array). */
export interface StreamEncoder {
  readonly contentType: string;
  /** Bytes for one part ('' when the part has no rendering in this dialect). */
  encode(part: StreamPart): string;
  /** A terminal error in this dialect, after the stream has started. */
  encodeError(error: ErrorInfo): string;
  /**
   * Set once a stream filter (a plugin) ended the stream with an error part: the last `encode`
   * rendered that error event, and the exchange ends the response after it.
   */
  readonly failure?: ErrorInfo | undefined;
}

/** Turns one dialect's upstream stream bytes into canonical parts. */
export interface StreamDecoder {
  /** Feeds bytes as they arrive; parts are delivered synchronously to `sink`. */
  push(chunk: Buffer, sink: PartSink): void;
  /**
   * The upstream ended. Emits whatever is pending; when the stream was incomplete (it closed
   * before its final event), emits an `error` part instead of a clean `response-end`. A stream
   * that sent its final event but not the terminator after it (OpenAI's [DONE], Anthropic's
   * message_stop) is complete and ends with `response-end`.
   */
  end(sink: PartSink): void;
}

export interface ChatSurfaceCodec {
  decodeRequest(body: unknown, request: SurfaceRequest): CanonicalRequest;
  encodeResponse(response: CanonicalResponse, request: CanonicalRequest): string;
  createStreamEncoder(request: CanonicalRequest, surfaceRequest: SurfaceRequest): StreamEncoder;
}

export interface EmbeddingsSurfaceCodec {
  decodeRequest(body: unknown, request: SurfaceRequest): EmbeddingRequest;
  encodeResponse(response: EmbeddingResponse, request: EmbeddingRequest, body: unknown): string;
}

export interface CountTokensSurfaceCodec {
  decodeRequest(body: unknown, request: SurfaceRequest): CanonicalRequest;
  encodeResponse(inputTokens: number): string;
}

/** An inbound API endpoint: one wire, one canonical operation. */
export interface SurfaceAdapter {
  readonly name: string;
  readonly dialect: string;
  readonly wire: Wire;
  readonly operation: CanonicalOperation;
  /** How the body is read (default `json`). */
  readonly body?: BodyKind;
  /**
   * The `Accept` sent upstream for a request that does not stream, when not `application/json`
   * (speech answers audio, transcriptions may answer text).
   */
  readonly accept?: string;
  /**
   * Validates the body just enough to route it — the parsed JSON, or a multipart form's fields
   * (text as strings, files as `{ filename, contentType, size }`); throws a GatewayError (400)
   * naming the field.
   */
  inspect(body: unknown, request: SurfaceRequest): RequestSummary;
  /**
   * The top-level members `inspect` reads, when they are all it reads: a JSON body is then skimmed
   * (its structure checked, these members located) rather than parsed whole, and `inspect` gets
   * only these — `value` decoded, `kind` as an empty value of its kind (`[]` for any list). What it
   * would check deeper `inspectWhole` checks once the body is parsed whole (a translated attempt,
   * the response cache); a pass-through body's content is the same-dialect upstream's to judge.
   * Absent: `inspect` gets the body parsed whole.
   */
  readonly topLevel?: Readonly<Record<string, 'value' | 'kind'>>;
  /** The checks on the whole body that `inspect` left out (see `topLevel`); throws a GatewayError (400). */
  inspectWhole?(body: unknown): void;
  /** True when this batch of whole SSE events (or NDJSON lines) holds the stream's terminal event (pass-through). */
  isStreamTerminal(events: Buffer): boolean;
  /**
   * The watch for a pass-through stream's final event, when the dialect has a terminator after it;
   * undefined when the final event is itself the end (Gemini's finishReason, Ollama's done line,
   * Responses' response.completed).
   */
  finalEventWatch(summary: RequestSummary): FinalEventWatch | undefined;
  /**
   * True when these whole events (or lines) hold the dialect's in-stream error (Anthropic's
   * `event: error`, OpenAI's `data: {"error"…`): as the first thing a stream sends, it is a failed
   * start that may be retried elsewhere before anything reaches the client.
   */
  isStreamError(events: Buffer): boolean;
  /** Whether the pass-through stream is framed as SSE (true) or NDJSON lines (false). */
  readonly streamFraming: 'sse' | 'ndjson' | 'json-array';
  encodeError(error: ErrorInfo): WireResponse;
  /** A terminal error event in this dialect, for failures after a pass-through stream started. */
  encodeStreamError(error: ErrorInfo): Buffer;
  /** Translation codecs, present for the operation this surface serves. */
  readonly chat?: ChatSurfaceCodec;
  readonly embeddings?: EmbeddingsSurfaceCodec;
  readonly countTokens?: CountTokensSurfaceCodec;
}

/** An upstream request built by a provider codec. */
export interface UpstreamRequest {
  /** Path under the provider's base URL, with any query string. */
  path: string;
  /** Flat header list (content-type is added by the pipeline). */
  headers: string[];
  body: string;
  /**
   * What the encoder left out because this provider cannot express it — hosted tools with no
   * equivalent, server-side fields of another dialect — by the caller's field names
   * (`tools.web_search`, `context_management`). The pipeline's `unsupported_tools` policy then
   * sends the request without them (reported in `x-switchyard-dropped`) or refuses it. Absent
   * when nothing was left out.
   */
  unsupported?: string[];
}

/** What a provider codec may know of the configured provider it encodes for. */
export interface ProviderContext {
  /** The configured provider's name, for messages. */
  name: string;
  /** The preset it was built from (`openai`, `groq`, …), for vendor quirks. */
  preset: string | undefined;
}

export interface ChatProviderCodec {
  encodeRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest;
  /** `request` is the one encoded, for settings the provider lacks and the decoder applies (stop sequences). */
  decodeResponse(body: unknown, request: CanonicalRequest): CanonicalResponse;
  createStreamDecoder(request: CanonicalRequest): StreamDecoder;
}

export interface EmbeddingsProviderCodec {
  encodeRequest(request: EmbeddingRequest, model: string, provider: ProviderContext): UpstreamRequest;
  decodeResponse(body: unknown, request: EmbeddingRequest): EmbeddingResponse;
}

export interface CountTokensProviderCodec {
  encodeRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest;
  decodeResponse(body: unknown): number;
}

/** An outbound dialect. */
export interface ProviderAdapter {
  readonly dialect: string;
  /**
   * `inline`: the provider only takes media as base64, so the pipeline downloads URL images
   * (bounded, before encoding) and the codec sees `{ kind: 'base64' }` sources only.
   */
  readonly mediaUrls: 'native' | 'inline';
  /** With `inline`: URLs the provider does take as they are (e.g. Gemini's own file URIs). */
  keepsMediaUrl?(url: string): boolean;
  /** Wires this dialect can serve natively when the provider's capabilities allow them. */
  readonly nativeWires: ReadonlySet<Wire>;
  /**
   * Whether a request on `wire`, in canonical form (a plugin read or changed it), can be encoded
   * again by this adapter's chat codec and its answer still passed through to the caller as it
   * comes: true only for the wire the chat codec writes, and when encoding adds nothing the caller
   * did not ask for. Absent: never (such a request is translated whole).
   */
  reencodes?(wire: Wire, request: CanonicalRequest): boolean;
  /**
   * Pass-through: the upstream path (with query) for a request on `wire` with the routed model,
   * and headers to forward from the client (e.g. `anthropic-beta`). Only called for native wires.
   */
  passThroughPath(wire: Wire, model: string, request: SurfaceRequest, stream: boolean): string;
  forwardHeaders(request: SurfaceRequest): string[];
  /** Path for model discovery, relative to the base URL (e.g. `/models`). */
  readonly modelListPath: string;
  decodeModelList(body: unknown): string[];
  /** Maps an upstream error answer to a gateway error (status, class, retry/fallback flags). */
  decodeError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError;
  readonly chat?: ChatProviderCodec;
  readonly embeddings?: EmbeddingsProviderCodec;
  readonly countTokens?: CountTokensProviderCodec;
  /**
   * Usage in pass-through answers: the JSON key whose object value holds it (`"usage"`), or, with
   * `wholeLine`, a key of the line that is itself the usage (Ollama's final line); and the mapping
   * of the (merged) raw object to canonical usage.
   */
  readonly usage?: { readonly key: string; readonly wholeLine?: boolean; from(raw: Record<string, unknown>): Usage | undefined };
}

/** The models a local handler may list or look up (built from the router; no I/O). */
export interface ModelCatalog {
  /** Every listable model: aliases, configured and discovered names. */
  list(): readonly { id: string; ownedBy: string }[];
  /** One model by any name a request could use (alias, prefix, pattern), or undefined. */
  find(name: string): { id: string; ownedBy: string } | undefined;
}

export interface LocalRequest extends SurfaceRequest {
  method: string;
  path: string;
  /** A POST route's JSON body (Ollama's `/api/show`), parsed; undefined when empty or not JSON. */
  body?: unknown;
}

/** A request the gateway answers itself in a dialect (model lists, version, …). */
export type LocalSurfaceHandler = (catalog: ModelCatalog, request: LocalRequest) => WireResponse;

/** How a dialect's paths reach its surfaces; each surface folder exports its list. */
export interface DialectRoute {
  method: 'GET' | 'POST';
  /** The exact path, or the prefix when `match` is given. */
  path: string;
  /** For prefix routes: the rest of the path → path params, or undefined when it does not match. */
  match?: (rest: string) => Record<string, string> | undefined;
  /** The route is taken only when this holds (e.g. Anthropic's GET /v1/models with `anthropic-version`). */
  when?: (request: SurfaceRequest) => boolean;
  /** A proxied surface … */
  surface?: SurfaceAdapter;
  /** … or an answer the gateway gives itself. */
  local?: LocalSurfaceHandler;
  /** The dialect errors are rendered in (defaults to `surface`). */
  errors?: SurfaceAdapter;
}

/** What a dialect's surface folder exports for the composition root. */
export interface DialectSurfaces {
  routes: readonly DialectRoute[];
  /** Path prefixes whose errors (404, 405, 401 …) render in this dialect. */
  errorPrefixes: readonly { prefix: string; surface: SurfaceAdapter }[];
}
