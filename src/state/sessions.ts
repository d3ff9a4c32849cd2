// Session affinity: which target (and key) a session last used, so the provider's prompt cache
// keeps hitting. Bounded LRU with a TTL refreshed on every use; in memory, per process.
const MAX_SESSIONS = 50_000;

export interface Pin {
  /** Index of the target in its route's target list. */
  target: number;
  /** Index of the key in the provider's key list. */
  key: number;
  expires: number;
}

export class SessionPins {
  private readonly pins = new Map<string, Pin>();
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
