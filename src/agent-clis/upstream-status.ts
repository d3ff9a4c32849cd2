// A model vendor's error status as a CLI passes it on (Claude Code's `api_error_status`, Gemini
// CLI's JSON-RPC error data, opencode's `APIError`), classified as the gateway's upstream classifier
// does for HTTP providers (src/upstream/classify.ts, which agent-clis may not import), so retries,
// fallbacks and cooldowns treat a CLI like any other provider.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';

/** The vendors' ways of saying the prompt is too long (Anthropic, OpenAI, Gemini). */
const CONTEXT_LENGTH = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|reduce the length|input token count.*exceeds|token limit/i;

/**
 * `text`: the whole message shown to the caller; `message`: the vendor's own, read for what it
 * says. 429 (and Anthropic's 529, overloaded) → rate-limited; 5xx → 502 (504 stays 504); 408 →
 * 504; a too-long prompt → context-length; 401/403 → auth-refused; 404 → not-found.
 */
export function upstreamStatusError(provider: string, text: string, status: number, message: string, retryAfterSeconds: number | undefined): GatewayError {
  if (status === 429 || status === 529) {
    return new GatewayError(ErrorCode.upstreamStatus, text, {
      status: 429, origin: 'upstream', errorClass: 'rate-limited', upstreamStatus: status, provider,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
  if (status >= 500) {
    return new GatewayError(ErrorCode.upstreamStatus, text, { status: status === 504 ? 504 : 502, origin: 'upstream', errorClass: 'server-error', upstreamStatus: status, provider });
  }
  if (status === 408) return new GatewayError(ErrorCode.upstreamStatus, text, { status: 504, origin: 'upstream', errorClass: 'per-try-timeout', upstreamStatus: status, provider });
  const shown = status >= 400 ? status : 502;
  if (CONTEXT_LENGTH.test(message)) {
    return new GatewayError(ErrorCode.contextLength, text, { status: shown === 502 ? 400 : shown, origin: 'upstream', errorClass: 'context-length', upstreamStatus: status, provider });
  }
  const errorClass = status === 401 || status === 403 ? 'auth-refused' : status === 404 ? 'not-found' : 'client-error';
  return new GatewayError(ErrorCode.upstreamStatus, text, { status: shown, origin: 'upstream', errorClass, upstreamStatus: status, provider });
}
