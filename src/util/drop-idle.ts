// Bounded maps of per-key state (rate-limit counters, budget periods) make room the same way when
// full: the oldest quarter of the entries holding nothing goes. An entry a request in flight holds
// is never dropped, so a limit can be briefly forgotten but never exceeded by what is running.

/**
 * Deletes the oldest quarter (at least one) of `entries` whose `held` is 0, in insertion order.
 * Called only when the map is full: not on a request's path.
 */
export function dropOldestIdle<K>(entries: Map<K, { readonly held: number }>): void {
  let toDrop = Math.max(1, entries.size >> 2);
  for (const [key, entry] of entries) {
    if (toDrop === 0) break;
    if (entry.held === 0) {
      entries.delete(key);
      toDrop--;
    }
  }
}
