// What the request runner expects of one attempt (an exchange) and what it offers back (the
// owner), whoever carries the attempt out: the HTTP exchanges (upstream-exchange.ts and its two
// kinds) or a provider that brings its own (agent CLIs, agent-cli-exchange.ts). The runner knows
// only these interfaces, so a new kind of provider is a new factory, not a branch in the runner.
import type { SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';
import type { GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { TimeoutSettings, UnsupportedParams, UnsupportedTools } from '../config/types.ts';
import type { HealthEntry } from '../state/interfaces.ts';
import type { RequestContext } from './context.ts';

/** One attempt against one provider key, as the runner sees it. */
export interface Exchange {
  readonly provider: { readonly name: string };
  readonly upstreamModel: string;
  /** The provider key (and its health entry) this attempt uses. */
  readonly key: HealthEntry;
  /** Ms from dispatch to the answer's start (0 before it): the latency the health book records. */
  readonly latencyMs: number;
  /** Already reported to the owner (or canceled). */
  readonly isSettled: boolean;
  /** The client left, or the runner stops: all work ends at once, nothing more is reported. */
  cancel(): void;
}

/** Decides what happens after an attempt; implemented by the request runner. */
export interface ExchangeOwner {
  /**
   * The attempt failed before anything reached the client. `answer` renders this failure as the
   * final response, should the owner decide not to try again. `repeatable: false` — the attempt
   * may have done work that must not be done twice (an agent CLI's turn that ran its tools): the
   * failure counts as usual (cooldowns included), and is answered without another attempt.
   */
  onFailure(exchange: Exchange, error: GatewayError, answer: () => void, repeatable?: boolean): void;
  /**
   * The provider declined the attempt before doing any work for it (its own queue was full, or the
   * wait for a turn ran out): nothing counts against the key, and another target may take the
   * request. `answer` renders the refusal (a 429 with Retry-After), should none.
   */
  onDeclined(exchange: Exchange, error: GatewayError, answer: () => void): void;
  /** The first byte is about to be written downstream: no retry from here on. */
  onCommit(exchange: Exchange): void;
  /** The response is complete (error undefined) or was ended with an error after the commit. */
  onDone(exchange: Exchange, error: GatewayError | undefined): void;
  /**
   * The gateway's own code threw while this exchange ran (a bug, never the provider's failure).
   * The attempt is stopped; the owner ends the response. `holdsKey`: the exchange had not reported
   * yet, so its claim on the key is still to be given back.
   */
  onInternalError(exchange: Exchange, error: unknown, holdsKey: boolean): void;
}

/** One attempt for a provider that runs its own exchanges. */
export interface OwnExchangeRequest {
  readonly context: RequestContext;
  readonly surface: SurfaceAdapter;
  readonly surfaceRequest: SurfaceRequest;
  readonly upstreamModel: string;
  readonly key: HealthEntry;
  /** The route's per-attempt timeout overrides. */
  readonly timeouts: Partial<TimeoutSettings> | undefined;
  /** The route's `unsupported_tools` override. */
  readonly unsupportedTools: UnsupportedTools | undefined;
  /** The route's `unsupported_params` override. */
  readonly unsupportedParams: UnsupportedParams | undefined;
  /** Every credential of the config, to redact from what the provider says (its errors). */
  readonly secrets: readonly string[];
  readonly owner: ExchangeOwner;
  /** The request in canonical form, decoded once per request (chat surfaces only). */
  canonical(): CanonicalRequest;
  /** The session the request names (session headers, `prompt_cache_key`, `metadata.user_id`), or undefined. */
  sessionId(): string | undefined;
}

/**
 * A provider that carries out its attempts itself, without an HTTP endpoint (agent CLIs). Built
 * per runtime; what must outlive a reload (long-lived workers) it keeps elsewhere.
 */
export interface OwnExchanges {
  /** What the provider is, for traces and messages (`claude-code`). */
  readonly label: string;
  /**
   * Starts one attempt; undefined when it was answered at once without the provider (a token
   * count). Throws a GatewayError when the request cannot be served here (another target may).
   */
  start(request: OwnExchangeRequest): Exchange | undefined;
  /** The models the provider offers now (discovery). */
  listModels(signal: AbortSignal): Promise<readonly string[]>;
  /** For `/v1/providers` and `/v0/status`. */
  describe(): Record<string, unknown>;
  /** The runtime that built it is done: give back what it held. */
  release(): Promise<void>;
}
