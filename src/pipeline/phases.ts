// The request lifecycle, in order. Every feature is a handler in one of these phases; the arrays
// are compiled once per config snapshot (`compilePhases`, at load and on reload), and an empty
// phase costs one length check per request. The dispatcher (gateway.ts) and the runner run the
// phases; they hold no feature of their own.
//
//   accept → authenticate → decode → admit → route → lookup → attempt → commit → stream → complete
//
// accept        the request id is set; Host and Origin are checked (a web page may not drive the
//               gateway), CORS preflights answered; then the path is looked up (404/405), JSON
//               endpoints require a JSON content type, the body is read within its limit.
// authenticate  who is calling: client keys (the config's and the key store's), admin keys on the
//               management API. Skipped for the public paths (health probes). Sets
//               `context.keyId` and, for a key with limits, `context.policy`.
// decode        the body is parsed and the surface reads its summary (model, stream); handlers
//               check what the summary says (model-name bounds, duplicate routing fields). The
//               canonical request is built later, only when a translation needs it — or here,
//               when a plugin's onRequest reads or changes it (plugin-host.ts).
// admit         may this caller make this request now: per-key and per-team allow-lists, rates,
//               requests in flight, budgets (pipeline/limits.ts: reserve here, settle in complete).
//               Empty unless some key or team has limits.
// route         the name asked for becomes a route: handlers may rewrite `context.routeModel`
//               (`model: auto`, later), then suffixes and aliases resolve it.
// lookup        may the answer come from elsewhere: the response cache (a hit answers here;
//               response-cache.ts), compiled only when some route has a cache. With shared
//               state, a session's pin is read first (session-pins.ts).
// attempt       the runner's loop: plan (target, key, delay — from the retry policy), exchange,
//               classify; retries, fallbacks, cooldowns. Handlers see each attempt's provider,
//               model and headers (plugins' onAttempt) before it is sent.
// commit        the first byte goes to the client; no retry after this. Handlers see the answer's
//               head before it is written (the rate-limit headers of a limited key, `x-switchyard-cache`).
// stream        filters over the answer in canonical form: each stream part (plugins'
//               onStreamEvent, output guards), a whole non-streamed answer (onResponse). A request
//               a plugin needs canonical parts for (`context.translate`) is translated rather than
//               passed through, same dialect included.
// error         filters over an error about to be answered as a whole response (onError).
// complete      after the response closed: cost, access log, metrics, usage, traces, body capture
//               limits and budgets settled (later: webhooks). Off the critical path; must not throw.
//
// Waiting. A request handler (accept … lookup) answers synchronously, or — when it must ask
// something over the network (a shared Redis/Valkey store, a plugin) — with a native Promise of
// the same outcome. The in-process path stays synchronous and allocates nothing for this: the
// dispatcher checks `instanceof Promise` once per phase and only then defers the rest of the
// request (the remaining handlers of the phase, then the next phases) to the promise. The rules
// of an asynchronous handler:
// - it resolves with the outcome (undefined, an error, ANSWERED) or rejects with an error, which is
//   answered like a thrown one;
// - the client may leave while it waits: the response then closes and the complete phase runs at
//   once, before the handler resolves. The dispatcher then goes no further (`context.closed`), but
//   whatever the handler took meanwhile (a rate-limit reservation) it must give back itself when
//   it finds `context.closed` set on resolving;
// - one request's handlers never run concurrently: the next one starts when the promise settles.
import type { StreamEncoder } from '../canonical/adapters.ts';
import type { CanonicalResponse } from '../canonical/response.ts';
import type { StreamPart } from '../canonical/stream.ts';
import { ErrorCode, GatewayError, type ErrorInfo } from '../canonical/errors.ts';
import type { AttemptHandler, ErrorFilter, ResponseFilter, StreamFilter } from './plugin-host.ts';
import type { RequestContext, RequestObserver } from './context.ts';
import { limitHandlers } from './limits.ts';
import { boundedModelName, singleModelField } from './request-checks.ts';
import { MANAGEMENT_PREFIX } from './admin-auth.ts';
import { UiSessions } from './ui-sessions.ts';
import { compileResponseCache } from './response-cache.ts';
import { sharedPinLookup } from './session-pins.ts';
import type { Runtime } from './runtime.ts';

export const PHASE_NAMES = ['accept', 'authenticate', 'decode', 'admit', 'route', 'lookup', 'attempt', 'commit', 'stream', 'complete', 'error'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** A handler answered the request itself (a CORS preflight, a cache hit): nothing more to do. */
export const ANSWERED = 'answered';
export type Answered = typeof ANSWERED;

/** What a request handler decides: go on (undefined), refuse (an error), or ANSWERED. */
export type PhaseOutcome = GatewayError | Answered | undefined;

/**
 * A step before the attempt. Returns undefined to go on, an error to refuse (answered in the
 * caller's dialect), or ANSWERED when it wrote the response itself. It may also throw a
 * GatewayError, which is answered the same way, or return a promise of its outcome when it has
 * to wait (see "Waiting" above).
 */
export type RequestHandler = (context: RequestContext, runtime: Runtime) => PhaseOutcome | Promise<PhaseOutcome>;

/** Sees the head of a provider's answer just before it is written (the flat header list, which it may extend). */
export type CommitHandler = (context: RequestContext, headers: string[]) => void;

export type { AttemptHandler, ErrorFilter, ResponseFilter, StreamFilter } from './plugin-host.ts';

/** Told once the response has closed (`RequestObserver`): must not throw or block. */
export type CompleteHandler = RequestObserver;

export interface Phases {
  readonly accept: readonly RequestHandler[];
  readonly authenticate: readonly RequestHandler[];
  readonly decode: readonly RequestHandler[];
  readonly admit: readonly RequestHandler[];
  readonly route: readonly RequestHandler[];
  readonly lookup: readonly RequestHandler[];
  readonly attempt: readonly AttemptHandler[];
  readonly commit: readonly CommitHandler[];
  /** Filters over canonical stream parts, and over a whole non-streamed answer. */
  readonly stream: readonly StreamFilter[];
  readonly response: readonly ResponseFilter[];
  readonly complete: readonly CompleteHandler[];
  readonly error: readonly ErrorFilter[];
}

/** Handlers that outlive config snapshots (the process's metrics, usage recorder, access log, …). */
export interface ProcessHandlers {
  /** Run before the observers: the access line, then metrics, usage, traces, body capture. */
  readonly complete: readonly CompleteHandler[];
}

/**
 * Runs one phase from handler `from` on: the first handler that refuses or answers ends it. A
 * handler's promise defers the rest of the phase to it, and the phase's outcome is then a promise
 * too; with none, nothing is allocated.
 */
export function runPhase(handlers: readonly RequestHandler[], context: RequestContext, runtime: Runtime, from = 0): PhaseOutcome | Promise<PhaseOutcome> {
  for (let i = from; i < handlers.length; i++) {
    const outcome = handlers[i]!(context, runtime);
    if (outcome === undefined) continue;
    if (outcome instanceof Promise) return outcome.then((settled) => (settled !== undefined || context.closed ? settled : runPhase(handlers, context, runtime, i + 1)));
    return outcome;
  }
  return undefined;
}

/**
 * The stream phase around a surface's encoder: each part goes through the filters first (a filter
 * may put out several parts, or none). With no filter the encoder itself is returned, so an
 * unfiltered stream pays nothing. A filter that refuses (throws a GatewayError: a plugin's
 * rejection, a closed plugin's failure) or puts out an error part ends the stream there: the
 * encoder's `failure` says so, and the exchange ends the response with that error event.
 */
export function withStreamFilters(encoder: StreamEncoder, context: RequestContext): StreamEncoder {
  const filters = context.phases.stream;
  if (filters.length === 0) return encoder;
  return new FilteredEncoder(encoder, context, filters);
}

class FilteredEncoder implements StreamEncoder {
  readonly contentType: string;
  failure: ErrorInfo | undefined = undefined;
  private readonly encoder: StreamEncoder;
  private readonly context: RequestContext;
  private readonly filters: readonly StreamFilter[];

  constructor(encoder: StreamEncoder, context: RequestContext, filters: readonly StreamFilter[]) {
    this.encoder = encoder;
    this.context = context;
    this.filters = filters;
    this.contentType = encoder.contentType;
  }

  encode(part: StreamPart): string {
    if (this.failure !== undefined) return '';
    try {
      return this.through(part, 0);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      this.failure = error;
      return this.encoder.encode({ type: 'error', error });
    }
  }

  encodeError(error: ErrorInfo): string {
    return this.encoder.encodeError(error);
  }

  private through(part: StreamPart, from: number): string {
    let current = part;
    for (let i = from; i < this.filters.length; i++) {
      const next = this.filters[i]!(this.context, current);
      if (next === undefined) {
        // the parts that frame the stream always go out (a surface's encoder builds every event's
        // head from response-start): a filter may change them, never drop them
        if (current.type !== 'response-start' && current.type !== 'response-end' && current.type !== 'error') return '';
        continue;
      }
      if (Array.isArray(next)) {
        let out = '';
        for (const item of next as readonly StreamPart[]) {
          if (this.failure !== undefined) break;
          out += this.through(item, i + 1);
        }
        return out;
      }
      current = next as StreamPart;
    }
    if (current.type === 'error' && part.type !== 'error') this.failure = current.error;
    return this.encoder.encode(current);
  }
}

/** The error phase: what each filter makes of the error about to be answered (none: the error itself). */
export function filterError(context: RequestContext, error: ErrorInfo): ErrorInfo {
  const filters = context.phases.error;
  let current = error;
  for (let i = 0; i < filters.length; i++) current = filters[i]!(context, current);
  return current;
}

/** The stream phase over a whole non-streamed answer. */
export function filterResponse(context: RequestContext, response: CanonicalResponse): CanonicalResponse {
  const filters = context.phases.response;
  let current = response;
  for (let i = 0; i < filters.length; i++) current = filters[i]!(context, current);
  return current;
}

// ----- the built-in handlers -------------------------------------------------------------------

/** accept: Host, Origin and CORS (server/browser-guard.ts), first on every request. */
const browserGuard: RequestHandler = (context, runtime) => runtime.browserGuard.admit(context.request, context.response);

/**
 * authenticate: the management API takes admin keys only (pipeline/admin-auth.ts); every other
 * path a client key from the config or the key store (pipeline/auth.ts), whose policy the admit
 * phase reads. Throws 401 (403, 429 for the management API).
 */
const clientKey: RequestHandler = (context, runtime) => {
  if (context.path.startsWith(MANAGEMENT_PREFIX)) {
    context.keyId = runtime.admin.authenticate(context.request, context.query);
    return undefined;
  }
  let identity;
  try {
    identity = runtime.auth.authenticate(context.request.headers, context.query);
  } catch (error) {
    const admin = playgroundSession(context, runtime, error);
    if (admin === undefined) throw error;
    context.keyId = admin;
    return undefined;
  }
  context.keyId = identity.keyId;
  context.policy = identity.policy;
  return undefined;
};

/** The one path the dashboard's playground sends prompts to. */
export const PLAYGROUND_PATH = '/v1/chat/completions';

/**
 * The dashboard's playground sends no client key: on its path, a request without one is let in
 * when it carries a live dashboard session and that session's CSRF token — an admin may spend
 * what the gateway serves. Looked at only once a key is found missing, never on the common path.
 */
function playgroundSession(context: RequestContext, runtime: Runtime, error: unknown): string | undefined {
  if (!(error instanceof GatewayError) || error.code !== ErrorCode.missingKey || context.path !== PLAYGROUND_PATH) return undefined;
  const session = runtime.admin.session(context.request);
  if (session === undefined || !UiSessions.csrfMatches(session, context.request.headers)) return undefined;
  return session.adminId;
}

/** authenticate with no client keys anywhere: only the management API asks who is calling. */
const adminOnly: RequestHandler = (context, runtime) => {
  if (context.path.startsWith(MANAGEMENT_PREFIX)) context.keyId = runtime.admin.authenticate(context.request, context.query);
  return undefined;
};

/** complete: the answer's cost at the answering model's price, before anything reports it. */
function costOf(runtime: Runtime): CompleteHandler {
  const prices = runtime.prices;
  return {
    requestEnded(context) {
      if (context.cached) {
        // answered from the response cache: no provider was asked
        context.costUsd = 0;
        return;
      }
      const usage = context.usage;
      if (usage !== undefined && context.upstreamModel !== '') context.costUsd = prices.cost(context.provider, context.upstreamModel, usage);
    },
  };
}

/** Phases with no handler: a request context's value until the gateway sets the real ones. */
export const NO_PHASES: Phases = Object.freeze({ accept: [], authenticate: [], decode: [], admit: [], route: [], lookup: [], attempt: [], commit: [], stream: [], response: [], complete: [], error: [] });

/**
 * The phases of one config snapshot (and of the key store as it is now). Built-in features are
 * added where the config or a stored key turns them on (no client keys and no key store:
 * authenticate guards only the management API).
 */
export function compilePhases(runtime: Runtime, process: ProcessHandlers): Phases {
  const cache = compileResponseCache(runtime);
  // shared session pins (state.redis): read before the planner looks for them
  const pins = sharedPinLookup(runtime);
  // key and team limits: only while some key or team (the YAML's or the store's) has one; the
  // gateway compiles the phases again when the store gains its first or loses its last
  const limits = runtime.limited ? limitHandlers(runtime.limits!, runtime.now) : undefined;
  // plugins (plugin-host.ts): only the phases some loaded plugin has a hook for
  const plugins = runtime.plugins?.handlers;
  const one = <T>(handler: T | undefined): T[] => (handler !== undefined ? [handler] : []);
  return Object.freeze({
    accept: [browserGuard],
    authenticate: [runtime.auth.enabled ? clientKey : adminOnly],
    // plugins' onRequest after the built-in checks, before limits and routing see the request
    decode: [boundedModelName, singleModelField, ...one(plugins?.decode)],
    admit: limits !== undefined ? [limits.admit] : [],
    // `model: auto`: an auto alias picks its tier before suffixes and aliases resolve the name
    route: one(runtime.autoRoute?.route),
    lookup: [...one(pins), ...(cache !== undefined ? [cache.lookup] : [])],
    attempt: one(plugins?.attempt),
    commit: [...(limits !== undefined ? [limits.commit] : []), ...(cache !== undefined ? [cache.commit] : []), ...one(runtime.autoRoute?.commit)],
    stream: one(plugins?.stream),
    response: one(plugins?.response),
    // limits settle once the cost is known; the cache stores last: the access line and usage go out
    // first; plugins' onComplete after everything (each in a task of its own)
    complete: [costOf(runtime), ...(limits !== undefined ? [limits.complete] : []), ...process.complete, ...(cache !== undefined ? [cache.complete] : []), ...one(runtime.autoRoute?.complete(runtime.prices)), ...one(plugins?.complete)],
    error: one(plugins?.error),
  });
}
