// A bounded LRU of answer items by id (Responses output items), so a client that refers back to an
// item the gateway itself returned (`item_reference`, sent by SDKs that default to `store: true`)
// can be served when the request is translated for a provider without server-side state. Bounded
// by count and bytes; per process, so with several workers a miss is possible (then a clear 400).
import type { ItemStore } from '../canonical/adapters.ts';

export class BoundedItemStore implements ItemStore {
  private readonly items = new Map<string, { item: unknown; size: number }>();
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(maxItems = 20_000, maxBytes = 64 * 1024 * 1024) {
    this.maxItems = maxItems;
    this.maxBytes = maxBytes;
  }

  get(id: string): unknown {
    const entry = this.items.get(id);
    if (entry === undefined) return undefined;
    // refresh its place: recently used items are kept longest
    this.items.delete(id);
    this.items.set(id, entry);
    return entry.item;
  }

  set(id: string, item: unknown): void {
    const size = JSON.stringify(item).length;
    if (size > this.maxBytes / 16) return; // one huge item must not flush everything else
    const previous = this.items.get(id);
    if (previous !== undefined) {
      this.bytes -= previous.size;
      this.items.delete(id);
    }
    this.items.set(id, { item, size });
    this.bytes += size;
    for (const [oldest, entry] of this.items) {
      if (this.items.size <= this.maxItems && this.bytes <= this.maxBytes) break;
      this.items.delete(oldest);
      this.bytes -= entry.size;
    }
  }

  get size(): number {
    return this.items.size;
  }
}
