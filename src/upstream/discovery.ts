// Model discovery: GET {base_url}/models on the endpoint's own pool, bounded in time and size.
import type { Endpoint } from './endpoint.ts';

const DISCOVERY_BODY_LIMIT = 8 * 1024 * 1024;

export async function fetchModelList(endpoint: Endpoint, path: string, timeoutMs: number, keyIndex = 0): Promise<unknown> {
  const headers: string[] = ['accept', 'application/json'];
  for (const value of endpoint.staticHeaders) headers.push(value);
  endpoint.appendAuth(headers, keyIndex);
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await endpoint.pool.request({
    origin: endpoint.origin,
    path: endpoint.basePath + path,
    method: 'GET',
    headers,
    signal,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump();
    throw new Error(`GET ${path} answered ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > DISCOVERY_BODY_LIMIT) {
      response.body.destroy();
      throw new Error(`GET ${path} answered more than ${DISCOVERY_BODY_LIMIT} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
