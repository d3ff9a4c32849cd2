// Ollama error answers (`{"error":"message"}`) → gateway errors, classified for retry, fallback
// and cooldown by the shared policy. Ollama says "not found" for a model it has not pulled.
import type { GatewayError } from '../../canonical/errors.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';
import { objectFrom } from '../../util/json-value.ts';

export function ollamaErrorMessage(body: Buffer): string | undefined {
  try {
    const error = objectFrom(JSON.parse(body.toString('utf8')))?.error;
    if (typeof error === 'string') return error;
    const message = objectFrom(error)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: a proxy in front of Ollama, or plain text
  }
  return undefined;
}

export function decodeOllamaError(status: number, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>, provider: string): GatewayError {
  const message = ollamaErrorMessage(body) ?? (body.toString('utf8').slice(0, 500).trim() || `HTTP ${status}`);
  return classifyUpstreamError(status, message, undefined, provider, headers);
}
