// Codex's failures as the gateway's errors. A failed turn carries `codexErrorInfo`, Codex's own
// classification (with the upstream's HTTP status where there was one); the policy is the one every
// HTTP provider follows (src/upstream/classify.ts): 429 rate-limited with a retry-after, 5xx a
// server error another route may take, 401/403 the provider's login refused, 404 an unknown model.
import { ErrorCode, GatewayError, type ErrorClass } from '../../canonical/errors.ts';
import { finiteFrom, isObject, objectFrom, stringFrom, type JsonObject } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';

/**
 * The account's rate-limit windows, merged from `account/rateLimits/updated` (sparse updates: a
 * missing window keeps what was seen before). Read when a turn fails for a limit, for the time the
 * window resets.
 */
export class RateLimitBook {
  private primary: JsonObject | undefined = undefined;
  private secondary: JsonObject | undefined = undefined;
  private reached = false;

  update(params: unknown): void {
    const limits = objectFrom(objectFrom(params)?.rateLimits);
    if (limits === undefined) return;
    const primary = objectFrom(limits.primary);
    const secondary = objectFrom(limits.secondary);
    if (primary !== undefined) this.primary = primary;
    if (secondary !== undefined) this.secondary = secondary;
    if (limits.rateLimitReachedType !== undefined && limits.rateLimitReachedType !== null) this.reached = true;
  }

  /** Seconds until the exhausted window resets (the later one if both are), when one is known. */
  retryAfterSeconds(now = Date.now()): number | undefined {
    let seconds: number | undefined;
    for (const window of [this.primary, this.secondary]) {
      if (window === undefined) continue;
      const used = finiteFrom(window.usedPercent);
      const resetsAt = finiteFrom(window.resetsAt);
      if (resetsAt === undefined || (used !== undefined && used < 100 && !this.reached)) continue;
      const left = Math.max(0, Math.ceil(resetsAt - now / 1000));
      seconds = seconds === undefined ? left : Math.max(seconds, left);
    }
    return seconds;
  }
}

function error(provider: string, message: string, status: number, errorClass: ErrorClass, code: string = ErrorCode.upstreamStatus, extra: { upstreamStatus?: number; retryAfterSeconds?: number } = {}): GatewayError {
  return new GatewayError(code, `Provider '${provider}' (Codex): ${message}`, { status, origin: 'upstream', errorClass, provider, ...extra });
}

/** The upstream's message inside Codex's text, which is sometimes the upstream's whole JSON error body. */
function readableMessage(text: string): string {
  if (!text.startsWith('{')) return text;
  try {
    const body = JSON.parse(text) as unknown;
    return stringFrom(objectFrom(objectFrom(body)?.error)?.message) ?? stringFrom(objectFrom(body)?.message) ?? text;
  } catch {
    return text;
  }
}

function fromHttpStatus(provider: string, message: string, status: number | undefined, limits: RateLimitBook, unknownClass: ErrorClass): GatewayError {
  if (status === undefined) return error(provider, message, 502, unknownClass);
  if (status === 429) {
    const retryAfter = limits.retryAfterSeconds();
    return error(provider, message, 429, 'rate-limited', ErrorCode.upstreamStatus, { upstreamStatus: status, ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}) });
  }
  if (status >= 500) return error(provider, message, status === 504 ? 504 : 502, 'server-error', ErrorCode.upstreamStatus, { upstreamStatus: status });
  const errorClass: ErrorClass = status === 401 || status === 403 ? 'auth-refused' : status === 404 ? 'not-found' : 'client-error';
  return error(provider, message, status, errorClass, ErrorCode.upstreamStatus, { upstreamStatus: status });
}

/** A failed turn's `error` ({message, codexErrorInfo, additionalDetails}) as the gateway's error. */
export function turnError(provider: string, turnError: unknown, limits: RateLimitBook): GatewayError {
  const details = objectFrom(turnError);
  const raw = stringFrom(details?.message) ?? 'the turn failed without a message';
  const extra = stringFrom(details?.additionalDetails);
  const message = extra === undefined || extra === '' ? readableMessage(raw) : `${readableMessage(raw)} (${extra})`;
  const info = details?.codexErrorInfo;
  if (isObject(info)) {
    // {httpConnectionFailed: {httpStatusCode}}, {responseStreamDisconnected: …}, {responseTooManyFailedAttempts: …}
    const [kind, value] = Object.entries(info)[0] ?? ['other', undefined];
    const status = finiteFrom(objectFrom(value)?.httpStatusCode);
    return fromHttpStatus(provider, message, status, limits, kind === 'responseStreamDisconnected' ? 'reset' : 'connect-failure');
  }
  switch (info) {
    case 'usageLimitExceeded':
    case 'rateLimitExceeded':
      return fromHttpStatus(provider, message, 429, limits, 'rate-limited');
    case 'contextWindowExceeded':
      return error(provider, message, 400, 'context-length', ErrorCode.contextLength);
    case 'unauthorized':
      return error(provider, `${message} — is Codex logged in (\`codex login\`)?`, 401, 'auth-refused');
    case 'modelNotFound':
      return error(provider, message, 404, 'not-found');
    case 'badRequest':
      return error(provider, message, 400, 'client-error');
    case 'serverOverloaded':
      return error(provider, message, 503, 'server-error');
    case 'internalServerError':
      return error(provider, message, 502, 'server-error');
    default:
      return error(provider, message, 502, 'server-error');
  }
}

/** Codex answered a request of ours with a JSON-RPC error (or the request could not be sent). */
export function protocolError(provider: string, what: string, cause: unknown): GatewayError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' (Codex): ${what} failed: ${message}`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider, cause,
  });
}

/** The process could not be started (not installed, not executable). */
export function startError(provider: string, command: string, cause: Error): GatewayError {
  const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
  const message = missing ? `the command '${command}' was not found; install Codex (npm i -g @openai/codex) or set the provider's command` : `'${command}' could not be started: ${cause.message}`;
  return new GatewayError(ErrorCode.connectFailure, `Provider '${provider}' (Codex): ${message}`, {
    status: 502, origin: 'upstream', errorClass: 'connect-failure', provider, cause,
  });
}

/** The process ended while turns were running (or before it was ready), with the tail of what it printed. */
export function exitError(provider: string, code: number | null, signal: NodeJS.Signals | null, stderrTail: string, secrets: readonly string[]): GatewayError {
  const how = signal !== null ? `was ended by ${signal}` : `exited with code ${code}`;
  const tail = redactText(stderrTail, secrets).slice(-1000);
  return new GatewayError(ErrorCode.upstreamReset, `Provider '${provider}' (Codex): the process ${how}${tail.length > 0 ? `: ${tail}` : ''}`, {
    status: 502, origin: 'upstream', errorClass: 'reset', provider,
  });
}

export function shutdownError(provider: string): GatewayError {
  return new GatewayError(ErrorCode.shuttingDown, `Provider '${provider}' (Codex) was closed while the turn ran.`, {
    status: 503, origin: 'gateway', errorClass: 'server-error', provider,
  });
}

/** Values of the environment that look like secrets, for redacting what the CLI printed. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= 8 && /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(name)) secrets.push(value);
  }
  return secrets;
}
