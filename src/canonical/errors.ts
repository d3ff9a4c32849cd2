// One error type for the whole gateway. Codes are SWY_ERR_<AREA>_<WHAT>; the class decides retry,
// fallback and cooldown (by the table in retry-policy.ts), the status is what the caller sees, the
// origin says whose fault it is.
import { retryRuleOf } from './retry-policy.ts';

export type ErrorOrigin = 'downstream' | 'gateway' | 'upstream' | 'local';

/** Envoy-style classification; what each class allows is the table in retry-policy.ts. */
export type ErrorClass =
  | 'connect-failure'
  | 'reset'
  | 'per-try-timeout'
  | 'gateway-error'
  | 'rate-limited'
  | 'server-error'
  /** 401/403: the provider refused the key. */
  | 'auth-refused'
  /** 404: the provider does not have the model. */
  | 'not-found'
  /** The prompt is longer than the model's context window. */
  | 'context-length'
  | 'client-error'
  | 'canceled'
  | 'none';

export interface ErrorInfo {
  code: string;
  status: number;
  message: string;
  origin: ErrorOrigin;
  errorClass: ErrorClass;
  /** The same key may be tried again after a back-off (derived from the class's row of RETRY_POLICY; informative). */
  retryable: boolean;
  /** Another route may be tried (derived from the class's row of RETRY_POLICY; informative). */
  fallbackAllowed: boolean;
  /** The field of the request at fault, when there is one (OpenAI's `param`). */
  param?: string;
  upstreamStatus?: number;
  provider?: string;
  endpoint?: string;
  /** Seconds the caller should wait, when known (429). */
  retryAfterSeconds?: number;
}

export interface GatewayErrorInit {
  status: number;
  origin?: ErrorOrigin;
  errorClass?: ErrorClass;
  param?: string;
  upstreamStatus?: number;
  provider?: string;
  endpoint?: string;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class GatewayError extends Error implements ErrorInfo {
  readonly code: string;
  readonly status: number;
  readonly origin: ErrorOrigin;
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;
  readonly fallbackAllowed: boolean;
  readonly param: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly provider: string | undefined;
  readonly endpoint: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, init: GatewayErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = init.status;
    this.origin = init.origin ?? 'gateway';
    this.errorClass = init.errorClass ?? 'none';
    this.param = init.param;
    this.upstreamStatus = init.upstreamStatus;
    const rule = retryRuleOf(this);
    this.retryable = rule.sameKey !== 'no';
    this.fallbackAllowed = rule.fallback !== 'none';
    this.provider = init.provider;
    this.endpoint = init.endpoint;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** The codes in use, so every surface can map them to its dialect's vocabulary. */
export const ErrorCode = {
  malformedJson: 'SWY_ERR_REQUEST_MALFORMED_JSON',
  invalidRequest: 'SWY_ERR_REQUEST_INVALID',
  bodyTooLarge: 'SWY_ERR_REQUEST_TOO_LARGE',
  routeNotFound: 'SWY_ERR_REQUEST_ROUTE_NOT_FOUND',
  methodNotAllowed: 'SWY_ERR_REQUEST_METHOD_NOT_ALLOWED',
  unsupportedMediaType: 'SWY_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
  hostNotAllowed: 'SWY_ERR_REQUEST_HOST_NOT_ALLOWED',
  originNotAllowed: 'SWY_ERR_REQUEST_ORIGIN_NOT_ALLOWED',
  mediaFetch: 'SWY_ERR_REQUEST_MEDIA_FETCH',
  modelNotFound: 'SWY_ERR_ROUTING_MODEL_NOT_FOUND',
  unsupportedOperation: 'SWY_ERR_ROUTING_UNSUPPORTED_OPERATION',
  coolingDown: 'SWY_ERR_ROUTING_COOLING_DOWN',
  retryBudget: 'SWY_ERR_ROUTING_RETRY_BUDGET',
  invalidKey: 'SWY_ERR_AUTH_INVALID_KEY',
  missingKey: 'SWY_ERR_AUTH_MISSING_KEY',
  keyDisabled: 'SWY_ERR_AUTH_KEY_DISABLED',
  keyExpired: 'SWY_ERR_AUTH_KEY_EXPIRED',
  /** The management API refused the caller (a client key, or no admin keys and not loopback). */
  forbidden: 'SWY_ERR_AUTH_FORBIDDEN',
  /** Too many failed admin attempts from one address. */
  authThrottled: 'SWY_ERR_AUTH_THROTTLED',
  /** A management change that contradicts the stored state (a team that keys still use). */
  conflict: 'SWY_ERR_REQUEST_CONFLICT',
  keyStoreUnavailable: 'SWY_ERR_GATEWAY_KEY_STORE_UNAVAILABLE',
  modelNotAllowed: 'SWY_ERR_AUTH_MODEL_NOT_ALLOWED',
  rateLimitExceeded: 'SWY_ERR_LIMIT_RATE_EXCEEDED',
  budgetExceeded: 'SWY_ERR_LIMIT_BUDGET_EXCEEDED',
  limitsUnavailable: 'SWY_ERR_LIMIT_STORE_UNAVAILABLE',
  connectFailure: 'SWY_ERR_UPSTREAM_CONNECT_FAILURE',
  connectTimeout: 'SWY_ERR_UPSTREAM_CONNECT_TIMEOUT',
  firstByteTimeout: 'SWY_ERR_UPSTREAM_FIRST_BYTE_TIMEOUT',
  idleTimeout: 'SWY_ERR_UPSTREAM_IDLE_TIMEOUT',
  totalTimeout: 'SWY_ERR_UPSTREAM_TOTAL_TIMEOUT',
  bodyTimeout: 'SWY_ERR_UPSTREAM_BODY_TIMEOUT',
  upstreamReset: 'SWY_ERR_UPSTREAM_RESET',
  upstreamStatus: 'SWY_ERR_UPSTREAM_STATUS',
  contextLength: 'SWY_ERR_UPSTREAM_CONTEXT_LENGTH',
  upstreamProtocol: 'SWY_ERR_UPSTREAM_PROTOCOL',
  canceled: 'SWY_ERR_DOWNSTREAM_CANCELED',
  overloaded: 'SWY_ERR_GATEWAY_OVERLOADED',
  shuttingDown: 'SWY_ERR_GATEWAY_SHUTTING_DOWN',
  usageUnavailable: 'SWY_ERR_GATEWAY_USAGE_UNAVAILABLE',
  internal: 'SWY_ERR_GATEWAY_INTERNAL',
  /** A plugin refused the request (`throw ctx.reject(status, message)`, a Lua `reject`). */
  pluginRejected: 'SWY_ERR_PLUGIN_REJECTED',
  /** A plugin's hook threw, under `on_error: closed`. */
  pluginFailed: 'SWY_ERR_PLUGIN_FAILED',
  /** A plugin's hook ran past its time budget (`closed`), or never returned and was interrupted. */
  pluginTimeout: 'SWY_ERR_PLUGIN_TIMEOUT',
  /** The built-in content-guard refused a prompt or stopped an answer (a plugin's own code, `ctx.reject(…, 'content_blocked')`). */
  pluginContentBlocked: 'SWY_ERR_PLUGIN_CONTENT_BLOCKED',
  /** The built-in redact (`mode: block`) refused a prompt with sensitive data in it. */
  pluginSensitiveData: 'SWY_ERR_PLUGIN_SENSITIVE_DATA',
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The caller's request is refused (400), naming the field at fault when there is one: what every
 * surface decoder and every provider encoder throws for a request it cannot carry.
 */
export function invalidRequest(message: string, param?: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', ...(param !== undefined ? { param } : {}) });
}
