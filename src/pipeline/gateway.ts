// The request handler: a static method+path table built once, auth, bounded body read, routing,
// then a same-dialect exchange. Holds the current runtime; a reload swaps it atomically.
import type { BodyLog } from '../observability/body-log.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { readBody } from '../server/body.ts';
import { BrowserGuard } from '../server/browser-guard.ts';
import { requestIdFrom } from '../util/request-id.ts';
import { RequestContext, type RequestObserver } from './context.ts';
import { asGatewayError, endWithError, sendError, sendJson, sendWire } from './respond.ts';
import type { GatewayRoute, RouteEntry as TableEntry, RouteTable } from '../server/route-table.ts';
import { roundCost, type JsonAccessLog } from '../observability/access-log.ts';
import { BoundedItemStore } from './item-store.ts';
import type { Runtime } from './runtime.ts';
import { parseThinkingSuffix } from '../routing/suffix.ts';
import { RequestRunner } from './runner.ts';
import { BODY_READERS, type RequestPayload } from './request-body.ts';
import { routeDecisionJson } from './route-decision.ts';
import { ANSWERED, compilePhases, runPhase, type Answered, type CompleteHandler, type PhaseOutcome, type Phases } from './phases.ts';

export type LocalHandler = (gateway: Gateway, context: RequestContext, runtime: Runtime) => void;
export type RouteEntry = TableEntry<LocalHandler>;
/** One of the gateway's own routes (an exact path, or a family with a matcher). */
export type LocalRoute = GatewayRoute<LocalHandler>;

export interface GatewayOptions {
  routes: RouteTable<LocalHandler>;
  /** The dialect for errors on paths no surface owns. */
  errorSurface: SurfaceAdapter;
  logger: Logger;
  accessLogger?: Logger;
  /** The specialised access-line writer; when absent, access lines go through `accessLogger`. */
  accessLog?: JsonAccessLog;
  /** Told about every finished request (metrics, usage), after the access line. */
  observers?: readonly RequestObserver[];
  /** Keep a record of every upstream attempt on the request (for tracing). */
  trackAttempts?: boolean;
  /** Capture request and response bodies (logging.bodies). */
  bodyLog?: BodyLog;
}

export class Gateway {
  runtime: Runtime;
  /** The lifecycle compiled for `runtime`; swapped with it. */
  phases: Phases;
  draining = false;
  inflight = 0;
  private readonly routes: RouteTable<LocalHandler>;
  readonly errorSurface: SurfaceAdapter;
  private readonly logger: Logger;
  private readonly accessLogger: Logger;
  private readonly accessLog: JsonAccessLog | undefined;
  /** complete-phase handlers of the process (the access line, then the observers), outliving reloads. */
  private readonly completeHandlers: readonly CompleteHandler[];
  private readonly trackAttempts: boolean;
  private readonly bodyLog: BodyLog | undefined;
  /** Answer items by id for stateful surfaces; outlives config reloads. */
  readonly items = new BoundedItemStore();
  private idleWaiters: (() => void)[] = [];

  constructor(runtime: Runtime, options: GatewayOptions) {
    this.runtime = runtime;
    this.routes = options.routes;
    this.errorSurface = options.errorSurface;
    this.logger = options.logger;
    this.accessLogger = options.accessLogger ?? options.logger;
    this.accessLog = options.accessLog;
    this.completeHandlers = [this.accessLine, ...(options.observers ?? [])];
    this.trackAttempts = options.trackAttempts ?? false;
    this.bodyLog = options.bodyLog;
    this.phases = compilePhases(runtime, { complete: this.completeHandlers });
  }

  /**
   * Compiles the current runtime's phases again: the key store changed, and a handler compiled
   * only while some stored key needs it (limits, the response cache) may now be needed or not.
   * Requests in flight keep the phases they started with.
   */
  recompile(): void {
    this.phases = compilePhases(this.runtime, { complete: this.completeHandlers });
  }

  /** Swaps in a new runtime; the old one closes its pools once its requests are done. */
  swap(runtime: Runtime): Runtime {
    const previous = this.runtime;
    this.phases = compilePhases(runtime, { complete: this.completeHandlers });
    this.runtime = runtime;
    previous.retire();
    return previous;
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const runtime = this.runtime;
    const context = new RequestContext(requestIdFrom(request.headers['x-request-id']), request, response, this.errorSurface);
    context.phases = this.phases;
    this.inflight++;
    if (this.trackAttempts) context.attemptLog = [];
    runtime.acquire();
    response.once('close', () => {
      runtime.release();
      this.onClose(context, runtime);
    });
    if (this.draining) response.setHeader('connection', 'close');
    try {
      this.dispatch(context, runtime);
    } catch (error) {
      this.fail(context, error);
    }
  };

  private dispatch(context: RequestContext, runtime: Runtime): void {
    const request = context.request;
    const phases = context.phases;
    // accept: before anything else, a web page must not reach the gateway (Host, Origin, CORS preflight)
    const accepted = runPhase(phases.accept, context, runtime);
    if (accepted instanceof Promise) {
      this.resume(context, accepted, () => this.afterAccept(context, runtime));
      return;
    }
    if (this.ended(context, accepted)) return;
    this.afterAccept(context, runtime);
  }

  private afterAccept(context: RequestContext, runtime: Runtime): void {
    const request = context.request;
    const surfaceRequest: SurfaceRequest = { params: context.params, query: context.query, headers: request.headers };
    const match = this.routes.lookup(request.method ?? 'GET', context.path, surfaceRequest);
    if (match.kind === 'not-found') {
      context.surface = this.routes.errorSurfaceFor(context.path);
      sendError(context, new GatewayError(ErrorCode.routeNotFound, `Unknown path: ${request.method} ${context.path}`, { status: 404, origin: 'downstream', errorClass: 'client-error' }));
      return;
    }
    if (match.kind === 'method-not-allowed') {
      context.surface = match.errors ?? this.routes.errorSurfaceFor(context.path);
      const allowed = match.allowed.join(', ');
      sendError(context, new GatewayError(ErrorCode.methodNotAllowed, `Method ${request.method} is not allowed on ${context.path}; use ${allowed}.`, {
        status: 405, origin: 'downstream', errorClass: 'client-error',
      }), ['allow', allowed]);
      return;
    }
    const entry = match.entry;
    if (match.params !== undefined) context.params = match.params;
    context.surface = entry.surface ?? entry.errors ?? this.routes.errorSurfaceFor(context.path);
    // authenticate: every path but the public ones (health probes)
    const authenticated = entry.public === true ? undefined : runPhase(context.phases.authenticate, context, runtime);
    if (authenticated instanceof Promise) {
      this.resume(context, authenticated, () => this.afterAuthenticate(context, runtime, entry, surfaceRequest));
      return;
    }
    if (this.ended(context, authenticated)) return;
    this.afterAuthenticate(context, runtime, entry, surfaceRequest);
  }

  private afterAuthenticate(context: RequestContext, runtime: Runtime, entry: RouteEntry, surfaceRequest: SurfaceRequest): void {
    const request = context.request;
    if (entry.local !== undefined) {
      entry.local(this, context, runtime);
      return;
    }
    if (entry.dialectLocal !== undefined) {
      const local = entry.dialectLocal;
      const localRequest = { ...surfaceRequest, params: context.params, method: request.method ?? 'GET', path: context.path };
      if (request.method !== 'POST') {
        sendWire(context, local(runtime.catalog, localRequest));
        return;
      }
      // a local answer to a POST (Ollama's /api/show) reads its JSON body first
      const notJson = BrowserGuard.requireJson(request);
      if (notJson !== undefined) {
        this.refuseBody(context, notJson);
        return;
      }
      readBody(request, runtime.config.server.bodyLimitBytes, (error, body) => {
        if (error !== undefined) {
          if (error.code === ErrorCode.bodyTooLarge) this.refuseBody(context, error);
          else context.error = error;
          return;
        }
        let parsed: unknown;
        try {
          parsed = body!.length > 0 ? JSON.parse(body!.toString('utf8')) : undefined;
        } catch {
          parsed = undefined;
        }
        try {
          sendWire(context, local(runtime.catalog, { ...localRequest, body: parsed }));
        } catch (failure) {
          this.fail(context, failure);
        }
      });
      return;
    }
    const surface = entry.surface!;
    // the surface says how its body is read: JSON (read whole) or a multipart form (spooled)
    const reader = BODY_READERS[surface.body ?? 'json'];
    const refused = reader.accepts(request);
    if (refused !== undefined) {
      this.refuseBody(context, refused);
      return;
    }
    // only proxied requests are captured, not the gateway's own endpoints (nor /v0/requests itself)
    if (this.bodyLog !== undefined) this.bodyLog.begin(context);
    reader.read(context, runtime.config.server.bodyLimitBytes, (error, payload) => {
      if (error !== undefined) {
        // a client that left is not answered; any other refusal is, the rest of its body discarded
        if (error.code === ErrorCode.canceled) context.error = error;
        else this.refuseBody(context, error);
        return;
      }
      try {
        context.bodies?.request.push(payload!.captured());
        this.proxy(context, runtime, surface, payload!);
      } catch (failure) {
        this.fail(context, failure);
      }
    });
  }

  private proxy(context: RequestContext, runtime: Runtime, surface: SurfaceAdapter, payload: RequestPayload): void {
    if (context.response.destroyed) return; // the client left while sending: no upstream request
    const surfaceRequest: SurfaceRequest = { params: context.params, query: context.query, headers: context.request.headers, items: this.items };
    const summary = payload.inspect(surface, surfaceRequest);
    context.surfaceRequest = surfaceRequest;
    context.body = payload.bytes;
    context.payload = payload;
    context.summary = summary;
    context.modelAsked = summary.model;
    // decode handlers (a plugin's onRequest) may change the name to route
    context.routeModel = summary.model;
    const decoded = runPhase(context.phases.decode, context, runtime);
    if (decoded instanceof Promise) {
      this.resume(context, decoded, () => this.afterDecode(context, runtime, surface, payload));
      return;
    }
    if (this.ended(context, decoded)) return;
    this.afterDecode(context, runtime, surface, payload);
  }

  private afterDecode(context: RequestContext, runtime: Runtime, surface: SurfaceAdapter, payload: RequestPayload): void {
    context.stream = context.summary!.stream;
    const admitted = runPhase(context.phases.admit, context, runtime);
    if (admitted instanceof Promise) {
      this.resume(context, admitted, () => this.afterAdmit(context, runtime, surface, payload));
      return;
    }
    if (this.ended(context, admitted)) return;
    this.afterAdmit(context, runtime, surface, payload);
  }

  private afterAdmit(context: RequestContext, runtime: Runtime, surface: SurfaceAdapter, payload: RequestPayload): void {
    const routed = runPhase(context.phases.route, context, runtime);
    if (routed instanceof Promise) {
      this.resume(context, routed, () => this.afterRoute(context, runtime, surface, payload));
      return;
    }
    if (this.ended(context, routed)) return;
    this.afterRoute(context, runtime, surface, payload);
  }

  private afterRoute(context: RequestContext, runtime: Runtime, surface: SurfaceAdapter, payload: RequestPayload): void {
    const router = runtime.router;
    // a thinking suffix is read before anything else resolves the name, so a pattern such as
    // `claude-*` cannot swallow `claude-x(high)` whole
    const name = context.routeModel;
    let suffix = parseThinkingSuffix(name);
    let route = suffix !== undefined ? router.resolve(suffix.model) : undefined;
    if (route === undefined) {
      suffix = undefined;
      route = router.resolve(name);
    }
    if (route === undefined) throw this.modelNotFound(runtime, suffix?.model ?? name);
    if (route.targetsFor(surface.operation).length === 0) {
      const providers = [...new Set(route.targets.map((candidate) => candidate.provider))].join(', ');
      throw new GatewayError(ErrorCode.unsupportedOperation, `Model '${name}' (provider ${providers}) does not serve ${context.path}.`, {
        status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model',
      });
    }
    context.resolved = route;
    context.suffix = suffix;
    // lookup: an answer from elsewhere (the response cache) ends the request here
    const found = runPhase(context.phases.lookup, context, runtime);
    if (found instanceof Promise) {
      this.resume(context, found, () => this.attempt(context, runtime, surface, payload));
      return;
    }
    if (this.ended(context, found)) return;
    this.attempt(context, runtime, surface, payload);
  }

  /** attempt (the runner) → commit → stream; complete runs when the response closes. */
  private attempt(context: RequestContext, runtime: Runtime, surface: SurfaceAdapter, payload: RequestPayload): void {
    new RequestRunner({
      runtime, context, surface, surfaceRequest: context.surfaceRequest!, payload, summary: context.summary!,
      suffix: context.suffix, route: context.resolved!, onInternalError: (error) => this.fail(context, error),
    }).start();
  }

  /**
   * A phase waits on a handler's promise: the request goes on with `next` once it resolves,
   * unless it ended meanwhile (the client left, or the outcome refused or answered). Only an
   * asynchronous handler gets here, so the closures cost nothing on the in-process path.
   */
  private resume(context: RequestContext, pending: Promise<PhaseOutcome>, next: () => void): void {
    pending.then((outcome) => {
      if (context.closed || this.ended(context, outcome)) return;
      try {
        next();
      } catch (error) {
        this.fail(context, error);
      }
    }, (error: unknown) => {
      if (!context.closed) this.fail(context, error);
    });
  }


  /** The surface that serves `method path` (with `params` a prefix route read), for the gateway's own endpoints (`POST /v0/route`). */
  surfaceAt(method: string, path: string, surfaceRequest: SurfaceRequest): { surface: SurfaceAdapter; params: Readonly<Record<string, string>> } | undefined {
    const match = this.routes.lookup(method, path, surfaceRequest);
    if (match.kind !== 'found' || match.entry.surface === undefined) return undefined;
    return { surface: match.entry.surface, params: match.params ?? {} };
  }

  modelNotFound(runtime: Runtime, model: string): GatewayError {
    const suggestions = runtime.router.suggestions(model);
    let message = `The model '${model}' does not exist or no provider serves it.`;
    if (suggestions.length > 0) message += ` Closest known models: ${suggestions.map((name) => `'${name}'`).join(', ')}.`;
    else if (!runtime.router.hasProviders) message += ' No providers are configured: see the README (Configuration).';
    return new GatewayError(ErrorCode.modelNotFound, message, { status: 404, origin: 'downstream', errorClass: 'client-error', param: 'model' });
  }

  /**
   * 413 (and the other refusals before the body is read): answer at once, then discard (never
   * buffer) whatever else the client sends, so a client that writes its whole body before reading
   * still gets the answer. A body that does not end within a few seconds has its connection closed.
   */
  private refuseBody(context: RequestContext, error: GatewayError): void {
    const request = context.request;
    sendError(context, error);
    if (request.complete) return;
    request.resume();
    const socket = request.socket;
    const timer = setTimeout(() => {
      if (!request.complete) socket.destroy();
    }, 5000);
    timer.unref();
    // the close guard goes with the body: a kept-alive connection that carries refused request after
    // refused request must not gather a listener per request
    const closed = () => clearTimeout(timer);
    request.once('end', () => {
      clearTimeout(timer);
      socket.off('close', closed);
    });
    socket.once('close', closed);
  }

  /**
   * A phase's outcome: false to go on; true when a handler answered (ANSWERED) or refused — the
   * refusal is answered here, in the caller's dialect, and an unread body is discarded.
   */
  private ended(context: RequestContext, outcome: GatewayError | Answered | undefined): boolean {
    if (outcome === undefined) return false;
    if (outcome === ANSWERED) return true;
    context.surface ??= this.routes.errorSurfaceFor(context.path);
    if (context.request.complete) sendError(context, outcome);
    else this.refuseBody(context, outcome);
    return true;
  }

  /** A request failed with an exception (a client's fault, or the gateway's own bug): it ends here, whatever its state. */
  private fail(context: RequestContext, error: unknown): void {
    const failure = asGatewayError(error);
    if (failure.status >= 500 && failure.origin === 'gateway') this.logger.error({ id: context.id, err: error }, 'internal error');
    endWithError(context, failure);
  }

  private onClose(context: RequestContext, runtime: Runtime): void {
    this.inflight--;
    context.closed = true;
    const response = context.response;
    const aborted = !response.writableFinished;
    if (context.active !== undefined) context.active.cancel();
    // complete: cost, the access line, metrics, usage, traces — in that order
    const complete = context.phases.complete;
    for (let i = 0; i < complete.length; i++) {
      try {
        complete[i]!.requestEnded(context, aborted);
      } catch (error) {
        this.logger.error({ id: context.id, err: error }, 'request observer failed');
      }
    }
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** complete: one access line per request. */
  private readonly accessLine: CompleteHandler = { requestEnded: (context, aborted) => this.logAccess(context, aborted) };

  private logAccess(context: RequestContext, aborted: boolean): void {
    const error = context.error;
    if (this.accessLog !== undefined) {
      this.accessLog.record({
        id: context.id,
        method: context.request.method ?? '',
        path: context.path,
        surface: context.surface?.name,
        status: context.finalStatus(aborted),
        model: context.modelAsked,
        provider: context.provider,
        upstreamModel: context.upstreamModel,
        upstreamStatus: context.upstreamStatus,
        attempts: context.attempts,
        stream: context.stream,
        durationMs: context.elapsedMs(),
        upstreamHeadersMs: context.upstreamHeadersMs,
        firstByteMs: context.firstByteMs,
        key: context.keyId,
        error: error?.code,
        aborted,
        fallback: context.route,
        dropped: context.dropped,
        failures: context.failures,
        usage: context.usage,
        costUsd: context.costUsd,
        cache: context.cacheStatus,
        ...(context.routeDecision !== undefined ? { route: routeDecisionJson(context.routeDecision) } : {}),
      });
      return;
    }
    if (!this.accessLogger.isLevelEnabled('info')) return;
    this.accessLogger.info({
      id: context.id,
      method: context.request.method,
      path: context.path,
      surface: context.surface?.name,
      status: context.finalStatus(aborted),
      model: context.modelAsked || undefined,
      provider: context.provider || undefined,
      upstream_model: context.upstreamModel || undefined,
      upstream_status: context.upstreamStatus || undefined,
      attempts: context.attempts,
      stream: context.stream,
      duration_ms: round(context.elapsedMs()),
      upstream_headers_ms: context.upstreamHeadersMs > 0 ? round(context.upstreamHeadersMs) : undefined,
      first_byte_ms: context.firstByteMs > 0 ? round(context.firstByteMs) : undefined,
      tokens: context.usage === undefined ? undefined : {
        in: context.usage.inputTokens, out: context.usage.outputTokens, cached: context.usage.cachedInputTokens ?? 0, reasoning: context.usage.reasoningTokens ?? 0,
      },
      cost_usd: context.costUsd === undefined ? undefined : roundCost(context.costUsd),
      cache: context.cacheStatus || undefined,
      route: context.routeDecision === undefined ? undefined : JSON.parse(routeDecisionJson(context.routeDecision)) as unknown,
      key: context.keyId || undefined,
      error: error?.code,
      aborted: aborted || undefined,
      fallback: context.route || undefined,
      dropped: context.dropped || undefined,
      failed_attempts: context.failures,
    }, 'request');
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
