// What went wrong in a Gemini CLI turn, as the gateway's errors. The CLI reports an upstream
// failure as a JSON-RPC error whose code is the HTTP status (429, 500, …) and whose message is the
// upstream's message or its whole JSON error body; its own failures use JSON-RPC codes.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { isObject, stringFrom } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import { JsonRpcError } from '../json-rpc.ts';
import { upstreamStatusError } from '../upstream-status.ts';

/** The CLI's own wording of a 429: "… Suggested retry after 7s." */
const RETRY_AFTER = /retry (?:after|in) (\d+(?:\.\d+)?)\s*s/i;

/** A failed `session/prompt` (or `session/new`), as the error the caller gets. */
export function promptError(failure: unknown, provider: string, secrets: readonly string[]): GatewayError {
  if (!(failure instanceof JsonRpcError)) {
    const message = failure instanceof Error ? failure.message : String(failure);
    return cliStopped(provider, redactText(message, secrets));
  }
  const message = redactText(upstreamMessage(failure.message), secrets);
  const code = failure.code;
  if (code >= 400 && code <= 599) return statusError(code, message, provider);
  if (code === -32000) {
    // session/new could not authenticate (no login, no API key)
    return new GatewayError(ErrorCode.invalidKey, `Gemini CLI (provider '${provider}') could not authenticate: ${message}. Log in by running \`gemini\` once, or set GEMINI_API_KEY in the provider's env.`, {
      status: 401, origin: 'upstream', errorClass: 'auth-refused', provider,
    });
  }
  const details = isObject(failure.data) ? stringFrom(failure.data.details) : undefined;
  return new GatewayError(ErrorCode.upstreamProtocol, `Gemini CLI (provider '${provider}') refused the request: ${message}${details !== undefined ? ` (${redactText(details, secrets)})` : ''}`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider,
  });
}

/** An upstream status the CLI passed on. */
export function statusError(status: number, message: string, provider: string): GatewayError {
  const retryAfter = status === 429 ? RETRY_AFTER.exec(message) : null;
  return upstreamStatusError(provider, `Provider '${provider}' (Gemini CLI) answered ${status}: ${message}`, status, message, retryAfter !== null ? Math.ceil(Number(retryAfter[1])) : undefined);
}

/** The CLI ended (crashed, was killed, could not start) while a turn needed it. */
export function cliStopped(provider: string, detail: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamReset, `Gemini CLI (provider '${provider}') stopped before the answer was complete: ${detail}`, {
    status: 502, origin: 'upstream', errorClass: 'reset', provider,
  });
}

/** A turn that ended in a way that is not an answer (see the driver's stop reasons). */
export function turnFailed(provider: string, status: number, errorClass: 'server-error' | 'context-length' | 'client-error', message: string): GatewayError {
  return new GatewayError(errorClass === 'context-length' ? ErrorCode.contextLength : ErrorCode.upstreamProtocol, `Gemini CLI (provider '${provider}'): ${message}`, {
    status, origin: 'upstream', errorClass, provider,
  });
}

/** The CLI said nothing about a turn for too long. */
export function turnSilent(provider: string, silentMs: number): GatewayError {
  return new GatewayError(ErrorCode.idleTimeout, `Gemini CLI (provider '${provider}') sent nothing for ${Math.round(silentMs / 1000)} s; the turn was cancelled.`, {
    status: 504, origin: 'upstream', errorClass: 'per-try-timeout', provider,
  });
}

/** The driver is closing. */
export function driverClosed(provider: string): GatewayError {
  return new GatewayError(ErrorCode.shuttingDown, `Provider '${provider}' (Gemini CLI) is shutting down.`, { status: 503, origin: 'gateway', errorClass: 'server-error', provider });
}

/** More turns at once than a worker takes. */
export function overloaded(provider: string, limit: number): GatewayError {
  return new GatewayError(ErrorCode.overloaded, `Provider '${provider}' (Gemini CLI) is running ${limit} turns already.`, { status: 503, origin: 'gateway', errorClass: 'server-error', provider });
}

/**
 * The upstream's own message: the CLI passes some errors on as the upstream's whole JSON body
 * (`{"error":{"code":500,"message":"…"}}`).
 */
function upstreamMessage(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const body: unknown = JSON.parse(message);
    const error = isObject(body) && isObject(body.error) ? body.error : undefined;
    return stringFrom(error?.message) ?? message;
  } catch {
    return message;
  }
}
