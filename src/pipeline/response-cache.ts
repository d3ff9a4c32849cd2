// The exact-response cache (issue #15): a route (`models[].cache`, or the top-level `cache.ttl_s`)
// or a client key (`KeyPolicy.cache`) opts in; a repeated request is then answered from the cache.
//
// lookup    decodes the request to canonical form (the runner reuses it), hashes what decides the
//           answer (cache-key.ts) and asks the cache: a hit is answered here, in the caller's
//           dialect — as a stream through the surface's stream encoder when it asked for one,
//           whichever way the answer was first asked for. A miss leaves a `CacheFill` on the
//           context.
// attempt   the exchange hands the fill the bytes of the answer as they come from the provider (a
//           reference to each chunk, up to a bound; the client's stream is never held back) and
//           tells it when the answer was complete.
// commit    `x-switchyard-cache: hit | miss | bypass` on the answer's head.
// complete  once the response has closed, a complete answer is decoded (the provider's dialect,
//           or the surface's own for a byte pass-through) into one canonical response and stored.
//           A stream that failed, was cut, or was left by the client is never stored.
//
// None of this is compiled unless some route or key has a cache; a route without one then pays a
// property read or two per request.
import type { ChatProviderCodec, SurfaceAdapter, SurfaceRequest, Wire } from '../canonical/adapters.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { CanonicalResponse } from '../canonical/response.ts';
import type { StreamPart } from '../canonical/stream.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { CachedResponse, ResponseCache } from '../state/interfaces.ts';
import { headerValue } from '../util/header-value.ts';
import { responseCacheKey } from './cache-key.ts';
import type { RequestContext } from './context.ts';
import { answerHeaders, metaHeaders } from './downstream.ts';
import { ANSWERED, filterResponse, withStreamFilters, type CommitHandler, type CompleteHandler, type RequestHandler } from './phases.ts';
import { sendWire, writeHead } from './respond.ts';
import { ResponseCollector } from './response-collector.ts';
import { replayResponse } from './response-replay.ts';
import type { HttpProviderRuntime, Runtime } from './runtime.ts';

export type CacheStatus = '' | 'hit' | 'miss' | 'bypass';

/**
 * The provider dialect whose chat codec reads a surface wire's answers: what a byte pass-through
 * answer is decoded with. A wire not listed (legacy completions, Ollama's generate) is cached
 * only when translated.
 */
const CHAT_WIRE_DIALECTS: Partial<Record<Wire, string>> = {
  'openai-chat': 'openai',
  'openai-responses': 'openai-responses',
  'anthropic-messages': 'anthropic',
  'gemini-generate': 'gemini',
  'ollama-chat': 'ollama',
};

/** The raw answer kept for a miss may be this many times `cache.max_entry_bytes` (SSE framing is verbose). */
const RAW_FACTOR = 4;

/** Whether this config turns the cache on for some route (keys' own settings: `Runtime.keyCache`). */
export function responseCacheConfigured(config: GatewayConfig): boolean {
  return config.cache.route !== undefined || config.models.some((alias) => alias.cache !== undefined && alias.cache.ttlSeconds > 0);
}

/**
 * A miss on its way to the cache: the provider's answer as it came (chunk references, bounded),
 * reset at each attempt's answer, and whether the answer ended complete.
 */
export class CacheFill {
  readonly key: string;
  readonly ttlMs: number;
  readonly request: CanonicalRequest;
  private readonly limit: number;
  private readonly runtime: Runtime;
  private chunks: Buffer[] = [];
  private size = 0;
  private codec: ChatProviderCodec | undefined = undefined;
  private streamed = false;
  /** The answer ended complete (no error, not cut): ready to be decoded and stored. */
  complete = false;
  provider = '';
  model = '';

  constructor(key: string, ttlMs: number, request: CanonicalRequest, limit: number, runtime: Runtime) {
    this.key = key;
    this.ttlMs = ttlMs;
    this.request = request;
    this.limit = limit;
    this.runtime = runtime;
  }

  /** An attempt's 2xx answer starts (a new attempt starts afresh). `passThrough`: its bytes are in the surface's dialect. */
  begin(provider: HttpProviderRuntime, wire: Wire, passThrough: boolean, streamed: boolean): void {
    this.chunks = [];
    this.size = 0;
    this.complete = false;
    this.streamed = streamed;
    this.provider = provider.name;
    if (!passThrough) this.codec = provider.adapter.chat;
    else {
      const dialect = CHAT_WIRE_DIALECTS[wire];
      this.codec = dialect === undefined ? undefined : this.runtime.adapters.get(dialect)?.chat;
    }
  }

  /** A chunk of the answer, as the provider sent it. */
  push(chunk: Buffer): void {
    if (this.codec === undefined) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      // too large to be stored: let go of what was kept
      this.codec = undefined;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  /** The answer of `model` ended complete. */
  answered(model: string): void {
    if (this.codec !== undefined) {
      this.complete = true;
      this.model = model;
    }
  }

  /** The whole answer in canonical form; undefined when it cannot be read as one. */
  decode(): CanonicalResponse | undefined {
    const codec = this.codec;
    if (codec === undefined || !this.complete) return undefined;
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (!this.streamed) return codec.decodeResponse(JSON.parse(body.toString('utf8')), this.request);
    const sink = new CollectingSink(this.model);
    const decoder = codec.createStreamDecoder(this.request);
    decoder.push(body, sink);
    decoder.end(sink);
    return sink.result();
  }
}

/** Collects decoded stream parts into one response; an error part spoils it. */
class CollectingSink {
  private readonly collector: ResponseCollector;
  private end: Extract<StreamPart, { type: 'response-end' }> | undefined = undefined;
  private failed = false;

  constructor(model: string) {
    this.collector = new ResponseCollector(model);
  }

  onPart(part: StreamPart): void {
    if (part.type === 'error') this.failed = true;
    else if (part.type === 'response-end') this.end ??= part;
    else this.collector.push(part);
  }

  result(): CanonicalResponse | undefined {
    if (this.failed || this.end === undefined) return undefined;
    return this.collector.finish(this.end, '');
  }
}

/** A client asks not to be answered from (nor to fill) the cache. */
function bypassed(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const own = headerValue(headers, 'x-switchyard-cache');
  if (own !== undefined && own.trim().toLowerCase() === 'bypass') return true;
  const control = headerValue(headers, 'cache-control');
  return control !== undefined && /(?:^|[\s,])no-(?:cache|store)(?:$|[\s,=])/i.test(control);
}

/** lookup: answer from the cache, or leave a fill for the answer to come. */
function lookup(cache: ResponseCache, rawLimit: number): RequestHandler {
  return (context, runtime) => {
    const settings = context.policy?.cache ?? context.resolved?.policy.cache;
    if (settings === undefined || settings.ttlSeconds <= 0) return undefined;
    const surface = context.surface;
    const codec = surface?.chat;
    // only chat answers have a canonical form to store; several choices (`n`) have none
    if (codec === undefined || surface!.operation !== 'chat') return undefined;
    if ((context.summary?.choices ?? 1) > 1 || bypassed(context.request.headers)) {
      context.cacheStatus = 'bypass';
      return undefined;
    }
    const surfaceRequest = context.surfaceRequest!;
    // a plugin's onRequest may have decoded (and changed) it already: the key is what goes upstream
    const request = context.canonical ?? codec.decodeRequest(context.parsed, surfaceRequest);
    context.canonical = request;
    const key = responseCacheKey(context.routeModel, request, settings.perKey ? context.keyId : undefined);
    const found = cache.get(key, Date.now());
    // a shared store (Redis/Valkey) answers with a promise: the lifecycle waits for it
    if (found instanceof Promise) {
      return found.then((cached) => (context.closed ? ANSWERED : answer(context, surface!, surfaceRequest, request, cached, key, settings.ttlSeconds, rawLimit, runtime)),
        // a store that cannot answer is a miss: the provider is asked
        () => (context.closed ? ANSWERED : answer(context, surface!, surfaceRequest, request, undefined, key, settings.ttlSeconds, rawLimit, runtime)));
    }
    return answer(context, surface!, surfaceRequest, request, found, key, settings.ttlSeconds, rawLimit, runtime);
  };
}

/** A hit is answered here; a miss leaves a fill for the answer to come. */
function answer(context: RequestContext, surface: SurfaceAdapter, surfaceRequest: SurfaceRequest, request: CanonicalRequest, found: CachedResponse | undefined,
  key: string, ttlSeconds: number, rawLimit: number, runtime: Runtime): typeof ANSWERED | undefined {
  if (found !== undefined) {
    serveHit(context, surface, surfaceRequest, request, found);
    return ANSWERED;
  }
  context.cacheStatus = 'miss';
  context.cacheFill = new CacheFill(key, ttlSeconds * 1000, request, rawLimit, runtime);
  return undefined;
}

/** Renders a cached answer in the caller's dialect: a whole response, or a stream of it. */
function serveHit(context: RequestContext, surface: SurfaceAdapter, surfaceRequest: SurfaceRequest, request: CanonicalRequest, cached: CachedResponse): void {
  const response = JSON.parse(cached.body.toString('utf8')) as CanonicalResponse;
  const provider = { name: cached.headers[1] ?? '' };
  const model = cached.headers[3] ?? response.model;
  context.cacheStatus = 'hit';
  context.cached = true;
  context.provider = provider.name;
  context.upstreamModel = model;
  context.usage = response.usage;
  const codec = surface.chat!;
  if (!request.stream) {
    sendWire(context, { status: 200, headers: ['content-type', 'application/json'], body: codec.encodeResponse(filterResponse(context, response), request) }, metaHeaders(context, provider, model));
    return;
  }
  const encoder = withStreamFilters(codec.createStreamEncoder(request, surfaceRequest), context);
  const head = answerHeaders(context, provider, model, ['content-type', encoder.contentType, 'cache-control', 'no-cache', 'x-accel-buffering', 'no']);
  writeHead(context.response, 200, head);
  context.firstByteMs = context.elapsedMs();
  context.streamed = true;
  context.response.end(replayResponse(response, encoder));
}

/** commit: says what the cache did. */
const cacheHeader: CommitHandler = (context, headers) => {
  if (context.cacheStatus !== '') headers.push('x-switchyard-cache', context.cacheStatus);
};

/** complete: a miss whose answer ended complete is stored. */
function store(cache: ResponseCache): CompleteHandler {
  return {
    requestEnded(context, aborted) {
      const fill = context.cacheFill;
      if (fill === undefined || !fill.complete || aborted || context.error !== undefined) return;
      context.cacheFill = undefined;
      let response: CanonicalResponse | undefined;
      try {
        response = fill.decode();
      } catch {
        // the provider's decoder refused what the client was given as is (a pass-through): not stored
        return;
      }
      if (response === undefined) return;
      const body = Buffer.from(JSON.stringify(response), 'utf8');
      cache.set(fill.key, { status: 200, headers: ['x-switchyard-provider', fill.provider, 'x-switchyard-model', fill.model], body }, fill.ttlMs, Date.now());
    },
  };
}

export interface ResponseCacheHandlers {
  readonly lookup: RequestHandler;
  readonly commit: CommitHandler;
  readonly complete: CompleteHandler;
}

/** The handlers of the cache for one config snapshot; undefined when no route nor key (the YAML's or the store's) has a cache. */
export function compileResponseCache(runtime: Runtime): ResponseCacheHandlers | undefined {
  if (!responseCacheConfigured(runtime.config) && !runtime.keyCache) return undefined;
  const cache = runtime.state.responses;
  return { lookup: lookup(cache, runtime.config.cache.maxEntryBytes * RAW_FACTOR), commit: cacheHeader, complete: store(cache) };
}
