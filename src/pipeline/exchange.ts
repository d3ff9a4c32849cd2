// The same-dialect exchange: the request body goes upstream as bytes (the model field spliced
// when routing renamed it), the response comes back chunk by chunk with back-pressure, SSE
// forwarded one whole event batch at a time so a failure can always be ended with a well-formed
// error event. Nothing is written downstream before the upstream status is known (the commit
// point): until then a failure is answered as a plain error response.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderAdapter, SurfaceAdapter } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { Endpoint } from '../upstream/endpoint.ts';
import { UpstreamAttempt, type AttemptSink } from '../upstream/attempt.ts';
import { canceledError } from '../upstream/errors.ts';
import { SseEventSplitter } from '../streaming/sse-splitter.ts';
import { redactText } from '../util/redact.ts';
import type { Cancellable, RequestContext } from './context.ts';
import { sendError, sendWire } from './respond.ts';

/** Upstream error bodies are read whole (bounded) so they can be passed on or wrapped. */
const ERROR_BODY_LIMIT = 1024 * 1024;

export interface ExchangeOptions {
  context: RequestContext;
  surface: SurfaceAdapter;
  provider: ProviderAdapter;
  endpoint: Endpoint;
  upstreamModel: string;
  body: Buffer;
  stream: boolean;
  secrets: readonly string[];
}

export class PassThroughExchange implements AttemptSink, Cancellable {
  private readonly context: RequestContext;
  private readonly surface: SurfaceAdapter;
  private readonly provider: ProviderAdapter;
  private readonly endpoint: Endpoint;
  private readonly secrets: readonly string[];
  private readonly upstreamModel: string;
  private attempt: UpstreamAttempt | undefined = undefined;
  private errorChunks: Buffer[] | undefined = undefined;
  private errorBytes = 0;
  private splitter: SseEventSplitter | undefined = undefined;
  private terminalSeen = false;
  private committed = false;
  private canceled = false;
  private readonly onDrain: () => void;

  constructor(options: ExchangeOptions) {
    this.context = options.context;
    this.surface = options.surface;
    this.provider = options.provider;
    this.endpoint = options.endpoint;
    this.secrets = options.secrets;
    this.upstreamModel = options.upstreamModel;
    this.onDrain = () => this.attempt?.resume();
    const attempt = new UpstreamAttempt(options.endpoint, this);
    this.attempt = attempt;
    this.context.active = this;
    this.context.attempts++;
    this.context.provider = options.endpoint.provider;
    this.context.upstreamModel = options.upstreamModel;
    const headers = [
      'content-type', 'application/json',
      'content-length', String(options.body.length),
      'accept', options.stream ? 'text/event-stream' : 'application/json',
    ];
    attempt.start({ method: 'POST', path: options.provider.operationPath(options.surface.operation), headers, body: options.body });
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.attempt?.abort(canceledError());
  }

  onAttemptStart(_attempt: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void {
    const context = this.context;
    context.upstreamStatus = status;
    context.upstreamHeadersMs = context.elapsedMs();
    if (status < 200 || status >= 300) {
      this.errorChunks = [];
      this.errorHeaders = headers;
      return;
    }
    const contentType = headers['content-type'] ?? 'application/json';
    const isSse = contentType.startsWith('text/event-stream');
    const out = [
      'content-type', contentType,
      'x-request-id', context.id,
      'x-switchyard-provider', this.endpoint.provider,
      'x-switchyard-model', this.upstreamModel,
      'x-switchyard-attempts', String(context.attempts),
    ];
    if (isSse) {
      this.splitter = new SseEventSplitter();
      out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    } else {
      const length = headers['content-length'];
      if (length !== undefined) out.push('content-length', length);
    }
    this.committed = true;
    context.response.writeHead(status, out);
    context.firstByteMs = context.elapsedMs();
  }

  private errorHeaders: IncomingHttpHeaders | undefined = undefined;

  onAttemptData(_attempt: UpstreamAttempt, chunk: Buffer): void {
    if (this.errorChunks !== undefined) {
      if (this.errorBytes < ERROR_BODY_LIMIT) {
        this.errorChunks.push(chunk);
        this.errorBytes += chunk.length;
      }
      return;
    }
    if (this.splitter === undefined) {
      this.write(chunk);
      return;
    }
    let events: Buffer | undefined;
    try {
      events = this.splitter.push(chunk);
    } catch {
      this.attempt?.abort(new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.endpoint.provider}' sent an SSE event larger than the limit.`, {
        status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.endpoint.provider,
      }));
      return;
    }
    if (events === undefined) return;
    if (!this.terminalSeen && this.surface.isStreamTerminal(events)) this.terminalSeen = true;
    this.write(events);
  }

  private write(data: Buffer): void {
    const response = this.context.response;
    if (!response.write(data)) {
      this.attempt?.pause();
      response.once('drain', this.onDrain);
    }
  }

  onAttemptEnd(): void {
    this.context.active = undefined;
    if (this.errorChunks !== undefined) {
      this.respondUpstreamError();
      return;
    }
    const response = this.context.response;
    if (this.splitter !== undefined && !this.terminalSeen) {
      // A clean close without the dialect's end marker is a truncated answer: say so.
      const error = new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.endpoint.provider}' ended the stream before it was complete.`, {
        status: 502, origin: 'upstream', errorClass: 'reset', provider: this.endpoint.provider,
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

  /** Non-2xx from upstream: 4xx passed on verbatim, 5xx shown as 502/504 with the upstream's message. */
  private respondUpstreamError(): void {
    const context = this.context;
    const status = context.upstreamStatus;
    const raw = this.errorChunks!.length === 1 ? this.errorChunks![0]! : Buffer.concat(this.errorChunks!);
    const text = redactText(raw.toString('utf8'), this.secrets);
    const headers = this.errorHeaders ?? {};
    const extra = ['x-switchyard-provider', this.endpoint.provider, 'x-switchyard-model', this.upstreamModel, 'x-switchyard-upstream-status', String(status)];
    const retryAfter = headers['retry-after'];
    if (typeof retryAfter === 'string') extra.push('retry-after', retryAfter);
    if (status >= 400 && status < 500) {
      context.error = new GatewayError(ErrorCode.upstreamStatus, `Provider '${this.endpoint.provider}' answered ${status}.`, {
        status, origin: 'upstream', errorClass: status === 429 ? 'rate-limited' : 'client-error', upstreamStatus: status, provider: this.endpoint.provider,
      });
      sendWire(context, { status, headers: ['content-type', headers['content-type'] ?? 'application/json'], body: text }, extra);
      return;
    }
    const message = this.provider.decodeErrorMessage(Buffer.from(text)) ?? text.slice(0, 500);
    const error = new GatewayError(ErrorCode.upstreamStatus, `Provider '${this.endpoint.provider}' answered ${status}: ${message}`, {
      status: status === 504 ? 504 : 502, origin: 'upstream', errorClass: status >= 500 ? 'server-error' : 'gateway-error',
      retryable: status >= 500, fallbackAllowed: true, upstreamStatus: status, provider: this.endpoint.provider,
    });
    sendError(context, error, extra);
  }
}
