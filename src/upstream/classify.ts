// The policy half of upstream error handling, shared by every provider: given the status, the
// provider's own message and code (decoded in its folder), decide what the caller sees and
// whether a retry or a fallback may help.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';

const CONTEXT_LENGTH = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|reduce the length/i;

/** Seconds from `retry-after` (seconds or HTTP date). */
export function retryAfterSeconds(headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** A shared classifier: the message/code decoding is per dialect, the policy is the same. */
export function classifyUpstreamError(status: number, message: string, code: string | undefined, provider: string, headers: Readonly<Record<string, string | string[] | undefined>>): GatewayError {
  const text = `Provider '${provider}' answered ${status}: ${message}`;
  const retryAfter = retryAfterSeconds(headers);
  if (status === 429 || status === 529) {
    return new GatewayError(ErrorCode.upstreamStatus, text, {
      status: 429, origin: 'upstream', errorClass: 'rate-limited', retryable: true, fallbackAllowed: true, upstreamStatus: status, provider,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  if (status >= 500) {
    return new GatewayError(ErrorCode.upstreamStatus, text, {
      status: status === 504 ? 504 : 502, origin: 'upstream', errorClass: 'server-error', retryable: true, fallbackAllowed: true, upstreamStatus: status, provider,
    });
  }
  if (status === 408) {
    return new GatewayError(ErrorCode.upstreamStatus, text, { status: 504, origin: 'upstream', errorClass: 'per-try-timeout', retryable: true, fallbackAllowed: true, upstreamStatus: status, provider });
  }
  const contextLength = code === 'context_length_exceeded' || CONTEXT_LENGTH.test(message);
  return new GatewayError(contextLength ? ErrorCode.contextLength : ErrorCode.upstreamStatus, text, {
    status, origin: 'upstream', errorClass: 'client-error', retryable: false,
    // another provider may accept what this one refused for its own reasons (auth, unknown model)
    fallbackAllowed: status === 401 || status === 403 || status === 404 || contextLength,
    upstreamStatus: status, provider,
  });
}

