// The limits of named keys and teams as phase handlers (governance/limit-enforcer.ts does the
// counting): admit reserves (or refuses: 403 for a model outside the allow-list, 429 with the
// rate-limit headers, 429 `budget_exceeded`), commit tells what is left in the answer's head, and
// complete settles with the real tokens and cost — also for a stream the client cut. Compiled only
// when some key or team has limits; a key without any passes admit with two field reads.
import { LimitTicket, pushRateHeaders, type Admission, type LimitEnforcer } from '../governance/limit-enforcer.ts';
import type { RequestContext } from './context.ts';
import { ANSWERED, type Answered, type CommitHandler, type CompleteHandler, type RequestHandler } from './phases.ts';
import type { RequestPayload } from './request-body.ts';
import { sendError } from './respond.ts';

export interface LimitHandlers {
  readonly admit: RequestHandler;
  readonly commit: CommitHandler;
  readonly complete: CompleteHandler;
}

/** The answer's tokens as the request allows them (each dialect's own field); undefined when not set. Reads top-level members only. */
export function requestedMaxTokens(body: RequestPayload | undefined): number | undefined {
  if (body === undefined) return undefined;
  let value = body.member('max_tokens') ?? body.member('max_completion_tokens') ?? body.member('max_output_tokens');
  if (value === undefined) {
    const generation = body.member('generationConfig') ?? body.member('generation_config');
    if (typeof generation === 'object' && generation !== null) value = (generation as Record<string, unknown>).maxOutputTokens;
    const options = body.member('options');
    if (value === undefined && typeof options === 'object' && options !== null) value = (options as Record<string, unknown>).num_predict;
  }
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/** Anthropic's clients read their own rate-limit headers too. */
function anthropic(context: RequestContext): boolean {
  return context.surface !== undefined && context.surface.name.startsWith('anthropic');
}

export function limitHandlers(enforcer: LimitEnforcer, now: () => number): LimitHandlers {
  /** The admission's outcome for this request: the ticket kept for complete, or the refusal answered. */
  const conclude = (context: RequestContext, outcome: Admission, at: number): Answered | undefined => {
    if (outcome instanceof LimitTicket) {
      // the client left while a shared store answered: complete has run, so give it all back now
      if (context.closed) enforcer.release(outcome, now());
      else context.limitTicket = outcome;
      return undefined;
    }
    if (context.closed) return ANSWERED;
    const headers: string[] = [];
    const rate = outcome.rate;
    if (rate !== undefined) pushRateHeaders(headers, rate.unit, rate.limit, 0, rate.resetMs, anthropic(context), at);
    sendError(context, outcome.error, headers);
    return ANSWERED;
  };
  const admit: RequestHandler = (context) => {
    const policy = context.policy;
    if (policy === undefined || (policy.limits === undefined && policy.teamLimits === undefined)) return undefined;
    const countsTokens = context.surface?.operation !== 'count-tokens';
    // the prompt from the body's size (about 4 bytes a token, JSON included: an upper bound that
    // costs nothing to compute); complete replaces it with the real count
    const promptTokens = Math.ceil((context.body?.length ?? 0) / 4);
    const at = now();
    const outcome = enforcer.admit(policy, context.modelAsked, promptTokens, countsTokens ? requestedMaxTokens(context.payload) : undefined, countsTokens, context.id, at);
    // a shared store (Redis/Valkey) answers later: the lifecycle waits for it (phases.ts, "Waiting")
    if (outcome instanceof Promise) return outcome.then((admission) => conclude(context, admission, at));
    return conclude(context, outcome, at);
  };
  const commit: CommitHandler = (context, headers) => {
    const ticket = context.limitTicket;
    if (ticket !== undefined) enforcer.appendHeaders(ticket, anthropic(context), now(), headers);
  };
  const complete: CompleteHandler = {
    requestEnded(context) {
      const ticket = context.limitTicket;
      if (ticket === undefined) return;
      const usage = context.usage;
      const response = context.response;
      const answered = response.headersSent && response.statusCode < 400;
      enforcer.settle(ticket, usage === undefined ? undefined : usage.inputTokens + usage.outputTokens, context.costUsd, answered, now());
    },
  };
  return { admit, commit, complete };
}
