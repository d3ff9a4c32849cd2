// What goes wrong when Claude Code runs a turn, as gateway errors: the upstream's status as
// Claude Code reports it (`api_error_status` of an `is_error` result), a subscription's rate
// limit (`rate_limit_event` rejected), a process that could not start or ended mid-turn, output
// the driver cannot read. Classified as the upstream classifier does for HTTP providers, so
// retries, fallbacks and cooldowns treat a CLI like any other provider.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { upstreamStatusError } from '../upstream-status.ts';


/** The API refused the turn with `status` (Claude Code's `api_error_status`). */
export function apiStatusError(provider: string, status: number, message: string, retryAfterSeconds: number | undefined): GatewayError {
  return upstreamStatusError(provider, `Provider '${provider}' (Claude Code) answered ${status}: ${message}`, status, message, retryAfterSeconds);
}

/** The subscription's quota window is spent (`rate_limit_event` with status `rejected`). */
export function rateLimitedError(provider: string, message: string, retryAfterSeconds: number | undefined): GatewayError {
  return new GatewayError(ErrorCode.upstreamStatus, `Provider '${provider}' (Claude Code) is rate limited: ${message}`, {
    status: 429, origin: 'upstream', errorClass: 'rate-limited', upstreamStatus: 429, provider,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}

/** The turn failed without an API status (`error_max_turns`, `error_during_execution`, …). */
export function turnFailedError(provider: string, message: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamStatus, `Provider '${provider}' (Claude Code) ended the turn with an error: ${message}`, {
    status: 502, origin: 'upstream', errorClass: 'server-error', provider,
  });
}

/** The process could not be started (no such command, not executable). */
export function spawnError(provider: string, command: string, cause: Error): GatewayError {
  const code = (cause as { code?: string }).code;
  return new GatewayError(ErrorCode.connectFailure, `Provider '${provider}': could not start Claude Code (${command}): ${code ?? cause.message}.`, {
    status: 502, origin: 'upstream', errorClass: 'connect-failure', provider, cause,
  });
}

/** The process ended before the turn did. `detail` carries the exit and the stderr tail, redacted. */
export function exitedError(provider: string, detail: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamReset, `Provider '${provider}': Claude Code ended before the turn was complete (${detail}).`, {
    status: 502, origin: 'upstream', errorClass: 'reset', provider,
  });
}

/** Claude Code wrote something the driver cannot read, or refused the driver's own request. */
export function protocolError(provider: string, message: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}': ${message}`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider,
  });
}

/** The caller sent something Claude Code cannot take (audio, a file type it does not read). */
export function unsupportedInputError(provider: string, message: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, `Provider '${provider}' (Claude Code) ${message}`, {
    status: 400, origin: 'downstream', errorClass: 'client-error', provider,
  });
}

/** The driver was closed (config reload, shutdown) while the turn ran. */
export function closedError(provider: string): GatewayError {
  return new GatewayError(ErrorCode.shuttingDown, `Provider '${provider}' was closed while the turn ran.`, {
    status: 503, origin: 'gateway', errorClass: 'server-error', provider,
  });
}
