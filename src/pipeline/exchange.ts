// The same-dialect exchange: the request body goes upstream as bytes (the model field spliced
// when routing renamed it), the response comes back chunk by chunk with back-pressure, streams
// forwarded in whole frames (SSE events, NDJSON lines) so a failure can always be ended with a
// well-formed error event. Nothing is written downstream before the upstream status is known
// (the commit point): until then a failure is answered as a plain error response.
import type { IncomingHttpHeaders } from 'node:http';
import type { SurfaceAdapter } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { UpstreamAttempt, type AttemptSink } from '../upstream/attempt.ts';
import { canceledError } from '../upstream/errors.ts';
import { FrameSplitter, lastEventBoundary, lastLineBoundary } from '../streaming/frame-splitter.ts';
import { redactText } from '../util/redact.ts';
import type { Cancellable, RequestContext } from './context.ts';
import { answerHeaders, BoundedBody, headerValue, metaHeaders } from './downstream.ts';
import { sendError, sendWire } from './respond.ts';
import type { ProviderRuntime } from './runtime.ts';

/** What a pass-through stream asks for (Gemini's streamed JSON array is plain JSON). */
const STREAM_ACCEPT = { sse: 'text/event-stream', ndjson: 'application/x-ndjson', 'json-array': 'application/json' } as const;

/** Upstream error bodies are read whole (bounded) so they can be passed on or mapped. */
export const ERROR_BODY_LIMIT = 1024 * 1024;

export interface PassThroughOptions {
  context: RequestContext;
  surface: SurfaceAdapter;
  provider: ProviderRuntime;
  upstreamModel: string;
  /** Upstream path under the base URL, with query. */
  path: string;
  /** Headers forwarded from the client (e.g. anthropic-beta). */
  forwardHeaders: string[];
  body: Buffer;
  stream: boolean;
  secrets: readonly string[];
}

export class PassThroughExchange implements AttemptSink, Cancellable {
  private readonly context: RequestContext;
  private readonly surface: SurfaceAdapter;
  private readonly provider: ProviderRuntime;
  private readonly secrets: readonly string[];
  private readonly upstreamModel: string;
  private readonly attempt: UpstreamAttempt;
  private errorBody: BoundedBody | undefined = undefined;
  private errorHeaders: IncomingHttpHeaders | undefined = undefined;
  private splitter: FrameSplitter | undefined = undefined;
  private terminalSeen = false;
  private committed = false;
  private canceled = false;
  private readonly onDrain: () => void;

  constructor(options: PassThroughOptions) {
    this.context = options.context;
    this.surface = options.surface;
    this.provider = options.provider;
    this.secrets = options.secrets;
    this.upstreamModel = options.upstreamModel;
    this.onDrain = () => this.attempt.resume();
    this.attempt = new UpstreamAttempt(options.provider.endpoint, this);
    this.context.active = this;
    this.context.attempts++;
    this.context.provider = options.provider.name;
    this.context.upstreamModel = options.upstreamModel;
    const headers = [
      'content-type', 'application/json',
      'content-length', String(options.body.length),
      'accept', options.stream ? STREAM_ACCEPT[options.surface.streamFraming] : 'application/json',
    ];
    for (const value of options.forwardHeaders) headers.push(value);
    this.attempt.start({ method: 'POST', path: options.path, headers, body: options.body });
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
      this.errorBody = new BoundedBody(ERROR_BODY_LIMIT);
      this.errorHeaders = headers;
      return;
    }
    const contentType = headerValue(headers, 'content-type') ?? 'application/json';
    const out = answerHeaders(context, this.provider, this.upstreamModel, contentType);
    if (contentType.startsWith('text/event-stream')) {
      this.splitter = new FrameSplitter(lastEventBoundary);
      out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    } else if (this.surface.streamFraming === 'ndjson' && contentType.includes('ndjson')) {
      this.splitter = new FrameSplitter(lastLineBoundary);
      out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    } else {
      const length = headerValue(headers, 'content-length');
      if (length !== undefined) out.push('content-length', length);
    }
    this.committed = true;
    context.response.writeHead(status, out);
    context.firstByteMs = context.elapsedMs();
  }

  onAttemptData(_attempt: UpstreamAttempt, chunk: Buffer): void {
    if (this.errorBody !== undefined) {
      this.errorBody.push(chunk);
      return;
    }
    if (this.splitter === undefined) {
      this.write(chunk);
      return;
    }
    let frames: Buffer | undefined;
    try {
      frames = this.splitter.push(chunk);
    } catch {
      this.attempt.abort(new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' sent a stream frame larger than the limit.`, {
        status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name,
      }));
      return;
    }
    if (frames === undefined) return;
    if (!this.terminalSeen && this.surface.isStreamTerminal(frames)) this.terminalSeen = true;
    this.write(frames);
  }

  private write(data: Buffer): void {
    const response = this.context.response;
    if (!response.write(data)) {
      this.attempt.pause();
      response.once('drain', this.onDrain);
    }
  }

  onAttemptEnd(attempt: UpstreamAttempt): void {
    this.context.active = undefined;
    if (this.errorBody !== undefined) {
      this.context.upstreamMs = performance.now() - attempt.startedAt;
      this.respondUpstreamError();
      return;
    }
    const response = this.context.response;
    if (this.splitter !== undefined && !this.terminalSeen) {
      // A clean close without the dialect's end marker is a truncated answer: say so.
      const error = new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' ended the stream before it was complete.`, {
        status: 502, origin: 'upstream', errorClass: 'reset', provider: this.provider.name,
      });
      this.context.error = error;
      response.end(this.surface.encodeStreamError(error));
      return;
    }
    response.end();
  }

  onAttemptError(_attempt: UpstreamAttempt, error: GatewayError): void {
    const context = this.context;
    context.active = undefined;
    context.error = error;
    if (this.canceled || error.code === ErrorCode.canceled) return;
    const response = context.response;
    if (!this.committed) {
      sendError(context, error);
      return;
    }
    if (this.splitter !== undefined) {
      response.end(this.surface.encodeStreamError(error));
      return;
    }
    // A plain body cut short: the only honest signal left is an aborted connection.
    response.destroy(error);
  }

  /** Non-2xx from upstream: 4xx passed on verbatim, 5xx mapped by the provider's classifier. */
  private respondUpstreamError(): void {
    const context = this.context;
    const status = context.upstreamStatus;
    const text = redactText(this.errorBody!.buffer().toString('utf8'), this.secrets);
    const headers = this.errorHeaders ?? {};
    const classified = this.provider.adapter.decodeError(status, Buffer.from(text), headers, this.provider.name);
    context.error = classified;
    const extra = [...metaHeaders(context, this.provider, this.upstreamModel), 'x-switchyard-upstream-status', String(status)];
    const retryAfter = headerValue(headers, 'retry-after');
    if (retryAfter !== undefined) extra.push('retry-after', retryAfter);
    if (status >= 400 && status < 500) {
      sendWire(context, { status, headers: ['content-type', headerValue(headers, 'content-type') ?? 'application/json'], body: text }, extra);
      return;
    }
    sendError(context, classified, extra);
  }
}
