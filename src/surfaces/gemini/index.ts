// The Gemini surfaces: generateContent, streamGenerateContent (SSE with `?alt=sse`, a streamed
// JSON array without), countTokens, embedContent and batchEmbedContents.
import type {
  CanonicalOperation, ChatSurfaceCodec, CountTokensSurfaceCodec, EmbeddingsSurfaceCodec, RequestSummary, SurfaceAdapter, SurfaceRequest, Wire, WireResponse,
} from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import { countTokensCodec } from './count-tokens.ts';
import { decodeGenerateRequest } from './decode-request.ts';
import { encodeGeminiError, geminiErrorObject, geminiSseError } from './encode-error.ts';
import { encodeGenerateResponse } from './encode-response.ts';
import { GeminiStreamEncoder, type GeminiStreamMode } from './encode-stream.ts';
import { batchEmbedCodec, embedCodec } from './embeddings.ts';
import { inspectGeminiRequest, type GeminiKind } from './inspect.ts';

/**
 * Gemini streams have no end marker: the chunk carrying `finishReason` (or a prompt's
 * `blockReason`) is the last. A key in quotes cannot occur unescaped inside a JSON string.
 */
const ERROR_MARKER = Buffer.from('data: {"error"');
const TERMINALS = [Buffer.from('"finishReason"'), Buffer.from('"blockReason"')];

function chatCodec(stream: boolean, mode: GeminiStreamMode): ChatSurfaceCodec {
  return {
    decodeRequest: (body, request) => decodeGenerateRequest(body, request, stream),
    encodeResponse: encodeGenerateResponse,
    createStreamEncoder: (request) => new GeminiStreamEncoder(mode, request.hostedTools?.some((tool) => tool.kind === 'web-search') === true),
  };
}

interface GeminiSurfaceOptions {
  name: string;
  wire: Wire;
  kind: GeminiKind;
  operation: CanonicalOperation;
  stream?: boolean;
  framing?: 'sse' | 'json-array';
  chat?: ChatSurfaceCodec;
  embeddings?: EmbeddingsSurfaceCodec;
  countTokens?: CountTokensSurfaceCodec;
}

class GeminiSurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'gemini';
  readonly wire: Wire;
  readonly operation: CanonicalOperation;
  readonly streamFraming: 'sse' | 'json-array';
  readonly chat: ChatSurfaceCodec | undefined;
  readonly embeddings: EmbeddingsSurfaceCodec | undefined;
  readonly countTokens: CountTokensSurfaceCodec | undefined;
  private readonly kind: GeminiKind;
  private readonly stream: boolean;

  constructor(options: GeminiSurfaceOptions) {
    this.name = options.name;
    this.wire = options.wire;
    this.kind = options.kind;
    this.operation = options.operation;
    this.stream = options.stream ?? false;
    this.streamFraming = options.framing ?? 'sse';
    this.chat = options.chat;
    this.embeddings = options.embeddings;
    this.countTokens = options.countTokens;
  }

  inspect(body: unknown, request: SurfaceRequest): RequestSummary {
    return inspectGeminiRequest(this.kind, body, request, this.stream);
  }

  isStreamTerminal(events: Buffer): boolean {
    for (const marker of TERMINALS) if (events.indexOf(marker) >= 0) return true;
    return false;
  }

  /** Gemini has no terminator: a chunk with finishReason (or a blockReason) is the end. */
  finalEventWatch(_summary: RequestSummary): undefined {
    return undefined;
  }

  isStreamError(events: Buffer): boolean {
    return events.indexOf(ERROR_MARKER) >= 0;
  }

  encodeError(error: ErrorInfo): WireResponse {
    return encodeGeminiError(error);
  }

  encodeStreamError(error: ErrorInfo): Buffer {
    if (this.streamFraming === 'sse') return Buffer.from(geminiSseError(error));
    return Buffer.from(`,\r\n${JSON.stringify({ error: geminiErrorObject(error) })}]`);
  }
}

export const geminiGenerate: SurfaceAdapter = new GeminiSurface({ name: 'gemini-generate', wire: 'gemini-generate', kind: 'generate', operation: 'chat', chat: chatCodec(false, 'sse') });
export const geminiStream: SurfaceAdapter = new GeminiSurface({
  name: 'gemini-stream', wire: 'gemini-generate', kind: 'generate', operation: 'chat', stream: true, framing: 'sse', chat: chatCodec(true, 'sse'),
});
export const geminiStreamArray: SurfaceAdapter = new GeminiSurface({
  name: 'gemini-stream-json', wire: 'gemini-generate', kind: 'generate', operation: 'chat', stream: true, framing: 'json-array', chat: chatCodec(true, 'array'),
});
export const geminiCountTokens: SurfaceAdapter = new GeminiSurface({ name: 'gemini-count-tokens', wire: 'gemini-count-tokens', kind: 'count-tokens', operation: 'count-tokens', countTokens: countTokensCodec });
export const geminiEmbed: SurfaceAdapter = new GeminiSurface({ name: 'gemini-embed', wire: 'gemini-embed', kind: 'embed', operation: 'embeddings', embeddings: embedCodec });
export const geminiBatchEmbed: SurfaceAdapter = new GeminiSurface({ name: 'gemini-batch-embed', wire: 'gemini-batch-embed', kind: 'batch-embed', operation: 'embeddings', embeddings: batchEmbedCodec });
