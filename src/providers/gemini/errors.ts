// Gemini's error answers → gateway errors. Google's shape is {"error":{"code","message","status",
// "details"}} (inside an array on a JSON-array stream); a 429's wait is in RetryInfo.retryDelay.
import type { GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';
import { objectFrom } from '../../util/json-value.ts';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const CONTEXT_LENGTH = /input token count.*exceeds|exceeds the maximum number of tokens/i;

export function decodeGeminiErrorBody(parsed: unknown): { message?: string; status?: string; retryDelaySeconds?: number } {
  const error = objectFrom(objectFrom(Array.isArray(parsed) ? parsed[0] : parsed)?.error);
  if (error === undefined) return {};
  let retryDelaySeconds: number | undefined;
  if (Array.isArray(error.details)) {
    for (const detail of error.details) {
      const retryDelay = objectFrom(detail)?.retryDelay;
      const match = typeof retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(retryDelay) : null;
      if (match !== null) retryDelaySeconds = Number(match[1]);
    }
  }
  return {
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
    ...(typeof error.status === 'string' ? { status: error.status } : {}),
    ...(retryDelaySeconds !== undefined ? { retryDelaySeconds } : {}),
  };
}

export function decodeGeminiError(status: number, body: Buffer, headers: Headers, provider: string): GatewayError {
  const text = body.toString('utf8');
  let decoded: ReturnType<typeof decodeGeminiErrorBody> = {};
  try {
    decoded = decodeGeminiErrorBody(JSON.parse(text));
  } catch {
    // not JSON: the text itself is the message
  }
  const message = decoded.message ?? (text.slice(0, 500) || `HTTP ${status}`);
  const code = CONTEXT_LENGTH.test(message) ? 'context_length_exceeded' : decoded.status;
  const withRetry = headers['retry-after'] === undefined && decoded.retryDelaySeconds !== undefined
    ? { ...headers, 'retry-after': String(Math.ceil(decoded.retryDelaySeconds)) }
    : headers;
  return classifyUpstreamError(status, message, code, provider, withRetry);
}
