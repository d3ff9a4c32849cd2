// OpenAI's media and utility APIs: images, audio, moderations, and rerank (the Cohere / Jina /
// vLLM shape). There is no canonical model for them and nothing to translate: a request goes,
// as the client sent it (the model renamed when routing says so), to a provider that serves the
// same API, and the answer comes back as the provider sent it — JSON, text, audio bytes or SSE.
// What the surface knows is just enough to route: the model, whether a stream is asked for, the
// fields without which the request cannot be right, and how its streams end.
import type { BodyKind, PassThroughOperation, RequestSummary, SurfaceAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import { invalidRequest, type ErrorInfo } from '../../canonical/errors.ts';
import { describe, isObject, type JsonObject } from '../../util/json-value.ts';
import { encodeOpenAIError, encodeResponsesStreamError } from './encode-error.ts';
import { requestObject } from './inspect.ts';
import { LineMarkers } from '../../streaming/frame-scan.ts';

/** How a request asks for a stream: a boolean `stream` field, or speech's `stream_format: "sse"`. */
type StreamField = 'stream' | 'stream_format' | undefined;

interface MediaSurfaceOptions {
  name: string;
  wire: Wire;
  operation: PassThroughOperation;
  body: BodyKind;
  /** The model OpenAI applies when the request names none; without one, `model` is required. */
  defaultModel?: string;
  /** Fields the API requires besides the model (text or JSON values). */
  required: readonly string[];
  /** Multipart: the request needs a file in one of these fields (`image` or `image[]`). */
  files?: readonly string[];
  stream: StreamField;
  accept?: string;
}

// The events after which a media stream has said everything: OpenAI's typed events (in both the
// `event:` line and the JSON `type`), and the `[DONE]` of servers that stream transcriptions as
// chat-like chunks (vLLM).
const TERMINAL_TYPES = ['transcript.text.done', 'speech.audio.done', 'image_generation.completed', 'image_edit.completed'];
const TERMINALS = new LineMarkers([
  'data: [DONE]',
  'data:[DONE]',
  ...TERMINAL_TYPES.flatMap((type) => [`event: ${type}`, `data: {"type":"${type}"`]),
]);
const ERRORS = new LineMarkers(['event: error', 'data: {"type":"error"', 'data: {"error"', 'data:{"error"']);

class OpenAIMediaSurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'openai';
  readonly wire: Wire;
  readonly operation: PassThroughOperation;
  readonly body: BodyKind;
  readonly accept: string | undefined;
  readonly streamFraming = 'sse' as const;
  private readonly defaultModel: string | undefined;
  private readonly required: readonly string[];
  private readonly files: readonly string[];
  private readonly streamField: StreamField;

  constructor(options: MediaSurfaceOptions) {
    this.name = options.name;
    this.wire = options.wire;
    this.operation = options.operation;
    this.body = options.body;
    this.accept = options.accept;
    this.defaultModel = options.defaultModel;
    this.required = options.required;
    this.files = options.files ?? [];
    this.streamField = options.stream;
  }

  /** `body` is the parsed JSON, or a multipart form's fields (text as strings, files as `FormFile`). */
  inspect(body: unknown, _request: SurfaceRequest): RequestSummary {
    const record = requestObject(body);
    const multipart = this.body === 'multipart';
    const model = this.modelOf(record);
    for (const field of this.required) {
      const value = record[field];
      if (value === undefined || value === null) throw invalidRequest(`Missing required parameter: '${field}'.`, field);
      if (multipart && typeof value !== 'string') throw invalidRequest(`Invalid '${field}': expected a text field, got a file.`, field);
    }
    if (this.files.length > 0 && !this.files.some((field) => isFile(record[field]))) {
      const field = this.files[0]!;
      throw invalidRequest(`Missing required parameter: '${field}' (a file part of the multipart form).`, field);
    }
    return { model, stream: this.streams(record, multipart) };
  }

  private modelOf(record: JsonObject): string {
    const model = record.model;
    if (model === undefined || model === null) {
      if (this.defaultModel !== undefined) return this.defaultModel;
      throw invalidRequest("Missing required parameter: 'model'.", 'model');
    }
    if (typeof model !== 'string' || model.length === 0) throw invalidRequest(`Invalid 'model': expected a non-empty string, got ${describe(model)}.`, 'model');
    return model;
  }

  private streams(record: JsonObject, multipart: boolean): boolean {
    if (this.streamField === undefined) return false;
    const value = record[this.streamField];
    if (value === undefined || value === null) return false;
    if (this.streamField === 'stream_format') {
      if (typeof value !== 'string') throw invalidRequest(`Invalid 'stream_format': expected a string, got ${describe(value)}.`, 'stream_format');
      return value === 'sse';
    }
    // a form's fields are text: the SDKs send booleans as "true" / "false"
    if (multipart && typeof value === 'string') return value === 'true';
    if (typeof value !== 'boolean') throw invalidRequest(`Invalid 'stream': expected a boolean, got ${describe(value)}.`, 'stream');
    return value;
  }

  isStreamTerminal(events: Buffer): boolean {
    return TERMINALS.startAnyLine(events);
  }

  /** Media streams end on their own done events (isStreamTerminal); there is no separate final event to watch. */
  finalEventWatch(_summary: RequestSummary): undefined {
    return undefined;
  }

  isStreamError(events: Buffer): boolean {
    return ERRORS.startAnyLine(events);
  }

  encodeError(error: ErrorInfo) {
    return encodeOpenAIError(error);
  }

  /** These streams are typed events (`transcript.text.delta`, …): a failure is an `error` event. */
  encodeStreamError(error: ErrorInfo): Buffer {
    return encodeResponsesStreamError(error);
  }
}

/** A file part, as a form's reader shows it to `inspect`: `{ filename, contentType, size }`. */
function isFile(value: unknown): boolean {
  return isObject(value) && typeof value.filename === 'string';
}

// The answers of transcriptions and translations may be text (`response_format: text | srt | vtt`),
// and speech answers audio: their Accept takes anything.
const ANY = '*/*';

export const openaiImageGenerations: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-image-generations', wire: 'openai-image-generations', operation: 'images', body: 'json',
  defaultModel: 'dall-e-2', required: ['prompt'], stream: 'stream',
});
export const openaiImageEdits: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-image-edits', wire: 'openai-image-edits', operation: 'image-edits', body: 'multipart',
  defaultModel: 'dall-e-2', required: ['prompt'], files: ['image', 'image[]'], stream: 'stream',
});
export const openaiTranscriptions: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-transcriptions', wire: 'openai-transcriptions', operation: 'transcriptions', body: 'multipart',
  required: [], files: ['file'], stream: 'stream', accept: ANY,
});
export const openaiTranslations: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-translations', wire: 'openai-translations', operation: 'translations', body: 'multipart',
  required: [], files: ['file'], stream: undefined, accept: ANY,
});
export const openaiSpeech: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-speech', wire: 'openai-speech', operation: 'speech', body: 'json',
  required: ['input'], stream: 'stream_format', accept: ANY,
});
export const openaiModerations: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-moderations', wire: 'openai-moderations', operation: 'moderations', body: 'json',
  defaultModel: 'omni-moderation-latest', required: ['input'], stream: undefined,
});
export const openaiRerank: SurfaceAdapter = new OpenAIMediaSurface({
  name: 'openai-rerank', wire: 'openai-rerank', operation: 'rerank', body: 'json',
  required: ['query', 'documents'], stream: undefined,
});
