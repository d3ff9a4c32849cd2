// The exchange of an agent-CLI provider: one turn on the provider's driver (src/agent-clis/), whose
// canonical stream parts are rendered in the caller's dialect — streamed through the surface's
// stream encoder, or collected into one canonical response for its response encoder.
//
// A turn first waits for a slot of the provider's concurrency (a bounded queue with a deadline:
// full or too long, it is declined with 429 and Retry-After, and another target may take it). The
// commit point is the first content part: an error part or a timeout before it goes back to the
// runner, which may try another target (a rate limit cools the key down first) — in `llm` mode;
// an `agent` turn that failed is answered as it is, never run twice. After the commit point a
// streamed answer ends with the dialect's error event, a whole one with an error answer. The
// client leaving aborts the turn (the driver ends the CLI's work) or leaves the queue.
import type { PartSink, StreamEncoder, SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError, type ErrorInfo } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { TimeoutSettings } from '../config/types.ts';
import type { AgentCliDriver, AgentTurnReport } from '../agent-clis/driver.ts';
import { streamMeter } from '../observability/metrics-stream.ts';
import type { HealthEntry } from '../state/interfaces.ts';
import { canceledError, timeoutError, type TimeoutKind } from '../upstream/errors.ts';
import type { BoundedSemaphore, SemaphoreWaiter } from '../util/bounded-semaphore.ts';
import type { RequestContext } from './context.ts';
import type { ConversationTurn } from './conversations.ts';
import { answerHeaders, metaHeaders } from './downstream.ts';
import type { Exchange, ExchangeOwner } from './exchange.ts';
import { filterResponse, withStreamFilters } from './phases.ts';
import { redactText } from '../util/redact.ts';
import { sendError, sendWire, writeHead } from './respond.ts';
import { ResponseCollector } from './response-collector.ts';

/** What a turn needs of its provider's long-lived state (src/pipeline/agent-cli-host.ts). */
export interface AgentCliSlots {
  readonly name: string;
  readonly driver: AgentCliDriver;
  readonly queue: BoundedSemaphore;
  /** Seconds until a slot is likely free, for Retry-After. */
  retryAfterSeconds(): number;
  /** A turn that held a slot ended after `durationMs`. */
  turnEnded(durationMs: number): void;
}

export interface AgentCliExchangeOptions {
  context: RequestContext;
  surface: SurfaceAdapter;
  surfaceRequest: SurfaceRequest;
  upstreamModel: string;
  key: HealthEntry;
  owner: ExchangeOwner;
  request: CanonicalRequest;
  timeouts: TimeoutSettings;
  conversation: ConversationTurn;
  slots: AgentCliSlots;
  /**
   * Whether a turn that failed before its first content may run again, here or elsewhere: yes in
   * `llm` mode (nothing ran on the host); never in `agent` mode, where the CLI may already have
   * used its tools.
   */
  repeatable: boolean;
  /** Redacted from the driver's error messages (a CLI's stderr may echo its environment). */
  secrets: readonly string[];
}

/** After an abort, the longest the turn's slot waits for the driver to say the CLI has stopped (the abort's bound). */
const ABORT_SETTLE_MS = 250;

const QUEUED = 0;
const RUNNING = 1;
const ENDED = 2;

export class AgentCliExchange implements Exchange, PartSink, SemaphoreWaiter {
  readonly provider: { readonly name: string };
  readonly upstreamModel: string;
  readonly key: HealthEntry;
  private readonly context: RequestContext;
  private readonly surface: SurfaceAdapter;
  private readonly owner: ExchangeOwner;
  private readonly request: CanonicalRequest;
  private readonly timeouts: TimeoutSettings;
  private readonly conversation: ConversationTurn;
  private readonly slots: AgentCliSlots;
  private readonly repeatable: boolean;
  private readonly secrets: readonly string[];
  /** Streamed answers: the surface's encoder (with the stream filters); whole ones: the collector. */
  private readonly encoder: StreamEncoder | undefined;
  private readonly collector: ResponseCollector | undefined;
  private state = QUEUED;
  private settled = false;
  private committed = false;
  /** Parts that came before the first content (response-start, usage): written with it. */
  private pending: StreamPart[] = [];
  private controller: AbortController | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** performance.now() at the turn's start, its first content and its last part. */
  private startedAt = 0;
  private firstContentAt = 0;
  private lastPartAt = 0;
  private readonly onTimer = (): void => this.checkTimeouts();
  private readonly startTurn = (): void => this.run();
  private readonly onReport = (report: AgentTurnReport): void => this.reported(report);
  /** The concurrency slot: held from the turn's start until it ends — after an abort, until the driver settles the turn. */
  private holdsSlot = false;
  private slotTimer: NodeJS.Timeout | undefined = undefined;
  private readonly onSettled = (): void => this.releaseSlot();

  constructor(options: AgentCliExchangeOptions) {
    this.provider = { name: options.slots.name };
    this.upstreamModel = options.upstreamModel;
    this.key = options.key;
    this.context = options.context;
    this.surface = options.surface;
    this.owner = options.owner;
    this.request = options.request;
    this.timeouts = options.timeouts;
    this.conversation = options.conversation;
    this.slots = options.slots;
    this.repeatable = options.repeatable;
    this.secrets = options.secrets;
    const codec = options.surface.chat!;
    if (options.request.stream) {
      this.encoder = withStreamFilters(codec.createStreamEncoder(options.request, options.surfaceRequest), options.context);
      this.collector = undefined;
    } else {
      this.encoder = undefined;
      this.collector = new ResponseCollector(options.upstreamModel);
    }
    const queued = options.slots.queue.acquire(this);
    if (queued === 'full') {
      this.state = ENDED;
      this.settled = true;
      options.conversation.settle('unused');
      throw this.busyError(`its queue is full (${options.slots.queue.queueCapacity} waiting for ${options.slots.queue.capacity} turn${options.slots.queue.capacity === 1 ? '' : 's'} at once)`);
    }
    if (queued === 'granted') this.granted();
  }

  get latencyMs(): number {
    return this.firstContentAt > 0 ? this.firstContentAt - this.startedAt : 0;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  // SemaphoreWaiter

  granted(): void {
    if (this.state !== QUEUED) {
      this.slots.queue.release(); // canceled meanwhile: the slot goes to the next one
      return;
    }
    this.state = RUNNING;
    // never inside the caller's stack (the runner's dispatch, another turn's end): parts may come at once
    queueMicrotask(this.startTurn);
  }

  expired(): void {
    if (this.state !== QUEUED) return;
    this.state = ENDED;
    this.settled = true;
    this.conversation.settle('unused');
    const error = this.busyError(`no turn was free within queue_timeout_ms (${this.slots.queue.waitLimitMs} ms)`);
    this.owner.onDeclined(this, error, () => sendError(this.context, error));
  }

  cancel(): void {
    if (this.state === ENDED) return;
    this.settled = true;
    if (this.state === QUEUED) {
      this.state = ENDED;
      this.slots.queue.leave(this);
      this.conversation.settle('unused');
      return;
    }
    this.endTurn(canceledError(), 'failed');
  }

  // the turn

  private run(): void {
    if (this.state !== RUNNING) return;
    const context = this.context;
    if (context.response.destroyed) {
      // the client left while the turn was queued behind a microtask
      this.settled = true;
      this.endTurn(canceledError(), 'failed');
      return;
    }
    this.startedAt = performance.now();
    this.lastPartAt = this.startedAt;
    this.controller = new AbortController();
    this.armTimer();
    try {
      this.slots.driver.run({ request: this.request, model: this.upstreamModel, conversation: this.conversation.id, signal: this.controller.signal, onSettled: this.onSettled }, this, this.onReport);
    } catch (error) {
      this.crash(error);
    }
  }

  private reported(report: AgentTurnReport): void {
    if (report.reportedCostUsd !== undefined && Number.isFinite(report.reportedCostUsd)) {
      this.context.reportedCostUsd = (this.context.reportedCostUsd ?? 0) + report.reportedCostUsd;
    }
  }

  /** A part from the driver, rendered at once (streamed) or collected (whole). */
  onPart(part: StreamPart): void {
    if (this.state !== RUNNING || this.settled) return;
    try {
      this.lastPartAt = performance.now();
      switch (part.type) {
        case 'response-start':
        case 'usage': {
          if (part.type === 'usage') this.addUsage(part.usage);
          // the answer names the model that answered: the one the turn ran, when the CLI did not say
          const held = part.type === 'response-start' && part.model === '' ? { ...part, model: this.upstreamModel } : part;
          if (this.committed) this.emit(held);
          else this.pending.push(held);
          return;
        }
        case 'error':
          this.failTurn(asError(part.error, this.secrets));
          return;
        case 'response-end':
          if (part.usage !== undefined) this.addUsage(part.usage);
          // an answer with nothing in it is how a CLI's failure looks when nobody checks: never a success
          if (!this.committed) this.failTurn(emptyAnswer(this.provider.name));
          else this.finish(part);
          return;
        default:
          if (!this.committed) this.commit();
          this.emit(part);
      }
    } catch (error) {
      this.crash(error);
    }
  }

  private addUsage(usage: NonNullable<RequestContext['usage']>): void {
    // fields present override earlier ones (the canonical stream's rule)
    this.context.usage = this.context.usage === undefined ? { ...usage } : { ...this.context.usage, ...usage };
  }

  /** The first content part: no other target from here on; a streamed answer's head goes out. */
  private commit(): void {
    this.committed = true;
    // the encoders need the stream's start first: a driver that sent none gets one made up
    if (!this.pending.some((part) => part.type === 'response-start')) {
      this.pending.unshift({ type: 'response-start', id: `resp_${this.context.id}`, model: this.upstreamModel, created: Math.floor(Date.now() / 1000) });
    }
    const context = this.context;
    const now = performance.now();
    this.firstContentAt = now;
    context.upstreamHeadersMs = context.elapsedMs();
    context.upstreamMs = now - this.startedAt;
    context.subscription = true;
    this.owner.onCommit(this);
    const encoder = this.encoder;
    if (encoder === undefined) {
      for (const part of this.pending) this.collector!.push(part);
      this.pending = [];
      return;
    }
    const head = answerHeaders(context, this.provider, this.upstreamModel, ['content-type', encoder.contentType, 'cache-control', 'no-cache', 'x-accel-buffering', 'no']);
    writeHead(context.response, 200, head);
    context.firstByteMs = context.elapsedMs();
    context.streamed = true;
    streamMeter.opened();
    let bytes = '';
    for (const part of this.pending) bytes += encoder.encode(part);
    this.pending = [];
    if (bytes !== '') context.response.write(bytes);
  }

  private emit(part: StreamPart): void {
    const encoder = this.encoder;
    if (encoder === undefined) {
      this.collector!.push(part);
      return;
    }
    const bytes = encoder.encode(part);
    if (encoder.failure !== undefined) {
      // a stream filter (a plugin) ended the stream with its error event: the turn stops here
      const error = encoder.failure instanceof GatewayError ? encoder.failure : new GatewayError(encoder.failure.code, encoder.failure.message, encoder.failure);
      this.endTurn(error, 'failed');
      this.settled = true;
      this.context.error = error;
      this.context.response.end(bytes);
      streamMeter.closed();
      this.owner.onDone(this, error);
      return;
    }
    if (bytes !== '') {
      // a CLI cannot be paused: Node buffers what a slow client has not read yet (an answer's worth)
      this.context.response.write(bytes);
    }
  }

  private finish(end: Extract<StreamPart, { type: 'response-end' }>): void {
    const context = this.context;
    context.upstreamMs = performance.now() - this.startedAt;
    this.endTurn(undefined, 'done');
    const encoder = this.encoder;
    if (encoder !== undefined) {
      context.response.end(encoder.encode(end));
      streamMeter.closed();
    } else {
      const response = this.collector!.finish(end, `resp_${context.id}`);
      let body: string;
      try {
        // the stream phase over the whole answer (plugins' onResponse), which may refuse it
        body = this.surface.chat!.encodeResponse(filterResponse(context, response), this.request);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        sendError(context, error, metaHeaders(context, this.provider, this.upstreamModel));
        this.settled = true;
        this.owner.onDone(this, error);
        return;
      }
      sendWire(context, { status: 200, headers: ['content-type', 'application/json'], body }, metaHeaders(context, this.provider, this.upstreamModel));
    }
    this.settled = true;
    this.owner.onDone(this, undefined);
  }

  /** The turn failed (an error part, a timeout): before the commit the runner decides, after it the answer ends with the error. */
  private failTurn(error: GatewayError): void {
    const context = this.context;
    this.endTurn(error, 'failed');
    this.settled = true;
    if (!this.committed) {
      this.owner.onFailure(this, error, () => sendError(context, withCooldown(error, this.key)), this.repeatable);
      return;
    }
    context.error = error;
    const encoder = this.encoder;
    if (encoder !== undefined) {
      context.response.end(encoder.encode({ type: 'error', error }));
      streamMeter.closed();
    } else {
      // nothing was written yet: the whole answer can still be an honest error answer
      sendError(context, error, metaHeaders(context, this.provider, this.upstreamModel));
    }
    this.owner.onDone(this, error);
  }

  /** Stops the turn (the driver's CLI work ends on the signal) and gives its slot and conversation back. */
  private endTurn(abort: GatewayError | undefined, outcome: 'done' | 'failed'): void {
    if (this.state !== RUNNING) return;
    const ran = this.startedAt > 0;
    this.state = ENDED;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.conversation.settle(outcome);
    this.holdsSlot = true;
    if (abort !== undefined && this.controller !== undefined && !this.controller.signal.aborted) {
      // the CLI is told to stop: the slot stays taken until it has (the driver's onSettled), at
      // most ABORT_SETTLE_MS — a driver that settles at once (inside abort()) releases it here
      this.slotTimer = setTimeout(this.onSettled, ABORT_SETTLE_MS);
      this.slotTimer.unref();
      this.controller.abort(abort);
    } else {
      this.releaseSlot();
    }
    if (this.committed && this.encoder !== undefined && abort !== undefined && abort.code === ErrorCode.canceled) streamMeter.closed();
    if (ran) this.slots.turnEnded(performance.now() - this.startedAt);
  }

  /** The turn's slot goes to the next turn (once: the driver's onSettled, the abort's timer, or the end). */
  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    if (this.slotTimer !== undefined) clearTimeout(this.slotTimer);
    this.slotTimer = undefined;
    this.slots.queue.release();
  }

  /** The gateway's own code threw (the driver included): stop the turn and let the owner end the response. */
  private crash(error: unknown): void {
    const holdsKey = !this.settled;
    this.settled = true;
    this.endTurn(canceledError(), 'failed');
    this.owner.onInternalError(this, error, holdsKey);
  }

  // timeouts: one timer, re-armed for the nearest deadline only when it fires (no timer work per part)

  private armTimer(): void {
    const deadline = this.nextDeadline();
    if (deadline === Infinity) return;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(deadline - performance.now())));
    this.timer.unref();
  }

  private nextDeadline(): number {
    const { firstByteMs, idleMs, totalMs } = this.timeouts;
    let deadline = Infinity;
    if (totalMs > 0) deadline = this.startedAt + totalMs;
    if (!this.committed && firstByteMs > 0) deadline = Math.min(deadline, this.startedAt + firstByteMs);
    if (this.committed && idleMs > 0) deadline = Math.min(deadline, this.lastPartAt + idleMs);
    return deadline;
  }

  private checkTimeouts(): void {
    this.timer = undefined;
    if (this.state !== RUNNING || this.settled) return;
    const now = performance.now();
    const { firstByteMs, idleMs, totalMs } = this.timeouts;
    let expired: TimeoutKind | undefined;
    let limit = 0;
    if (totalMs > 0 && now - this.startedAt >= totalMs) [expired, limit] = ['total', totalMs];
    else if (!this.committed && firstByteMs > 0 && now - this.startedAt >= firstByteMs) [expired, limit] = ['first-byte', firstByteMs];
    else if (this.committed && idleMs > 0 && now - this.lastPartAt >= idleMs) [expired, limit] = ['idle', idleMs];
    if (expired === undefined) {
      this.armTimer();
      return;
    }
    try {
      this.failTurn(timeoutError(expired, this.provider.name, limit));
    } catch (error) {
      this.crash(error);
    }
  }

  private busyError(why: string): GatewayError {
    const seconds = this.slots.retryAfterSeconds();
    return new GatewayError(ErrorCode.overloaded, `Provider '${this.provider.name}' is busy: ${why}; retry after ${seconds} s.`, {
      status: 429, origin: 'gateway', errorClass: 'rate-limited', provider: this.provider.name, retryAfterSeconds: seconds,
    });
  }
}

function emptyAnswer(provider: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' ended the turn without any answer (no text from the CLI).`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider,
  });
}

/**
 * A rate limit whose reset the CLI did not say (Claude Code and Codex with an API key keep the
 * vendor's retry-after to themselves): the caller is told to wait as long as the health book now
 * cools the target, as when every target of a route is cooling.
 */
function withCooldown(error: GatewayError, key: HealthEntry): GatewayError {
  if (error.status !== 429 || error.retryAfterSeconds !== undefined) return error;
  const left = key.until - Date.now();
  if (left <= 0) return error;
  return new GatewayError(error.code, error.message, { ...error, retryAfterSeconds: Math.ceil(left / 1000) });
}

/** The driver's error as the gateway's, with any configured secret the CLI echoed masked. */
function asError(info: ErrorInfo, secrets: readonly string[]): GatewayError {
  const message = redactText(info.message, secrets);
  if (info instanceof GatewayError && message === info.message) return info;
  return new GatewayError(info.code, message, info);
}
