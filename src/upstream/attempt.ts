// One try against one endpoint, written as an undici dispatch handler: no promise or closure per
// chunk, a boolean back-pressure signal (pause/resume), and every outcome reported once to a sink.
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { GatewayError } from '../canonical/errors.ts';
import { contentDecoder, undecodableBody, unsupportedCoding } from './content-coding.ts';
import type { Endpoint } from './endpoint.ts';
import { canceledError, classifyTransportError, timeoutError } from './errors.ts';

/** First-byte and idle limits below this run on precise timers of our own. */
const PRECISE_BELOW_MS = 1000;

/**
 * Error bodies are small and come with their headers; an upstream that drips one for longer than
 * this (or than the first-byte limit, when shorter) gets a 504 instead of holding the request.
 */
export const ERROR_BODY_DEADLINE_MS = 10_000;
/** The deadline of a 2xx body read whole when neither total_ms nor first_byte_ms is set. */
export const WHOLE_BODY_FALLBACK_MS = 300_000;

export interface AttemptSink {
  onAttemptStart(attempt: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void;
  onAttemptData(attempt: UpstreamAttempt, chunk: Buffer): void;
  onAttemptEnd(attempt: UpstreamAttempt): void;
  onAttemptError(attempt: UpstreamAttempt, error: GatewayError): void;
}

export interface AttemptRequest {
  method: 'GET' | 'POST';
  /** Path under the endpoint's base path, e.g. `/chat/completions`. */
  path: string;
  /** Flat name/value list; auth and static headers are added by the attempt. */
  headers: string[];
  /**
   * A stream (a spooled upload re-encoded for this attempt) needs its content-length in `headers`
   * and is read once: each attempt gets a new one. The stream failing with a GatewayError (the
   * spooled file could not be read back) fails the attempt with that error, as the gateway's own.
   */
  body: Buffer | Readable | null;
  /** Which of the endpoint's keys to send (0 when it has none). */
  keyIndex?: number;
  /** Per-attempt timeouts overriding the endpoint's (a route's own), ms; 0 = no limit. */
  timeouts?: Partial<{ connectMs: number; firstByteMs: number; idleMs: number; totalMs: number }>;
}

export class UpstreamAttempt implements Dispatcher.DispatchHandler {
  readonly endpoint: Endpoint;
  private readonly sink: AttemptSink;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private totalTimer: NodeJS.Timeout | undefined = undefined;
  private connectTimer: NodeJS.Timeout | undefined = undefined;
  /** Own timers for first-byte and idle limits under a second (undici's run on ~0.5 s ticks). */
  private firstByteTimer: NodeJS.Timeout | undefined = undefined;
  private idleTimer: NodeJS.Timeout | undefined = undefined;
  /** The deadline of a body read whole (see expectWholeBody). */
  private bodyTimer: NodeJS.Timeout | undefined = undefined;
  bodyLimitMs = 0;
  private paused = false;
  /** Decodes an answer the upstream compressed although identity was asked for (rare). */
  private decoder: Transform | undefined = undefined;
  private coding = '';
  /** The decoder's input is full: the upstream stays paused until it drains. */
  private decoderFull = false;
  /** undici delivered the whole response; only the decoder is still at work. */
  private responseEnded = false;
  private pendingAbort: GatewayError | undefined = undefined;
  /** A streamed request body, closed when the attempt finishes (whatever undici did with it). */
  private upload: Readable | undefined = undefined;
  /** The limits this attempt runs under (the endpoint's, or a route's overrides), for error messages. */
  limits: { connectMs: number; firstByteMs: number; idleMs: number; totalMs: number };
  private finished = false;
  status = 0;
  bytesReceived = 0;
  readonly startedAt: number;
  headersAt = 0;

  constructor(endpoint: Endpoint, sink: AttemptSink) {
    this.endpoint = endpoint;
    this.sink = sink;
    this.startedAt = performance.now();
    this.limits = endpoint.timeouts;
  }

  start(request: AttemptRequest): void {
    const headers = request.headers;
    const staticHeaders = this.endpoint.staticHeaders;
    // configured headers fill in what the request does not already carry (a forwarded
    // anthropic-version from the client wins over the preset's default)
    for (let i = 0; i < staticHeaders.length; i += 2) {
      const name = staticHeaders[i]!;
      let present = false;
      for (let j = 0; j < headers.length; j += 2) if (headers[j] === name) { present = true; break; }
      if (!present) headers.push(name, staticHeaders[i + 1]!);
    }
    this.endpoint.appendAuth(headers, request.keyIndex ?? 0);
    const overrides = request.timeouts;
    let limits = this.endpoint.timeouts;
    if (overrides !== undefined) {
      limits = { ...limits, ...overrides };
      this.limits = limits;
      // the pool's connect timeout is fixed per endpoint; a route's shorter one runs as a timer
      // until the request is on a connected socket
      if (overrides.connectMs !== undefined && overrides.connectMs > 0 && overrides.connectMs < this.endpoint.timeouts.connectMs) {
        this.connectTimer = setTimeout(onConnectTimeout, overrides.connectMs, this);
      }
    }
    const totalMs = limits.totalMs;
    if (totalMs > 0) this.totalTimer = setTimeout(onTotalTimeout, totalMs, this);
    const body = request.body;
    if (body !== null && !Buffer.isBuffer(body)) this.upload = body;
    const options: Dispatcher.DispatchOptions = {
      origin: this.endpoint.origin,
      path: this.endpoint.basePath + request.path,
      method: request.method,
      headers,
      body: request.body,
    };
    if (overrides !== undefined) {
      if (overrides.firstByteMs !== undefined) options.headersTimeout = overrides.firstByteMs;
      if (overrides.idleMs !== undefined) options.bodyTimeout = overrides.idleMs;
    }
    // undici's header and body timers tick about every half second: fine for limits of seconds,
    // too coarse below one, where precise timers of our own take over
    if (limits.firstByteMs > 0 && limits.firstByteMs < PRECISE_BELOW_MS) {
      options.headersTimeout = 0;
      // as undici's own: the wait for the answer starts once the upload is sent
      if (this.upload === undefined) this.firstByteTimer = setTimeout(onFirstByteTimeout, limits.firstByteMs, this);
      else this.upload.once('end', () => this.uploadSent());
    }
    if (limits.idleMs > 0 && limits.idleMs < PRECISE_BELOW_MS) options.bodyTimeout = 0;
    this.endpoint.pool.dispatch(options, this);
  }

  /** The upload is sent: the precise first-byte limit starts (see start()). */
  uploadSent(): void {
    if (!this.finished && this.status === 0) this.firstByteTimer = setTimeout(onFirstByteTimeout, this.limits.firstByteMs, this);
  }

  /** Stops the attempt; the sink hears about it through onAttemptError (unless already finished). */
  abort(reason: GatewayError = canceledError()): void {
    if (this.finished) return;
    if (this.controller === undefined) {
      this.pendingAbort = reason;
      return;
    }
    this.stop(reason);
  }

  /** Ends a started request with `error`: through undici, or here when only the decoder is left. */
  private stop(error: GatewayError): void {
    if (!this.responseEnded) {
      this.controller!.abort(error);
      return;
    }
    this.finish();
    this.sink.onAttemptError(this, error);
  }

  pause(): void {
    this.paused = true;
    this.controller?.pause();
    this.decoder?.pause();
  }

  resume(): void {
    this.paused = false;
    this.idleTimer?.refresh();
    this.decoder?.resume();
    if (!this.decoderFull) this.controller?.resume();
  }

  /**
   * The caller reads this body whole (an error to classify, a non-streamed answer to translate)
   * and cannot answer before its end, so an upstream that drips it endlessly must not hold the
   * request: the rest of the body has to arrive within the route's total_ms (already running),
   * else within first_byte_ms — the wait the caller accepted for the answer to start — and an
   * error body within at most ERROR_BODY_DEADLINE_MS. Past it: 504 (SWY_ERR_UPSTREAM_BODY_TIMEOUT).
   */
  expectWholeBody(isError: boolean): void {
    if (this.finished || this.bodyTimer !== undefined) return;
    const limits = this.limits;
    if (!isError && limits.totalMs > 0) return;
    const wait = limits.firstByteMs > 0 ? limits.firstByteMs : WHOLE_BODY_FALLBACK_MS;
    this.bodyLimitMs = isError ? Math.min(ERROR_BODY_DEADLINE_MS, wait) : wait;
    this.bodyTimer = setTimeout(onBodyTimeout, this.bodyLimitMs, this);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.connectTimer !== undefined) {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
    if (this.pendingAbort !== undefined) controller.abort(this.pendingAbort);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational
    this.status = statusCode;
    this.headersAt = performance.now();
    if (this.firstByteTimer !== undefined) {
      clearTimeout(this.firstByteTimer);
      this.firstByteTimer = undefined;
    }
    const idleMs = this.limits.idleMs;
    if (idleMs > 0 && idleMs < PRECISE_BELOW_MS) this.idleTimer = setTimeout(onIdleTimeout, idleMs, this);
    const coding = headers['content-encoding'];
    if (coding !== undefined) {
      const decoder = contentDecoder(coding);
      if (decoder === null) {
        controller.abort(unsupportedCoding(this.endpoint.provider, coding));
        return;
      }
      if (decoder !== undefined) headers = this.decodeWith(decoder, String(coding), headers);
    }
    this.sink.onAttemptStart(this, statusCode, headers);
  }

  /**
   * From here on the sink sees the decoded body, under headers that no longer describe the
   * compressed one (no content-encoding, no content-length).
   */
  private decodeWith(decoder: Transform, coding: string, headers: IncomingHttpHeaders): IncomingHttpHeaders {
    this.decoder = decoder;
    this.coding = coding;
    decoder.on('data', (chunk: Buffer) => {
      if (!this.finished) this.sink.onAttemptData(this, chunk);
    });
    decoder.on('end', () => {
      if (this.finished) return;
      this.finish();
      this.sink.onAttemptEnd(this);
    });
    decoder.on('error', (error: Error) => {
      if (!this.finished) this.stop(undecodableBody(this.endpoint.provider, this.coding, error));
    });
    decoder.on('drain', () => {
      this.decoderFull = false;
      if (!this.paused) this.controller?.resume();
    });
    const decoded = { ...headers };
    delete decoded['content-encoding'];
    delete decoded['content-length'];
    return decoded;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.idleTimer?.refresh();
    const decoder = this.decoder;
    if (decoder === undefined) {
      this.sink.onAttemptData(this, chunk);
      return;
    }
    if (!decoder.write(chunk)) {
      this.decoderFull = true;
      controller.pause();
    }
  }

  onResponseEnd(): void {
    if (this.finished) return;
    const decoder = this.decoder;
    // an empty body labelled as compressed (a 204, say) has nothing to decode
    if (decoder !== undefined && this.bytesReceived > 0) {
      this.responseEnded = true;
      decoder.end();
      return;
    }
    this.finish();
    this.sink.onAttemptEnd(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.finished) return;
    this.finish();
    this.sink.onAttemptError(this, classifyTransportError(error, this.endpoint.provider, this.limits, this.status !== 0));
  }

  private finish(): void {
    this.finished = true;
    if (this.totalTimer !== undefined) clearTimeout(this.totalTimer);
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    if (this.firstByteTimer !== undefined) clearTimeout(this.firstByteTimer);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (this.bodyTimer !== undefined) clearTimeout(this.bodyTimer);
    if (this.decoder !== undefined) this.decoder.destroy();
    // an upstream may answer before reading the whole upload (a 401, a 413): stop reading the file
    if (this.upload !== undefined && !this.upload.destroyed) this.upload.destroy();
  }

  /** A limit of our own ran out: stop the request wherever it is (even still waiting for a socket). */
  expire(error: GatewayError): void {
    if (this.finished) return;
    if (this.controller !== undefined) this.stop(error);
    else this.failBeforeConnect(error);
  }

  /** The idle timer ran out; a response paused by a slow client is not idle, so it waits on. */
  idleExpired(): void {
    if (this.paused) {
      this.idleTimer?.refresh();
      return;
    }
    this.expire(timeoutError('idle', this.endpoint.provider, this.limits.idleMs));
  }

  /** Stops a request still waiting for a connection (the route's connect timeout). */
  failBeforeConnect(error: GatewayError): void {
    this.connectTimer = undefined;
    if (this.finished) return;
    if (this.controller !== undefined) {
      this.controller.abort(error);
      return;
    }
    // not yet handed to a socket: undici has nothing to abort; report the failure ourselves and
    // abort the request as soon as it starts
    this.pendingAbort = error;
    this.finish();
    this.sink.onAttemptError(this, error);
  }
}

function onTotalTimeout(attempt: UpstreamAttempt): void {
  attempt.abort(timeoutError('total', attempt.endpoint.provider, attempt.limits.totalMs));
}

function onFirstByteTimeout(attempt: UpstreamAttempt): void {
  attempt.expire(timeoutError('first-byte', attempt.endpoint.provider, attempt.limits.firstByteMs));
}

function onIdleTimeout(attempt: UpstreamAttempt): void {
  attempt.idleExpired();
}

function onBodyTimeout(attempt: UpstreamAttempt): void {
  attempt.expire(timeoutError('body', attempt.endpoint.provider, attempt.bodyLimitMs));
}

function onConnectTimeout(attempt: UpstreamAttempt): void {
  attempt.failBeforeConnect(timeoutError('connect', attempt.endpoint.provider, attempt.limits.connectMs));
}
