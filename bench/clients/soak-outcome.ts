// What one request of the agent-fleet soak came to, as its caller sees it. Only two outcomes are
// allowed: an answer, and an injected upstream failure that the gateway could not recover (every
// retry and the fallback failed too) passed on correctly — a 5xx naming an upstream failure in the
// caller's own dialect (OpenAI chat: {"error":{"message","type",…}}), or, once a stream has begun,
// an OpenAI stream error event naming one. Anything else is an error of the gateway.

export const outcomes = [
  'ok',
  /** An upstream failure the gateway could not recover, passed on in the caller's format (allowed). */
  'upstream-failure-passed-on',
  /** A 5xx that does not name an upstream failure, or is not in the caller's format. */
  'gateway-5xx',
  /** Any other status (4xx: a refusal the soak's requests should never meet). */
  'unexpected-status',
  /** 200, but the answer is not a whole chat completion. */
  'malformed-answer',
  /** 200 stream that ended without its final `data: [DONE]` and without an error event. */
  'truncated-stream',
  /** 200 stream that carried an error event not naming an upstream failure. */
  'stream-error-event',
  /** The connection broke (closed or reset) before the answer was whole. */
  'connection-broken',
  /** No whole answer within the hang limit. */
  'hang',
] as const;
export type Outcome = (typeof outcomes)[number];

/** Outcomes that count as errors in the soak's budget (all but these two). */
export const allowedOutcomes: ReadonlySet<Outcome> = new Set(['ok', 'upstream-failure-passed-on']);

/** The gateway's codes for a failure of the provider itself (x-switchyard-error-code). */
const upstreamCodes = new Set(['SWY_ERR_UPSTREAM_STATUS', 'SWY_ERR_UPSTREAM_RESET', 'SWY_ERR_UPSTREAM_CONNECT_FAILURE', 'SWY_ERR_UPSTREAM_PROTOCOL']);
/** The same failures as OpenAI-style `code` values (in a stream error event there is no header). */
const upstreamOpenaiCodes = new Set(['upstream_error', 'upstream_reset', 'upstream_unreachable', 'upstream_protocol_error']);

export interface Answer {
  status: number;
  streamed: boolean;
  /** The x-switchyard-error-code response header, when there was one. */
  errorCode: string | undefined;
  /** Non-streamed: the body (bounded). Streamed: undefined. */
  body: string | undefined;
  /** Streamed: the stream's last bytes (bounded), enough to see `data: [DONE]`. */
  tail: string;
  /** Streamed: the first `data: {"error":…}` event's JSON, when one came. */
  errorEvent: string | undefined;
}

function openaiError(text: string | undefined): { type: unknown; message: unknown; code: unknown } | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { type?: unknown; message?: unknown; code?: unknown } };
    const error = parsed?.error;
    return error !== null && typeof error === 'object' ? { type: error.type, message: error.message, code: error.code } : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of an answer that came whole (the connection, hang and deadline cases are the client's). */
export function classifyAnswer(answer: Answer): Outcome {
  const { status } = answer;
  if (status >= 500) {
    const error = openaiError(answer.body);
    const inCallerFormat = error !== undefined && typeof error.message === 'string' && error.message !== '' && typeof error.type === 'string';
    return inCallerFormat && answer.errorCode !== undefined && upstreamCodes.has(answer.errorCode) ? 'upstream-failure-passed-on' : 'gateway-5xx';
  }
  if (status !== 200) return 'unexpected-status';
  if (answer.streamed) {
    if (answer.errorEvent !== undefined) {
      const error = openaiError(answer.errorEvent);
      return error !== undefined && typeof error.message === 'string' && typeof error.code === 'string' && upstreamOpenaiCodes.has(error.code)
        ? 'upstream-failure-passed-on' : 'stream-error-event';
    }
    return /data: \[DONE\]\s*$/.test(answer.tail) ? 'ok' : 'truncated-stream';
  }
  try {
    const parsed = JSON.parse(answer.body ?? '') as { object?: unknown; choices?: unknown };
    return parsed.object === 'chat.completion' && Array.isArray(parsed.choices) && parsed.choices.length > 0 ? 'ok' : 'malformed-answer';
  } catch {
    return 'malformed-answer';
  }
}
