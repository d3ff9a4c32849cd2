// complete phase: every request that reached routing becomes one row for the usage recorder
// (after the access line, off the request's path); `GET /v0/usage` (admin/usage.ts) reads them.
import { routeDecisionJson } from './route-decision.ts';
import type { UsageRecorder } from '../state/usage-recorder.ts';
import type { RequestContext, RequestObserver } from './context.ts';

export class UsageObserver implements RequestObserver {
  private readonly recorder: UsageRecorder;

  constructor(recorder: UsageRecorder) {
    this.recorder = recorder;
  }

  requestEnded(context: RequestContext, aborted: boolean): void {
    if (context.modelAsked === '') return; // never reached routing (bad body, local answers)
    const usage = context.usage;
    const durationMs = context.elapsedMs();
    this.recorder.record({
      time: Math.round(Date.now() - durationMs),
      requestId: context.id,
      keyId: context.keyId,
      surface: context.surface?.name ?? '',
      modelAsked: context.modelAsked,
      provider: context.provider,
      model: context.upstreamModel,
      fallback: context.route,
      status: context.finalStatus(aborted),
      stream: context.stream,
      attempts: context.attempts,
      inputTokens: usage?.inputTokens ?? null,
      outputTokens: usage?.outputTokens ?? null,
      cachedTokens: usage === undefined ? null : usage.cachedInputTokens ?? 0,
      cacheWriteTokens: usage === undefined ? null : usage.cacheWriteInputTokens ?? 0,
      reasoningTokens: usage === undefined ? null : usage.reasoningTokens ?? 0,
      costUsd: context.costUsd ?? null,
      durationMs: Math.round(durationMs * 100) / 100,
      subscription: context.subscription,
      reportedCostUsd: context.reportedCostUsd ?? null,
      cached: context.cached,
      team: context.policy?.team ?? '',
      route: context.routeDecision === undefined ? '' : routeDecisionJson(context.routeDecision),
    });
  }
}

/**
 * An instant as `from=` / `to=` take it: epoch ms, an ISO date or date-time (a bare date is UTC
 * midnight), `now`, `today` / `yesterday` (UTC midnight), or a duration ago (`24h`, `7d`, `30m`).
 */
