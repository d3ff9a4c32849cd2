// Model discovery: GET {base_url}/models on the endpoint's own pool, bounded in time (the signal
// covers the whole body) and size.
import { contentDecoder } from './content-coding.ts';
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
  // identity was asked for (Endpoint); a compressed list is decoded, its decoded size bounded
  const coding = response.headers['content-encoding'];
  const decoder = contentDecoder(coding);
  if (decoder === null) {
    await response.body.dump();
    throw new Error(`GET ${path} answered with Content-Encoding '${String(coding)}', which cannot be decoded`);
  }
  const body: AsyncIterable<unknown> & { destroy(): void } = decoder === undefined ? response.body : response.body.pipe(decoder);
  if (decoder !== undefined) response.body.once('error', (error: Error) => decoder.destroy(error));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > DISCOVERY_BODY_LIMIT) {
      body.destroy();
      response.body.destroy();
      throw new Error(`GET ${path} answered more than ${DISCOVERY_BODY_LIMIT} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
