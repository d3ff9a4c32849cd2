// Model discovery: GET {base_url}/models on the endpoint's own pool, bounded in time (the signal
// covers the whole body) and size.
import { readDecoded } from './content-coding.ts';
import type { Endpoint } from './endpoint.ts';

const DISCOVERY_BODY_LIMIT = 8 * 1024 * 1024;

/** The model list answered with a status other than 2xx (the connectivity test reports it). */
export class ModelListError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export async function fetchModelList(endpoint: Endpoint, path: string, timeoutMs: number, keyIndex = 0): Promise<unknown> {
  return (await requestModelList(endpoint, path, timeoutMs, keyIndex)).body;
}

/** The model list and the status it came with (2xx; any other throws a `ModelListError`). */
export function requestModelList(endpoint: Endpoint, path: string, timeoutMs: number, keyIndex = 0): Promise<{ status: number; body: unknown }> {
  return requestJson(endpoint, 'GET', path, [], undefined, timeoutMs, keyIndex, undefined);
}

/**
 * POSTs a JSON body to the endpoint and reads a JSON answer, bounded like a model list: for the
 * gateway's own small requests (an auto alias's judge).
 */
export function postJson(endpoint: Endpoint, path: string, extraHeaders: readonly string[], body: string, timeoutMs: number, keyIndex = 0, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  return requestJson(endpoint, 'POST', path, ['content-type', 'application/json', ...extraHeaders], body, timeoutMs, keyIndex, signal);
}

/** One request of the gateway's own to an endpoint (its static headers and auth added); a 2xx JSON answer, else a `ModelListError`. */
async function requestJson(endpoint: Endpoint, method: 'GET' | 'POST', path: string, extraHeaders: readonly string[], body: string | undefined, timeoutMs: number, keyIndex: number, signal: AbortSignal | undefined): Promise<{ status: number; body: unknown }> {
  const headers: string[] = ['accept', 'application/json', ...extraHeaders];
  for (const value of endpoint.staticHeaders) headers.push(value);
  endpoint.appendAuth(headers, keyIndex);
  const timeout = AbortSignal.timeout(timeoutMs);
  const response = await endpoint.pool.request({
    origin: endpoint.origin,
    path: endpoint.basePath + path,
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump();
    throw new ModelListError(`${method} ${path} answered ${response.statusCode}`, response.statusCode);
  }
  // identity was asked for (Endpoint); a compressed answer is decoded, its decoded size bounded
  const answer = await readDecoded(response.body, response.headers['content-encoding'], DISCOVERY_BODY_LIMIT);
  if (answer === undefined) throw new Error(`${method} ${path} answered more than ${DISCOVERY_BODY_LIMIT} bytes`);
  return { status: response.statusCode, body: JSON.parse(answer.toString('utf8')) };
}
