// The Ollama native surfaces: /api/chat, /api/generate, /api/embed and the older /api/embeddings.
import type { ChatSurfaceCodec, EmbeddingsSurfaceCodec, RequestSummary, SurfaceAdapter, SurfaceRequest, Wire, CanonicalOperation, WireResponse } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import { decodeChatRequest, decodeGenerateRequest } from './decode-request.ts';
import { embedCodec, legacyEmbeddingsCodec } from './embeddings.ts';
import { encodeChatResponse, encodeGenerateResponse } from './encode-response.ts';
import { OllamaStreamEncoder } from './encode-stream.ts';
import { encodeOllamaError, encodeOllamaStreamError } from './encode-error.ts';
import { inspectOllamaRequest, type OllamaKind } from './inspect.ts';
import { objectFrom } from '../../util/json-value.ts';

const LF = 0x0a;
const MARKERS = [Buffer.from('"done":true'), Buffer.from('"done": true'), Buffer.from('{"error"')];

/**
 * True when a batch of whole NDJSON lines holds the stream's last object: `done: true` (or an
 * error object) at the top level. A candidate line is parsed, so a tool argument named `done`
 * cannot end the stream early; text inside a JSON string has its quotes escaped and never matches.
 */
const ERROR_LINE = Buffer.from('{"error"');
const NEWLINE_ERROR_LINE = Buffer.from('\n{"error"');

export function holdsTerminalLine(lines: Buffer): boolean {
  for (const marker of MARKERS) {
    for (let at = lines.indexOf(marker); at >= 0; at = lines.indexOf(marker, at + 1)) {
      const start = lines.lastIndexOf(LF, at) + 1;
      const newline = lines.indexOf(LF, at);
      const end = newline < 0 ? lines.length : newline;
      try {
        const value = objectFrom(JSON.parse(lines.toString('utf8', start, end)));
        if (value !== undefined && (value.done === true || typeof value.error === 'string')) return true;
      } catch {
        // not a whole JSON line: not terminal
      }
      if (newline < 0) break;
      at = newline;
    }
  }
  return false;
}

const chatCodec: ChatSurfaceCodec = {
  decodeRequest: decodeChatRequest,
  encodeResponse: encodeChatResponse,
  createStreamEncoder: (request) => new OllamaStreamEncoder(request, false),
};

const generateCodec: ChatSurfaceCodec = {
  decodeRequest: decodeGenerateRequest,
  encodeResponse: encodeGenerateResponse,
  createStreamEncoder: (request) => new OllamaStreamEncoder(request, true),
};

interface OllamaSurfaceOptions {
  name: string;
  wire: Wire;
  kind: OllamaKind;
  operation: CanonicalOperation;
  chat?: ChatSurfaceCodec;
  embeddings?: EmbeddingsSurfaceCodec;
}

class OllamaSurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'ollama';
  readonly wire: Wire;
  readonly operation: CanonicalOperation;
  readonly streamFraming = 'ndjson' as const;
  readonly chat: ChatSurfaceCodec | undefined;
  readonly embeddings: EmbeddingsSurfaceCodec | undefined;
  private readonly kind: OllamaKind;

  constructor(options: OllamaSurfaceOptions) {
    this.name = options.name;
    this.wire = options.wire;
    this.kind = options.kind;
    this.operation = options.operation;
    this.chat = options.chat;
    this.embeddings = options.embeddings;
  }

  inspect(body: unknown, _request: SurfaceRequest): RequestSummary {
    return inspectOllamaRequest(this.kind, body);
  }

  isStreamTerminal(events: Buffer): boolean {
    return holdsTerminalLine(events);
  }

  /** The line with `done: true` is both the final event and the end. */
  finalEventWatch(_summary: RequestSummary): undefined {
    return undefined;
  }

  isStreamError(events: Buffer): boolean {
    return events.indexOf(ERROR_LINE) === 0 || events.indexOf(NEWLINE_ERROR_LINE) >= 0;
  }

  encodeError(error: ErrorInfo): WireResponse {
    return encodeOllamaError(error);
  }

  encodeStreamError(error: ErrorInfo): Buffer {
    return encodeOllamaStreamError(error);
  }
}

export const ollamaChat: SurfaceAdapter = new OllamaSurface({ name: 'ollama-chat', wire: 'ollama-chat', kind: 'chat', operation: 'chat', chat: chatCodec });
export const ollamaGenerate: SurfaceAdapter = new OllamaSurface({ name: 'ollama-generate', wire: 'ollama-generate', kind: 'generate', operation: 'chat', chat: generateCodec });
export const ollamaEmbed: SurfaceAdapter = new OllamaSurface({ name: 'ollama-embed', wire: 'ollama-embed', kind: 'embed', operation: 'embeddings', embeddings: embedCodec });
export const ollamaEmbeddings: SurfaceAdapter = new OllamaSurface({ name: 'ollama-embeddings', wire: 'ollama-embeddings', kind: 'embeddings', operation: 'embeddings', embeddings: legacyEmbeddingsCodec });
