// Passive health shared by every instance through Redis/Valkey (`state.redis`). The book is the
// in-process one (health.ts): the request path reads and updates its entries synchronously, as
// without Redis. What is shared is the transitions: when a kept entry starts, extends or ends a
// cooldown or an ejection, this instance runs one script that records it in a hash (for instances
// that connect later, expiring on the server's clock) and publishes it on `<prefix>health`; the
// others apply it to their own entry (`TargetHealth.adopt`) as soon as the message arrives — in
// practice milliseconds. Failure counts, latency and attempts in flight stay per instance.
//
// The half-open probe is one across the fleet: the attempt that would be an entry's probe claims
// it first (PROBE_CLAIM, `SET NX PX` the probe's deadline) — the one request that waits on Redis
// for health. The winner sends it; the others keep the entry out of rotation until the probe's
// verdict arrives (back in rotation, or ejected again for twice as long), or until the claim
// would have lapsed. A probe that ends without a verdict (its client left) gives its claim back.
//
// While Redis cannot be reached every instance keeps its own book (each probes for itself); when
// it answers again, each publishes the entries it has out of rotation, then reads the fleet's.
import { randomBytes } from 'node:crypto';
import { decodeHealthEvent, encodeHealthEvent, type HealthEvent } from './health-events.ts';
import { HealthBook, TargetHealth, type HealthObserver } from './health.ts';
import type { CooldownReason, HealthEntry, HealthSharingCounts, MaybePromise } from './interfaces.ts';
import type { RedisLink } from './redis-link.ts';

/** A cooldown extended by less than this since it was last published is not published again (a 429 storm). */
const REPUBLISH_AFTER_MS = 1000;
/** The hash of targets out of rotation lives this long after its last write. */
const HASH_TTL_MS = 86_400_000;

/** What this instance last published for an entry. */
interface Published {
  reason: CooldownReason | undefined;
  until: number;
}

export class RedisHealthBook extends HealthBook implements HealthObserver, HealthSharingCounts {
  /** This process, as its messages name it. */
  readonly instance = randomBytes(8).toString('hex');
  readonly sharing: HealthSharingCounts = this;
  published = 0;
  applied = 0;
  probesYielded = 0;
  private readonly link: RedisLink;
  private readonly hash: string;
  private readonly channel: string;
  private readonly last = new WeakMap<TargetHealth, Published>();
  /** Entries whose probe claim this process holds (given back at the next transition, or when the probe ends). */
  private readonly claims = new WeakSet<TargetHealth>();

  constructor(link: RedisLink, now: () => number = Date.now) {
    super(now);
    this.observer = this;
    this.link = link;
    this.hash = `${link.prefix}health`;
    this.channel = `${link.prefix}health`;
    link.onConnected(() => {
      this.publishAll();
      this.read();
    });
    link.subscribe(this.channel, (message) => this.receive(message), () => this.read());
  }

  // ----- HealthObserver: this instance's transitions go out ------------------------------------

  changed(entry: TargetHealth, now: number): void {
    if (!this.link.available) return; // published when the server answers again
    const reason = entry.reason;
    const last = this.last.get(entry);
    if (reason !== undefined && last !== undefined && last.reason === reason && entry.until < last.until + REPUBLISH_AFTER_MS) return;
    this.publish(entry, now);
    // the probe has its verdict (back, ejected again, cooling for another reason): its claim goes
    this.releaseClaim(entry);
  }

  probeEnded(entry: TargetHealth): void {
    if (this.link.available) this.releaseClaim(entry);
  }

  // ----- the probe claim ----------------------------------------------------------------------

  override claimProbe(entry: HealthEntry, now: number, holdMs: number): MaybePromise<boolean> {
    if (!this.link.available || !(entry instanceof TargetHealth) || !this.kept(entry)) return true;
    const hold = Math.max(1000, Math.ceil(holdMs));
    // asked for: no other request of this process probes meanwhile
    entry.probeHeldUntil = now + hold;
    return this.link.run('swyProbeClaim', [this.claimKey(entry), this.instance, hold]).then((answer) => {
      if (answer === 1) {
        entry.probeHeldUntil = 0;
        this.claims.add(entry);
        return true;
      }
      // another instance probes: its verdict will come as a message; until then, or until its
      // claim lapses, this process keeps away
      entry.probeHeldUntil = this.now() + hold;
      this.probesYielded++;
      return false;
    }, (error: unknown) => {
      this.link.failed(error);
      entry.probeHeldUntil = 0;
      return true;
    });
  }

  override releaseProbe(entry: HealthEntry): void {
    if (entry instanceof TargetHealth && this.link.available) this.releaseClaim(entry);
  }

  // ----- other instances' transitions come in -------------------------------------------------

  /** A message on the channel. */
  receive(message: string): void {
    const event = decodeHealthEvent(message);
    if (event === undefined || event.from === this.instance) return;
    this.apply(event, event.ms);
  }

  private apply(event: HealthEvent, ms: number): void {
    let entry = this.find(event.provider, event.keyId, event.model);
    if (entry === undefined) {
      if (event.reason === undefined) return;
      // not routed to here yet: the entry waits, out of rotation, for the route that will use it
      entry = this.entry(event.provider, event.keyIndex, event.keyId, event.model);
    }
    entry.adopt({ reason: event.reason, ms, ...(event.cause !== undefined ? { cause: event.cause } : {}), ...(event.ejectionMs !== undefined ? { ejectionMs: event.ejectionMs } : {}), ...(event.error !== undefined ? { error: event.error } : {}) }, this.now());
    this.last.set(entry, { reason: entry.reason, until: entry.until });
    this.applied++;
  }

  /** Reads every target the fleet has out of rotation (at each connection, and after a resubscription). */
  private read(): void {
    if (!this.link.available) return;
    this.link.run('swyHealthRead', [this.hash]).then((answer) => {
      const items = answer as (number | string)[];
      for (let i = 0; i + 1 < items.length; i += 2) {
        const event = decodeHealthEvent(String(items[i + 1]));
        if (event !== undefined && event.from !== this.instance) this.apply(event, Number(items[i]));
      }
    }, (error: unknown) => this.link.failed(error));
  }

  /** Publishes every entry this process has out of rotation (when the server answers again). */
  private publishAll(): void {
    const now = this.now();
    for (const entry of this.all()) if (entry.reason !== undefined && entry.until > now) this.publish(entry, now);
  }

  private publish(entry: TargetHealth, now: number): void {
    const reason = entry.reason;
    const ms = reason === undefined ? 0 : Math.max(0, entry.until - now);
    const event: HealthEvent = {
      from: this.instance, provider: entry.provider, keyIndex: entry.keyIndex, keyId: entry.keyId, model: entry.model, reason, ms,
      ...(reason === 'ejected' && entry.ejectedBy !== undefined ? { cause: entry.ejectedBy, ejectionMs: entry.ejectionLength } : {}),
      ...(reason !== undefined && entry.lastError !== undefined ? { error: entry.lastError } : {}),
    };
    this.last.set(entry, { reason, until: entry.until });
    this.published++;
    // a cooldown that ends as it is published is an end
    this.link.run('swyHealthPut', [this.hash, fieldOf(entry), encodeHealthEvent(event), reason === undefined ? 0 : Math.max(1, ms), this.channel, HASH_TTL_MS])
      .catch((error: unknown) => this.link.failed(error));
  }

  private releaseClaim(entry: TargetHealth): void {
    if (!this.claims.has(entry)) return;
    this.claims.delete(entry);
    this.link.run('swyProbeRelease', [this.claimKey(entry), this.instance]).catch((error: unknown) => this.link.failed(error));
  }

  private claimKey(entry: TargetHealth): string {
    return this.link.key('probe', fieldOf(entry));
  }
}

function fieldOf(entry: TargetHealth): string {
  return `${entry.provider}\u0000${entry.keyId}\u0000${entry.model}`;
}
