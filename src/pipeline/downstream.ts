// Shared by both exchanges: the response headers that say what happened, back-pressure, and the
// bounded collection of upstream bodies that are read whole (errors, non-streamed translations).
import type { RequestContext } from './context.ts';

/** The head of an answer: request id, what happened, Server-Timing, then `head` (content type and framing). */
export function answerHeaders(context: RequestContext, provider: { readonly name: string }, upstreamModel: string, head: readonly string[]): string[] {
  const out = [
    'x-request-id', context.id,
    'x-switchyard-provider', provider.name, 'x-switchyard-model', upstreamModel, 'x-switchyard-attempts', String(context.attempts),
  ];
  if (context.route !== '') out.push('x-switchyard-fallback', context.route);
  if (context.dropped !== '') out.push('x-switchyard-dropped', context.dropped);
  out.push('server-timing', context.serverTiming());
  for (let i = 0; i < head.length; i++) out.push(head[i]!);
  commit(context, out);
  return out;
}

/** The commit phase: its handlers see (and may extend) the head of a provider's answer before it goes out. */
function commit(context: RequestContext, headers: string[]): void {
  const handlers = context.phases.commit;
  for (let i = 0; i < handlers.length; i++) handlers[i]!(context, headers);
}

/** What happened: the provider and model that answered, and how many attempts it took. */
export function metaHeaders(context: RequestContext, provider: { readonly name: string }, upstreamModel: string): string[] {
  const headers = ['x-switchyard-provider', provider.name, 'x-switchyard-model', upstreamModel, 'x-switchyard-attempts', String(context.attempts)];
  if (context.route !== '') headers.push('x-switchyard-fallback', context.route);
  if (context.dropped !== '') headers.push('x-switchyard-dropped', context.dropped);
  commit(context, headers);
  return headers;
}

/** Collects a body up to a limit; past it, further bytes are counted but dropped. */
export class BoundedBody {
  private readonly chunks: Buffer[] = [];
  size = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= this.limit) this.chunks.push(chunk);
  }

  get truncated(): boolean {
    return this.size > this.limit;
  }

  buffer(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}
