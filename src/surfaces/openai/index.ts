// The OpenAI surfaces: Chat Completions, Completions, Embeddings, Responses. Each generation API
// has its folder with the dialect's file set (decode-request, encode-response, encode-stream);
// what they share (inspect, encode-error, fields, this adapter class, routes) sits here.
import type { ChatSurfaceCodec, EmbeddingsSurfaceCodec, FinalEventWatch, RequestSummary, SurfaceAdapter, SurfaceRequest, Wire, CanonicalOperation } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { Operation } from '../../canonical/request.ts';
import { decodeChatRequest } from './chat/decode-request.ts';
import { encodeChatResponse } from './chat/encode-response.ts';
import { ChatStreamEncoder } from './chat/encode-stream.ts';
import { decodeCompletionsRequest } from './completions/decode-request.ts';
import { encodeCompletionsResponse } from './completions/encode-response.ts';
import { CompletionsStreamEncoder } from './completions/encode-stream.ts';
import { embeddingsCodec } from './embeddings.ts';
import { encodeOpenAIError, encodeOpenAIStreamError, encodeResponsesStreamError } from './encode-error.ts';
import { choicesFinishWatch } from './final-event.ts';
import { LineMarkers, lineStartsWithName } from '../../streaming/frame-scan.ts';
import { inspectOpenAIMessages, inspectOpenAIRequest, OPENAI_TOP_LEVEL } from './inspect.ts';
import { decodeResponsesRequest } from './responses/decode-request.ts';
import { encodeResponsesResponse } from './responses/encode-response.ts';
import { ResponsesStreamEncoder } from './responses/encode-stream.ts';

const DONE = Buffer.from('[DONE]');
const DATA_LINES = [Buffer.from('data: '), Buffer.from('data:')];
const CHAT_ERRORS = new LineMarkers(['data: {"error"', 'data:{"error"']);
const RESPONSE_ERRORS = new LineMarkers([
  'event: error',
  'event: response.failed',
  'data: {"type":"error"',
  'data: {"type":"response.failed"',
]);
const RESPONSE_TERMINALS = new LineMarkers([
  'event: response.completed',
  'event: response.failed',
  'event: response.incomplete',
  'data: {"type":"response.completed"',
  'data: {"type":"response.failed"',
  'data: {"type":"response.incomplete"',
]);

const chatCodec: ChatSurfaceCodec = {
  decodeRequest: decodeChatRequest,
  encodeResponse: encodeChatResponse,
  createStreamEncoder: (request) => new ChatStreamEncoder(request),
};

/** Legacy completions, translated through the canonical chat model. */
const completionsCodec: ChatSurfaceCodec = {
  decodeRequest: decodeCompletionsRequest,
  encodeResponse: encodeCompletionsResponse,
  createStreamEncoder: (request) => new CompletionsStreamEncoder(request),
};

/** Responses requests translated for providers that do not speak Responses. */
const responsesCodec: ChatSurfaceCodec = {
  decodeRequest: decodeResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: (request) => new ResponsesStreamEncoder(request),
};

interface OpenAISurfaceOptions {
  name: string;
  wire: Wire;
  /** The legacy operation name used by inspect(). */
  kind: Operation;
  operation: CanonicalOperation;
  chat?: ChatSurfaceCodec;
  embeddings?: EmbeddingsSurfaceCodec;
}

class OpenAISurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'openai';
  readonly wire: Wire;
  readonly operation: CanonicalOperation;
  readonly streamFraming = 'sse' as const;
  readonly chat: ChatSurfaceCodec | undefined;
  readonly embeddings: EmbeddingsSurfaceCodec | undefined;
  readonly topLevel = OPENAI_TOP_LEVEL;
  private readonly kind: Operation;

  constructor(options: OpenAISurfaceOptions) {
    this.name = options.name;
    this.wire = options.wire;
    this.kind = options.kind;
    this.operation = options.operation;
    this.chat = options.chat;
    this.embeddings = options.embeddings;
  }

  inspect(body: unknown, _request: SurfaceRequest) {
    return inspectOpenAIRequest(this.kind, body);
  }

  inspectWhole(body: unknown): void {
    inspectOpenAIMessages(this.kind, body);
  }

  isStreamTerminal(events: Buffer): boolean {
    return this.kind === 'responses' ? RESPONSE_TERMINALS.startAnyLine(events) : lineStartsWithName(events, DONE, DATA_LINES);
  }

  /** Chat and Completions end with [DONE] after the finishing chunk; Responses' terminal events are final. */
  finalEventWatch(summary: RequestSummary): FinalEventWatch | undefined {
    return this.kind === 'chat' || this.kind === 'completions' ? choicesFinishWatch(summary) : undefined;
  }

  isStreamError(events: Buffer): boolean {
    return (this.kind === 'responses' ? RESPONSE_ERRORS : CHAT_ERRORS).startAnyLine(events);
  }

  encodeError(error: ErrorInfo) {
    return encodeOpenAIError(error);
  }

  encodeStreamError(error: ErrorInfo): Buffer {
    return this.kind === 'responses' ? encodeResponsesStreamError(error) : encodeOpenAIStreamError(error);
  }
}

export const openaiChat: SurfaceAdapter = new OpenAISurface({ name: 'openai-chat', wire: 'openai-chat', kind: 'chat', operation: 'chat', chat: chatCodec });
export const openaiCompletions: SurfaceAdapter = new OpenAISurface({ name: 'openai-completions', wire: 'openai-completions', kind: 'completions', operation: 'chat', chat: completionsCodec });
export const openaiEmbeddings: SurfaceAdapter = new OpenAISurface({ name: 'openai-embeddings', wire: 'openai-embeddings', kind: 'embeddings', operation: 'embeddings', embeddings: embeddingsCodec });
export const openaiResponses: SurfaceAdapter = new OpenAISurface({ name: 'openai-responses', wire: 'openai-responses', kind: 'responses', operation: 'chat', chat: responsesCodec });

export { encodeOpenAIError } from './encode-error.ts';
