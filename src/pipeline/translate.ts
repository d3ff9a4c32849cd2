// The translating exchange: the request was decoded by the surface and encoded by the provider
// of another dialect; the answer comes back through the provider's decoder into canonical parts
// and out through the surface's encoder, event by event — a stream is never buffered whole.
import type { IncomingHttpHeaders } from 'node:http';
import type { PartSink, StreamDecoder, StreamEncoder, SurfaceAdapter, UpstreamRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { StreamPart } from '../canonical/stream.ts';
import { UpstreamAttempt, type AttemptSink } from '../upstream/attempt.ts';
import { canceledError } from '../upstream/errors.ts';
import { redactText } from '../util/redact.ts';
import type { Cancellable, RequestContext } from './context.ts';
import { answerHeaders, BoundedBody, metaHeaders } from './downstream.ts';
import { ERROR_BODY_LIMIT } from './exchange.ts';
import { sendError, sendWire } from './respond.ts';
import type { ProviderRuntime } from './runtime.ts';

/** A non-streamed answer is read whole to be translated; this bounds it. */
const RESPONSE_BODY_LIMIT = 64 * 1024 * 1024;

export interface Translation {
  /** Non-streaming: the upstream's JSON answer → the surface's response body. */
  translateBody(body: unknown): string;
  /** Streaming: the decoder for the provider's stream and the encoder for the surface's. */
  stream?: { decoder: StreamDecoder; encoder: StreamEncoder };
}

export interface TranslatingOptions {
  context: RequestContext;
  surface: SurfaceAdapter;
  provider: ProviderRuntime;
  upstreamModel: string;
  upstream: UpstreamRequest;
  translation: Translation;
  secrets: readonly string[];
}

export class TranslatingExchange implements AttemptSink, Cancellable, PartSink {
  private readonly context: RequestContext;
  private readonly provider: ProviderRuntime;
  private readonly upstreamModel: string;
  private readonly translation: Translation;
  private readonly secrets: readonly string[];
  private readonly attempt: UpstreamAttempt;
  private body: BoundedBody | undefined = undefined;
  private errorHeaders: IncomingHttpHeaders | undefined = undefined;
  private failed = false;
  private streaming = false;
  private finished = false;
  private canceled = false;
  private readonly onDrain: () => void;

  constructor(options: TranslatingOptions) {
    this.context = options.context;
    this.provider = options.provider;
    this.upstreamModel = options.upstreamModel;
    this.translation = options.translation;
    this.secrets = options.secrets;
    this.onDrain = () => this.attempt.resume();
    this.attempt = new UpstreamAttempt(options.provider.endpoint, this);
    const context = this.context;
    context.active = this;
    context.attempts++;
    context.provider = options.provider.name;
    context.upstreamModel = options.upstreamModel;
    const body = Buffer.from(options.upstream.body, 'utf8');
    const headers = ['content-type', 'application/json', 'content-length', String(body.length), ...options.upstream.headers];
    this.attempt.start({ method: 'POST', path: options.upstream.path, headers, body });
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.attempt.abort(canceledError());
  }

  onAttemptStart(attempt: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void {
    const context = this.context;
    context.upstreamStatus = status;
    context.upstreamHeadersMs = context.elapsedMs();
    context.upstreamMs = attempt.headersAt - attempt.startedAt;
    if (status < 200 || status >= 300) {
      this.failed = true;
      this.errorHeaders = headers;
      this.body = new BoundedBody(ERROR_BODY_LIMIT);
      return;
    }
    const stream = this.translation.stream;
    if (stream === undefined) {
      this.body = new BoundedBody(RESPONSE_BODY_LIMIT);
      return;
    }
    this.streaming = true;
    const out = answerHeaders(context, this.provider, this.upstreamModel, stream.encoder.contentType);
    out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    context.response.writeHead(200, out);
    context.firstByteMs = context.elapsedMs();
  }

  onAttemptData(_attempt: UpstreamAttempt, chunk: Buffer): void {
    if (this.body !== undefined) {
      this.body.push(chunk);
      return;
    }
    if (!this.finished) this.translation.stream!.decoder.push(chunk, this);
  }

  /** A canonical part from the provider's decoder, rendered at once in the surface's dialect. */
  onPart(part: StreamPart): void {
    if (this.finished) return;
    const encoded = this.translation.stream!.encoder.encode(part);
    if (part.type === 'response-end' || part.type === 'error') {
      this.finished = true;
      if (part.type === 'error') this.context.error = part.error;
      this.context.response.end(encoded);
      if (part.type === 'error') this.attempt.abort(part.error instanceof GatewayError ? part.error : canceledError());
      return;
    }
    if (encoded.length > 0) this.write(encoded);
  }

  private write(data: string): void {
    const response = this.context.response;
    if (!response.write(data)) {
      this.attempt.pause();
      response.once('drain', this.onDrain);
    }
  }

  onAttemptEnd(attempt: UpstreamAttempt): void {
    const context = this.context;
    context.active = undefined;
    // bodies read whole (errors, non-streamed answers): the upstream's time runs to the last byte
    if (!this.streaming) context.upstreamMs = performance.now() - attempt.startedAt;
    if (this.failed) {
      this.respondUpstreamError();
      return;
    }
    if (this.streaming) {
      // the decoder turns a stream that stopped without its terminal event into an error part
      if (!this.finished) this.translation.stream!.decoder.end(this);
      if (!this.finished) this.onPart({ type: 'error', error: incomplete(this.provider.name) });
      return;
    }
    const body = this.body!;
    if (body.truncated) {
      sendError(context, new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' answered more than ${RESPONSE_BODY_LIMIT} bytes.`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name }));
      return;
    }
    let answer: string;
    try {
      answer = this.translation.translateBody(JSON.parse(body.buffer().toString('utf8')));
    } catch (error) {
      const failure = error instanceof GatewayError ? error
        : new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' sent an answer that could not be read: ${(error as Error).message}`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name });
      sendError(context, failure);
      return;
    }
    sendWire(context, { status: 200, headers: ['content-type', 'application/json'], body: answer }, metaHeaders(context, this.provider, this.upstreamModel));
  }

  onAttemptError(_attempt: UpstreamAttempt, error: GatewayError): void {
    const context = this.context;
    context.active = undefined;
    if (this.canceled || error.code === ErrorCode.canceled) {
      context.error ??= error;
      return;
    }
    if (this.finished) return;
    context.error = error;
    if (!this.streaming) {
      sendError(context, error);
      return;
    }
    this.onPart({ type: 'error', error });
  }

  /** Upstream errors are always mapped into the caller's dialect: the bytes are of another. */
  private respondUpstreamError(): void {
    const context = this.context;
    const status = context.upstreamStatus;
    const text = redactText(this.body!.buffer().toString('utf8'), this.secrets);
    const error = this.provider.adapter.decodeError(status, Buffer.from(text), this.errorHeaders ?? {}, this.provider.name);
    sendError(context, error, [...metaHeaders(context, this.provider, this.upstreamModel), 'x-switchyard-upstream-status', String(status)]);
  }
}

function incomplete(provider: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' ended the stream before it was complete.`, { status: 502, origin: 'upstream', errorClass: 'reset', provider });
}
