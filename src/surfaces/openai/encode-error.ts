// Errors in OpenAI's shape: {"error":{"message","type","param","code"}}.
import type { ErrorInfo } from '../../canonical/errors.ts';
import { ErrorCode } from '../../canonical/errors.ts';
import type { WireResponse } from '../../canonical/adapters.ts';

const openaiCodes: Record<string, string> = {
  [ErrorCode.malformedJson]: 'invalid_json',
  [ErrorCode.invalidRequest]: 'invalid_request',
  [ErrorCode.bodyTooLarge]: 'request_too_large',
  [ErrorCode.routeNotFound]: 'unknown_url',
  [ErrorCode.methodNotAllowed]: 'method_not_allowed',
  [ErrorCode.unsupportedMediaType]: 'unsupported_media_type',
  [ErrorCode.hostNotAllowed]: 'host_not_allowed',
  [ErrorCode.originNotAllowed]: 'origin_not_allowed',
  [ErrorCode.modelNotFound]: 'model_not_found',
  [ErrorCode.unsupportedOperation]: 'unsupported_operation',
  [ErrorCode.coolingDown]: 'rate_limit_exceeded',
  [ErrorCode.retryBudget]: 'overloaded',
  [ErrorCode.contextLength]: 'context_length_exceeded',
  [ErrorCode.invalidKey]: 'invalid_api_key',
  [ErrorCode.missingKey]: 'missing_api_key',
  [ErrorCode.modelNotAllowed]: 'model_not_allowed',
  [ErrorCode.rateLimitExceeded]: 'rate_limit_exceeded',
  [ErrorCode.budgetExceeded]: 'budget_exceeded',
  [ErrorCode.limitsUnavailable]: 'limits_unavailable',
  [ErrorCode.connectFailure]: 'upstream_unreachable',
  [ErrorCode.connectTimeout]: 'upstream_timeout',
  [ErrorCode.firstByteTimeout]: 'upstream_timeout',
  [ErrorCode.idleTimeout]: 'upstream_timeout',
  [ErrorCode.totalTimeout]: 'upstream_timeout',
  [ErrorCode.bodyTimeout]: 'upstream_timeout',
  [ErrorCode.upstreamReset]: 'upstream_reset',
  [ErrorCode.upstreamStatus]: 'upstream_error',
  [ErrorCode.upstreamProtocol]: 'upstream_protocol_error',
  [ErrorCode.canceled]: 'client_closed_request',
  [ErrorCode.overloaded]: 'overloaded',
  [ErrorCode.shuttingDown]: 'shutting_down',
  [ErrorCode.usageUnavailable]: 'usage_unavailable',
  [ErrorCode.internal]: 'internal_error',
  [ErrorCode.pluginRejected]: 'plugin_rejected',
  [ErrorCode.pluginFailed]: 'plugin_failed',
  [ErrorCode.pluginTimeout]: 'plugin_timeout',
};

const PLUGIN_CODE_PREFIX = 'SWY_ERR_PLUGIN_';

/** OpenAI's `error.code`: the table's word, a plugin's own code as `plugin_<name>` (like `plugin_rejected`), else the code in lower case. */
function openaiCode(code: string): string {
  const mapped = openaiCodes[code];
  if (mapped !== undefined) return mapped;
  if (code.startsWith(PLUGIN_CODE_PREFIX)) return `plugin_${code.slice(PLUGIN_CODE_PREFIX.length).toLowerCase()}`;
  return code.toLowerCase();
}

function errorType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openaiErrorObject(error: ErrorInfo): { message: string; type: string; param: string | null; code: string } {
  return {
    message: error.message,
    type: errorType(error.status),
    param: error.param ?? null,
    code: openaiCode(error.code),
  };
}

export function encodeOpenAIError(error: ErrorInfo): WireResponse {
  const headers = ['content-type', 'application/json', 'x-switchyard-error-code', error.code];
  if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(Math.ceil(error.retryAfterSeconds)));
  return { status: error.status, headers, body: JSON.stringify({ error: openaiErrorObject(error) }) };
}

/** Chat and legacy completion streams: the SDKs raise `data: {"error": …}` as an APIError. */
export function encodeOpenAIStreamError(error: ErrorInfo): Buffer {
  return Buffer.from(`data: ${JSON.stringify({ error: openaiErrorObject(error) })}\n\n`);
}

/** Responses streams end a failure with an `error` event. */
export function encodeResponsesStreamError(error: ErrorInfo): Buffer {
  const object = openaiErrorObject(error);
  const event = { type: 'error', code: object.code, message: object.message, param: object.param };
  return Buffer.from(`event: error\ndata: ${JSON.stringify(event)}\n\n`);
}
