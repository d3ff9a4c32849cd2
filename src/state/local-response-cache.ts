// Exact-match response cache in process memory, the default `ResponseCache` (interfaces.ts): LRU
// with a TTL per entry, bounded by entry count and by bytes (bodies plus headers); an answer larger
// than `maxEntryBytes` is not stored. Expiry is lazy: an expired entry goes when it is read or
// reaches the old end, so every operation is O(1).
import type { CachedResponse, ResponseCache } from './interfaces.ts';

export interface ResponseCacheLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Most bytes kept (bodies and header text). */
  maxBytes: number;
  /** Largest answer stored. */
  maxEntryBytes: number;
}

export const DEFAULT_RESPONSE_CACHE_LIMITS: Readonly<ResponseCacheLimits> = Object.freeze({
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 4 * 1024 * 1024,
});

class Entry {
  readonly response: CachedResponse;
  readonly expires: number;
  readonly bytes: number;

  constructor(response: CachedResponse, expires: number, bytes: number) {
    this.response = response;
    this.expires = expires;
    this.bytes = bytes;
  }
}

/** What an answer costs the cache: its body and its header text. */
function sizeOf(response: CachedResponse): number {
  let bytes = response.body.byteLength;
  for (const header of response.headers) bytes += header.length;
  return bytes;
}

export class LocalResponseCache implements ResponseCache {
  /** In recency order: the least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private readonly limits: ResponseCacheLimits;
  private total = 0;

  constructor(limits: Partial<ResponseCacheLimits> = {}) {
    this.limits = { ...DEFAULT_RESPONSE_CACHE_LIMITS, ...limits };
  }

  get(key: string, now: number): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expires <= now) {
      this.total -= entry.bytes;
      return undefined;
    }
    // used: to the young end
    this.entries.set(key, entry);
    return entry.response;
  }

  set(key: string, response: CachedResponse, ttlMs: number, now: number): void {
    this.delete(key);
    const bytes = sizeOf(response);
    if (ttlMs <= 0 || bytes > this.limits.maxEntryBytes || bytes > this.limits.maxBytes) return;
    while (this.entries.size > 0 && (this.entries.size >= this.limits.maxEntries || this.total + bytes > this.limits.maxBytes)) this.evictOldest();
    this.entries.set(key, new Entry(response, now + ttlMs, bytes));
    this.total += bytes;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  resize(limits: { readonly maxBytes: number; readonly maxEntryBytes: number }): void {
    this.limits.maxBytes = limits.maxBytes;
    this.limits.maxEntryBytes = limits.maxEntryBytes;
    while (this.entries.size > 0 && this.total > this.limits.maxBytes) this.evictOldest();
  }

  /** Entries kept (expired ones not yet dropped included). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.total;
  }

  /** Drops the least recently used entry (expired or not: expiry is checked lazily, so this stays O(1)). */
  private evictOldest(): void {
    const oldest = this.entries.keys().next().value;
    if (oldest !== undefined) this.delete(oldest);
  }
}
