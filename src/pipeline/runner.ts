// One request's way through its route, as I/O: the attempt planner (src/routing/planner.ts) decides
// every step — which target and key, after what delay, or to give up with which answer — and this
// runner carries it out: the back-off timer, the media download, the exchange with the provider,
// the answer. It tells the planner each outcome (failure before the commit point, commit, stream
// broken after it). A client that leaves stops everything at once: the attempt in flight, a
// back-off timer, a media download.
import type { RequestSummary, SurfaceAdapter, SurfaceRequest, UpstreamRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import { AttemptPlanner, type AttemptPlan, type GiveUpPlan, type Plan, type PlannedRequest, type TargetFilter } from '../routing/planner.ts';
import type { Route, TargetSlot } from '../routing/router.ts';
import type { SuffixedModel } from '../routing/suffix.ts';
import type { HealthEntry } from '../state/interfaces.ts';
import { estimatePromptTokens, estimateTokens } from '../util/estimate-tokens.ts';
import type { Cancellable, RequestContext } from './context.ts';
import { PassThroughExchange } from './pass-through-exchange.ts';
import type { RequestPayload, UpstreamBody } from './request-body.ts';
import { filterResponse, withStreamFilters } from './phases.ts';
import { inlineMedia, needsInlining } from './media.ts';
import { sendError, sendJson } from './respond.ts';
import type { HttpProviderRuntime, ProviderRuntime, Runtime } from './runtime.ts';
import { TranslatingExchange, type Translation } from './translating-exchange.ts';
import { applyUnsupportedTools } from './unsupported-tools.ts';
import type { Exchange, ExchangeOwner } from './exchange.ts';
import { sessionIdOf } from './session-id.ts';

/** A probe's deadline when its provider sets no first-byte timeout. */
const PROBE_DEADLINE_FALLBACK_MS = 300_000;

export interface RunnerInput {
  runtime: Runtime;
  context: RequestContext;
  surface: SurfaceAdapter;
  surfaceRequest: SurfaceRequest;
  /** The body as read (JSON bytes or a spooled form): each pass-through attempt sends it, the model renamed if need be. */
  payload: RequestPayload;
  summary: RequestSummary;
  suffix: SuffixedModel | undefined;
  route: Route;
  /** Reports an unexpected exception (a bug): answered as a 500 and logged. */
  onInternalError: (error: unknown) => void;
}

export class RequestRunner implements Cancellable, ExchangeOwner, PlannedRequest {
  private readonly input: RunnerInput;
  private readonly context: RequestContext;
  private readonly runtime: Runtime;
  private readonly planner: AttemptPlanner;
  private exchange: Exchange | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private pending: Cancellable | undefined = undefined;
  private canceled = false;
  /** Renders the last failure as the response (the provider's own error, or why its request could not be made). */
  private answerLast: (() => void) | undefined = undefined;
  private canonical: CanonicalRequest | undefined = undefined;
  private inlined = false;
  private tokens = -1;
  private session: string | null | undefined = undefined;

  constructor(input: RunnerInput) {
    this.input = input;
    this.context = input.context;
    this.runtime = input.runtime;
    this.planner = new AttemptPlanner(input.runtime, input.route, input.surface.operation, this);
  }

  /** The route being walked now (the requested one, a fallback or the overflow alias). */
  private get route(): Route {
    return this.planner.route;
  }

  start(): void {
    this.context.active = this;
    this.runtime.retryBudget.onRequest();
    this.follow(this.planner.start(Date.now()));
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

  /** Carries out a plan: an attempt now or after its delay, or the answer. */
  private follow(plan: Plan): void {
    if (this.canceled) return;
    if (plan.kind === 'give-up') {
      this.answer(plan);
      return;
    }
    if (plan.delayMs <= 0) {
      this.attempt(plan);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.attempt(plan);
      } catch (error) {
        this.internalError(error);
      }
    }, plan.delayMs);
  }

  private answer(plan: GiveUpPlan): void {
    switch (plan.answer) {
      case 'failure':
        this.answerLast!();
        return;
      case 'error':
        sendError(this.context, plan.error);
        return;
      case 'replay':
        sendError(this.context, plan.error, ['x-switchyard-cooldown', 'true']);
        return;
    }
  }

  /** A planned attempt is due: send it, unless its key went out of rotation meanwhile. */
  private attempt(plan: AttemptPlan): void {
    if (this.canceled || this.context.response.destroyed) return; // the client left: no upstream request
    const now = Date.now();
    const replanned = this.planner.recheck(plan, now);
    if (replanned !== undefined) {
      // cooled down while we waited (another request's failure): the planner chose again
      this.follow(replanned);
      return;
    }
    const key = plan.key;
    if (key.reason === 'ejected' && key.halfOpen(now)) {
      // the half-open probe: a shared store claims it for the whole fleet first
      const claim = this.runtime.health.claimProbe(key, now, this.probeDeadlineMs(plan.target));
      if (claim !== true) {
        if (claim === false) this.afterClaim(plan);
        else claim.then((won) => this.afterClaim(plan, won)).catch((error: unknown) => this.internalError(error));
        return;
      }
    }
    this.dispatch(plan.target, key);
  }

  /**
   * The probe claim is answered: won, the entry is still half-open here and the probe goes; lost,
   * the entry keeps out of rotation until the other instance's verdict, and the planner chooses
   * again (a route in panic may still send it, as it would to any ejected target).
   */
  private afterClaim(plan: AttemptPlan, won = false): void {
    if (this.canceled || this.context.response.destroyed) {
      if (won) this.runtime.health.releaseProbe(plan.key); // the client left while it was claimed
      return;
    }
    const replanned = this.planner.recheck(plan, Date.now());
    if (replanned !== undefined) this.follow(replanned);
    else this.dispatch(plan.target, plan.key);
  }

  /** How long a probe on `target` may take to reach its verdict (the response headers): its claim is held as long. */
  private probeDeadlineMs(target: TargetSlot): number {
    const timeouts = this.runtime.providers.get(target.provider)!.config.timeouts;
    const overrides = this.route.policy.timeouts;
    const firstByte = overrides?.firstByteMs ?? timeouts.firstByteMs;
    return (overrides?.connectMs ?? timeouts.connectMs) + (firstByte > 0 ? firstByte : PROBE_DEADLINE_FALLBACK_MS);
  }

  /** Sends one attempt to `target` with `key` (after the media download it may need first). */
  private dispatch(target: TargetSlot, key: HealthEntry): void {
    const context = this.context;
    const provider = this.runtime.providers.get(target.provider)!;
    const now = Date.now();
    let taken = false;
    try {
      if (!this.prepare(provider, target)) return; // media download first; dispatch resumes after it
      const route = this.route;
      this.planner.began(key, now);
      context.attempts = this.planner.attempts;
      context.provider = provider.name;
      context.upstreamModel = target.model;
      context.unlistedModel = route.provisional;
      // a fallback's own error answer names it too, not only its success
      context.route = route !== this.input.route ? route.requested : '';
      key.take(now);
      taken = true;
      context.upstreamStatus = 0; // this attempt's, not an earlier one's
      context.dropped = '';
      context.attemptLog?.push({ provider: provider.name, dialect: provider.kind === 'http' ? provider.adapter.dialect : provider.exchanges.label, model: target.model, key: key.keyId, startedAt: performance.now(), endedAt: 0, status: 0, error: undefined });
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
      this.answerLast = () => sendError(context, error);
      if (this.canceled) return;
      this.follow(this.planner.unexpressible(error, Date.now()));
    }
  }

  /**
   * Ready to encode for `provider`? Chat requests for providers that take media inline only have
   * their URL images downloaded once (bounded, cancellable) before the first such attempt.
   */
  private prepare(provider: ProviderRuntime, target: TargetSlot): boolean {
    if (provider.kind !== 'http') return true; // a provider of its own takes the canonical request as it is
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
      const key = this.planner.keyAfterWait(target, Date.now());
      try {
        this.dispatch(target, key);
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

  private passThrough(provider: HttpProviderRuntime): boolean {
    const surface = this.input.surface;
    if (!provider.wires.has(surface.wire)) return false;
    // plugins that read or change the answer need canonical parts, so such a request is always
    // translated — when the surface has parts at all (media APIs have none: they only ever pass
    // through); one a plugin changed passes through only where the adapter can encode it again as is
    if (this.context.reencode && provider.adapter.reencodes?.(surface.wire, this.decoded()) !== true) return false;
    return this.input.suffix === undefined && (!this.context.translate || !translatable(surface));
  }

  /**
   * The attempt phase's handlers (plugins' onAttempt) see the attempt and may change its headers
   * (a copy: the list may be shared); a refusal skips this target like a request it cannot express.
   */
  private attemptHeaders(provider: HttpProviderRuntime, model: string, headers: readonly string[]): string[] {
    const handlers = this.context.phases.attempt;
    if (handlers.length === 0) return headers as string[];
    const copy = [...headers];
    for (let i = 0; i < handlers.length; i++) handlers[i]!(this.context, { provider: provider.name, model, dialect: provider.adapter.dialect, attempt: this.planner.attempts, headers: copy });
    return copy;
  }

  /** The canonical request encoded for a provider of the caller's own dialect, as a pass-through body. */
  private reencoded(provider: HttpProviderRuntime, model: string): UpstreamBody {
    const upstream = provider.adapter.chat!.encodeRequest(this.decoded(), model, provider.context);
    const body = Buffer.from(upstream.body, 'utf8');
    return { body, length: body.length, contentType: 'application/json' };
  }

  /** The surface's request in canonical form, decoded once (the first translated attempt). */
  private decoded(): CanonicalRequest {
    if (this.canonical !== undefined) return this.canonical;
    const { surface, surfaceRequest, suffix } = this.input;
    // the response cache's lookup may have decoded it already
    const request = this.context.canonical ?? surface.chat!.decodeRequest(this.context.parsed, surfaceRequest);
    if (suffix !== undefined) {
      // the suffix replaces the level the body asked for (effort or budget), it does not mix with it
      request.reasoning = { ...(request.reasoning?.includeThoughts !== undefined ? { includeThoughts: request.reasoning.includeThoughts } : {}), ...suffix.reasoning };
    }
    this.canonical = request;
    return request;
  }

  /** Builds and starts the exchange for one attempt; undefined when answered without the upstream. */
  private exchangeFor(provider: ProviderRuntime, model: string, key: HealthEntry): Exchange | undefined {
    const { context, surface, surfaceRequest, summary, payload } = this.input;
    if (provider.kind === 'own') {
      // a provider that runs its own exchanges (an agent CLI): it decodes, answers and renders itself
      return provider.exchanges.start({
        context, surface, surfaceRequest, upstreamModel: model, key, timeouts: this.route.policy.timeouts,
        unsupportedTools: this.route.policy.unsupportedTools, unsupportedParams: this.route.policy.unsupportedParams, secrets: this.runtime.secrets, owner: this, canonical: () => this.decoded(), sessionId: () => this.sessionId(),
      });
    }
    const base = { context, surface, provider, upstreamModel: model, key, timeouts: this.route.policy.timeouts, secrets: this.runtime.secrets, owner: this as ExchangeOwner };
    const adapter = provider.adapter;
    if (this.passThrough(provider)) {
      const rename = summary.modelInPath !== true && model !== summary.model;
      return new PassThroughExchange({
        ...base,
        path: adapter.passThroughPath(surface.wire, model, surfaceRequest, summary.stream),
        forwardHeaders: this.attemptHeaders(provider, model, adapter.forwardHeaders(surfaceRequest)),
        // a request a plugin read (and may have changed) is encoded again; its answer still passes through
        body: this.context.reencode ? this.reencoded(provider, model) : payload.forAttempt(rename ? model : undefined),
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
        if (upstream.unsupported !== undefined) context.dropped = applyUnsupportedTools(upstream.unsupported, this.route.policy.unsupportedTools, provider, `${adapter.dialect} dialect`);
        // same dialect on both sides (translated because of a suffix): the client's own headers
        // (e.g. anthropic-beta) still go upstream
        if (adapter.dialect === surface.dialect) upstream.headers.push(...adapter.forwardHeaders(surfaceRequest));
        upstream.headers = this.attemptHeaders(provider, model, upstream.headers);
        translation = {
          translateBody: (answer) => {
            const decoded = providerCodec.decodeResponse(answer, request);
            context.usage = decoded.usage;
            return codec.encodeResponse(filterResponse(context, decoded), request);
          },
          ...(request.stream ? { stream: { decoder: providerCodec.createStreamDecoder(request), encoder: withStreamFilters(codec.createStreamEncoder(request, surfaceRequest), context) } } : {}),
        };
        break;
      }
      case 'embeddings': {
        const codec = surface.embeddings;
        const providerCodec = adapter.embeddings;
        if (codec === undefined || providerCodec === undefined) throw unsupported();
        const parsed = context.parsed;
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
        const request = codec.decodeRequest(context.parsed, surfaceRequest);
        const providerCodec = adapter.countTokens;
        if (providerCodec === undefined) {
          // no counting endpoint upstream: answer with the gateway's estimate
          context.active = undefined;
          sendJson(context, 200, codec.encodeResponse(estimateTokens([request.messages, request.tools])), ['x-switchyard-token-count', 'estimate', 'x-switchyard-provider', provider.name]);
          return undefined;
        }
        upstream = providerCodec.encodeRequest(request, model, provider.context);
        if (upstream.unsupported !== undefined) context.dropped = applyUnsupportedTools(upstream.unsupported, this.route.policy.unsupportedTools, provider, `${adapter.dialect} dialect`);
        translation = { translateBody: (answer) => codec.encodeResponse(providerCodec.decodeResponse(answer)) };
        break;
      }
      case 'images':
      case 'image-edits':
      case 'transcriptions':
      case 'translations':
      case 'speech':
      case 'moderations':
      case 'rerank':
        // media and utility APIs have no canonical form: only a provider that speaks them serves them
        throw unsupported();
    }
    return new TranslatingExchange({ ...base, upstream, translation });
  }

  // ExchangeOwner

  onFailure(exchange: Exchange, error: GatewayError, answer: () => void, repeatable = true): void {
    if (this.exchange === exchange) this.exchange = undefined;
    if (this.context.attemptLog !== undefined) this.endAttempt(error.code);
    const key = exchange.key;
    key.release();
    this.planner.failed(key, error, Date.now());
    this.answerLast = answer;
    this.context.error = error;
    (this.context.failures ??= []).push(`${exchange.provider.name}/${exchange.upstreamModel}:${error.upstreamStatus ?? error.status}`);
    if (this.canceled) return;
    if (!repeatable) {
      answer();
      return;
    }
    this.follow(this.planner.afterFailure(Date.now()));
  }

  onDeclined(exchange: Exchange, error: GatewayError, answer: () => void): void {
    if (this.exchange === exchange) this.exchange = undefined;
    if (this.context.attemptLog !== undefined) this.endAttempt(error.code);
    exchange.key.release();
    this.answerLast = answer;
    this.context.error = error;
    (this.context.failures ??= []).push(`${exchange.provider.name}/${exchange.upstreamModel}:${error.status}`);
    if (this.canceled) return;
    // nothing was asked of the provider: nothing against its key, and another target may take it
    this.follow(this.planner.unexpressible(error, Date.now()));
  }

  onCommit(exchange: Exchange): void {
    const context = this.context;
    context.provider = exchange.provider.name;
    context.upstreamModel = exchange.upstreamModel;
    context.error = undefined;
    context.unlistedModel = false;
    this.planner.committed(exchange.key, exchange.latencyMs, Date.now());
  }

  onDone(exchange: Exchange, error: GatewayError | undefined): void {
    if (this.exchange === exchange) this.exchange = undefined;
    if (this.context.attemptLog !== undefined) this.endAttempt(error?.code);
    if (this.context.active === this) this.context.active = undefined;
    exchange.key.release();
    if (error !== undefined) this.planner.streamFailed(exchange.key, error, Date.now());
  }

  onInternalError(exchange: Exchange, error: unknown, holdsKey: boolean): void {
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

  /** PlannedRequest: the targets an auto alias's hard constraints leave out for this request. */
  targetFilter(): TargetFilter | undefined {
    return this.input.context.targetFilter;
  }

  /** PlannedRequest: the session this request belongs to, for affinity; undefined when it names none. */
  sessionId(): string | undefined {
    if (this.session !== undefined) return this.session ?? undefined;
    const found = sessionIdOf(this.input.surfaceRequest.headers, this.runtime.config.routing.sessionHeader, this.input.payload);
    this.session = found ?? null;
    return found;
  }

  /**
   * PlannedRequest: the gateway's estimate of the prompt, made once. The estimate counts a token per
   * four characters of the body's strings, so a quarter of its bytes bounds it from above: when
   * that bound fits every context window of the config, it decides as the estimate would and the
   * body need not be parsed for it (a pass-through request is not).
   */
  promptTokens(): number {
    if (this.tokens < 0) {
      const bytes = this.input.payload.bytes;
      const bound = bytes === undefined ? Infinity : Math.ceil(bytes.length / 4);
      this.tokens = bound <= this.runtime.router.smallestContextWindow ? bound : estimatePromptTokens(this.context.parsed);
    }
    return this.tokens;
  }
}

/** The surface has a canonical form to translate through (the media APIs have none). */
function translatable(surface: SurfaceAdapter): boolean {
  return surface.chat !== undefined || surface.embeddings !== undefined || surface.countTokens !== undefined;
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
