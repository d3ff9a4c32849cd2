// The response cache shared by every instance through Redis/Valkey (`state.redis`): one key per
// answer (`…cache:{<digest>}`) with `SET … PX ttl`, so Redis's own expiry and eviction bound it.
// The value is the head as JSON (status, headers, expiry time) and the body, in one buffer. A
// lookup is one GET (the lookup phase waits for it); while the server is down every lookup is a
// miss and nothing is stored — requests go to the provider as without a cache.
import type { CachedResponse, MaybePromise, ResponseCache } from './interfaces.ts';
import type { RedisLink } from './redis-link.ts';

interface StoredHead {
  readonly status: number;
  readonly headers: readonly string[];
  /** Epoch ms (the caller's clock) when the answer expires. */
  readonly expires: number;
}

export class RedisResponseCache implements ResponseCache {
  private readonly link: RedisLink;
  private maxEntryBytes = Infinity;
  /** Nothing is held in this process. */
  readonly size = 0;
  readonly bytes = 0;

  constructor(link: RedisLink) {
    this.link = link;
  }

  get(key: string, now: number): MaybePromise<CachedResponse | undefined> {
    if (!this.link.available) return undefined;
    return this.link.client.getBuffer(this.link.key('cache', key)).then((stored) => (stored === null ? undefined : decode(stored, now)), (error: unknown) => {
      this.link.failed(error);
      return undefined;
    });
  }

  set(key: string, response: CachedResponse, ttlMs: number, now: number): void {
    if (!this.link.available || response.body.length > this.maxEntryBytes || ttlMs <= 0) return;
    const head = Buffer.from(JSON.stringify({ status: response.status, headers: response.headers, expires: now + ttlMs } satisfies StoredHead), 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(head.length, 0);
    this.link.client.set(this.link.key('cache', key), Buffer.concat([length, head, response.body]), 'PX', Math.ceil(ttlMs)).catch((error: unknown) => this.link.failed(error));
  }

  delete(key: string): void {
    if (this.link.available) this.link.client.del(this.link.key('cache', key)).catch((error: unknown) => this.link.failed(error));
  }

  resize(limits: { readonly maxBytes: number; readonly maxEntryBytes: number }): void {
    // the server bounds the whole (its maxmemory policy); one answer is bounded here
    this.maxEntryBytes = limits.maxEntryBytes;
  }
}

function decode(stored: Buffer, now: number): CachedResponse | undefined {
  if (stored.length < 4) return undefined;
  const headLength = stored.readUInt32BE(0);
  if (4 + headLength > stored.length) return undefined;
  const head = JSON.parse(stored.toString('utf8', 4, 4 + headLength)) as StoredHead;
  if (head.expires <= now) return undefined;
  return { status: head.status, headers: head.headers, body: stored.subarray(4 + headLength) };
}
