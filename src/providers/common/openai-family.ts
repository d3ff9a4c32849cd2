// What the two OpenAI dialects (Chat Completions servers and the Responses API) share: the error
// body shape and the `GET /models` list.
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

/** An upstream error answer in OpenAI's shape → a classified gateway error. */
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

/** Model ids from `GET /models` (`{data: [{id}]}`). */
export function decodeOpenAIModelList(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const ids: string[] = [];
  for (const entry of data) {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && id.length > 0 && id.length <= 256) ids.push(id);
  }
  return ids;
}
