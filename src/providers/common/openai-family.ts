// What the two OpenAI dialects (Chat Completions servers and the Responses API) share: the error
// body shape (their `GET /models` list is common/model-list.ts, Anthropic's shape too).
import type { GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';
import { isObject, objectFrom } from '../../util/json-value.ts';

/** The message, code and type of an OpenAI-shaped error body (`{error: {message, code, type}}`, `{error: "…"}` or `{message}`). */
export function decodeOpenAIErrorBody(parsed: unknown): { message?: string; code?: string; type?: string } {
  const body = objectFrom(parsed);
  const error = body?.error;
  if (typeof error === 'string') return { message: error };
  if (isObject(error)) {
    return {
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      ...(typeof error.type === 'string' ? { type: error.type } : {}),
    };
  }
  if (Array.isArray(error)) return {}; // an error given as a list says nothing readable
  return typeof body?.message === 'string' ? { message: body.message } : {};
}

/** An upstream error answer in OpenAI's shape → a classified gateway error. */
export function decodeOpenAIError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError {
  let message: string | undefined;
  let code: string | undefined;
  try {
    const decoded = decodeOpenAIErrorBody(JSON.parse(body.toString('utf8')));
    message = decoded.message;
    code = decoded.code;
  } catch {
    // not JSON
  }
  return classifyUpstreamError(status, message ?? (body.toString('utf8').slice(0, 500) || `HTTP ${status}`), code, provider, headers);
}
