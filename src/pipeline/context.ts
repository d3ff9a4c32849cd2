// Per-request state, one object with a stable shape; read by the access log when the response closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestSummary, SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { ErrorInfo } from '../canonical/errors.ts';
import type { Usage } from '../canonical/usage.ts';
import type { LimitTicket } from '../governance/limit-enforcer.ts';
import type { KeyPolicy } from '../governance/policy.ts';
import type { CapturedBodies } from '../observability/body-log.ts';
import type { TargetFilter } from '../routing/planner.ts';
import type { Route } from '../routing/router.ts';
import type { SuffixedModel } from '../routing/suffix.ts';
import type { RequestPayload } from './request-body.ts';
import { NO_PHASES, type Phases } from './phases.ts';
import type { PluginRun } from './plugin-host.ts';
import type { RouteDecision } from './route-decision.ts';
import type { CacheFill, CacheStatus } from './response-cache.ts';
import { pathOf, queryOf } from '../server/url.ts';

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

export interface Cancellable {
  cancel(): void;
}

/**
 * Told about every request once its response has closed (metrics, usage recording): off the
 * critical path, and must not throw or block — anything slow goes through its own bounded queue.
 */
/** One upstream attempt, kept only when tracing asks for it (`RequestContext.attemptLog`). */
export interface AttemptRecord {
  provider: string;
  dialect: string;
  model: string;
  /** Fingerprint of the provider key used ('' for none). */
  key: string;
  /** performance.now() at dispatch and at the end of the attempt. */
  startedAt: number;
  endedAt: number;
  /** Upstream HTTP status (0 when none arrived). */
  status: number;
  /** The gateway error code when it failed; undefined when it answered. */
  error: string | undefined;
}

export interface RequestObserver {
  requestEnded(context: RequestContext, aborted: boolean): void;
}

export class RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly path: string;
  readonly query: string;
  /** Path parameters set by a prefix route (e.g. Gemini's model). */
  params: Readonly<Record<string, string>> = EMPTY_PARAMS;
  surface: SurfaceAdapter | undefined = undefined;
  /** Renders errors when no surface matched the path. */
  readonly errorSurface: SurfaceAdapter;
  keyId = '';
  /** authenticate: the caller's name, team and limits (undefined: a plain key, or no client auth). */
  policy: KeyPolicy | undefined = undefined;
  /** admit: what the caller's limits hold for this request, settled in complete. */
  limitTicket: LimitTicket | undefined = undefined;
  modelAsked = '';
  provider = '';
  upstreamModel = '';
  /**
   * `upstreamModel` is a name its provider does not list and has not answered yet (a provisional
   * route): metrics give it no series of its own, so failing names cannot use up the label cap.
   */
  unlistedModel = false;
  /** The fallback (or overflow) route that answered, when not the one asked for. */
  route = '';
  /**
   * What the answering attempt left out under the `unsupported_tools` policy (hosted tools,
   * server-side fields), comma-separated in the caller's field names; '' when nothing.
   */
  dropped = '';
  /** Attempts that failed, as `provider/model:status` (bounded by routing.max_attempts). */
  failures: string[] | undefined = undefined;
  /** Token usage of the answer as the provider reported it (undefined when it did not). */
  usage: Usage | undefined = undefined;
  /** The answer was a stream (SSE / NDJSON) that reached the client. */
  streamed = false;
  /** What the usage cost (USD) at the answering model's price; undefined when usage or price is unknown. Set when the response closes, before the access line and observers. */
  costUsd: number | undefined = undefined;
  /** Answered from a subscription (an agent CLI's login), which costs no money per token. */
  subscription = false;
  /** What the CLI itself reported the answer cost (Claude's `total_cost_usd`), apart from `costUsd`. */
  reportedCostUsd: number | undefined = undefined;
  stream = false;
  attempts = 0;
  upstreamStatus = 0;
  /** ms from start to upstream response headers, and to the first byte written downstream. */
  upstreamHeadersMs = 0;
  /** Time spent waiting on the upstream (dispatch → headers, or → last byte for bodies read whole), for Server-Timing. */
  upstreamMs = 0;
  firstByteMs = 0;
  error: ErrorInfo | undefined = undefined;
  /** Set when body capture is on: capped copies of the request and response bodies. */
  bodies: CapturedBodies | undefined = undefined;
  /** Set (to a list) when tracing is on: every upstream attempt, for the attempt spans. */
  attemptLog: AttemptRecord[] | undefined = undefined;
  /** The work to stop if the client goes away. */
  active: Cancellable | undefined = undefined;
  /** The lifecycle of the config this request started with (set by the gateway). */
  phases: Phases = NO_PHASES;
  /** decode: the body as read (its JSON bytes; undefined for a form), and what the surface read from it. */
  body: Buffer | undefined = undefined;
  payload: RequestPayload | undefined = undefined;
  summary: RequestSummary | undefined = undefined;
  /** route: the name to resolve (the model asked for, unless a route handler rewrote it). */
  routeModel = '';
  /** route: what `routeModel` resolved to (set just before lookup). */
  resolved: Route | undefined = undefined;
  /** decode: the parts of the HTTP request the surface reads besides the body. */
  surfaceRequest: SurfaceRequest | undefined = undefined;
  /** route: the thinking suffix read from the name (`claude-x(high)`), when there was one. */
  suffix: SuffixedModel | undefined = undefined;
  /** The request in canonical form, when a phase before the attempt decoded it (the response cache); the runner reuses it. */
  canonical: CanonicalRequest | undefined = undefined;
  /** lookup: what the response cache did ('' when the route and key have no cache). */
  cacheStatus: CacheStatus = '';
  /** lookup, on a miss: collects the answer to store once it is complete. */
  cacheFill: CacheFill | undefined = undefined;
  /** Answered from the response cache: nothing was asked of a provider, and it cost nothing. */
  cached = false;
  /** The response has closed (the complete phase has run): a handler that waited must not go on. */
  closed = false;
  /** route: what an auto alias decided (`model: auto`), for the answer's header and the access log. */
  routeDecision: RouteDecision | undefined = undefined;
  /** route: the targets an auto alias's hard constraints leave out (no images, no JSON schema, …); undefined for none. */
  targetFilter: TargetFilter | undefined = undefined;
  /** decode: the plugins that apply to this request (undefined: none). */
  plugins: PluginRun | undefined = undefined;
  /**
   * decode: a handler needs the answer in canonical form (a plugin's onResponse or
   * onStreamEvent), so every attempt is translated, same dialect included.
   */
  translate = false;
  /**
   * decode: a handler read or changed the request in canonical form (a plugin's onRequest): a
   * same-dialect attempt sends it encoded again, and its answer still passes through as bytes.
   */
  reencode = false;

  constructor(id: string, request: IncomingMessage, response: ServerResponse, errorSurface: SurfaceAdapter) {
    this.id = id;
    this.errorSurface = errorSurface;
    this.startedAt = performance.now();
    this.request = request;
    this.response = response;
    const target = request.url ?? '/';
    this.path = pathOf(target);
    this.query = queryOf(target);
  }

  /**
   * The body parsed whole (a form: its fields), once, on first use: a pass-through request never
   * needs it. Throws the 400 for a body that JSON.parse or the surface's checks refuse.
   */
  get parsed(): unknown {
    return this.payload?.whole();
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /**
   * The status to log and count for this request once its response closed: the one sent; when
   * none was (the client left, or Node's request timeout answered on the socket itself), 408 for
   * a body that did not arrive within server.request_timeout_ms, else nginx's 499.
   */
  finalStatus(aborted: boolean): number {
    const response = this.response;
    if (response.headersSent || !aborted) return response.statusCode;
    return (this.request.socket?.errored as { code?: string } | null | undefined)?.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 499;
  }

  /**
   * W3C Server-Timing: the time the gateway itself spent on this request so far, and the time it
   * waited on the upstream — so anyone can check the overhead per request.
   */
  serverTiming(): string {
    const upstream = this.upstreamMs;
    const gateway = Math.max(0, this.elapsedMs() - upstream);
    return upstream > 0 ? `gateway;dur=${gateway.toFixed(3)}, upstream;dur=${upstream.toFixed(3)}` : `gateway;dur=${gateway.toFixed(3)}`;
  }
}
