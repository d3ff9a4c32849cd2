// The management API's recent requests (/v0/management/requests/…): the last requests this
// process served, from the ring of observability/recent-requests.ts, newest first and filtered by
// key, model, provider or status; and one request by id with its attempt log and — when body
// capture is on (`logging.bodies`) and still holds it — its bodies, credential headers left out
// and keys redacted (observability/body-log.ts).
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { BodyLog } from '../observability/body-log.ts';
import { roundCost } from '../observability/access-log.ts';
import { statusTest, type RecentRequest, type RecentRequestFilter, type RecentRequests } from '../observability/recent-requests.ts';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import { answer, fail, idMatcher, MANAGEMENT_PATH } from './management.ts';

const LIST_DEFAULT = 100;

export interface ManagementRequestOptions {
  /** Absent with `logging.recent_requests: 0`. */
  recent: RecentRequests | undefined;
  /** Absent unless `logging.bodies.enabled`. */
  bodies: BodyLog | undefined;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One request as the list shows it. */
function summary(record: RecentRequest): Record<string, unknown> {
  const usage = record.usage;
  return {
    id: record.id,
    time: iso(record.time),
    method: record.method,
    path: record.path,
    surface: record.surface || null,
    key: record.keyId === '' ? null : { id: record.keyId, name: record.keyName || null, team: record.team || null },
    model: record.modelAsked || null,
    provider: record.provider || null,
    upstream_model: record.upstreamModel || null,
    fallback: record.fallback || null,
    status: record.status,
    upstream_status: record.upstreamStatus || null,
    error: record.errorCode === '' ? null : { code: record.errorCode, class: record.errorClass, message: record.errorMessage },
    attempts: record.attempts,
    failed_attempts: record.failures?.length ?? 0,
    stream: record.stream,
    aborted: record.aborted,
    duration_ms: round(record.durationMs),
    upstream_headers_ms: record.upstreamHeadersMs > 0 ? round(record.upstreamHeadersMs) : null,
    ttft_ms: record.firstByteMs > 0 ? round(record.firstByteMs) : null,
    tokens: usage === undefined ? null : { input: usage.inputTokens, output: usage.outputTokens, cached: usage.cachedInputTokens ?? 0, reasoning: usage.reasoningTokens ?? 0 },
    cost_usd: record.costUsd === undefined ? null : roundCost(record.costUsd),
    cached: record.cached,
    cache: record.cacheStatus || null,
    dropped: record.dropped || null,
  };
}

/**
 * Every attempt: with their timings when tracing kept them; otherwise the failed ones (as the
 * runner noted them, `provider/model:status`) and the one that answered.
 */
function attemptLog(record: RecentRequest): Record<string, unknown>[] {
  const log = record.attemptLog;
  if (log !== undefined && log.length > 0) {
    return log.map((attempt) => ({
      provider: attempt.provider, model: attempt.model, key: attempt.key || null, status: attempt.status || null,
      outcome: attempt.error === undefined ? 'answered' : 'failed', error: attempt.error ?? null,
      duration_ms: attempt.endedAt > 0 ? round(attempt.endedAt - attempt.startedAt) : null,
    }));
  }
  const attempts: Record<string, unknown>[] = (record.failures ?? []).map((failure) => {
    const slash = failure.indexOf('/');
    const colon = failure.lastIndexOf(':');
    return { provider: failure.slice(0, slash), model: failure.slice(slash + 1, colon), status: Number(failure.slice(colon + 1)) || null, outcome: 'failed' };
  });
  if (record.provider !== '' && record.upstreamStatus !== 0 && record.upstreamStatus < 400) {
    attempts.push({ provider: record.provider, model: record.upstreamModel, status: record.upstreamStatus, outcome: 'answered' });
  }
  return attempts;
}

function notFound(message: string, param?: string): GatewayError {
  return new GatewayError(ErrorCode.routeNotFound, message, { status: 404, origin: 'downstream', errorClass: 'client-error', ...(param !== undefined ? { param } : {}) });
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', param });
}

function recordingOff(): GatewayError {
  return notFound('Recent requests are not recorded (logging.recent_requests: 0 in the config).');
}

function listRequests(options: ManagementRequestOptions): LocalHandler {
  return (_gateway, context) => {
    try {
      const recent = options.recent;
      if (recent === undefined) throw recordingOff();
      const query = new URLSearchParams(context.query);
      const asked = query.get('limit');
      const limit = asked === null ? LIST_DEFAULT : Number(asked);
      if (!Number.isInteger(limit) || limit < 1) throw invalid(`limit must be a positive integer (at most ${recent.capacity} are kept).`, 'limit');
      const filter: RecentRequestFilter = {};
      for (const name of ['key', 'model', 'provider', 'status'] as const) {
        const value = query.get(name);
        if (value !== null && value !== '') filter[name] = value;
      }
      try {
        statusTest(filter.status);
      } catch (error) {
        throw invalid((error as Error).message, 'status');
      }
      const found = recent.list(filter, Math.min(limit, recent.capacity));
      answer(context, 200, { object: 'list', capacity: recent.capacity, kept: recent.size, data: found.map(summary) });
    } catch (error) {
      fail(context, error);
    }
  };
}

function getRequest(options: ManagementRequestOptions): LocalHandler {
  return (_gateway, context) => {
    try {
      const id = context.params.id!;
      const record = options.recent?.get(id);
      const captured = options.bodies?.get(id);
      if (record === undefined && captured === undefined) {
        if (options.recent === undefined && options.bodies === undefined) throw recordingOff();
        throw notFound(`No recent request with id '${id.slice(0, 80)}' (only the last ${options.recent?.capacity ?? options.bodies!.settings.keep} are kept).`, 'id');
      }
      const bodies = captured === undefined ? null : { request: captured.request, response: captured.response };
      const body_capture = options.bodies === undefined ? 'off' : captured === undefined ? 'not-kept' : 'kept';
      if (record === undefined) {
        // recording is off (or has forgotten it), body capture still holds it
        const { request: _request, response: _response, ...rest } = captured!;
        answer(context, 200, { object: 'request', ...rest, attempt_log: null, body_capture, bodies });
        return;
      }
      answer(context, 200, { object: 'request', ...summary(record), attempt_log: attemptLog(record), body_capture, bodies });
    } catch (error) {
      fail(context, error);
    }
  };
}

export function managementRequestRoutes(options: ManagementRequestOptions): LocalRoute[] {
  const requests = `${MANAGEMENT_PATH}/requests`;
  return [
    { path: requests, entry: { method: 'GET', local: listRequests(options) } },
    { path: `${requests}/`, entry: { method: 'GET', local: getRequest(options) }, match: idMatcher('') },
  ];
}
