// Upstream error answers of OpenAI-compatible servers → gateway errors, classified for retry,
// fallback and cooldown (issue: routing) and shown with the right status.
import type { GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';

type Json = Record<string, any>;

export function decodeOpenAIErrorBody(parsed: Json): { message?: string; code?: string; type?: string } {
  const error = parsed?.error;
  if (typeof error === 'string') return { message: error };
  if (error !== null && typeof error === 'object') {
    return {
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      ...(typeof error.type === 'string' ? { type: error.type } : {}),
    };
  }
  return typeof parsed?.message === 'string' ? { message: parsed.message } : {};
}

export function decodeOpenAIError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError {
  let message: string | undefined;
  let code: string | undefined;
  try {
    const decoded = decodeOpenAIErrorBody(JSON.parse(body.toString('utf8')) as Json);
    message = decoded.message;
    code = decoded.code;
  } catch {
    // not JSON
  }
  return classifyUpstreamError(status, message ?? (body.toString('utf8').slice(0, 500) || `HTTP ${status}`), code, provider, headers);
}
