// What opencode reports as failure, as the gateway's error info: the session errors of its event
// stream (`session.error`), its retry notices (`session.status {type:"retry"}`, sent when the model
// vendor failed in a way opencode would retry on its own), its HTTP API's own refusals, and the
// server process itself failing.
import { ErrorCode, GatewayError, type ErrorInfo } from '../../canonical/errors.ts';
import { countFrom, finiteFrom, objectFrom, stringFrom, textFrom } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import { upstreamStatusError } from '../upstream-status.ts';

/**
 * opencode's own retry rule (its `SessionRetry`) treats these messages as a rate limit or an
 * exhausted quota; a retry notice carries only the vendor's message, not its status.
 */
const RATE_LIMITED = /rate.?limit|too many requests|\b429\b|quota|resource.?exhausted|usage limit|free usage exceeded/i;
const MODEL_NOT_FOUND = /^Model not found/i;

function info(error: GatewayError): ErrorInfo {
  return error;
}

/** Headers from `responseHeaders` (a string map), for Retry-After. */
function retryAfterFrom(headers: Record<string, unknown> | undefined): number | undefined {
  if (headers === undefined) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (typeof value !== 'string') continue;
    if (lower === 'retry-after-ms') {
      const ms = Number(value);
      if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
    }
    if (lower === 'retry-after') {
      const seconds = Number(value);
      if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
      const at = Date.parse(value);
      if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
    }
  }
  return undefined;
}

/** A vendor's answer with a status, as opencode passes it on (`APIError`). */
export function vendorError(provider: string, status: number, message: string, headers: Record<string, unknown> | undefined): ErrorInfo {
  const text = `opencode's model provider answered ${status} (provider '${provider}'): ${message}`;
  return info(upstreamStatusError(provider, text, status, message, status === 429 || status === 529 ? retryAfterFrom(headers) : undefined));
}

/**
 * A `session.error` event's error (`{name, data}`), or undefined for an abort the gateway asked
 * for itself (`MessageAbortedError` when `aborted`).
 */
export function sessionError(provider: string, error: unknown, aborted: boolean): ErrorInfo | undefined {
  const body = objectFrom(error);
  const name = textFrom(body?.name, 'Error');
  const data = objectFrom(body?.data);
  const message = textFrom(data?.message, name);
  switch (name) {
    case 'APIError': {
      const status = countFrom(data?.statusCode);
      if (status !== undefined) return vendorError(provider, status, message, objectFrom(data?.responseHeaders));
      return info(new GatewayError(ErrorCode.upstreamStatus, `opencode's model provider failed (provider '${provider}'): ${message}`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider }));
    }
    case 'ProviderAuthError':
      return info(new GatewayError(ErrorCode.upstreamStatus,
        `opencode has no working login for its provider '${textFrom(data?.providerID, '?')}' (provider '${provider}'): ${message}. Run \`opencode auth login\` as the user the gateway runs as.`,
        { status: 401, origin: 'upstream', errorClass: 'auth-refused', upstreamStatus: 401, provider }));
    case 'ContextOverflowError':
      return info(new GatewayError(ErrorCode.contextLength, `The prompt is longer than the model's context window (provider '${provider}'): ${message}`, { status: 400, origin: 'upstream', errorClass: 'context-length', provider }));
    case 'MessageOutputLengthError':
      return info(new GatewayError(ErrorCode.upstreamStatus, `The answer reached the model's output limit before any text (provider '${provider}')`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider }));
    case 'MessageAbortedError':
      if (aborted) return undefined;
      return info(new GatewayError(ErrorCode.upstreamReset, `opencode aborted the answer (provider '${provider}'): ${message}`, { status: 502, origin: 'upstream', errorClass: 'reset', provider }));
    case 'ContentFilterError':
      return info(new GatewayError(ErrorCode.upstreamStatus, `The model's provider filtered the answer (provider '${provider}'): ${message}`, { status: 400, origin: 'upstream', errorClass: 'client-error', provider }));
    default:
      if (MODEL_NOT_FOUND.test(message)) {
        return info(new GatewayError(ErrorCode.modelNotFound, `opencode does not know the model (provider '${provider}'): ${message}`, { status: 404, origin: 'upstream', errorClass: 'not-found', upstreamStatus: 404, provider }));
      }
      return info(new GatewayError(ErrorCode.upstreamStatus, `opencode failed (provider '${provider}'): ${name}: ${message}`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider }));
  }
}

/**
 * A retry notice: opencode met an error it would retry by itself (a 429, a 5xx, a dropped
 * connection). The gateway has its own retry, fallback and cooldown policy, so the first failure
 * is reported rather than waited out.
 */
export function retryNotice(provider: string, status: unknown, now: number): ErrorInfo {
  const notice = objectFrom(status);
  const message = textFrom(notice?.message, 'the model provider failed');
  const action = objectFrom(notice?.action);
  const reason = stringFrom(action?.reason);
  const next = finiteFrom(notice?.next);
  if (RATE_LIMITED.test(message) || reason === 'account_rate_limit' || reason === 'free_tier_limit') {
    const retryAfter = next !== undefined && next > now ? Math.ceil((next - now) / 1000) : undefined;
    return info(new GatewayError(ErrorCode.upstreamStatus, `opencode's model provider is rate limited (provider '${provider}'): ${message}`, {
      status: 429, origin: 'upstream', errorClass: 'rate-limited', upstreamStatus: 429, provider,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    }));
  }
  return info(new GatewayError(ErrorCode.upstreamStatus, `opencode's model provider failed (provider '${provider}'): ${message}`, { status: 502, origin: 'upstream', errorClass: 'server-error', provider }));
}

/** The opencode server answered an API call with a status the driver cannot go on from. */
export function serverRefused(provider: string, what: string, status: number, body: string): ErrorInfo {
  const detail = body.length > 300 ? `${body.slice(0, 300)}…` : body;
  if (status === 401 || status === 403) {
    return info(new GatewayError(ErrorCode.connectFailure,
      `The opencode server refused the gateway's credentials (provider '${provider}', ${what}): set OPENCODE_SERVER_PASSWORD (and OPENCODE_SERVER_USERNAME) in the provider's env to the server's`,
      { status: 502, origin: 'upstream', errorClass: 'connect-failure', upstreamStatus: status, provider }));
  }
  if (status === 400) {
    return info(new GatewayError(ErrorCode.invalidRequest, `opencode refused the request (provider '${provider}', ${what}): ${detail}`, { status: 400, origin: 'upstream', errorClass: 'client-error', upstreamStatus: status, provider }));
  }
  return info(new GatewayError(ErrorCode.upstreamProtocol, `The opencode server answered ${status} (provider '${provider}', ${what}): ${detail}`, { status: 502, origin: 'upstream', errorClass: 'gateway-error', upstreamStatus: status, provider }));
}

/** The server could not be reached or started. */
export function serverUnavailable(provider: string, message: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.connectFailure, `The opencode server is not available (provider '${provider}'): ${message}`, { status: 502, origin: 'upstream', errorClass: 'connect-failure', provider }));
}

/** The server went away while a turn ran (the process exited, or its event stream ended). */
export function serverLost(provider: string, message: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.upstreamReset, `The opencode server went away during the answer (provider '${provider}'): ${message}`, { status: 502, origin: 'upstream', errorClass: 'reset', provider }));
}

/** The model asked to run one of opencode's tools in `llm` mode and gave no text. */
export function toolRefused(provider: string, tool: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.upstreamProtocol,
    `The model answered with a call to opencode's tool '${tool}' and no text; tools are off for provider '${provider}' (mode: llm), so nothing ran`,
    { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider }));
}

/** In `agent` mode opencode asked to be allowed something, was refused, and gave no text. */
export function permissionRefused(provider: string, permission: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.upstreamProtocol,
    `opencode asked for approval to use '${permission}', which the gateway never gives on a caller's behalf, and ended without an answer (provider '${provider}'); allow it in opencode's own permission config if it should run`,
    { status: 502, origin: 'upstream', errorClass: 'gateway-error', provider }));
}

/** The caller's request holds something opencode cannot be given safely. */
export function refusedInput(provider: string, message: string, param?: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.invalidRequest, `${message} (provider '${provider}', type opencode)`, { status: 400, origin: 'downstream', errorClass: 'client-error', provider, ...(param !== undefined ? { param } : {}) }));
}

export function shuttingDown(provider: string): ErrorInfo {
  return info(new GatewayError(ErrorCode.shuttingDown, `The opencode provider '${provider}' is shutting down`, { status: 503, origin: 'gateway', errorClass: 'gateway-error', provider }));
}

/** stderr text fit for a message: secrets replaced, the last lines only. */
export function stderrShown(text: string, secrets: readonly string[]): string {
  const tail = text.length > 1000 ? text.slice(-1000) : text;
  return redactText(tail, secrets).trim();
}
