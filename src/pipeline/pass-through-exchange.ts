// The same-dialect exchange: the request body goes upstream as bytes (the model field spliced
// when routing renamed it), the response comes back chunk by chunk with back-pressure, streams
// forwarded in whole frames (SSE events, NDJSON lines) so a failure can always be ended with a
// well-formed error event. The commit point is the first frame (or first body chunk): until
// then a failure — an error status, a reset, a silent upstream, a broken first frame — goes back
// to the runner, which may try again elsewhere without the client seeing anything.
import type { IncomingHttpHeaders } from 'node:http';
import type { FinalEventWatch } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { FrameSplitter, lastEventBoundary, lastLineBoundary, sseWholePrefix } from '../streaming/frame-splitter.ts';
import { frameLimitText, MAX_FRAME_BYTES } from '../streaming/frame-limit.ts';
import { answerHeaders } from './downstream.ts';
import { headerValue } from '../util/header-value.ts';
import { sendError, writeHead } from './respond.ts';
import { UsageSniffer } from '../streaming/usage-sniffer.ts';
import { incompleteStreamError } from '../upstream/errors.ts';
import { UpstreamExchange, type ExchangeTarget } from './upstream-exchange.ts';
import type { UpstreamBody } from './request-body.ts';

export { ERROR_BODY_LIMIT } from './upstream-exchange.ts';

/** What a pass-through stream asks for (Gemini's streamed JSON array is plain JSON). */
const STREAM_ACCEPT = { sse: 'text/event-stream', ndjson: 'application/x-ndjson', 'json-array': 'application/json' } as const;
/** Ends an NDJSON line the upstream closed without one. */
const NEWLINE = Buffer.from('\n');

export interface PassThroughOptions extends ExchangeTarget {
  /** Upstream path under the base URL, with query. */
  path: string;
  /** Headers forwarded from the client (e.g. anthropic-beta). */
  forwardHeaders: readonly string[];
  /** JSON bytes, or a fresh stream of a spooled form (one per attempt). */
  body: UpstreamBody;
  stream: boolean;
}

export class PassThroughExchange extends UpstreamExchange {
  protected readonly verbatimClientErrors = true;
  protected readonly passesThrough = true;
  private splitter: FrameSplitter | undefined = undefined;
  /** The splitter cuts NDJSON lines (not SSE events). */
  private lines = false;
  /** SSE whose events are checked for whole JSON data before they are forwarded. */
  private checkFrames = false;
  private terminalSeen = false;
  /** Watches for the final event the dialect's terminator follows (undefined: the final event is the end). */
  private finalWatch: FinalEventWatch | undefined = undefined;
  /** The final event went out: a close without the terminator still ends a complete answer. */
  private finalSeen = false;
  /** An error event followed the final event: the upstream itself did not call the answer whole. */
  private errorAfterFinal: Buffer | undefined = undefined;
  private status = 200;
  private headersOut: string[] | undefined = undefined;
  /** Reads token usage out of the forwarded bytes (the dialect's usage object). */
  private sniffer: UsageSniffer | undefined = undefined;

  constructor(options: PassThroughOptions) {
    super(options);
    const body = options.body;
    const headers = [
      'content-type', body.contentType,
      'content-length', String(body.length),
      'accept', options.stream ? STREAM_ACCEPT[options.surface.streamFraming] : options.surface.accept ?? 'application/json',
    ];
    for (const value of options.forwardHeaders) headers.push(value);
    this.dispatch({ method: 'POST', path: options.path, headers, body: body.body });
  }

  /** What the client asked for (a Gemini stream may come as one JSON array, with no frames to split). */
  protected get answerStreamed(): boolean {
    return this.splitter !== undefined || this.context.stream;
  }

  protected onAnswerStart(status: number, headers: IncomingHttpHeaders): void {
    const contentType = headerValue(headers, 'content-type') ?? 'application/json';
    this.status = status;
    const usage = this.provider.adapter.usage;
    if (usage !== undefined) this.sniffer = new UsageSniffer(usage.key, usage.wholeLine);
    const out: string[] = [];
    if (contentType.startsWith('text/event-stream')) {
      this.splitter = new FrameSplitter(lastEventBoundary);
      this.checkFrames = this.surface.streamFraming === 'sse';
      const summary = this.context.summary;
      if (this.checkFrames && summary !== undefined) this.finalWatch = this.surface.finalEventWatch(summary);
      out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    } else if (this.surface.streamFraming === 'ndjson' && contentType.includes('ndjson')) {
      this.splitter = new FrameSplitter(lastLineBoundary);
      this.lines = true;
      out.push('cache-control', 'no-cache', 'x-accel-buffering', 'no');
    } else {
      const length = headerValue(headers, 'content-length');
      if (length !== undefined) out.push('content-length', length);
    }
    out.push('content-type', contentType);
    this.headersOut = out;
  }

  /** The commit point: the response head goes out with the first bytes of the answer. */
  private open(): void {
    this.commit();
    this.writeHead();
  }

  private writeHead(): void {
    const context = this.context;
    context.streamed = this.splitter !== undefined;
    const out = answerHeaders(context, this.provider, this.upstreamModel, this.headersOut!);
    writeHead(context.response, this.status, out);
    context.firstByteMs = context.elapsedMs();
  }

  protected onAnswerData(chunk: Buffer): void {
    if (this.splitter === undefined) {
      if (!this.committed) this.open();
      this.sniffer?.keep(chunk);
      this.write(chunk);
      return;
    }
    let frames: Buffer | undefined;
    try {
      frames = this.splitter.push(chunk);
    } catch {
      this.broken(new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' sent a stream line or event larger than ${frameLimitText(MAX_FRAME_BYTES)} (the gateway's frame limit); the stream was ended.`, {
        status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name,
      }));
      return;
    }
    if (frames === undefined) return;
    if (this.checkFrames) {
      const whole = sseWholePrefix(frames);
      if (whole < frames.length) {
        // after the commit, the good events before the broken one still reach the client
        if (this.committed && whole > 0) {
          const good = frames.subarray(0, whole);
          this.watch(good);
          this.sniffer?.scan(good);
          this.write(good);
        }
        this.broken(new GatewayError(ErrorCode.upstreamProtocol, `Provider '${this.provider.name}' sent a malformed stream event.`, {
          status: 502, origin: 'upstream', errorClass: 'gateway-error', provider: this.provider.name,
        }));
        return;
      }
    }
    if (!this.committed && this.surface.isStreamError(frames)) {
      // the stream failed before saying anything (Anthropic's overloaded_error after a 200): a
      // failed start, tried elsewhere if the route allows; else the client gets it as sent
      const error = new GatewayError(ErrorCode.upstreamStatus, `Provider '${this.provider.name}' failed at the start of the stream: ${frames.toString('utf8', 0, Math.min(frames.length, 300)).replace(/\s+/g, ' ').trim()}`, {
        status: 502, origin: 'upstream', errorClass: 'server-error', provider: this.provider.name,
      });
      this.fail(error, () => {
        this.writeHead();
        this.context.error = error;
        this.context.response.end(frames);
      });
      return;
    }
    this.watch(frames);
    if (!this.committed) this.open();
    this.sniffer?.scan(frames);
    this.write(frames);
  }

  /** Notes the stream's terminator, and before it the final event, in frames about to go out. */
  private watch(frames: Buffer): void {
    if (this.terminalSeen) return;
    if (this.surface.isStreamTerminal(frames)) this.terminalSeen = true;
    else if (!this.finalSeen) {
      if (this.finalWatch === undefined || !this.finalWatch.sees(frames)) return;
      this.finalSeen = true;
      if (this.surface.isStreamError(frames)) this.errorAfterFinal = frames;
    } else if (this.errorAfterFinal === undefined && this.surface.isStreamError(frames)) {
      // only the usage and the terminator come after the final event: one more look at those few frames
      this.errorAfterFinal = frames;
    }
  }

  /** A protocol failure found by the gateway: before the commit it may be retried, after it ends the stream. */
  private broken(error: GatewayError): void {
    if (!this.committed) {
      this.fail(error, () => sendError(this.context, error));
      return;
    }
    this.context.error = error;
    this.onBrokenAfterCommit(error);
  }

  protected onAnswerEnd(): void {
    if (this.lines && !this.terminalSeen && this.endsWithWholeLine()) {
      // NDJSON's last line may end with the close instead of a newline (a proxy that trims, a server
      // that writes no final newline): whole JSON, it is a line like the others and goes out with one
      this.onAnswerData(NEWLINE);
      if (this.settled) return;
    }
    const response = this.context.response;
    if (this.errorAfterFinal !== undefined && !this.terminalSeen) {
      // finish, then an error event, then a close: the client has the error as the upstream sent
      // it; no terminator is added after it, and the request is logged as the error it ended with
      const error = new GatewayError(ErrorCode.upstreamStatus, `Provider '${this.provider.name}' sent an error event after the answer's final event: ${this.errorAfterFinal.toString('utf8', 0, Math.min(this.errorAfterFinal.length, 300)).replace(/\s+/g, ' ').trim()}`, {
        status: 502, origin: 'upstream', errorClass: 'server-error', provider: this.provider.name,
      });
      this.context.error = error;
      this.noteUsage();
      response.end();
      this.done(error);
      return;
    }
    if (this.finalSeen && !this.terminalSeen) {
      // The answer was whole; only the terminator was missing (some OpenAI-compatible servers end
      // so): the client gets the one its dialect expects.
      this.noteUsage();
      response.end(this.finalWatch!.terminator);
      this.done(undefined);
      return;
    }
    if (this.splitter !== undefined && !this.terminalSeen) {
      // A clean close before the final event is a truncated answer: say so.
      const error = incompleteStreamError(undefined, this.provider.name);
      if (!this.committed) {
        this.fail(error, () => sendError(this.context, error));
        return;
      }
      this.context.error = error;
      this.noteUsage();
      response.end(this.surface.encodeStreamError(error));
      this.done(error);
      return;
    }
    if (!this.committed) this.open();
    this.noteUsage();
    response.end();
    this.done(undefined);
  }

  /** The NDJSON splitter holds an unterminated line at the close that is whole JSON. */
  private endsWithWholeLine(): boolean {
    const rest = this.splitter!.held();
    if (rest === undefined) return false;
    try {
      JSON.parse(rest.toString('utf8'));
      return true;
    } catch {
      return false; // a line cut off: the close is a truncation
    }
  }

  /** The usage the answer carried, for metrics and the usage store. */
  private noteUsage(): void {
    const sniffer = this.sniffer;
    if (sniffer === undefined) return;
    if (this.splitter === undefined) sniffer.end();
    if (sniffer.raw !== undefined) this.context.usage = this.provider.adapter.usage!.from(sniffer.raw);
  }

  protected onBrokenAfterCommit(error: GatewayError): void {
    this.noteUsage();
    const response = this.context.response;
    if (this.splitter !== undefined) response.end(this.surface.encodeStreamError(error));
    // A plain body cut short: the only honest signal left is an aborted connection.
    else response.destroy(error);
    this.done(error);
  }
}
