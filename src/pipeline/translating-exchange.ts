// The translating exchange: the request was decoded by the surface and encoded by the provider
// of another dialect; the answer comes back through the provider's decoder into canonical parts
// and out through the surface's encoder, event by event — a stream is never buffered whole.
// The commit point is the first encoded bytes: a stream that fails before producing any (an
// error event first, a reset, a silent upstream) goes back to the runner to be tried elsewhere.
import type { IncomingHttpHeaders } from 'node:http';
import type { PartSink, StreamDecoder, StreamEncoder, UpstreamRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { ErrorInfo } from '../canonical/errors.ts';
import { answerHeaders, BoundedBody, metaHeaders } from './downstream.ts';
import { sendError, sendWire, writeHead } from './respond.ts';
import { incompleteStreamError } from '../upstream/errors.ts';
import { UpstreamExchange, type ExchangeTarget } from './upstream-exchange.ts';

/** A non-streamed answer is read whole to be translated; this bounds it. */
const RESPONSE_BODY_LIMIT = 64 * 1024 * 1024;

export interface Translation {
  /** Non-streaming: the upstream's JSON answer → the surface's response body. */
  translateBody(body: unknown): string;
  /** Streaming: the decoder for the provider's stream and the encoder for the surface's. */
  stream?: { decoder: StreamDecoder; encoder: StreamEncoder };
}

export interface TranslatingOptions extends ExchangeTarget {
  upstream: UpstreamRequest;
  translation: Translation;
}

export class TranslatingExchange extends UpstreamExchange implements PartSink {
  protected readonly verbatimClientErrors = false;
  protected readonly passesThrough = false;
  private readonly translation: Translation;
  private body: BoundedBody | undefined = undefined;
  private streaming = false;
  private finished = false;

  constructor(options: TranslatingOptions) {
    super(options);
    this.translation = options.translation;
    const body = Buffer.from(options.upstream.body, 'utf8');
    const headers = ['content-type', 'application/json', 'content-length', String(body.length), ...options.upstream.headers];
    this.dispatch({ method: 'POST', path: options.upstream.path, headers, body });
  }

  protected get answerStreamed(): boolean {
    return this.streaming;
  }

  protected onAnswerStart(_status: number, _headers: IncomingHttpHeaders): void {
    if (this.translation.stream === undefined) {
      this.body = new BoundedBody(RESPONSE_BODY_LIMIT);
      this.attempt.expectWholeBody(false);
      return;
    }
    this.streaming = true;
  }

  protected onAnswerData(chunk: Buffer): void {
    const body = this.body;
    if (body !== undefined) {
      body.push(chunk);
      // refused at once rather than after the rest has been read and dropped
      if (body.truncated && !this.settled) this.onAnswerEnd();
      return;
    }
    if (!this.finished) this.translation.stream!.decoder.push(chunk, this);
  }

  /** The commit point: the response head goes out with the first encoded bytes. */
  private open(): void {
    this.commit();
    const context = this.context;
    const out = answerHeaders(context, this.provider, this.upstreamModel, ['content-type', this.translation.stream!.encoder.contentType, 'cache-control', 'no-cache', 'x-accel-buffering', 'no']);
    writeHead(context.response, 200, out);
    context.firstByteMs = context.elapsedMs();
    context.streamed = true;
  }

  /** A canonical part from the provider's decoder, rendered at once in the surface's dialect. */
  onPart(part: StreamPart): void {
    if (this.finished || this.settled) return;
    if (part.type === 'error' && !this.committed) {
      // failed before the client saw anything: the runner may try elsewhere
      this.finished = true;
      const error = asError(part.error);
      this.fail(error, () => sendError(this.context, error));
      return;
    }
    if (part.type === 'usage' || (part.type === 'response-end' && part.usage !== undefined)) {
      // fields present override earlier ones (the canonical stream's rule)
      this.context.usage = this.context.usage === undefined ? { ...part.usage! } : { ...this.context.usage, ...part.usage! };
    }
    const encoder = this.translation.stream!.encoder;
    const encoded = encoder.encode(part);
    // a stream filter (a plugin) may end the stream with an error of its own
    const failure = part.type === 'error' ? part.error : encoder.failure;
    if (part.type === 'response-end' || failure !== undefined) {
      this.finished = true;
      if (!this.committed) this.open();
      const error = failure !== undefined ? asError(failure) : undefined;
      if (error !== undefined) this.context.error = error;
      this.context.response.end(encoded);
      this.done(error);
      return;
    }
    if (encoded.length > 0) {
      if (!this.committed) this.open();
      this.write(encoded);
    }
  }

  protected onAnswerEnd(): void {
    const context = this.context;
    // bodies read whole (non-streamed answers): the upstream's time runs to the last byte
    if (!this.streaming) context.upstreamMs = performance.now() - this.attempt.startedAt;
    if (this.streaming) {
      // the decoder turns a stream that stopped without its terminal event into an error part
      if (!this.finished) this.translation.stream!.decoder.end(this);
      if (!this.finished) this.onPart({ type: 'error', error: incompleteStreamError(undefined, this.provider.name) });
      return;
    }
    const body = this.body!;
    if (body.truncated) {
      const error = new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' answered more than ${RESPONSE_BODY_LIMIT} bytes.`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name });
      this.fail(error, () => sendError(context, error));
      return;
    }
    let answer: string;
    try {
      answer = this.translation.translateBody(JSON.parse(body.buffer().toString('utf8')));
    } catch (failure) {
      const error = failure instanceof GatewayError ? failure : protocolError(this.provider.name, `sent an answer that could not be read: ${(failure as Error).message}`);
      this.fail(error, () => sendError(context, error));
      return;
    }
    this.commit();
    sendWire(context, { status: 200, headers: ['content-type', 'application/json'], body: answer }, metaHeaders(context, this.provider, this.upstreamModel));
    this.done(undefined);
  }

  protected onBrokenAfterCommit(error: GatewayError): void {
    if (this.finished) return;
    this.onPart({ type: 'error', error });
  }
}

function protocolError(provider: string, message: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' ${message}`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider,
  });
}

function asError(info: ErrorInfo): GatewayError {
  if (info instanceof GatewayError) return info;
  return new GatewayError(info.code, info.message, info);
}
