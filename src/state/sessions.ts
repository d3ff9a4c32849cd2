// Session affinity: which target (and key) a session last used, so the provider's prompt cache
// keeps hitting. Bounded LRU with a TTL refreshed on every use; the in-process `SessionStore`.
import type { Pin, SessionStore } from './interfaces.ts';

export type { Pin } from './interfaces.ts';

const MAX_SESSIONS = 50_000;

/** A pin as kept here: refreshed in place. */
interface StoredPin {
  target: number;
  key: number;
  expires: number;
}

export class SessionPins implements SessionStore {
  private readonly pins = new Map<string, StoredPin>();
  private readonly max: number;

  constructor(max = MAX_SESSIONS) {
    this.max = max;
  }

  get(id: string, now: number): Pin | undefined {
    const pin = this.pins.get(id);
    if (pin === undefined) return undefined;
    if (pin.expires <= now) {
      this.pins.delete(id);
      return undefined;
    }
    return pin;
  }

  set(id: string, target: number, key: number, expires: number): void {
    this.keep(id, target, key, expires);
  }

  raise(id: string, target: number, now: number, expires: number): number {
    const pin = this.get(id, now);
    const raised = pin !== undefined && pin.target > target ? pin.target : target;
    this.keep(id, raised, 0, expires);
    return raised;
  }

  /** The pin as given, here (a shared store's `set` also sends it on). */
  protected keep(id: string, target: number, key: number, expires: number): void {
    const pin = this.pins.get(id);
    if (pin !== undefined) {
      // refreshed: move to the young end
      this.pins.delete(id);
      pin.target = target;
      pin.key = key;
      pin.expires = expires;
      this.pins.set(id, pin);
      return;
    }
    if (this.pins.size >= this.max) {
      const oldest = this.pins.keys().next().value;
      if (oldest !== undefined) this.pins.delete(oldest);
    }
    this.pins.set(id, { target, key, expires });
  }

  get size(): number {
    return this.pins.size;
  }
}
