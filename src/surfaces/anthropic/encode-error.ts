// Errors in Anthropic's shape: {"type":"error","error":{"type":…,"message":…}}, with the status
// Anthropic would use; once a stream has started, the same body as an `event: error`.
import type { WireResponse } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';

/** An upstream 529 (Anthropic's "overloaded") is shown as such to Anthropic clients, which back off on it. */
function statusOf(error: ErrorInfo): number {
  return error.upstreamStatus === 529 ? 529 : error.status;
}

export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503:
    case 529: return 'overloaded_error';
    case 504: return 'timeout_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function anthropicErrorBody(error: ErrorInfo): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(statusOf(error)), message: error.message } });
}

export function encodeAnthropicError(error: ErrorInfo): WireResponse {
  const headers = ['content-type', 'application/json', 'x-switchyard-error-code', error.code];
  if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(Math.ceil(error.retryAfterSeconds)));
  return { status: statusOf(error), headers, body: anthropicErrorBody(error) };
}

/** The Anthropic SDK raises an `event: error` as an APIError of the type named in the body. */
export function encodeAnthropicStreamError(error: ErrorInfo): string {
  return `event: error\ndata: ${anthropicErrorBody(error)}\n\n`;
}
