// One request's way through its route: pick a target and key (strategy, health, affinity, prompt
// size), run an exchange, and on a failure before the commit point decide — as data, from the
// error's class — whether to retry the same target after a back-off, move to the next target, walk
// the fallback chain, switch to the context-overflow alias, or answer. Bounded by the route's retry
// policy, the request's attempt cap and the process's retry budget. A client that leaves stops
// everything at once: the attempt in flight, a back-off timer, a media download. Outcomes go to
// the key's health entry: failures before the commit point count towards ejection (within what
// the route allows), a stream broken after it is counted apart; a route left with too few
// targets and no healthy fallback ignores ejection (panic) rather than refuse the request.
import { createHash } from 'node:crypto';
import type { RequestSummary, SurfaceAdapter, SurfaceRequest, UpstreamRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError, type ErrorInfo } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import { usable, type Route, type TargetSlot } from '../routing/router.ts';
import type { SuffixedModel } from '../routing/suffix.ts';
import type { EjectionGuard, HealthEntry } from '../state/interfaces.ts';
import { estimatePromptTokens, estimateTokens } from '../util/estimate-tokens.ts';
import { replaceTopLevelString, type TopLevelString } from '../util/json-splice.ts';
import type { Cancellable, RequestContext } from './context.ts';
import { PassThroughExchange } from './pass-through-exchange.ts';
import { withStreamFilters } from './phases.ts';
import { inlineMedia, needsInlining } from './media.ts';
import { sendError, sendJson } from './respond.ts';
import type { ProviderRuntime, Runtime } from './runtime.ts';
import { TranslatingExchange, type Translation } from './translating-exchange.ts';
import type { ExchangeOwner, UpstreamExchange } from './upstream-exchange.ts';

/** Failures that may go away on another try of the same target. */
const RETRYABLE = new Set(['connect-failure', 'reset', 'per-try-timeout', 'gateway-error', 'rate-limited', 'server-error']);
/** Session ids longer than this are pinned by their SHA-256 digest, so 50,000 pins stay small. */
const SESSION_ID_KEPT = 256;
/** Built-in session headers, most specific first. */
const SESSION_HEADERS = ['x-session-id', 'x-claude-code-session-id', 'session-id'];

export interface RunnerInput {
  runtime: Runtime;
  context: RequestContext;
  surface: SurfaceAdapter;
  surfaceRequest: SurfaceRequest;
  parsed: unknown;
  body: Buffer;
  /** The body decoded, and where its top-level `model` string is (spliced when routing renames the model). */
  text: string;
  modelMember: TopLevelString | undefined;
  summary: RequestSummary;
  suffix: SuffixedModel | undefined;
  route: Route;
  /** Reports an unexpected exception (a bug): answered as a 500 and logged. */
  onInternalError: (error: unknown) => void;
}

interface Failure {
  error: GatewayError;
  answer: () => void;
}

export class RequestRunner implements Cancellable, ExchangeOwner, EjectionGuard {
  private readonly input: RunnerInput;
  private readonly context: RequestContext;
  private readonly runtime: Runtime;
  private route: Route;
  private readonly tried = new Set<TargetSlot>();
  private target: TargetSlot | undefined = undefined;
  private key: HealthEntry | undefined = undefined;
  /** Epoch ms when the current attempt took its key: tells its health entry whether it began before an ejection. */
  private startedAt = 0;
  /** The current route was in panic when its target was picked: ejected keys may be used. */
  private panic = false;
  private triesOnTarget = 0;
  private attempts = 0;
  private exchange: UpstreamExchange | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private pending: Cancellable | undefined = undefined;
  private canceled = false;
  private last: Failure | undefined = undefined;
  /** Fallback model names still to try, in order. */
  private readonly queue: string[] = [];
  private readonly visited = new Set<string>();
  /** Every route considered, for the cooling-down answer. */
  private readonly routes: Route[] = [];
  private canonical: CanonicalRequest | undefined = undefined;
  private inlined = false;
  private tokens = -1;
  private session: string | null | undefined = undefined;
  private preferredKey = -1;

  constructor(input: RunnerInput) {
    this.input = input;
    this.context = input.context;
    this.runtime = input.runtime;
    this.route = input.route;
  }

  start(): void {
    this.context.active = this;
    this.runtime.retryBudget.onRequest();
    this.enter(this.route);
    this.next();
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.pending?.cancel();
    const exchange = this.exchange;
    if (exchange !== undefined) {
      this.exchange = undefined;
      exchange.cancel();
      exchange.key.release();
      if (this.context.attemptLog !== undefined) this.endAttempt(ErrorCode.canceled);
    }
  }

  private enter(route: Route): void {
    this.route = route;
    this.routes.push(route);
    this.visited.add(route.requested);
    this.tried.clear();
    this.target = undefined;
    for (const name of route.policy.fallbacks) if (!this.visited.has(name)) this.queue.push(name);
  }

  /** Chooses what to try next, or answers when nothing is left. */
  private next(): void {
    if (this.canceled) return;
    const now = Date.now();
    const last = this.last;
    const target = this.target;
    if (target !== undefined && last !== undefined && (RETRYABLE.has(last.error.errorClass) || keyRefused(last.error)) && this.triesOnTarget < this.route.policy.retry.attempts) {
      if (this.retrySame(target, last.error, now)) return;
    }
    for (;;) {
      const picked = this.pickTarget(now);
      if (picked !== undefined) {
        const key = picked.pickKey(now, this.preferredKey, this.panic);
        this.preferredKey = -1;
        this.tried.add(picked);
        if (key === undefined) continue; // cannot happen (picked means a key is available); never loop on it
        this.target = picked;
        this.triesOnTarget = 0;
        this.schedule(picked, key, 0);
        return;
      }
      if (this.overflowing(now)) {
        this.overflow(undefined);
        return;
      }
      const name = this.queue.shift();
      if (name === undefined) {
        this.giveUp(now);
        return;
      }
      if (this.visited.has(name)) continue;
      const route = this.runtime.router.resolve(name);
      if (route === undefined) {
        this.visited.add(name);
        continue;
      }
      this.enter(route);
    }
  }

  /** Another try of the same target: another key at once, or the same key after a back-off. */
  private retrySame(target: TargetSlot, error: GatewayError, now: number): boolean {
    const retry = this.route.policy.retry;
    const previous = this.key!;
    // this very failure may have ejected the target: retry it anyway if the route is in panic
    this.panic = this.panicking(this.route, now);
    const key = target.pickKey(now, -1, this.panic);
    if (key !== undefined && key !== previous) {
      this.schedule(target, key, 0);
      return true;
    }
    // a refused key is not tried again; only another key of the target could help
    if (!RETRYABLE.has(error.errorClass)) return false;
    let delay: number;
    if (key === undefined) {
      // every key is cooling: wait for the failed one if it comes back within the back-off cap,
      // unless another target can take the request now
      const wait = previous.until - now;
      if (error.errorClass !== 'rate-limited' || wait > retry.maxBackoffMs || this.otherTargetReady(now)) return false;
      delay = Math.max(0, wait);
    } else {
      const ceiling = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.min(this.triesOnTarget - 1, 20));
      delay = Math.random() * ceiling; // full jitter
      if (error.retryAfterSeconds !== undefined) {
        const asked = error.retryAfterSeconds * 1000;
        if (asked > retry.maxBackoffMs) return false;
        delay = Math.max(delay, asked);
      }
    }
    this.schedule(target, previous, delay, key === undefined);
    return true;
  }

  /** Some target of the route not tried yet could take the request now (without picking it). */
  private otherTargetReady(now: number): boolean {
    const route = this.route;
    return route.canPick(this.input.surface.operation, now, this.tried, route.hasContextWindows ? this.promptTokens() : 0);
  }

  /**
   * Whether `route` ignores ejection now: too few of its targets are available (panic threshold)
   * and no fallback still to walk has an available target — fallbacks come first, as Envoy's lower
   * priority levels do. Free in the usual case: with nothing ejected anywhere, one read ends it.
   */
  private panicking(route: Route, now: number): boolean {
    if (this.runtime.health.counters.ejectedEntries === 0) return false;
    const operation = this.input.surface.operation;
    if (!route.belowPanicThreshold(operation, now, this.runtime.config.routing.cooldowns.panicThresholdPercent)) return false;
    for (const name of this.queue) {
      if (this.visited.has(name)) continue;
      const fallback = this.runtime.router.resolve(name);
      if (fallback !== undefined && fallback.canPick(operation, now, undefined, fallback.hasContextWindows ? this.promptTokens() : 0)) return false;
    }
    return true;
  }

  /** EjectionGuard: the current route's max_ejection_percent decides whether a failing key may be ejected. */
  allowsEjection(entry: HealthEntry, now: number): boolean {
    return this.route.allowsEjection(this.input.surface.operation, entry, now, this.runtime.config.routing.cooldowns.maxEjectionPercent);
  }

  private pickTarget(now: number): TargetSlot | undefined {
    const route = this.route;
    const operation = this.input.surface.operation;
    const tokens = route.hasContextWindows ? this.promptTokens() : 0;
    this.panic = false;
    if (route.policy.affinity === 'session' && this.tried.size === 0) {
      const session = this.sessionId();
      if (session !== undefined) {
        const pin = this.runtime.sessions.get(`${route.requested}\u0000${session}`, now);
        const pinned = pin === undefined ? undefined : route.targets[pin.target];
        if (pinned !== undefined && route.targetsFor(operation).includes(pinned) && usable(pinned, now, this.tried, tokens)) {
          this.preferredKey = pin!.key;
          return pinned;
        }
      }
    }
    this.panic = this.panicking(route, now);
    return route.pick(operation, now, this.tried, tokens, this.panic);
  }

  /** No target took the request and some were passed over only because the prompt is too long for them. */
  private overflowing(now: number): boolean {
    if (!this.route.hasContextWindows) return false;
    const tokens = this.promptTokens();
    for (const target of this.route.targetsFor(this.input.surface.operation)) {
      if (!this.tried.has(target) && target.contextWindow !== undefined && tokens > target.contextWindow && target.available(now)) return true;
    }
    return false;
  }

  /** The prompt is too long here: the route's overflow alias, or a clean error at once. */
  private overflow(error: GatewayError | undefined): void {
    const name = this.route.policy.onContextOverflow;
    const route = name !== undefined && !this.visited.has(name) ? this.runtime.router.resolve(name) : undefined;
    if (route !== undefined) {
      this.queue.length = 0;
      this.enter(route);
      this.next();
      return;
    }
    if (error !== undefined && this.last !== undefined) {
      this.last.answer();
      return;
    }
    sendError(this.context, new GatewayError(ErrorCode.contextLength,
      `The prompt (about ${this.promptTokens()} tokens by the gateway's estimate) is longer than the context window of every target of '${this.route.requested}'.`,
      { status: 400, origin: 'gateway', errorClass: 'client-error', param: 'messages' }));
  }

  private schedule(target: TargetSlot, key: HealthEntry, delay: number, bypassCooldown = false): void {
    if (this.attempts >= this.runtime.config.routing.maxAttempts) {
      this.giveUp(Date.now());
      return;
    }
    if (this.attempts > 0 && !this.runtime.retryBudget.tryRetry()) {
      this.giveUp(Date.now(), true);
      return;
    }
    if (delay <= 0) {
      this.dispatch(target, key, bypassCooldown);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.dispatch(target, key, bypassCooldown);
      } catch (error) {
        this.internalError(error);
      }
    }, delay);
  }

  private dispatch(target: TargetSlot, key: HealthEntry, bypassCooldown: boolean): void {
    const context = this.context;
    if (this.canceled || context.response.destroyed) return; // the client left: no upstream request
    const now = Date.now();
    if (!bypassCooldown && !key.usable(now, this.panic)) {
      // cooled down while we waited (another request's failure): choose again
      this.next();
      return;
    }
    const provider = this.runtime.providers.get(target.provider)!;
    let taken = false;
    try {
      if (!this.prepare(provider, target)) return; // media download first; dispatch resumes after it
      this.attempts++;
      this.triesOnTarget++;
      context.attempts = this.attempts;
      context.provider = provider.name;
      context.upstreamModel = target.model;
      context.unlistedModel = this.route.provisional;
      // a fallback's own error answer names it too, not only its success
      context.route = this.route !== this.input.route ? this.route.requested : '';
      this.key = key;
      this.startedAt = now;
      key.take(now);
      taken = true;
      context.upstreamStatus = 0; // this attempt's, not an earlier one's
      context.attemptLog?.push({ provider: provider.name, dialect: provider.adapter.dialect, model: target.model, key: key.keyId, startedAt: performance.now(), endedAt: 0, status: 0, error: undefined });
      const exchange = this.exchangeFor(provider, target.model, key);
      if (exchange === undefined) key.release(); // answered locally
      else if (!exchange.isSettled) this.exchange = exchange;
    } catch (error) {
      // only this attempt's claim on the key is given back (a throw before it took none)
      if (taken) key.release();
      if (error instanceof RangeError && isStackOverflow(error)) error = tooDeep();
      if (!(error instanceof GatewayError)) {
        this.internalError(error);
        return;
      }
      // the request cannot be expressed for this provider: another target may take it
      this.last = { error, answer: () => sendError(context, error) };
      this.target = undefined;
      this.next();
    }
  }

  /**
   * Ready to encode for `provider`? Chat requests for providers that take media inline only have
   * their URL images downloaded once (bounded, cancellable) before the first such attempt.
   */
  private prepare(provider: ProviderRuntime, target: TargetSlot): boolean {
    const adapter = provider.adapter;
    if (this.inlined || adapter.mediaUrls !== 'inline' || this.input.surface.operation !== 'chat' || this.passThrough(provider)) return true;
    const request = this.decoded();
    const keep = adapter.keepsMediaUrl?.bind(adapter);
    if (!needsInlining(request, keep)) return true;
    const inlining = inlineMedia(request, this.runtime.media, keep);
    this.pending = inlining.cancel;
    inlining.done.then(() => {
      this.pending = undefined;
      this.inlined = true;
      if (this.canceled || this.context.response.destroyed) return;
      const key = target.pickKey(Date.now(), -1, this.panic) ?? target.keys[0]!;
      try {
        this.dispatch(target, key, true);
      } catch (error) {
        this.internalError(error);
      }
    }, (error: unknown) => {
      this.pending = undefined;
      if (this.canceled || this.context.response.destroyed) return;
      if (error instanceof GatewayError) sendError(this.context, error);
      else this.internalError(error);
    });
    return false;
  }

  private passThrough(provider: ProviderRuntime): boolean {
    // stream filters need canonical parts, so a filtered stream is always translated
    return this.input.suffix === undefined && provider.wires.has(this.input.surface.wire) && (!this.input.summary.stream || this.context.phases.stream.length === 0);
  }

  /** The surface's request in canonical form, decoded once (the first translated attempt). */
  private decoded(): CanonicalRequest {
    if (this.canonical !== undefined) return this.canonical;
    const { surface, parsed, surfaceRequest, suffix } = this.input;
    const request = surface.chat!.decodeRequest(parsed, surfaceRequest);
    if (suffix !== undefined) {
      // the suffix replaces the level the body asked for (effort or budget), it does not mix with it
      request.reasoning = { ...(request.reasoning?.includeThoughts !== undefined ? { includeThoughts: request.reasoning.includeThoughts } : {}), ...suffix.reasoning };
    }
    this.canonical = request;
    return request;
  }

  /** Builds and starts the exchange for one attempt; undefined when answered without the upstream. */
  private exchangeFor(provider: ProviderRuntime, model: string, key: HealthEntry): UpstreamExchange | undefined {
    const { context, surface, surfaceRequest, parsed, summary, body, text, modelMember } = this.input;
    const base = { context, surface, provider, upstreamModel: model, key, timeouts: this.route.policy.timeouts, secrets: this.runtime.secrets, owner: this as ExchangeOwner };
    const adapter = provider.adapter;
    if (this.passThrough(provider)) {
      const rename = summary.modelInPath !== true && model !== summary.model;
      return new PassThroughExchange({
        ...base,
        path: adapter.passThroughPath(surface.wire, model, surfaceRequest, summary.stream),
        forwardHeaders: adapter.forwardHeaders(surfaceRequest),
        body: rename ? replaceTopLevelString(body, text, modelMember, parsed as Record<string, unknown>, 'model', model) : body,
        stream: summary.stream,
      });
    }
    const unsupported = () => new GatewayError(ErrorCode.unsupportedOperation,
      `${context.path} cannot be served by provider '${provider.name}' (${adapter.dialect} dialect): no translation between them.`,
      { status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model' });
    let upstream: UpstreamRequest;
    let translation: Translation;
    switch (surface.operation) {
      case 'chat': {
        const codec = surface.chat;
        const providerCodec = adapter.chat;
        if (codec === undefined || providerCodec === undefined) throw unsupported();
        const request = this.decoded();
        upstream = providerCodec.encodeRequest(request, model, provider.context);
        // same dialect on both sides (translated because of a suffix): the client's own headers
        // (e.g. anthropic-beta) still go upstream
        if (adapter.dialect === surface.dialect) upstream.headers.push(...adapter.forwardHeaders(surfaceRequest));
        translation = {
          translateBody: (answer) => {
            const decoded = providerCodec.decodeResponse(answer, request);
            context.usage = decoded.usage;
            return codec.encodeResponse(decoded, request);
          },
          ...(request.stream ? { stream: { decoder: providerCodec.createStreamDecoder(request), encoder: withStreamFilters(codec.createStreamEncoder(request, surfaceRequest), context) } } : {}),
        };
        break;
      }
      case 'embeddings': {
        const codec = surface.embeddings;
        const providerCodec = adapter.embeddings;
        if (codec === undefined || providerCodec === undefined) throw unsupported();
        const request = codec.decodeRequest(parsed, surfaceRequest);
        upstream = providerCodec.encodeRequest(request, model, provider.context);
        translation = {
          translateBody: (answer) => {
            const decoded = providerCodec.decodeResponse(answer, request);
            context.usage = { inputTokens: decoded.usage.inputTokens, outputTokens: 0 };
            return codec.encodeResponse(decoded, request, parsed);
          },
        };
        break;
      }
      case 'count-tokens': {
        const codec = surface.countTokens;
        if (codec === undefined) throw unsupported();
        const request = codec.decodeRequest(parsed, surfaceRequest);
        const providerCodec = adapter.countTokens;
        if (providerCodec === undefined) {
          // no counting endpoint upstream: answer with the gateway's estimate
          context.active = undefined;
          sendJson(context, 200, codec.encodeResponse(estimateTokens([request.messages, request.tools])), ['x-switchyard-token-count', 'estimate', 'x-switchyard-provider', provider.name]);
          return undefined;
        }
        upstream = providerCodec.encodeRequest(request, model, provider.context);
        translation = { translateBody: (answer) => codec.encodeResponse(providerCodec.decodeResponse(answer)) };
        break;
      }
    }
    return new TranslatingExchange({ ...base, upstream, translation });
  }

  // ExchangeOwner

  onFailure(exchange: UpstreamExchange, error: GatewayError, answer: () => void): void {
    if (this.exchange === exchange) this.exchange = undefined;
    if (this.context.attemptLog !== undefined) this.endAttempt(error.code);
    const key = exchange.key;
    key.release();
    const now = Date.now();
    if (countsAgainstTarget(error)) key.fail(now, error, this.runtime.config.routing.cooldowns, this.startedAt, this);
    else if (error.errorClass === 'client-error') key.succeed(now, 0, this.startedAt); // it answered: the request was at fault
    this.last = { error, answer };
    this.context.error = error;
    (this.context.failures ??= []).push(`${exchange.provider.name}/${exchange.upstreamModel}:${error.upstreamStatus ?? error.status}`);
    if (this.canceled) return;
    if (error.code === ErrorCode.contextLength) {
      this.overflow(error);
      return;
    }
    if (!RETRYABLE.has(error.errorClass) && !error.fallbackAllowed) {
      answer();
      return;
    }
    this.next();
  }

  onCommit(exchange: UpstreamExchange): void {
    const context = this.context;
    context.provider = exchange.provider.name;
    context.upstreamModel = exchange.upstreamModel;
    context.error = undefined;
    context.unlistedModel = false;
    // a name the provider does not list has now been answered: its state is worth keeping
    if (this.route.provisional) this.runtime.router.confirm(this.route);
    const key = exchange.key;
    key.succeed(Date.now(), exchange.latencyMs, this.startedAt);
    const target = this.target;
    if (target !== undefined && this.route.policy.affinity === 'session') {
      const session = this.sessionId();
      if (session !== undefined) {
        this.runtime.sessions.set(`${this.route.requested}\u0000${session}`, target.index, key.keyIndex, Date.now() + this.runtime.config.routing.sessionTtlMs);
      }
    }
  }

  onDone(exchange: UpstreamExchange, error: GatewayError | undefined): void {
    if (this.exchange === exchange) this.exchange = undefined;
    if (this.context.attemptLog !== undefined) this.endAttempt(error?.code);
    if (this.context.active === this) this.context.active = undefined;
    exchange.key.release();
    // a stream broken after the commit says something about the target's health, but it is not a
    // failed connection or a 5xx: counted apart, for the success rate only
    if (error !== undefined && countsAgainstTarget(error)) exchange.key.failAfterCommit(Date.now(), error, this.runtime.config.routing.cooldowns, this);
  }

  onInternalError(exchange: UpstreamExchange, error: unknown, holdsKey: boolean): void {
    if (holdsKey) {
      if (this.exchange === exchange) this.exchange = undefined;
      if (this.context.attemptLog !== undefined) this.endAttempt(ErrorCode.internal);
      exchange.key.release();
    }
    this.internalError(error);
  }

  /**
   * The gateway's own code threw: whatever is still under way for this request stops, and the
   * gateway ends the response (a 500 in the caller's dialect, or an error event inside a stream).
   * Nothing counts against a provider.
   */
  private internalError(error: unknown): void {
    this.cancel();
    if (this.context.active === this) this.context.active = undefined;
    this.input.onInternalError(error);
  }

  /** Closes the attempt record of the attempt that just ended (tracing only). */
  private endAttempt(error: string | undefined): void {
    const log = this.context.attemptLog!;
    const record = log[log.length - 1];
    if (record === undefined || record.endedAt !== 0) return;
    record.endedAt = performance.now();
    record.status = this.context.upstreamStatus;
    record.error = error;
  }

  /** Nothing more to try: the last failure's own answer, or — when no attempt was possible — why. */
  private giveUp(now: number, budget = false): void {
    const context = this.context;
    if (this.last !== undefined) {
      this.last.answer();
      return;
    }
    if (budget) {
      sendError(context, new GatewayError(ErrorCode.retryBudget, 'Too many retries in progress across the gateway; not retrying this request.', { status: 503, origin: 'gateway', errorClass: 'gateway-error', retryAfterSeconds: 1 }));
      return;
    }
    // every target is cooling down: say until when, in the caller's dialect
    const operation = this.input.surface.operation;
    let soonest = Infinity;
    let replay: ErrorInfo | undefined;
    let onlyPermanent = true;
    const reasons: string[] = [];
    for (const route of this.routes) {
      for (const target of route.targetsFor(operation)) {
        for (const key of target.keys) {
          // out of its ejection, but its one half-open probe is still in flight
          const probing = key.until <= now && key.probing;
          if (key.until <= now && !probing) continue;
          const until = probing ? now : key.until;
          if (until < soonest) soonest = until;
          if (key.reason !== 'auth' && key.reason !== 'not-found') onlyPermanent = false;
          else replay ??= key.lastError;
          if (reasons.length < 4) reasons.push(`${target.provider}/${target.model} ${probing ? 'probing' : key.reason ?? 'cooling'}`);
        }
      }
    }
    if (onlyPermanent && replay !== undefined) {
      // a key the provider refused, or a model it does not have: say so again rather than "try later"
      sendError(context, replay, ['x-switchyard-cooldown', 'true']);
      return;
    }
    const seconds = soonest === Infinity ? 1 : Math.max(1, Math.ceil((soonest - now) / 1000));
    sendError(context, new GatewayError(ErrorCode.coolingDown,
      `Every target for '${this.input.route.requested}' is cooling down after recent failures (${reasons.join(', ')}); retry after ${seconds} s.`,
      { status: 429, origin: 'gateway', errorClass: 'rate-limited', retryAfterSeconds: seconds }));
  }

  /** The session this request belongs to, for affinity; undefined when it names none. */
  private sessionId(): string | undefined {
    if (this.session !== undefined) return this.session ?? undefined;
    const headers = this.input.surfaceRequest.headers;
    const configured = this.runtime.config.routing.sessionHeader;
    let found: string | undefined;
    if (configured !== undefined) found = headerString(headers[configured]);
    for (let i = 0; found === undefined && i < SESSION_HEADERS.length; i++) found = headerString(headers[SESSION_HEADERS[i]!]);
    if (found === undefined) {
      const body = this.input.parsed as { prompt_cache_key?: unknown; metadata?: { user_id?: unknown } } | null;
      if (body !== null && typeof body === 'object') {
        if (typeof body.prompt_cache_key === 'string' && body.prompt_cache_key !== '') found = body.prompt_cache_key;
        else if (body.metadata !== null && typeof body.metadata === 'object' && typeof body.metadata.user_id === 'string' && body.metadata.user_id !== '') found = body.metadata.user_id;
      }
    }
    // a pin's key holds the id: a long one (a client's choice, up to the body limit) is kept as its digest
    if (found !== undefined && found.length > SESSION_ID_KEPT) found = createHash('sha256').update(found).digest('base64url');
    this.session = found ?? null;
    return found;
  }

  private promptTokens(): number {
    if (this.tokens < 0) this.tokens = estimatePromptTokens(this.input.parsed);
    return this.tokens;
  }
}

function headerString(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

/** The provider refused the key (401/403): another key of the same target may still be accepted. */
function keyRefused(error: ErrorInfo): boolean {
  return error.upstreamStatus === 401 || error.upstreamStatus === 403;
}

/** Whether a failure is the target's (cooldown, ejection) rather than the request's or the client's. */
function countsAgainstTarget(error: ErrorInfo): boolean {
  if (error.errorClass === 'canceled') return false;
  if (error.errorClass === 'client-error') {
    const status = error.upstreamStatus;
    return status === 401 || status === 403 || status === 404;
  }
  return true;
}

/**
 * The converters walk JSON Schemas and content recursively; valid JSON nested thousands of levels
 * deep (which JSON.parse accepts) overflows the stack there. That is the request's fault: a 400.
 */
function isStackOverflow(error: RangeError): boolean {
  return error.message.startsWith('Maximum call stack size exceeded');
}

function tooDeep(): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, 'The request is nested too deeply to be translated for this provider (a JSON Schema or content thousands of levels deep).', {
    status: 400, origin: 'downstream', errorClass: 'client-error',
  });
}
