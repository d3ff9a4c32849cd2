// The policy half of upstream error handling, shared by every provider: given the status, the
// provider's own message and code (decoded in its folder), decide what the caller sees and the
// error's class — what a retry or a fallback may do about it is the class's row in
// src/canonical/retry-policy.ts.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { headerValue } from '../util/header-value.ts';

const CONTEXT_LENGTH = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|reduce the length/i;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Seconds to wait, from `retry-after` (seconds or HTTP date), else `retry-after-ms`, else the
 * providers' rate-limit reset headers: OpenAI's `x-ratelimit-reset-requests/-tokens` (durations
 * such as `1s`, `6m0s`, `20ms`) and Anthropic's `anthropic-ratelimit-*-reset` (RFC 3339 times).
 * Of several resets, those whose `remaining` is 0 count; if none says so, the soonest.
 */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headerValue(headers, 'retry-after');
  if (value !== undefined) {
    const seconds = Number(value);
    if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  const ms = Number(headerValue(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && headerValue(headers, 'retry-after-ms') !== undefined) return ms / 1000;
  return resetSeconds(headers);
}

const RESET_HEADERS: readonly (readonly [reset: string, remaining: string, kind: 'duration' | 'time'])[] = [
  ['x-ratelimit-reset-requests', 'x-ratelimit-remaining-requests', 'duration'],
  ['x-ratelimit-reset-tokens', 'x-ratelimit-remaining-tokens', 'duration'],
  ['anthropic-ratelimit-requests-reset', 'anthropic-ratelimit-requests-remaining', 'time'],
  ['anthropic-ratelimit-tokens-reset', 'anthropic-ratelimit-tokens-remaining', 'time'],
  ['anthropic-ratelimit-input-tokens-reset', 'anthropic-ratelimit-input-tokens-remaining', 'time'],
  ['anthropic-ratelimit-output-tokens-reset', 'anthropic-ratelimit-output-tokens-remaining', 'time'],
];

function resetSeconds(headers: Headers): number | undefined {
  let exhausted: number | undefined;
  let soonest: number | undefined;
  for (const [resetName, remainingName, kind] of RESET_HEADERS) {
    const raw = headerValue(headers, resetName);
    if (raw === undefined) continue;
    const seconds = kind === 'duration' ? parseDuration(raw) : parseTime(raw);
    if (seconds === undefined) continue;
    if (headerValue(headers, remainingName) === '0') exhausted = Math.max(exhausted ?? 0, seconds);
    soonest = soonest === undefined ? seconds : Math.min(soonest, seconds);
  }
  return exhausted ?? soonest;
}

/** Go-style durations as OpenAI sends them: `1s`, `6m0s`, `1h2m3.5s`, `20ms`. */
export function parseDuration(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = 0;
  for (const match of text.matchAll(pattern)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? amount * 3600 : unit === 'm' ? amount * 60 : unit === 's' ? amount : amount / 1000;
    matched += match[0].length;
  }
  return matched > 0 && matched === text.trim().length ? total : undefined;
}

function parseTime(text: string): number | undefined {
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** A shared classifier: the message/code decoding is per dialect, the policy is the same. */
export function classifyUpstreamError(status: number, message: string, code: string | undefined, provider: string, headers: Headers): GatewayError {
  const text = `Provider '${provider}' answered ${status}: ${message}`;
  const retryAfter = retryAfterSeconds(headers);
  if (status === 429 || status === 529) {
    return new GatewayError(ErrorCode.upstreamStatus, text, {
      status: 429, origin: 'upstream', errorClass: 'rate-limited', upstreamStatus: status, provider,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  if (status >= 500) {
    return new GatewayError(ErrorCode.upstreamStatus, text, {
      status: status === 504 ? 504 : 502, origin: 'upstream', errorClass: 'server-error', upstreamStatus: status, provider,
    });
  }
  if (status === 408) {
    return new GatewayError(ErrorCode.upstreamStatus, text, { status: 504, origin: 'upstream', errorClass: 'per-try-timeout', upstreamStatus: status, provider });
  }
  const contextLength = code === 'context_length_exceeded' || CONTEXT_LENGTH.test(message);
  // 401/403 and 404 are this provider's own reasons (its key, its models): other keys and providers may take the request
  const errorClass = contextLength ? 'context-length' : status === 401 || status === 403 ? 'auth-refused' : status === 404 ? 'not-found' : 'client-error';
  return new GatewayError(contextLength ? ErrorCode.contextLength : ErrorCode.upstreamStatus, text, { status, origin: 'upstream', errorClass, upstreamStatus: status, provider });
}
