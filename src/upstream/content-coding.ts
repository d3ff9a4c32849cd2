// Content codings of upstream answers. Every upstream request asks for `accept-encoding: identity`
// (see Endpoint): the gateway reads what it forwards (frame splitting, stream checks, usage
// sniffing) and translates what it does not, neither of which works on compressed bytes, and
// compression on a loopback or datacenter link costs more CPU than it saves. An upstream that
// compresses anyway is decoded here, so nothing past the attempt ever sees compressed bytes and no
// client is sent compressed bytes (with or without a Content-Encoding header). A coding we cannot
// decode is refused with a 502 that names it.
import zlib from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';

/** What every upstream request asks for, unless the provider's configured headers say otherwise. */
export const ACCEPT_IDENTITY = ['accept-encoding', 'identity'] as const;

// A streamed answer is flushed by the upstream event by event; sync flushes hand each one on as
// soon as it is decoded. The end of the body still has to be the end of the compressed stream,
// so a truncated body is an error, not a silently shorter answer.
const streaming = { flush: zlib.constants.Z_SYNC_FLUSH };
const brotliStreaming = { flush: zlib.constants.BROTLI_OPERATION_FLUSH };

type DecoderFactory = () => Transform;

const decoders: ReadonlyMap<string, DecoderFactory> = new Map<string, DecoderFactory>([
  ['gzip', () => zlib.createGunzip(streaming)],
  ['x-gzip', () => zlib.createGunzip(streaming)],
  // HTTP's deflate is the zlib format (Unzip also takes gzip mislabelled as deflate)
  ['deflate', () => zlib.createUnzip(streaming)],
  ['br', () => zlib.createBrotliDecompress(brotliStreaming)],
  ['zstd', () => zlib.createZstdDecompress()],
]);

/**
 * The decoder for a Content-Encoding value: undefined for none or identity, null for a coding
 * that cannot be decoded (several codings stacked, or one we do not know).
 */
export function contentDecoder(value: string | string[] | undefined): Transform | undefined | null {
  if (value === undefined) return undefined;
  const coding = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  const factory = decoders.get(coding);
  return factory === undefined ? null : factory();
}

export function unsupportedCoding(provider: string, value: string | string[]): GatewayError {
  const coding = Array.isArray(value) ? value.join(', ') : value;
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' answered with Content-Encoding '${coding.slice(0, 100)}' although identity was asked for; the gateway decodes one of gzip, deflate, br or zstd.`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider,
  });
}

export function undecodableBody(provider: string, coding: string, cause: unknown): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `Provider '${provider}' sent a ${coding} body that could not be decoded (${(cause as Error).message}).`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error', provider, cause,
  });
}

/**
 * Reads a body whole (model lists, media downloads), decoding its content coding: undefined when
 * the decoded size passes `limit` (reading stops there, so a small compressed body cannot inflate
 * without bound). Throws on a coding that cannot be decoded or a corrupt body.
 */
export async function readDecoded(body: Readable, coding: string | string[] | undefined, limit: number): Promise<Buffer | undefined> {
  const decoder = contentDecoder(coding);
  if (decoder === null) {
    discard(body);
    throw new Error(`Content-Encoding '${String(coding).slice(0, 100)}' cannot be decoded`);
  }
  const source: Readable = decoder === undefined ? body : body.pipe(decoder);
  // pipe() does not pass errors on: a failed or aborted body must end the decoder's reading too
  if (decoder !== undefined) body.once('error', (error: Error) => decoder.destroy(error));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      if (source !== body) source.destroy();
      discard(body);
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function ignore(): void {}

/** Stops reading a body nobody will read further (undici reports that as an error: ignored). */
function discard(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}
