// Upstream error answers of a Responses API (OpenAI's error shape) → gateway errors.
import type { GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';

type Json = Record<string, any>;

export function decodeErrorBody(parsed: Json): { message?: string; code?: string } {
  const error = parsed?.error;
  if (typeof error === 'string') return { message: error };
  if (error !== null && typeof error === 'object') {
    return {
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
    };
  }
  return typeof parsed?.message === 'string' ? { message: parsed.message } : {};
}

export function decodeResponsesError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError {
  let message: string | undefined;
  let code: string | undefined;
  try {
    const decoded = decodeErrorBody(JSON.parse(body.toString('utf8')) as Json);
    message = decoded.message;
    code = decoded.code;
  } catch {
    // not JSON
  }
  return classifyUpstreamError(status, message ?? (body.toString('utf8').slice(0, 500) || `HTTP ${status}`), code, provider, headers);
}
