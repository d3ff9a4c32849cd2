// What both exchanges (byte pass-through and translating) share: one attempt against one
// provider key, the bounded read of upstream error bodies, back-pressure, and the commit point.
// Before the commit point nothing has been written downstream, so every failure is handed to the
// owner (the request's runner), which may try again elsewhere; after it, the exchange ends the
// response itself — never with a clean end when the answer was cut short.
import type { IncomingHttpHeaders } from 'node:http';
import type { SurfaceAdapter } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { TimeoutSettings } from '../config/types.ts';
import type { HealthEntry } from '../state/interfaces.ts';
import { UpstreamAttempt, type AttemptRequest, type AttemptSink } from '../upstream/attempt.ts';
import { canceledError } from '../upstream/errors.ts';
import { streamMeter } from '../observability/metrics-stream.ts';
import { redactText } from '../util/redact.ts';
import type { RequestContext } from './context.ts';
import { BoundedBody, metaHeaders } from './downstream.ts';
import { headerValue } from '../util/header-value.ts';
import { sendError, sendWire } from './respond.ts';
import type { HttpProviderRuntime } from './runtime.ts';
import type { Exchange, ExchangeOwner } from './exchange.ts';

export type { ExchangeOwner } from './exchange.ts';

/** Upstream error bodies are read whole (bounded) so they can be passed on or mapped. */
export const ERROR_BODY_LIMIT = 1024 * 1024;

export interface ExchangeTarget {
  context: RequestContext;
  surface: SurfaceAdapter;
  provider: HttpProviderRuntime;
  upstreamModel: string;
  /** The provider key (and its health entry) this attempt uses. */
  key: HealthEntry;
  /** A route's per-attempt timeout overrides. */
  timeouts: Partial<TimeoutSettings> | undefined;
  secrets: readonly string[];
  owner: ExchangeOwner;
}

export abstract class UpstreamExchange implements AttemptSink, Exchange {
  readonly context: RequestContext;
  readonly surface: SurfaceAdapter;
  readonly provider: HttpProviderRuntime;
  readonly upstreamModel: string;
  readonly key: HealthEntry;
  protected readonly owner: ExchangeOwner;
  private readonly secrets: readonly string[];
  private readonly timeouts: Partial<TimeoutSettings> | undefined;
  protected readonly attempt: UpstreamAttempt;
  private errorBody: BoundedBody | undefined = undefined;
  private errorHeaders: IncomingHttpHeaders | undefined = undefined;
  committed = false;
  /** Reported to the owner (failure or done); nothing more is said after that. */
  protected settled = false;
  private canceled = false;
  private crashed = false;
  /** performance.now() of the last chunk written to a streamed answer: 0 before the first, -1 once ended. */
  private lastChunkAt = 0;
  protected readonly onDrain: () => void;

  constructor(target: ExchangeTarget) {
    this.context = target.context;
    this.surface = target.surface;
    this.provider = target.provider;
    this.upstreamModel = target.upstreamModel;
    this.key = target.key;
    this.owner = target.owner;
    this.secrets = target.secrets;
    this.timeouts = target.timeouts;
    this.attempt = new UpstreamAttempt(target.provider.endpoint, this);
    this.onDrain = () => this.attempt.resume();
  }

  protected dispatch(request: AttemptRequest): void {
    request.keyIndex = this.key.keyIndex;
    if (this.timeouts !== undefined) request.timeouts = this.timeouts;
    this.attempt.start(request);
  }

  /** Ms from dispatch to response headers (0 before them). */
  get latencyMs(): number {
    return this.attempt.headersAt > 0 ? this.attempt.headersAt - this.attempt.startedAt : 0;
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.streamEnded();
    this.settled = true;
    this.attempt.abort(canceledError());
  }

  /** Already reported to the owner (or canceled). */
  get isSettled(): boolean {
    return this.settled;
  }

  // The four AttemptSink callbacks are where every step of an exchange starts (undici calls them),
  // so each catches what the gateway's own code throws below it and hands it to `crash`: an
  // exception can neither escape into undici (which would blame the provider for it) nor leave
  // the response open. A try/catch costs nothing while nothing throws.

  onAttemptStart(attempt: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void {
    try {
      const context = this.context;
      context.upstreamStatus = status;
      context.upstreamHeadersMs = context.elapsedMs();
      context.upstreamMs = attempt.headersAt - attempt.startedAt;
      if (status < 200 || status >= 300) {
        this.errorBody = new BoundedBody(ERROR_BODY_LIMIT);
        this.errorHeaders = headers;
        attempt.expectWholeBody(true);
        return;
      }
      this.onAnswerStart(status, headers);
      // a miss of the response cache keeps a copy of the answer (chunk references) to store it whole
      const fill = this.context.cacheFill;
      if (fill !== undefined) fill.begin(this.provider, this.surface.wire, this.passesThrough, this.answerStreamed);
    } catch (error) {
      this.crash(error);
    }
  }

  onAttemptData(attempt: UpstreamAttempt, chunk: Buffer): void {
    const errorBody = this.errorBody;
    if (errorBody !== undefined) {
      if (this.settled) return;
      errorBody.push(chunk);
      // the first ERROR_BODY_LIMIT bytes are all that is kept: no reason to wait for the rest
      if (errorBody.truncated) this.onAttemptEnd(attempt);
      return;
    }
    if (this.settled) return;
    const fill = this.context.cacheFill;
    if (fill !== undefined) fill.push(chunk);
    try {
      this.onAnswerData(chunk);
    } catch (error) {
      this.crash(error);
    }
  }

  onAttemptEnd(attempt: UpstreamAttempt): void {
    if (this.settled) return;
    try {
      if (this.errorBody !== undefined) {
        this.context.upstreamMs = performance.now() - attempt.startedAt;
        this.upstreamError();
        return;
      }
      this.onAnswerEnd();
    } catch (error) {
      this.crash(error);
    }
  }

  onAttemptError(_attempt: UpstreamAttempt, error: GatewayError): void {
    if (this.settled || this.canceled || error.code === ErrorCode.canceled) return;
    try {
      if (!this.committed) {
        this.fail(error, () => sendError(this.context, error));
        return;
      }
      this.context.error = error;
      this.onBrokenAfterCommit(error);
    } catch (failure) {
      this.crash(failure);
    }
  }

  /**
   * The gateway's own code threw: stop the attempt (without counting it against the provider) and
   * let the owner end the response. Safe to reach in any state, even after the owner was told of
   * a failure whose answer is what threw.
   */
  private crash(error: unknown): void {
    if (this.crashed) return;
    this.crashed = true;
    const holdsKey = !this.settled;
    this.settled = true;
    this.streamEnded();
    if (!this.attempt.isFinished) this.attempt.abort(canceledError());
    this.owner.onInternalError(this, error, holdsKey);
  }

  /** 2xx headers arrived. */
  protected abstract onAnswerStart(status: number, headers: IncomingHttpHeaders): void;
  protected abstract onAnswerData(chunk: Buffer): void;
  protected abstract onAnswerEnd(): void;
  /** A failure after the commit: end the response honestly, then report `done(error)`. */
  protected abstract onBrokenAfterCommit(error: GatewayError): void;

  /** Whether upstream 4xx bodies go to the client verbatim (same dialect) or are mapped. */
  protected abstract readonly verbatimClientErrors: boolean;
  /** The answer's bytes are the surface's own dialect (forwarded as they are). */
  protected abstract readonly passesThrough: boolean;
  /** The answer under way is a stream (known once its head arrived). */
  protected abstract get answerStreamed(): boolean;

  /** A failure before the commit: the owner decides. The attempt is stopped if still running. */
  protected fail(error: GatewayError, answer: () => void): void {
    if (this.settled) return;
    this.settled = true;
    if (!this.attempt.isFinished) this.attempt.abort(error);
    this.owner.onFailure(this, error, answer);
  }

  /** Marks the commit point, just before the first downstream write. */
  protected commit(): void {
    this.committed = true;
    this.owner.onCommit(this);
  }

  protected done(error: GatewayError | undefined): void {
    this.streamEnded();
    if (this.settled) return;
    this.settled = true;
    if (error !== undefined && !this.attempt.isFinished) this.attempt.abort(error);
    else if (error === undefined) this.context.cacheFill?.answered(this.upstreamModel);
    this.owner.onDone(this, error);
  }

  /** Writes with back-pressure: the upstream is paused until the client drains. */
  protected write(data: Buffer | string): void {
    const context = this.context;
    if (context.streamed) this.chunkWritten();
    const response = context.response;
    if (!response.write(data)) {
      this.attempt.pause();
      response.once('drain', this.onDrain);
    }
  }

  /** Metrics, per chunk of a stream: the first opens it, each later one records the gap since the last. */
  private chunkWritten(): void {
    const last = this.lastChunkAt;
    if (last < 0) return;
    const now = performance.now();
    if (last === 0) streamMeter.opened();
    else streamMeter.gap(now - last);
    this.lastChunkAt = now;
  }

  private streamEnded(): void {
    if (this.lastChunkAt > 0) streamMeter.closed();
    this.lastChunkAt = -1;
  }

  /** Non-2xx from upstream: 4xx passed on verbatim (same dialect), else mapped by the provider's classifier. */
  private upstreamError(): void {
    const context = this.context;
    const status = context.upstreamStatus;
    const text = redactText(this.errorBody!.buffer().toString('utf8'), this.secrets);
    const headers = this.errorHeaders ?? {};
    const classified = this.provider.adapter.decodeError(status, Buffer.from(text), headers, this.provider.name);
    this.fail(classified, () => {
      context.error = classified;
      const extra = [...metaHeaders(context, this.provider, this.upstreamModel), 'x-switchyard-upstream-status', String(status)];
      if (this.verbatimClientErrors && status >= 400 && status < 500) {
        const retryAfter = headerValue(headers, 'retry-after');
        if (retryAfter !== undefined) extra.push('retry-after', retryAfter);
        sendWire(context, { status, headers: ['content-type', headerValue(headers, 'content-type') ?? 'application/json'], body: text }, extra);
        return;
      }
      sendError(context, classified, extra);
    });
  }
}

