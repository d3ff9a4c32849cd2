// Errors in Google's shape: {"error":{"code":404,"message":…,"status":"NOT_FOUND","details":[…]}},
// with the google.rpc status name for the HTTP status and, where they apply, the RetryInfo and
// BadRequest details Google's own clients read (Gemini CLI waits for RetryInfo.retryDelay).
import type { WireResponse } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { JsonObject } from '../../util/json-value.ts';

export function googleStatus(status: number): string {
  switch (status) {
    case 400: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 405:
    case 501: return 'UNIMPLEMENTED';
    case 408:
    case 504: return 'DEADLINE_EXCEEDED';
    case 409: return 'ABORTED';
    case 413:
    case 415:
    case 422: return 'INVALID_ARGUMENT';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 499: return 'CANCELLED';
    case 502:
    case 503: return 'UNAVAILABLE';
    default: return status >= 500 ? 'INTERNAL' : status >= 400 ? 'FAILED_PRECONDITION' : 'UNKNOWN';
  }
}

export function geminiErrorObject(error: ErrorInfo): JsonObject {
  const details: JsonObject[] = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: error.code, domain: 'switchyard' }];
  if (error.param !== undefined && error.status === 400) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: error.param, description: error.message }] });
  }
  if (error.retryAfterSeconds !== undefined) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.ceil(error.retryAfterSeconds)}s` });
  }
  return { code: error.status, message: error.message, status: googleStatus(error.status), details };
}

export function encodeGeminiError(error: ErrorInfo): WireResponse {
  const headers = ['content-type', 'application/json; charset=UTF-8', 'x-switchyard-error-code', error.code];
  if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(Math.ceil(error.retryAfterSeconds)));
  return { status: error.status, headers, body: JSON.stringify({ error: geminiErrorObject(error) }) };
}

/** An SSE stream ends a failure with an error object as its last event (the SDKs raise it as ApiError). */
export function geminiSseError(error: ErrorInfo): string {
  return `data: ${JSON.stringify({ error: geminiErrorObject(error) })}\n\n`;
}
