// Anthropic error answers ({"type":"error","error":{"type","message"}}) → gateway errors,
// classified by the shared policy; and mid-stream `error` events → the same.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';
import { isObject, type JsonObject, objectFrom } from '../../util/json-value.ts';

export function decodeAnthropicErrorBody(parsed: unknown): { message?: string; type?: string } {
  const body = objectFrom(parsed);
  const error = body?.error;
  if (isObject(error)) {
    return {
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
      ...(typeof error.type === 'string' ? { type: error.type } : {}),
    };
  }
  if (Array.isArray(error)) return {}; // an error given as a list says nothing readable
  if (typeof error === 'string') return { message: error };
  return typeof body?.message === 'string' ? { message: body.message } : {};
}

export function decodeAnthropicError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError {
  let message: string | undefined;
  let type: string | undefined;
  try {
    ({ message, type } = decodeAnthropicErrorBody(JSON.parse(body.toString('utf8'))));
  } catch {
    // not JSON (a proxy's HTML page, …)
  }
  const text = message === undefined ? (body.toString('utf8').slice(0, 500) || `HTTP ${status}`) : type !== undefined ? `${type}: ${message}` : message;
  return classifyUpstreamError(status, text, type, provider, headers);
}

/** The HTTP status Anthropic uses for each error type (https://docs.anthropic.com/en/api/errors). */
export function statusOfErrorType(type: string | undefined): number {
  switch (type) {
    case 'invalid_request_error': return 400;
    case 'authentication_error': return 401;
    case 'billing_error': return 402;
    case 'permission_error': return 403;
    case 'not_found_error': return 404;
    case 'request_too_large': return 413;
    case 'rate_limit_error': return 429;
    case 'timeout_error': return 504;
    case 'overloaded_error': return 529;
    default: return 500;
  }
}

/** An `event: error` after the stream started: shown as a gateway error of the matching class. */
export function streamError(payload: JsonObject): GatewayError {
  const { message, type } = decodeAnthropicErrorBody(payload);
  const upstreamStatus = statusOfErrorType(type);
  const rateLimited = upstreamStatus === 429 || upstreamStatus === 529;
  return new GatewayError(ErrorCode.upstreamStatus, `The provider failed mid-stream: ${type ?? 'error'}: ${message ?? 'unknown error'}`, {
    status: rateLimited ? 429 : upstreamStatus === 504 ? 504 : 502,
    origin: 'upstream',
    errorClass: rateLimited ? 'rate-limited' : 'server-error',
    upstreamStatus,
  });
}
