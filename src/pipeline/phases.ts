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
//               canonical request is built later, only when a translation needs it.
// admit         may this caller make this request now: per-key and per-team allow-lists, rates,
//               requests in flight, budgets (pipeline/limits.ts: reserve here, settle in complete).
//               Empty unless some key or team has limits.
// route         the name asked for becomes a route: handlers may rewrite `context.routeModel`
//               (`model: auto`, later), then suffixes and aliases resolve it.
// lookup        may the answer come from elsewhere: the response cache (a hit answers here;
//               response-cache.ts), compiled only when some route has a cache.
// attempt       the runner's loop: plan (target, key, delay — from the retry policy), exchange,
//               classify; retries, fallbacks, cooldowns.
// commit        the first byte goes to the client; no retry after this. Handlers see the answer's
//               head before it is written (the rate-limit headers of a limited key, `x-switchyard-cache`).
// stream        per-part filters over canonical stream parts (hooks, output guards). Empty today;
//               a route with filters is translated rather than passed through.
// complete      after the response closed: cost, access log, metrics, usage, traces, body capture
//               limits and budgets settled (later: webhooks). Off the critical path; must not throw.
import type { StreamEncoder } from '../canonical/adapters.ts';
import type { StreamPart } from '../canonical/stream.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { RequestContext, RequestObserver } from './context.ts';
import { limitHandlers } from './limits.ts';
import { boundedModelName, singleModelField } from './request-checks.ts';
import { MANAGEMENT_PREFIX } from './admin-auth.ts';
import { UiSessions } from './ui-sessions.ts';
import { compileResponseCache } from './response-cache.ts';
import type { Runtime } from './runtime.ts';

export const PHASE_NAMES = ['accept', 'authenticate', 'decode', 'admit', 'route', 'lookup', 'attempt', 'commit', 'stream', 'complete'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** A handler answered the request itself (a CORS preflight, a cache hit): nothing more to do. */
export const ANSWERED = 'answered';
export type Answered = typeof ANSWERED;

/**
 * A step before the attempt. Returns undefined to go on, an error to refuse (answered in the
 * caller's dialect), or ANSWERED when it wrote the response itself. It may also throw a
 * GatewayError, which is answered the same way.
 */
export type RequestHandler = (context: RequestContext, runtime: Runtime) => GatewayError | Answered | undefined;

/** Sees the head of a provider's answer just before it is written (the flat header list, which it may extend). */
export type CommitHandler = (context: RequestContext, headers: string[]) => void;

/** Sees (and may replace or drop, by returning undefined) each canonical stream part before it is encoded. */
export type StreamFilter = (context: RequestContext, part: StreamPart) => StreamPart | undefined;

/** Told once the response has closed (`RequestObserver`): must not throw or block. */
export type CompleteHandler = RequestObserver;

export interface Phases {
  readonly accept: readonly RequestHandler[];
  readonly authenticate: readonly RequestHandler[];
  readonly decode: readonly RequestHandler[];
  readonly admit: readonly RequestHandler[];
  readonly route: readonly RequestHandler[];
  readonly lookup: readonly RequestHandler[];
  readonly commit: readonly CommitHandler[];
  readonly stream: readonly StreamFilter[];
  readonly complete: readonly CompleteHandler[];
}

/** Handlers that outlive config snapshots (the process's metrics, usage recorder, access log, …). */
export interface ProcessHandlers {
  /** Run before the observers: the access line, then metrics, usage, traces, body capture. */
  readonly complete: readonly CompleteHandler[];
}

/** Runs one phase: the first handler that refuses or answers ends it. */
export function runPhase(handlers: readonly RequestHandler[], context: RequestContext, runtime: Runtime): GatewayError | Answered | undefined {
  for (let i = 0; i < handlers.length; i++) {
    const outcome = handlers[i]!(context, runtime);
    if (outcome !== undefined) return outcome;
  }
  return undefined;
}

/**
 * The stream phase around a surface's encoder: each part goes through the filters first. With no
 * filter the encoder itself is returned, so an unfiltered stream pays nothing. The runner sends a
 * filtered route through translation, never pass-through (filters need parts, not bytes).
 */
export function withStreamFilters(encoder: StreamEncoder, context: RequestContext): StreamEncoder {
  const filters = context.phases.stream;
  if (filters.length === 0) return encoder;
  return {
    contentType: encoder.contentType,
    encode(part: StreamPart): string {
      let current = part;
      for (let i = 0; i < filters.length; i++) {
        const next = filters[i]!(context, current);
        if (next !== undefined) current = next;
        // the terminal parts always go out: a filter may change them, never drop them
        else if (current.type !== 'response-end' && current.type !== 'error') return '';
      }
      return encoder.encode(current);
    },
    encodeError: (error) => encoder.encodeError(error),
  };
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
export const NO_PHASES: Phases = Object.freeze({ accept: [], authenticate: [], decode: [], admit: [], route: [], lookup: [], commit: [], stream: [], complete: [] });

/**
 * The phases of one config snapshot (and of the key store as it is now). Built-in features are
 * added where the config or a stored key turns them on (no client keys and no key store:
 * authenticate guards only the management API).
 */
export function compilePhases(runtime: Runtime, process: ProcessHandlers): Phases {
  const cache = compileResponseCache(runtime);
  // key and team limits: only while some key or team (the YAML's or the store's) has one; the
  // gateway compiles the phases again when the store gains its first or loses its last
  const limits = runtime.limited ? limitHandlers(runtime.limits!, runtime.now) : undefined;
  return Object.freeze({
    accept: [browserGuard],
    authenticate: [runtime.auth.enabled ? clientKey : adminOnly],
    decode: [boundedModelName, singleModelField],
    admit: limits !== undefined ? [limits.admit] : [],
    route: [],
    lookup: cache !== undefined ? [cache.lookup] : [],
    commit: [...(limits !== undefined ? [limits.commit] : []), ...(cache !== undefined ? [cache.commit] : [])],
    stream: [],
    // limits settle once the cost is known; the cache stores last: the access line and usage go out first
    complete: [costOf(runtime), ...(limits !== undefined ? [limits.complete] : []), ...process.complete, ...(cache !== undefined ? [cache.complete] : [])],
  });
}

