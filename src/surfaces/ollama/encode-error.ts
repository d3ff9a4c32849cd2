// Errors in Ollama's shape: `{"error":"message"}` with the HTTP status; in a stream, the same
// object on its own line (the `ollama` clients raise it as an error).
import type { WireResponse } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';

export function ollamaErrorBody(error: ErrorInfo): string {
  return JSON.stringify({ error: error.message });
}

export function encodeOllamaError(error: ErrorInfo): WireResponse {
  const headers = ['content-type', 'application/json; charset=utf-8', 'x-switchyard-error-code', error.code];
  if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(Math.ceil(error.retryAfterSeconds)));
  return { status: error.status, headers, body: ollamaErrorBody(error) };
}

export function encodeOllamaStreamError(error: ErrorInfo): Buffer {
  return Buffer.from(`${ollamaErrorBody(error)}\n`);
}
