// Classifies transport failures (undici and socket errors) into gateway errors, Envoy-style:
// timeouts show as 504, connection failures as 502, never as 500.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';

export type TimeoutKind = 'connect' | 'first-byte' | 'idle' | 'total' | 'body';

const timeoutCodes: Record<TimeoutKind, string> = {
  connect: ErrorCode.connectTimeout,
  'first-byte': ErrorCode.firstByteTimeout,
  idle: ErrorCode.idleTimeout,
  total: ErrorCode.totalTimeout,
  body: ErrorCode.bodyTimeout,
};

const timeoutWhat: Record<TimeoutKind, string> = {
  connect: 'connecting to',
  'first-byte': 'waiting for the response from',
  idle: 'waiting for more data from',
  total: 'the whole request to',
  body: 'receiving the whole body of the answer from',
};

export function timeoutError(kind: TimeoutKind, provider: string, limitMs: number, cause?: unknown): GatewayError {
  return new GatewayError(timeoutCodes[kind], `Upstream timeout: ${limitMs} ms passed ${timeoutWhat[kind]} provider '${provider}'.`, {
    status: 504,
    origin: 'upstream',
    errorClass: kind === 'connect' ? 'connect-failure' : 'per-try-timeout',
    provider,
    cause,
  });
}

export function canceledError(): GatewayError {
  return new GatewayError(ErrorCode.canceled, 'The client closed the connection.', {
    status: 499,
    origin: 'downstream',
    errorClass: 'canceled',
  });
}

/**
 * A stream that stopped without its terminal event: class `reset`, as a connection closed
 * mid-answer is, whoever notices it — a provider's stream decoder (which names the `terminal` it
 * missed) or the exchange (which names the provider). One factory, so both are handled alike.
 */
export function incompleteStreamError(terminal: string | undefined, provider?: string): GatewayError {
  const who = provider === undefined ? 'The provider' : `Provider '${provider}'`;
  return new GatewayError(ErrorCode.upstreamProtocol, `${who} ended the stream before it was complete${terminal === undefined ? '' : ` (no ${terminal})`}.`, {
    status: 502, origin: 'upstream', errorClass: 'reset', ...(provider !== undefined ? { provider } : {}),
  });
}

interface ErrorLike { code?: string; name?: string; message?: string }

/** Maps an error raised by undici or the socket to a GatewayError. `received` = response bytes seen. */
export function classifyTransportError(error: unknown, provider: string, timeouts: { connectMs: number; firstByteMs: number; idleMs: number }, received: boolean): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as ErrorLike | undefined)?.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return timeoutError('connect', provider, timeouts.connectMs, error);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return timeoutError('first-byte', provider, timeouts.firstByteMs, error);
    case 'UND_ERR_BODY_TIMEOUT':
      return timeoutError('idle', provider, timeouts.idleMs, error);
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new GatewayError(ErrorCode.connectFailure, `Could not connect to provider '${provider}' (${code}).`, {
        status: 502, origin: 'upstream', errorClass: 'connect-failure', provider, cause: error,
      });
    default: {
      const detail = code !== '' ? code : ((error as ErrorLike | undefined)?.message ?? 'unknown error');
      const message = received
        ? `Provider '${provider}' closed the connection mid-response (${detail}).`
        : `Provider '${provider}' closed the connection before responding (${detail}).`;
      return new GatewayError(ErrorCode.upstreamReset, message, {
        status: 502, origin: 'upstream', errorClass: 'reset', provider, cause: error,
      });
    }
  }
}
